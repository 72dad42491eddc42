// SPDX-License-Identifier: GPL-2.0
/*
 * The "afcluster" generic-netlink family (spec/afcluster.yaml): strict
 * per-operation policies, an extack message on every rejection, changes
 * behind CAP_NET_ADMIN over the caller's network namespace, and the
 * "events" multicast group anyone may join. Every request acts on the
 * table of the requesting socket's namespace.
 */
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>
#include "afcluster.h"

/*
 * Split ops, which give a command's do and dump their own policies, came
 * in 6.2; before, one genl_ops entry serves both with one policy. A dump's
 * parsed attributes are genl_info_dump(cb)->attrs from 6.6 on, before that
 * genl_dumpit_info(cb)->attrs. Kbuild finds both in the kernel's headers.
 */
#ifdef AFC_HAVE_GENL_INFO_DUMP
#define afc_dump_attrs(cb) (genl_info_dump(cb)->attrs)
#else
#define afc_dump_attrs(cb) (genl_dumpit_info(cb)->attrs)
#endif

/* Not const: 6.1's nla_policy points to a mutable one. */
static struct netlink_range_validation afc_id_range = {
	.min = 1,
	.max = AFCLUSTER_NODE_ID_MAX,
};

static struct netlink_range_validation afc_local_range = {
	.max = AFCLUSTER_NODE_ID_MAX,
};

static struct netlink_range_validation afc_lease_range = {
	.max = AFCLUSTER_LEASE_MS_MAX,
};

/*
 * IPV4 is a u32 in network order; NLA_U32 checks its length as NLA_BE32
 * would, and unlike NLA_BE32 is shown by CTRL_CMD_GETPOLICY.
 */
static const struct nla_policy afc_addr_policy[AFCLUSTER_A_ADDR_IPV6 + 1] = {
	[AFCLUSTER_A_ADDR_IPV4] = { .type = NLA_U32 },
	[AFCLUSTER_A_ADDR_IPV6] = NLA_POLICY_EXACT_LEN(16),
};

static const struct nla_policy afc_node_get_policy[AFCLUSTER_A_NODE_ADDR + 1] = {
	[AFCLUSTER_A_NODE_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &afc_id_range),
	[AFCLUSTER_A_NODE_ADDR] = NLA_POLICY_NESTED(afc_addr_policy),
};

#define AFC_NODE_EDIT_POLICY \
	[AFCLUSTER_A_NODE_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &afc_id_range), \
	[AFCLUSTER_A_NODE_STATE] = NLA_POLICY_MAX(NLA_U32, \
						  AFCLUSTER_NODE_STATE_DOWN), \
	[AFCLUSTER_A_NODE_NAME] = { .type = NLA_NUL_STRING, \
				    .len = AFCLUSTER_NODE_NAME_MAX - 1 }, \
	[AFCLUSTER_A_NODE_ADDR] = NLA_POLICY_NESTED(afc_addr_policy), \
	[AFCLUSTER_A_NODE_LEASE_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, \
							    &afc_lease_range)

static const struct nla_policy afc_node_new_policy[AFCLUSTER_A_NODE_LEASE_MS + 1] = {
	AFC_NODE_EDIT_POLICY,
};

static const struct nla_policy afc_node_set_policy[AFCLUSTER_A_NODE_REPLACE_ADDRS + 1] = {
	AFC_NODE_EDIT_POLICY,
	[AFCLUSTER_A_NODE_REPLACE_ADDRS] = { .type = NLA_FLAG },
};

static const struct nla_policy afc_node_del_policy[AFCLUSTER_A_NODE_ID + 1] = {
	[AFCLUSTER_A_NODE_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &afc_id_range),
};

static const struct nla_policy afc_cluster_set_policy[AFCLUSTER_A_CLUSTER_LOCAL_NODE + 1] = {
	[AFCLUSTER_A_CLUSTER_LOCAL_NODE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &afc_local_range),
};

