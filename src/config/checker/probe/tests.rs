//! PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK as keepalived 2.2.7
//! reads them.

use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;

use crate::config::checker::udp::read_hex;
use crate::config::checker::{dns, Checker, ReplyPattern};
use crate::config::testing::{assert_errors, load, ok};
use crate::config::RealServer;

/// The real server's lines around `body` (a checker), in a virtual server
/// with `vs` lines.
fn conf(vs: &[&str], body: &[&str]) -> Vec<String> {
    let mut l = vec!["virtual_server 10.0.0.1 53 {".to_string()];
    l.extend(vs.iter().map(|s| s.to_string()));
    l.push("  real_server 10.0.0.2 53 {".into());
    l.extend(body.iter().map(|s| format!("    {s}")));
    l.extend(["  }", "  protocol UDP", "}"].map(String::from));
    l
}

fn rs(vs: &[&str], body: &[&str]) -> RealServer {
    let lines = conf(vs, body);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let c = ok(&lines);
    c.virtual_servers[0].real_servers[0].clone()
}

fn errors(body: &[&str], want: &[&str]) {
    let lines = conf(&[], body);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_errors(&lines, want);
}

fn warnings(body: &[&str]) -> Vec<String> {
    let lines = conf(&[], body);
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let c = load(&lines).unwrap_or_else(|e| panic!("{e}"));
    c.warnings.iter().map(|w| w.to_string()).collect()
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn ping_check_defaults_and_inheritance() {
    let r = rs(
        &["  delay_loop 6", "  retry 4"],
        &["PING_CHECK {", "  connect_timeout 2", "}"],
    );
    let Checker::Ping(p) = &r.checkers[0] else {
        panic!("{:?}", r.checkers)
    };
    let p = &p.probe;
    // ICMP has no port.
    assert_eq!(p.target, sa("10.0.0.2:0"));
    assert_eq!(p.connect_timeout, secs(2.0));
    assert_eq!((p.retry, p.delay_before_retry), (4, secs(1.0)));
    assert_eq!(p.delay_loop, secs(6.0));
    assert_eq!(p.warmup_max(), secs(6.0));
    // keepalived's sample: PING_CHECK { retry 4 }, connect_timeout 5 s.
    let r = rs(
        &[],
        &["PING_CHECK {", "  retry 4", "  connect_ip 10.9.9.9", "}"],
    );
    let Checker::Ping(p) = &r.checkers[0] else {
        panic!()
    };
    assert_eq!(p.probe.target, sa("10.9.9.9:0"));
    assert_eq!((p.probe.retry, p.probe.connect_timeout), (4, secs(5.0)));
}

#[test]
fn ping_check_port_is_a_warning() {
    let w = warnings(&["PING_CHECK {", "  connect_port 80", "}"]);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("4:7: connect_port has no effect in PING_CHECK"),
        "{w:?}"
    );
}

#[test]
fn udp_check_keywords() {
    let r = rs(
        &[],
        &[
            "UDP_CHECK {",
            "  connect_port 5353",
            "  payload 01 02 0a0b c",
            "  require_reply 01 x2 Xx",
            "  min_reply_length 2",
            "  max_reply_length 1000",
            "  bindto 10.0.0.9",
            "}",
            "UDP_CHECK {",
            "}",
        ],
    );
    let Checker::Udp(u) = &r.checkers[0] else {
        panic!()
    };
    assert_eq!(u.probe.target, sa("10.0.0.2:5353"));
    assert_eq!(u.probe.bind_to, Some("10.0.0.9".parse().unwrap()));
    assert_eq!(u.payload.as_deref(), Some(&[1, 2, 0x0a, 0x0b, 0x0c][..]));
    assert!(u.require_reply);
    assert_eq!(
        u.reply,
        Some(ReplyPattern {
            data: vec![1, 2, 0],
            mask: vec![0, 0xf0, 0xff],
        })
    );
    assert_eq!((u.min_reply_length, u.max_reply_length), (2, 1000));
    let Checker::Udp(d) = &r.checkers[1] else {
        panic!()
    };
    // keepalived's defaults: its filler, no reply needed, 0 to 255 octets.
    assert_eq!(d.payload, None);
    assert!(!d.require_reply && d.reply.is_none());
    assert_eq!((d.min_reply_length, d.max_reply_length), (0, 255));
    assert_eq!((d.probe.retry, d.probe.delay_before_retry), (1, secs(1.0)));
}

