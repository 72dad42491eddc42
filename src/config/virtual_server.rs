//! `virtual_server { ... }`: an IPVS service, its real servers and their
//! health checkers, with keepalived's keywords, defaults and checks.
//!
//! Sources, in acassen/keepalived: check/check_parser.c (keywords and
//! their ranges), check/check_data.c (`alloc_vs`, `alloc_rs`: defaults;
//! `validate_check_config`: inheritance and the checks of a whole virtual
//! server), check/check_api.c and check_tcp.c, check_misc.c (checkers).
//!
//! keepalived reads a virtual server in order, and a few of its settings
//! depend on it (lb_kind written after a real_server does not reach it;
//! sorry_server_inhibit before sorry_server is dropped). afclusterd
//! resolves them once the block is read: an operator expects the settings
//! of a block to apply whatever their order.
//!
//! keepalived reports many mistakes and carries on with a corrected value;
//! afclusterd keeps the correction with a warning where it is harmless
//! (quorum above the total weight, a DR real server's port), and makes it
//! an error where the correction would silently change the service (no
//! protocol, port 0 without persistence, mixed address families).
//!
//! The parts: `draft` takes the block's keywords one at a time,
//! `real_server` those of a real_server block, `validate` resolves the
//! whole and applies keepalived's corrections and checks.

mod draft;
mod real_server;
#[cfg(test)]
mod tests;
mod validate;

use std::net::IpAddr;
use std::time::Duration;

use super::checker::{self, Checker};
use super::global_defs::{script, Script};
use super::parse::{ConfigError, Location, Statement, Word};
use super::virtual_server_group::GroupEntry;
use super::words;
use crate::ipvs::{Family, Forward, Protocol};

use draft::VsDraft;

/// What the service is: an address and port, a firewall mark, or a
/// `virtual_server_group`'s services.
#[derive(Debug, Clone, PartialEq)]
pub enum VsAddress {
    /// Port 0 (or none written): every port, for persistent services only.
    Addr {
        addr: IpAddr,
        port: u16,
    },
    Fwmark(u32),
    /// `virtual_server group NAME`: one IPVS service per entry, all with
    /// the same real servers (the entries are the group's, expanded).
    Group {
        name: String,
        entries: Vec<GroupEntry>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    /// The `virtual_server` keyword.
    pub loc: Location,
    pub address: VsAddress,
    /// `protocol TCP|UDP|SCTP` (any case). Required for an address: without
    /// it keepalived reports an error and uses UDP, which is rarely what was
    /// meant. Meaningless for a fwmark service (keepalived ignores it with a
    /// warning): TCP there.
    pub protocol: Protocol,
    /// The virtual server's `delay_loop`, default 60 s; checkers inherit it.
    pub delay_loop: Duration,
    /// `lvs_sched` or `lb_algo`: one of keepalived's list; default "wlc"
    /// (IPVS_DEF_SCHED, ipvswrapper.h).
    pub scheduler: String,
    /// `lvs_method` or `lb_kind`: keepalived's NAT, DR and TUN are IPVS's
    /// Masq, Route and Tunnel (never Local); default NAT.
    pub lb_kind: Forward,
    /// Seconds, 1 to 31 days; a bare `persistence_timeout`, or a
    /// `persistence_granularity` alone, means 360 (IPVS_SVC_PERSISTENT_TIMEOUT).
    pub persistence_timeout: Option<u32>,
    /// As a prefix length: an IPv4 netmask (255.255.255.0 → 24), an IPv6
    /// prefix length (1 to 128).
    pub persistence_granularity: Option<u32>,
    /// Minimum total weight of the live real servers; default 1, lowered to
    /// the total weight of the real servers if above it (as keepalived).
    pub quorum: u32,
    /// Default 0, lowered below quorum if not already.
    pub hysteresis: u32,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    pub sorry_server: Option<SorryServer>,
    /// Default for the real servers: set weight 0 instead of removing.
    pub inhibit_on_failure: bool,
    /// Real servers start down until their checkers pass.
    pub alpha: bool,
    /// Run quorum_down and notify_down at exit.
    pub omega: bool,
    /// Suspend the checkers while the virtual address is not local; not for
    /// fwmark services (cleared with a warning, as keepalived).
    pub ha_suspend: bool,
    /// The family of a fwmark service: `ip_family`, else that of its
    /// non-tunnelled real and sorry servers, else that of the form of
    /// persistence_granularity, else that of its tunnelled servers if they
    /// agree, else IPv4 (check_parser.c vs_end_handler). None for an
    /// address service, whose family is its address's: see `family()`.
    pub ip_family: Option<Family>,
    /// One-packet scheduling: UDP (or fwmark) services only.
    pub ops: bool,
    pub real_servers: Vec<RealServer>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SorryServer {
    pub addr: IpAddr,
    /// Given or, as for real servers, taken from the virtual server.
    pub port: u16,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// `sorry_server_lvs_method`; None: the virtual server's.
    pub lb_kind: Option<Forward>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    /// The `real_server` keyword.
    pub loc: Location,
    pub addr: IpAddr,
    /// As keepalived fixes it up (check_data.c validate_check_config):
    /// NAT: the port given, else the virtual server's (a fwmark service's
    /// stays 0); DR and TUN cannot change the port: the virtual server's
    /// (a warning if another was given), 0 for a fwmark service.
    pub port: u16,
    /// 0 to 2147483647; default the virtual server's `weight`, itself 1.
    pub weight: i32,
    /// `inhibit_on_failure [BOOL]`; default the virtual server's.
    pub inhibit_on_failure: bool,
    /// `lvs_method`; default the virtual server's.
    pub lb_kind: Forward,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    /// IPVS connection limits; 0: none. lthreshold ≤ uthreshold (IPVS).
    pub uthreshold: u32,
    pub lthreshold: u32,
    pub checkers: Vec<Checker>,
}

impl VirtualServer {
    /// The service's address family.
    pub fn family(&self) -> Family {
        match (&self.address, self.ip_family) {
            (VsAddress::Addr { addr, .. }, _) => Family::of(addr),
            (VsAddress::Fwmark(_) | VsAddress::Group { .. }, Some(f)) => f,
            (VsAddress::Fwmark(_) | VsAddress::Group { .. }, None) => Family::Inet,
        }
    }

    /// The sorry server's forwarding method.
    pub fn sorry_lb_kind(&self) -> Option<Forward> {
        self.sorry_server
            .as_ref()
            .map(|s| s.lb_kind.unwrap_or(self.lb_kind))
    }
}

impl std::fmt::Display for VsAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VsAddress::Addr { addr, port } => write!(f, "{}", SocketText(*addr, *port)),
            VsAddress::Fwmark(m) => write!(f, "fwmark {m}"),
            VsAddress::Group { name, .. } => write!(f, "group {name}"),
        }
    }
}