static const struct nla_policy afc_event_get_policy[AFCLUSTER_A_EVENT_SINCE_SEQ + 1] = {
	[AFCLUSTER_A_EVENT_INSTANCE] = { .type = NLA_U64 },
	[AFCLUSTER_A_EVENT_SINCE_SEQ] = { .type = NLA_U64 },
};

static struct afc_table *afc_info_table(struct genl_info *info)
{
	return afc_table_of(genl_info_net(info));
}

/* The range the policy checks is the ABI's; max_nodes is the table's. */
static int afc_check_id(struct genl_info *info, struct afc_table *t, u32 *id)
{
	struct nlattr *attr = info->attrs[AFCLUSTER_A_NODE_ID];

	if (GENL_REQ_ATTR_CHECK(info, AFCLUSTER_A_NODE_ID)) {
		NL_SET_ERR_MSG(info->extack, "NODE_ID is required");
		return -EINVAL;
	}
	*id = nla_get_u32(attr);
	if (*id > t->max_nodes) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "node id is larger than max_nodes");
		return -ERANGE;
	}
	return 0;
}

/* One ADDR nest, already checked against afc_addr_policy. */
static int afc_parse_addr(const struct nlattr *nest, struct afcluster_addr *addr,
			  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[AFCLUSTER_A_ADDR_IPV6 + 1];
	int err;

	err = nla_parse_nested(tb, AFCLUSTER_A_ADDR_IPV6, nest, afc_addr_policy,
			       extack);
	if (err)
		return err;
	if (!tb[AFCLUSTER_A_ADDR_IPV4] == !tb[AFCLUSTER_A_ADDR_IPV6]) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "an address holds exactly one of IPV4 and IPV6");
		return -EINVAL;
	}
	memset(addr, 0, sizeof(*addr));
	if (tb[AFCLUSTER_A_ADDR_IPV4]) {
		addr->len = 4;
		nla_memcpy(addr->addr, tb[AFCLUSTER_A_ADDR_IPV4], 4);
	} else {
		addr->len = 16;
		nla_memcpy(addr->addr, tb[AFCLUSTER_A_ADDR_IPV6], 16);
	}
	if (!afc_addr_valid(addr)) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "unspecified address (0.0.0.0 or ::) is not a node address");
		return -EINVAL;
	}
	return 0;
}

static size_t afc_node_msg_size(void)
{
	return afc_node_attrs_size() +
	       2 * nla_total_size_64bit(sizeof(u64));	/* SEQ INSTANCE */
}

static int afc_put_node_msg(struct sk_buff *skb,
			    const struct afcluster_node_info *ni, u64 seq,
			    u64 instance)
{
	if (afc_put_node_attrs(skb, ni) ||
	    nla_put_u64_64bit(skb, AFCLUSTER_A_NODE_SEQ, seq,
			      AFCLUSTER_A_NODE_PAD) ||
	    nla_put_u64_64bit(skb, AFCLUSTER_A_NODE_INSTANCE, instance,
			      AFCLUSTER_A_NODE_PAD))
		return -EMSGSIZE;
	return 0;
}