#[test]
fn udp_reply_rules() {
    let r = rs(
        &[],
        &[
            "UDP_CHECK {",
            "  require_reply 4f 4b x0",
            "  min_reply_length 2",
            "  max_reply_length 4",
            "}",
        ],
    );
    let Checker::Udp(u) = &r.checkers[0] else {
        panic!()
    };
    assert!(u.reply_ok(b"OK"));
    assert!(u.reply_ok(b"OK\x10"));
    assert!(u.reply_ok(b"OK\xf0!"));
    assert!(!u.reply_ok(b"OK\x11"));
    assert!(!u.reply_ok(b"O"), "shorter than min_reply_length");
    assert!(
        !u.reply_ok(b"OK\x00\x00\x00"),
        "longer than max_reply_length"
    );
    assert!(!u.reply_ok(b"NO"));
}

#[test]
fn udp_check_errors() {
    errors(
        &[
            "UDP_CHECK {",
            "  payload",
            "  payload 0g",
            "  require_reply 1 2 z",
            "  payload x1",
            "  min_reply_length 70000",
            "}",
            "UDP_CHECK {",
            "  min_reply_length 9",
            "  max_reply_length 8",
            "}",
        ],
        &[
            "4:7: UDP_CHECK payload needs the octets",
            "5:15: UDP_CHECK payload '0g' is not a hex string",
            "6:21: UDP_CHECK require_reply '1 2 z' is not a hex string",
            "7:15: UDP_CHECK payload 'x1' is not a hex string",
            "8:24: '70000' is not a valid min_reply_length (0 to 65535)",
            "10:5: UDP_CHECK min_reply_length 9 > max_reply_length 8",
        ],
    );
}

#[test]
fn hex_strings_as_keepalived_reads_them() {
    let h = |s| read_hex(s, true).map(|p| (p.data, p.mask));
    assert_eq!(h("0a1B"), Some((vec![0x0a, 0x1b], vec![0, 0])));
    assert_eq!(h(" a b "), Some((vec![0x0a, 0x0b], vec![0, 0])));
    assert_eq!(h("\t a  b"), Some((vec![0x0a, 0x0b], vec![0, 0])));
    assert_eq!(h("a b\t"), None);
    assert_eq!(h("xA"), Some((vec![0x0a], vec![0xf0])));
    // A tab does not end an octet, as in keepalived.
    assert_eq!(h("a\tb"), None);
    assert_eq!(h(""), None);
    assert_eq!(h("   "), None);
    assert_eq!(read_hex("x", false), None);
}

proptest! {
    /// Any octets written as hex, with any spacing between them, read back.
    #[test]
    fn hex_round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..64),
                      spaces in proptest::collection::vec(0usize..3, 64)) {
        let text: String = bytes
            .iter()
            .zip(&spaces)
            .map(|(b, n)| format!("{}{b:02x}", " ".repeat(*n)))
            .collect();
        let p = read_hex(&text, true).unwrap();
        prop_assert_eq!(p.data, bytes.clone());
        prop_assert!(p.mask.iter().all(|m| *m == 0));
    }

    /// A reply that is the pattern itself passes whatever its wildcards
    /// hide, and a reply's octet outside a wildcard that differs fails.
    #[test]
    fn reply_pattern_matching(data in proptest::collection::vec(any::<u8>(), 1..32),
                              mask in proptest::collection::vec(prop_oneof![Just(0u8), Just(0x0f), Just(0xf0), Just(0xff)], 32),
                              noise in any::<u8>(), at in any::<proptest::sample::Index>()) {
        let mask: Vec<u8> = mask[..data.len()].to_vec();
        let u = crate::config::UdpCheck {
            probe: rs(&[], &["UDP_CHECK {", "}"]).checkers.iter().find_map(|c| match c {
                Checker::Udp(u) => Some(u.probe.clone()),
                _ => None,
            }).unwrap(),
            payload: None,
            require_reply: true,
            reply: Some(ReplyPattern { data: data.clone(), mask: mask.clone() }),
            min_reply_length: 0,
            max_reply_length: u16::MAX,
        };
        let hidden: Vec<u8> = data.iter().zip(&mask).map(|(d, m)| d ^ (noise & m)).collect();
        prop_assert!(u.reply_ok(&hidden));
        let i = at.index(data.len());
        let mut bad = data.clone();
        let flip = !mask[i];
        if flip != 0 {
            bad[i] ^= flip;
            prop_assert!(!u.reply_ok(&bad));
        }
    }
}

#[test]
fn dns_check_defaults() {
    let r = rs(
        &["  delay_loop 7"],
        &[
            "DNS_CHECK {",
            "}",
            "DNS_CHECK {",
            "  type aaaa",
            "  name example.com.",
            "  retry 0",
            "  delay_before_retry 2",
            "}",
        ],
    );
    let Checker::Dns(d) = &r.checkers[0] else {
        panic!()
    };
    // DNS_DEFAULT_TYPE SOA, the root, retry 3, delay_before_retry = delay_loop.
    assert_eq!((d.qtype, d.type_name(), d.name.as_str()), (6, "SOA", ""));
    assert_eq!(d.probe.target, sa("10.0.0.2:53"));
    assert_eq!((d.probe.retry, d.probe.delay_before_retry), (3, secs(7.0)));
    let Checker::Dns(d) = &r.checkers[1] else {
        panic!()
    };
    assert_eq!((d.qtype, d.name.as_str()), (28, "example.com."));
    assert_eq!((d.probe.retry, d.probe.delay_before_retry), (0, secs(2.0)));
    // A real server's delay_before_retry comes before the DNS default.
    let r = rs(&["  delay_before_retry 0.5"], &["DNS_CHECK {", "}"]);
    let Checker::Dns(d) = &r.checkers[0] else {
        panic!()
    };
    assert_eq!(d.probe.delay_before_retry, secs(0.5));
}

