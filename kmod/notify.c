// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel notifier chain. Events are queued in seq order under the
 * table's lock and delivered by a work item of their table, outside every
 * lock of it: a callback may sleep, may call back into the API (even change
 * the table: its event is queued behind the one being delivered), and a
 * slow callback holds up later callbacks, never a netlink request. One work
 * item per table runs one event at a time, so each table's events arrive
 * in order.
 */
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include "afcluster.h"

BLOCKING_NOTIFIER_HEAD(afc_notifier);

struct afc_ntf {
	struct list_head list;
	struct afcluster_event_info ev;
	struct afcluster_node_info node;	/* ev.node points here */
};

/*
 * A copy of @ev for the notifiers; NULL when none is registered (one
 * registered later sees the events made after it), ERR_PTR on no memory.
 */
struct afc_ntf *afc_notify_prepare(const struct afcluster_event_info *ev)
{
	struct afc_ntf *n;

	if (!rcu_access_pointer(afc_notifier.head))
		return NULL;
	n = kmalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return ERR_PTR(-ENOMEM);
	n->ev = *ev;
	if (ev->node) {
		n->node = *ev->node;
		n->ev.node = &n->node;
	}
	return n;
}

void afc_notify_abort(struct afc_ntf *n)
{
	kfree(n);
}

void afc_notify_queue(struct afc_table *t, struct afc_ntf *n)
{
	lockdep_assert_held(&t->lock);
	spin_lock(&t->ntf_lock);
	list_add_tail(&n->list, &t->ntf_queue);
	spin_unlock(&t->ntf_lock);
	queue_work(system_unbound_wq, &t->ntf_work);
}

static void afc_notify_work(struct work_struct *work)
{
	struct afc_table *t = container_of(work, struct afc_table, ntf_work);
	struct afc_ntf *n;

	for (;;) {
		spin_lock(&t->ntf_lock);
		n = list_first_entry_or_null(&t->ntf_queue, struct afc_ntf,
					     list);
		if (n)
			list_del(&n->list);
		spin_unlock(&t->ntf_lock);
		if (!n)
			return;
		blocking_notifier_call_chain(&afc_notifier, n->ev.kind, &n->ev);
		kfree(n);
		cond_resched();
	}
}

void afc_notify_init(struct afc_table *t)
{
	spin_lock_init(&t->ntf_lock);
	INIT_LIST_HEAD(&t->ntf_queue);
	INIT_WORK(&t->ntf_work, afc_notify_work);
}

/* The table refuses changes now: deliver what is queued, then stop. */
void afc_notify_exit(struct afc_table *t)
{
	flush_work(&t->ntf_work);
	WARN_ON_ONCE(!list_empty(&t->ntf_queue));
}
