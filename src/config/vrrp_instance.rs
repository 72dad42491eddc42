//! `vrrp_instance NAME { ... }`: one virtual router, with keepalived
//! 2.2.7's keywords, defaults and checks.
//!
//! Sources, in acassen/keepalived: vrrp/vrrp_parser.c (keywords, ranges),
//! vrrp/vrrp_data.c `alloc_vrrp` (defaults), vrrp/vrrp.c
//! `vrrp_complete_instance` and `chk_min_cfg` (the checks of a whole
//! instance, the defaults that depend on others), vrrp/vrrp_sync.c.
//!
//! As for virtual servers, the block is read whole before it is checked:
//! keepalived's few order effects (the first address decides the family;
//! `state BACKUP` after `state MASTER` is ignored) do not exist here.
//! keepalived reports most mistakes and runs with a corrected value;
//! here the corrections that change what the router does (dropping
//! tracking, clearing nopreempt, clamping an interval) are errors, and the
//! harmless ones (rounding an interval to what the packet can carry,
//! truncating a password) are warnings.
//!
//! The parts: `draft` takes the block's keywords one at a time,
//! `validate` resolves the defaults and applies keepalived's checks;
//! cross-instance checks (VRID conflicts, sync groups) are in vrrp.rs.

pub(crate) mod draft;
#[cfg(test)]
mod tests;
pub(crate) mod validate;

use std::net::IpAddr;
use std::time::Duration;

use super::global_defs::Script;
use super::parse::{ConfigError, Location, Statement, Word};
pub use super::route::Route;
pub use super::rule::Rule;
pub use super::track::{NodeRef, TrackFile, TrackInterface, TrackNode, TrackScript};
pub use super::vip::Vip;
use crate::ipvs::Family;

pub(crate) use draft::Draft;
pub(crate) use validate::complete;

#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstance {
    /// The `vrrp_instance` keyword.
    pub loc: Location,
    pub name: String,
    /// `state MASTER|BACKUP`; unset: MASTER if priority 255, else BACKUP.
    /// Only an address owner (priority 255) becomes master at once; a
    /// MASTER of lower priority starts as backup and takes over after one
    /// advert interval (keepalived's vrrp_init_state), sooner than a
    /// BACKUP's three.
    pub state: InitialState,
    /// `interface`: required (keepalived 2.2.7 refuses an instance
    /// without one, unicast or not).
    pub interface: String,
    /// `dont_track_primary`: the interface going down does not put the
    /// instance in FAULT.
    pub dont_track_primary: bool,
    /// `use_vmac [NAME]`: the instance runs on a macvlan of `interface`
    /// with the VRRP MAC (00:00:5e:00:01:VRID, :02: for IPv6).
    pub vmac: Option<Vmac>,
    /// `virtual_router_id`: 1..255, required.
    pub vrid: u8,
    /// `priority`: 1..255; unset: 255 with state MASTER (keepalived
    /// 2.2.7), else 100. 255 is the address owner's.
    pub priority: u8,
    /// `advert_int`: default 1 s. VRRPv2 carries whole seconds (1..255),
    /// VRRPv3 centiseconds (0.01..40.95 s): other values are rounded to
    /// the nearest, as keepalived does.
    pub advert_int: Duration,
    /// `version`, else global_defs' vrrp_version (default 2); always 3
    /// for IPv6.
    pub version: VrrpVersion,
    /// Of the VIPs, else of the source, peer or multicast address, else
    /// IPv6 with `native_ipv6`, else IPv4.
    pub family: Family,
    /// `nopreempt` (needs state BACKUP; `preempt` is keepalived's old
    /// spelling of the default).
    pub nopreempt: bool,
    /// `preempt_delay`: 0..1000 s (decimals allowed), 0: none. Starts at
    /// the first lower-priority advert; needs state BACKUP.
    pub preempt_delay: Duration,
    /// `virtual_ipaddress { }`: advertised, of the instance's family;
    /// at most what an advert carries (255 IPv4, 89 IPv6 at MTU 1500).
    pub vips: Vec<Vip>,
    /// `virtual_ipaddress_excluded { }`: added and removed with the
    /// VIPs, not advertised; of either family.
    pub excluded_vips: Vec<Vip>,
    /// `virtual_routes { }`: added after the VIPs on becoming master,
    /// removed before them on leaving it.
    pub routes: Vec<Route>,
    /// `virtual_rules { }`: added after the routes, removed before them.
    pub rules: Vec<Rule>,
    /// `mcast_src_ip` or `unicast_src_ip` (one keyword: both set the
    /// adverts' source); None: the interface's primary address.
    pub src_ip: Option<IpAddr>,
    /// `track_src_ip`: FAULT while src_ip is not on the interface.
    pub track_src_ip: bool,
    /// `unicast_peer { }`: adverts go to each peer instead of the
    /// multicast group.
    pub unicast_peers: Vec<UnicastPeer>,
    /// `unicast_ttl`: 0..255, only with peers; None: 255 on IPv4, the
    /// kernel's hop limit on IPv6.
    pub unicast_ttl: Option<u8>,
    /// `unicast_fault_no_peer`: a unicast keyword with no peer puts the
    /// instance in FAULT instead of falling back to multicast.
    pub unicast_fault_no_peer: bool,
    /// Where adverts go when there are no peers: `mcast_dst_ip`, else
    /// global_defs' vrrp_mcast_group4/6. None with unicast peers.
    pub mcast_group: Option<IpAddr>,
    /// `check_unicast_src`, global_defs' vrrp_check_unicast_src, or a peer
    /// with min_ttl/max_ttl: adverts must come from a peer.
    pub check_unicast_src: bool,
    /// `skip_check_adv_addr [BOOL]`, default global_defs': do not compare
    /// the addresses of adverts from the current master.
    pub skip_check_adv_addr: bool,
    /// `strict_mode [BOOL]`, default global_defs' vrrp_strict: RFC
    /// behaviour; its checks are errors.
    pub strict: bool,
    /// `authentication { auth_type PASS auth_pass X }` (VRRPv2 only): the
    /// password, at most 8 bytes (zero-padded in the packet).
    pub auth_pass: Option<String>,
    pub garp: Garp,
    /// `down_timer_adverts`: 1..100, default global_defs' (3); 3 in strict mode.
    pub down_timer_adverts: u32,
    /// `lower_prio_no_advert [BOOL]`: as master, do not answer a
    /// lower-priority advert with one; true in strict mode.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert [BOOL]`: as master, send an advert before
    /// yielding to a higher-priority one; false in strict mode.
    pub higher_prio_send_advert: bool,
    /// `v3_checksum_as_v2 [BOOL]` (keepalived 2.2.8), default global_defs':
    /// see VrrpGlobals::v3_checksum_as_v2.
    pub v3_checksum_as_v2: bool,
    /// `kernel_rx_buf_size`: the receive socket's buffer; None: the kernel's.
    pub kernel_rx_buf_size: Option<u32>,
    pub notify: Notify,
    pub track_interfaces: Vec<TrackInterface>,
    pub track_scripts: Vec<TrackScript>,
    pub track_files: Vec<TrackFile>,
    pub track_nodes: Vec<TrackNode>,
    /// The vrrp_sync_group it belongs to.
    pub sync_group: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    Master,
    Backup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VrrpVersion {
    /// RFC 3768: IPv4 only, advert interval in seconds, authentication.
    V2,
    /// RFC 5798: IPv4 and IPv6, advert interval in centiseconds.
    V3,
}

