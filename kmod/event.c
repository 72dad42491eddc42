// SPDX-License-Identifier: GPL-2.0
/*
 * Events: every change of a table becomes one EVENT_NTF message. It is
 * built once, before the change is made (so that a failed allocation leaves
 * the table untouched), then kept in the replay history for EVENT_GET,
 * broadcast to the namespace's "events" group and queued for the in-kernel
 * notifiers. The history keeps the very attribute bytes that were
 * broadcast, so a replay is equal to what a listener would have received.
 */
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/netlink.h>
#include "afcluster.h"

struct afc_pending {
	struct afc_event_rec *rec;	/* to the history */
	struct sk_buff *skb;		/* NULL when nobody listens */
	struct afc_ntf *ntf;		/* NULL when no notifier is registered */
};

int afc_put_addr(struct sk_buff *skb, int type,
		 const struct afcluster_addr *addr)
{
	struct nlattr *nest = nla_nest_start(skb, type);
	__be32 v4;

	if (!nest)
		return -EMSGSIZE;
	if (addr->len == 4) {
		memcpy(&v4, addr->addr, sizeof(v4));
		if (nla_put_in_addr(skb, AFCLUSTER_A_ADDR_IPV4, v4))
			goto cancel;
	} else if (nla_put(skb, AFCLUSTER_A_ADDR_IPV6, 16, addr->addr)) {
		goto cancel;
	}
	nla_nest_end(skb, nest);
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* The attributes of the "node" set that describe a node. */
int afc_put_node_attrs(struct sk_buff *skb,
		       const struct afcluster_node_info *ni)
{
	unsigned int i;

	if (nla_put_u32(skb, AFCLUSTER_A_NODE_ID, ni->id) ||
	    nla_put_u32(skb, AFCLUSTER_A_NODE_STATE, ni->state) ||
	    nla_put_string(skb, AFCLUSTER_A_NODE_NAME, ni->name))
		return -EMSGSIZE;
	for (i = 0; i < ni->n_addrs; i++)
		if (afc_put_addr(skb, AFCLUSTER_A_NODE_ADDR, &ni->addrs[i]))
			return -EMSGSIZE;
	if (nla_put_u32(skb, AFCLUSTER_A_NODE_LEASE_MS, ni->lease_ms))
		return -EMSGSIZE;
	return 0;
}

size_t afc_node_attrs_size(void)
{
	return 3 * nla_total_size(sizeof(u32)) +	/* ID STATE LEASE_MS */
	       nla_total_size(AFCLUSTER_NODE_NAME_MAX) +
	       AFCLUSTER_NODE_ADDRS_MAX *
		       nla_total_size(nla_total_size(16));	/* ADDR */
}

static size_t afc_event_msg_size(void)
{
	return nla_total_size(afc_node_attrs_size()) +	/* NODE */
	       4 * nla_total_size(sizeof(u32)) +	/* KIND CAUSE OLD_STATE
							 * LOCAL_NODE
							 */
	       3 * nla_total_size_64bit(sizeof(u64));	/* SEQ TIMESTAMP_NS
							 * INSTANCE
							 */
}

static int afc_put_event(struct sk_buff *skb, const struct afc_table *t,
			 const struct afc_event_desc *d, u64 seq, u64 now)
{
	struct nlattr *nest;

	if (nla_put_u32(skb, AFCLUSTER_A_EVENT_KIND, d->kind) ||
	    nla_put_u64_64bit(skb, AFCLUSTER_A_EVENT_SEQ, seq,
			      AFCLUSTER_A_EVENT_PAD) ||
	    nla_put_u64_64bit(skb, AFCLUSTER_A_EVENT_TIMESTAMP_NS, now,
			      AFCLUSTER_A_EVENT_PAD) ||
	    nla_put_u32(skb, AFCLUSTER_A_EVENT_CAUSE, d->cause) ||
	    nla_put_u64_64bit(skb, AFCLUSTER_A_EVENT_INSTANCE, t->instance,
			      AFCLUSTER_A_EVENT_PAD))
		return -EMSGSIZE;
	if (d->kind == AFCLUSTER_EVENT_KIND_STATE &&
	    nla_put_u32(skb, AFCLUSTER_A_EVENT_OLD_STATE, d->old_state))
		return -EMSGSIZE;
	if (d->kind == AFCLUSTER_EVENT_KIND_LOCAL_NODE)
		return nla_put_u32(skb, AFCLUSTER_A_EVENT_LOCAL_NODE,
				   d->local_node);
	nest = nla_nest_start(skb, AFCLUSTER_A_EVENT_NODE);
	if (!nest || afc_put_node_attrs(skb, d->node))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

struct afc_pending *afc_event_prepare(struct afc_table *t,
				      const struct afc_event_desc *d, u64 seq)
{
	struct afcluster_event_info ev = {
		.net = t->net,
		.kind = d->kind,
		.cause = d->cause,
		.old_state = d->old_state,
		.seq = seq,
		.instance = t->instance,
		.timestamp_ns = ktime_get_real_ns(),
		.local_node = d->local_node,
		.node = d->node,
	};
	struct nlmsghdr *nlh;
	struct afc_pending *p;
	struct sk_buff *skb;
	void *hdr;
	int len;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	skb = genlmsg_new(afc_event_msg_size(), GFP_KERNEL);
	if (!skb)
		goto err_free;
	hdr = genlmsg_put(skb, 0, 0, &afc_genl_family, 0,
			  AFCLUSTER_CMD_EVENT_NTF);
	if (!hdr || afc_put_event(skb, t, d, seq, ev.timestamp_ns))
		goto err_skb;
	genlmsg_end(skb, hdr);

	nlh = nlmsg_hdr(skb);
	len = genlmsg_len(nlmsg_data(nlh));
	p->rec = kmalloc(struct_size(p->rec, data, len), GFP_KERNEL_ACCOUNT);
	if (!p->rec)
		goto err_skb;
	p->rec->seq = seq;
	p->rec->len = len;
	memcpy(p->rec->data, genlmsg_data(nlmsg_data(nlh)), len);

	p->ntf = afc_notify_prepare(&ev);
	if (IS_ERR(p->ntf)) {
		p->ntf = NULL;
		goto err_rec;
	}

	if (genl_has_listeners(&afc_genl_family, t->net, AFC_MCGRP_EVENTS))
		p->skb = skb;
	else
		nlmsg_free(skb);
	return p;

err_rec:
	kfree(p->rec);
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
	afc_notify_abort(p->ntf);
	nlmsg_free(p->skb);
	kfree(p->rec);
	kfree(p);
}

void afc_event_publish(struct afc_table *t, struct afc_pending *p)
{
	lockdep_assert_held(&t->lock);
	WARN_ON_ONCE(p->rec->seq != t->seq + 1);

	afc_history_add(t, p->rec);
	p->rec = NULL;
	t->seq++;
	if (++t->gen == 0)
		t->gen = 1;
}

void afc_event_send(struct afc_table *t, struct afc_pending *p)
{
	lockdep_assert_held(&t->lock);
	/* Consumes the skb; -ESRCH only means the last listener just left. */
	if (p->skb)
		genlmsg_multicast_netns(&afc_genl_family, t->net, p->skb, 0,
					AFC_MCGRP_EVENTS, GFP_KERNEL);
	if (p->ntf)
		afc_notify_queue(t, p->ntf);
	kfree(p);
}
