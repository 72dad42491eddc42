//! The lines of `virtual_routes { }` and `static_routes { }`: keepalived
//! 2.2.7's subset of `ip route add` (vrrp/vrrp_iproute.c `alloc_route`):
//! `[inet|inet6] [src IP] [to] [TYPE] PREFIX|default [from PREFIX]
//! [via|gw [inet|inet6] IP] [or IP] [dev|oif IF] [table T] [scope S]
//! [metric|priority|preference N] [protocol P] [tos|dsfield N] [onlink]
//! [mtu|advmss|cwnd|ssthresh|reordering [lock] N] [window|hoplimit|
//! initcwnd|initrwnd N] [features ecn] [quickack 0|1] [fastopen_no_cookie 0|1]
//! [congctl [lock] NAME] [add|prepend|append] [no_track]
//! [nexthop [via IP] [dev IF] [weight N] [onlink]]...`, the options in any
//! order.
//!
//! keepalived drops a line it cannot read (and runs without the route);
//! here each mistake is an error at its word. A route without `dev` has
//! no interface, as in keepalived: the kernel finds it from the gateway.
//! The rarer options (encap, realms, expires, pref, rtt, vrf, ...) are
//! refused by name.

#[cfg(test)]
mod tests;

use std::net::IpAddr;

use super::parse::{ConfigError, Location, Statement, Word};
use super::vip;
use super::words;
use crate::ipvs::Family;
use crate::rtnl::route::{self as rt, AddMode, Kind, Metric, NextHop, RTPROT_KEEPALIVED};

/// One route line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The line's first word.
    pub loc: Location,
    /// What is added and removed.
    pub route: rt::Route,
    /// `no_track`: keepalived would not leave MASTER if it were deleted
    /// (afclusterd watches no route: see `read_block`).
    pub no_track: bool,
}

/// The words of a line, one at a time.
pub(crate) struct Cursor<'a> {
    words: Vec<&'a Word>,
    i: usize,
}

impl<'a> Cursor<'a> {
    pub fn of(st: &'a Statement) -> Cursor<'a> {
        Cursor {
            words: std::iter::once(&st.keyword).chain(&st.args).collect(),
            i: 0,
        }
    }

    pub fn next(&mut self) -> Option<&'a Word> {
        let w = self.words.get(self.i).copied();
        self.i += 1;
        w
    }

    pub fn peek(&self) -> Option<&'a Word> {
        self.words.get(self.i).copied()
    }

    /// The value after option `opt`.
    pub fn value(&mut self, opt: &Word) -> Result<&'a Word, ConfigError> {
        self.next()
            .ok_or_else(|| ConfigError::at(&opt.loc, format!("{} needs a value", opt.text)))
    }
}

/// The family of a route or rule: set by `inet`/`inet6` or its first
/// address; an address of the other is an error.
#[derive(Default)]
pub(crate) struct FamilyOf(Option<Family>);

impl FamilyOf {
    pub fn set(&mut self, f: Family, w: &Word) -> Result<(), ConfigError> {
        match self.0 {
            Some(g) if g != f => Err(ConfigError::at(
                &w.loc,
                format!(
                    "'{}' is {f} but the line is {g}: IPv4 and IPv6 do not mix",
                    w.text
                ),
            )),
            _ => {
                self.0 = Some(f);
                Ok(())
            }
        }
    }

    pub fn get(&self) -> Family {
        self.0.unwrap_or(Family::Inet)
    }
}

/// A number as C's strtoul base 0 reads it (decimal, 0x hex, 0 octal).
pub(crate) fn number(t: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
        (h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A number from 0 to `max`; `what` names it in the message.
pub(crate) fn bounded(w: &Word, what: &str, max: u64) -> Result<u64, ConfigError> {
    number(&w.text).filter(|n| *n <= max).ok_or_else(|| {
        ConfigError::at(
            &w.loc,
            format!("'{}' is not a valid {what} (0 to {max})", w.text),
        )
    })
}

/// A routing table: a number, or main, local or default (names from
/// /etc/iproute2/rt_tables are not read).
pub(crate) fn table(w: &Word) -> Result<u32, ConfigError> {
    match w.text.as_str() {
        "main" => return Ok(254),
        "local" => return Ok(255),
        "default" => return Ok(253),
        _ => {}
    }
    number(&w.text)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            ConfigError::at(
                &w.loc,
                format!(
                    "unknown routing table '{}': write its number (afclusterd reads no \
                     /etc/iproute2/rt_tables; main, local and default are known)",
                    w.text
                ),
            )
        })
}