/* A reply to @info holding one node. Consumes nothing on error. */
static int afc_reply_node(struct genl_info *info,
			  const struct afcluster_node_info *ni, u64 seq,
			  u64 instance)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(afc_node_msg_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &afc_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr || afc_put_node_msg(msg, ni, seq, instance)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static size_t afc_cluster_msg_size(void)
{
	return 5 * nla_total_size(sizeof(u32)) +
	       3 * nla_total_size_64bit(sizeof(u64));
}

static int afc_put_cluster(struct sk_buff *msg, struct afc_table *t)
{
	u32 local, nodes, up, hlen;
	unsigned int start;
	u64 seq, oldest;

	do {
		start = read_seqcount_begin(&t->seqc);
		local = t->local_node;
		nodes = t->node_count;
		up = t->up_count;
		seq = t->seq;
		hlen = t->hist.count;
		oldest = afc_history_oldest(t, seq);
	} while (read_seqcount_retry(&t->seqc, start));

	if (nla_put_u64_64bit(msg, AFCLUSTER_A_CLUSTER_INSTANCE, t->instance,
			      AFCLUSTER_A_CLUSTER_PAD) ||
	    nla_put_u32(msg, AFCLUSTER_A_CLUSTER_MAX_NODES, t->max_nodes) ||
	    nla_put_u32(msg, AFCLUSTER_A_CLUSTER_LOCAL_NODE, local) ||
	    nla_put_u32(msg, AFCLUSTER_A_CLUSTER_NODE_COUNT, nodes) ||
	    nla_put_u32(msg, AFCLUSTER_A_CLUSTER_UP_COUNT, up) ||
	    nla_put_u64_64bit(msg, AFCLUSTER_A_CLUSTER_SEQ, seq,
			      AFCLUSTER_A_CLUSTER_PAD) ||
	    nla_put_u64_64bit(msg, AFCLUSTER_A_CLUSTER_OLDEST_SEQ, oldest,
			      AFCLUSTER_A_CLUSTER_PAD) ||
	    nla_put_u32(msg, AFCLUSTER_A_CLUSTER_HISTORY_LEN, hlen))
		return -EMSGSIZE;
	return 0;
}

static int afc_reply_cluster(struct genl_info *info, struct afc_table *t)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(afc_cluster_msg_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &afc_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr || afc_put_cluster(msg, t)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int afc_nl_cluster_get(struct sk_buff *skb, struct genl_info *info)
{
	return afc_reply_cluster(info, afc_info_table(info));
}

static int afc_nl_cluster_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[AFCLUSTER_A_CLUSTER_LOCAL_NODE];
	struct afc_table *t = afc_info_table(info);
	struct mem_cgroup *old;
	u32 local;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, AFCLUSTER_A_CLUSTER_LOCAL_NODE)) {
		NL_SET_ERR_MSG(info->extack, "LOCAL_NODE is required");
		return -EINVAL;
	}
	local = nla_get_u32(attr);
	if (local > t->max_nodes) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "local node is larger than max_nodes");
		return -ERANGE;
	}
	old = afc_writer_lock(t);
	err = afc_set_local(t, local, AFCLUSTER_CAUSE_ADMIN);
	afc_writer_unlock(t, old);
	if (err == -ENOMEM)
		NL_SET_ERR_MSG(info->extack, "out of memory for the event");
	return err ?: afc_reply_cluster(info, t);
}

static int afc_nl_node_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *id_attr = info->attrs[AFCLUSTER_A_NODE_ID];
	struct nlattr *addr_attr = info->attrs[AFCLUSTER_A_NODE_ADDR];
	struct afc_table *t = afc_info_table(info);
	struct afcluster_node_info *ni;
	struct afcluster_addr addr;
	u32 id = 0;
	u64 seq;
	int err;

	if (!id_attr == !addr_attr) {
		NL_SET_ERR_MSG(info->extack,
			       "give either a node id or one node address");
		return -EINVAL;
	}
	if (id_attr) {
		err = afc_check_id(info, t, &id);
		if (err)
			return err;
	} else {
		/* info->attrs holds the last ADDR; there must be one only. */
		if (nlmsg_attrlen(info->nlhdr, GENL_HDRLEN) !=
		    nla_total_size(nla_len(addr_attr))) {
			NL_SET_ERR_MSG_ATTR(info->extack, addr_attr,
					    "give one node address");
			return -EINVAL;
		}
		err = afc_parse_addr(addr_attr, &addr, info->extack);
		if (err)
			return err;
	}

	ni = kmalloc(sizeof(*ni), GFP_KERNEL);
	if (!ni)
		return -ENOMEM;
	err = afc_node_read_seq(t, id, id_attr ? NULL : &addr, ni, &seq);
	if (err) {
		if (id_attr)
			NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
					    "no such node");
		else
			NL_SET_ERR_MSG_ATTR(info->extack, addr_attr,
					    "no node has this address");
		goto out;
	}
	err = afc_reply_node(info, ni, seq, t->instance);
