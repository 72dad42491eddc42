// SPDX-License-Identifier: GPL-2.0
/*
 * A node table: an array of RCU-published nodes indexed by node id, and a
 * hash of every node address to its node id (the seed's
 * cluster_node_num(addr)). Changes run under the table's lock; each one is
 * prepared completely (new copies, address entries, the event) before
 * anything is published, so a failure leaves the table and the sequence
 * untouched. Readers take no lock (see afcluster.h).
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

struct afc_node *afc_node_locked(struct afc_table *t, u32 id)
{
	if (id < 1 || id > t->max_nodes)
		return NULL;
	return rcu_dereference_protected(t->slots[id].node,
					 lockdep_is_held(&t->lock));
}

bool afc_addr_valid(const struct afcluster_addr *addr)
{
	return (addr->len == 4 || addr->len == 16) &&
	       memchr_inv(addr->addr, 0, addr->len);
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

/*
 * The published node with id @id, or owning @addr when @addr is given.
 * An address entry is entered before its node is published and removed
 * after, so the owner found must also list the address to have it now.
 */
struct afc_node *afc_node_rcu(struct afc_table *t, u32 id,
			      const struct afcluster_addr *addr)
{
	struct afc_addr_ent *ent;
	struct afc_node *n;

	if (addr) {
		ent = rhashtable_lookup(&t->addrs, addr, afc_addr_params);
		if (!ent)
			return NULL;
		id = ent->id;
	}
	if (id < 1 || id > t->max_nodes)
		return NULL;
	n = rcu_dereference(t->slots[id].node);
	if (n && addr && !afc_info_has_addr(&n->info, addr))
		return NULL;
	return n;
}

/*
 * Copy node @id (or the owner of @addr) into @info. Any context, no lock.
 * Returns 0 or -ENOENT.
 */
int afc_node_read(struct afc_table *t, u32 id,
		  const struct afcluster_addr *addr,
		  struct afcluster_node_info *info)
{
	struct afc_node *n;

	/* A published copy is immutable: RCU alone gives a whole one. */
	rcu_read_lock();
	n = afc_node_rcu(t, id, addr);
	if (n)
		*info = n->info;
	rcu_read_unlock();
	return n ? 0 : -ENOENT;
}

/*
 * The same, with the table's seq at which that description holds, for
 * netlink replies. Process context: a writer on this CPU could not make
 * progress under an interrupt spinning here.
 */
int afc_node_read_seq(struct afc_table *t, u32 id,
		      const struct afcluster_addr *addr,
		      struct afcluster_node_info *info, u64 *seq)
{
	unsigned int start;
	int err;

	might_sleep();
	do {
		start = read_seqcount_begin(&t->seqc);
		err = afc_node_read(t, id, addr, info);
		*seq = t->seq;
	} while (read_seqcount_retry(&t->seqc, start));
	return err;
}

static void afc_addr_unlink(struct afc_table *t,
			    const struct afcluster_addr *addr)
{
	struct afc_addr_ent *ent;

	ent = rhashtable_lookup_fast(&t->addrs, addr, afc_addr_params);
	if (WARN_ON_ONCE(!ent))
		return;
	rhashtable_remove_fast(&t->addrs, &ent->hnode, afc_addr_params);
	call_rcu(&ent->rcu, afc_addr_free_rcu);
}

/* Remove the entries of @from's addresses that @keep (may be NULL) lacks. */
static void afc_addrs_unlink(struct afc_table *t,
			     const struct afcluster_node_info *from,
			     const struct afcluster_node_info *keep)
{
	unsigned int i;

	for (i = 0; i < from->n_addrs; i++)
		if (!keep || !afc_info_has_addr(keep, &from->addrs[i]))
			afc_addr_unlink(t, &from->addrs[i]);
}

/*
 * Enter the addresses of @new that @old (may be NULL) lacks. On failure
 * nothing stays entered. -EADDRINUSE if one belongs to another node.
 */
static int afc_addrs_link(struct afc_table *t,
			  const struct afcluster_node_info *old,
			  const struct afcluster_node_info *new,
			  struct netlink_ext_ack *extack)
{
	struct afc_addr_ent *ent;
	unsigned int i;
	int err;

