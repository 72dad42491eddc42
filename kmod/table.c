// SPDX-License-Identifier: GPL-2.0
/*
 * The node table: an array of RCU-published nodes indexed by node id, and
 * a hash of every node address to its node id (the seed's
 * cluster_node_num(addr)). Changes run under afc.lock; each one is prepared
 * completely (new copies, address entries, the event) before anything is
 * published, so a failure leaves the table and the sequence untouched.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/string.h>
#include "afcluster.h"

struct afc_addr_ent {
	struct rhash_head hnode;
	struct afcluster_addr key;	/* unused address bytes are zero */
	u32 id;
	struct rcu_head rcu;
};

static const struct rhashtable_params afc_addr_params = {
	.head_offset = offsetof(struct afc_addr_ent, hnode),
	.key_offset = offsetof(struct afc_addr_ent, key),
	.key_len = sizeof(struct afcluster_addr),
	.automatic_shrinking = true,
};

static struct kmem_cache *afc_node_cache;
static struct kmem_cache *afc_addr_cache;

static void afc_node_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(afc_node_cache, container_of(head, struct afc_node, rcu));
}

static void afc_addr_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(afc_addr_cache,
			container_of(head, struct afc_addr_ent, rcu));
}

struct afc_node *afc_node_locked(u32 id)
{
	if (id < 1 || id > afc.max_nodes)
		return NULL;
	return rcu_dereference_protected(afc.slots[id].node,
					 lockdep_is_held(&afc.lock));
}

bool afc_addr_valid(const struct afcluster_addr *addr)
{
	return (addr->len == 4 || addr->len == 16) &&
	       memchr_inv(addr->addr, 0, addr->len);
}

u32 afc_addr_owner(const struct afcluster_addr *addr)
{
	struct afc_addr_ent *ent;
	u32 id = 0;

	rcu_read_lock();
	ent = rhashtable_lookup(&afc.addrs, addr, afc_addr_params);
	if (ent)
		id = ent->id;
	rcu_read_unlock();
	return id;
}

static bool afc_info_has_addr(const struct afcluster_node_info *ni,
			      const struct afcluster_addr *addr)
{
	unsigned int i;

	for (i = 0; i < ni->n_addrs; i++)
		if (!memcmp(&ni->addrs[i], addr, sizeof(*addr)))
			return true;
	return false;
}

static void afc_addr_unlink(const struct afcluster_addr *addr)
{
	struct afc_addr_ent *ent;

	ent = rhashtable_lookup_fast(&afc.addrs, addr, afc_addr_params);
	if (WARN_ON_ONCE(!ent))
		return;
	rhashtable_remove_fast(&afc.addrs, &ent->hnode, afc_addr_params);
	call_rcu(&ent->rcu, afc_addr_free_rcu);
}

/* Remove the entries of @from's addresses that @keep (may be NULL) lacks. */
static void afc_addrs_unlink(const struct afcluster_node_info *from,
			     const struct afcluster_node_info *keep)
{
	unsigned int i;

	for (i = 0; i < from->n_addrs; i++)
		if (!keep || !afc_info_has_addr(keep, &from->addrs[i]))
			afc_addr_unlink(&from->addrs[i]);
}

/*
 * Enter the addresses of @new that @old (may be NULL) lacks. On failure
 * nothing stays entered. -EADDRINUSE if one belongs to another node.
 */
static int afc_addrs_link(const struct afcluster_node_info *old,
			  const struct afcluster_node_info *new,
			  struct netlink_ext_ack *extack)
{
	struct afc_addr_ent *ent;
	unsigned int i;
	int err;

	for (i = 0; i < new->n_addrs; i++) {
		if (old && afc_info_has_addr(old, &new->addrs[i]))
			continue;
		ent = kmem_cache_zalloc(afc_addr_cache, GFP_KERNEL);
		if (!ent) {
			err = -ENOMEM;
			goto undo;
		}
		ent->key = new->addrs[i];
		ent->id = new->id;
		err = rhashtable_lookup_insert_fast(&afc.addrs, &ent->hnode,
						    afc_addr_params);
		if (err) {
			kmem_cache_free(afc_addr_cache, ent);
			if (err == -EEXIST) {
				NL_SET_ERR_MSG(extack,
					       "address already belongs to another node");
				err = -EADDRINUSE;
			}
			goto undo;
		}
	}
	return 0;

undo:
	while (i--)
		if (!old || !afc_info_has_addr(old, &new->addrs[i]))
			afc_addr_unlink(&new->addrs[i]);
	return err;
}

