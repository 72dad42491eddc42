//! `virtual_server_group NAME { ... }` and the `virtual_server group NAME`
//! that uses it (keepalived 2.2.7, check/check_parser.c `vsg_handler`,
//! check/check_data.c `alloc_vsg_entry`, check/ipvswrapper.c
//! `ipvs_group_range_cmd`): the group's services share one set of real
//! servers, checkers and settings. IPVS holds one service per address (a
//! range is expanded) and per fwmark, each with the same destinations,
//! and `ipvsadm -Ln` lists each.
//!
//! Entries, one a line:
//!
//! ```text
//! 10.0.0.1 80             an address and port (port 0 or none: every port)
//! 10.0.0.3-10 80          10.0.0.3 to 10.0.0.10: the last byte (IPv6: group)
//! 10.0.0.3-10.0.1.4 80    to a whole address
//! 10.0.2.0/30 80          every address of a prefix (its host bits 0)
//! fwmark 1 [inet|inet6]   a firewall mark (family: the virtual server's)
//! ```

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::parse::{ConfigError, Location, Statement, Word};
use super::virtual_server::{VirtualServer, VsAddress};
use super::words;
use crate::ipvs::{Family, Forward};

/// More services than this from one group is surely a typo (a /8).
const MAX_SERVICES: usize = 65536;

