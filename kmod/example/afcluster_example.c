// SPDX-License-Identifier: GPL-2.0
/*
 * afcluster_example: how another module uses the afcluster API.
 *
 * Its notifier logs every event of every namespace's table. Write-only
 * parameters drive the API from a shell, on the table of the writer's
 * network namespace:
 *   echo 3:down > /sys/module/afcluster_example/parameters/set_state
 *   echo 10.0.0.7 > /sys/module/afcluster_example/parameters/lookup
 *   echo 3 > /sys/module/afcluster_example/parameters/show
 * and two show what a notifier may do:
 *   echo 1:2 > /sys/module/afcluster_example/parameters/follow
 *	from its callback, give node 2 every new state of node 1 (a callback
 *	calling back into the API); "0:0" stops it
 *   echo 500 > /sys/module/afcluster_example/parameters/slow_ms
 *	sleep that long in every callback (requests do not wait for it)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <afcluster/kapi.h>

static const char * const state_names[] = {
	[AFCLUSTER_NODE_STATE_NEVERUP] = "neverup",
	[AFCLUSTER_NODE_STATE_COMINGUP] = "comingup",
	[AFCLUSTER_NODE_STATE_UP] = "up",
	[AFCLUSTER_NODE_STATE_SHUTDOWN] = "shutdown",
	[AFCLUSTER_NODE_STATE_GOINGDOWN] = "goingdown",
	[AFCLUSTER_NODE_STATE_KCLEANUP] = "kcleanup",
	[AFCLUSTER_NODE_STATE_UCLEANUP] = "ucleanup",
	[AFCLUSTER_NODE_STATE_DOWN] = "down",
};

static const char * const kind_names[] = {
	[AFCLUSTER_EVENT_KIND_ADDED] = "added",
	[AFCLUSTER_EVENT_KIND_STATE] = "state",
	[AFCLUSTER_EVENT_KIND_CHANGED] = "changed",
	[AFCLUSTER_EVENT_KIND_REMOVED] = "removed",
	[AFCLUSTER_EVENT_KIND_LOCAL_NODE] = "local-node",
};

static const char * const cause_names[] = {
	[AFCLUSTER_CAUSE_ADMIN] = "admin",
	[AFCLUSTER_CAUSE_KERNEL] = "kernel",
	[AFCLUSTER_CAUSE_LEASE] = "lease",
};

/* follow: node follow_to takes every new state of node follow_from. */
static u32 follow_from, follow_to;
static unsigned int slow_ms;

static const char *cause_name(unsigned int cause)
{
	return cause < ARRAY_SIZE(cause_names) ? cause_names[cause] : "?";
}

static const char *state_name(unsigned int state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : "?";
}

static int example_event(struct notifier_block *nb, unsigned long action,
			 void *data)
{
	const struct afcluster_event_info *ev = data;
	unsigned int inum = ev->net->ns.inum;
	u32 from = READ_ONCE(follow_from), to = READ_ONCE(follow_to);
	unsigned int ms = READ_ONCE(slow_ms);
	int err;

	if (action >= ARRAY_SIZE(kind_names))
		return NOTIFY_DONE;
	if (action == AFCLUSTER_EVENT_KIND_LOCAL_NODE)
		pr_info("event net=%u seq=%llu local_node=%u cause=%s\n", inum,
			ev->seq, ev->local_node, cause_name(ev->cause));
	else if (action == AFCLUSTER_EVENT_KIND_STATE)
		pr_info("event net=%u seq=%llu node=%u %s %s->%s cause=%s\n",
			inum, ev->seq, ev->node->id, kind_names[action],
			state_name(ev->old_state), state_name(ev->node->state),
			cause_name(ev->cause));
	else
		pr_info("event net=%u seq=%llu node=%u %s state=%s addrs=%u cause=%s\n",
			inum, ev->seq, ev->node->id, kind_names[action],
			state_name(ev->node->state), ev->node->n_addrs,
			cause_name(ev->cause));

	if (ms)
		msleep(ms);
	if (from && action == AFCLUSTER_EVENT_KIND_STATE &&
	    ev->node->id == from) {
		err = afcluster_set_node_state(ev->net, to, ev->node->state);
		pr_info("follow node=%u %s: %d\n", to,
			state_name(ev->node->state), err);
	}
	return NOTIFY_OK;
}

