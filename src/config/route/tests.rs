use super::*;
use crate::config::testing::*;

/// An instance whose virtual_routes are `lines`, from line 5.
fn with_lines(block: &str, lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "vrrp_instance VI_1 {",
        "  interface eth0",
        "  virtual_router_id 51",
        &format!("  {block} {{"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(lines.iter().map(|l| format!("    {l}")));
    v.push("  }".into());
    v.push("  virtual_ipaddress { 10.9.9.9 }".into());
    v.push("}".into());
    v
}

fn routes(lines: &[&str]) -> Vec<Route> {
    let text = with_lines("virtual_routes", lines);
    let refs: Vec<&str> = text.iter().map(|s| s.as_str()).collect();
    ok(&refs).vrrp_instances[0].routes.clone()
}

fn route(line: &str) -> rt::Route {
    routes(&[line]).remove(0).route
}

fn errors(lines: &[&str], want: &[&str]) {
    let text = with_lines("virtual_routes", lines);
    let refs: Vec<&str> = text.iter().map(|s| s.as_str()).collect();
    assert_errors(&refs, want);
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn keepalived_s_documented_lines() {
    let r = route("src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1");
    assert_eq!((r.dst, r.dst_len), (ip("192.168.109.0"), 24));
    assert_eq!(r.src, Some(ip("192.168.100.1")));
    assert_eq!(r.via, Some(ip("192.168.200.254")));
    assert_eq!(r.dev.as_deref(), Some("eth1"));
    assert_eq!((r.table, r.protocol, r.scope), (254, 18, None));
    assert_eq!((r.kind, r.kind_written), (Kind::Unicast, false));
    assert_eq!(r.mode, AddMode::Prepend);
    assert_eq!(r.family, Family::Inet);

    let r = route("blackhole 192.168.114.0/24");
    assert_eq!((r.kind, r.kind_written), (Kind::Blackhole, true));
    let r = route("0.0.0.0/0 gw 192.168.0.1 table 100");
    assert_eq!((r.dst_len, r.table), (0, 100));
    let r = route("192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1");
    assert_eq!(r.via, None);
    assert_eq!(
        r.nexthops.iter().map(|n| n.via).collect::<Vec<_>>(),
        [Some(ip("192.168.200.254")), Some(ip("192.168.100.254"))]
    );
    let rs = routes(&["192.168.111.0/24 dev eth2 no_track"]);
    assert!(rs[0].no_track);
    assert_eq!((rs[0].loc.line, rs[0].loc.column), (5, 5));
}

#[test]
fn ipv6_defaults_types_and_options() {
    let r = route("inet6 default via fe80::1 dev eth0 metric 1024 append");
    assert_eq!((r.dst, r.dst_len), (ip("::"), 0));
    assert_eq!(r.family, Family::Inet6);
    assert_eq!(r.metric, Some(1024));
    assert_eq!(r.mode, AddMode::Append);
    let r = route("2001:db8::/32 from 2001:db8:1::/48 dev eth0 type unreachable");
    assert_eq!(r.from, Some((ip("2001:db8:1::"), 48)));
    assert_eq!(r.kind, Kind::Unreachable);
    let r = route("10.1.0.0/16 dev eth0 scope link protocol static no_track tos 0x10 onlink add");
    assert_eq!(
        (r.scope, r.protocol, r.tos, r.onlink),
        (Some(253), 4, 16, true)
    );
    assert_eq!(r.mode, AddMode::Add);
    let r =
        route("10.2.0.0/16 via 10.0.0.1 mtu lock 1400 hoplimit 64 features ecn congctl lock cubic");
    assert_eq!(
        r.metrics,
        [
            (Metric::Mtu, 1400),
            (Metric::Hoplimit, 64),
            (Metric::Features, 1)
        ]
    );
    assert_eq!(r.locked, [Metric::Mtu]);
    assert_eq!(r.congctl, Some(("cubic".into(), true)));
    let r = route(
        "10.3.0.0/16 table main nexthop via 10.0.0.1 dev eth0 weight 2 nexthop via 10.0.0.2 onlink",
    );
    assert_eq!(r.nexthops.len(), 2);
    assert_eq!(
        (r.nexthops[0].weight, r.nexthops[0].dev.as_deref()),
        (2, Some("eth0"))
    );
    assert!(r.nexthops[1].onlink);
}

#[test]
fn a_tracked_route_is_keepalived_s_whatever_protocol_is_written() {
    let text = with_lines("virtual_routes", &["10.1.0.0/16 dev eth0 protocol bird"]);
    let refs: Vec<&str> = text.iter().map(|s| s.as_str()).collect();
    let c = ok(&refs);
    assert_eq!(c.vrrp_instances[0].routes[0].route.protocol, 18);
    assert_messages(
        &c.warnings,
        &[
            "5:35: without no_track a route's protocol is keepalived (18)",
            "5:5: virtual_routes: afclusterd does not watch them",
        ],
    );
}

#[test]
fn mistakes_are_located() {
    errors(
        &[
            "10.1.0.1/16 dev eth0",
            "10.1.0.0/16 via 2001:db8::1",
            "blackhole 10.2.0.0/16 dev eth0",
            "10.3.0.0/16 encap mpls 100",
            "10.4.0.0/16 frobnicate",
            "dev eth0",
            "10.5.0.0/16 table small",
            "10.6.0.0/16 from 10.0.0.0/8",
            "10.7.0.0/16 nexthop weight 2",
            "10.8.0.0/16 metric",
            "10.9.0.0/40",
            "10.10.0.0/16 nexthop via 10.0.0.1 mtu 1400",
        ],
        &[
            "5:5: 10.1.0.1/16: host bits are set (the prefix is 10.1.0.0/16)",
            "6:21: a gateway of another family",
            "7:5: a blackhole route takes no via or dev",
            "8:17: encap: lightweight tunnel encapsulation is not supported",
            "9:17: unknown route option 'frobnicate'",
            "10:5: the route has no destination",
            "11:23: unknown routing table 'small'",
            "12:22: a route's from (source prefix) is for IPv6 only",
            "13:17: a nexthop needs a via or a dev",
            "14:17: metric needs a value",
            "15:5: '40' is not a prefix length",
            "16:39: unknown next hop option 'mtu'",
        ],
    );
}
