//! The node table's vocabulary: states, causes, events, nodes.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::uapi;

macro_rules! abi_enum {
    ($(#[$m:meta])* $name:ident : $what:literal { $($variant:ident = $value:path => $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The number on the wire.
            pub fn to_raw(self) -> u32 {
                match self { $($name::$variant => $value,)+ }
            }

            pub fn from_raw(raw: u32) -> Option<Self> {
                match raw { $(v if v == $value => Some($name::$variant),)+ _ => None }
            }

            /// The lower-case name used by the CLI, the YNL spec and JSON.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.name())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let lower = s.to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.name() == lower).ok_or_else(|| {
                    let names: Vec<_> = $name::ALL.iter().map(|v| v.name()).collect();
                    format!("unknown {} '{}' (one of: {})", $what, s, names.join(", "))
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

abi_enum! {
    /// A node's state, in the order of the CI/SSI cluster.
    NodeState: "node state" {
        NeverUp = uapi::AFCLUSTER_NODE_STATE_NEVERUP => "neverup",
        ComingUp = uapi::AFCLUSTER_NODE_STATE_COMINGUP => "comingup",
        Up = uapi::AFCLUSTER_NODE_STATE_UP => "up",
        Shutdown = uapi::AFCLUSTER_NODE_STATE_SHUTDOWN => "shutdown",
        GoingDown = uapi::AFCLUSTER_NODE_STATE_GOINGDOWN => "goingdown",
        KCleanup = uapi::AFCLUSTER_NODE_STATE_KCLEANUP => "kcleanup",
        UCleanup = uapi::AFCLUSTER_NODE_STATE_UCLEANUP => "ucleanup",
        Down = uapi::AFCLUSTER_NODE_STATE_DOWN => "down",
    }
}

abi_enum! {
    /// Who made a change.
    Cause: "cause" {
        Admin = uapi::AFCLUSTER_CAUSE_ADMIN => "admin",
        Kernel = uapi::AFCLUSTER_CAUSE_KERNEL => "kernel",
        Lease = uapi::AFCLUSTER_CAUSE_LEASE => "lease",
    }
}

abi_enum! {
    /// What an event reports.
    EventKind: "event" {
        Added = uapi::AFCLUSTER_EVENT_KIND_ADDED => "added",
        State = uapi::AFCLUSTER_EVENT_KIND_STATE => "state",
        Changed = uapi::AFCLUSTER_EVENT_KIND_CHANGED => "changed",
        Removed = uapi::AFCLUSTER_EVENT_KIND_REMOVED => "removed",
        LocalNode = uapi::AFCLUSTER_EVENT_KIND_LOCAL_NODE => "local-node",
    }
}

/// One node of the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub id: u32,
    pub state: NodeState,
    pub name: String,
    pub addrs: Vec<IpAddr>,
    /// 0: no lease.
    pub lease_ms: u32,
}

/// A node as the kernel answers NODE_GET, NODE_NEW, NODE_SET and NODE_DEL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeReply {
    #[serde(flatten)]
    pub node: Node,
    /// NODE_GET: the table's sequence number when it was read. NODE_NEW,
    /// NODE_SET, NODE_DEL: the seq of the last event the request caused
    /// (the table's seq if it changed nothing).
    pub seq: u64,
    /// The table's instance.
    pub instance: u64,
}

/// One change of the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub seq: u64,
    pub kind: EventKind,
    pub cause: Cause,
    pub timestamp_ns: u64,
    /// The instance of the table the event belongs to: seqs of different
    /// instances are unrelated.
    pub instance: u64,
    /// For `EventKind::State`: the state before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_state: Option<NodeState>,
    /// The node's new description (for `Removed`, its last one); absent
    /// in `LocalNode` events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Node>,
    /// For `EventKind::LocalNode`: the new local node (0 = none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_node: Option<u32>,
}

/// CLUSTER_GET, and the reply to CLUSTER_SET.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterInfo {
    /// Random, non-zero, drawn when the table was created (module load,
    /// network namespace creation): tells one table from the next.
    pub instance: u64,
    pub max_nodes: u32,
    /// 0: not set.
    pub local_node: u32,
    pub node_count: u32,
    pub up_count: u32,
    pub seq: u64,
    /// 0 when the history is empty.
    pub oldest_seq: u64,
    pub history_len: u32,
}

/// What NODE_NEW and NODE_SET change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeChange {
    pub state: Option<NodeState>,
    pub name: Option<String>,
    /// `Some`: the node's addresses become exactly this list (`Some(vec![])`
    /// empties it; NODE_SET sends REPLACE_ADDRS). `None`: NODE_SET keeps
    /// them, NODE_NEW creates the node without any.
    pub addrs: Option<Vec<IpAddr>>,
    pub lease_ms: Option<u32>,
}
