use super::*;
use crate::config::testing::*;
use crate::config::{Config, ConfigErrors};
use std::path::Path;

/// `vrrp_instance VI_1 { interface eth0; virtual_router_id 51; BODY }`,
/// the body from line 4.
fn inst(body: &[&str]) -> Vec<String> {
    let mut v = vec![
        "vrrp_instance VI_1 {".to_string(),
        "  interface eth0".to_string(),
        "  virtual_router_id 51".to_string(),
    ];
    v.extend(body.iter().map(|l| format!("  {l}")));
    v.push("}".into());
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

fn one(body: &[&str]) -> VrrpInstance {
    let c = ok(&refs(&inst(body)));
    assert_eq!(c.vrrp_instances.len(), 1);
    c.vrrp_instances.into_iter().next().unwrap()
}

/// The instance and its warnings.
fn warned(body: &[&str], want: &[&str]) -> VrrpInstance {
    let c = ok(&refs(&inst(body)));
    assert_messages(&c.warnings, want);
    c.vrrp_instances.into_iter().next().unwrap()
}

fn errs(body: &[&str], want: &[&str]) {
    assert_errors(&refs(&inst(body)), want);
}

const VIP: &str = "virtual_ipaddress { 10.0.0.100 }";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn defaults_are_keepalived_2_2_7_s() {
    let i = one(&[VIP]);
    assert_eq!((i.loc.line, i.loc.column), (1, 1));
    assert_eq!(i.name, "VI_1");
    assert_eq!(i.state, InitialState::Backup);
    assert_eq!(i.interface, "eth0");
    assert!(!i.dont_track_primary);
    assert_eq!((i.vrid, i.priority), (51, 100));
    assert_eq!(i.advert_int, secs(1.0));
    assert_eq!(i.version, VrrpVersion::V2);
    assert_eq!(i.family, Family::Inet);
    assert!(!i.nopreempt);
    assert_eq!(i.preempt_delay, Duration::ZERO);
    assert_eq!(i.vips.len(), 1);
    assert_eq!(i.vips[0].addr, ip("10.0.0.100"));
    assert!(i.excluded_vips.is_empty());
    assert_eq!((i.src_ip, i.track_src_ip), (None, false));
    assert!(i.unicast_peers.is_empty());
    assert_eq!((i.unicast_ttl, i.unicast_fault_no_peer), (None, false));
    assert_eq!(i.mcast_group, Some(ip("224.0.0.18")));
    assert!(!i.check_unicast_src && !i.skip_check_adv_addr && !i.strict);
    assert_eq!(i.auth_pass, None);
    assert_eq!(
        i.garp,
        Garp {
            master_delay: secs(5.0),
            master_repeat: 5,
            master_refresh: Duration::ZERO,
            master_refresh_repeat: 1,
            lower_prio_delay: secs(5.0),
            lower_prio_repeat: 5,
        }
    );
    assert_eq!(i.down_timer_adverts, 3);
    assert!(!i.lower_prio_no_advert && !i.higher_prio_send_advert && !i.v3_checksum_as_v2);
    assert_eq!(i.kernel_rx_buf_size, None);
    assert_eq!(i.notify, Notify::default());
    assert!(i.track_interfaces.is_empty() && i.track_scripts.is_empty());
    assert!(i.track_files.is_empty() && i.track_nodes.is_empty());
    assert_eq!(i.sync_group, None);
    // The global defaults.
    let c = ok(&refs(&inst(&[VIP])));
    assert_eq!(c.global.vrrp, crate::config::VrrpGlobals::default());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn every_keyword() {
    let i = one(&[
        "state BACKUP",
        "dont_track_primary",
        "priority 150",
        "advert_int 3",
        "version 2",
        "nopreempt",
        "virtual_ipaddress {",
        "  10.0.0.100/24 dev eth1",
        "  10.0.0.101",
        "}",
        "virtual_ipaddress_excluded {",
        "  2001:db8::1/64",
        "}",
        "mcast_src_ip 10.0.0.2",
        "track_src_ip",
        "mcast_dst_ip 224.0.0.99",
        "skip_check_adv_addr",
        "strict_mode off",
        "authentication {",
        "  auth_type PASS",
        "  auth_pass secret",
        "}",
        "garp_master_delay 7",
        "garp_master_repeat 3",
        "garp_master_refresh 60",
        "garp_master_refresh_repeat 2",
        "garp_lower_prio_delay 4",
        "garp_lower_prio_repeat 6",
        "down_timer_adverts 5",
        "lower_prio_no_advert",
        "higher_prio_send_advert yes",
        "v3_checksum_as_v2",
        "kernel_rx_buf_size 262144",
        "accept",
        "notify_master /bin/true",
        "notify_backup \"/bin/echo backup\"",
        "notify_fault /bin/false",
        "notify_stop /bin/true",
        "notify /bin/echo",
        "track_interface {",
        "  eth2 weight -10",
        "  eth3 weight 5 reverse",
        "  eth4",
        "}",
        "track_node {",
        "  local",
        "  7 weight -20",
        "}",
    ]);
    assert_eq!(i.state, InitialState::Backup);
    assert!(i.dont_track_primary && i.nopreempt && i.track_src_ip);
    assert_eq!(i.priority, 150);
    assert_eq!(i.advert_int, secs(3.0));
    assert_eq!(i.version, VrrpVersion::V2);
    assert_eq!(i.vips.len(), 2);
    assert_eq!(i.vips[0].dev.as_deref(), Some("eth1"));
    assert_eq!(i.excluded_vips[0].addr, ip("2001:db8::1"));
    assert_eq!(i.src_ip, Some(ip("10.0.0.2")));
    assert_eq!(i.mcast_group, Some(ip("224.0.0.99")));
    assert!(i.skip_check_adv_addr && !i.strict);
    assert_eq!(i.auth_pass.as_deref(), Some("secret"));
    assert_eq!(
        i.garp,
        Garp {
            master_delay: secs(7.0),
            master_repeat: 3,
            master_refresh: secs(60.0),
            master_refresh_repeat: 2,
            lower_prio_delay: secs(4.0),
            lower_prio_repeat: 6,
        }
    );
    assert_eq!(i.down_timer_adverts, 5);
    assert!(i.lower_prio_no_advert && i.higher_prio_send_advert && i.v3_checksum_as_v2);
    assert_eq!(i.kernel_rx_buf_size, Some(262144));
    assert_eq!(i.notify.master.as_ref().unwrap().argv, ["/bin/true"]);
    assert_eq!(
        i.notify.backup.as_ref().unwrap().argv,
        ["/bin/echo", "backup"]
    );
    assert_eq!(i.notify.fault.as_ref().unwrap().argv, ["/bin/false"]);
    assert_eq!(i.notify.stop.as_ref().unwrap().argv, ["/bin/true"]);
    assert_eq!(i.notify.any.as_ref().unwrap().argv, ["/bin/echo"]);
    let t: Vec<_> = i
        .track_interfaces
        .iter()
        .map(|t| (t.interface.as_str(), t.weight, t.reverse))
        .collect();
    assert_eq!(
        t,
        [("eth2", -10, false), ("eth3", 5, true), ("eth4", 0, false)]
    );
    let n: Vec<_> = i.track_nodes.iter().map(|t| (&t.node, t.weight)).collect();
    assert_eq!(n, [(&NodeRef::Local, 0), (&NodeRef::Id(7), -20)]);
}

#[test]
fn state_and_priority_default_from_each_other_as_in_2_2_7() {
    // state MASTER without priority: the owner's 255.
    let i = warned(
        &["state MASTER", VIP],
        &["4:9: state MASTER without a priority: priority 255 (the address owner), as keepalived 2.2.7 does"],
    );
    assert_eq!((i.state, i.priority), (InitialState::Master, 255));
    // A lower priority is allowed (it waits one advert interval).
    let i = one(&["state MASTER", "priority 100", VIP]);
    assert_eq!((i.state, i.priority), (InitialState::Master, 100));
    // Priority 255 without state: MASTER.
    let i = one(&["priority 255", VIP]);
    assert_eq!(i.state, InitialState::Master);
    let i = one(&["priority 254", VIP]);
    assert_eq!(i.state, InitialState::Backup);
}

#[test]
fn head_and_required_keywords_are_located_errors() {
    assert_errors(
        &["vrrp_instance {", "}", "vrrp_instance A B {", "}", "vrrp_instance C", "vrrp_instance D {", "}"],
        &[
            "1:1: vrrp_instance needs a name",
            "3:17: vrrp_instance takes one name; unexpected 'B'",
            "5:1: vrrp_instance C needs a { block }",
            "6:1: vrrp_instance D: needs a virtual_router_id (1 to 255)",
            "6:1: vrrp_instance D: needs an interface (keepalived 2.2.7 refuses an instance without one",
        ],
    );
    assert_errors(
        &[
            "vrrp_instance VI_1 {",
            "  interface eth0",
            "  virtual_router_id 1",
            "  virtual_ipaddress { 10.0.0.1 }",
            "}",
            "vrrp_instance VI_1 {",
            "}",
        ],
        &["6:15: vrrp_instance VI_1 is already defined at /etc/afclusterd/t.conf:1:1"],
    );
}

#[test]
fn values_out_of_range_are_errors() {
    errs(
        &[
            "state master",
            "state BACKUP",
            "state MASTER",
            "priority 0",
            "priority 256",
            "advert_int 0.005",
            "advert_int 256",
            "advert_int -1",
            "version 4",
            "preempt_delay 1001",
            "garp_master_delay 4295",
            "garp_lower_prio_repeat -1",
            "down_timer_adverts 0",
            "down_timer_adverts 101",
            "kernel_rx_buf_size big",
            "lower_prio_no_advert maybe",
            "unicast_ttl 256",
            "interface eth0:1",
            "virtual_router_id 0",
            "nopreempt now",
            "virtual_router_id",
            VIP,
        ],
        &[
            "4:9: unknown state 'master' (expected MASTER or BACKUP; keepalived would use BACKUP)",
            "6:3: state is already set at /etc/afclusterd/t.conf:5:9",
            "7:12: priority 0 is out of range: 1 to 255",
            "8:12: '256' is not a valid priority (1 to 255)",
            "9:14: 0.005 s is too short: at least 0.01 s",
            "10:14: 256 s is too long: at most 255 s",
            "11:14: '-1' is not a number of seconds",
            "12:11: VRRP version '4': must be 2 or 3",
            "13:17: 1001 s is too long: at most 1000 s",
            "14:21: garp_master_delay 4295 is out of range: 0 to 4294",
            "15:26: '-1' is not a valid garp_lower_prio_repeat",
            "16:22: down_timer_adverts 0 is out of range: 1 to 100",
            "17:22: down_timer_adverts 101 is out of range",
            "18:22: 'big' is not a valid kernel_rx_buf_size",
            "19:24: 'maybe' is not a boolean",
            "20:15: '256' is not a valid unicast_ttl (0 to 255)",
            "21:13: 'eth0:1' is not an interface name: '/', ':' and blanks are not allowed",
            "22:21: virtual_router_id 0 is out of range: 1 to 255",
            "23:13: nopreempt takes no value; unexpected 'now'",
            "24:3: virtual_router_id needs a value",
        ],
    );
}

#[test]
fn advert_int_is_rounded_to_what_the_version_carries() {
    let i = warned(
        &["advert_int 1.5", VIP],
        &["4:14: advert_int 1.5 s: VRRPv2 carries whole seconds: rounded to 2 s, as keepalived does"],
    );
    assert_eq!(i.advert_int, secs(2.0));
    let i = warned(
        &["advert_int 0.4", VIP],
        &["4:14: advert_int 0.4 s: VRRPv2 carries whole seconds: rounded to 1 s"],
    );
    assert_eq!(i.advert_int, secs(1.0));
    let i = one(&["version 3", "advert_int 0.25", VIP]);
    assert_eq!(i.advert_int, secs(0.25));
    let i = warned(
        &["version 3", "advert_int 0.015", VIP],
        &["5:14: advert_int 0.015 s: VRRPv3 carries hundredths of a second: rounded to 0.02 s"],
    );
    assert_eq!(i.advert_int, secs(0.02));
    let i = one(&["version 3", "advert_int 40.95", VIP]);
    assert_eq!(i.advert_int, secs(40.95));
    let i = one(&["advert_int 255", VIP]);
    assert_eq!(i.advert_int, secs(255.0));
    errs(
        &["version 3", "advert_int 41", VIP],
        &["5:14: advert_int 41 s is too long for VRRPv3: at most 40.95 s"],
    );
}

#[test]
fn version_and_family() {
    assert_eq!(one(&["version 3", VIP]).version, VrrpVersion::V3);
    let c = ok(&refs(
        &[
            vec![
                "global_defs {".to_string(),
                "  vrrp_version 3".into(),
                "}".into(),
            ],
            inst(&[VIP]),
        ]
        .concat(),
    ));
    assert_eq!(c.vrrp_instances[0].version, VrrpVersion::V3);
    // IPv6: always version 3.
    let i = one(&["virtual_ipaddress { fe80::1 }"]);
    assert_eq!((i.family, i.version), (Family::Inet6, VrrpVersion::V3));
    assert_eq!(i.mcast_group, Some(ip("ff02::12")));
    let i = one(&["native_ipv6", "virtual_ipaddress { fe80::1 }"]);
    assert_eq!((i.family, i.version), (Family::Inet6, VrrpVersion::V3));
    // The family of the addresses when there are no VIPs.
    let i = warned(
        &["mcast_src_ip 10.0.0.1"],
        &["1:1: vrrp_instance VI_1: no virtual_ipaddress: at least one is sensible"],
    );
    assert_eq!(i.family, Family::Inet);
    errs(
        &["version 2", "virtual_ipaddress { fe80::1 }"],
        &["4:11: VRRP version 2 has no IPv6 (RFC 3768): write version 3, or nothing"],
    );
    errs(
        &[
            "virtual_ipaddress {",
            "  10.0.0.1",
            "  fe80::1",
            "}",
            "mcast_src_ip fe80::2",
            "unicast_peer {",
            "  fe80::3",
            "}",
            "native_ipv6",
        ],
        &[
            "6:5: VIP fe80::1 is IPv6 but the instance is IPv4 (from VIP 10.0.0.1 at /etc/afclusterd/t.conf:5:5)",
            "8:16: source address fe80::2 is IPv6 but the instance is IPv4",
            "10:5: unicast peer fe80::3 is IPv6 but the instance is IPv4",
            "12:3: native_ipv6, but the instance is IPv4 (from VIP 10.0.0.1",
        ],
    );
    // The excluded VIPs may be of the other family, as keepalived allows.
    let i = one(&[VIP, "virtual_ipaddress_excluded { 2001:db8::1 }"]);
    assert_eq!(i.family, Family::Inet);
}

#[test]
fn vips_required_by_v3_and_strict_mode_and_limited_by_the_packet() {
    errs(
        &["version 3"],
        &["1:1: vrrp_instance VI_1: no virtual_ipaddress: VRRPv3 needs at least one"],
    );
    errs(
        &["native_ipv6"],
        &["1:1: vrrp_instance VI_1: no virtual_ipaddress: VRRPv3 needs at least one"],
    );
    errs(
        &["strict_mode"],
        &["1:1: vrrp_instance VI_1: no virtual_ipaddress: strict mode needs at least one"],
    );
    // Lines in error: not a second error for the missing VIPs.
    errs(
        &["version 3", "virtual_ipaddress { 10.0.0.x }"],
        &["5:23: '10.0.0.x' is not an address"],
    );
    let mut body = vec!["virtual_ipaddress {".to_string()];
    body.extend((0..90).map(|n| format!("  fe80::{:x}", n + 1)));
    body.push("}".into());
    errs(
        &refs(&body),
        &["1:1: 90 VIPs do not fit in an advert (at most 89 at MTU 1500)"],
    );
    let mut body = vec!["virtual_ipaddress {".to_string()];
    body.extend((0..256).map(|n| format!("  10.1.{}.{}", n / 200, n % 200 + 1)));
    body.push("}".into());
    errs(
        &refs(&body),
        &["1:1: 256 VIPs do not fit in an advert (at most 255"],
    );
}

#[test]
fn duplicate_vips_are_dropped_with_a_warning_and_ipv6_should_start_link_local() {
    let i = warned(
        &[
            "virtual_ipaddress {",
            "  10.0.0.1",
            "  10.0.0.1 label eth0:1",
            "  10.0.0.1 dev eth1",
            "}",
            "virtual_ipaddress_excluded { 10.0.0.1 }",
        ],
        &[
            "6:5: 10.0.0.1 is already a VIP of this instance at /etc/afclusterd/t.conf:5:5: an interface has an address once",
            "9:32: 10.0.0.1 is already a VIP of this instance",
        ],
    );
    assert_eq!(i.vips.len(), 2);
    assert!(i.excluded_vips.is_empty());
    warned(
        &["virtual_ipaddress { 2001:db8::1 }"],
        &["4:23: the first IPv6 VIP, 2001:db8::1, should be link-local (RFC 5798 5.2.9)"],
    );
    errs(
        &["strict_mode", "priority 255", "virtual_ipaddress { 2001:db8::1 }"],
        &["6:23: the first IPv6 VIP, 2001:db8::1, should be link-local (RFC 5798 5.2.9): strict mode requires it"],
    );
    // Unicast: no rule.
    one(&[
        "virtual_ipaddress { 2001:db8::1 }",
        "unicast_peer { 2001:db8::2 }",
    ]);
}

#[test]
fn authentication_is_vrrpv2_pass_only() {
    let i = warned(
        &[
            "authentication {",
            "  auth_type PASS",
            "  auth_pass 123456789",
            "}",
            VIP,
        ],
        &["6:15: auth_pass is truncated to 8 characters, as keepalived does"],
    );
    assert_eq!(i.auth_pass.as_deref(), Some("12345678"));
    errs(
        &[
            "authentication {",
            "  auth_type AH",
            "  auth_pass 1111",
            "}",
            VIP,
        ],
        &["5:15: auth_type AH (IPsec AH authentication) is not supported by afclusterd"],
    );
    errs(
        &["authentication {", "  auth_type MD5", "  bogus 1", "}", VIP],
        &[
            "5:15: unknown auth_type 'MD5' (expected PASS or AH)",
            "6:5: unknown keyword 'bogus' in authentication",
        ],
    );
    errs(
        &["authentication {", "  auth_pass 1111", "}", VIP],
        &["5:15: auth_pass without auth_type PASS: no authentication would be done"],
    );
    errs(
        &["authentication {", "  auth_type PASS", "}", VIP],
        &["4:3: auth_type PASS needs an auth_pass"],
    );
    errs(
        &[
            "version 3",
            "authentication {",
            "  auth_type PASS",
            "  auth_pass x",
            "}",
            VIP,
        ],
        &["5:3: VRRP version 3 has no authentication (keepalived would ignore it)"],
    );
    errs(
        &[
            "strict_mode",
            "priority 255",
            "authentication {",
            "  auth_type PASS",
            "  auth_pass x",
            "}",
            VIP,
        ],
        &["6:3: strict mode allows no authentication"],
    );
}

#[test]
fn unicast_peers() {
    let i = one(&[
        VIP,
        "unicast_src_ip 10.0.0.1",
        "unicast_ttl 10",
        "unicast_peer {",
        "  10.0.0.2",
        "  10.0.0.3 min_ttl 250 max_ttl 255",
        "}",
    ]);
    assert_eq!(i.src_ip, Some(ip("10.0.0.1")));
    assert_eq!(i.unicast_ttl, Some(10));
    assert_eq!(i.mcast_group, None);
    let p: Vec<_> = i
        .unicast_peers
        .iter()
        .map(|p| (p.addr, p.min_ttl, p.max_ttl))
        .collect();
    assert_eq!(p, [(ip("10.0.0.2"), 0, 255), (ip("10.0.0.3"), 250, 255)]);
    assert!(
        i.check_unicast_src,
        "a TTL check is a source check (keepalived)"
    );
    assert!(!one(&[VIP, "unicast_peer { 10.0.0.2 }"]).check_unicast_src);
    assert!(one(&[VIP, "check_unicast_src", "unicast_peer { 10.0.0.2 }"]).check_unicast_src);
    // A unicast keyword without peers: multicast, as keepalived (deprecated).
    let i = warned(
        &[VIP, "unicast_src_ip 10.0.0.1"],
        &["5:3: unicast_src_ip without any unicast peer: the instance uses multicast"],
    );
    assert_eq!(i.mcast_group, Some(ip("224.0.0.18")));
    let i = one(&[VIP, "unicast_src_ip 10.0.0.1", "unicast_fault_no_peer"]);
    assert!(i.unicast_fault_no_peer);
    errs(
        &[
            VIP,
            "unicast_ttl 3",
            "mcast_src_ip 10.0.0.1",
            "unicast_src_ip 10.0.0.1",
            "mcast_dst_ip 10.0.0.9",
            "unicast_peer {",
            "  10.0.0.2 min_ttl 9 max_ttl 8",
            "  10.0.0.3 ttl 1",
            "  10.0.0.4 max_ttl",
            "  10.0.0.5",
            "  10.0.0.5",
            "  ::1",
            "}",
        ],
        &[
            "7:3: the source address is already set at /etc/afclusterd/t.conf:6:16 (mcast_src_ip and unicast_src_ip are one setting)",
            "8:16: mcast_dst_ip 10.0.0.9 is not a multicast address",
            "10:5: min_ttl 9 > max_ttl 8: every advert from 10.0.0.2 would be dropped",
            "11:14: unknown unicast_peer option 'ttl' (expected min_ttl or max_ttl)",
            "12:14: max_ttl needs a value",
            "14:5: unicast peer 10.0.0.5 is already listed at /etc/afclusterd/t.conf:13:5",
            "15:5: unicast peer ::1 is IPv6 but the instance is IPv4",
        ],
    );
    errs(
        &[VIP, "unicast_ttl 3"],
        &["5:15: unicast_ttl without unicast peers (keepalived would reset it)"],
    );
    errs(
        &[VIP, "mcast_dst_ip 224.0.0.9", "unicast_peer { 10.0.0.2 }"],
        &["5:16: mcast_dst_ip has no use with unicast peers"],
    );
    assert_eq!(
        one(&["mcast_dst_ip ff02::99", "virtual_ipaddress { fe80::1 }"]).mcast_group,
        Some(ip("ff02::99"))
    );
    errs(
        &["mcast_dst_ip ff05::99", "virtual_ipaddress { fe80::1 }"],
        &["4:16: mcast_dst_ip ff05::99 is not a link-local multicast address (ff02::/16)"],
    );
}

#[test]
fn preemption_needs_state_backup() {
    let i = one(&["nopreempt", "preempt", VIP]);
    assert!(!i.nopreempt, "preempt is the default, and clears nopreempt");
    assert_eq!(one(&["preempt_delay 2.5", VIP]).preempt_delay, secs(2.5));
    let i = warned(
        &["priority 255", "nopreempt", VIP],
        &["5:3: nopreempt has no effect with priority 255: the address owner always preempts"],
    );
    assert!(!i.nopreempt);
    errs(
        &["state MASTER", "priority 100", "nopreempt", VIP],
        &["6:3: nopreempt needs state BACKUP (keepalived would clear it with state MASTER)"],
    );
    errs(
        &["state MASTER", "priority 100", "preempt_delay 5", VIP],
        &["6:17: preempt_delay needs state BACKUP"],
    );
    errs(
        &["nopreempt", "preempt_delay 5", VIP],
        &["5:17: preempt_delay has no use with nopreempt"],
    );
    // 0 is no delay: nothing to refuse.
    one(&["nopreempt", "preempt_delay 0", VIP]);
}

#[test]
fn garp_settings_come_from_global_defs_unless_set() {
    let c = ok(&refs(
        &[
            vec![
                "global_defs {".to_string(),
                "  vrrp_garp_master_delay 1".into(),
                "  vrrp_garp_master_repeat 2".into(),
                "  vrrp_garp_master_refresh 30".into(),
                "  vrrp_garp_master_refresh_repeat 3".into(),
                "}".into(),
            ],
            inst(&[VIP]),
        ]
        .concat(),
    ));
    let g = c.vrrp_instances[0].garp;
    assert_eq!(
        g,
        Garp {
            master_delay: secs(1.0),
            master_repeat: 2,
            master_refresh: secs(30.0),
            master_refresh_repeat: 3,
            // Unset: the master's.
            lower_prio_delay: secs(1.0),
            lower_prio_repeat: 2,
        }
    );
    let i = warned(
        &["garp_master_repeat 0", "garp_master_refresh_repeat 0", VIP],
        &[
            "4:22: garp_master_repeat 0 is read as 1, as keepalived does",
            "5:30: garp_master_refresh_repeat 0 is read as 1",
        ],
    );
    assert_eq!((i.garp.master_repeat, i.garp.master_refresh_repeat), (1, 1));
}

#[test]
fn strict_mode_applies_keepalived_s_rules() {
    let global = |body: &[&str]| {
        [
            vec![
                "global_defs {".to_string(),
                "  vrrp_strict".into(),
                "}".into(),
            ],
            inst(body),
        ]
        .concat()
    };
    let c = ok(&refs(&global(&["priority 255", VIP])));
    let i = &c.vrrp_instances[0];
    assert!(i.strict);
    assert_eq!(
        (i.garp.lower_prio_delay, i.garp.lower_prio_repeat),
        (Duration::ZERO, 0)
    );
    assert!(i.lower_prio_no_advert && !i.higher_prio_send_advert);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // Not the owner: keepalived's no_accept firewall is not done.
    let c = ok(&refs(&global(&["priority 100", VIP])));
    assert_messages(
        &c.warnings,
        &["4:1: vrrp_instance VI_1: in strict mode keepalived drops traffic to the VIPs"],
    );
    // strict_mode off wins over vrrp_strict.
    let c = ok(&refs(&global(&[
        "strict_mode off",
        "state MASTER",
        "priority 100",
        VIP,
    ])));
    assert!(!c.vrrp_instances[0].strict);
    assert_errors(
        &refs(&global(&[
            "state MASTER",
            "priority 100",
            "preempt_delay 3",
            "down_timer_adverts 4",
            "garp_lower_prio_delay 1",
            "garp_lower_prio_repeat 2",
            "lower_prio_no_advert false",
            "higher_prio_send_advert",
            "accept",
            "unicast_peer { 10.0.0.9 }",
            VIP,
        ])),
        &[
            "7:9: strict mode: state MASTER goes with priority 255 (the address owner) only; priority is 100",
            "9:17: preempt_delay needs state BACKUP",
            "10:3: down_timer_adverts 4: must be 3 in strict mode",
            "11:3: garp_lower_prio_delay must be 0 in strict mode",
            "12:3: garp_lower_prio_repeat must be 0 in strict mode",
            "13:3: lower_prio_no_advert must be true in strict mode",
            "14:3: higher_prio_send_advert must be false in strict mode",
            "15:3: accept mode does not comply with RFC 3768",
            "16:18: unicast peers are not allowed in strict mode",
        ],
    );
    assert_errors(
        &refs(&global(&[
            "state BACKUP",
            "priority 100",
            "preempt_delay 3",
            VIP,
        ])),
        &["9:17: preempt_delay is not allowed in strict mode"],
    );
    let c = [
        vec![
            "global_defs {".to_string(),
            "  vrrp_strict".into(),
            "  vrrp_down_timer_adverts 5".into(),
            "}".into(),
        ],
        inst(&["priority 255", VIP]),
    ]
    .concat();
    assert_errors(
        &refs(&c),
        &["5:1: down_timer_adverts 5: must be 3 in strict mode"],
    );
}

#[test]
fn track_interface_lines() {
    let i = warned(
        &["track_interface {", "  eth0 weight 5", "  eth1", "}", VIP],
        &["5:5: track_interface eth0: the instance's own interface is always tracked"],
    );
    assert_eq!(i.track_interfaces.len(), 1);
    assert_eq!(
        (
            i.track_interfaces[0].loc.line,
            i.track_interfaces[0].loc.column
        ),
        (6, 5)
    );
    errs(
        &[
            "track_interface {",
            "  eth1 weight 254",
            "  eth2 weight",
            "  eth3 wait 3",
            "  eth4 weight 1 noreverse",
            "  eth5 weight 1 reverse extra",
            "  eth6 weight 1 sideways",
            "  eth7",
            "  eth7",
            "}",
            "track_interface eth8",
            VIP,
        ],
        &[
            "5:17: weight 254 is out of range: -253 to 253",
            "6:10: track_interface: weight needs a value",
            "7:10: unknown track_interface option 'wait' (expected weight N)",
            "8:19: track_interface has no noreverse option (expected reverse)",
            "9:27: track_interface: unexpected 'extra' after the weight",
            "10:19: unknown track_interface weight option 'sideways' (expected reverse)",
            "12:5: track_interface eth7 is already listed at /etc/afclusterd/t.conf:11:5",
            "14:3: track_interface needs a { block }",
        ],
    );
}

#[test]
fn track_script_and_track_file_lines_take_their_definition_s_defaults() {
    let text = [
        vec![
            "vrrp_script chk {".to_string(),
            "  script /bin/true".into(),
            "  weight -4 reverse".into(),
            "}".into(),
            "track_file f {".into(),
            "  file /run/f".into(),
            "}".into(),
        ],
        inst(&[
            "track_script {",
            "  chk",
            "}",
            "track_file {",
            "  f",
            "}",
            VIP,
        ]),
    ]
    .concat();
    let c = ok(&refs(&text));
    let i = &c.vrrp_instances[0];
    let t = &i.track_scripts[0];
    assert_eq!((t.script.as_str(), t.weight, t.reverse), ("chk", -4, true));
    assert_eq!((t.loc.line, t.loc.column), (12, 5));
    let f = &i.track_files[0];
    assert_eq!((f.file.as_str(), f.weight, f.reverse), ("f", 1, false));
    // The line's own weight and sense win.
    let text = [
        vec![
            "vrrp_script chk {".to_string(),
            "  script /bin/true".into(),
            "  weight -4 reverse".into(),
            "}".into(),
            "track_file f {".into(),
            "  file /run/f".into(),
            "}".into(),
        ],
        inst(&[
            "track_script {",
            "  chk weight 10 noreverse",
            "}",
            "track_file {",
            "  f weight -254 reverse",
            "}",
            VIP,
        ]),
    ]
    .concat();
    let c = ok(&refs(&text));
    let i = &c.vrrp_instances[0];
    assert_eq!(
        (i.track_scripts[0].weight, i.track_scripts[0].reverse),
        (10, false)
    );
    assert_eq!(
        (i.track_files[0].weight, i.track_files[0].reverse),
        (-254, true)
    );
    // Unknown names, duplicates, ranges.
    errs(
        &[
            "track_script {",
            "  nothing",
            "  nothing",
            "  other weight 254",
            "}",
            "track_file {",
            "  nofile weight 255",
            "  nofile2",
            "}",
            VIP,
        ],
        &[
            "6:5: track_script nothing is already listed at /etc/afclusterd/t.conf:5:5",
            "7:18: weight 254 is out of range: -253 to 253",
            "10:19: weight 255 is out of range: -254 to 254",
            "5:5: there is no vrrp_script 'nothing'",
            "11:5: there is no track_file 'nofile2'",
        ],
    );
}

#[test]
fn a_definition_further_down_is_found_with_a_warning() {
    let text = [
        inst(&["track_script {", "  chk", "}", VIP]),
        vec![
            "vrrp_script chk {".to_string(),
            "  script /bin/true".into(),
            "}".into(),
        ],
    ]
    .concat();
    let c = ok(&refs(&text));
    assert_messages(
        &c.warnings,
        &["5:5: vrrp_script chk is defined further down: keepalived would not find it"],
    );
    assert_eq!(c.vrrp_instances[0].track_scripts[0].script, "chk");
}

#[test]
fn track_node_entries_one_per_line_or_separated_by_semicolons() {
    let i = one(&[
        "track_node {",
        "  local weight 0 ; 3 weight -20 ; web2 weight -10",
        "  9 weight 5 reverse;web3",
        "  web4 weight 2;",
        "}",
        VIP,
    ]);
    let n: Vec<_> = i
        .track_nodes
        .iter()
        .map(|t| {
            (
                t.node.clone(),
                t.weight,
                t.reverse,
                t.loc.line,
                t.loc.column,
            )
        })
        .collect();
    assert_eq!(
        n,
        [
            (NodeRef::Local, 0, false, 5, 5),
            (NodeRef::Id(3), -20, false, 5, 22),
            (NodeRef::Name("web2".into()), -10, false, 5, 37),
            (NodeRef::Id(9), 5, true, 6, 5),
            (NodeRef::Name("web3".into()), 0, false, 6, 24),
            (NodeRef::Name("web4".into()), 2, false, 7, 5),
        ]
    );
    assert_eq!(NodeRef::Name("x".into()).to_string(), "x");
    assert_eq!(NodeRef::Local.to_string(), "local");
    errs(
        &[
            "track_node {",
            "  0",
            "  local ; local",
            &format!("  {}", "n".repeat(65)),
            "  5 weight -254",
            "  6 weight 1 noreverse",
            "}",
            VIP,
        ],
        &[
            "5:5: node id 0 is out of range: 1 to 4294967295",
            "6:13: track_node local is already listed at /etc/afclusterd/t.conf:6:5",
            "7:5: node name 'nnnnn",
            "8:14: weight -254 is out of range: -253 to 253",
            "9:16: track_node has no noreverse option",
        ],
    );
}

#[test]
fn an_owner_or_a_sync_group_member_cannot_track_with_weights() {
    let text = [
        vec![
            "vrrp_script chk {".to_string(),
            "  script /bin/true".into(),
            "  weight 2".into(),
            "}".into(),
            "track_file f {".into(),
            "  file /run/f".into(),
            "}".into(),
        ],
        inst(&[
            "priority 255",
            "track_interface { eth1 weight 1",
            "eth2 }",
            "track_script { chk }",
            "track_file { f }",
            "track_node { 3 weight -1 ; 4 }",
            VIP,
        ]),
    ]
    .concat();
    let why =
        "the instance owns its addresses (priority 255), whose priority never moves: use weight 0";
    assert_errors(
        &refs(&text),
        &[
            &format!("12:21: track_interface eth1 has weight 1, but {why}"),
            &format!("14:18: track_script chk has weight 2, but {why}"),
            &format!("15:16: track_file f has weight 1, but {why}"),
            &format!("16:16: track_node 3 has weight -1, but {why}"),
        ],
    );
    let group = |extra: &str| {
        [
            vec![
                "vrrp_sync_group G {".to_string(),
                "  group { VI_1 VI_2 }".into(),
                format!("  {extra}"),
                "}".into(),
            ],
            inst(&["track_interface { eth1 weight 1 }", "track_node { 1 }", VIP]),
            vec![
                "vrrp_instance VI_2 {".to_string(),
                "  interface eth0".into(),
                "  virtual_router_id 52".into(),
                format!("  {VIP}"),
                "}".into(),
            ],
        ]
        .concat()
    };
    assert_errors(
        &refs(&group("")),
        &["8:21: track_interface eth1 has weight 1, but the instance is in sync group G, which has no sync_group_tracking_weight"],
    );
    let c = ok(&refs(&group("sync_group_tracking_weight")));
    assert_eq!(c.vrrp_instances[0].sync_group.as_deref(), Some("G"));
    assert_eq!(c.vrrp_instances[0].track_interfaces[0].weight, 1);
}

#[test]
fn notify_scripts() {
    errs(
        &[
            "notify_master /bin/true",
            "notify_master /bin/true",
            "notify_backup /nonexistent/x",
            "notify_fault \"/bin/true\" root",
            "notify relative.sh",
            VIP,
        ],
        &[
            "5:3: notify_master is already set at /etc/afclusterd/t.conf:4:3",
            "7:28: notify_fault: unexpected 'root': quote the whole command line",
        ],
    );
}

#[test]
fn keepalived_keywords_are_read_refused_or_ignored_never_unknown() {
    for kw in [
        "use_vmac_addr",
        "garp_extra_if",
        "vmac_garp_intvl",
        "use_ipvlan",
        "vrf",
        "promote_secondaries",
        "no_accept",
        "notify_deleted",
        "notify_master_rx_lower_pri",
        "notify_priority_changes",
        "track_process",
        "track_bfd",
        "old_unicast_checksum",
        "no_virtual_ipaddress",
        "timer_expired_backup",
    ] {
        let e = load(&refs(&inst(&[kw, VIP]))).expect_err(kw);
        let msg = format!("{FILE}:4:3: {kw} is not supported: ");
        assert!(
            e.0.len() == 1 && e.0[0].to_string().starts_with(&msg),
            "{kw}: {e}"
        );
    }
    for kw in ["debug 2", "smtp_alert", "linkbeat_use_polling"] {
        let c = ok(&refs(&inst(&[kw, VIP])));
        let name = kw.split(' ').next().unwrap();
        assert_messages(&c.warnings, &[&format!("4:3: {name} has no effect: ")]);
    }
    errs(
        &["frobnicate", "vrrp_instance X {", "}", VIP],
        &[
            "4:3: unknown keyword 'frobnicate' in vrrp_instance",
            "5:3: vrrp_instance inside a vrrp_instance (a missing '}' above?)",
        ],
    );
}

/// Every vrrp_instance keyword of keepalived 2.2.7 and 2.2.8
/// (vrrp_parser.c init_vrrp_keywords; auth_type and auth_pass are
/// authentication's) is known, and track_node.
#[test]
fn every_keepalived_instance_keyword_is_classified() {
    let all = "use_vmac use_vmac_addr vmac_xmit_base use_ipvlan unicast_peer unicast_fault_no_peer \
        check_unicast_src old_unicast_checksum native_ipv6 state interface vrf dont_track_primary \
        track_interface track_script track_file track_process track_bfd mcast_src_ip unicast_src_ip \
        mcast_dst_ip track_src_ip virtual_router_id unicast_ttl version priority advert_int \
        virtual_ipaddress virtual_ipaddress_excluded no_virtual_ipaddress promote_secondaries \
        linkbeat_use_polling v3_checksum_as_v2 virtual_routes virtual_rules accept no_accept \
        skip_check_adv_addr strict_mode preempt nopreempt preempt_delay debug notify_backup \
        notify_master notify_fault notify_stop notify_deleted notify notify_master_rx_lower_pri \
        smtp_alert notify_priority_changes lvs_sync_daemon_interface garp_master_delay \
        garp_master_refresh garp_master_repeat garp_master_refresh_repeat garp_lower_prio_delay \
        garp_lower_prio_repeat down_timer_adverts timer_expired_backup garp_extra_if vmac_garp_intvl \
        lower_prio_no_advert higher_prio_send_advert kernel_rx_buf_size authentication track_node";
    for kw in all.split_whitespace() {
        assert!(classify(kw).is_some(), "{kw}");
    }
}

#[test]
fn track_src_ip_without_a_source_does_nothing() {
    let i = warned(
        &["track_src_ip", VIP],
        &["4:3: track_src_ip without mcast_src_ip or unicast_src_ip has no effect"],
    );
    assert!(!i.track_src_ip);
}

#[test]
fn vrid_conflicts_as_keepalived_checks_them() {
    let two = |a: &[&str], b: &[&str]| {
        let mut v = inst(a);
        v.push("vrrp_instance VI_2 {".into());
        v.extend(b.iter().map(|l| format!("  {l}")));
        v.push("}".into());
        v
    };
    let same = ["interface eth0", "virtual_router_id 51"];
    assert_errors(
        &refs(&two(&[VIP], &[same[0], same[1], "virtual_ipaddress { 10.0.0.101 }"])),
        &["6:1: vrrp_instance VI_2 uses VRID 51 with IPv4 on eth0, as VI_1 at /etc/afclusterd/t.conf:1:1 does"],
    );
    // Another interface, family, multicast group, or unicast: no conflict.
    ok(&refs(&two(&[VIP], &["interface eth1", same[1], VIP])));
    ok(&refs(&two(
        &[VIP],
        &[same[0], same[1], "virtual_ipaddress { fe80::1 }"],
    )));
    ok(&refs(&two(
        &[VIP],
        &[same[0], same[1], "mcast_dst_ip 224.0.0.50", VIP],
    )));
    ok(&refs(&two(
        &[VIP],
        &[same[0], same[1], "unicast_peer { 10.0.0.9 }", VIP],
    )));
    ok(&refs(&two(
        &[VIP, "unicast_peer { 10.0.0.8 }"],
        &[same[0], same[1], "unicast_peer { 10.0.0.9 }", VIP],
    )));
    assert_errors(
        &refs(&two(
            &[VIP, "unicast_peer { 10.0.0.8 }"],
            &[same[0], same[1], "unicast_peer { 10.0.0.8 }", VIP],
        )),
        &["7:1: vrrp_instance VI_2 uses VRID 51 with IPv4 on eth0 to the same unicast peer, as VI_1"],
    );
    // Instances in error are left out: no conflict between their VRIDs.
    assert_errors(
        &refs(&two(
            &[VIP, "bogus"],
            &[
                same[0],
                same[1],
                "virtual_ipaddress { 10.0.0.101 }",
                "bogus",
            ],
        )),
        &[
            "5:3: unknown keyword 'bogus' in vrrp_instance",
            "11:3: unknown keyword 'bogus' in vrrp_instance",
        ],
    );
}

#[test]
fn lvs_sync_daemon_interface_in_an_instance_sets_the_global_one() {
    let c = ok(&refs(&inst(&["lvs_sync_daemon_interface eth1", VIP])));
    assert_messages(
        &c.warnings,
        &["4:3: lvs_sync_daemon_interface in a vrrp_instance is deprecated (keepalived 1.2.20)"],
    );
    let d = c.global.vrrp.lvs_sync_daemon.unwrap();
    assert_eq!(
        (d.interface.as_str(), d.instance.as_deref(), d.sync_id),
        ("eth1", Some("VI_1"), 51)
    );
}

// keepalived's own samples (Debian's keepalived package).

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

fn sample(name: &str) -> Option<Result<Config, ConfigErrors>> {
    let path = Path::new(SAMPLES).join(name);
    if !path.exists() {
        eprintln!("skipped: {} is not installed", path.display());
        return None;
    }
    Some(Config::load(&path))
}

/// The sample's text with `from` replaced by `to`, loaded as FILE.
fn sample_edited(name: &str, edits: &[(&str, &str)]) -> Option<Result<Config, ConfigErrors>> {
    let path = Path::new(SAMPLES).join(name);
    let mut text = std::fs::read_to_string(&path).ok()?;
    for (from, to) in edits {
        text = text.replace(from, to);
    }
    Some(Config::from_text(&text, Path::new(FILE)))
}

fn sample_messages(got: &[ConfigError], name: &str, want: &[&str]) {
    let text: Vec<String> = got.iter().map(|e| e.to_string()).collect();
    let all = text.join("\n");
    for w in want {
        let w = format!("{SAMPLES}/{name}:{w}");
        assert!(
            text.iter().any(|t| t.starts_with(&w)),
            "missing {w:?} in:\n{all}"
        );
    }
    assert_eq!(got.len(), want.len(), "{all}");
}

#[test]
fn sample_vrrp_is_read_whole() {
    let Some(r) = sample("keepalived.conf.vrrp") else {
        return;
    };
    let c = r.unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<_> = c.vrrp_instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["VI_1", "VI_2", "VI_3", "VI_4"]);
    let i = &c.vrrp_instances[0];
    assert_eq!(
        (i.state, i.priority, i.vrid),
        (InitialState::Master, 100, 51)
    );
    assert_eq!(i.garp.master_delay, secs(10.0));
    assert_eq!(i.auth_pass.as_deref(), Some("1111"));
    assert_eq!(i.vips.len(), 3);
    assert_eq!(c.vrrp_instances[1].priority, 50);
    sample_messages(
        &c.warnings,
        "keepalived.conf.vrrp",
        &[
            "4:4: notification_email is ignored",
            "7:4: notification_email_from is ignored",
            "8:4: smtp_server is ignored",
            "9:4: smtp_connect_timeout is ignored",
            "17:5: smtp_alert has no effect",
            "32:9: 192.168.200.18 is already a VIP of this instance",
            "38:5: smtp_alert has no effect",
            "52:5: smtp_alert has no effect",
            "69:5: smtp_alert has no effect",
        ],
    );
}

#[test]
fn sample_sync_and_scripts_are_read_once_their_scripts_exist() {
    let Some(r) = sample_edited(
        "keepalived.conf.vrrp.sync",
        &[
            ("/usr/local/bin/vrrp.back", "/bin/true"),
            ("/usr/local/bin/vrrp.mast", "/bin/true"),
            ("/usr/local/bin/vrrp.fault", "/bin/true"),
        ],
    ) else {
        return;
    };
    let c = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.vrrp_sync_groups.len(), 2);
    assert_eq!(
        c.vrrp_sync_groups[0].members,
        ["VI_1", "VI_2", "VI_5", "VI_6", "VI_7", "VI_8", "VI_9"]
    );
    assert!(c.vrrp_sync_groups[0].notify.master.is_some());
    assert_eq!(c.vrrp_instances[2].sync_group.as_deref(), Some("G2"));
    let Some(r) = sample_edited(
        "keepalived.conf.vrrp.scripts",
        &[
            ("/usr/local/bin/vrrp.back", "/bin/true"),
            ("/usr/local/bin/vrrp.mast", "/bin/true"),
            ("/usr/local/bin/vrrp.fault", "/bin/true"),
            ("/usr/local/bin/vrrp.sh", "/bin/echo"),
        ],
    ) else {
        return;
    };
    let c = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c.vrrp_instances[0].notify.master.as_ref().unwrap().argv,
        ["/bin/echo", "MASTER", "VI_1"]
    );
    // As given: the scripts do not exist here.
    let Some(Err(e)) = sample("keepalived.conf.vrrp.scripts") else {
        return;
    };
    assert_eq!(e.0.len(), 6, "{e}");
}

