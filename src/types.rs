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
            pub fn to_raw(self) -> u8 {
                match self { $($name::$variant => $value as u8,)+ }
            }

            pub fn from_raw(raw: u8) -> Option<Self> {
                match u32::from(raw) { $(v if v == $value => Some($name::$variant),)+ _ => None }
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
        NeverUp = uapi::AFCLUSTER_NODE_NEVERUP => "neverup",
        ComingUp = uapi::AFCLUSTER_NODE_COMINGUP => "comingup",
        Up = uapi::AFCLUSTER_NODE_UP => "up",
        Shutdown = uapi::AFCLUSTER_NODE_SHUTDOWN => "shutdown",
        GoingDown = uapi::AFCLUSTER_NODE_GOINGDOWN => "goingdown",
        KCleanup = uapi::AFCLUSTER_NODE_KCLEANUP => "kcleanup",
        UCleanup = uapi::AFCLUSTER_NODE_UCLEANUP => "ucleanup",
        Down = uapi::AFCLUSTER_NODE_DOWN => "down",
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
        Added = uapi::AFCLUSTER_EVENT_ADDED => "added",
        State = uapi::AFCLUSTER_EVENT_STATE => "state",
        Changed = uapi::AFCLUSTER_EVENT_CHANGED => "changed",
        Removed = uapi::AFCLUSTER_EVENT_REMOVED => "removed",
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

/// A node as returned by NODE_GET, with the table's sequence number then.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeReply {
    #[serde(flatten)]
    pub node: Node,
    pub seq: u64,
}

/// One change of the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub seq: u64,
    pub kind: EventKind,
    pub cause: Cause,
    pub timestamp_ns: u64,
    /// For `EventKind::State`: the state before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_state: Option<NodeState>,
    /// The node's new description (for `Removed`, its last one).
    pub node: Node,
}

/// CLUSTER_GET.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterInfo {
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
    /// Replaces the whole list.
    pub addrs: Option<Vec<IpAddr>>,
    pub lease_ms: Option<u32>,
}
