// SPDX-License-Identifier: GPL-2.0
/* The in-kernel API of include/afcluster/kapi.h. */
#include <linux/module.h>
#include <linux/slab.h>
#include "afcluster.h"

int afcluster_set_node_state(struct net *net, u32 id,
			     enum afcluster_node_state state)
{
	struct afc_table *t = afc_table_of(net);
	struct afc_change c = {
		.id = id,
		.cause = AFCLUSTER_CAUSE_KERNEL,
		.set_state = true,
		.state = state,
	};
	struct afcluster_node_info *ni;
	struct mem_cgroup *old;
	int err;

	might_sleep();
	if (id < 1 || id > t->max_nodes || state > AFCLUSTER_NODE_STATE_DOWN)
		return -EINVAL;
	ni = kmalloc(sizeof(*ni), GFP_KERNEL);
	if (!ni)
		return -ENOMEM;
	old = afc_writer_lock(t);
	err = afc_node_change(t, &c, ni, NULL);
	afc_writer_unlock(t, old);
	kfree(ni);
	return err;
}
EXPORT_SYMBOL_GPL(afcluster_set_node_state);

int afcluster_get_node(struct net *net, u32 id,
		       struct afcluster_node_info *info)
{
	return afc_node_read(afc_table_of(net), id, NULL, info);
}
EXPORT_SYMBOL_GPL(afcluster_get_node);

u32 afcluster_node_by_addr(struct net *net, const void *addr,
			   unsigned int len)
{
	struct afc_table *t = afc_table_of(net);
	struct afcluster_addr key = { .len = len };
	struct afc_node *n;
	u32 id = 0;

	if (len != 4 && len != 16)
		return 0;
	memcpy(key.addr, addr, len);
	/* The id alone needs no copy of the node, nor the seqcount. */
	rcu_read_lock();
	n = afc_node_rcu(t, 0, &key);
	if (n)
		id = n->info.id;
	rcu_read_unlock();
	return id;
}
EXPORT_SYMBOL_GPL(afcluster_node_by_addr);

u32 afcluster_max_nodes(struct net *net)
{
	return afc_table_of(net)->max_nodes;
}
EXPORT_SYMBOL_GPL(afcluster_max_nodes);

u32 afcluster_local_node(struct net *net)
{
	return READ_ONCE(afc_table_of(net)->local_node);
}
EXPORT_SYMBOL_GPL(afcluster_local_node);

u64 afcluster_instance(struct net *net)
{
	return afc_table_of(net)->instance;
}
EXPORT_SYMBOL_GPL(afcluster_instance);

int afcluster_register_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&afc_notifier, nb);
}
EXPORT_SYMBOL_GPL(afcluster_register_notifier);

int afcluster_unregister_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_unregister(&afc_notifier, nb);
}
EXPORT_SYMBOL_GPL(afcluster_unregister_notifier);