out:
	kfree(ni);
	return err;
}

/* Set NLM_F_DUMP_INTR on the messages of @skb from offset @from on. */
static void afc_dump_mark_intr(struct sk_buff *skb, unsigned int from)
{
	struct nlmsghdr *nlh;

	while (from + NLMSG_HDRLEN <= skb->len) {
		nlh = (struct nlmsghdr *)(skb->data + from);
		nlh->nlmsg_flags |= NLM_F_DUMP_INTR;
		from += NLMSG_ALIGN(nlh->nlmsg_len);
	}
}

/* How often a dump chunk is read again when a change raced with it. */
#define AFC_DUMP_TRIES 3

/*
 * Resumable: cb->args[0] is the next node id to look at. Each chunk is read
 * without the table's lock and is consistent (one seq throughout) or
 * flagged NLM_F_DUMP_INTR; so is a dump whose chunks saw different tables.
 */
static int afc_nl_node_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct afc_table *t = afc_table_of(sock_net(skb->sk));
	u32 id, first = cb->args[0] ?: 1;
	unsigned int prev_seq = cb->prev_seq;
	unsigned int mark = skb->len;
	unsigned int start, tries = 0;
	struct afc_node *node;
	void *hdr;
	u64 seq;

#ifndef AFC_HAVE_SPLIT_OPS
	/* NODE_GET's one policy serves the do; a dump takes no attribute. */
	if (!cb->args[0]) {
		struct nlattr **tb = afc_dump_attrs(cb);
		struct nlattr *attr;

		attr = tb[AFCLUSTER_A_NODE_ID] ?: tb[AFCLUSTER_A_NODE_ADDR];
		if (attr) {
			NL_SET_ERR_MSG_ATTR(cb->extack, attr,
					    "a node dump takes no node id or address");
			return -EINVAL;
		}
	}
#endif

retry:
	/* Begin before the RCU section: on PREEMPT_RT it may sleep. */
	start = read_seqcount_begin(&t->seqc);
	rcu_read_lock();
	cb->seq = t->gen;
	seq = t->seq;
	for (id = first; id <= t->max_nodes; id++) {
		node = rcu_dereference(t->slots[id].node);
		if (!node)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &afc_genl_family,
				  NLM_F_MULTI, AFCLUSTER_CMD_NODE_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (afc_put_node_msg(skb, &node->info, seq, t->instance)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	rcu_read_unlock();
	if (read_seqcount_retry(&t->seqc, start)) {
		if (++tries < AFC_DUMP_TRIES) {
			skb_trim(skb, mark);
			cb->prev_seq = prev_seq;
			goto retry;
		}
		afc_dump_mark_intr(skb, mark);
	}
	cb->args[0] = id;
	return skb->len;
}

/* Fill @c from a NODE_NEW or NODE_SET request; under the table's lock. */
static int afc_parse_change(struct genl_info *info, struct afc_table *t,
			    struct afc_change *c)
{
	struct nlattr **tb = info->attrs;
	struct afcluster_addr *addr;
	const struct nlattr *attr;
	struct afc_node *owner;
	unsigned int i;
	int rem, err;

	err = afc_check_id(info, t, &c->id);
	if (err)
		return err;
	c->cause = AFCLUSTER_CAUSE_ADMIN;
	if (tb[AFCLUSTER_A_NODE_STATE]) {
		c->set_state = true;
		c->state = nla_get_u32(tb[AFCLUSTER_A_NODE_STATE]);
	}
	if (tb[AFCLUSTER_A_NODE_NAME]) {
		c->set_name = true;
		nla_strscpy(c->name, tb[AFCLUSTER_A_NODE_NAME], sizeof(c->name));
	}
	if (tb[AFCLUSTER_A_NODE_LEASE_MS]) {
		c->set_lease = true;
		c->lease_ms = nla_get_u32(tb[AFCLUSTER_A_NODE_LEASE_MS]);
	}
	/* NODE_NEW sets the list it is given; NODE_SET only when asked to. */
	if (info->genlhdr->cmd == AFCLUSTER_CMD_NODE_NEW ||
	    nla_get_flag(tb[AFCLUSTER_A_NODE_REPLACE_ADDRS]))
		c->set_addrs = true;
	else if (tb[AFCLUSTER_A_NODE_ADDR]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[AFCLUSTER_A_NODE_ADDR],
				    "NODE_SET changes addresses only with REPLACE_ADDRS");
		return -EINVAL;
	}

	/* ADDR repeats; info->attrs holds only the last one. */
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != AFCLUSTER_A_NODE_ADDR)
			continue;
		if (c->n_addrs == AFCLUSTER_NODE_ADDRS_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "too many addresses (at most 16 per node)");
			return -E2BIG;
		}
		addr = &c->addrs[c->n_addrs];
		err = afc_parse_addr(attr, addr, info->extack);
		if (err)
			return err;
		for (i = 0; i < c->n_addrs; i++) {
			if (!memcmp(&c->addrs[i], addr, sizeof(*addr))) {
				NL_SET_ERR_MSG_ATTR(info->extack, attr,
						    "address given twice");
				return -EINVAL;
			}
		}
		rcu_read_lock();
		owner = afc_node_rcu(t, 0, addr);
		err = owner && owner->info.id != c->id ? -EADDRINUSE : 0;
		rcu_read_unlock();
		if (err) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "address already belongs to another node");
			return err;
		}
		c->n_addrs++;
	}
	return 0;
}

