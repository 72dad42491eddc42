use super::*;
use crate::config::testing::*;

/// An instance whose excluded VIPs (of either family) are `lines`, from
/// line 6 of the file.
fn with_lines(lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "vrrp_instance VI_1 {",
        "  interface eth0",
        "  virtual_router_id 51",
        "  virtual_ipaddress { 10.9.9.9 }",
        "  virtual_ipaddress_excluded {",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(lines.iter().map(|l| format!("    {l}")));
    v.push("  }".into());
    v.push("}".into());
    v
}

fn vips(lines: &[&str]) -> Vec<Vip> {
    let text = with_lines(lines);
    let refs: Vec<&str> = text.iter().map(|s| s.as_str()).collect();
    let c = ok(&refs);
    c.vrrp_instances[0].excluded_vips.clone()
}

fn vip(line: &str) -> Vip {
    vips(&[line]).remove(0)
}

fn errors(lines: &[&str], want: &[&str]) {
    let text = with_lines(lines);
    let refs: Vec<&str> = text.iter().map(|s| s.as_str()).collect();
    assert_errors(&refs, want);
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn an_ipv4_address_alone_takes_keepalived_s_defaults() {
    let v = vip("192.168.200.16");
    assert_eq!(v.addr, ip("192.168.200.16"));
    assert_eq!((v.loc.line, v.loc.column), (6, 5));
    assert_eq!(v.prefix_len, 32);
    assert_eq!(v.dev, None);
    assert_eq!(v.scope, 0);
    assert_eq!(v.broadcast, None);
    assert_eq!(v.peer, None);
    assert_eq!(v.label, None);
    assert_eq!(v.flags, VipFlags::default());
    assert!(!v.no_track);
    assert_eq!(v.preferred_lft, None);
    assert_eq!(v.family(), Family::Inet);
    assert_eq!(v.to_string(), "192.168.200.16/32");
}

#[test]
fn ipv6_addresses_get_nodad_and_keepalived_s_preferred_lifetimes() {
    let v = vip("2001:db8::1");
    assert_eq!((v.prefix_len, v.preferred_lft), (128, Some(0)));
    assert!(v.flags.nodad);
    assert_eq!(v.family(), Family::Inet6);
    let v = vip("2001:db8::1/64");
    assert_eq!((v.prefix_len, v.preferred_lft), (64, Some(FOREVER)));
    let v = vip("fe80::1/64 -nodad preferred_lft 300 mngtmpaddr");
    assert!(!v.flags.nodad && v.flags.mngtmpaddr);
    assert_eq!(v.preferred_lft, Some(300));
    let v = vip("2001:db8::2 preferred_lft forever dev eth1");
    assert_eq!(v.preferred_lft, Some(FOREVER));
    assert_eq!(v.dev.as_deref(), Some("eth1"));
}

#[test]
fn every_option_of_an_ipv4_line() {
    let v = vip("192.168.1.10/24 dev eth1 scope link brd + label eth1:vip no_track noprefixroute autojoin home");
    assert_eq!(v.prefix_len, 24);
    assert_eq!(v.dev.as_deref(), Some("eth1"));
    assert_eq!(v.scope, 253);
    assert_eq!(v.broadcast, Some("192.168.1.255".parse().unwrap()));
    assert_eq!(v.label.as_deref(), Some("eth1:vip"));
    assert!(v.no_track);
    assert_eq!(
        v.flags,
        VipFlags {
            nodad: false,
            home: true,
            mngtmpaddr: false,
            noprefixroute: true,
            autojoin: true
        }
    );
    assert_eq!(
        vip("10.1.2.3/28 brd -").broadcast,
        Some("10.1.2.0".parse().unwrap())
    );
    assert_eq!(
        vip("10.1.2.3/30 broadcast 10.1.2.99").broadcast,
        Some("10.1.2.99".parse().unwrap())
    );
    assert_eq!(vip("10.1.2.3/0 brd +").broadcast, Some(Ipv4Addr::BROADCAST));
    let v = vip("10.0.0.1 peer 10.0.0.2");
    assert_eq!((v.peer, v.prefix_len), (Some(ip("10.0.0.2")), 32));
    let v = vip("10.0.0.1/32 peer 10.0.0.2");
    assert_eq!(v.peer, Some(ip("10.0.0.2")));
}

#[test]
fn scopes_by_name_or_number() {
    for (s, n) in [
        ("global", 0),
        ("site", 200),
        ("link", 253),
        ("host", 254),
        ("nowhere", 255),
        ("0x10", 16),
        ("010", 8),
        ("200", 200),
        ("0", 0),
    ] {
        assert_eq!(vip(&format!("10.0.0.1 scope {s}")).scope, n, "{s}");
    }
}

#[test]
fn every_mistake_of_a_line_is_located() {
    errors(
        &[
            "10.0.0.300",
            "10.0.0.1/33",
            "10.0.0.1/x",
            "2001:db8::1/129",
            "10.0.0.2 dev eth1 dev eth2",
            "10.0.0.3 dev eth0.very.long.name",
            "2001:db8::3 scope link",
            "10.0.0.4 scope galaxy",
            "2001:db8::4 brd +",
            "10.0.0.5 brd 10.0.0.x",
            "10.0.0.6/31 brd +",
            "2001:db8::5 label eth0:1",
            "10.0.0.7 label abcdefghijklmnop",
            "10.0.0.8 peer 2001:db8::1",
            "10.0.0.9/24 peer 10.0.0.10",
            "10.0.0.11 peer 10.0.0.12 peer 10.0.0.13",
            "10.0.0.14 peer 10.0.0.15 brd 10.0.0.255",
            "10.0.0.16 preferred_lft 30",
            "10.0.0.17 dev",
            "10.0.0.18 frobnicate",
            "10.0.0.19 use_vmac",
            "10.0.0.20 track_group g",
            "10.0.0.21 { }",
            "2001:db8::6 preferred_lft soon",
        ],
        &[
            "6:5: '10.0.0.300' is not an address (IPv4 or IPv6, with an optional /PREFIX)",
            "7:5: '33' is not a prefix length for 10.0.0.1 (0 to 32)",
            "8:5: 'x' is not a prefix length",
            "9:5: '129' is not a prefix length for 2001:db8::1 (0 to 128)",
            "10:23: dev is given twice for 10.0.0.2",
            "11:18: 'eth0.very.long.name' is not an interface name: longer than 15 bytes",
            "12:17: scope is for IPv4 addresses; 2001:db8::3 is IPv6",
            "13:20: unknown scope 'galaxy'",
            "14:17: IPv6 has no broadcast address (brd on 2001:db8::4)",
            "15:18: '10.0.0.x' is not an IPv4 broadcast address (or + or -)",
            "16:17: brd +: a /31 has no broadcast address (at most /30)",
            "17:17: label is for IPv4 addresses",
            "18:20: label 'abcdefghijklmnop' must be 1 to 15 bytes",
            "19:19: peer 2001:db8::1 is IPv6 but the address 10.0.0.8 is IPv4",
            "20:17: 10.0.0.9/24: an address with a peer takes no prefix",
            "21:30: peer is given twice for 10.0.0.11",
            "22:30: an address with a peer has no broadcast address",
            "23:15: preferred_lft is for IPv6 addresses; 10.0.0.16 is IPv4",
            "24:15: dev needs a value (address 10.0.0.17)",
            "25:15: unknown option 'frobnicate' for address 10.0.0.18",
            "26:15: use_vmac (a VRRP virtual MAC interface) is not supported yet",
            "27:15: track_group is not supported by afclusterd",
            "28:15: 10.0.0.21 takes no block",
            "29:31: 'soon' is not a valid preferred_lft",
        ],
    );
}

#[test]
fn a_virtual_ipaddress_needs_a_block() {
    assert_errors(
        &[
            "vrrp_instance VI_1 {",
            "  interface eth0",
            "  virtual_router_id 51",
            "  virtual_ipaddress 10.0.0.1",
            "}",
        ],
        &["4:3: virtual_ipaddress needs a { block }"],
    );
}
