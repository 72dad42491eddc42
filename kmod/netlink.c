// SPDX-License-Identifier: GPL-2.0
/*
 * The "afcluster" generic-netlink family: strict per-operation policies,
 * an extack message on every rejection, admin operations behind
 * CAP_NET_ADMIN, and the "events" multicast group anyone may join.
 */
#include <net/genetlink.h>
#include "afcluster.h"

/*
 * A dump's parsed attributes moved with the split ops of 6.2, which have
 * no macro of their own; GENL_SET_ERR_MSG_FMT came in the same release.
 */
#ifdef GENL_SET_ERR_MSG_FMT
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

static int afc_validate_addr(const struct nlattr *attr,
			     struct netlink_ext_ack *extack)
{
	struct afcluster_addr addr = { .len = nla_len(attr) };

	if (addr.len != 4 && addr.len != 16) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "node address must be 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	memcpy(addr.addr, nla_data(attr), addr.len);
	if (!afc_addr_valid(&addr)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "unspecified address (0.0.0.0 or ::) is not a node address");
		return -EINVAL;
	}
	return 0;
}

#define AFC_POLICY_NODE_ID \
	[AFCLUSTER_A_NODE_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &afc_id_range)
#define AFC_POLICY_NODE_ADDR \
	[AFCLUSTER_A_NODE_ADDR] = NLA_POLICY_VALIDATE_FN(NLA_BINARY, \
							 afc_validate_addr, 16)

/* Requests that take no attribute; strict parsing rejects any. */
static const struct nla_policy afc_no_policy[AFCLUSTER_A_MAX + 1];

static const struct nla_policy afc_node_get_policy[AFCLUSTER_A_MAX + 1] = {
	AFC_POLICY_NODE_ID,
	AFC_POLICY_NODE_ADDR,
};

static const struct nla_policy afc_node_edit_policy[AFCLUSTER_A_MAX + 1] = {
	AFC_POLICY_NODE_ID,
	AFC_POLICY_NODE_ADDR,
	[AFCLUSTER_A_NODE_STATE] = NLA_POLICY_MAX(NLA_U8,
						  AFCLUSTER_NODE_STATE_MAX),
	[AFCLUSTER_A_NODE_NAME] = { .type = NLA_NUL_STRING,
				    .len = AFCLUSTER_NODE_NAME_MAX - 1 },
	[AFCLUSTER_A_NODE_LEASE_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
							    &afc_lease_range),
};

static const struct nla_policy afc_node_del_policy[AFCLUSTER_A_MAX + 1] = {
	AFC_POLICY_NODE_ID,
};

static const struct nla_policy afc_cluster_set_policy[AFCLUSTER_A_MAX + 1] = {
	[AFCLUSTER_A_LOCAL_NODE] = NLA_POLICY_FULL_RANGE(NLA_U32,
							 &afc_local_range),
};

static const struct nla_policy afc_event_get_policy[AFCLUSTER_A_MAX + 1] = {
	[AFCLUSTER_A_SINCE_SEQ] = { .type = NLA_U64 },
};

/* The range the policy checks is the ABI's; max_nodes is this load's. */
static int afc_check_id(struct genl_info *info, u32 *id)
{
	struct nlattr *attr = info->attrs[AFCLUSTER_A_NODE_ID];

	if (GENL_REQ_ATTR_CHECK(info, AFCLUSTER_A_NODE_ID)) {
		NL_SET_ERR_MSG(info->extack, "NODE_ID is required");
		return -EINVAL;
	}
	*id = nla_get_u32(attr);
	if (*id > afc.max_nodes) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "node id is larger than max_nodes");
		return -ERANGE;
	}
	return 0;
}

static int afc_put_seq(struct sk_buff *skb)
{
	return nla_put_u64_64bit(skb, AFCLUSTER_A_SEQ, afc.seq,
				 AFCLUSTER_A_PAD);
}