/// An address and port as people write them: 10.0.0.1:80, [ae00::1]:80.
struct SocketText(IpAddr, u16);

impl std::fmt::Display for SocketText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// keepalived's schedulers (check_parser.c lvs_schedulers).
const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];
/// IPVS_DEF_SCHED (ipvswrapper.h).
const DEFAULT_SCHEDULER: &str = "wlc";
/// KEEPALIVED_DEFAULT_DELAY (check_data.h).
const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// alloc_vs: `connection_to = 5 * TIMER_HZ`.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// IPVS_SVC_PERSISTENT_TIMEOUT (libipvs.h).
const DEFAULT_PERSISTENCE: u32 = 6 * 60;
/// LVS_MAX_TIMEOUT (global_data.h): 31 days.
const MAX_PERSISTENCE: u32 = 86400 * 31;
/// IPVS_WEIGHT_LIMIT (ip_vs.h): INT32_MAX.
const MAX_WEIGHT: i32 = i32::MAX;

/// A keyword a block has no case of its own for: one of keepalived's that
/// has no effect here (a warning; `hashed` only where `keep_hashed`), a
/// checker timing default, or an error naming the block.
fn other_keyword(
    s: &Statement,
    block: &str,
    keep_hashed: bool,
    timing: &mut checker::Timing,
    warnings: &mut Vec<ConfigError>,
) -> Result<(), ConfigError> {
    let kw = s.keyword.text.as_str();
    if let Some(why) = ignored(kw).filter(|_| keep_hashed || kw != "hashed") {
        words::no_block(s)?;
        warnings.push(ConfigError::at(
            &s.keyword.loc,
            format!("{kw} has no effect: {why}"),
        ));
    } else if !timing.keyword(s, 1)? {
        return Err(ConfigError::at(
            &s.keyword.loc,
            format!("unknown keyword '{kw}' in {block}"),
        ));
    }
    Ok(())
}

/// keepalived keywords with no effect here: a warning says why.
fn ignored(kw: &str) -> Option<&'static str> {
    Some(match kw {
        "smtp_alert" => "afclusterd sends no mail",
        "snmp_name" => "afclusterd has no SNMP agent",
        // lbflags_handler sets no flag for it: keepalived ignores it too.
        "hashed" => "keepalived ignores it too",
        _ => return None,
    })
}

/// keepalived keywords of virtual_server that change the service in ways
/// afclusterd does not implement: an error rather than a different service.
const VS_UNSUPPORTED: &[&str] = &[
    "persistence_engine",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
];