static struct afc_node *afc_node_copy(const struct afcluster_node_info *ni)
{
	struct afc_node *n = kmem_cache_zalloc(afc_node_cache, GFP_KERNEL);

	if (n)
		n->info = *ni;
	return n;
}

static void afc_count(const struct afcluster_node_info *ni, int delta)
{
	afc.node_count += delta;
	if (ni->state == AFCLUSTER_NODE_UP)
		afc.up_count += delta;
}

/* Replace node @id by @n and broadcast @p; the old copy is freed by RCU. */
static void afc_publish(u32 id, struct afc_node *n, struct afc_pending *p)
{
	struct afc_node *old = afc_node_locked(id);

	if (old)
		afc_count(&old->info, -1);
	afc_count(&n->info, 1);
	rcu_assign_pointer(afc.slots[id].node, n);
	afc_event_commit(p, &n->info);
	if (old)
		call_rcu(&old->rcu, afc_node_free_rcu);
}

int afc_node_add(const struct afc_change *c, struct netlink_ext_ack *extack)
{
	struct afcluster_node_info ni = {
		.id = c->id,
		.state = c->set_state ? c->state : AFCLUSTER_NODE_NEVERUP,
		.lease_ms = c->set_lease ? c->lease_ms : 0,
	};
	struct afc_pending *p;
	struct afc_node *n;
	int err;

	lockdep_assert_held(&afc.lock);
	if (afc_node_locked(c->id)) {
		NL_SET_ERR_MSG(extack, "node already exists");
		return -EEXIST;
	}
	if (c->set_name)
		strscpy(ni.name, c->name, sizeof(ni.name));
	if (c->set_addrs) {
		ni.n_addrs = c->n_addrs;
		memcpy(ni.addrs, c->addrs, c->n_addrs * sizeof(c->addrs[0]));
	}

	n = afc_node_copy(&ni);
	p = afc_event_prepare(&ni, AFCLUSTER_EVENT_ADDED, c->cause, 0,
			      afc.seq + 1);
	if (!n || !p) {
		err = -ENOMEM;
		goto err;
	}
	err = afc_addrs_link(NULL, &ni, extack);
	if (err)
		goto err;

	afc_publish(c->id, n, p);
	afc_lease_renew(c->id, ni.lease_ms);
	return 0;

err:
	afc_event_abort(p);
	if (n)
		kmem_cache_free(afc_node_cache, n);
	return err;
}

static bool afc_attrs_differ(const struct afcluster_node_info *a,
			     const struct afcluster_node_info *b)
{
	return strcmp(a->name, b->name) || a->lease_ms != b->lease_ms ||
	       a->n_addrs != b->n_addrs ||
	       memcmp(a->addrs, b->addrs, a->n_addrs * sizeof(a->addrs[0]));
}

/*
 * Apply @c. A change of name, addresses or lease is one CHANGED event, a
 * change of state one STATE event; a request doing both yields CHANGED
 * then STATE. No change, no event; a NODE_SET still renews the lease.
 */
