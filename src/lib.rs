//! Client library for afcluster, the kernel's table of cluster nodes whose
//! every change is broadcast over generic netlink (the `AF_CLUSTER` channel
//! proposed for keepalived in 2002).
//!
//! - [`Client`]: requests (read the table, change it, replay events).
//! - [`EventListener`]: a non-blocking multicast socket for a mio loop.
//! - [`Resync`]: the rules that keep a follower exact (replay, reload),
//!   without I/O; [`Follower`] drives them over real sockets.
//! - [`uapi`]: the ABI numbers, generated from the kernel header.
//! - [`ipvs`]: an IPVS client over generic netlink (services, destinations).
//! - [`vrrp`]: VRRP as keepalived speaks it, without I/O (the wire format).

pub mod balancer;
pub mod client;
pub mod config;
pub mod control;
pub mod error;
pub mod follower;
pub mod http_check;
pub mod ipvs;
pub mod listener;
pub mod message;
pub mod netlink;
pub mod reflection;
pub mod resync;
pub mod rtnl;
pub mod types;
pub mod uapi;
pub mod vrrp;

pub use client::{Client, Dump, Snapshot};
pub use error::{Error, KernelError, Result};
pub use follower::Follower;
pub use listener::{EventListener, Notification};
pub use reflection::{Applied, Reflection};
pub use resync::{Goal, Output, Request, Resync, ResyncStats};
pub use types::{Cause, ClusterInfo, Event, EventKind, Node, NodeChange, NodeReply, NodeState};
