//! Policy-routing rules as keepalived adds and removes them
//! (vrrp/vrrp_iprule.c `netlink_rule`): what a rule is, and its
//! RTM_NEWRULE / RTM_DELRULE message (no I/O).

use std::net::IpAddr;

use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::rule::{
    RuleAction, RuleAttribute, RuleFlags, RuleHeader, RuleMessage, RulePortRange, RuleUidRange,
};
use netlink_packet_route::{AddressFamily, IpProtocol};

use crate::ipvs::Family;

/// What a rule does with the packets it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `table`/`lookup N`.
    Table(u32),
    /// `goto N`: the rule of that preference.
    Goto(u32),
    Nop,
    Blackhole,
    Unreachable,
    Prohibit,
}

/// A rule, as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub family: Family,
    /// `from PREFIX` (none: all).
    pub from: Option<(IpAddr, u8)>,
    /// `to PREFIX` (none: all).
    pub to: Option<(IpAddr, u8)>,
    /// `not`.
    pub invert: bool,
    /// `preference`/`priority`/`order`.
    pub priority: u32,
    pub action: Action,
    pub tos: u8,
    pub fwmark: Option<u32>,
    /// `fwmark M/MASK`.
    pub fwmask: Option<u32>,
    /// `iif`/`dev`.
    pub iif: Option<String>,
    pub oif: Option<String>,
    /// `suppress_prefixlength`/`sup_pl`.
    pub suppress_prefixlen: Option<u32>,
    pub uid_range: Option<(u32, u32)>,
    /// FRA_PROTOCOL; None: not sent.
    pub protocol: Option<u8>,
    /// `ipproto`.
    pub ip_proto: Option<u8>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
}

impl Rule {
    /// A rule to `action` at `priority` that matches everything, with
    /// keepalived's protocol.
    pub fn new(family: Family, priority: u32, action: Action) -> Rule {
        Rule {
            family,
            from: None,
            to: None,
            invert: false,
            priority,
            action,
            tos: 0,
            fwmark: None,
            fwmask: None,
            iif: None,
            oif: None,
            suppress_prefixlen: None,
            uid_range: None,
            protocol: Some(super::route::RTPROT_KEEPALIVED),
            ip_proto: None,
            sport: None,
            dport: None,
        }
    }
}

impl std::fmt::Display for Rule {
    /// As `ip rule` would show it, roughly: for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:", self.priority)?;
        if self.invert {
            f.write_str(" not")?;
        }
        match self.from {
            Some((a, l)) => write!(f, " from {a}/{l}")?,
            None => f.write_str(" from all")?,
        }
        if let Some((a, l)) = self.to {
            write!(f, " to {a}/{l}")?;
        }
        if let Some(m) = self.fwmark {
            write!(f, " fwmark {m:#x}")?;
            if let Some(k) = self.fwmask {
                write!(f, "/{k:#x}")?;
            }
        }
        if let Some(i) = &self.iif {
            write!(f, " iif {i}")?;
        }
        if let Some(o) = &self.oif {
            write!(f, " oif {o}")?;
        }
        match self.action {
            Action::Table(t) => write!(f, " lookup {t}"),
            Action::Goto(g) => write!(f, " goto {g}"),
            Action::Nop => f.write_str(" nop"),
            Action::Blackhole => f.write_str(" blackhole"),
            Action::Unreachable => f.write_str(" unreachable"),
            Action::Prohibit => f.write_str(" prohibit"),
        }
    }
}

/// The RTM_NEWRULE or RTM_DELRULE message of `r` (they are the same;
/// the kernel matches a removal on every attribute given).
pub fn message(r: &Rule) -> RuleMessage {
    let mut m = RuleMessage::default();
    let h: &mut RuleHeader = &mut m.header;
    h.family = match r.family {
        Family::Inet => AddressFamily::Inet,
        Family::Inet6 => AddressFamily::Inet6,
    };
    h.tos = r.tos;
    if r.invert {
        h.flags = RuleFlags::Invert;
    }
    h.action = match r.action {
        Action::Table(_) => RuleAction::ToTable,
        Action::Goto(_) => RuleAction::Goto,
        Action::Nop => RuleAction::Nop,
        Action::Blackhole => RuleAction::Blackhole,
        Action::Unreachable => RuleAction::Unreachable,
        Action::Prohibit => RuleAction::Prohibit,
    };
    let a = &mut m.attributes;
    if let Action::Table(t) = r.action {
        match u8::try_from(t) {
            Ok(t) => m.header.table = t,
            Err(_) => a.push(RuleAttribute::Table(t)),
        }
    }
    if let Some((addr, len)) = r.from {
        m.header.src_len = len;
        a.push(RuleAttribute::Source(addr));
    }
    if let Some((addr, len)) = r.to {
        m.header.dst_len = len;
        a.push(RuleAttribute::Destination(addr));
    }
    a.push(RuleAttribute::Priority(r.priority));
    if let Some(v) = r.fwmark {
        a.push(RuleAttribute::FwMark(v));
    }
    if let Some(v) = r.fwmask {
        a.push(RuleAttribute::FwMask(v));
    }
    if let Some(v) = r.suppress_prefixlen {
        a.push(RuleAttribute::SuppressPrefixLen(v));
    }
    if let Some(i) = &r.iif {
        a.push(RuleAttribute::Iifname(i.clone()));
    }
    if let Some(o) = &r.oif {
        a.push(RuleAttribute::Oifname(o.clone()));
    }
    if let Some((start, end)) = r.uid_range {
        a.push(RuleAttribute::UidRange(RuleUidRange { start, end }));
    }
    if let Some(p) = r.protocol {
        a.push(RuleAttribute::Protocol(RouteProtocol::from(p)));
    }
    if let Some(p) = r.ip_proto {
        a.push(RuleAttribute::IpProtocol(IpProtocol::from(p)));
    }
    if let Some((start, end)) = r.sport {
        a.push(RuleAttribute::SourcePortRange(RulePortRange { start, end }));
    }
    if let Some((start, end)) = r.dport {
        a.push(RuleAttribute::DestinationPortRange(RulePortRange {
            start,
            end,
        }));
    }
    if let Action::Goto(g) = r.action {
        a.push(RuleAttribute::Goto(g));
    }
    m
}

#[cfg(test)]
mod tests;
