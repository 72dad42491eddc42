//! Routes as keepalived adds and removes them (vrrp/vrrp_iproute.c
//! `netlink_route`): what a route is, and its RTM_NEWROUTE /
//! RTM_DELROUTE message. Building a message does no I/O; interface names
//! are resolved by the caller's function.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteMetric, RouteNextHop,
    RouteNextHopFlags, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::AddressFamily;

use crate::ipvs::Family;

/// RTPROT_KEEPALIVED: the protocol keepalived marks its routes and rules
/// with, and so do we (`ip route show proto keepalived` finds them).
pub const RTPROT_KEEPALIVED: u8 = 18;
/// RT_TABLE_MAIN.
pub const MAIN_TABLE: u32 = 254;

/// RTN_* route types `ip route` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unicast,
    Local,
    Broadcast,
    Anycast,
    Multicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Unicast,
        Kind::Local,
        Kind::Broadcast,
        Kind::Anycast,
        Kind::Multicast,
        Kind::Blackhole,
        Kind::Unreachable,
        Kind::Prohibit,
        Kind::Throw,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Unicast => "unicast",
            Kind::Local => "local",
            Kind::Broadcast => "broadcast",
            Kind::Anycast => "anycast",
            Kind::Multicast => "multicast",
            Kind::Blackhole => "blackhole",
            Kind::Unreachable => "unreachable",
            Kind::Prohibit => "prohibit",
            Kind::Throw => "throw",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// A route that goes nowhere: no gateway or device for IPv4.
    pub fn is_reject(self) -> bool {
        matches!(
            self,
            Kind::Blackhole | Kind::Unreachable | Kind::Prohibit | Kind::Throw
        )
    }

    fn raw(self) -> RouteType {
        match self {
            Kind::Unicast => RouteType::Unicast,
            Kind::Local => RouteType::Local,
            Kind::Broadcast => RouteType::Broadcast,
            Kind::Anycast => RouteType::Anycast,
            Kind::Multicast => RouteType::Multicast,
            Kind::Blackhole => RouteType::BlackHole,
            Kind::Unreachable => RouteType::Unreachable,
            Kind::Prohibit => RouteType::Prohibit,
            Kind::Throw => RouteType::Throw,
        }
    }
}

/// What a route add does when the kernel has a route to the same prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddMode {
    /// Before the others (the kernel's default, keepalived's).
    #[default]
    Prepend,
    /// Refused if one exists (`ip route add`, NLM_F_EXCL).
    Add,
    /// After the others (NLM_F_APPEND).
    Append,
}

/// RTAX_* metrics taking a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Mtu,
    Window,
    Ssthresh,
    Cwnd,
    Advmss,
    Reordering,
    Hoplimit,
    InitCwnd,
    Features,
    InitRwnd,
    QuickAck,
    FastopenNoCookie,
}

impl Metric {
    /// RTAX_*: the bit of RTAX_LOCK.
    fn rtax(self) -> u32 {
        match self {
            Metric::Mtu => 2,
            Metric::Window => 3,
            Metric::Ssthresh => 6,
            Metric::Cwnd => 7,
            Metric::Advmss => 8,
            Metric::Reordering => 9,
            Metric::Hoplimit => 10,
            Metric::InitCwnd => 11,
            Metric::Features => 12,
            Metric::InitRwnd => 14,
            Metric::QuickAck => 15,
            Metric::FastopenNoCookie => 17,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Mtu => "mtu",
            Metric::Window => "window",
            Metric::Ssthresh => "ssthresh",
            Metric::Cwnd => "cwnd",
            Metric::Advmss => "advmss",
            Metric::Reordering => "reordering",
            Metric::Hoplimit => "hoplimit",
            Metric::InitCwnd => "initcwnd",
            Metric::Features => "features",
            Metric::InitRwnd => "initrwnd",
            Metric::QuickAck => "quickack",
            Metric::FastopenNoCookie => "fastopen_no_cookie",
        }
    }

