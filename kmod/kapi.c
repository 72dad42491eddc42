// SPDX-License-Identifier: GPL-2.0
/* The in-kernel API of include/afcluster/kapi.h. */
#include <linux/module.h>
#include "afcluster.h"

int afcluster_set_node_state(u32 id, enum afcluster_node_state state)
{
	struct afc_change c = {
		.id = id,
		.cause = AFCLUSTER_CAUSE_KERNEL,
		.set_state = true,
		.state = state,
	};
	int err;

	might_sleep();
	if (id < 1 || id > afc.max_nodes || state > AFCLUSTER_NODE_STATE_MAX)
		return -EINVAL;
	mutex_lock(&afc.lock);
	err = afc_node_change(&c, NULL);
	mutex_unlock(&afc.lock);
	return err;
}
EXPORT_SYMBOL_GPL(afcluster_set_node_state);

int afcluster_get_node(u32 id, struct afcluster_node_info *info)
{
	struct afc_node *node;
	int err = -ENOENT;

	if (id < 1 || id > afc.max_nodes)
		return -ENOENT;
	rcu_read_lock();
	node = rcu_dereference(afc.slots[id].node);
	if (node) {
		*info = node->info;
		err = 0;
	}
	rcu_read_unlock();
	return err;
}
EXPORT_SYMBOL_GPL(afcluster_get_node);

u32 afcluster_node_by_addr(const void *addr, unsigned int len)
{
	struct afcluster_addr key = { .len = len };

	if (len != 4 && len != 16)
		return 0;
	memcpy(key.addr, addr, len);
	return afc_addr_owner(&key);
}
EXPORT_SYMBOL_GPL(afcluster_node_by_addr);

u32 afcluster_max_nodes(void)
{
	return afc.max_nodes;
}
EXPORT_SYMBOL_GPL(afcluster_max_nodes);

u32 afcluster_local_node(void)
{
	return READ_ONCE(afc.local_node);
}
EXPORT_SYMBOL_GPL(afcluster_local_node);

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
