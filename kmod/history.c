// SPDX-License-Identifier: GPL-2.0
/*
 * The replay history of a table: the newest events, bounded both in count
 * (module parameter history) and in bytes (history_kb), charged to the
 * table's memory cgroup. A ring indexed by seq; records are RCU-freed, so
 * EVENT_GET reads them without the table's lock and knows a slot was
 * overwritten by the seq the record carries.
 */
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include "afcluster.h"

int afc_history_init(struct afc_history *h, u32 cap, size_t max_bytes)
{
	h->ring = kvcalloc(cap, sizeof(*h->ring), GFP_KERNEL_ACCOUNT);
	if (!h->ring)
		return -ENOMEM;
	h->cap = cap;
	h->count = 0;
	h->bytes = 0;
	h->max_bytes = max_bytes;
	return 0;
}

/* No reader is left. */
void afc_history_exit(struct afc_history *h)
{
	u32 i;

	for (i = 0; i < h->cap; i++)
		kfree(rcu_dereference_protected(h->ring[i], true));
	kvfree(h->ring);
	h->ring = NULL;
}

static u32 afc_history_slot(const struct afc_history *h, u64 seq)
{
	u32 slot;

	/* u64 % u32 needs a helper on 32-bit architectures. */
	div_u64_rem(seq - 1, h->cap, &slot);
	return slot;
}

static size_t afc_rec_size(const struct afc_event_rec *rec)
{
	return struct_size(rec, data, rec->len);
}

/* Oldest seq held when the table's seq is @seq; 0 when none is held. */
u64 afc_history_oldest(struct afc_table *t, u64 seq)
{
	u32 count = READ_ONCE(t->hist.count);

	return count ? seq - count + 1 : 0;
}

/*
 * Add the record of the table's next event (seq + 1), making room by
 * dropping the oldest ones; the newest is always kept, even when it alone
 * is larger than the byte bound. Never sleeps: runs inside the seqcount's
 * write section.
 */
void afc_history_add(struct afc_table *t, struct afc_event_rec *rec)
{
	struct afc_history *h = &t->hist;
	size_t size = afc_rec_size(rec);
	struct afc_event_rec *old;
	u64 oldest;
	u32 slot;

	lockdep_assert_held(&t->lock);
	oldest = t->seq - h->count + 1;
	while (h->count &&
	       (h->count >= h->cap || h->bytes + size > h->max_bytes)) {
		slot = afc_history_slot(h, oldest);
		old = rcu_dereference_protected(h->ring[slot],
						lockdep_is_held(&t->lock));
		RCU_INIT_POINTER(h->ring[slot], NULL);
		h->bytes -= afc_rec_size(old);
		kfree_rcu(old, rcu);
		WRITE_ONCE(h->count, h->count - 1);
		oldest++;
	}
	rcu_assign_pointer(h->ring[afc_history_slot(h, rec->seq)], rec);
	h->bytes += size;
	WRITE_ONCE(h->count, h->count + 1);
}

/* The event @seq if the history still holds it. Under rcu_read_lock(). */
const struct afc_event_rec *afc_history_get(struct afc_table *t, u64 seq)
{
	const struct afc_event_rec *rec;

	if (!seq)
		return NULL;
	rec = rcu_dereference(t->hist.ring[afc_history_slot(&t->hist, seq)]);
	return rec && rec->seq == seq ? rec : NULL;
}