static int afc_nl_cluster_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(7 * nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &afc_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr)
		goto err_free;

	mutex_lock(&afc.lock);
	if (nla_put_u32(msg, AFCLUSTER_A_MAX_NODES, afc.max_nodes) ||
	    nla_put_u32(msg, AFCLUSTER_A_LOCAL_NODE, afc.local_node) ||
	    nla_put_u32(msg, AFCLUSTER_A_NODE_COUNT, afc.node_count) ||
	    nla_put_u32(msg, AFCLUSTER_A_UP_COUNT, afc.up_count) ||
	    afc_put_seq(msg) ||
	    nla_put_u64_64bit(msg, AFCLUSTER_A_OLDEST_SEQ, afc_oldest_seq(),
			      AFCLUSTER_A_PAD) ||
	    nla_put_u32(msg, AFCLUSTER_A_HISTORY_LEN, afc.hist_count)) {
		mutex_unlock(&afc.lock);
		goto err_free;
	}
	mutex_unlock(&afc.lock);

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int afc_nl_cluster_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[AFCLUSTER_A_LOCAL_NODE];
	u32 local;

	if (GENL_REQ_ATTR_CHECK(info, AFCLUSTER_A_LOCAL_NODE)) {
		NL_SET_ERR_MSG(info->extack, "LOCAL_NODE is required");
		return -EINVAL;
	}
	local = nla_get_u32(attr);
	if (local > afc.max_nodes) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "local node is larger than max_nodes");
		return -ERANGE;
	}
	mutex_lock(&afc.lock);
	WRITE_ONCE(afc.local_node, local);
	mutex_unlock(&afc.lock);
	return 0;
}

static int afc_nl_node_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *id_attr = info->attrs[AFCLUSTER_A_NODE_ID];
	struct nlattr *addr_attr = info->attrs[AFCLUSTER_A_NODE_ADDR];
	struct afc_node *node;
	struct sk_buff *msg;
	u32 id = 0;
	void *hdr;
	int err;

	if (!id_attr == !addr_attr) {
		NL_SET_ERR_MSG(info->extack,
			       "give either a node id or one node address");
		return -EINVAL;
	}
	if (id_attr) {
		err = afc_check_id(info, &id);
		if (err)
			return err;
	}

	msg = genlmsg_new(afc_node_msg_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &afc_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}

	mutex_lock(&afc.lock);
	if (addr_attr) {
		struct afcluster_addr addr = { .len = nla_len(addr_attr) };

		memcpy(addr.addr, nla_data(addr_attr), addr.len);
		id = afc_addr_owner(&addr);
	}
	node = afc_node_locked(id);
	if (!node) {
		mutex_unlock(&afc.lock);
		if (addr_attr)
			NL_SET_ERR_MSG_ATTR(info->extack, addr_attr,
					    "no node has this address");
		else
			NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
					    "no such node");
		err = -ENOENT;
		goto err_free;
	}
	err = afc_put_node(msg, &node->info) ?: afc_put_seq(msg);
	mutex_unlock(&afc.lock);
	if (err)
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

/*
 * Dump requests are checked by the first dumpit call, not by .start:
 * 6.1 gives .start no extack to carry the message.
 */

/* Resumable: cb->args[0] is the next node id to look at. */
static int afc_nl_node_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	u32 id = cb->args[0] ?: 1;
	struct nlattr **tb, *attr;
	struct afc_node *node;
	void *hdr;

	if (!cb->args[0]) {
		/* NODE_GET's policy serves the do; a dump takes none. */
		tb = afc_dump_attrs(cb);
		attr = tb[AFCLUSTER_A_NODE_ID] ?: tb[AFCLUSTER_A_NODE_ADDR];
		if (attr) {
			NL_SET_ERR_MSG_ATTR(cb->extack, attr,
					    "a node dump takes no node id or address");
			return -EINVAL;
		}
	}

	mutex_lock(&afc.lock);
	cb->seq = afc.gen;
	for (; id <= afc.max_nodes; id++) {
		node = afc_node_locked(id);
		if (!node)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &afc_genl_family,
				  NLM_F_MULTI, AFCLUSTER_CMD_NODE_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (afc_put_node(skb, &node->info) || afc_put_seq(skb)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&afc.lock);
	cb->args[0] = id;
	return skb->len;
}

