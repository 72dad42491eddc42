/* SPDX-License-Identifier: GPL-2.0 */
/*
 * afcluster module internals, shared by its files:
 *   main.c     module parameters, the per-namespace tables' life, init/exit
 *   table.c    a table's nodes and address map: changes and lookups
 *   event.c    event messages and their broadcast
 *   history.c  the replay history of a table's events
 *   notify.c   delivery of events to the in-kernel notifier chain
 *   lease.c    lease expiry
 *   netlink.c  the generic-netlink family
 *   kapi.c     the exported in-kernel API
 *
 * One table per network namespace (struct afc_table, net_generic()).
 *
 * Locking of a table:
 * - @lock (a mutex) serialises its writers: netlink changes, the API and
 *   lease expiry. Under it a change is prepared completely (copies, address
 *   entries, the event's message, its history record), then published, so
 *   a failed allocation leaves table and sequence untouched; seq, history,
 *   broadcast and notifier queue take events in one and the same order.
 * - @seqc (a seqcount tied to @lock) covers what readers must see together:
 *   the node slots, the counters, seq, gen and local_node. Nodes, address
 *   entries and history records are RCU-freed copies, so readers (netlink
 *   gets and dumps, the API's lookups) never take @lock: they read under
 *   rcu_read_lock() and retry when @seqc moved.
 * - Notifier callbacks run from a work item, outside @lock (notify.c).
 */
#ifndef _AFCLUSTER_INTERNAL_H
#define _AFCLUSTER_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/sched/mm.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <afcluster/kapi.h>

struct mem_cgroup;

/* A published node: immutable, replaced as a whole on every change. */
struct afc_node {
	struct afcluster_node_info info;
	struct rcu_head rcu;
};

/* Per-id slot; everything but @node is touched under the table's lock. */
struct afc_slot {
	struct afc_node __rcu *node;
	unsigned long lease_deadline;	/* jiffies */
	bool lease_armed;
};

/* One event as broadcast: its attributes after the genl header. */
struct afc_event_rec {
	struct rcu_head rcu;
	u64 seq;
	unsigned int len;
	u8 data[];
};

/* The last events, for EVENT_GET: seq s sits at ring[(s - 1) % cap]. */
struct afc_history {
	struct afc_event_rec __rcu **ring;
	u32 cap;			/* events at most (module param history) */
	u32 count;			/* held now, the newest ones */
	size_t bytes;			/* of the records held */
	size_t max_bytes;		/* module param history_kb */
};

struct afc_table {
	struct net *net;
	struct mutex lock;		/* writers; see the top of this file */
	seqcount_mutex_t seqc;
	u64 instance;			/* random, non-zero, for the table's life */
	u32 max_nodes;
	u32 local_node;
	struct afc_slot *slots;		/* [max_nodes + 1], 0 unused */
	struct rhashtable addrs;	/* struct afcluster_addr -> node id */
	u32 node_count;
	u32 up_count;
	u64 seq;			/* of the last event, 0 before any */
	u32 gen;			/* dump generation, never 0 */
	bool dead;			/* namespace exit: changes refused */
	struct afc_history hist;
	struct mem_cgroup *memcg;	/* charged for the table's memory */

	struct delayed_work lease_work;
	unsigned long lease_next;	/* when lease_work is due */
	bool lease_scheduled;
	bool lease_stopped;		/* no lease expires any more */
	u32 leases_armed;

	spinlock_t ntf_lock;		/* ntf_queue */
	struct list_head ntf_queue;	/* struct afc_ntf, in seq order */
	struct work_struct ntf_work;

	struct list_head list;		/* afc_tables */
};

/* Index of the "events" group in afc_genl_family.mcgrps. */
enum { AFC_MCGRP_EVENTS };

extern struct genl_family afc_genl_family;
extern struct blocking_notifier_head afc_notifier;

/* main.c */
struct afc_table *afc_table_of(const struct net *net);

/*
 * A table's memory is charged to the memory cgroup of whoever created its
 * namespace, whichever task (a request, the lease work) allocates it:
 * allocate with GFP_KERNEL_ACCOUNT between these two.
 */
static inline struct mem_cgroup *afc_memcg_enter(struct afc_table *t)
{
	return set_active_memcg(t->memcg);
}

static inline void afc_memcg_leave(struct mem_cgroup *old)
{
	set_active_memcg(old);
}