/// A route protocol: a number or a name of iproute2's rt_protos.
pub(crate) fn protocol(w: &Word) -> Result<u8, ConfigError> {
    let named = match w.text.as_str() {
        "unspec" => Some(0),
        "redirect" => Some(1),
        "kernel" => Some(2),
        "boot" => Some(3),
        "static" => Some(4),
        "gated" => Some(8),
        "ra" => Some(9),
        "mrt" => Some(10),
        "zebra" => Some(11),
        "bird" => Some(12),
        "dnrouted" => Some(13),
        "xorp" => Some(14),
        "ntk" => Some(15),
        "dhcp" => Some(16),
        "keepalived" => Some(RTPROT_KEEPALIVED),
        "babel" => Some(42),
        "bgp" => Some(186),
        "isis" => Some(187),
        "ospf" => Some(188),
        "rip" => Some(189),
        "eigrp" => Some(192),
        _ => None,
    };
    named
        .or_else(|| number(&w.text).and_then(|n| u8::try_from(n).ok()))
        .ok_or_else(|| {
            ConfigError::at(
                &w.loc,
                format!(
                    "unknown protocol '{}' (a number 0 to 255, or kernel, boot, static, \
                     keepalived, bird, zebra, ...)",
                    w.text
                ),
            )
        })
}

/// A prefix with no host bits (the kernel refuses an IPv4 route with
/// them; a rule would ignore them); default, any and all are 0/0.
pub(crate) fn prefix(w: &Word, family: &mut FamilyOf) -> Result<Option<(IpAddr, u8)>, ConfigError> {
    match w.text.as_str() {
        "default" | "any" | "all" => return Ok(None),
        "default6" => {
            family.set(Family::Inet6, w)?;
            return Ok(None);
        }
        _ => {}
    }
    let (a, len) = vip::address(w)?;
    family.set(Family::of(&a), w)?;
    let masked = mask(a, len);
    if masked != a {
        return Err(ConfigError::at(
            &w.loc,
            format!(
                "{}: host bits are set (the prefix is {masked}/{len})",
                w.text
            ),
        ));
    }
    Ok(Some((a, len)))
}

fn mask(a: IpAddr, len: u8) -> IpAddr {
    match a {
        IpAddr::V4(v) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4((u32::from(v) & m).into())
        }
        IpAddr::V6(v) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6((u128::from(v) & m).into())
        }
    }
}

/// An address without prefix, of the line's family.
fn address(w: &Word, family: &mut FamilyOf) -> Result<IpAddr, ConfigError> {
    let a = words::ip(w)?;
    family.set(Family::of(&a), w)?;
    Ok(a)
}

/// keepalived's options it does not take here, and why.
fn refused(o: &str) -> Option<&'static str> {
    Some(match o {
        "encap" => "lightweight tunnel encapsulation is not supported by afclusterd",
        "as" => "MPLS ('as to') is not supported by afclusterd",
        "realms" => "route realms are not supported by afclusterd",
        "expires" | "pref" | "ttl-propagate" => {
            "this IPv6/MPLS route option is not supported by afclusterd"
        }
        "rtt" | "rttvar" | "rto_min" => {
            "timed metrics (rtt, rttvar, rto_min) are not supported by afclusterd"
        }
        "vrf" => "VRFs are not supported yet by afclusterd (write the VRF's table)",
        "track_group" => {
            "track_group is not supported by afclusterd: no instance follows static routes"
        }
        _ => return None,
    })
}