int afc_node_change(const struct afc_change *c, struct netlink_ext_ack *extack)
{
	struct afc_pending *p_attrs = NULL, *p_state = NULL;
	struct afc_node *n_attrs = NULL, *n_state = NULL;
	struct afcluster_node_info ni;
	struct afc_node *old;
	bool attrs, state;
	u64 seq;
	int err = -ENOMEM;

	lockdep_assert_held(&afc.lock);
	old = afc_node_locked(c->id);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no such node");
		return -ENOENT;
	}

	ni = old->info;
	if (c->set_name)
		strscpy(ni.name, c->name, sizeof(ni.name));
	if (c->set_addrs) {
		ni.n_addrs = c->n_addrs;
		memcpy(ni.addrs, c->addrs, c->n_addrs * sizeof(c->addrs[0]));
	}
	if (c->set_lease)
		ni.lease_ms = c->lease_ms;
	attrs = afc_attrs_differ(&ni, &old->info);
	state = c->set_state && c->state != old->info.state;
	if (state && c->state == AFCLUSTER_NODE_NEVERUP) {
		NL_SET_ERR_MSG(extack, "NEVERUP is only an initial state");
		return -EINVAL;
	}

	seq = afc.seq;
	if (attrs) {
		n_attrs = afc_node_copy(&ni);
		p_attrs = afc_event_prepare(&ni, AFCLUSTER_EVENT_CHANGED,
					    c->cause, 0, ++seq);
		if (!n_attrs || !p_attrs)
			goto err;
	}
	if (state) {
		ni.state = c->state;
		n_state = afc_node_copy(&ni);
		p_state = afc_event_prepare(&ni, AFCLUSTER_EVENT_STATE,
					    c->cause, old->info.state, ++seq);
		if (!n_state || !p_state)
			goto err;
	}
	if (attrs) {
		err = afc_addrs_link(&old->info, &ni, extack);
		if (err)
			goto err;
	}

	if (attrs) {
		afc_addrs_unlink(&old->info, &ni);
		afc_publish(c->id, n_attrs, p_attrs);
	}
	if (state)
		afc_publish(c->id, n_state, p_state);
	if (c->renew_lease || c->set_lease)
		afc_lease_renew(c->id, ni.lease_ms);
	return 0;

err:
	afc_event_abort(p_attrs);
	afc_event_abort(p_state);
	if (n_attrs)
		kmem_cache_free(afc_node_cache, n_attrs);
	if (n_state)
		kmem_cache_free(afc_node_cache, n_state);
	return err;
}

int afc_node_remove(u32 id, enum afcluster_cause cause,
		    struct netlink_ext_ack *extack)
{
	struct afc_pending *p;
	struct afc_node *old;

	lockdep_assert_held(&afc.lock);
	old = afc_node_locked(id);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no such node");
		return -ENOENT;
	}
	p = afc_event_prepare(&old->info, AFCLUSTER_EVENT_REMOVED, cause, 0,
			      afc.seq + 1);
	if (!p)
		return -ENOMEM;

	afc_lease_renew(id, 0);
	afc_addrs_unlink(&old->info, NULL);
	afc_count(&old->info, -1);
	RCU_INIT_POINTER(afc.slots[id].node, NULL);
	afc_event_commit(p, &old->info);
	call_rcu(&old->rcu, afc_node_free_rcu);
	return 0;
}

int afc_table_init(u32 max_nodes)
{
	int err;

	afc.max_nodes = max_nodes;
	afc.slots = kvcalloc(max_nodes + 1, sizeof(*afc.slots), GFP_KERNEL);
	if (!afc.slots)
		return -ENOMEM;
	err = -ENOMEM;
	afc_node_cache = KMEM_CACHE(afc_node, 0);
	if (!afc_node_cache)
		goto err_slots;
	afc_addr_cache = KMEM_CACHE(afc_addr_ent, 0);
	if (!afc_addr_cache)
		goto err_node_cache;
	err = rhashtable_init(&afc.addrs, &afc_addr_params);
	if (err)
		goto err_addr_cache;
	return 0;

err_addr_cache:
	kmem_cache_destroy(afc_addr_cache);
err_node_cache:
	kmem_cache_destroy(afc_node_cache);
err_slots:
	kvfree(afc.slots);
	return err;
}

static void afc_addr_free(void *ptr, void *arg)
{
	kmem_cache_free(afc_addr_cache, ptr);
}

/* Nobody can reach the table any more: netlink and API users are gone. */
void afc_table_exit(void)
{
	struct afc_node *n;
	u32 id;

	for (id = 1; id <= afc.max_nodes; id++) {
		n = rcu_dereference_protected(afc.slots[id].node, true);
		if (n)
			kmem_cache_free(afc_node_cache, n);
	}
	rhashtable_free_and_destroy(&afc.addrs, afc_addr_free, NULL);
	kvfree(afc.slots);
	/* Wait for the frees queued by call_rcu(): they use the caches. */
	rcu_barrier();
	kmem_cache_destroy(afc_addr_cache);
	kmem_cache_destroy(afc_node_cache);
}
