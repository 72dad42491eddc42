use netlink_packet_core::{Emitable, Parseable};

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The message as the kernel would read it back.
fn wire(r: &Route, op: Op) -> RouteMessage {
    let m = message(r, op, |n| match n {
        "eth0" => Some(2),
        "eth1" => Some(3),
        _ => None,
    })
    .expect("interfaces found");
    let mut buf = vec![0u8; m.buffer_len()];
    m.emit(&mut buf);
    RouteMessage::parse(buf.as_slice()).expect("parses")
}

#[test]
fn a_gateway_route_is_sent_as_keepalived_sends_it() {
    let mut r = Route::new(ip("192.168.110.0"), 24);
    r.via = Some(ip("192.168.200.254"));
    r.dev = Some("eth1".into());
    r.src = Some(ip("192.168.100.1"));
    r.metric = Some(10);
    let m = wire(&r, Op::Add);
    assert_eq!(m.header.address_family, AddressFamily::Inet);
    assert_eq!(m.header.destination_prefix_length, 24);
    assert_eq!(m.header.table, 254);
    assert_eq!(m.header.protocol, RouteProtocol::KeepAlived);
    assert_eq!(m.header.scope, RouteScope::Universe);
    assert_eq!(m.header.kind, RouteType::Unicast);
    for a in [
        RouteAttribute::Destination(RouteAddress::from(ip("192.168.110.0"))),
        RouteAttribute::Gateway(RouteAddress::from(ip("192.168.200.254"))),
        RouteAttribute::PrefSource(RouteAddress::from(ip("192.168.100.1"))),
        RouteAttribute::Oif(3),
        RouteAttribute::Priority(10),
    ] {
        assert!(m.attributes.contains(&a), "{a:?} in {:?}", m.attributes);
    }
    assert_eq!(r.add_flags(), NLM_F_CREATE);
    assert_eq!(
        r.to_string(),
        "192.168.110.0/24 via 192.168.200.254 dev eth1 metric 10 src 192.168.100.1"
    );
}

#[test]
fn a_removal_matches_any_scope_and_the_type_only_if_written() {
    let mut r = Route::new(ip("10.1.0.0"), 16);
    let m = wire(&r, Op::Del);
    assert_eq!(m.header.scope, RouteScope::NoWhere);
    assert_eq!(m.header.kind, RouteType::Unspec);
    r.kind = Kind::Blackhole;
    r.kind_written = true;
    r.scope = Some(253);
    let m = wire(&r, Op::Del);
    assert_eq!(m.header.kind, RouteType::BlackHole);
    assert_eq!(m.header.scope, RouteScope::Link);
}

#[test]
fn a_default_route_in_a_big_table_carries_rta_table_and_no_destination() {
    let mut r = Route::new(ip("::"), 0);
    r.table = 1000;
    r.via = Some(ip("fe80::1"));
    r.dev = Some("eth0".into());
    r.mode = AddMode::Append;
    let m = wire(&r, Op::Add);
    assert_eq!(m.header.address_family, AddressFamily::Inet6);
    assert_eq!(m.header.table, 0);
    assert!(m.attributes.contains(&RouteAttribute::Table(1000)));
    assert!(!m
        .attributes
        .iter()
        .any(|a| matches!(a, RouteAttribute::Destination(_))));
    assert_eq!(r.add_flags(), NLM_F_CREATE | NLM_F_APPEND);
    assert_eq!(r.to_string(), "default via fe80::1 dev eth0 table 1000");
}

#[test]
fn multipath_metrics_and_locks() {
    let mut r = Route::new(ip("10.2.0.0"), 16);
    r.nexthops = vec![
        NextHop {
            via: Some(ip("192.0.2.1")),
            dev: Some("eth0".into()),
            weight: 1,
            onlink: false,
        },
        NextHop {
            via: Some(ip("192.0.2.2")),
            dev: None,
            weight: 3,
            onlink: true,
        },
    ];
    r.metrics = vec![(Metric::Mtu, 1400), (Metric::Hoplimit, 64)];
    r.locked = vec![Metric::Mtu];
    r.onlink = true;
    let m = wire(&r, Op::Add);
    assert!(m.header.flags.contains(RouteFlags::Onlink));
    let Some(RouteAttribute::MultiPath(hops)) = m
        .attributes
        .iter()
        .find(|a| matches!(a, RouteAttribute::MultiPath(_)))
    else {
        panic!("no multipath in {:?}", m.attributes)
    };
    assert_eq!(hops.len(), 2);
    assert_eq!((hops[0].interface_index, hops[0].hops), (2, 0));
    assert_eq!(hops[1].hops, 2);
    assert!(hops[1].flags.contains(RouteNextHopFlags::Onlink));
    assert!(hops[1]
        .attributes
        .contains(&RouteAttribute::Gateway(RouteAddress::from(ip(
            "192.0.2.2"
        )))));
    let Some(RouteAttribute::Metrics(ms)) = m
        .attributes
        .iter()
        .find(|a| matches!(a, RouteAttribute::Metrics(_)))
    else {
        panic!("no metrics")
    };
    assert!(ms.contains(&RouteMetric::Mtu(1400)));
    assert!(ms.contains(&RouteMetric::Hoplimit(64)));
    assert!(ms.contains(&RouteMetric::Lock(1 << 2)));
}

#[test]
fn a_missing_interface_is_named() {
    let mut r = Route::new(ip("10.3.0.0"), 16);
    r.dev = Some("eth9".into());
    let e = message(&r, Op::Add, |_| None).unwrap_err();
    assert_eq!(e, "no interface eth9");
}

#[test]
fn kinds_by_name() {
    for k in Kind::ALL {
        assert_eq!(Kind::from_name(k.name()), Some(k));
    }
    assert_eq!(Kind::from_name("nat"), None);
    assert!(Kind::Blackhole.is_reject() && !Kind::Local.is_reject());
}