/* Fill @c from a NODE_NEW or NODE_SET request. */
static int afc_parse_change(struct genl_info *info, struct afc_change *c)
{
	struct nlattr **tb = info->attrs;
	struct afcluster_addr *addr;
	const struct nlattr *attr;
	unsigned int i;
	u32 owner;
	int rem;
	int err;

	err = afc_check_id(info, &c->id);
	if (err)
		return err;
	c->cause = AFCLUSTER_CAUSE_ADMIN;
	if (tb[AFCLUSTER_A_NODE_STATE]) {
		c->set_state = true;
		c->state = nla_get_u8(tb[AFCLUSTER_A_NODE_STATE]);
	}
	if (tb[AFCLUSTER_A_NODE_NAME]) {
		c->set_name = true;
		nla_strscpy(c->name, tb[AFCLUSTER_A_NODE_NAME], sizeof(c->name));
	}
	if (tb[AFCLUSTER_A_NODE_LEASE_MS]) {
		c->set_lease = true;
		c->lease_ms = nla_get_u32(tb[AFCLUSTER_A_NODE_LEASE_MS]);
	}

	/* NODE_ADDR repeats; info->attrs holds only the last one. */
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != AFCLUSTER_A_NODE_ADDR)
			continue;
		if (c->n_addrs == AFCLUSTER_NODE_ADDRS_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "too many addresses (at most 16 per node)");
			return -E2BIG;
		}
		addr = &c->addrs[c->n_addrs];
		memset(addr, 0, sizeof(*addr));
		addr->len = nla_len(attr);
		memcpy(addr->addr, nla_data(attr), addr->len);
		for (i = 0; i < c->n_addrs; i++) {
			if (!memcmp(&c->addrs[i], addr, sizeof(*addr))) {
				NL_SET_ERR_MSG_ATTR(info->extack, attr,
						    "address given twice");
				return -EINVAL;
			}
		}
		owner = afc_addr_owner(addr);
		if (owner && owner != c->id) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "address already belongs to another node");
			return -EADDRINUSE;
		}
		c->n_addrs++;
		c->set_addrs = true;
	}
	return 0;
}

/* NODE_NEW and NODE_SET: the same attributes, for a new or a known node. */
static int afc_nl_node_edit(struct sk_buff *skb, struct genl_info *info)
{
	bool new = info->genlhdr->cmd == AFCLUSTER_CMD_NODE_NEW;
	struct afc_change *c;
	int err;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	mutex_lock(&afc.lock);
	err = afc_parse_change(info, c);
	if (err)
		goto out;
	c->renew_lease = !new;
	err = new ? afc_node_add(c, info->extack) :
		    afc_node_change(c, info->extack);
	/* Point at what the table refused: the node, or the state. */
	if (err == -EEXIST || err == -ENOENT)
		NL_SET_BAD_ATTR(info->extack, info->attrs[AFCLUSTER_A_NODE_ID]);
	else if (err == -EINVAL)
		NL_SET_BAD_ATTR(info->extack,
				info->attrs[AFCLUSTER_A_NODE_STATE]);
out:
	mutex_unlock(&afc.lock);
	kfree(c);
	return err;
}

static int afc_nl_node_del(struct sk_buff *skb, struct genl_info *info)
{
	u32 id;
	int err;

	err = afc_check_id(info, &id);
	if (err)
		return err;
	mutex_lock(&afc.lock);
	err = afc_node_remove(id, AFCLUSTER_CAUSE_ADMIN, info->extack);
	mutex_unlock(&afc.lock);
	if (err == -ENOENT)
		NL_SET_BAD_ATTR(info->extack, info->attrs[AFCLUSTER_A_NODE_ID]);
	return err;
}

