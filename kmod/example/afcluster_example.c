// SPDX-License-Identifier: GPL-2.0
/*
 * afcluster_example: how another module uses the afcluster API.
 *
 * It logs every event it receives on the notifier chain, and offers three
 * write-only parameters that drive the API from a shell:
 *   echo 3:down > /sys/module/afcluster_example/parameters/set_state
 *   echo 10.0.0.7 > /sys/module/afcluster_example/parameters/lookup
 *   echo 3 > /sys/module/afcluster_example/parameters/show
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <afcluster/kapi.h>

static const char * const state_names[] = {
	[AFCLUSTER_NODE_NEVERUP] = "neverup",
	[AFCLUSTER_NODE_COMINGUP] = "comingup",
	[AFCLUSTER_NODE_UP] = "up",
	[AFCLUSTER_NODE_SHUTDOWN] = "shutdown",
	[AFCLUSTER_NODE_GOINGDOWN] = "goingdown",
	[AFCLUSTER_NODE_KCLEANUP] = "kcleanup",
	[AFCLUSTER_NODE_UCLEANUP] = "ucleanup",
	[AFCLUSTER_NODE_DOWN] = "down",
};

static const char * const event_names[] = {
	[AFCLUSTER_EVENT_ADDED] = "added",
	[AFCLUSTER_EVENT_STATE] = "state",
	[AFCLUSTER_EVENT_CHANGED] = "changed",
	[AFCLUSTER_EVENT_REMOVED] = "removed",
};

static const char * const cause_names[] = {
	[AFCLUSTER_CAUSE_ADMIN] = "admin",
	[AFCLUSTER_CAUSE_KERNEL] = "kernel",
	[AFCLUSTER_CAUSE_LEASE] = "lease",
};

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

	if (action >= ARRAY_SIZE(event_names))
		return NOTIFY_DONE;
	if (action == AFCLUSTER_EVENT_STATE)
		pr_info("event seq=%llu node=%u %s %s->%s cause=%s\n", ev->seq,
			ev->node->id, event_names[action],
			state_name(ev->old_state), state_name(ev->node->state),
			cause_name(ev->cause));
	else
		pr_info("event seq=%llu node=%u %s state=%s addrs=%u cause=%s\n",
			ev->seq, ev->node->id, event_names[action],
			state_name(ev->node->state), ev->node->n_addrs,
			cause_name(ev->cause));
	return NOTIFY_OK;
}

static struct notifier_block example_nb = {
	.notifier_call = example_event,
};

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
	err = afcluster_set_node_state(id, state);
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
		afcluster_node_by_addr(addr, alen));
	return 0;
}

static int show_store(const char *val, const struct kernel_param *kp)
{
	struct afcluster_node_info *ni;
	unsigned int id;
	int err;

	if (kstrtouint(val, 10, &id))
		return -EINVAL;
	ni = kmalloc(sizeof(*ni), GFP_KERNEL);
	if (!ni)
		return -ENOMEM;
	err = afcluster_get_node(id, ni);
	if (err)
		pr_info("show node=%u: %d\n", id, err);
	else
		pr_info("show node=%u name=%s state=%s addrs=%u lease_ms=%u max_nodes=%u local=%u\n",
			ni->id, ni->name, state_name(ni->state), ni->n_addrs,
			ni->lease_ms, afcluster_max_nodes(),
			afcluster_local_node());
	kfree(ni);
	return err;
}

static const struct kernel_param_ops set_state_ops = { .set = set_state_store };
static const struct kernel_param_ops lookup_ops = { .set = lookup_store };
static const struct kernel_param_ops show_ops = { .set = show_store };

module_param_cb(set_state, &set_state_ops, NULL, 0200);
MODULE_PARM_DESC(set_state, "ID:STATE sets a node's state (cause KERNEL)");
module_param_cb(lookup, &lookup_ops, NULL, 0200);
MODULE_PARM_DESC(lookup, "ADDRESS logs the node owning it");
module_param_cb(show, &show_ops, NULL, 0200);
MODULE_PARM_DESC(show, "ID logs the node's description");

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
