// SPDX-License-Identifier: GPL-2.0
/*
 * afcluster: each network namespace's table of cluster nodes, with every
 * change broadcast to userspace over generic netlink -- the AF_CLUSTER
 * channel proposed for keepalived and the CI/SSI cluster in 2002.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include "afcluster.h"

static unsigned int max_nodes = 256;
module_param(max_nodes, uint, 0444);
MODULE_PARM_DESC(max_nodes, "Largest node id of each table (1..65535, default 256)");

static unsigned int history = 4096;
module_param(history, uint, 0444);
MODULE_PARM_DESC(history,
		 "Events each table keeps for replay by EVENT_GET (1..1048576, default 4096)");

static unsigned int history_kb = 4096;
module_param(history_kb, uint, 0444);
MODULE_PARM_DESC(history_kb,
		 "Bytes (KiB) of events each table keeps for replay (1..1048576, default 4096)");

static unsigned int local_node;
module_param(local_node, uint, 0444);
MODULE_PARM_DESC(local_node,
		 "The initial namespace's local node id at load, 0 for none (CLUSTER_SET changes it)");

#define AFC_HISTORY_MAX BIT(20)
#define AFC_HISTORY_KB_MAX BIT(20)

static unsigned int afc_net_id __read_mostly;

/* Every live table, so that unloading can stop their leases first. */
static LIST_HEAD(afc_tables);
static DEFINE_MUTEX(afc_tables_lock);

struct afc_table *afc_table_of(const struct net *net)
{
	return net_generic(net, afc_net_id);
}

static int __net_init afc_net_init(struct net *net)
{
	struct afc_table *t = afc_table_of(net);
	struct mem_cgroup *old;
	int err;

	t->net = net;
	mutex_init(&t->lock);
	seqcount_mutex_init(&t->seqc, &t->lock);
	do {
		t->instance = get_random_u64();
	} while (!t->instance);
	t->gen = 1;
	if (net_eq(net, &init_net))
		t->local_node = local_node;
	t->memcg = get_mem_cgroup_from_mm(current->mm);
	afc_lease_init(t);
	afc_notify_init(t);

	old = afc_memcg_enter(t);
	err = afc_table_init(t, max_nodes);
	if (!err) {
		err = afc_history_init(&t->hist, history,
				       (size_t)history_kb * 1024);
		if (err)
			afc_table_exit(t);
	}
	afc_memcg_leave(old);
	if (err) {
		mem_cgroup_put(t->memcg);
		return err;
	}

	mutex_lock(&afc_tables_lock);
	list_add(&t->list, &afc_tables);
	mutex_unlock(&afc_tables_lock);
	return 0;
}

/*
 * The namespace is gone: no socket of it remains, so no request; its leases
 * stop, then what the notifiers have not seen yet is delivered (callbacks
 * calling back into this table are refused from here on), then it is freed.
 */
static void __net_exit afc_net_exit(struct net *net)
{
	struct afc_table *t = afc_table_of(net);

	mutex_lock(&afc_tables_lock);
	list_del(&t->list);
	mutex_unlock(&afc_tables_lock);

	afc_lease_stop(t);
	mutex_lock(&t->lock);
	t->dead = true;
	mutex_unlock(&t->lock);
	afc_notify_exit(t);
	afc_history_exit(&t->hist);
	afc_table_exit(t);
	mem_cgroup_put(t->memcg);
}

static struct pernet_operations afc_net_ops = {
	.init = afc_net_init,
	.exit = afc_net_exit,
	.id = &afc_net_id,
	.size = sizeof(struct afc_table),
};

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
	if (history_kb < 1 || history_kb > AFC_HISTORY_KB_MAX) {
		pr_err("history_kb=%u is not in 1..%lu\n", history_kb,
		       AFC_HISTORY_KB_MAX);
		return -EINVAL;
	}
	if (local_node > max_nodes) {
		pr_err("local_node=%u is larger than max_nodes=%u\n",
		       local_node, max_nodes);
		return -EINVAL;
	}

	err = afc_caches_init();
	if (err)
		return err;
	err = register_pernet_subsys(&afc_net_ops);
	if (err)
		goto err_caches;
	/* Last: from here on requests arrive. */
	err = afc_netlink_init();
	if (err)
		goto err_pernet;
	pr_info("loaded: max_nodes=%u history=%u history_kb=%u local_node=%u\n",
		max_nodes, history, history_kb, local_node);
	return 0;

err_pernet:
	unregister_pernet_subsys(&afc_net_ops);
err_caches:
	afc_caches_exit();
	return err;
}

static void __exit afc_exit(void)
{
	struct afc_table *t;

	/*
	 * API users are gone (they hold module references). Stop every lease
	 * first, so that nothing is broadcast on an unregistered family.
	 */
	mutex_lock(&afc_tables_lock);
	list_for_each_entry(t, &afc_tables, list)
		afc_lease_stop(t);
	mutex_unlock(&afc_tables_lock);
	/* Waits for requests in flight; none starts after it. */
	afc_netlink_exit();
	unregister_pernet_subsys(&afc_net_ops);
	afc_caches_exit();
	pr_info("unloaded\n");
}

module_init(afc_init);
module_exit(afc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Cluster node tables with generic-netlink events (AF_CLUSTER)");
MODULE_AUTHOR("The afcluster developers");
MODULE_ALIAS_GENL_FAMILY(AFCLUSTER_FAMILY_NAME);