/* cb->ctx of an EVENT_GET dump. */
struct afc_event_dump {
	u64 next;		/* sequence number to send next */
};

static int afc_check_since(u64 since, struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&afc.lock);
	if (since > afc.seq) {
		NL_SET_ERR_MSG(extack,
			       "SINCE_SEQ is newer than the last event (was the module reloaded?)");
		return -ERANGE;
	}
	if (since < afc.seq && !afc_event_rec(since + 1)) {
		NL_SET_ERR_MSG(extack,
			       "the event history no longer reaches back to SINCE_SEQ");
		return -ERANGE;
	}
	return 0;
}

static int afc_nl_event_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct afc_event_dump *ctx = (void *)cb->ctx;
	const struct afc_event_rec *rec;
	struct nlattr *attr;
	void *hdr;
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));
	if (!ctx->next) {
		attr = afc_dump_attrs(cb)[AFCLUSTER_A_SINCE_SEQ];
		ctx->next = (attr ? nla_get_u64(attr) : 0) + 1;
		NL_SET_BAD_ATTR(cb->extack, attr);
	}

	mutex_lock(&afc.lock);
	/* Also later: events may push the rest out of the history. */
	err = afc_check_since(ctx->next - 1, cb->extack);
	if (err)
		goto out;
	NL_SET_BAD_ATTR(cb->extack, NULL);

	for (; ctx->next <= afc.seq; ctx->next++) {
		rec = afc_event_rec(ctx->next);
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &afc_genl_family,
				  NLM_F_MULTI, AFCLUSTER_CMD_NODE_EVENT);
		if (!hdr)
			break;
		if (skb_tailroom(skb) < rec->len) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		skb_put_data(skb, rec->data, rec->len);
		genlmsg_end(skb, hdr);
	}
	err = skb->len;
out:
	mutex_unlock(&afc.lock);
	return err;
}

static const struct genl_ops afc_genl_ops[] = {
	{
		.cmd = AFCLUSTER_CMD_CLUSTER_GET,
		.doit = afc_nl_cluster_get,
		.policy = afc_no_policy,
		.maxattr = AFCLUSTER_A_MAX,
	},
	{
		.cmd = AFCLUSTER_CMD_CLUSTER_SET,
		.doit = afc_nl_cluster_set,
		.policy = afc_cluster_set_policy,
		.maxattr = AFCLUSTER_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_GET,
		.doit = afc_nl_node_get,
		.dumpit = afc_nl_node_dump,
		.policy = afc_node_get_policy,
		.maxattr = AFCLUSTER_A_MAX,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_NEW,
		.doit = afc_nl_node_edit,
		.policy = afc_node_edit_policy,
		.maxattr = AFCLUSTER_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_SET,
		.doit = afc_nl_node_edit,
		.policy = afc_node_edit_policy,
		.maxattr = AFCLUSTER_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = AFCLUSTER_CMD_NODE_DEL,
		.doit = afc_nl_node_del,
		.policy = afc_node_del_policy,
		.maxattr = AFCLUSTER_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = AFCLUSTER_CMD_EVENT_GET,
		.dumpit = afc_nl_event_dump,
		.policy = afc_event_get_policy,
		.maxattr = AFCLUSTER_A_MAX,
	},
};

static const struct genl_multicast_group afc_genl_mcgrps[] = {
	[AFC_MCGRP_EVENTS] = { .name = AFCLUSTER_MCGRP_EVENTS },
};

struct genl_family afc_genl_family __ro_after_init = {
	.name = AFCLUSTER_GENL_NAME,
	.version = AFCLUSTER_GENL_VERSION,
	.netnsok = false,
	/* afc.lock serialises us; no need for the global genl mutex. */
	.parallel_ops = true,
	.ops = afc_genl_ops,
	.n_ops = ARRAY_SIZE(afc_genl_ops),
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
