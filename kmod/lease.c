// SPDX-License-Identifier: GPL-2.0
/*
 * Leases: a node with a lease that no NODE_SET renews in time goes DOWN
 * with cause LEASE, the kernel's guard against a membership feeder that
 * died. One delayed work serves every lease: it runs at the earliest
 * deadline, expires what is due and sleeps until the next one. Renewals
 * that push a deadline later leave the work where it is; it then wakes
 * early, finds nothing due and goes back to sleep.
 */
#include <linux/jiffies.h>
#include "afcluster.h"

static void afc_lease_schedule(unsigned long deadline)
{
	unsigned long now = jiffies;

	if (afc.lease_stopped ||
	    (afc.lease_scheduled && !time_after(afc.lease_next, deadline)))
		return;
	afc.lease_next = deadline;
	afc.lease_scheduled = true;
	mod_delayed_work(system_wq, &afc.lease_work,
			 time_after(deadline, now) ? deadline - now : 0);
}

/* Arm node @id's lease for @lease_ms from now, or disarm it when 0. */
void afc_lease_renew(u32 id, u32 lease_ms)
{
	struct afc_slot *slot = &afc.slots[id];

	lockdep_assert_held(&afc.lock);
	if (slot->lease_armed)
		afc.leases_armed--;
	slot->lease_armed = lease_ms != 0;
	if (!lease_ms)
		return;
	afc.leases_armed++;
	slot->lease_deadline = jiffies + msecs_to_jiffies(lease_ms);
	afc_lease_schedule(slot->lease_deadline);
}

/* Set node @id DOWN; if that fails (no memory), try again in a second. */
static void afc_lease_expire(u32 id, unsigned long now)
{
	struct afc_change c = {
		.id = id,
		.cause = AFCLUSTER_CAUSE_LEASE,
		.set_state = true,
		.state = AFCLUSTER_NODE_DOWN,
	};
	int err;

	err = afc_node_change(&c, NULL);
	if (!err) {
		afc_lease_renew(id, 0);
		return;
	}
	pr_warn_ratelimited("lease of node %u expired, setting it DOWN failed (%d), retrying\n",
			    id, err);
	afc.slots[id].lease_deadline = now + HZ;
}

static void afc_lease_work(struct work_struct *work)
{
	unsigned long now = jiffies, next = 0;
	bool pending = false;
	struct afc_slot *slot;
	u32 id;

	mutex_lock(&afc.lock);
	afc.lease_scheduled = false;
	for (id = 1; id <= afc.max_nodes && afc.leases_armed; id++) {
		slot = &afc.slots[id];
		if (!slot->lease_armed)
			continue;
		if (!time_before(now, slot->lease_deadline))
			afc_lease_expire(id, now);
		if (!slot->lease_armed)
			continue;
		if (!pending || time_before(slot->lease_deadline, next)) {
			next = slot->lease_deadline;
			pending = true;
		}
	}
	if (pending)
		afc_lease_schedule(next);
	mutex_unlock(&afc.lock);
}

void afc_lease_init(void)
{
	INIT_DELAYED_WORK(&afc.lease_work, afc_lease_work);
}

/*
 * Stop expiring leases before the family goes away, so that no event is
 * broadcast on an unregistered family. Nothing re-arms the work after this.
 */
void afc_lease_exit(void)
{
	mutex_lock(&afc.lock);
	afc.lease_stopped = true;
	mutex_unlock(&afc.lock);
	cancel_delayed_work_sync(&afc.lease_work);
}
