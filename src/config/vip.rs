//! The address lines of `virtual_ipaddress { }` and
//! `virtual_ipaddress_excluded { }`: keepalived's
//! `IP[/PREFIX] [dev D] [scope S] [brd|broadcast B|+|-] [label L] [peer P]
//! [home] [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track]
//! [preferred_lft N|forever]` (vrrp/vrrp_ipaddress.c, `parse_ipaddress`
//! and `alloc_ipaddress`), one address a line, the options in any order.
//!
//! keepalived reports most mistakes of a line and drops the address or
//! the option; here each is an error at its word, since a missing VIP is
//! a service not served. What keepalived drops for being meaningless
//! (`scope` or `label` on an IPv6 address) is an error too: the line does
//! not say what the operator meant.

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr};

use super::parse::{ConfigError, Location, Statement, Word};
use super::words;
use crate::ipvs::Family;

/// One virtual address, as it will be added to (and removed from) an
/// interface with RTM_NEWADDR (RTM_DELADDR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    /// The address word.
    pub loc: Location,
    pub addr: IpAddr,
    /// `/N`; default 32 (IPv4) or 128 (IPv6), and always so with `peer`.
    pub prefix_len: u8,
    /// `dev`: the interface to add it to; None: the instance's.
    pub dev: Option<String>,
    /// `scope`: RT_SCOPE_* (global 0, site 200, link 253, host 254,
    /// nowhere 255, or a number); IPv4 only; default global.
    pub scope: u8,
    /// `brd`/`broadcast`: IPv4 only. `+` and `-` are resolved here
    /// (the prefix's highest or lowest address), as keepalived does.
    pub broadcast: Option<Ipv4Addr>,
    /// `peer`: a point-to-point address (IFA_ADDRESS); same family.
    pub peer: Option<IpAddr>,
    /// `label` (IFA_LABEL): IPv4 only; at most 15 bytes, by convention
    /// `DEV:TEXT` so that ifconfig shows it.
    pub label: Option<String>,
    pub flags: VipFlags,
    /// `no_track`: the instance does not go to FAULT when the address's
    /// interface goes down.
    pub no_track: bool,
    /// `preferred_lft SECONDS|forever` (IFA_CACHEINFO, IPv6 only; `forever`
    /// is u32::MAX). Unset on IPv6, keepalived's defaults: 0 (deprecated,
    /// so never a source address) for a /128, forever otherwise. None on
    /// IPv4, where keepalived sends none.
    pub preferred_lft: Option<u32>,
}

/// IFA_F_* flags of the address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VipFlags {
    /// IFA_F_NODAD: on every IPv6 address unless `-nodad` (keepalived's
    /// choice: VRRP does its own duplicate detection, and DAD would leave
    /// the address unusable after a split brain); never on IPv4.
    pub nodad: bool,
    /// `home`: IFA_F_HOMEADDRESS (Mobile IPv6).
    pub home: bool,
    /// `mngtmpaddr`: IFA_F_MANAGETEMPADDR.
    pub mngtmpaddr: bool,
    /// `noprefixroute`: IFA_F_NOPREFIXROUTE.
    pub noprefixroute: bool,
    /// `autojoin`: IFA_F_MCAUTOJOIN.
    pub autojoin: bool,
}

impl Vip {
    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }
}

impl std::fmt::Display for Vip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// INFINITY_LIFE_TIME (linux/if_addr.h).
pub const FOREVER: u32 = u32::MAX;

