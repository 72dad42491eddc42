/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * afcluster: the kernel's table of cluster nodes, over generic netlink.
 *
 * This header is the single source of truth for the ABI: the module, the
 * Rust crate (through bindgen), the YNL spec (checked against it by the
 * tests) and any C client include it.
 *
 * Requests (family "afcluster", version 1):
 *   CLUSTER_GET  do    -> MAX_NODES LOCAL_NODE NODE_COUNT UP_COUNT SEQ
 *                         OLDEST_SEQ HISTORY_LEN
 *   CLUSTER_SET  do    LOCAL_NODE
 *   NODE_GET     do    NODE_ID | NODE_ADDR -> one node + SEQ
 *                dump  -> every node, each message with SEQ; a dump that
 *                         raced with a change is flagged NLM_F_DUMP_INTR
 *   NODE_NEW     do    NODE_ID [NODE_STATE NODE_NAME NODE_ADDR* NODE_LEASE_MS]
 *   NODE_SET     do    NODE_ID [NODE_STATE NODE_NAME NODE_ADDR* NODE_LEASE_MS]
 *                      NODE_ADDRs, when present, replace the address list;
 *                      any NODE_SET renews the node's lease.
 *   NODE_DEL     do    NODE_ID
 *   EVENT_GET    dump  [SINCE_SEQ] -> the NODE_EVENT messages with
 *                         seq > SINCE_SEQ, in order, or ERANGE when the
 *                         history no longer reaches back that far.
 *
 * CLUSTER_SET and the NODE_NEW, NODE_SET and NODE_DEL requests need
 * CAP_NET_ADMIN; anyone may read and join the group. The family exists in
 * the initial network namespace only.
 *
 * Multicast group "events": one NODE_EVENT per change of the table, with
 * the node's full new description (NODE_ID NODE_STATE NODE_NAME NODE_ADDR*
 * NODE_LEASE_MS) and EVENT SEQ TIMESTAMP_NS CAUSE [OLD_STATE].
 */
#ifndef _UAPI_LINUX_AFCLUSTER_H
#define _UAPI_LINUX_AFCLUSTER_H

#define AFCLUSTER_GENL_NAME	"afcluster"
#define AFCLUSTER_GENL_VERSION	1
#define AFCLUSTER_MCGRP_EVENTS	"events"

/* Limits of the attributes below. */
#define AFCLUSTER_NODE_NAME_MAX		64	/* bytes, with the NUL */
#define AFCLUSTER_NODE_ADDRS_MAX	16	/* addresses per node */
#define AFCLUSTER_NODE_ID_MAX		65535	/* largest max_nodes */
#define AFCLUSTER_LEASE_MS_MAX		86400000 /* one day */

/*
 * Node states, in the order of the CI/SSI cluster (clusternode_info()).
 * NEVERUP is only an initial state: NODE_NEW may create a node in it, no
 * change leads back to it.
 */
enum afcluster_node_state {
	AFCLUSTER_NODE_NEVERUP,
	AFCLUSTER_NODE_COMINGUP,
	AFCLUSTER_NODE_UP,
	AFCLUSTER_NODE_SHUTDOWN,
	AFCLUSTER_NODE_GOINGDOWN,
	AFCLUSTER_NODE_KCLEANUP,
	AFCLUSTER_NODE_UCLEANUP,
	AFCLUSTER_NODE_DOWN,

	__AFCLUSTER_NODE_STATE_MAX,
	AFCLUSTER_NODE_STATE_MAX = __AFCLUSTER_NODE_STATE_MAX - 1
};

/* Who made a change. */
enum afcluster_cause {
	AFCLUSTER_CAUSE_ADMIN,	/* a netlink request */
	AFCLUSTER_CAUSE_KERNEL,	/* the in-kernel API */
	AFCLUSTER_CAUSE_LEASE,	/* a lease expired */

	__AFCLUSTER_CAUSE_MAX,
	AFCLUSTER_CAUSE_MAX = __AFCLUSTER_CAUSE_MAX - 1
};

/* What a NODE_EVENT reports. */
enum afcluster_event {
	AFCLUSTER_EVENT_ADDED,
	AFCLUSTER_EVENT_STATE,		/* carries OLD_STATE */
	AFCLUSTER_EVENT_CHANGED,	/* name, addresses or lease */
	AFCLUSTER_EVENT_REMOVED,	/* carries the last description */

	__AFCLUSTER_EVENT_MAX,
	AFCLUSTER_EVENT_MAX = __AFCLUSTER_EVENT_MAX - 1
};

enum afcluster_cmd {
	AFCLUSTER_CMD_UNSPEC,
	AFCLUSTER_CMD_CLUSTER_GET,
	AFCLUSTER_CMD_CLUSTER_SET,
	AFCLUSTER_CMD_NODE_GET,
	AFCLUSTER_CMD_NODE_NEW,
	AFCLUSTER_CMD_NODE_SET,
	AFCLUSTER_CMD_NODE_DEL,
	AFCLUSTER_CMD_EVENT_GET,
	AFCLUSTER_CMD_NODE_EVENT,	/* notification, and EVENT_GET replies */

	__AFCLUSTER_CMD_MAX,
	AFCLUSTER_CMD_MAX = __AFCLUSTER_CMD_MAX - 1
};

/* One flat attribute space for every command. */
enum afcluster_attr {
	AFCLUSTER_A_UNSPEC,
	AFCLUSTER_A_NODE_ID,		/* u32, 1..max_nodes */
	AFCLUSTER_A_NODE_STATE,		/* u8, enum afcluster_node_state */
	AFCLUSTER_A_NODE_NAME,		/* NUL-terminated, < NODE_NAME_MAX */
	AFCLUSTER_A_NODE_ADDR,		/* binary: 4 (IPv4) or 16 (IPv6)
					 * bytes, network order; repeated,
					 * up to NODE_ADDRS_MAX
					 */
	AFCLUSTER_A_NODE_LEASE_MS,	/* u32, 0 = no lease */
	AFCLUSTER_A_EVENT,		/* u8, enum afcluster_event */
	AFCLUSTER_A_OLD_STATE,		/* u8, enum afcluster_node_state */
	AFCLUSTER_A_CAUSE,		/* u8, enum afcluster_cause */
	AFCLUSTER_A_SEQ,		/* u64 */
	AFCLUSTER_A_TIMESTAMP_NS,	/* u64, CLOCK_REALTIME */
	AFCLUSTER_A_SINCE_SEQ,		/* u64 */
	AFCLUSTER_A_MAX_NODES,		/* u32 */
	AFCLUSTER_A_LOCAL_NODE,		/* u32, 0 = not set */
	AFCLUSTER_A_NODE_COUNT,		/* u32 */
	AFCLUSTER_A_UP_COUNT,		/* u32 */
	AFCLUSTER_A_HISTORY_LEN,	/* u32, events held for EVENT_GET */
	AFCLUSTER_A_OLDEST_SEQ,		/* u64, oldest held; 0 when none */
	AFCLUSTER_A_PAD,

	__AFCLUSTER_A_MAX,
	AFCLUSTER_A_MAX = __AFCLUSTER_A_MAX - 1
};

#endif /* _UAPI_LINUX_AFCLUSTER_H */