#[test]
fn dns_check_errors() {
    errors(
        &[
            "DNS_CHECK {",
            "  type WKS",
            "  name a..b",
            "  name .com",
            "}",
            "DNS_CHECK {",
            "  name a",
            "  name b",
            "  bind_if eth0",
            "}",
        ],
        &[
            "4:12: unknown DNS_CHECK type 'WKS' (one of A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY)",
            "5:12: DNS_CHECK name 'a..b' cannot be asked for: it has an empty label",
            "6:12: DNS_CHECK name '.com' cannot be asked for",
            "10:7: DNS_CHECK name given twice",
            "11:7: bind_if is not supported by afclusterd's DNS_CHECK",
        ],
    );
    assert_eq!(dns::name_problem("."), None);
    assert_eq!(dns::name_problem("example.com"), None);
    assert!(dns::name_problem(&"a".repeat(64)).is_some());
    assert!(dns::name_problem(&vec!["a".repeat(63); 4].join(".")).is_some());
}

#[test]
fn smtp_check_plain() {
    let r = rs(
        &["  connect_timeout 4"],
        &[
            "SMTP_CHECK {",
            "  retry 2",
            "  helo_name \"foo.bar.com\"",
            "}",
            "SMTP_CHECK {",
            "}",
        ],
    );
    let Checker::Smtp(s) = &r.checkers[0] else {
        panic!()
    };
    assert_eq!(s.helo_name, "foo.bar.com");
    assert_eq!(s.probe.target, sa("10.0.0.2:53"));
    assert_eq!((s.probe.retry, s.probe.connect_timeout), (2, secs(4.0)));
    let Checker::Smtp(s) = &r.checkers[1] else {
        panic!()
    };
    assert_eq!(s.helo_name, "smtpchecker.keepalived.org");
}

