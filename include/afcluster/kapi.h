/* SPDX-License-Identifier: GPL-2.0 */
/*
 * afcluster in-kernel API: for modules that feed cluster membership into
 * the node table (a membership or heartbeat protocol) or that act on its
 * changes (a load balancer, a fencing agent).
 *
 * Every function may sleep unless said otherwise; the lookups are safe in
 * any context.
 */
#ifndef _AFCLUSTER_KAPI_H
#define _AFCLUSTER_KAPI_H

#include <linux/types.h>
#include <linux/notifier.h>
#include <uapi/linux/afcluster.h>

struct afcluster_addr {
	u8 len;				/* 4 or 16 */
	u8 addr[16];			/* network order */
};

/* A copy of one node's description. */
struct afcluster_node_info {
	u32 id;
	enum afcluster_node_state state;
	u32 lease_ms;
	char name[AFCLUSTER_NODE_NAME_MAX];
	unsigned int n_addrs;
	struct afcluster_addr addrs[AFCLUSTER_NODE_ADDRS_MAX];
};

/* What a notifier receives as its data; the notifier action is the event. */
struct afcluster_event_info {
	enum afcluster_event event;
	enum afcluster_cause cause;
	enum afcluster_node_state old_state;	/* valid for EVENT_STATE */
	u64 seq;
	u64 timestamp_ns;
	const struct afcluster_node_info *node;	/* new description */
};

/*
 * Set a node's state, with cause KERNEL. Returns 0 (also when the node
 * already has that state), -ENOENT for an unknown node, -EINVAL for an id
 * out of range or for NEVERUP. Process context only.
 */
int afcluster_set_node_state(u32 id, enum afcluster_node_state state);

/* Copy node @id into @info. Returns 0 or -ENOENT. Any context. */
int afcluster_get_node(u32 id, struct afcluster_node_info *info);

/*
 * The node owning an address (4 or 16 bytes, network order), or 0 when no
 * node has it. Any context.
 */
u32 afcluster_node_by_addr(const void *addr, unsigned int len);

/* The module parameters max_nodes and (as set now) local_node. */
u32 afcluster_max_nodes(void);
u32 afcluster_local_node(void);

/*
 * Every event, in sequence order, on a blocking notifier chain: callbacks
 * run in process context, may sleep, and must not change the node table
 * (afcluster_set_node_state() from a callback deadlocks).
 */
int afcluster_register_notifier(struct notifier_block *nb);
int afcluster_unregister_notifier(struct notifier_block *nb);

#endif /* _AFCLUSTER_KAPI_H */
