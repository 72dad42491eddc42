// SPDX-License-Identifier: GPL-2.0
/*
 * Events: every change of the table becomes one NODE_EVENT message. It is
 * built once, before the change is made (so that a failed allocation leaves
 * the table untouched), then broadcast to the "events" group, kept in the
 * replay history for EVENT_GET, and handed to the in-kernel notifiers.
 * The history keeps the very attribute bytes that were broadcast, so a
 * replay is equal to what a listener would have received.
 */
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include "afcluster.h"

BLOCKING_NOTIFIER_HEAD(afc_notifier);

struct afc_pending {
	struct afc_event_rec *rec;
	struct sk_buff *skb;		/* NULL when nobody listens */
	struct afcluster_event_info info;
};

int afc_events_init(u32 history)
{
	afc.hist = kvcalloc(history, sizeof(*afc.hist), GFP_KERNEL);
	if (!afc.hist)
		return -ENOMEM;
	afc.hist_cap = history;
	afc.hist_count = 0;
	return 0;
}

void afc_events_exit(void)
{
	u32 i;

	for (i = 0; i < afc.hist_cap; i++)
		kfree(afc.hist[i]);
	kvfree(afc.hist);
	afc.hist = NULL;
}

size_t afc_node_msg_size(void)
{
	return nla_total_size(sizeof(u32)) +		/* NODE_ID */
	       nla_total_size(sizeof(u8)) +		/* NODE_STATE */
	       nla_total_size(AFCLUSTER_NODE_NAME_MAX) +
	       AFCLUSTER_NODE_ADDRS_MAX * nla_total_size(16) +
	       nla_total_size(sizeof(u32)) +		/* NODE_LEASE_MS */
	       3 * nla_total_size(sizeof(u8)) +	/* EVENT CAUSE OLD_STATE */
	       2 * nla_total_size_64bit(sizeof(u64));	/* SEQ TIMESTAMP_NS */
}

int afc_put_node(struct sk_buff *skb, const struct afcluster_node_info *ni)
{
	unsigned int i;

	if (nla_put_u32(skb, AFCLUSTER_A_NODE_ID, ni->id) ||
	    nla_put_u8(skb, AFCLUSTER_A_NODE_STATE, ni->state) ||
	    nla_put_string(skb, AFCLUSTER_A_NODE_NAME, ni->name))
		return -EMSGSIZE;
	for (i = 0; i < ni->n_addrs; i++)
		if (nla_put(skb, AFCLUSTER_A_NODE_ADDR, ni->addrs[i].len,
			    ni->addrs[i].addr))
			return -EMSGSIZE;
	if (nla_put_u32(skb, AFCLUSTER_A_NODE_LEASE_MS, ni->lease_ms))
		return -EMSGSIZE;
	return 0;
}

u64 afc_oldest_seq(void)
{
	return afc.hist_count ? afc.seq - afc.hist_count + 1 : 0;
}

/* The event with sequence number @seq if the history still holds it. */
const struct afc_event_rec *afc_event_rec(u64 seq)
{
	lockdep_assert_held(&afc.lock);
	if (!afc.hist_count || seq > afc.seq || seq < afc_oldest_seq())
		return NULL;
	return afc.hist[(seq - 1) % afc.hist_cap];
}

struct afc_pending *afc_event_prepare(const struct afcluster_node_info *ni,
				      enum afcluster_event event,
				      enum afcluster_cause cause,
				      enum afcluster_node_state old_state,
				      u64 seq)
{
	struct afc_pending *p;
	struct sk_buff *skb;
	u64 now = ktime_get_real_ns();
	void *hdr;
	int len;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	skb = genlmsg_new(afc_node_msg_size(), GFP_KERNEL);
	if (!skb)
		goto err_free;
	hdr = genlmsg_put(skb, 0, 0, &afc_genl_family, 0,
			  AFCLUSTER_CMD_NODE_EVENT);
	if (!hdr)
		goto err_skb;
	if (afc_put_node(skb, ni) ||
	    nla_put_u8(skb, AFCLUSTER_A_EVENT, event) ||
	    nla_put_u64_64bit(skb, AFCLUSTER_A_SEQ, seq, AFCLUSTER_A_PAD) ||
	    nla_put_u64_64bit(skb, AFCLUSTER_A_TIMESTAMP_NS, now,
			      AFCLUSTER_A_PAD) ||
	    nla_put_u8(skb, AFCLUSTER_A_CAUSE, cause))
		goto err_skb;
	if (event == AFCLUSTER_EVENT_STATE &&
	    nla_put_u8(skb, AFCLUSTER_A_OLD_STATE, old_state))
		goto err_skb;
	genlmsg_end(skb, hdr);

	len = genlmsg_len(nlmsg_data(nlmsg_hdr(skb)));
	p->rec = kmalloc(struct_size(p->rec, data, len), GFP_KERNEL);
	if (!p->rec)
		goto err_skb;
	p->rec->seq = seq;
	p->rec->len = len;
	memcpy(p->rec->data, genlmsg_data(nlmsg_data(nlmsg_hdr(skb))), len);

	if (genl_has_listeners(&afc_genl_family, &init_net,
			       AFC_MCGRP_EVENTS))
		p->skb = skb;
	else
		nlmsg_free(skb);

	p->info.event = event;
	p->info.cause = cause;
	p->info.old_state = old_state;
	p->info.seq = seq;
	p->info.timestamp_ns = now;
	return p;

err_skb:
	nlmsg_free(skb);
err_free:
	kfree(p);
	return NULL;
}

void afc_event_abort(struct afc_pending *p)
{
	if (!p)
		return;
	nlmsg_free(p->skb);
	kfree(p->rec);
	kfree(p);
}

/*
 * Publish a prepared event: the change it describes is in the table now.
 * @ni is the node's new description, valid for the duration of the call.
 */
void afc_event_commit(struct afc_pending *p,
		      const struct afcluster_node_info *ni)
{
	struct afc_event_rec **slot;

	lockdep_assert_held(&afc.lock);
	WARN_ON_ONCE(p->rec->seq != afc.seq + 1);

	afc.seq = p->rec->seq;
	if (++afc.gen == 0)
		afc.gen = 1;
	slot = &afc.hist[(p->rec->seq - 1) % afc.hist_cap];
	kfree(*slot);
	*slot = p->rec;
	if (afc.hist_count < afc.hist_cap)
		afc.hist_count++;

	/* Consumes the skb; -ESRCH only means the last listener just left. */
	if (p->skb)
		genlmsg_multicast(&afc_genl_family, p->skb, 0,
				  AFC_MCGRP_EVENTS, GFP_KERNEL);

	p->info.node = ni;
	blocking_notifier_call_chain(&afc_notifier, p->info.event, &p->info);
	kfree(p);
}