impl std::fmt::Display for VrrpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VrrpVersion::V2 => "2",
            VrrpVersion::V3 => "3",
        })
    }
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnicastPeer {
    pub loc: Location,
    pub addr: IpAddr,
    /// Adverts from this peer with a TTL (hop limit) outside
    /// min_ttl..=max_ttl are dropped; default 0..=255.
    pub min_ttl: u8,
    pub max_ttl: u8,
}

/// Gratuitous ARPs (IPv4) and unsolicited neighbour adverts (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garp {
    /// `garp_master_delay`: the second burst this long after becoming
    /// master; whole seconds, default global_defs' (5 s); 0: none.
    pub master_delay: Duration,
    /// `garp_master_repeat`: messages per burst, default global_defs' (5).
    pub master_repeat: u32,
    /// `garp_master_refresh`: a burst this often while master; whole
    /// seconds, default global_defs' (0 = never).
    pub master_refresh: Duration,
    /// `garp_master_refresh_repeat`: messages per refresh, default
    /// global_defs' (1).
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_delay`: after a lower-priority advert, wait this
    /// long and send a burst; default global_defs' (itself the master
    /// delay); 0 in strict mode.
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`: messages of that burst; default
    /// global_defs' (itself the master repeat); 0 (none) in strict mode.
    pub lower_prio_repeat: u32,
}

/// `use_vmac [NAME]` and `vmac_xmit_base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// The macvlan's name: as written, else keepalived's `vrrp.VRID`
    /// (`vrrp6.VRID`, then `vrrp1.VRID`… when another instance has it).
    pub name: String,
    /// `vmac_xmit_base`: adverts go out of the base interface, with its
    /// own MAC, not the VMAC.
    pub xmit_base: bool,
}