/// Reads one address line: the statement's keyword is the address.
pub(crate) fn read(st: &Statement) -> Result<Vip, ConfigError> {
    words::no_block(st)?;
    let w = &st.keyword;
    let (addr, prefix_len) = address(w)?;
    let family = Family::of(&addr);
    let mut vip = Vip {
        loc: w.loc.clone(),
        addr,
        prefix_len,
        dev: None,
        scope: 0,
        broadcast: None,
        peer: None,
        label: None,
        flags: VipFlags::default(),
        no_track: false,
        preferred_lft: None,
    };
    let mut brd: Option<(Brd, &Word)> = None;
    let mut dad = false;
    let mut lft: Option<(u32, &Word)> = None;
    let mut args = st.args.iter();
    while let Some(opt) = args.next() {
        let o = opt.text.as_str();
        let mut value = || {
            args.next().ok_or_else(|| {
                ConfigError::at(&opt.loc, format!("{o} needs a value (address {})", w.text))
            })
        };
        match o {
            "dev" => {
                let v = value()?;
                if vip.dev.is_some() {
                    return Err(ConfigError::at(
                        &opt.loc,
                        format!("dev is given twice for {}", w.text),
                    ));
                }
                vip.dev = Some(words::ifname(v)?.to_string());
            }
            "scope" => {
                let v = value()?;
                if family == Family::Inet6 {
                    return Err(ConfigError::at(
                        &opt.loc,
                        format!(
                            "scope is for IPv4 addresses; {} is IPv6 (keepalived ignores it)",
                            w.text
                        ),
                    ));
                }
                vip.scope = scope(v)?;
            }
            "brd" | "broadcast" => {
                let v = value()?;
                if family == Family::Inet6 {
                    return Err(ConfigError::at(
                        &opt.loc,
                        format!("IPv6 has no broadcast address ({o} on {})", w.text),
                    ));
                }
                let b = match v.text.as_str() {
                    "+" => Brd::Highest,
                    "-" => Brd::Lowest,
                    t => Brd::Addr(t.parse().map_err(|_| {
                        ConfigError::at(
                            &v.loc,
                            format!("'{t}' is not an IPv4 broadcast address (or + or -)"),
                        )
                    })?),
                };
                brd = Some((b, opt));
            }
            "label" => {
                let v = value()?;
                if family == Family::Inet6 {
                    return Err(ConfigError::at(
                        &opt.loc,
                        format!(
                            "label is for IPv4 addresses; {} is IPv6 (keepalived ignores it)",
                            w.text
                        ),
                    ));
                }
                if v.text.is_empty() || v.text.len() >= words::IFNAMSIZ {
                    return Err(ConfigError::at(
                        &v.loc,
                        format!("label '{}' must be 1 to 15 bytes", v.text),
                    ));
                }
                vip.label = Some(v.text.clone());
            }
            "peer" => {
                let v = value()?;
                if vip.peer.is_some() {
                    return Err(ConfigError::at(
                        &opt.loc,
                        format!("peer is given twice for {}", w.text),
                    ));
                }
                let p = words::ip(v)?;
                if Family::of(&p) != family {
                    return Err(ConfigError::at(
                        &v.loc,
                        format!(
                            "peer {p} is {} but the address {addr} is {family}",
                            Family::of(&p)
                        ),
                    ));
                }
                if prefix_len != max_prefix(family) {
                    return Err(ConfigError::at(
                        &opt.loc,
                        format!(
                            "{}: an address with a peer takes no prefix (keepalived ignores it)",
                            w.text
                        ),
                    ));
                }
                // keepalived's peer takes no prefix either (parse_ipaddress
                // with allow_subnet_mask false): /32 or /128.
                vip.peer = Some(p);
            }
            "home" => vip.flags.home = true,
            "-nodad" => dad = true,
            "mngtmpaddr" => vip.flags.mngtmpaddr = true,
            "noprefixroute" => vip.flags.noprefixroute = true,
            "autojoin" => vip.flags.autojoin = true,
            "no_track" => vip.no_track = true,
            "preferred_lft" => {
                let v = value()?;
                let n = if v.text == "forever" {
                    FOREVER
                } else {
                    words::ranged(v, "preferred_lft", 0, u32::MAX)?
                };
                lft = Some((n, opt));
            }
            "use_vmac" => {
                return Err(ConfigError::at(
                    &opt.loc,
                    "use_vmac (a VRRP virtual MAC interface) is not supported yet by afclusterd",
                ))
            }
            "track_group" => {
                return Err(ConfigError::at(
                    &opt.loc,
                    "track_group is not supported by afclusterd: no instance follows static addresses",
                ))
            }
            _ => {
                return Err(ConfigError::at(
                    &opt.loc,
                    format!(
                        "unknown option '{o}' for address {} (expected dev, scope, brd, label, peer, \
                         home, -nodad, mngtmpaddr, noprefixroute, autojoin, no_track or preferred_lft)",
                        w.text
                    ),
                ))
            }
        }
    }
    if let Some((b, opt)) = brd {
        vip.broadcast = Some(broadcast(b, &vip, opt)?);
    }
    if family == Family::Inet6 {
        vip.flags.nodad = !dad;
        vip.preferred_lft = Some(match lft {
            Some((n, _)) => n,
            None if prefix_len == 128 => 0,
            None => FOREVER,
        });
    } else if let Some((_, opt)) = lft {
        return Err(ConfigError::at(
            &opt.loc,
            format!(
                "preferred_lft is for IPv6 addresses; {} is IPv4 (keepalived ignores it)",
                w.text
            ),
        ));
    }
    Ok(vip)
}