#[test]
fn smtp_host_blocks_are_checkers_as_in_keepalived() {
    // Hosts only: the first takes the SMTP_CHECK's place.
    let r = rs(
        &[],
        &[
            "SMTP_CHECK {",
            "  retry 2",
            "  helo_name foo",
            "  host {",
            "    connect_ip 10.1.1.1",
            "    connect_timeout 3",
            "  }",
            "  host {",
            "    connect_ip 10.1.1.2",
            "    connect_port 587",
            "    delay_before_retry 9",
            "  }",
            "}",
        ],
    );
    let targets: Vec<_> = r
        .checkers
        .iter()
        .map(|c| match c {
            Checker::Smtp(s) => (s.probe.target, s.probe.connect_timeout, s.helo_name.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        targets,
        [
            (sa("10.1.1.1:53"), secs(3.0), "foo".to_string()),
            (sa("10.1.1.2:587"), secs(5.0), "foo".to_string()),
        ]
    );
    // A host's timing keywords are the checker's, for every host.
    for c in &r.checkers {
        let Checker::Smtp(s) = c else { panic!() };
        assert_eq!((s.probe.retry, s.probe.delay_before_retry), (2, secs(9.0)));
    }
    // keepalived's sample: connect_timeout beside host blocks makes the
    // SMTP_CHECK a checker of the real server too, and the hosts do not
    // take its connect_timeout.
    let r = rs(
        &[],
        &[
            "SMTP_CHECK {",
            "  connect_timeout 10",
            "  host {",
            "    connect_ip 10.1.1.1",
            "  }",
            "}",
        ],
    );
    let got: Vec<_> = r
        .checkers
        .iter()
        .map(|c| match c {
            Checker::Smtp(s) => (s.probe.target, s.probe.connect_timeout),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            (sa("10.0.0.2:53"), secs(10.0)),
            (sa("10.1.1.1:53"), secs(5.0))
        ]
    );
    let w = warnings(&["SMTP_CHECK {", "  host {", "  }", "}"]);
    assert!(
        w.iter().any(|w| w.contains("host blocks are deprecated")),
        "{w:?}"
    );
}

#[test]
fn smtp_check_errors() {
    errors(
        &[
            "SMTP_CHECK {",
            "  helo_name",
            "  host {",
            "    helo_name x",
            "    bindto ::1",
            "  }",
            "  hosts {",
            "  }",
            "}",
        ],
        &[
            "4:7: SMTP_CHECK helo_name needs a name",
            "6:9: unknown keyword 'helo_name' in SMTP_CHECK host",
            "9:7: unknown keyword 'hosts' in SMTP_CHECK",
        ],
    );
    // bindto of another family than the address checked.
    errors(
        &["SMTP_CHECK {", "  bindto ::1", "}"],
        &["4:14: bindto ::1 and the address checked, 10.0.0.2, are not of the same family"],
    );
}

#[test]
fn ports_and_link_local_addresses() {
    let lines = [
        "virtual_server fwmark 1 {",
        "  real_server 10.0.0.2 {",
        "    UDP_CHECK {",
        "    }",
        "    PING_CHECK {",
        "    }",
        "    DNS_CHECK {",
        "      connect_port 53",
        "    }",
        "    SMTP_CHECK {",
        "      connect_ip fe80::1",
        "      connect_port 25",
        "    }",
        "  }",
        "}",
    ];
    assert_errors(
        &lines,
        &[
            "3:5: UDP_CHECK needs connect_port: real server 10.0.0.2 has no port",
            "10:5: SMTP_CHECK to the link-local address fe80::1 needs bind_if",
        ],
    );
}

#[test]
fn bfd_check_is_refused_with_its_reason() {
    errors(
        &["BFD_CHECK {", "}"],
        &["3:5: BFD_CHECK is not supported by afclusterd: it follows keepalived's BFD daemon"],
    );
}

#[test]
fn same_check_across_a_reload() {
    let a = rs(
        &[],
        &[
            "DNS_CHECK {",
            "  name a.",
            "}",
            "UDP_CHECK {",
            "  payload 01",
            "}",
        ],
    );
    let b = rs(
        &[],
        &[
            "DNS_CHECK {",
            "  name b.",
            "}",
            "UDP_CHECK {",
            "  payload 02",
            "}",
        ],
    );
    assert!(a.checkers[0].same_check(&a.checkers[0].clone()));
    assert!(!b.checkers[0].same_check(&a.checkers[0]));
    // keepalived compares a UDP_CHECK's connection only.
    assert!(b.checkers[1].same_check(&a.checkers[1]));
    assert!(!b.checkers[1].same_check(&a.checkers[0]));
}

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

fn sample(name: &str) -> crate::config::Config {
    let path = std::path::Path::new(SAMPLES).join(name);
    crate::config::Config::load(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (is keepalived installed?)", path.display()))
}

#[test]
fn keepalived_samples_run() {
    let c = sample("keepalived.conf.PING_CHECK");
    let Checker::Ping(p) = &c.virtual_servers[0].real_servers[0].checkers[0] else {
        panic!()
    };
    assert_eq!((p.probe.retry, p.probe.delay_loop), (4, secs(6.0)));

    let c = sample("keepalived.conf.UDP_CHECK");
    let Checker::Udp(u) = &c.virtual_servers[0].real_servers[0].checkers[0] else {
        panic!()
    };
    assert_eq!(u.probe.target, sa("192.168.200.6:1358"));
    assert_eq!(
        (
            u.probe.connect_timeout,
            u.probe.retry,
            u.probe.delay_before_retry
        ),
        (secs(3.0), 3, secs(3.0))
    );
    assert!(!u.require_reply);

    let c = sample("keepalived.conf.SMTP_CHECK");
    let per_rs: Vec<Vec<(SocketAddr, Duration)>> = c.virtual_servers[0]
        .real_servers
        .iter()
        .map(|rs| {
            rs.checkers
                .iter()
                .map(|c| match c {
                    Checker::Smtp(s) => {
                        assert_eq!(s.helo_name, "foo.bar.com");
                        assert_eq!((s.probe.retry, s.probe.delay_before_retry), (2, secs(5.0)));
                        (s.probe.target, s.probe.connect_timeout)
                    }
                    other => panic!("{other:?}"),
                })
                .collect()
        })
        .collect();
    // connect_timeout beside the host blocks: keepalived checks the real
    // server itself too, with it; the hosts with the default 5 s.
    assert_eq!(
        per_rs,
        [
            vec![(sa("172.16.1.10:25"), secs(30.0))],
            vec![
                (sa("172.16.1.11:25"), secs(10.0)),
                (sa("172.16.1.11:25"), secs(5.0)),
                (sa("192.168.155.10:25"), secs(5.0)),
                (sa("64.233.167.99:25"), secs(5.0)),
            ],
            vec![
                (sa("172.16.1.12:25"), secs(10.0)),
                (sa("172.16.1.12:25"), secs(5.0)),
                (sa("192.168.155.11:25"), secs(5.0)),
                (sa("64.233.167.100:587"), secs(5.0)),
            ],
        ]
    );
}