/// The notify scripts of an instance or sync group, run on its state
/// changes (keepalived's quoted command line; running them as another
/// user is not supported).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    pub master: Option<Script>,
    pub backup: Option<Script>,
    pub fault: Option<Script>,
    pub stop: Option<Script>,
    /// `notify`: run on every change with "INSTANCE"|"GROUP", the name,
    /// the new state (MASTER, BACKUP, FAULT, STOP) and the priority
    /// appended to its arguments.
    pub any: Option<Script>,
}

/// What a vrrp_instance keyword is to afclusterd.
pub(crate) enum Kind {
    /// Read by the draft.
    Read,
    /// keepalived's, but the daemon cannot do it yet: an error.
    Unsupported(&'static str),
    /// keepalived's, without effect here: a warning.
    Ignored(&'static str),
}

/// Every vrrp_instance keyword of keepalived 2.2.7 (vrrp_parser.c
/// init_vrrp_keywords, as built by Debian) and 2.2.8, and afclusterd's
/// track_node. None: not a keyword.
pub(crate) fn classify(kw: &str) -> Option<Kind> {
    const VMAC: &str =
        "afclusterd's VMAC has keepalived's VRRP MAC and one link: this option is not supported yet";
    Some(match kw {
        "state"
        | "interface"
        | "dont_track_primary"
        | "virtual_router_id"
        | "priority"
        | "advert_int"
        | "version"
        | "native_ipv6"
        | "nopreempt"
        | "preempt"
        | "preempt_delay"
        | "virtual_ipaddress"
        | "virtual_ipaddress_excluded"
        | "mcast_src_ip"
        | "unicast_src_ip"
        | "track_src_ip"
        | "unicast_peer"
        | "unicast_ttl"
        | "unicast_fault_no_peer"
        | "check_unicast_src"
        | "mcast_dst_ip"
        | "skip_check_adv_addr"
        | "strict_mode"
        | "authentication"
        | "garp_master_delay"
        | "garp_master_repeat"
        | "garp_master_refresh"
        | "garp_master_refresh_repeat"
        | "garp_lower_prio_delay"
        | "garp_lower_prio_repeat"
        | "down_timer_adverts"
        | "lower_prio_no_advert"
        | "higher_prio_send_advert"
        | "v3_checksum_as_v2"
        | "kernel_rx_buf_size"
        | "accept"
        | "notify_master"
        | "notify_backup"
        | "notify_fault"
        | "notify_stop"
        | "notify"
        | "track_interface"
        | "track_script"
        | "track_file"
        | "track_node"
        | "lvs_sync_daemon_interface"
        | "virtual_routes"
        | "virtual_rules"
        | "use_vmac"
        | "vmac_xmit_base" => Kind::Read,
        "use_vmac_addr" | "garp_extra_if" | "vmac_garp_intvl" => Kind::Unsupported(VMAC),
        "use_ipvlan" => Kind::Unsupported("ipvlan interfaces are not supported yet by afclusterd"),
        "vrf" => Kind::Unsupported("VRFs are not supported yet by afclusterd"),
        "promote_secondaries" => {
            Kind::Unsupported("afclusterd does not set promote_secondaries on interfaces yet")
        }
        "no_accept" => Kind::Unsupported(
            "afclusterd sets no firewall rules to drop traffic to the VIPs yet (it runs accept mode)",
        ),
        "notify_deleted" | "notify_master_rx_lower_pri" | "notify_priority_changes" => {
            Kind::Unsupported("afclusterd does not run this notify script yet")
        }
        "track_process" => {
            Kind::Unsupported("afclusterd has no vrrp_track_process yet (track_script can do it)")
        }
        "track_bfd" => Kind::Unsupported("afclusterd has no BFD"),
        "old_unicast_checksum" => Kind::Unsupported(
            "afclusterd does not compute keepalived 1.3.6's old unicast checksum",
        ),
        "no_virtual_ipaddress" | "timer_expired_backup" => {
            Kind::Unsupported("a keepalived 2.2.8 keyword that afclusterd does not support yet")
        }
        "debug" => Kind::Ignored("afclusterd's log level is set on its command line"),
        "smtp_alert" => Kind::Ignored("afclusterd sends no mail"),
        "linkbeat_use_polling" => Kind::Ignored(
            "afclusterd follows link state over netlink (deprecated in keepalived too)",
        ),
        _ => return None,
    })
}

/// Reads the head and block of a `vrrp_instance` statement into a draft;
/// `earlier`: the names already taken (with where).
pub(crate) fn read<'a>(
    st: &'a Statement,
    earlier: &[(&str, &Location)],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<Draft<'a>> {
    let (name, b) = match super::vrrp::named_block(st, earlier.iter().copied()) {
        Ok(x) => x,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let n_errors = errors.len();
    let mut d = Draft::new(st, name);
    for s in &b.statements {
        d.keyword(s, errors, warnings);
    }
    d.had_errors = errors.len() > n_errors;
    Some(d)
}