/// Reads a top-level `virtual_server` statement. `earlier` are the virtual
/// servers already read, for duplicates. None when it cannot be made (the
/// errors say why) or keepalived would drop it (the warning says so).
pub(crate) fn read(
    st: &Statement,
    earlier: &[VirtualServer],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<VirtualServer> {
    let n_errors = errors.len();
    let (address, addr_word) = address(st, errors)?;
    let Some(b) = &st.block else {
        errors.push(ConfigError::at(
            &st.keyword.loc,
            "virtual_server needs a { block }",
        ));
        return None;
    };
    let mut draft = VsDraft::new(address, addr_word);
    for s in &b.statements {
        draft.keyword(s, errors, warnings);
    }
    let vs = validate::virtual_server(draft, st, n_errors, errors, warnings)?;
    validate::not_defined_before(&vs, addr_word, earlier, errors);
    Some(vs)
}

/// `virtual_server IP [PORT]` or `fwmark N`, and the word to point at.
fn address<'a>(st: &'a Statement, errors: &mut Vec<ConfigError>) -> Option<(VsAddress, &'a Word)> {
    let r = (|| {
        match st.args.as_slice() {
            [] => Err(ConfigError::at(
                &st.keyword.loc,
                "virtual_server needs an address and port, or fwmark N",
            )),
            [g, rest @ ..] if g.text == "group" => match rest {
                [] => Err(ConfigError::at(
                    &g.loc,
                    "virtual_server group needs a virtual_server_group name",
                )),
                // Its entries come once every group is read.
                [n] => Ok((
                    VsAddress::Group {
                        name: n.text.clone(),
                        entries: Vec::new(),
                    },
                    n,
                )),
                [_, extra, ..] => Err(ConfigError::at(
                    &extra.loc,
                    format!(
                        "virtual_server group takes one name; unexpected '{}'",
                        extra.text
                    ),
                )),
            },
            [f, rest @ ..] if f.text == "fwmark" => match rest {
                [] => Err(ConfigError::at(&f.loc, "fwmark needs a number")),
                // keepalived takes 0 (alloc_vs), but mark 0 is no mark to IPVS.
                [n] => Ok((
                    VsAddress::Fwmark(words::ranged(n, "fwmark", 1, u32::MAX)?),
                    n,
                )),
                [_, extra, ..] => Err(ConfigError::at(
                    &extra.loc,
                    format!(
                        "virtual_server fwmark takes one number; unexpected '{}'",
                        extra.text
                    ),
                )),
            },
            [a, rest @ ..] => {
                let addr = words::ip(a)?;
                let port = match rest {
                    [] => 0,
                    [p] => words::port(p)?,
                    [_, extra, ..] => {
                        return Err(ConfigError::at(
                            &extra.loc,
                            format!(
                                "virtual_server takes an address and a port; unexpected '{}'",
                                extra.text
                            ),
                        ))
                    }
                };
                Ok((VsAddress::Addr { addr, port }, a))
            }
        }
    })();
    r.map_err(|e| errors.push(e)).ok()
}

/// `real_server` or `sorry_server` `IP [PORT]`: the address, the port (0 if
/// none), and their words.
fn server_address(st: &Statement) -> Result<(IpAddr, u16, &Word, Option<&Word>), ConfigError> {
    match st.args.as_slice() {
        [] => Err(ConfigError::at(
            &st.keyword.loc,
            format!("{} needs an address", st.keyword.text),
        )),
        [a, rest @ ..] => {
            let addr = words::ip(a)?;
            match rest {
                [] => Ok((addr, 0, a, None)),
                [p] => Ok((addr, words::port(p)?, a, Some(p))),
                [_, extra, ..] => Err(ConfigError::at(
                    &extra.loc,
                    format!(
                        "{} takes an address and a port; unexpected '{}'",
                        st.keyword.text, extra.text
                    ),
                )),
            }
        }
    }
}

/// `lvs_method NAT|DR|TUN` (strcmp: upper case only): Masq, Route, Tunnel.
fn method(st: &Statement) -> Result<Forward, ConfigError> {
    words::no_block(st)?;
    let Some(w) = st.args.first() else {
        return Err(ConfigError::at(
            &st.keyword.loc,
            format!("{} needs NAT, DR or TUN", st.keyword.text),
        ));
    };
    let kind = match w.text.as_str() {
        "NAT" => Forward::Masq,
        "DR" => Forward::Route,
        "TUN" => Forward::Tunnel,
        _ => {
            return Err(ConfigError::at(
                &w.loc,
                format!(
                    "unknown forwarding method '{}' (expected NAT, DR or TUN)",
                    w.text
                ),
            ))
        }
    };
    if let Some(extra) = st.args.get(1) {
        let msg = if kind == Forward::Tunnel {
            format!(
                "tunnel options ('{}') are not supported by afclusterd: TUN is IPIP",
                extra.text
            )
        } else {
            format!(
                "{} takes one value; unexpected '{}'",
                st.keyword.text, extra.text
            )
        };
        return Err(ConfigError::at(&extra.loc, msg));
    }
    Ok(kind)
}

/// A script keyword that may appear once (keepalived ignores the second
/// with an error).
fn set_script(st: &Statement, slot: &mut Option<(Script, Location)>) -> Result<(), ConfigError> {
    if let Some((_, first)) = slot {
        return Err(ConfigError::at(
            &st.keyword.loc,
            format!("{} is already set at {first}", st.keyword.text),
        ));
    }
    *slot = Some((script(checker::script_word(st)?)?, st.keyword.loc.clone()));
    Ok(())
}