	for (i = 0; i < new->n_addrs; i++) {
		if (old && afc_info_has_addr(old, &new->addrs[i]))
			continue;
		ent = kmem_cache_zalloc(afc_addr_cache, GFP_KERNEL_ACCOUNT);
		if (!ent) {
			err = -ENOMEM;
			goto undo;
		}
		ent->key = new->addrs[i];
		ent->id = new->id;
		err = rhashtable_lookup_insert_fast(&t->addrs, &ent->hnode,
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
			afc_addr_unlink(t, &new->addrs[i]);
	return err;
}

static struct afc_node *afc_node_copy(const struct afcluster_node_info *ni)
{
	struct afc_node *n = kmem_cache_zalloc(afc_node_cache,
					       GFP_KERNEL_ACCOUNT);

	if (n)
		n->info = *ni;
	return n;
}

static void afc_count(struct afc_table *t,
		      const struct afcluster_node_info *ni, int delta)
{
	t->node_count += delta;
	if (ni->state == AFCLUSTER_NODE_STATE_UP)
		t->up_count += delta;
}

/*
 * Publish the new copy @n of node @id (NULL: remove it) and its event @p,
 * whose seq is @n's. Readers see slot, counters and seq change together.
 */
static void afc_publish(struct afc_table *t, u32 id, struct afc_node *n,
			struct afc_pending *p)
{
	struct afc_node *old = afc_node_locked(t, id);

	write_seqcount_begin(&t->seqc);
	if (old)
		afc_count(t, &old->info, -1);
	if (n)
		afc_count(t, &n->info, 1);
	rcu_assign_pointer(t->slots[id].node, n);
	afc_event_publish(t, p);
	write_seqcount_end(&t->seqc);
	afc_event_send(t, p);
	if (old)
		call_rcu(&old->rcu, afc_node_free_rcu);
}

/* The copy of @ni that event @seq publishes, and that event. */
static int afc_prepare(struct afc_table *t, struct afcluster_node_info *ni,
		       const struct afc_event_desc *d, u64 seq,
		       struct afc_node **n, struct afc_pending **p)
{
	ni->seq = seq;
	ni->instance = t->instance;
	*n = afc_node_copy(ni);
	*p = afc_event_prepare(t, d, seq);
	return *n && *p ? 0 : -ENOMEM;
}

static void afc_unprepare(struct afc_node *n, struct afc_pending *p)
{
	afc_event_abort(p);
	if (n)
		kmem_cache_free(afc_node_cache, n);
}

static int afc_check_alive(struct afc_table *t, struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&t->lock);
	if (t->dead) {
		NL_SET_ERR_MSG(extack, "the network namespace is going away");
		return -ENODEV;
	}
	return 0;
}

int afc_node_add(struct afc_table *t, const struct afc_change *c,
		 struct afcluster_node_info *out, struct netlink_ext_ack *extack)
{
	struct afcluster_node_info *ni = out;
	struct afc_event_desc d = {
		.kind = AFCLUSTER_EVENT_KIND_ADDED,
		.cause = c->cause,
		.node = ni,
	};
	struct afc_pending *p = NULL;
	struct afc_node *n = NULL;
	int err;

	lockdep_assert_held(&t->lock);
	err = afc_check_alive(t, extack);
	if (err)
		return err;
	if (afc_node_locked(t, c->id)) {
		NL_SET_ERR_MSG(extack, "node already exists");
		return -EEXIST;
	}
	memset(ni, 0, sizeof(*ni));
	ni->id = c->id;
	ni->state = c->set_state ? c->state : AFCLUSTER_NODE_STATE_NEVERUP;
	ni->lease_ms = c->set_lease ? c->lease_ms : 0;
	if (c->set_name)
		strscpy(ni->name, c->name, sizeof(ni->name));
	if (c->set_addrs) {
		ni->n_addrs = c->n_addrs;
		memcpy(ni->addrs, c->addrs, c->n_addrs * sizeof(c->addrs[0]));
	}

	err = afc_prepare(t, ni, &d, t->seq + 1, &n, &p);
	if (err)
		goto err;
	err = afc_addrs_link(t, NULL, ni, extack);
	if (err)
		goto err;

