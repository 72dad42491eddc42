// SPDX-License-Identifier: GPL-2.0
/*
 * afcluster: this kernel's table of cluster nodes, with every change
 * broadcast to userspace over generic netlink -- the AF_CLUSTER channel
 * proposed for keepalived and the CI/SSI cluster in 2002.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include "afcluster.h"

struct afc_state afc = {
	.lock = __MUTEX_INITIALIZER(afc.lock),
	.gen = 1,
};

static unsigned int max_nodes = 256;
module_param(max_nodes, uint, 0444);
MODULE_PARM_DESC(max_nodes, "Largest node id (1..65535, default 256)");

static unsigned int history = 4096;
module_param(history, uint, 0444);
MODULE_PARM_DESC(history,
		 "Events kept for replay by EVENT_GET (1..1048576, default 4096)");

static unsigned int local_node;
module_param(local_node, uint, 0444);
MODULE_PARM_DESC(local_node,
		 "This machine's node id at load, 0 for none (CLUSTER_SET changes it)");

#define AFC_HISTORY_MAX BIT(20)

static int __init afc_init(void)
{
	int err;

	if (max_nodes < 1 || max_nodes > AFCLUSTER_NODE_ID_MAX) {
		pr_err("max_nodes=%u is not in 1..%u\n", max_nodes,
		       AFCLUSTER_NODE_ID_MAX);
		return -EINVAL;
	}
	if (history < 1 || history > AFC_HISTORY_MAX) {
		pr_err("history=%u is not in 1..%lu\n", history, AFC_HISTORY_MAX);
		return -EINVAL;
	}
	if (local_node > max_nodes) {
		pr_err("local_node=%u is larger than max_nodes=%u\n",
		       local_node, max_nodes);
		return -EINVAL;
	}
	afc.local_node = local_node;

	err = afc_table_init(max_nodes);
	if (err)
		return err;
	err = afc_events_init(history);
	if (err)
		goto err_table;
	afc_lease_init();
	/* Last: from here on requests arrive. */
	err = afc_netlink_init();
	if (err)
		goto err_events;
	pr_info("loaded: max_nodes=%u history=%u local_node=%u\n", max_nodes,
		history, local_node);
	return 0;

err_events:
	afc_events_exit();
err_table:
	afc_table_exit();
	return err;
}

static void __exit afc_exit(void)
{
	/* API users are gone (they hold module references). */
	afc_lease_exit();
	/* Waits for requests in flight; none starts after it. */
	afc_netlink_exit();
	afc_events_exit();
	afc_table_exit();
	pr_info("unloaded\n");
}

module_init(afc_init);
module_exit(afc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Cluster node table with generic-netlink events (AF_CLUSTER)");
MODULE_AUTHOR("The afcluster developers");
MODULE_ALIAS_GENL_FAMILY(AFCLUSTER_GENL_NAME);