    fn attribute(self, v: u32) -> RouteMetric {
        match self {
            Metric::Mtu => RouteMetric::Mtu(v),
            Metric::Window => RouteMetric::Window(v),
            Metric::Ssthresh => RouteMetric::SsThresh(v),
            Metric::Cwnd => RouteMetric::Cwnd(v),
            Metric::Advmss => RouteMetric::Advmss(v),
            Metric::Reordering => RouteMetric::Reordering(v),
            Metric::Hoplimit => RouteMetric::Hoplimit(v),
            Metric::InitCwnd => RouteMetric::InitCwnd(v),
            Metric::Features => RouteMetric::Features(v),
            Metric::InitRwnd => RouteMetric::InitRwnd(v),
            Metric::QuickAck => RouteMetric::QuickAck(v),
            Metric::FastopenNoCookie => RouteMetric::FastopenNoCookie(v),
        }
    }
}

/// One path of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    /// 1..=256 (`weight`); sent as weight - 1.
    pub weight: u16,
    pub onlink: bool,
}

/// A route, as written in the configuration (interfaces by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub family: Family,
    pub kind: Kind,
    /// The type was written: a removal names it only then (and so removes
    /// a route of any type otherwise), as keepalived does.
    pub kind_written: bool,
    pub dst: IpAddr,
    pub dst_len: u8,
    /// `from`: the source prefix (RTA_SRC, IPv6 only).
    pub from: Option<(IpAddr, u8)>,
    /// `src`: the preferred source address (RTA_PREFSRC).
    pub src: Option<IpAddr>,
    /// `via`/`gw` (RTA_GATEWAY).
    pub via: Option<IpAddr>,
    /// `dev`/`oif` (RTA_OIF).
    pub dev: Option<String>,
    pub table: u32,
    /// `scope`; None: universe when adding, any when removing.
    pub scope: Option<u8>,
    /// `metric`/`priority`/`preference` (RTA_PRIORITY).
    pub metric: Option<u32>,
    pub protocol: u8,
    /// `tos`/`dsfield`.
    pub tos: u8,
    pub onlink: bool,
    pub metrics: Vec<(Metric, u32)>,
    /// Metrics marked `lock`.
    pub locked: Vec<Metric>,
    /// `congctl [lock] NAME` (RTAX_CC_ALGO).
    pub congctl: Option<(String, bool)>,
    /// `nexthop ...` or `or`: a multipath route.
    pub nexthops: Vec<NextHop>,
    pub mode: AddMode,
}

impl Route {
    /// A unicast route to `dst/dst_len` in the main table, as keepalived
    /// makes one by default.
    pub fn new(dst: IpAddr, dst_len: u8) -> Route {
        Route {
            family: Family::of(&dst),
            kind: Kind::Unicast,
            kind_written: false,
            dst,
            dst_len,
            from: None,
            src: None,
            via: None,
            dev: None,
            table: MAIN_TABLE,
            scope: None,
            metric: None,
            protocol: RTPROT_KEEPALIVED,
            tos: 0,
            onlink: false,
            metrics: Vec::new(),
            locked: Vec::new(),
            congctl: None,
            nexthops: Vec::new(),
            mode: AddMode::Prepend,
        }
    }

    /// The interfaces it names (its own and its next hops').
    pub fn devs(&self) -> impl Iterator<Item = &str> {
        self.dev
            .iter()
            .chain(self.nexthops.iter().filter_map(|n| n.dev.as_ref()))
            .map(|s| s.as_str())
    }

    /// NLM_F_* flags of its RTM_NEWROUTE.
    pub fn add_flags(&self) -> u16 {
        NLM_F_CREATE
            | match self.mode {
                AddMode::Prepend => 0,
                AddMode::Add => NLM_F_EXCL,
                AddMode::Append => NLM_F_APPEND,
            }
    }
}

impl std::fmt::Display for Route {
    /// As `ip route` would show it, roughly: for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.kind != Kind::Unicast {
            write!(f, "{} ", self.kind.name())?;
        }
        if self.dst_len == 0 {
            f.write_str("default")?;
        } else {
            write!(f, "{}/{}", self.dst, self.dst_len)?;
        }
        if let Some((a, l)) = self.from {
            write!(f, " from {a}/{l}")?;
        }
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        for n in &self.nexthops {
            f.write_str(" nexthop")?;
            if let Some(v) = n.via {
                write!(f, " via {v}")?;
            }
            if let Some(d) = &n.dev {
                write!(f, " dev {d}")?;
            }
            if n.weight != 1 {
                write!(f, " weight {}", n.weight)?;
            }
        }
        if self.table != MAIN_TABLE {
            write!(f, " table {}", self.table)?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        if let Some(s) = self.src {
            write!(f, " src {s}")?;
        }
        Ok(())
    }
}