/// `brd` as written.
enum Brd {
    Addr(Ipv4Addr),
    /// `+`: the prefix with every host bit set.
    Highest,
    /// `-`: the prefix with every host bit clear.
    Lowest,
}

fn broadcast(b: Brd, vip: &Vip, opt: &Word) -> Result<Ipv4Addr, ConfigError> {
    if vip.peer.is_some() {
        return Err(ConfigError::at(
            &opt.loc,
            "an address with a peer has no broadcast address (keepalived ignores it)",
        ));
    }
    let IpAddr::V4(a) = vip.addr else {
        return Err(ConfigError::at(&opt.loc, "IPv6 has no broadcast address"));
    };
    let host_bits = |p: u8| u32::MAX.checked_shr(u32::from(p)).unwrap_or(0);
    match b {
        Brd::Addr(x) => Ok(x),
        Brd::Highest | Brd::Lowest if vip.prefix_len > 30 => Err(ConfigError::at(
            &opt.loc,
            format!(
                "brd {}: a /{} has no broadcast address (at most /30)",
                if matches!(b, Brd::Highest) { "+" } else { "-" },
                vip.prefix_len
            ),
        )),
        Brd::Highest => Ok(Ipv4Addr::from(u32::from(a) | host_bits(vip.prefix_len))),
        Brd::Lowest => Ok(Ipv4Addr::from(u32::from(a) & !host_bits(vip.prefix_len))),
    }
}

fn max_prefix(f: Family) -> u8 {
    match f {
        Family::Inet => 32,
        Family::Inet6 => 128,
    }
}

/// `IP[/PREFIX]`.
pub(crate) fn address(w: &Word) -> Result<(IpAddr, u8), ConfigError> {
    let (a, p) = match w.text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (w.text.as_str(), None),
    };
    let addr: IpAddr = a.parse().map_err(|_| {
        ConfigError::at(
            &w.loc,
            format!(
                "'{}' is not an address (IPv4 or IPv6, with an optional /PREFIX)",
                w.text
            ),
        )
    })?;
    let max = max_prefix(Family::of(&addr));
    let prefix = match p {
        None => max,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= max && p.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ConfigError::at(
                    &w.loc,
                    format!("'{p}' is not a prefix length for {addr} (0 to {max})",),
                )
            })?,
    };
    Ok((addr, prefix))
}

/// keepalived's scopes (lib/rttables.c rtscope_default), or a number
/// 0..255 (strtoul base 0: decimal, 0x hex, 0 octal). /etc/iproute2/rt_scopes
/// names are not read.
pub(crate) fn scope(w: &Word) -> Result<u8, ConfigError> {
    let t = w.text.as_str();
    let named = match t {
        "global" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        _ => None,
    };
    let number = || {
        let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
            (h, 16)
        } else if t.len() > 1 && t.starts_with('0') {
            (&t[1..], 8)
        } else {
            (t, 10)
        };
        u8::from_str_radix(digits, radix).ok()
    };
    named.or_else(number).ok_or_else(|| {
        ConfigError::at(
            &w.loc,
            format!("unknown scope '{t}' (global, site, link, host, nowhere or 0 to 255)"),
        )
    })
}

/// Reads the lines of a `virtual_ipaddress` or `virtual_ipaddress_excluded`
/// block; the lines in error are left out, their errors in `errors`.
pub(crate) fn read_block(st: &Statement, errors: &mut Vec<ConfigError>) -> Vec<Vip> {
    let b = match words::block(st) {
        Ok(b) => b,
        Err(e) => {
            errors.push(e);
            return Vec::new();
        }
    };
    b.statements
        .iter()
        .filter_map(|s| read(s).map_err(|e| errors.push(e)).ok())
        .collect()
}