/*
 * NODE_NEW and NODE_SET: the same attributes, for a new or a known node.
 * The reply describes the node after the request.
 */
static int afc_nl_node_edit(struct sk_buff *skb, struct genl_info *info)
{
	bool new = info->genlhdr->cmd == AFCLUSTER_CMD_NODE_NEW;
	struct afc_table *t = afc_info_table(info);
	struct afcluster_node_info *ni;
	struct mem_cgroup *old;
	struct afc_change *c;
	int err = -ENOMEM;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	ni = kmalloc(sizeof(*ni), GFP_KERNEL);
	if (!c || !ni)
		goto out;
	old = afc_writer_lock(t);
	err = afc_parse_change(info, t, c);
	if (!err) {
		c->renew_lease = !new;
		err = new ? afc_node_add(t, c, ni, info->extack) :
			    afc_node_change(t, c, ni, info->extack);
	}
	afc_writer_unlock(t, old);
	/* Point at what the table refused: the node, or the state. */
	if (err == -EEXIST || err == -ENOENT)
		NL_SET_BAD_ATTR(info->extack, info->attrs[AFCLUSTER_A_NODE_ID]);
	else if (err == -EINVAL && !info->extack->bad_attr)
		NL_SET_BAD_ATTR(info->extack,
				info->attrs[AFCLUSTER_A_NODE_STATE]);
	else if (err == -ENOMEM && !info->extack->_msg)
		NL_SET_ERR_MSG(info->extack, "out of memory for the change");
	if (!err)
		err = afc_reply_node(info, ni, ni->seq, t->instance);
out:
	kfree(ni);
	kfree(c);
	return err;
}

static int afc_nl_node_del(struct sk_buff *skb, struct genl_info *info)
{
	struct afc_table *t = afc_info_table(info);
	struct afcluster_node_info *ni;
	struct mem_cgroup *old;
	u32 id;
	int err;

	err = afc_check_id(info, t, &id);
	if (err)
		return err;
	ni = kmalloc(sizeof(*ni), GFP_KERNEL);
	if (!ni)
		return -ENOMEM;
	old = afc_writer_lock(t);
	err = afc_node_remove(t, id, AFCLUSTER_CAUSE_ADMIN, ni, info->extack);
	afc_writer_unlock(t, old);
	if (err == -ENOENT)
		NL_SET_BAD_ATTR(info->extack, info->attrs[AFCLUSTER_A_NODE_ID]);
	else if (err == -ENOMEM)
		NL_SET_ERR_MSG(info->extack, "out of memory for the event");
	if (!err)
		err = afc_reply_node(info, ni, ni->seq, t->instance);
	kfree(ni);
	return err;
}

