// SPDX-License-Identifier: GPL-2.0
/*
 * Leases: a node with a lease that no NODE_SET renews in time goes DOWN
 * with cause LEASE, the kernel's guard against a membership feeder that
 * died. One delayed work per table serves every lease of it: it runs at the
 * earliest deadline, expires what is due and sleeps until the next one.
 * Renewals that push a deadline later leave the work where it is; it then
 * wakes early, finds nothing due and goes back to sleep.
 */
#include <linux/jiffies.h>
#include "afcluster.h"

static void afc_lease_schedule(struct afc_table *t, unsigned long deadline)
{
	unsigned long now = jiffies;

	if (t->lease_stopped ||
	    (t->lease_scheduled && !time_after(t->lease_next, deadline)))
		return;
	t->lease_next = deadline;
	t->lease_scheduled = true;
	mod_delayed_work(system_wq, &t->lease_work,
			 time_after(deadline, now) ? deadline - now : 0);
}

/* Arm node @id's lease for @lease_ms from now, or disarm it when 0. */
void afc_lease_renew(struct afc_table *t, u32 id, u32 lease_ms)
{
	struct afc_slot *slot = &t->slots[id];

	lockdep_assert_held(&t->lock);
	if (slot->lease_armed)
		t->leases_armed--;
	slot->lease_armed = lease_ms != 0;
	if (!lease_ms)
		return;
	t->leases_armed++;
	slot->lease_deadline = jiffies + msecs_to_jiffies(lease_ms);
	afc_lease_schedule(t, slot->lease_deadline);
}

/* Set node @id DOWN; if that fails (no memory), try again in a second. */
static void afc_lease_expire(struct afc_table *t, u32 id, unsigned long now)
{
	struct afc_change c = {
		.id = id,
		.cause = AFCLUSTER_CAUSE_LEASE,
		.set_state = true,
		.state = AFCLUSTER_NODE_STATE_DOWN,
	};
	struct afcluster_node_info *ni;
	int err = -ENOMEM;

	ni = kmalloc(sizeof(*ni), GFP_KERNEL);
	if (ni) {
		err = afc_node_change(t, &c, ni, NULL);
		kfree(ni);
	}
	if (!err) {
		afc_lease_renew(t, id, 0);
		return;
	}
	pr_warn_ratelimited("afcluster: lease of node %u expired, setting it DOWN failed (%d), retrying\n",
			    id, err);
	t->slots[id].lease_deadline = now + HZ;
}

static void afc_lease_work(struct work_struct *work)
{
	struct afc_table *t = container_of(to_delayed_work(work),
					   struct afc_table, lease_work);
	unsigned long now = jiffies, next = 0;
	bool pending = false;
	struct mem_cgroup *old;
	struct afc_slot *slot;
	u32 id;

	old = afc_writer_lock(t);
	t->lease_scheduled = false;
	for (id = 1; id <= t->max_nodes && t->leases_armed; id++) {
		slot = &t->slots[id];
		if (!slot->lease_armed)
			continue;
		if (!t->lease_stopped && !time_before(now, slot->lease_deadline))
			afc_lease_expire(t, id, now);
		if (!slot->lease_armed)
			continue;
		if (!pending || time_before(slot->lease_deadline, next)) {
			next = slot->lease_deadline;
			pending = true;
		}
	}
	if (pending)
		afc_lease_schedule(t, next);
	afc_writer_unlock(t, old);
}

void afc_lease_init(struct afc_table *t)
{
	INIT_DELAYED_WORK(&t->lease_work, afc_lease_work);
}

/*
 * Stop expiring leases (module unload, namespace exit), so that no event
 * is broadcast on an unregistered family. Nothing re-arms the work after
 * this; calling it twice is fine.
 */
void afc_lease_stop(struct afc_table *t)
{
	mutex_lock(&t->lock);
	t->lease_stopped = true;
	mutex_unlock(&t->lock);
	cancel_delayed_work_sync(&t->lease_work);
}