#[test]
fn samples_keepalived_would_run_differently_are_refused_clearly() {
    let Some(Err(e)) = sample("keepalived.conf.vrrp.lvs_syncd") else {
        return;
    };
    sample_messages(
        &e.0,
        "keepalived.conf.vrrp.lvs_syncd",
        &[
            "4:3: unknown keyword 'VI_2' in vrrp_sync_group (the instances go in group { })",
            "5:3: unknown keyword 'VI_3' in vrrp_sync_group",
            "3:1: vrrp_sync_group VG1 needs a group { INSTANCE... }",
        ],
    );
    let Some(Err(e)) = sample("keepalived.conf.SSL_GET") else {
        return;
    };
    assert!(e.to_string().contains("keepalived.conf.SSL_GET:20:19: auth_type AH (IPsec AH authentication) is not supported"), "{e}");
    // Its two SSL_GET checkers are read (checker/http/tests.rs).
    assert_eq!(e.0.len(), 1, "{e}");
    let Some(Err(e)) = sample("keepalived.conf.vrrp.localcheck") else {
        return;
    };
    // The scripts are not absolute paths; their track lines add nothing.
    assert_eq!(e.0.len(), 5, "{e}");
    assert!(
        e.0.iter()
            .all(|x| x.message.contains("must be given by its absolute path")),
        "{e}"
    );
    // Its two "to" lines have a typo (192.168.100./24) that keepalived
    // reports too, running without those rules.
    let Some(Err(e)) = sample("keepalived.conf.vrrp.rules") else {
        return;
    };
    sample_messages(
        &e.0,
        "keepalived.conf.vrrp.rules",
        &[
            "11:8: '192.168.100./24' is not an address",
            "26:12: '192.168.200./24' is not an address",
        ],
    );
}