/* cb->ctx of an EVENT_GET dump. */
struct afc_event_dump {
	u64 next;		/* sequence number to send next */
};

static int afc_event_dump_start(struct afc_table *t, struct netlink_callback *cb,
				struct afc_event_dump *ctx)
{
	struct nlattr **tb = afc_dump_attrs(cb);
	struct nlattr *since_attr = tb[AFCLUSTER_A_EVENT_SINCE_SEQ];
	struct nlattr *inst_attr = tb[AFCLUSTER_A_EVENT_INSTANCE];
	u64 since = since_attr ? nla_get_u64(since_attr) : 0;
	unsigned int start;
	u64 seq;

	if (inst_attr && nla_get_u64(inst_attr) != t->instance) {
		NL_SET_ERR_MSG_ATTR(cb->extack, inst_attr,
				    "INSTANCE is another table's: its events are gone (dump the nodes again)");
		return -ESTALE;
	}
	do {
		start = read_seqcount_begin(&t->seqc);
		seq = t->seq;
	} while (read_seqcount_retry(&t->seqc, start));
	if (since > seq) {
		NL_SET_ERR_MSG_ATTR(cb->extack, since_attr,
				    "SINCE_SEQ is newer than the last event (was the table replaced?)");
		return -ERANGE;
	}
	ctx->next = since + 1;
	return 0;
}

static int afc_nl_event_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct afc_table *t = afc_table_of(sock_net(skb->sk));
	struct afc_event_dump *ctx = (void *)cb->ctx;
	const struct afc_event_rec *rec;
	unsigned int start;
	void *hdr;
	u64 seq;
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	if (!ctx->next) {
		err = afc_event_dump_start(t, cb, ctx);
		if (err)
			return err;
	}

	do {
		start = read_seqcount_begin(&t->seqc);
		seq = t->seq;
	} while (read_seqcount_retry(&t->seqc, start));

	rcu_read_lock();
	for (err = 0; ctx->next <= seq; ctx->next++) {
		rec = afc_history_get(t, ctx->next);
		if (!rec) {
			/* Also later: events may push the rest out. */
			NL_SET_ERR_MSG(cb->extack,
				       "the event history no longer reaches back to SINCE_SEQ");
			err = -ERANGE;
			break;
		}
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &afc_genl_family,
				  NLM_F_MULTI, AFCLUSTER_CMD_EVENT_GET);
		if (!hdr)
			break;
		if (skb_tailroom(skb) < rec->len) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		skb_put_data(skb, rec->data, rec->len);
		genlmsg_end(skb, hdr);
	}
	rcu_read_unlock();
	return err ?: skb->len;
}

#define AFC_CHANGE GENL_UNS_ADMIN_PERM

