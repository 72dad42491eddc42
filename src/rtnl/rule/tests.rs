use netlink_packet_core::{Emitable, Parseable};

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn wire(r: &Rule) -> RuleMessage {
    let m = message(r);
    let mut buf = vec![0u8; m.buffer_len()];
    m.emit(&mut buf);
    RuleMessage::parse(buf.as_slice()).expect("parses")
}

#[test]
fn a_from_rule_to_a_small_table() {
    let mut r = Rule::new(Family::Inet, 100, Action::Table(2));
    r.from = Some((ip("192.168.200.0"), 24));
    let m = wire(&r);
    assert_eq!(m.header.family, AddressFamily::Inet);
    assert_eq!(m.header.table, 2);
    assert_eq!(m.header.src_len, 24);
    assert_eq!(m.header.action, RuleAction::ToTable);
    for a in [
        RuleAttribute::Source(ip("192.168.200.0")),
        RuleAttribute::Priority(100),
        RuleAttribute::Protocol(RouteProtocol::KeepAlived),
    ] {
        assert!(m.attributes.contains(&a), "{a:?} in {:?}", m.attributes);
    }
    assert_eq!(r.to_string(), "100: from 192.168.200.0/24 lookup 2");
}

#[test]
fn every_selector() {
    let mut r = Rule::new(Family::Inet6, 39, Action::Table(6908));
    r.to = Some((ip("2001:db8::"), 32));
    r.invert = true;
    r.tos = 0x10;
    r.fwmark = Some(24);
    r.fwmask = Some(0xff);
    r.iif = Some("eth0".into());
    r.oif = Some("eth1".into());
    r.suppress_prefixlen = Some(0);
    r.uid_range = Some((1000, 1999));
    r.protocol = None;
    r.ip_proto = Some(17);
    r.sport = Some((10, 20));
    r.dport = Some((53, 53));
    let m = wire(&r);
    assert_eq!(m.header.table, 0);
    assert_eq!(m.header.dst_len, 32);
    assert_eq!(m.header.tos, 0x10);
    assert!(m.header.flags.contains(RuleFlags::Invert));
    for a in [
        RuleAttribute::Table(6908),
        RuleAttribute::Destination(ip("2001:db8::")),
        RuleAttribute::FwMark(24),
        RuleAttribute::FwMask(0xff),
        RuleAttribute::Iifname("eth0".into()),
        RuleAttribute::Oifname("eth1".into()),
        RuleAttribute::SuppressPrefixLen(0),
        RuleAttribute::UidRange(RuleUidRange {
            start: 1000,
            end: 1999,
        }),
        RuleAttribute::IpProtocol(IpProtocol::Udp),
        RuleAttribute::SourcePortRange(RulePortRange { start: 10, end: 20 }),
        RuleAttribute::DestinationPortRange(RulePortRange { start: 53, end: 53 }),
    ] {
        assert!(m.attributes.contains(&a), "{a:?} in {:?}", m.attributes);
    }
    assert!(!m
        .attributes
        .iter()
        .any(|a| matches!(a, RuleAttribute::Protocol(_))));
}

#[test]
fn goto_and_reject_actions() {
    let r = Rule::new(Family::Inet, 10, Action::Goto(40));
    let m = wire(&r);
    assert_eq!(m.header.action, RuleAction::Goto);
    assert!(m.attributes.contains(&RuleAttribute::Goto(40)));
    let m = wire(&Rule::new(Family::Inet, 11, Action::Prohibit));
    assert_eq!(m.header.action, RuleAction::Prohibit);
    assert_eq!(m.header.table, 0);
}