#[test]
fn samples_with_routes_and_static_sections_run() {
    let Some(r) = sample("keepalived.conf.vrrp.routes") else {
        return;
    };
    let c = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.static_routes.len(), 5);
    let s = &c.static_routes[0].route;
    assert_eq!(s.src, Some("192.168.100.1".parse().unwrap()));
    assert_eq!(
        s.to_string(),
        "192.168.209.0/24 via 192.168.200.254 dev eth0 src 192.168.100.1"
    );
    let v = &c.vrrp_instances[0].routes;
    assert_eq!(v.len(), 7);
    assert_eq!(v[4].route.nexthops.len(), 2);
    assert_eq!(v[5].route.to_string(), "blackhole 192.168.113.1/32");
    assert_eq!(v[6].route.to_string(), "default via 192.168.0.1 table 100");
    for (name, statics, routes) in [
        ("keepalived.conf.track_interface", 4, 3),
        ("keepalived.conf.vrrp.static_ipaddress", 0, 4),
    ] {
        let Some(r) = sample(name) else { return };
        let c = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(c.static_routes.len(), statics, "{name}");
        assert_eq!(c.vrrp_instances[0].routes.len(), routes, "{name}");
    }
    let Some(Ok(c)) = sample("keepalived.conf.vrrp.static_ipaddress") else {
        return;
    };
    assert_eq!(c.static_addresses.len(), 3);
    assert_eq!(c.static_addresses[0].dev.as_deref(), Some("eth0"));
    assert_eq!(c.static_addresses[0].scope, 253);
}