	afc_publish(t, c->id, n, p);
	afc_lease_renew(t, c->id, ni->lease_ms);
	return 0;

err:
	afc_unprepare(n, p);
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
 * Apply @c, and describe the node after it in @out (its seq: the last event
 * made, or the table's seq when nothing changed). A change of name,
 * addresses or lease is one CHANGED event, a change of state one STATE
 * event; a request doing both yields CHANGED then STATE. No change, no
 * event; a NODE_SET still renews the lease.
 */
int afc_node_change(struct afc_table *t, const struct afc_change *c,
		    struct afcluster_node_info *out,
		    struct netlink_ext_ack *extack)
{
	struct afc_pending *p_attrs = NULL, *p_state = NULL;
	struct afc_node *n_attrs = NULL, *n_state = NULL;
	struct afcluster_node_info *ni = out;
	struct afc_event_desc d = { .cause = c->cause, .node = ni };
	struct afc_node *old;
	bool attrs, state;
	u64 seq;
	int err;

	lockdep_assert_held(&t->lock);
	err = afc_check_alive(t, extack);
	if (err)
		return err;
	old = afc_node_locked(t, c->id);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no such node");
		return -ENOENT;
	}

	*ni = old->info;
	if (c->set_name)
		strscpy(ni->name, c->name, sizeof(ni->name));
	if (c->set_addrs) {
		ni->n_addrs = c->n_addrs;
		memset(ni->addrs, 0, sizeof(ni->addrs));
		memcpy(ni->addrs, c->addrs, c->n_addrs * sizeof(c->addrs[0]));
	}
	if (c->set_lease)
		ni->lease_ms = c->lease_ms;
	attrs = afc_attrs_differ(ni, &old->info);
	state = c->set_state && c->state != old->info.state;
	if (state && c->state == AFCLUSTER_NODE_STATE_NEVERUP) {
		NL_SET_ERR_MSG(extack, "NEVERUP is only an initial state");
		return -EINVAL;
	}

	seq = t->seq;
	err = -ENOMEM;
	if (attrs) {
		d.kind = AFCLUSTER_EVENT_KIND_CHANGED;
		err = afc_prepare(t, ni, &d, ++seq, &n_attrs, &p_attrs);
		if (err)
			goto err;
	}
	if (state) {
		d.kind = AFCLUSTER_EVENT_KIND_STATE;
		d.old_state = old->info.state;
		ni->state = c->state;
		err = afc_prepare(t, ni, &d, ++seq, &n_state, &p_state);
		if (err)
			goto err;
	}
	if (attrs) {
		err = afc_addrs_link(t, &old->info, ni, extack);
		if (err)
			goto err;
	}

	if (attrs) {
		afc_addrs_unlink(t, &old->info, ni);
		afc_publish(t, c->id, n_attrs, p_attrs);
	}
	if (state)
		afc_publish(t, c->id, n_state, p_state);
	if (c->renew_lease || c->set_lease)
		afc_lease_renew(t, c->id, ni->lease_ms);
	ni->seq = t->seq;
	return 0;

err:
	afc_unprepare(n_attrs, p_attrs);
	afc_unprepare(n_state, p_state);
	return err;
}

int afc_node_remove(struct afc_table *t, u32 id, enum afcluster_cause cause,
		    struct afcluster_node_info *out,
		    struct netlink_ext_ack *extack)
{
	struct afc_event_desc d = {
		.kind = AFCLUSTER_EVENT_KIND_REMOVED,
		.cause = cause,
		.node = out,
	};
	struct afc_pending *p;
	struct afc_node *old;
	int err;

	lockdep_assert_held(&t->lock);
	err = afc_check_alive(t, extack);
	if (err)
		return err;
	old = afc_node_locked(t, id);
	if (!old) {
		NL_SET_ERR_MSG(extack, "no such node");
		return -ENOENT;
	}
	*out = old->info;
	out->seq = t->seq + 1;
	p = afc_event_prepare(t, &d, out->seq);
	if (!p)
		return -ENOMEM;

	afc_lease_renew(t, id, 0);
	afc_addrs_unlink(t, &old->info, NULL);
	afc_publish(t, id, NULL, p);
	return 0;
}

/* Set the local node; a change is a LOCAL_NODE event. */
int afc_set_local(struct afc_table *t, u32 local, enum afcluster_cause cause)
{
	struct afc_event_desc d = {
		.kind = AFCLUSTER_EVENT_KIND_LOCAL_NODE,
		.cause = cause,
		.local_node = local,
	};
	struct afc_pending *p;
	int err;

	lockdep_assert_held(&t->lock);
	err = afc_check_alive(t, NULL);
	if (err || local == t->local_node)
		return err;
	p = afc_event_prepare(t, &d, t->seq + 1);
	if (!p)
		return -ENOMEM;
	write_seqcount_begin(&t->seqc);
	WRITE_ONCE(t->local_node, local);
	afc_event_publish(t, p);
	write_seqcount_end(&t->seqc);
	afc_event_send(t, p);
	return 0;
}

int afc_table_init(struct afc_table *t, u32 max_nodes)
{
	int err;

	t->max_nodes = max_nodes;
	t->slots = kvcalloc(max_nodes + 1, sizeof(*t->slots),
			    GFP_KERNEL_ACCOUNT);
	if (!t->slots)
		return -ENOMEM;
	err = rhashtable_init(&t->addrs, &afc_addr_params);
	if (err)
		kvfree(t->slots);
	return err;
}

static void afc_addr_free(void *ptr, void *arg)
{
	kmem_cache_free(afc_addr_cache, ptr);
}

/* Nobody can reach the table any more: netlink and API users are gone. */
void afc_table_exit(struct afc_table *t)
{
	struct afc_node *n;
	u32 id;

	for (id = 1; id <= t->max_nodes; id++) {
		n = rcu_dereference_protected(t->slots[id].node, true);
		if (n)
			kmem_cache_free(afc_node_cache, n);
	}
	rhashtable_free_and_destroy(&t->addrs, afc_addr_free, NULL);
	kvfree(t->slots);
}

int afc_caches_init(void)
{
	afc_node_cache = KMEM_CACHE(afc_node, 0);
	if (!afc_node_cache)
		return -ENOMEM;
	afc_addr_cache = KMEM_CACHE(afc_addr_ent, 0);
	if (!afc_addr_cache) {
		kmem_cache_destroy(afc_node_cache);
		return -ENOMEM;
	}
	return 0;
}

void afc_caches_exit(void)
{
	/* Wait for the frees queued by call_rcu(): they use the caches. */
	rcu_barrier();
	kmem_cache_destroy(afc_addr_cache);
	kmem_cache_destroy(afc_node_cache);
}
