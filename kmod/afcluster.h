/* SPDX-License-Identifier: GPL-2.0 */
/*
 * afcluster module internals, shared by its files:
 *   main.c     module parameters, init and exit
 *   table.c    the node table and its address map
 *   event.c    event messages, the replay history, broadcast, notifiers
 *   lease.c    lease expiry
 *   netlink.c  the generic-netlink family
 *   kapi.c     the exported in-kernel API
 *
 * Locking: one mutex (afc.lock) serialises every change of the table and
 * every netlink request, so that the sequence number, the history, the
 * broadcast order and the notifier order are one and the same. Nodes and
 * address entries are RCU-protected copies, so the in-kernel lookups work
 * in any context without the mutex.
 */
#ifndef _AFCLUSTER_INTERNAL_H
#define _AFCLUSTER_INTERNAL_H

#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <afcluster/kapi.h>

/* A published node: immutable, replaced as a whole on every change. */
struct afc_node {
	struct afcluster_node_info info;
	struct rcu_head rcu;
};

/* Per-id slot; everything but @node is touched under afc.lock only. */
struct afc_slot {
	struct afc_node __rcu *node;
	unsigned long lease_deadline;	/* jiffies */
	bool lease_armed;
};

/* One event as broadcast: its attributes after the genl header. */
struct afc_event_rec {
	u64 seq;
	unsigned int len;
	u8 data[];
};

struct afc_state {
	struct mutex lock;		/* see the top of this file */
	u32 max_nodes;
	u32 local_node;			/* READ_ONCE outside the lock */
	struct afc_slot *slots;		/* [max_nodes + 1], 0 unused */
	struct rhashtable addrs;	/* struct afcluster_addr -> id */
	u32 node_count;
	u32 up_count;
	u64 seq;			/* of the last event, 0 before any */
	u32 gen;			/* dump generation, never 0 */

	/* The event for seq s sits at hist[(s - 1) % hist_cap]. */
	struct afc_event_rec **hist;
	u32 hist_cap;
	u32 hist_count;

	struct delayed_work lease_work;
	unsigned long lease_next;	/* when lease_work is due */
	bool lease_scheduled;
	bool lease_stopped;		/* unloading: leases no longer expire */
	u32 leases_armed;
};

/* Index of the "events" group in afc_genl_family.mcgrps. */
enum { AFC_MCGRP_EVENTS };

extern struct afc_state afc;
extern struct genl_family afc_genl_family;
extern struct blocking_notifier_head afc_notifier;

/* What a request or the kernel changes on a node. */
struct afc_change {
	u32 id;
	enum afcluster_cause cause;
	bool set_state;
	bool set_name;
	bool set_addrs;
	bool set_lease;
	bool renew_lease;		/* any NODE_SET renews the lease */
	u8 state;
	u32 lease_ms;
	unsigned int n_addrs;
	char name[AFCLUSTER_NODE_NAME_MAX];
	struct afcluster_addr addrs[AFCLUSTER_NODE_ADDRS_MAX];
};

/* table.c */
int afc_table_init(u32 max_nodes);
void afc_table_exit(void);
struct afc_node *afc_node_locked(u32 id);
u32 afc_addr_owner(const struct afcluster_addr *addr);
int afc_node_add(const struct afc_change *c, struct netlink_ext_ack *extack);
int afc_node_change(const struct afc_change *c,
		    struct netlink_ext_ack *extack);
int afc_node_remove(u32 id, enum afcluster_cause cause,
		    struct netlink_ext_ack *extack);
bool afc_addr_valid(const struct afcluster_addr *addr);

/* event.c */
int afc_events_init(u32 history);
void afc_events_exit(void);
int afc_put_node(struct sk_buff *skb, const struct afcluster_node_info *ni);
size_t afc_node_msg_size(void);
u64 afc_oldest_seq(void);
const struct afc_event_rec *afc_event_rec(u64 seq);

struct afc_pending;
struct afc_pending *afc_event_prepare(const struct afcluster_node_info *ni,
				      enum afcluster_event event,
				      enum afcluster_cause cause,
				      enum afcluster_node_state old_state,
				      u64 seq);
void afc_event_commit(struct afc_pending *p,
		      const struct afcluster_node_info *ni);
void afc_event_abort(struct afc_pending *p);

/* lease.c */
void afc_lease_init(void);
void afc_lease_exit(void);
void afc_lease_renew(u32 id, u32 lease_ms);

/* netlink.c */
int afc_netlink_init(void);
void afc_netlink_exit(void);

#endif /* _AFCLUSTER_INTERNAL_H */