/// Reads one route line.
pub(crate) fn read(st: &Statement, warnings: &mut Vec<ConfigError>) -> Result<Route, ConfigError> {
    words::no_block(st)?;
    let mut c = Cursor::of(st);
    let mut family = FamilyOf::default();
    let mut kind: Option<Kind> = None;
    let mut dst: Option<(Option<(IpAddr, u8)>, &Word)> = None;
    let mut r = rt::Route::new(IpAddr::from([0u8; 4]), 0);
    let mut protocol: Option<(u8, &Word)> = None;
    let mut no_track = false;
    let mut or: Option<&Word> = None;
    while let Some(w) = c.next() {
        let o = w.text.as_str();
        match o {
            "inet" => family.set(Family::Inet, w)?,
            "inet6" => family.set(Family::Inet6, w)?,
            "src" => r.src = Some(address(c.value(w)?, &mut family)?),
            "via" | "gw" => {
                if o == "gw" {
                    warnings.push(ConfigError::at(
                        &w.loc,
                        "gw for routes is deprecated (as in keepalived): write via",
                    ));
                }
                r.via = Some(via(&mut c, w, &mut family)?);
            }
            "from" => {
                let v = c.value(w)?;
                r.from = prefix(v, &mut family)?;
                if r.from.is_some_and(|(a, _)| a.is_ipv4()) {
                    return Err(ConfigError::at(
                        &v.loc,
                        "a route's from (source prefix) is for IPv6 only",
                    ));
                }
            }
            "tos" | "dsfield" => r.tos = bounded(c.value(w)?, "TOS", 255)? as u8,
            "table" => r.table = table(c.value(w)?)?,
            "protocol" => {
                let v = c.value(w)?;
                protocol = Some((protocol_of(v)?, v));
            }
            "scope" => r.scope = Some(vip::scope(c.value(w)?)?),
            "metric" | "priority" | "preference" => {
                r.metric = Some(bounded(c.value(w)?, "metric", u64::from(u32::MAX))? as u32)
            }
            "dev" | "oif" => r.dev = Some(words::ifname(c.value(w)?)?.to_string()),
            "onlink" => r.onlink = true,
            "mtu" | "advmss" | "cwnd" | "ssthresh" | "reordering" | "window" | "hoplimit"
            | "initcwnd" | "initrwnd" | "quickack" | "fastopen_no_cookie" => {
                metric(&mut c, w, &mut r)?
            }
            "features" => {
                let v = c.value(w)?;
                if v.text != "ecn" {
                    return Err(ConfigError::at(
                        &v.loc,
                        format!("unknown route feature '{}' (ecn is the only one)", v.text),
                    ));
                }
                r.metrics.push((Metric::Features, 1));
            }
            "congctl" => {
                let mut v = c.value(w)?;
                let lock = v.text == "lock";
                if lock {
                    v = c.value(w)?;
                }
                r.congctl = Some((v.text.clone(), lock));
            }
            "add" => r.mode = AddMode::Add,
            "prepend" => r.mode = AddMode::Prepend,
            "append" => r.mode = AddMode::Append,
            "no_track" => no_track = true,
            "or" => {
                warnings.push(ConfigError::at(
                    &w.loc,
                    "or for routes is deprecated (as in keepalived): write nexthop via A nexthop via B",
                ));
                let v = c.value(w)?;
                let Some(first) = r.via.take() else {
                    return Err(ConfigError::at(
                        &w.loc,
                        "or needs a via before it (the first path)",
                    ));
                };
                if or.is_some() {
                    return Err(ConfigError::at(&w.loc, "or is given twice"));
                }
                or = Some(w);
                let second = address(v, &mut family)?;
                for a in [first, second] {
                    r.nexthops.push(NextHop {
                        via: Some(a),
                        dev: None,
                        weight: 1,
                        onlink: false,
                    });
                }
            }
            "nexthop" => {
                if or.is_some() {
                    return Err(ConfigError::at(&w.loc, "nexthop and or do not mix"));
                }
                nexthops(&mut c, w, &mut r, &mut family)?;
            }
            _ => {
                if let Some(why) = refused(o) {
                    return Err(ConfigError::at(&w.loc, format!("{o}: {why}")));
                }
                // `[to] [TYPE] PREFIX`.
                let mut d = w;
                if d.text == "to" {
                    d = c.value(w)?;
                }
                if d.text == "type" {
                    let t = c.value(d)?;
                    kind = Some(Kind::from_name(&t.text).ok_or_else(|| unknown_type(t))?);
                    continue;
                }
                if let Some(k) = Kind::from_name(&d.text) {
                    kind = Some(k);
                    d = c.value(d)?;
                }
                let p = prefix(d, &mut family).map_err(|e| {
                    if d.text.parse::<IpAddr>().is_ok() || d.text.contains('/') {
                        e
                    } else {
                        unknown_option(d)
                    }
                })?;
                if let Some((_, first)) = dst {
                    return Err(ConfigError::at(
                        &d.loc,
                        format!(
                            "'{}': the route already goes to {} (one destination a line)",
                            d.text, first.text
                        ),
                    ));
                }
                dst = Some((p, d));
            }
        }
    }
    let Some((dst, _)) = dst else {
        return Err(ConfigError::at(
            &st.keyword.loc,
            "the route has no destination (PREFIX, or default)",
        ));
    };
    let f = family.get();
    let (a, len) = dst.unwrap_or((unspecified(f), 0));
    r.dst = a;
    r.dst_len = len;
    r.family = f;
    if let Some(k) = kind {
        r.kind = k;
        r.kind_written = true;
    }
    // As keepalived: a tracked route is marked keepalived's, whatever
    // protocol was written.
    match protocol {
        Some((p, v)) if !no_track && p != RTPROT_KEEPALIVED => {
            warnings.push(ConfigError::at(
                &v.loc,
                "without no_track a route's protocol is keepalived (18), as keepalived resets it",
            ));
        }
        Some((p, _)) => r.protocol = p,
        None => {}
    }
    if f == Family::Inet && r.kind.is_reject() && (r.via.is_some() || r.dev.is_some()) {
        return Err(ConfigError::at(
            &st.keyword.loc,
            format!(
                "a {} route takes no via or dev (the kernel refuses it)",
                r.kind.name()
            ),
        ));
    }
    if !r.nexthops.is_empty() && r.via.is_some() {
        return Err(ConfigError::at(
            &st.keyword.loc,
            "a route with next hops takes its gateways in them, not in via",
        ));
    }
    Ok(Route {
        loc: st.keyword.loc.clone(),
        route: r,
        no_track,
    })
}

