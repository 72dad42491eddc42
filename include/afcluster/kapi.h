/* SPDX-License-Identifier: GPL-2.0 */
/*
 * afcluster in-kernel API: for modules that feed cluster membership into
 * a network namespace's node table (a membership or heartbeat protocol) or
 * that act on its changes (a load balancer, a fencing agent).
 *
 * Every table belongs to a network namespace; every function takes the
 * namespace, which the caller must hold a reference on (or be running in)
 * for the duration of the call.
 */
#ifndef _AFCLUSTER_KAPI_H
#define _AFCLUSTER_KAPI_H

#include <linux/types.h>
#include <linux/notifier.h>
#include <uapi/linux/afcluster.h>

struct net;

struct afcluster_addr {
	u8 len;				/* 4 or 16 */
	u8 addr[16];			/* network order; unused bytes zero */
};

/* A copy of one node's description. */
struct afcluster_node_info {
	u32 id;
	enum afcluster_node_state state;
	u32 lease_ms;
	char name[AFCLUSTER_NODE_NAME_MAX];
	unsigned int n_addrs;
	struct afcluster_addr addrs[AFCLUSTER_NODE_ADDRS_MAX];
	u64 seq;			/* of the event that made this copy */
	u64 instance;			/* of the table */
};

/*
 * What a notifier receives as its data; the notifier action is the kind.
 * Valid for the duration of the call only.
 */
struct afcluster_event_info {
	struct net *net;
	enum afcluster_event_kind kind;
	enum afcluster_cause cause;
	enum afcluster_node_state old_state;	/* valid for KIND_STATE */
	u64 seq;
	u64 instance;
	u64 timestamp_ns;
	u32 local_node;				/* valid for KIND_LOCAL_NODE */
	/* The node's new description; NULL for KIND_LOCAL_NODE. */
	const struct afcluster_node_info *node;
};

/*
 * Set a node's state, with cause KERNEL. Returns 0 (also when the node
 * already has that state), -ENOENT for an unknown node, -EINVAL for an id
 * out of range or for NEVERUP, -ENOMEM. Process context only.
 */
int afcluster_set_node_state(struct net *net, u32 id,
			     enum afcluster_node_state state);

/* Copy node @id into @info. Returns 0 or -ENOENT. Any context. */
int afcluster_get_node(struct net *net, u32 id,
		       struct afcluster_node_info *info);

/*
 * The node owning an address (4 or 16 bytes, network order), or 0 when no
 * node has it. Any context.
 */
u32 afcluster_node_by_addr(struct net *net, const void *addr,
			   unsigned int len);

/* The table's largest node id, its local node (0 = none), its instance. */
u32 afcluster_max_nodes(struct net *net);
u32 afcluster_local_node(struct net *net);
u64 afcluster_instance(struct net *net);

/*
 * Every event of every namespace's table, on one blocking notifier chain
 * (event->net tells which table). Callbacks run in process context, after
 * the change is visible, outside every lock of the table: they may sleep
 * and may call any function above, afcluster_set_node_state() included.
 * They receive the events of one table in sequence order, one at a time;
 * a slow callback delays the callbacks of later events, never a request.
 * A notifier sees the events made after it registered.
 */
int afcluster_register_notifier(struct notifier_block *nb);
int afcluster_unregister_notifier(struct notifier_block *nb);

#endif /* _AFCLUSTER_KAPI_H */