/// Whether the message is to add or to remove the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Del,
}

fn address_family(f: Family) -> AddressFamily {
    match f {
        Family::Inet => AddressFamily::Inet,
        Family::Inet6 => AddressFamily::Inet6,
    }
}

/// RT_SCOPE_NOWHERE: on removal, "any scope".
const SCOPE_NOWHERE: u8 = 255;

/// The RTM_NEWROUTE (Add) or RTM_DELROUTE (Del) message of `r`;
/// `index_of` gives an interface's index by name. Err: an interface it
/// names does not exist (now).
pub fn message(
    r: &Route,
    op: Op,
    mut index_of: impl FnMut(&str) -> Option<u32>,
) -> Result<RouteMessage, String> {
    let mut index = |name: &str| index_of(name).ok_or_else(|| format!("no interface {name}"));
    let mut m = RouteMessage::default();
    let h: &mut RouteHeader = &mut m.header;
    h.address_family = address_family(r.family);
    h.destination_prefix_length = r.dst_len;
    h.tos = r.tos;
    h.protocol = RouteProtocol::from(r.protocol);
    // keepalived: the type only when written on removal, and "any scope"
    // unless one is written.
    h.kind = match op {
        Op::Add => r.kind.raw(),
        Op::Del if r.kind_written => r.kind.raw(),
        Op::Del => RouteType::Unspec,
    };
    h.scope = RouteScope::from(match (r.scope, op) {
        (Some(s), _) => s,
        (None, Op::Add) => 0,
        (None, Op::Del) => SCOPE_NOWHERE,
    });
    if r.onlink {
        h.flags = RouteFlags::Onlink;
    }
    match u8::try_from(r.table) {
        Ok(t) => h.table = t,
        Err(_) => {
            h.table = RouteHeader::RT_TABLE_UNSPEC;
            m.attributes.push(RouteAttribute::Table(r.table));
        }
    }
    let a = &mut m.attributes;
    if r.dst_len > 0 {
        a.push(RouteAttribute::Destination(RouteAddress::from(r.dst)));
    }
    if let Some((src, len)) = r.from {
        m.header.source_prefix_length = len;
        a.push(RouteAttribute::Source(RouteAddress::from(src)));
    }
    if let Some(s) = r.src {
        a.push(RouteAttribute::PrefSource(RouteAddress::from(s)));
    }
    if let Some(v) = r.via {
        a.push(RouteAttribute::Gateway(RouteAddress::from(v)));
    }
    if let Some(d) = &r.dev {
        a.push(RouteAttribute::Oif(index(d)?));
    }
    if let Some(p) = r.metric {
        a.push(RouteAttribute::Priority(p));
    }
    let mut metrics: Vec<RouteMetric> = r.metrics.iter().map(|(k, v)| k.attribute(*v)).collect();
    let mut lock: u32 = r.locked.iter().map(|k| 1u32 << k.rtax()).sum();
    if let Some((name, locked)) = &r.congctl {
        metrics.push(RouteMetric::CcAlgo(name.clone()));
        if *locked {
            // RTAX_CC_ALGO.
            lock |= 1 << 16;
        }
    }
    if !metrics.is_empty() {
        if lock != 0 {
            metrics.push(RouteMetric::Lock(lock));
        }
        a.push(RouteAttribute::Metrics(metrics));
    }
    if !r.nexthops.is_empty() {
        let mut hops = Vec::new();
        for n in &r.nexthops {
            let mut hop = RouteNextHop::default();
            if n.onlink {
                hop.flags = RouteNextHopFlags::Onlink;
            }
            hop.hops = u8::try_from(n.weight.saturating_sub(1)).unwrap_or(u8::MAX);
            if let Some(d) = &n.dev {
                hop.interface_index = index(d)?;
            }
            if let Some(v) = n.via {
                hop.attributes
                    .push(RouteAttribute::Gateway(RouteAddress::from(v)));
            }
            hops.push(hop);
        }
        a.push(RouteAttribute::MultiPath(hops));
    }
    Ok(m)
}

#[cfg(test)]
mod tests;