#[test]
fn use_vmac_names_the_interface_as_keepalived_does() {
    let text = "vrrp_instance A {\n interface eth0\n virtual_router_id 7\n use_vmac\n vmac_xmit_base\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n\
                vrrp_instance B {\n interface eth1\n virtual_router_id 7\n use_vmac\n virtual_ipaddress {\n  10.0.1.1\n }\n}\n\
                vrrp_instance C {\n interface eth0\n virtual_router_id 8\n use_vmac vip8\n virtual_ipaddress {\n  10.0.0.8\n }\n}\n\
                vrrp_instance D {\n interface eth0\n virtual_router_id 7\n use_vmac\n virtual_ipaddress {\n  fd00::7\n }\n}\n";
    let c = Config::from_text(text, Path::new(FILE)).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<(String, bool)> = c
        .vrrp_instances
        .iter()
        .map(|i| {
            let v = i.vmac.as_ref().expect("a vmac");
            (v.name.clone(), v.xmit_base)
        })
        .collect();
    assert_eq!(
        names,
        [
            ("vrrp.7".to_string(), true),
            ("vrrp1.7".to_string(), false),
            ("vip8".to_string(), false),
            ("vrrp6.7".to_string(), false),
        ]
    );
    let e = load(&refs(&inst(&["use_vmac vrrp.1 00:11:22:33:44:55", VIP]))).unwrap_err();
    assert!(
        e.to_string()
            .contains("a VMAC with a MAC address of your own is not supported yet"),
        "{e}"
    );
}