fn unspecified(f: Family) -> IpAddr {
    match f {
        Family::Inet => IpAddr::from([0u8; 4]),
        Family::Inet6 => IpAddr::from([0u16; 8]),
    }
}

fn unknown_type(w: &Word) -> ConfigError {
    ConfigError::at(
        &w.loc,
        format!(
            "unknown route type '{}' (unicast, local, broadcast, anycast, multicast, blackhole, \
             unreachable, prohibit or throw)",
            w.text
        ),
    )
}

fn unknown_option(w: &Word) -> ConfigError {
    ConfigError::at(
        &w.loc,
        format!(
            "unknown route option '{}' (expected a destination, src, via, dev, table, scope, \
             metric, protocol, type, onlink, nexthop, no_track, ...)",
            w.text
        ),
    )
}

fn protocol_of(v: &Word) -> Result<u8, ConfigError> {
    protocol(v)
}

/// `via [inet|inet6] IP`.
fn via(c: &mut Cursor, opt: &Word, family: &mut FamilyOf) -> Result<IpAddr, ConfigError> {
    let mut v = c.value(opt)?;
    let stated = match v.text.as_str() {
        "inet" => Some(Family::Inet),
        "inet6" => Some(Family::Inet6),
        _ => None,
    };
    if let Some(f) = stated {
        family.set(f, v)?;
        v = c.value(v)?;
    }
    let a = words::ip(v)?;
    if let Some(f) = family.0 {
        if Family::of(&a) != f {
            return Err(ConfigError::at(
                &v.loc,
                format!(
                    "a gateway of another family ({a} for an {f} route, RTA_VIA) is not supported by afclusterd"
                ),
            ));
        }
    }
    family.set(Family::of(&a), v)?;
    Ok(a)
}