/* A writer: the table's lock, allocating on the table's memory cgroup. */
static inline struct mem_cgroup *afc_writer_lock(struct afc_table *t)
{
	mutex_lock(&t->lock);
	return afc_memcg_enter(t);
}

static inline void afc_writer_unlock(struct afc_table *t,
				     struct mem_cgroup *old)
{
	afc_memcg_leave(old);
	mutex_unlock(&t->lock);
}

/* What a request or the kernel changes on a node. */
struct afc_change {
	u32 id;
	enum afcluster_cause cause;
	bool set_state;
	bool set_name;
	bool set_addrs;
	bool set_lease;
	bool renew_lease;		/* any NODE_SET renews the lease */
	u32 state;
	u32 lease_ms;
	unsigned int n_addrs;
	char name[AFCLUSTER_NODE_NAME_MAX];
	struct afcluster_addr addrs[AFCLUSTER_NODE_ADDRS_MAX];
};

/* table.c */
int afc_table_init(struct afc_table *t, u32 max_nodes);
void afc_table_exit(struct afc_table *t);
int afc_caches_init(void);
void afc_caches_exit(void);
struct afc_node *afc_node_locked(struct afc_table *t, u32 id);
struct afc_node *afc_node_rcu(struct afc_table *t, u32 id,
			      const struct afcluster_addr *addr);
int afc_node_read(struct afc_table *t, u32 id,
		  const struct afcluster_addr *addr,
		  struct afcluster_node_info *info);
int afc_node_read_seq(struct afc_table *t, u32 id,
		      const struct afcluster_addr *addr,
		      struct afcluster_node_info *info, u64 *seq);
int afc_node_add(struct afc_table *t, const struct afc_change *c,
		 struct afcluster_node_info *out, struct netlink_ext_ack *extack);
int afc_node_change(struct afc_table *t, const struct afc_change *c,
		    struct afcluster_node_info *out,
		    struct netlink_ext_ack *extack);
int afc_node_remove(struct afc_table *t, u32 id, enum afcluster_cause cause,
		    struct afcluster_node_info *out,
		    struct netlink_ext_ack *extack);
int afc_set_local(struct afc_table *t, u32 local, enum afcluster_cause cause);
bool afc_addr_valid(const struct afcluster_addr *addr);

/* event.c */
struct afc_pending;
struct afc_event_desc {
	enum afcluster_event_kind kind;
	enum afcluster_cause cause;
	enum afcluster_node_state old_state;	/* for KIND_STATE */
	u32 local_node;				/* for KIND_LOCAL_NODE */
	const struct afcluster_node_info *node;	/* NULL for KIND_LOCAL_NODE */
};

struct afc_pending *afc_event_prepare(struct afc_table *t,
				      const struct afc_event_desc *d, u64 seq);
/*
 * A prepared event is published under the table's lock, inside the write
 * section of its seqcount together with the change it describes (it enters
 * the history and becomes the table's seq), then sent (broadcast, queued
 * for the notifiers) after that section.
 */
void afc_event_publish(struct afc_table *t, struct afc_pending *p);
void afc_event_send(struct afc_table *t, struct afc_pending *p);
void afc_event_abort(struct afc_pending *p);
int afc_put_addr(struct sk_buff *skb, int type,
		 const struct afcluster_addr *addr);
int afc_put_node_attrs(struct sk_buff *skb,
		       const struct afcluster_node_info *ni);
size_t afc_node_attrs_size(void);

/* history.c */
int afc_history_init(struct afc_history *h, u32 cap, size_t max_bytes);
void afc_history_exit(struct afc_history *h);
void afc_history_add(struct afc_table *t, struct afc_event_rec *rec);
const struct afc_event_rec *afc_history_get(struct afc_table *t, u64 seq);
u64 afc_history_oldest(struct afc_table *t, u64 seq);

/* notify.c */
struct afc_ntf;
void afc_notify_init(struct afc_table *t);
void afc_notify_exit(struct afc_table *t);
struct afc_ntf *afc_notify_prepare(const struct afcluster_event_info *ev);
void afc_notify_queue(struct afc_table *t, struct afc_ntf *n);
void afc_notify_abort(struct afc_ntf *n);

/* lease.c */
void afc_lease_init(struct afc_table *t);
void afc_lease_stop(struct afc_table *t);
void afc_lease_renew(struct afc_table *t, u32 id, u32 lease_ms);

/* netlink.c */
int afc_netlink_init(void);
void afc_netlink_exit(void);

#endif /* _AFCLUSTER_INTERNAL_H */