#ifdef AFC_HAVE_SPLIT_OPS
static const struct genl_split_ops afc_genl_ops[] = {
	{
		.cmd = AFCLUSTER_CMD_CLUSTER_GET,
		.doit = afc_nl_cluster_get,
		.flags = GENL_CMD_CAP_DO,
	},
	{
		.cmd = AFCLUSTER_CMD_CLUSTER_SET,
		.doit = afc_nl_cluster_set,
		.policy = afc_cluster_set_policy,
		.maxattr = AFCLUSTER_A_CLUSTER_LOCAL_NODE,
		.flags = AFC_CHANGE | GENL_CMD_CAP_DO,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_GET,
		.doit = afc_nl_node_get,
		.policy = afc_node_get_policy,
		.maxattr = AFCLUSTER_A_NODE_ADDR,
		.flags = GENL_CMD_CAP_DO,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_GET,
		.dumpit = afc_nl_node_dump,
		.flags = GENL_CMD_CAP_DUMP,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_NEW,
		.doit = afc_nl_node_edit,
		.policy = afc_node_new_policy,
		.maxattr = AFCLUSTER_A_NODE_LEASE_MS,
		.flags = AFC_CHANGE | GENL_CMD_CAP_DO,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_SET,
		.doit = afc_nl_node_edit,
		.policy = afc_node_set_policy,
		.maxattr = AFCLUSTER_A_NODE_REPLACE_ADDRS,
		.flags = AFC_CHANGE | GENL_CMD_CAP_DO,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_DEL,
		.doit = afc_nl_node_del,
		.policy = afc_node_del_policy,
		.maxattr = AFCLUSTER_A_NODE_ID,
		.flags = AFC_CHANGE | GENL_CMD_CAP_DO,
	},
	{
		.cmd = AFCLUSTER_CMD_EVENT_GET,
		.dumpit = afc_nl_event_dump,
		.policy = afc_event_get_policy,
		.maxattr = AFCLUSTER_A_EVENT_SINCE_SEQ,
		.flags = GENL_CMD_CAP_DUMP,
	},
};
#else
/* No split ops: an op without a policy takes no attribute. */
static const struct genl_ops afc_genl_ops[] = {
	{
		.cmd = AFCLUSTER_CMD_CLUSTER_GET,
		.doit = afc_nl_cluster_get,
	},
	{
		.cmd = AFCLUSTER_CMD_CLUSTER_SET,
		.doit = afc_nl_cluster_set,
		.policy = afc_cluster_set_policy,
		.maxattr = AFCLUSTER_A_CLUSTER_LOCAL_NODE,
		.flags = AFC_CHANGE,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_GET,
		.doit = afc_nl_node_get,
		.dumpit = afc_nl_node_dump,
		.policy = afc_node_get_policy,
		.maxattr = AFCLUSTER_A_NODE_ADDR,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_NEW,
		.doit = afc_nl_node_edit,
		.policy = afc_node_new_policy,
		.maxattr = AFCLUSTER_A_NODE_LEASE_MS,
		.flags = AFC_CHANGE,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_SET,
		.doit = afc_nl_node_edit,
		.policy = afc_node_set_policy,
		.maxattr = AFCLUSTER_A_NODE_REPLACE_ADDRS,
		.flags = AFC_CHANGE,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_DEL,
		.doit = afc_nl_node_del,
		.policy = afc_node_del_policy,
		.maxattr = AFCLUSTER_A_NODE_ID,
		.flags = AFC_CHANGE,
	},
	{
		.cmd = AFCLUSTER_CMD_EVENT_GET,
		.dumpit = afc_nl_event_dump,
		.policy = afc_event_get_policy,
		.maxattr = AFCLUSTER_A_EVENT_SINCE_SEQ,
	},
};
#endif

static const struct genl_multicast_group afc_genl_mcgrps[] = {
	[AFC_MCGRP_EVENTS] = { .name = AFCLUSTER_MCGRP_EVENTS },
};

struct genl_family afc_genl_family __ro_after_init = {
	.name = AFCLUSTER_FAMILY_NAME,
	.version = AFCLUSTER_FAMILY_VERSION,
	.netnsok = true,
	/* Each table's lock serialises its writers; readers take none. */
	.parallel_ops = true,
#ifdef AFC_HAVE_SPLIT_OPS
	.split_ops = afc_genl_ops,
	.n_split_ops = ARRAY_SIZE(afc_genl_ops),
#else
	.ops = afc_genl_ops,
	.n_ops = ARRAY_SIZE(afc_genl_ops),
#endif
	.mcgrps = afc_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(afc_genl_mcgrps),
	.module = THIS_MODULE,
};

int afc_netlink_init(void)
{
	return genl_register_family(&afc_genl_family);
}

void afc_netlink_exit(void)
{
	genl_unregister_family(&afc_genl_family);
}
