use std::net::IpAddr;

use super::*;
use crate::config::testing::*;

fn with_lines(lines: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["static_rules {"].iter().map(|s| s.to_string()).collect();
    v.extend(lines.iter().map(|l| format!("    {l}")));
    v.push("}".into());
    v
}

fn rules(lines: &[&str]) -> Vec<Rule> {
    let text = with_lines(lines);
    let refs: Vec<&str> = text.iter().map(|s| s.as_str()).collect();
    ok(&refs).static_rules
}

fn rule(line: &str) -> rl::Rule {
    rules(&[line]).remove(0).rule
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
fn keepalived_s_documented_lines() {
    let r = rule("from 192.168.2.0/24 table 1 priority 100");
    assert_eq!(r.from, Some((ip("192.168.2.0"), 24)));
    assert_eq!((r.action, r.priority), (Action::Table(1), 100));
    assert_eq!(r.protocol, Some(18));
    let r = rule("from 192.168.28.0/24 to 192.168.29.0/26 table 6909 iif p33p1 oif wlan0 tos 22 fwmark 24/12 preference 39");
    assert_eq!(r.to, Some((ip("192.168.29.0"), 26)));
    assert_eq!(
        (r.iif.as_deref(), r.oif.as_deref()),
        (Some("p33p1"), Some("wlan0"))
    );
    assert_eq!((r.tos, r.fwmark, r.fwmask), (22, Some(24), Some(12)));
    let r = rule(
        "to 1:2:3:4:5:6:7:0/112 from 7:6:5:4:3:2::/96 table 6908 uidrange 10000-19999 preference 5",
    );
    assert_eq!(r.family, Family::Inet6);
    assert_eq!(r.uid_range, Some((10000, 19999)));
    let r =
        rule("not fwmark 0x10 lookup main ipproto udp sport 10-20 dport 53 no_track priority 7");
    assert!(r.invert);
    assert_eq!(
        (r.ip_proto, r.sport, r.dport),
        (Some(17), Some((10, 20)), Some((53, 53)))
    );
    assert_eq!(r.protocol, None);
    assert_eq!(r.action, Action::Table(254));
    let r = rule("from all goto 40 preference 10 protocol 99 no_track");
    assert_eq!(
        (r.action, r.protocol, r.from),
        (Action::Goto(40), Some(99), None)
    );
    let r = rule("to 10.0.0.0/8 type prohibit priority 3");
    assert_eq!(r.action, Action::Prohibit);
    let r = rule("inet6 blackhole priority 4");
    assert_eq!((r.action, r.family), (Action::Blackhole, Family::Inet6));
}

#[test]
fn rules_without_a_preference_get_keepalived_s_with_a_warning() {
    let text = [
        "static_rules {",
        "  from 10.1.0.0/16 table 1",
        "  from 2001:db8::/32 table 1",
        "  from 10.2.0.0/16 table 1 priority 5",
        "}",
        "vrrp_instance VI_1 {",
        "  interface eth0",
        "  virtual_router_id 51",
        "  virtual_ipaddress { 10.9.9.9 }",
        "  virtual_rules {",
        "    from 10.3.0.0/16 table 2 no_track",
        "  }",
        "}",
    ];
    let c = ok(&text);
    let prio: Vec<u32> = c.static_rules.iter().map(|r| r.rule.priority).collect();
    assert_eq!(prio, [16384, 16384, 5]);
    assert_eq!(c.vrrp_instances[0].rules[0].rule.priority, 16383);
    assert_messages(
        &c.warnings,
        &[
            "2:3: static_rules: afclusterd does not watch them",
            "2:3: the rule has no preference: 16384",
            "3:3: the rule has no preference: 16384",
            "11:5: the rule has no preference: 16383",
        ],
    );
}

#[test]
fn mistakes_are_located() {
    errors(
        &[
            "from 192.168.100.0/24",
            "to 192.168.100./24 table 1",
            "from 10.0.0.0/8 to 2001:db8::/32 table 1",
            "table 1 goto 5 priority 1",
            "goto 5 priority 9",
            "table 0",
            "fwmark 12/x table 1",
            "sport 20-10 table 1",
            "l3mdev",
            "from 10.0.0.0/8 bogus",
        ],
        &[
            "2:5: the rule has no action",
            "3:8: '192.168.100./24' is not an address",
            "4:24: '2001:db8::/32' is IPv6 but the line is IPv4",
            "5:13: a rule has one action",
            "6:5: goto 5 must go to a later rule",
            "7:11: table 0 is not valid",
            "8:12: '12/x' is not a fwmark",
            "9:11: '20-10' is not a port",
            "10:5: l3mdev: l3mdev (VRF) rules are not supported",
            "11:21: unknown rule option 'bogus'",
        ],
    );
}