/// A metric: `NAME [lock] N` (lock where `ip route` allows it).
fn metric(c: &mut Cursor, w: &Word, r: &mut rt::Route) -> Result<(), ConfigError> {
    let (m, lockable, max) = match w.text.as_str() {
        "mtu" => (Metric::Mtu, true, u64::from(u32::MAX)),
        "advmss" => (Metric::Advmss, true, u64::from(u32::MAX)),
        "cwnd" => (Metric::Cwnd, true, u64::from(u32::MAX)),
        "ssthresh" => (Metric::Ssthresh, true, u64::from(u32::MAX)),
        "reordering" => (Metric::Reordering, true, u64::from(u32::MAX)),
        "window" => (Metric::Window, false, u64::from(u32::MAX)),
        "hoplimit" => (Metric::Hoplimit, false, 255),
        "initcwnd" => (Metric::InitCwnd, false, u64::from(u32::MAX)),
        "initrwnd" => (Metric::InitRwnd, false, u64::from(u32::MAX)),
        "quickack" => (Metric::QuickAck, false, 1),
        _ => (Metric::FastopenNoCookie, false, 1),
    };
    let mut v = c.value(w)?;
    if lockable && v.text == "lock" {
        r.locked.push(m);
        v = c.value(w)?;
    }
    let n = bounded(v, m.name(), max)? as u32;
    r.metrics.retain(|(k, _)| *k != m);
    r.metrics.push((m, n));
    Ok(())
}

/// `nexthop [via [inet|inet6] IP] [dev IF] [weight N] [onlink]`, as many
/// as given: the rest of the line.
fn nexthops(
    c: &mut Cursor,
    first: &Word,
    r: &mut rt::Route,
    family: &mut FamilyOf,
) -> Result<(), ConfigError> {
    let mut at = Some(first);
    while let Some(kw) = at {
        let mut hop = NextHop {
            via: None,
            dev: None,
            weight: 1,
            onlink: false,
        };
        at = None;
        while let Some(w) = c.next() {
            match w.text.as_str() {
                "via" => hop.via = Some(via(c, w, family)?),
                "dev" => hop.dev = Some(words::ifname(c.value(w)?)?.to_string()),
                "weight" => {
                    let v = c.value(w)?;
                    hop.weight = number(&v.text)
                        .filter(|n| (1..=256).contains(n))
                        .ok_or_else(|| {
                            ConfigError::at(
                                &v.loc,
                                format!("'{}' is not a next hop weight (1 to 256)", v.text),
                            )
                        })? as u16;
                }
                "onlink" => hop.onlink = true,
                "nexthop" => {
                    at = Some(w);
                    break;
                }
                o => {
                    return Err(ConfigError::at(
                        &w.loc,
                        format!(
                            "unknown next hop option '{o}' (via, dev, weight or onlink; \
                             the route's own options go before the first nexthop)"
                        ),
                    ))
                }
            }
        }
        if hop.via.is_none() && hop.dev.is_none() {
            return Err(ConfigError::at(&kw.loc, "a nexthop needs a via or a dev"));
        }
        r.nexthops.push(hop);
    }
    debug_assert!(c.peek().is_none());
    Ok(())
}

/// Reads the lines of a `virtual_routes` or `static_routes` block; the
/// lines in error are left out, their errors in `errors`.
pub(crate) fn read_block(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Vec<Route> {
    let b = match words::block(st) {
        Ok(b) => b,
        Err(e) => {
            errors.push(e);
            return Vec::new();
        }
    };
    let routes: Vec<Route> = b
        .statements
        .iter()
        .filter_map(|s| read(s, warnings).map_err(|e| errors.push(e)).ok())
        .collect();
    // keepalived watches a tracked route with a dev (a virtual one: it
    // leaves MASTER; a static one: it adds it back); afclusterd does not.
    if let Some(r) = routes.iter().find(|r| !r.no_track && r.route.dev.is_some()) {
        warnings.push(watch_warning(&r.loc, &st.keyword.text));
    }
    routes
}

/// afclusterd does not watch the routes or rules it adds.
pub(crate) fn watch_warning(at: &Location, block: &str) -> ConfigError {
    let then = if block.starts_with("static") {
        "until a reload or restart (keepalived would add it back)"
    } else {
        "until the next change to MASTER (keepalived would leave MASTER and add it back)"
    };
    ConfigError::at(
        at,
        format!(
            "{block}: afclusterd does not watch them: one deleted by hand stays deleted {then}; \
             no_track says you expect that"
        ),
    )
}
