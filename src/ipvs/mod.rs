//! An IPVS (Linux Virtual Server) client over generic netlink: read and
//! change the kernel's table of virtual services and their destinations,
//! as ipvsadm and keepalived do, without either.
//!
//! - [`Ipvs`]: blocking requests on the family "IPVS" (version 1).
//! - [`Service`], [`ServiceKey`], [`Dest`]: the table as values; services
//!   and destinations compare by value, so a desired table can be diffed
//!   against [`Ipvs::table`].
//! - [`SyncDaemon`]: a connection-sync daemon ([`Ipvs::start_daemon`],
//!   [`Ipvs::stop_daemon`], [`Ipvs::daemons`]), what keepalived's
//!   lvs_sync_daemon starts and stops.
//! - [`wire`]: the messages, built and parsed without a socket.
//! - [`uapi`]: the numbers, generated from `<linux/ip_vs.h>`.
//!
//! Every command, reads included, needs CAP_NET_ADMIN (GENL_ADMIN_PERM on
//! all of ip_vs_genl_ops): [`IpvsError::PermissionDenied`] otherwise. The
//! table is per network namespace.
//!
//! Module autoloading: resolving the family loads ip_vs when the kernel
//! can. nlctrl's GETFAMILY by name (`ctrl_getfamily` in
//! net/netlink/genetlink.c) calls
//! `request_module("net-pf-16-proto-16-family-IPVS")` when no family has
//! the name, and ip_vs carries that alias (`MODULE_ALIAS_GENL_FAMILY` in
//! net/netfilter/ipvs/ip_vs_ctl.c; `modinfo ip_vs` on Debian's 6.1 and 6.12
//! lists it). GETFAMILY needs no privilege, so [`Ipvs::connect`] by any
//! user loads it; tests/kernel/test_ipvs_lib.py checks this. So
//! [`IpvsError::NotAvailable`] means the module could not be loaded (no
//! module for this kernel, modprobe missing, module loading disabled, or a
//! container without the host's modules).

mod client;
mod error;
mod types;
pub mod uapi;
pub mod wire;

pub use client::Ipvs;
pub use error::IpvsError;
pub use types::{
    Change, Dest, DestEntry, Family, Forward, Info, Persistence, Protocol, SchedFlags, Service,
    ServiceKey, SyncDaemon, SyncState, Tunnel, TunnelKind,
};