/// One IPVS service of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupEntry {
    Addr {
        addr: IpAddr,
        port: u16,
    },
    /// None: the family of the virtual server using the group.
    Fwmark {
        mark: u32,
        family: Option<Family>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServerGroup {
    pub loc: Location,
    pub name: String,
    /// Expanded: one per IPVS service, in the order written.
    pub entries: Vec<GroupEntry>,
}

/// Reads a top-level `virtual_server_group` statement.
pub(crate) fn read(
    st: &Statement,
    earlier: &[VirtualServerGroup],
    errors: &mut Vec<ConfigError>,
) -> Option<VirtualServerGroup> {
    let (name, b) = match super::vrrp::named_block(st, earlier.iter().map(|g| (&*g.name, &g.loc))) {
        Ok(x) => x,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let n_errors = errors.len();
    let mut entries = Vec::new();
    for s in &b.statements {
        match entry(s, &mut entries) {
            Ok(()) if entries.len() > MAX_SERVICES => {
                errors.push(ConfigError::at(
                    &s.keyword.loc,
                    format!("virtual_server_group {name} has more than {MAX_SERVICES} services"),
                ));
                return None;
            }
            Ok(()) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.len() > n_errors {
        return None;
    }
    if entries.is_empty() {
        // keepalived: "virtual server group %s has no entries - removing".
        errors.push(ConfigError::at(
            &st.keyword.loc,
            format!("virtual_server_group {name} has no entries"),
        ));
        return None;
    }
    Some(VirtualServerGroup {
        loc: st.keyword.loc.clone(),
        name: name.to_owned(),
        entries,
    })
}

/// One line of a group, its services appended to `out`.
fn entry(s: &Statement, out: &mut Vec<GroupEntry>) -> Result<(), ConfigError> {
    words::no_block(s)?;
    let first = &s.keyword;
    if first.text == "fwmark" {
        let (mark, family) = match s.args.as_slice() {
            [] => return Err(ConfigError::at(&first.loc, "fwmark needs a number")),
            [m] => (m, None),
            [m, f] => (m, Some(f)),
            [_, _, extra, ..] => return Err(unexpected(extra)),
        };
        // keepalived takes 0, but mark 0 is no mark to IPVS.
        let mark = words::ranged(mark, "fwmark", 1, u32::MAX)?;
        let family = match family.map(|f| (f, f.text.as_str())) {
            None => None,
            Some((_, "inet")) => Some(Family::Inet),
            Some((_, "inet6")) => Some(Family::Inet6),
            Some((f, _)) => {
                return Err(ConfigError::at(
                    &f.loc,
                    format!(
                        "unknown fwmark family '{}' (expected inet or inet6)",
                        f.text
                    ),
                ))
            }
        };
        out.push(GroupEntry::Fwmark { mark, family });
        return Ok(());
    }
    let port = match s.args.as_slice() {
        [] => 0,
        [p] => words::port(p)?,
        [_, extra, ..] => return Err(unexpected(extra)),
    };
    let (start, end) = range(first)?;
    let (a, b) = (bits(start), bits(end));
    if b < a {
        return Err(ConfigError::at(
            &first.loc,
            format!("address range {} ends before it starts", first.text),
        ));
    }
    if b - a >= MAX_SERVICES as u128 {
        return Err(ConfigError::at(
            &first.loc,
            format!(
                "address range {} has more than {MAX_SERVICES} addresses",
                first.text
            ),
        ));
    }
    for n in a..=b {
        out.push(GroupEntry::Addr {
            addr: from_bits(n, start.is_ipv4()),
            port,
        });
    }
    Ok(())
}

fn unexpected(w: &Word) -> ConfigError {
    ConfigError::at(
        &w.loc,
        format!(
            "a virtual_server_group line is an address and port or fwmark N; unexpected '{}'",
            w.text
        ),
    )
}

/// `A`, `A-N`, `A-B` or `A/LEN`: the first and last address.
fn range(w: &Word) -> Result<(IpAddr, IpAddr), ConfigError> {
    let bad = |why: &str| {
        ConfigError::at(
            &w.loc,
            format!("'{}' is not an address or range: {why}", w.text),
        )
    };
    let parse = |t: &str| {
        t.parse::<IpAddr>()
            .map_err(|_| bad(&format!("'{t}' is not an address")))
    };
    if let Some((a, len)) = w.text.split_once('/') {
        let start = parse(a)?;
        let max = if start.is_ipv4() { 32 } else { 128 };
        let len: u32 = len
            .parse()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| bad(&format!("the prefix length must be 1 to {max}")))?;
        let host = if len == max {
            0
        } else {
            (1u128 << (max - len)) - 1
        };
        if bits(start) & host != 0 {
            return Err(bad("the address has host bits set for its prefix length"));
        }
        return Ok((start, from_bits(bits(start) | host, start.is_ipv4())));
    }
    let Some((a, end)) = w.text.split_once('-') else {
        let a = parse(&w.text)?;
        return Ok((a, a));
    };
    let start = parse(a)?;
    if end.contains(['.', ':']) {
        let end = parse(end)?;
        if end.is_ipv4() != start.is_ipv4() {
            return Err(bad("its ends are not of the same family"));
        }
        return Ok((start, end));
    }
    // keepalived's inet_stor: the last byte (IPv4, decimal) or 16-bit
    // group (IPv6, hex) of the end.
    let (last, mask) = match start {
        IpAddr::V4(_) => (end.parse::<u8>().map(u128::from), 0xff),
        IpAddr::V6(_) => (u16::from_str_radix(end, 16).map(u128::from), 0xffff),
    };
    let last = last.map_err(|_| bad(&format!("'{end}' is not the last part of an address")))?;
    let end = (bits(start) & !mask) | last;
    if end <= bits(start) {
        return Err(bad("the range's end is not greater than its start"));
    }
    Ok((start, from_bits(end, start.is_ipv4())))
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_bits(n: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

/// Gives each `virtual_server group NAME` its group's entries, and checks
/// their families against the servers IPVS would refuse in them: a real
/// or sorry server not tunnelled must be of the service's family.
pub(crate) fn resolve(
    vss: &mut [VirtualServer],
    groups: &[VirtualServerGroup],
    broken: &[&str],
    errors: &mut Vec<ConfigError>,
) {
    for vs in vss {
        let family = vs.family();
        let servers: Vec<IpAddr> = vs
            .real_servers
            .iter()
            .filter(|r| r.lb_kind != Forward::Tunnel)
            .map(|r| r.addr)
            .chain(
                vs.sorry_server
                    .iter()
                    .filter(|_| vs.sorry_lb_kind() != Some(Forward::Tunnel))
                    .map(|s| s.addr),
            )
            .collect();
        let loc = &vs.loc;
        let VsAddress::Group { name, entries } = &mut vs.address else {
            continue;
        };
        let Some(g) = groups.iter().find(|g| g.name == *name) else {
            if !broken.contains(&name.as_str()) {
                errors.push(ConfigError::at(
                    loc,
                    format!("there is no virtual_server_group '{name}'"),
                ));
            }
            continue;
        };
        let mismatch = g.entries.iter().find_map(|e| {
            let f = match e {
                GroupEntry::Addr { addr, .. } => Family::of(addr),
                GroupEntry::Fwmark { family: f, .. } => f.unwrap_or(family),
            };
            servers.iter().find(|a| Family::of(a) != f).map(|a| (f, *a))
        });
        if let Some((f, a)) = mismatch {
            errors.push(ConfigError::at(
                loc,
                format!(
                    "virtual_server_group {name} (at {}) has {f} services, and real server {a} is {}: \
                     IPVS takes a server of another family only tunnelled (lb_kind TUN)",
                    g.loc,
                    Family::of(&a)
                ),
            ));
        }
        *entries = g.entries.clone();
    }
}