static struct notifier_block example_nb = {
	.notifier_call = example_event,
};

/* The table of the task writing a parameter. */
static struct net *writer_net(void)
{
	return current->nsproxy->net_ns;
}

/* "ID:STATE", STATE by name. */
static int set_state_store(const char *val, const struct kernel_param *kp)
{
	char buf[32], *colon;
	unsigned int id;
	int state, err;

	strscpy(buf, val, sizeof(buf));
	strim(buf);
	colon = strchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (kstrtouint(buf, 10, &id))
		return -EINVAL;
	state = match_string(state_names, ARRAY_SIZE(state_names), colon + 1);
	if (state < 0)
		return state;
	err = afcluster_set_node_state(writer_net(), id, state);
	pr_info("set_state node=%u %s: %d\n", id, state_names[state], err);
	return err;
}

static int lookup_store(const char *val, const struct kernel_param *kp)
{
	u8 addr[16];
	size_t len = strcspn(val, "\n");
	unsigned int alen;

	if (in4_pton(val, len, addr, -1, NULL))
		alen = 4;
	else if (in6_pton(val, len, addr, -1, NULL))
		alen = 16;
	else
		return -EINVAL;
	pr_info("lookup %.*s: node=%u\n", (int)len, val,
		afcluster_node_by_addr(writer_net(), addr, alen));
	return 0;
}

static int show_store(const char *val, const struct kernel_param *kp)
{
	struct net *net = writer_net();
	struct afcluster_node_info *ni;
	unsigned int id;
	int err;

	if (kstrtouint(val, 10, &id))
		return -EINVAL;
	ni = kmalloc(sizeof(*ni), GFP_KERNEL);
	if (!ni)
		return -ENOMEM;
	err = afcluster_get_node(net, id, ni);
	if (err)
		pr_info("show node=%u: %d\n", id, err);
	else
		pr_info("show node=%u name=%s state=%s addrs=%u lease_ms=%u seq=%llu instance=%llu max_nodes=%u local=%u\n",
			ni->id, ni->name, state_name(ni->state), ni->n_addrs,
			ni->lease_ms, ni->seq, ni->instance,
			afcluster_max_nodes(net), afcluster_local_node(net));
	kfree(ni);
	return err;
}

/* "FROM:TO" node ids; "0:0" stops following. */
static int follow_store(const char *val, const struct kernel_param *kp)
{
	unsigned int from, to;

	if (sscanf(val, "%u:%u", &from, &to) != 2 || !from != !to)
		return -EINVAL;
	WRITE_ONCE(follow_to, to);
	WRITE_ONCE(follow_from, from);
	return 0;
}

static const struct kernel_param_ops set_state_ops = { .set = set_state_store };
static const struct kernel_param_ops lookup_ops = { .set = lookup_store };
static const struct kernel_param_ops show_ops = { .set = show_store };
static const struct kernel_param_ops follow_ops = { .set = follow_store };

module_param_cb(set_state, &set_state_ops, NULL, 0200);
MODULE_PARM_DESC(set_state, "ID:STATE sets a node's state (cause KERNEL)");
module_param_cb(lookup, &lookup_ops, NULL, 0200);
MODULE_PARM_DESC(lookup, "ADDRESS logs the node owning it");
module_param_cb(show, &show_ops, NULL, 0200);
MODULE_PARM_DESC(show, "ID logs the node's description");
module_param_cb(follow, &follow_ops, NULL, 0200);
MODULE_PARM_DESC(follow, "FROM:TO gives node TO every new state of node FROM, from the notifier");
module_param(slow_ms, uint, 0600);
MODULE_PARM_DESC(slow_ms, "Sleep this many ms in every notifier callback");

static int __init example_init(void)
{
	return afcluster_register_notifier(&example_nb);
}

static void __exit example_exit(void)
{
	afcluster_unregister_notifier(&example_nb);
}

module_init(example_init);
module_exit(example_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Example user of the afcluster in-kernel API");
