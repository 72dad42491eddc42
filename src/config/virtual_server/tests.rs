use super::*;
use crate::config::{Config, ConfigErrors};
use std::path::Path;

const FILE: &str = "/etc/afclusterd/t.conf";

/// The lines joined: line n of the text is `lines[n - 1]`.
fn text(lines: &[&str]) -> String {
    lines.join("\n") + "\n"
}

fn load(lines: &[&str]) -> Result<Config, ConfigErrors> {
    Config::from_text(&text(lines), Path::new(FILE))
}

fn ok(lines: &[&str]) -> Config {
    load(lines).unwrap_or_else(|e| panic!("{e}"))
}

fn one_vs(lines: &[&str]) -> VirtualServer {
    let c = ok(lines);
    assert_eq!(c.virtual_servers.len(), 1);
    c.virtual_servers.into_iter().next().unwrap()
}

/// Every `want` ("L:C: message start") is in the errors, and there are
/// exactly as many errors.
fn assert_errors(lines: &[&str], want: &[&str]) {
    let e = load(lines).expect_err("the configuration should be refused");
    assert_messages(&e.0, want);
}

fn assert_messages(got: &[ConfigError], want: &[&str]) {
    let text: Vec<String> = got.iter().map(|e| e.to_string()).collect();
    let all = text.join("\n");
    for w in want {
        let w = format!("{FILE}:{w}");
        assert!(
            text.iter().any(|t| t.starts_with(&w)),
            "missing {w:?} in:\n{all}"
        );
    }
    assert_eq!(got.len(), want.len(), "{all}");
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn pos(loc: &Location) -> (u32, u32) {
    (loc.line, loc.column)
}

fn tcp(c: &Checker) -> &checker::TcpCheck {
    match c {
        Checker::Tcp(t) => t,
        other => panic!("not TCP_CHECK: {other:?}"),
    }
}

fn misc(c: &Checker) -> &checker::MiscCheck {
    match c {
        Checker::Misc(m) => m,
        other => panic!("not MISC_CHECK: {other:?}"),
    }
}

#[test]
fn defaults_are_keepalived_s() {
    let vs = one_vs(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  real_server 10.0.0.2 {",
        "    TCP_CHECK {",
        "    }",
        "    MISC_CHECK {",
        "      misc_path /bin/true",
        "    }",
        "  }",
        "}",
    ]);
    assert_eq!(pos(&vs.loc), (1, 1));
    assert_eq!(
        vs.address,
        VsAddress::Addr {
            addr: ip("10.0.0.1"),
            port: 80
        }
    );
    assert_eq!(vs.protocol, Protocol::Tcp);
    assert_eq!(vs.delay_loop, secs(60.0));
    assert_eq!(vs.scheduler, "wlc");
    assert_eq!(vs.lb_kind, Forward::Masq);
    assert_eq!(vs.persistence_timeout, None);
    assert_eq!(vs.persistence_granularity, None);
    assert_eq!((vs.quorum, vs.hysteresis), (1, 0));
    assert_eq!((&vs.quorum_up, &vs.quorum_down), (&None, &None));
    assert_eq!(vs.sorry_server, None);
    assert!(!vs.inhibit_on_failure && !vs.alpha && !vs.omega && !vs.ha_suspend && !vs.ops);
    assert_eq!(vs.ip_family, None);
    assert_eq!(vs.family(), Family::Inet);

    let rs = &vs.real_servers[0];
    assert_eq!(pos(&rs.loc), (3, 3));
    assert_eq!(rs.addr, ip("10.0.0.2"));
    assert_eq!(rs.port, 80, "NAT without port: the virtual server's");
    assert_eq!(rs.weight, 1);
    assert!(!rs.inhibit_on_failure);
    assert_eq!(rs.lb_kind, Forward::Masq);
    assert_eq!((&rs.notify_up, &rs.notify_down), (&None, &None));
    assert_eq!((rs.uthreshold, rs.lthreshold), (0, 0));

    let t = tcp(&rs.checkers[0]);
    assert_eq!(pos(&t.loc), (4, 5));
    assert_eq!(
        (t.connect_ip, t.connect_port, t.bind_to),
        (None, None, None)
    );
    assert_eq!(t.connect_timeout, secs(5.0));
    assert_eq!(t.retry, 1);
    assert_eq!(t.delay_before_retry, secs(1.0));
    assert_eq!(t.delay_loop, secs(60.0));
    assert_eq!(t.warmup, None);
    assert_eq!(t.warmup_max(), secs(60.0));

    let m = misc(&rs.checkers[1]);
    assert_eq!(pos(&m.loc), (6, 5));
    assert_eq!(m.path.argv, ["/bin/true"]);
    assert_eq!(m.timeout, secs(60.0), "misc_timeout: the VS's delay_loop");
    assert!(!m.dynamic);
    assert_eq!(m.retry, 0, "MISC_CHECK's own default");
    assert_eq!(m.delay_before_retry, secs(1.0));
    assert_eq!(m.delay_loop, secs(60.0));
    assert_eq!(m.warmup, None);
    assert_eq!(m.warmup_max(), secs(60.0));
}

#[test]
fn every_virtual_server_keyword() {
    let c = ok(&[
        "virtual_server 192.168.1.1 53 {",
        "  delay_loop 2.5",
        "  lvs_sched wrr",
        "  lvs_method DR",
        "  persistence_timeout 600",
        "  persistence_granularity 255.255.255.0",
        "  protocol udp",
        "  ha_suspend",
        "  alpha",
        "  omega",
        "  quorum 2",
        "  hysteresis 1",
        "  quorum_up \"/bin/echo 'quorum up'\"",
        "  quorum_down /bin/true",
        "  sorry_server 192.168.1.9 53",
        "  sorry_server_inhibit",
        "  sorry_server_lvs_method NAT",
        "  inhibit_on_failure",
        "  ip_family inet",
        "  ops",
        "  weight 3",
        "  smtp_alert",
        "  snmp_name vs1",
        "  virtualhost www.example.com",
        "  hashed",
        "  real_server 192.168.1.2 53 {",
        "  }",
        "}",
    ]);
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.delay_loop, secs(2.5));
    assert_eq!(vs.scheduler, "wrr");
    assert_eq!(vs.lb_kind, Forward::Route);
    assert_eq!(vs.persistence_timeout, Some(600));
    assert_eq!(vs.persistence_granularity, Some(24));
    assert_eq!(vs.protocol, Protocol::Udp);
    assert!(vs.ha_suspend && vs.alpha && vs.omega && vs.inhibit_on_failure && vs.ops);
    assert_eq!((vs.quorum, vs.hysteresis), (2, 1));
    assert_eq!(
        vs.quorum_up.as_ref().unwrap().argv,
        ["/bin/echo", "quorum up"]
    );
    assert_eq!(pos(&vs.quorum_up.as_ref().unwrap().loc), (13, 13));
    assert_eq!(vs.quorum_down.as_ref().unwrap().argv, ["/bin/true"]);
    assert_eq!(
        vs.sorry_server,
        Some(SorryServer {
            addr: ip("192.168.1.9"),
            port: 53,
            inhibit: true,
            lb_kind: Some(Forward::Masq),
        })
    );
    assert_eq!(vs.sorry_lb_kind(), Some(Forward::Masq));
    assert_eq!(
        vs.ip_family, None,
        "an address service's family is its address's"
    );
    let rs = &vs.real_servers[0];
    assert_eq!(rs.weight, 3, "the virtual server's weight");
    assert_eq!(rs.lb_kind, Forward::Route);
    assert!(rs.inhibit_on_failure);
    let warned: Vec<_> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warned,
        [
            format!("{FILE}:22:3: smtp_alert has no effect: afclusterd sends no mail"),
            format!("{FILE}:23:3: snmp_name has no effect: afclusterd has no SNMP agent"),
            format!("{FILE}:25:3: hashed has no effect: keepalived ignores it too"),
        ]
    );
}

#[test]
fn keyword_aliases_and_forms() {
    let vs = one_vs(&[
        "virtual_server 10.0.0.1 0 {",
        "  lb_algo rr",
        "  lb_kind TUN",
        "  protocol Sctp",
        "  persistence_timeout",
        "  real_server 10.0.0.2 {",
        "  }",
        "}",
    ]);
    assert_eq!(vs.scheduler, "rr");
    assert_eq!(vs.lb_kind, Forward::Tunnel);
    assert_eq!(vs.protocol, Protocol::Sctp);
    assert_eq!(
        vs.persistence_timeout,
        Some(360),
        "bare: IPVS_SVC_PERSISTENT_TIMEOUT"
    );
    assert_eq!(
        vs.address,
        VsAddress::Addr {
            addr: ip("10.0.0.1"),
            port: 0
        }
    );
    assert_eq!(vs.real_servers[0].port, 0);
    // Every scheduler keepalived knows.
    for s in SCHEDULERS {
        let vs = one_vs(&[
            "virtual_server 10.0.0.1 80 {",
            "  protocol TCP",
            &format!("  lvs_sched {s}"),
            "  real_server 10.0.0.2 80 {",
            "  }",
            "}",
        ]);
        assert_eq!(&vs.scheduler, s);
    }
    // Granularity alone makes the service persistent.
    let vs = one_vs(&[
        "virtual_server 10.0.0.1 {",
        "  protocol TCP",
        "  persistence_granularity 255.255.0.0",
        "  real_server 10.0.0.2 {",
        "  }",
        "}",
    ]);
    assert_eq!(vs.persistence_timeout, Some(360));
    assert_eq!(vs.persistence_granularity, Some(16));
}

#[test]
fn every_real_server_keyword_and_inheritance_of_its_settings() {
    let c = ok(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  inhibit_on_failure",
        "  lb_kind DR",
        "  weight 5",
        "  real_server 10.0.0.2 80 {",
        "    weight 0",
        "    lvs_method TUN",
        "    inhibit_on_failure no",
        "    notify_up \"/bin/echo 'rs up'\"",
        "    notify_down /bin/true",
        "    uthreshold 100",
        "    lthreshold 10",
        "    smtp_alert yes",
        "    virtualhost x",
        "    snmp_name y",
        "  }",
        "  real_server 10.0.0.3 {",
        "    inhibit_on_failure",
        "    weight 2147483647",
        "  }",
        "  real_server 10.0.0.4 {",
        "    inhibit_on_failure off",
        "    lvs_method NAT",
        "  }",
        "}",
    ]);
    let rs = &c.virtual_servers[0].real_servers;
    assert_eq!(rs[0].weight, 0);
    assert_eq!(rs[0].lb_kind, Forward::Tunnel);
    assert!(!rs[0].inhibit_on_failure);
    assert_eq!(
        rs[0].notify_up.as_ref().unwrap().argv,
        ["/bin/echo", "rs up"]
    );
    assert_eq!(rs[0].notify_down.as_ref().unwrap().argv, ["/bin/true"]);
    assert_eq!((rs[0].uthreshold, rs[0].lthreshold), (100, 10));
    assert_eq!(
        (rs[1].weight, rs[1].lb_kind, rs[1].port),
        (i32::MAX, Forward::Route, 80)
    );
    assert!(rs[1].inhibit_on_failure);
    assert_eq!(
        (rs[2].weight, rs[2].lb_kind, rs[2].port),
        (5, Forward::Masq, 80)
    );
    assert!(!rs[2].inhibit_on_failure);
    let warned: Vec<_> = c
        .warnings
        .iter()
        .map(|w| pos(w.loc.as_ref().unwrap()))
        .collect();
    // smtp_alert and snmp_name; virtualhost is HTTP_GET's Host.
    assert_eq!(warned, [(14, 5), (16, 5)]);
}

#[test]
fn checkers_inherit_from_real_and_virtual_servers() {
    let vs = one_vs(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  delay_loop 10",
        "  connect_timeout 2",
        "  retry 3",
        "  delay_before_retry 4",
        "  warmup 5",
        "  real_server 10.0.0.2 80 {",
        "    TCP_CHECK {",
        "    }",
        "    MISC_CHECK {",
        "      misc_path /bin/true",
        "    }",
        "  }",
        "  real_server 10.0.0.3 80 {",
        "    delay_loop 20",
        "    connect_timeout 6",
        "    retry 7",
        "    delay_before_retry 8",
        "    warmup 9",
        "    TCP_CHECK {",
        "      connect_timeout 1.5",
        "      retry 0",
        "      delay_before_retry 0",
        "      warmup 0",
        "      delay_loop 0.000001",
        "    }",
        "    MISC_CHECK {",
        "      misc_path /bin/true",
        "      misc_timeout 7",
        "      misc_dynamic",
        "    }",
        "    MISC_CHECK {",
        "      misc_path /bin/true",
        "      misc_timeout 0",
        "    }",
        "  }",
        "}",
    ]);
    let a = &vs.real_servers[0].checkers;
    let t = tcp(&a[0]);
    assert_eq!(
        (
            t.connect_timeout,
            t.retry,
            t.delay_before_retry,
            t.warmup,
            t.delay_loop
        ),
        (secs(2.0), 3, secs(4.0), Some(secs(5.0)), secs(10.0))
    );
    let m = misc(&a[1]);
    assert_eq!(
        (
            m.retry,
            m.delay_before_retry,
            m.warmup,
            m.delay_loop,
            m.timeout
        ),
        (3, secs(4.0), Some(secs(5.0)), secs(10.0), secs(10.0)),
        "the virtual server's retry overrides MISC_CHECK's default 0"
    );

    let b = &vs.real_servers[1].checkers;
    let t = tcp(&b[0]);
    assert_eq!(
        (
            t.connect_timeout,
            t.retry,
            t.delay_before_retry,
            t.warmup,
            t.delay_loop
        ),
        (
            secs(1.5),
            0,
            Duration::ZERO,
            Some(Duration::ZERO),
            Duration::from_micros(1)
        )
    );
    let m = misc(&b[1]);
    assert_eq!(
        (m.retry, m.delay_before_retry, m.warmup, m.delay_loop),
        (7, secs(8.0), Some(secs(9.0)), secs(20.0))
    );
    assert_eq!(m.timeout, secs(7.0));
    assert!(m.dynamic);
    // misc_timeout 0 or none: the *virtual server's* delay_loop, as
    // keepalived (misc_check_thread), not the real server's 20 s.
    assert_eq!(misc(&b[2]).timeout, secs(10.0));
}

#[test]
fn settings_apply_whatever_their_order_in_the_block() {
    let c = ok(&[
        "virtual_server 10.0.0.1 80 {",
        "  real_server 10.0.0.2 8080 {",
        "    TCP_CHECK {",
        "    }",
        "  }",
        "  lb_kind DR",
        "  delay_loop 3",
        "  sorry_server_inhibit",
        "  sorry_server 10.0.0.9",
        "  protocol TCP",
        "}",
    ]);
    let vs = &c.virtual_servers[0];
    let rs = &vs.real_servers[0];
    assert_eq!((rs.lb_kind, rs.port), (Forward::Route, 80));
    assert_eq!(tcp(&rs.checkers[0]).delay_loop, secs(3.0));
    let ss = vs.sorry_server.as_ref().unwrap();
    assert!(ss.inhibit);
    assert_eq!(
        (ss.port, ss.lb_kind, vs.sorry_lb_kind()),
        (80, None, Some(Forward::Route))
    );
    // keepalived resets a DR server's port to the service's, with a warning.
    assert_messages(
        &c.warnings,
        &["2:24: DR and TUN cannot change the port: this real server gets the virtual server's, 80, not 8080"],
    );
}

#[test]
fn ipv6_services() {
    let vs = one_vs(&[
        "virtual_server ae00::1 80 {",
        "  protocol TCP",
        "  persistence_granularity 64",
        "  sorry_server ae00::99 8080",
        "  real_server ae00::10 8080 {",
        "    TCP_CHECK {",
        "      bindto ae00::2",
        "      connect_ip ae00::11",
        "    }",
        "  }",
        "  real_server 10.0.0.5 {",
        "    lvs_method TUN",
        "  }",
        "}",
    ]);
    assert_eq!(vs.family(), Family::Inet6);
    assert_eq!(vs.persistence_granularity, Some(64));
    assert_eq!(vs.persistence_timeout, Some(360));
    assert_eq!(vs.sorry_server.as_ref().unwrap().port, 8080);
    let rs = &vs.real_servers;
    assert_eq!((rs[0].addr, rs[0].port), (ip("ae00::10"), 8080));
    let t = tcp(&rs[0].checkers[0]);
    assert_eq!(
        (t.bind_to, t.connect_ip),
        (Some(ip("ae00::2")), Some(ip("ae00::11")))
    );
    // An IPv4 real server in an IPv6 service: IPVS takes it tunnelled only.
    assert_eq!(
        (rs[1].addr, rs[1].lb_kind, rs[1].port),
        (ip("10.0.0.5"), Forward::Tunnel, 80)
    );

    assert_errors(
        &[
            "virtual_server ae00::1 80 {",
            "  protocol TCP",
            "  real_server 10.0.0.5 80 {",
            "  }",
            "  sorry_server 10.0.0.9 80",
            "  ip_family inet",
            "  persistence_granularity 255.255.255.0",
            "  real_server ae00::5 80 {",
            "    TCP_CHECK {",
            "      bindto 10.0.0.1",
            "    }",
            "    TCP_CHECK {",
            "      connect_ip fe80::1",
            "    }",
            "  }",
            "}",
        ],
        &[
            "3:15: real server 10.0.0.5 is IPv4 but the service is IPv6: IPVS mixes address families only for TUN forwarding",
            "5:16: sorry server 10.0.0.9 is IPv4 but the service is IPv6",
            "6:13: ip_family inet: the virtual server's address ae00::1 is IPv6",
            "7:27: persistence_granularity of an IPv6 service is a prefix length (1 to 128), not '255.255.255.0'",
            "10:14: bindto 10.0.0.1 and the address checked, ae00::5, are not of the same family",
            "12:5: TCP_CHECK to the link-local address fe80::1 needs bind_if",
        ],
    );
}

#[test]
fn fwmark_services() {
    let c = ok(&[
        "virtual_server fwmark 7 {",
        "  protocol UDP",
        "  ha_suspend",
        "  lb_kind DR",
        "  real_server 10.1.0.1 80 {",
        "    TCP_CHECK {",
        "      connect_port 80",
        "    }",
        "  }",
        "  real_server 10.1.0.2 {",
        "    lvs_method NAT",
        "    CI-LINUX",
        "  }",
        "  real_server 10.1.0.3 8080 {",
        "    lvs_method NAT",
        "  }",
        "  ops",
        "}",
    ]);
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.address, VsAddress::Fwmark(7));
    assert_eq!(vs.ip_family, Some(Family::Inet));
    assert_eq!(vs.protocol, Protocol::Tcp, "protocol is ignored");
    assert!(!vs.ha_suspend, "cleared, as keepalived");
    assert!(vs.ops, "ops is allowed on fwmark services");
    let ports: Vec<_> = vs.real_servers.iter().map(|rs| rs.port).collect();
    assert_eq!(ports, [0, 0, 8080]);
    assert_eq!(tcp(&vs.real_servers[0].checkers[0]).connect_port, Some(80));
    assert_messages(
        &c.warnings,
        &[
            "2:12: protocol has no effect on a fwmark service",
            "3:3: ha_suspend cannot be used with a fwmark service",
            "5:24: a DR or TUN real server of a fwmark service has no port of its own: 80 is ignored",
        ],
    );

    // The family: ip_family, else the non-tunnelled servers', else the
    // granularity's form, else the tunnelled servers' if they agree, else IPv4.
    let family = |body: &[&str]| {
        let mut lines = vec!["virtual_server fwmark 1 {", "  lb_kind TUN"];
        lines.extend_from_slice(body);
        lines.push("}");
        one_vs(&lines).ip_family
    };
    let v6 = Some(Family::Inet6);
    let v4 = Some(Family::Inet);
    assert_eq!(family(&["  real_server ae00::1 {", "  }"]), v6);
    assert_eq!(
        family(&[
            "  real_server ae00::1 {",
            "  }",
            "  real_server 10.0.0.1 {",
            "  }"
        ]),
        v4
    );
    assert_eq!(
        family(&["  ip_family inet6", "  real_server 10.0.0.1 {", "  }"]),
        v6
    );
    assert_eq!(
        family(&[
            "  real_server 10.0.0.1 {",
            "  }",
            "  real_server ae00::1 {",
            "    lvs_method DR",
            "  }"
        ]),
        v6
    );
    assert_eq!(
        family(&[
            "  persistence_granularity 48",
            "  real_server 10.0.0.1 {",
            "  }"
        ]),
        v6
    );

    assert_errors(
        &[
            "virtual_server fwmark 0 {",
            "  real_server 10.0.0.1 {",
            "  }",
            "}",
            "virtual_server fwmark 2 {",
            "  real_server 10.0.0.1 {",
            "    TCP_CHECK {",
            "    }",
            "  }",
            "  real_server ae00::1 {",
            "  }",
            "  sorry_server ae00::9",
            "}",
            "virtual_server fwmark {",
            "}",
            "virtual_server fwmark 3 4 {",
            "}",
        ],
        &[
            "1:23: fwmark 0 is out of range: 1 to 4294967295",
            "7:5: TCP_CHECK needs connect_port: real server 10.0.0.1 has no port",
            "10:15: real server ae00::1 is IPv6 but the service is IPv4 (from 10.0.0.1 at /etc/afclusterd/t.conf:6:15)",
            "12:16: sorry server ae00::9 is IPv6 but the service is IPv4",
            "14:16: fwmark needs a number",
            "16:25: virtual_server fwmark takes one number; unexpected '4'",
        ],
    );
}

#[test]
fn ci_linux_bare_and_block_forms() {
    let vs = one_vs(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  real_server 10.0.0.2 80 {",
        "    CI-LINUX",
        "  }",
        "  real_server 10.0.0.3 80 {",
        "    CI-LINUX {",
        "      node 3",
        "    }",
        "    TCP_CHECK {",
        "    }",
        "  }",
        "  real_server 10.0.0.4 80 { CI-LINUX }",
        "  real_server 10.0.0.5 80 {",
        "    CI-LINUX { node 4294967295 }",
        "  }",
        "}",
    ]);
    let checkers: Vec<_> = vs.real_servers.iter().map(|rs| &rs.checkers).collect();
    let ci = |c: &Checker| match c {
        Checker::CiLinux(c) => (pos(&c.loc), c.node),
        other => panic!("not CI-LINUX: {other:?}"),
    };
    assert_eq!(checkers[0].len(), 1);
    assert_eq!(ci(&checkers[0][0]), ((4, 5), None));
    assert_eq!(checkers[1].len(), 2);
    assert_eq!(ci(&checkers[1][0]), ((7, 5), Some(3)));
    tcp(&checkers[1][1]);
    assert_eq!(ci(&checkers[2][0]), ((13, 29), None));
    assert_eq!(ci(&checkers[3][0]), ((15, 5), Some(u32::MAX)));

    assert_errors(
        &[
            "virtual_server 10.0.0.1 80 {",
            "  protocol TCP",
            "  real_server 10.0.0.2 80 {",
            "    CI-LINUX 3",
            "    CI-LINUX {",
            "      node 0",
            "    }",
            "    CI-LINUX {",
            "    }",
            "    CI-LINUX {",
            "      nodes 1",
            "    }",
            "    CI-LINUX {",
            "      node 1 2",
            "    }",
            "  }",
            "}",
        ],
        &[
            "4:14: CI-LINUX takes no value; to name the node, write CI-LINUX { node 3 }",
            "6:12: node 0 is out of range: 1 to 4294967295",
            "8:14: CI-LINUX { } needs node N",
            "11:7: unknown keyword 'nodes' in CI-LINUX (expected node)",
            "14:14: node takes one value; unexpected '2'",
        ],
    );
}

#[test]
fn bfd_check_is_a_clear_error() {
    assert_errors(
        &[
            "virtual_server 10.0.0.1 80 {",
            "  protocol TCP",
            "  real_server 10.0.0.2 80 {",
            "    BFD_CHECK { x }",
            "  }",
            "}",
        ],
        &["4:5: BFD_CHECK is not supported by afclusterd: it follows keepalived's BFD daemon"],
    );
}

#[test]
fn virtual_server_errors_are_located() {
    assert_errors(
        &[
            "virtual_server 10.0.0.1 80 {",
            "  delay_loop 0",
            "  lvs_sched fastest",
            "  lb_kind PNAT",
            "  lvs_method TUN type gue port 6080",
            "  persistence_timeout 2678401",
            "  protocol ICMP",
            "  quorum 0",
            "  hysteresis -1",
            "  quorum_up \"/bin/echo up\" root",
            "  connect_timeout 4294.967296",
            "  retry 0",
            "  warmup soon",
            "  alpha no",
            "  ip_family inet7",
            "  weight 0",
            "  persistence_engine sip",
            "  sh-port",
            "  TCP_CHECK {",
            "  }",
            "  frobnicate",
            "  sorry_server_inhibit",
            "  sorry_server 10.0.0.300",
            "  delay_before_retry 1.0000001",
            "  quorum_down /bin/true",
            "  quorum_down /bin/true",
            "  lb_kind DR NAT",
            "  real_server 10.0.0.2 80 {",
            "  }",
            "  virtual_server 10.0.0.3 80 {",
            "  }",
            "}",
        ],
        &[
            "2:14: 0 s: must be more than 0",
            "3:13: unknown scheduler 'fastest' (expected one of rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos)",
            "4:11: unknown forwarding method 'PNAT' (expected NAT, DR or TUN)",
            "5:18: tunnel options ('type') are not supported by afclusterd",
            "6:23: persistence_timeout 2678401 is out of range: 1 to 2678400",
            "7:12: unknown protocol 'ICMP' (expected TCP, UDP or SCTP)",
            "8:10: quorum 0 is out of range: 1 to 4294967295",
            "9:14: '-1' is not a valid hysteresis (0 to 4294967295)",
            "10:28: quorum_up: unexpected 'root': quote the whole command line",
            "11:19: 4294.967296 s is too long: at most 4294.967295 s",
            "12:9: retry 0 is out of range: 1 to 4294967295",
            "13:10: 'soon' is not a number of seconds",
            "14:9: alpha takes no value; unexpected 'no'",
            "15:13: unknown address family 'inet7' (expected inet or inet6)",
            "16:10: weight 0 is out of range: 1 to 2147483647",
            "17:3: persistence_engine is a keepalived keyword that afclusterd does not support",
            "18:3: sh-port is a keepalived keyword that afclusterd does not support",
            "19:3: TCP_CHECK belongs in a real_server, not directly in the virtual_server",
            "21:3: unknown keyword 'frobnicate' in virtual_server",
            "22:3: sorry_server_inhibit without sorry_server",
            "23:16: '10.0.0.300' is not an IPv4 or IPv6 address",
            "24:22: '1.0000001' is not a number of seconds (e.g. 3 or 0.5, at most six decimals)",
            "26:3: quorum_down is already set at /etc/afclusterd/t.conf:25:3",
            "27:14: lb_kind takes one value; unexpected 'NAT'",
            "30:3: virtual_server inside a virtual_server (a missing '}' above?)",
        ],
    );
}

#[test]
fn virtual_server_headers_and_whole_service_errors() {
    assert_errors(
        &[
            "virtual_server",
            "virtual_server 10.0.0.1 80",
            "virtual_server 10.0.0.1 65536 {",
            "}",
            "virtual_server 10.0.0.1 80 tcp {",
            "}",
            "virtual_server www.example.com 80 {",
            "}",
            "virtual_server group web {",
            "}",
            "virtual_server 10.0.0.1 80 {",
            "  real_server 10.0.0.2 80 {",
            "  }",
            "}",
            "virtual_server 10.0.0.2 {",
            "  protocol TCP",
            "  real_server 10.0.0.2 80 {",
            "  }",
            "}",
            "virtual_server 10.0.0.3 80 {",
            "  protocol TCP",
            "  ops",
            "  real_server 10.0.0.2 80 {",
            "  }",
            "}",
        ],
        &[
            "1:1: virtual_server needs an address and port, or fwmark N",
            "2:1: virtual_server needs a { block }",
            "3:25: '65536' is not a port (0 to 65535)",
            "5:28: virtual_server takes an address and a port; unexpected 'tcp'",
            "7:16: 'www.example.com' is not an IPv4 or IPv6 address",
            "11:1: virtual_server 10.0.0.1:80 needs protocol TCP, UDP or SCTP (keepalived would report an error and use UDP)",
            "15:16: virtual_server 10.0.0.2:0: port 0 (every port) is only valid for a persistent service",
            "22:3: ops (one-packet scheduling) needs protocol UDP or a fwmark service",
        ],
    );
}

#[test]
fn real_server_errors_are_located() {
    assert_errors(
        &[
            "virtual_server 10.0.0.1 80 {",
            "  protocol TCP",
            "  real_server 10.0.0.2 80 {",
            "    weight 2147483648",
            "    inhibit_on_failure maybe",
            "    notify_up relative.sh",
            "    notify_up /bin/true",
            "    notify_up /bin/true",
            "    uthreshold 10",
            "    lthreshold 20",
            "    alpha",
            "    delay_loop 0.0000001",
            "    lb_kind NAT",
            "    retry 0",
            "    lvs_method DR extra",
            "    notify_down \"/nonexistent/x arg\"",
            "    real_server 10.0.0.9 80 {",
            "    }",
            "  }",
            "  real_server 10.0.0.2 {",
            "  }",
            "  real_server 10.0.0.3 80 extra {",
            "  }",
            "  real_server 10.0.0.4 80",
            "  real_server {",
            "  }",
            "  real_server 10.0.0.5 {",
            "    lthreshold 1",
            "  }",
            "}",
        ],
        &[
            "4:12: '2147483648' is not a valid weight (0 to 2147483647)",
            "5:24: 'maybe' is not a boolean (true, on, yes, false, off or no)",
            "7:5: notify_up is already set at /etc/afclusterd/t.conf:6:5",
            "8:5: notify_up is already set at /etc/afclusterd/t.conf:6:5",
            "11:5: alpha is not supported per real server by afclusterd",
            "12:16: '0.0000001' is not a number of seconds",
            "13:5: unknown keyword 'lb_kind' in real_server",
            "14:11: retry 0 is out of range: 1 to 4294967295",
            "15:19: lvs_method takes one value; unexpected 'extra'",
            "17:5: real_server inside a real_server (a missing '}' above?)",
            "10:16: lthreshold 20 is above uthreshold 10: IPVS refuses it",
            "20:15: real server 10.0.0.2:80 is already in this virtual_server at /etc/afclusterd/t.conf:3:3",
            "22:27: real_server takes an address and a port; unexpected 'extra'",
            "24:3: real_server needs a { block }",
            "25:3: real_server needs an address",
            "28:16: lthreshold 1 is above uthreshold 0: IPVS refuses it (uthreshold 0, no limit, allows only lthreshold 0)",
        ],
    );
}

#[test]
fn checker_errors_are_located() {
    assert_errors(
        &[
            "virtual_server 10.0.0.1 80 {",
            "  protocol TCP",
            "  real_server 10.0.0.2 80 {",
            "    TCP_CHECK {",
            "      connect_port 0",
            "      connect_ip 10.0.0.300",
            "      bind_if eth0",
            "      bind_port 5000",
            "      fwmark 3",
            "      alpha",
            "      misc_path /bin/true",
            "      connect_timeout 0",
            "      retry -1",
            "    }",
            "    TCP_CHECK",
            "    TCP_CHECK 1 {",
            "    }",
            "    MISC_CHECK {",
            "      misc_timeout 1.5",
            "      user nobody",
            "      connect_timeout 3",
            "      misc_dynamic yes",
            "      warmup -1",
            "    }",
            "    MISC_CHECK {",
            "      misc_path \"/nonexistent/check arg\"",
            "    }",
            "    MISC_CHECK {",
            "      misc_path /bin/echo a",
            "      misc_timeout 4295",
            "    }",
            "    MISC_CHECK {",
            "    }",
            "  }",
            "}",
        ],
        &[
            "5:20: connect_port 0 is out of range: 1 to 65535",
            "6:18: '10.0.0.300' is not an IPv4 or IPv6 address",
            "7:7: bind_if is not supported by afclusterd's TCP_CHECK",
            "8:7: bind_port is not supported by afclusterd's TCP_CHECK",
            "9:7: fwmark is not supported by afclusterd's TCP_CHECK",
            "10:7: alpha is not supported per checker by afclusterd",
            "11:7: unknown keyword 'misc_path' in TCP_CHECK",
            "12:23: 0 s: must be more than 0",
            "13:13: '-1' is not a valid retry (0 to 4294967295)",
            "15:5: TCP_CHECK needs a { block }",
            "16:15: TCP_CHECK takes no arguments before its block",
            "19:20: '1.5' is not a valid misc_timeout (0 to 4294)",
            "20:7: user is not supported by afclusterd",
            "21:7: connect_timeout has no meaning in MISC_CHECK (its timeout is misc_timeout)",
            "22:20: misc_dynamic takes no value; unexpected 'yes'",
            "23:14: '-1' is not a number of seconds",
            "18:5: MISC_CHECK needs misc_path",
            "29:27: misc_path: unexpected 'a': quote the whole command line",
            "30:20: misc_timeout 4295 is out of range: 0 to 4294",
            "32:5: MISC_CHECK needs misc_path",
        ],
    );
}

#[test]
fn checker_warnings() {
    let c = ok(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  real_server 10.0.0.2 80 {",
        "    TCP_CHECK {",
        "      log_all_failures",
        "    }",
        "    MISC_CHECK {",
        "      misc_path \"/bin/echo 'a b' c\\ d \\x41\"",
        "      log_all_failures no",
        "    }",
        "  }",
        "}",
    ]);
    assert_messages(
        &c.warnings,
        &[
            "5:7: log_all_failures has no effect",
            "9:7: log_all_failures has no effect",
        ],
    );
    let m = misc(&c.virtual_servers[0].real_servers[0].checkers[1]);
    assert_eq!(m.path.argv, ["/bin/echo", "a b", "c d", "A"]);
}

#[test]
fn duplicates_name_the_first() {
    let e = load(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  real_server 10.0.0.2 80 {",
        "  }",
        "}",
        "virtual_server 10.0.0.1 80 {",
        "  protocol UDP",
        "  real_server 10.0.0.2 80 {",
        "  }",
        "}",
        "virtual_server 10.0.0.1 80 {",
        "  protocol tcp",
        "  real_server 10.0.0.2 80 {",
        "  }",
        "}",
        "virtual_server fwmark 1 {",
        "  real_server 10.0.0.2 {",
        "  }",
        "}",
        "virtual_server fwmark 1 {",
        "  real_server ae00::2 {",
        "  }",
        "}",
        "virtual_server fwmark 1 {",
        "  real_server 10.0.0.3 {",
        "  }",
        "}",
    ])
    .unwrap_err();
    assert_messages(
        &e.0,
        &[
            "11:16: virtual_server 10.0.0.1:80 TCP is already defined at /etc/afclusterd/t.conf:1:1",
            "24:23: virtual_server fwmark 1 (IPv4) is already defined at /etc/afclusterd/t.conf:16:1",
        ],
    );
}

#[test]
fn quorum_hysteresis_and_sorry_server_corrections_warn() {
    let c = ok(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  quorum 5",
        "  hysteresis 4",
        "  sorry_server 10.0.0.3 80",
        "  sorry_server_inhibit",
        "  real_server 10.0.0.2 80 {",
        "    weight 2",
        "  }",
        "  real_server 10.0.0.3 {",
        "  }",
        "}",
    ]);
    let vs = &c.virtual_servers[0];
    assert_eq!((vs.quorum, vs.hysteresis), (3, 2));
    assert!(!vs.sorry_server.as_ref().unwrap().inhibit);
    assert_messages(
        &c.warnings,
        &[
            "10:3: the sorry server is this real server, whose inhibit_on_failure (false) it takes",
            "3:10: quorum 5 is above the total weight of the real servers, 3: lowered to 3",
            "4:14: hysteresis 4 is not below quorum 3: lowered to 2",
        ],
    );
}

#[test]
fn zero_total_weight_lowers_the_default_quorum_to_zero() {
    let c = ok(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  real_server 10.0.0.2 80 {",
        "    weight 0",
        "  }",
        "}",
    ]);
    let vs = &c.virtual_servers[0];
    // keepalived 2.2.7: "hysteresis 0 >= quorum 0; setting hysteresis
    // to 4294967295" (quorum - 1 in unsigned int).
    assert_eq!((vs.quorum, vs.hysteresis), (0, u32::MAX));
    assert_messages(
        &c.warnings,
        &[
            "1:1: quorum 1 is above the total weight of the real servers, 0: lowered to 0",
            "1:1: hysteresis 0 is not below quorum 0: lowered to 4294967295",
        ],
    );
}

#[test]
fn timers_are_keepalived_s_decimal_seconds() {
    for (written, want) in [
        ("3", secs(3.0)),
        ("5.", secs(5.0)),
        (".5", secs(0.5)),
        ("0.000001", Duration::from_micros(1)),
        ("86400.123456", Duration::from_micros(86_400_123_456)),
    ] {
        let vs = one_vs(&[
            "virtual_server 10.0.0.1 80 {",
            "  protocol TCP",
            &format!("  delay_loop {written}"),
            "  real_server 10.0.0.2 80 {",
            "  }",
            "}",
        ]);
        assert_eq!(vs.delay_loop, want, "{written}");
    }
    for bad in ["1e3", "-1", ".", "1.2.3", "0x10", "", "1,5"] {
        let e = load(&[
            "virtual_server 10.0.0.1 80 {",
            "  protocol TCP",
            &format!("  delay_loop \"{bad}\""),
            "  real_server 10.0.0.2 80 {",
            "  }",
            "}",
        ])
        .unwrap_err();
        assert_messages(
            &e.0,
            &[&format!("3:14: '{bad}' is not a number of seconds")],
        );
    }
}

#[test]
fn a_virtual_server_without_real_servers_is_dropped_with_a_warning() {
    let c = ok(&[
        "global_defs {",
        "}",
        "  virtual_server 10.0.0.1 80 {",
        "    protocol TCP",
        "    sorry_server 10.0.0.9 80",
        "  }",
    ]);
    assert!(c.virtual_servers.is_empty());
    assert_messages(
        &c.warnings,
        &["3:3: virtual_server 10.0.0.1:80 has no real_server: ignored, as keepalived does"],
    );
}

// keepalived's own samples, from Debian's keepalived package
// (scripts/install-deps installs it).

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

fn sample_text(name: &str) -> String {
    let path = Path::new(SAMPLES).join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (is keepalived installed?)", path.display()))
}

fn load_sample(name: &str) -> Result<Config, ConfigErrors> {
    sample_text(name); // a clear panic if absent
    Config::load(&Path::new(SAMPLES).join(name))
}

/// The sample with only lines `from..=to` kept (1-based) and the others
/// blank, so that locations stay those of the sample; `drop` lines blank too.
fn sample_part(name: &str, from: usize, to: usize, drop: &[(usize, usize)]) -> String {
    sample_text(name)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let n = i + 1;
            let keep = (from..=to).contains(&n) && !drop.iter().any(|&(a, b)| (a..=b).contains(&n));
            if keep {
                l
            } else {
                ""
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The sample is accepted, with these located warnings among others.
fn sample_warnings(name: &str, want: &[(u32, u32, &str)]) {
    let c = load_sample(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let path = Path::new(SAMPLES).join(name);
    let all: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    for (line, col, msg) in want {
        let w = format!("{}:{line}:{col}: {msg}", path.display());
        assert!(
            all.iter().any(|x| x.starts_with(&w)),
            "missing {w:?} in:\n{all:?}"
        );
    }
}

fn part(text: &str) -> Result<Config, ConfigErrors> {
    Config::from_text(text, Path::new(FILE))
}

const NO_SUCH_SCRIPT: &str = "MISC_CHECK '/usr/local/bin/script.sh': No such file";

#[test]
fn keepalived_misc_check_samples() {
    // The samples' script does not exist: as keepalived, a warning, and
    // the checker is disabled.
    sample_warnings("keepalived.conf.misc_check", &[(24, 21, NO_SUCH_SCRIPT)]);
    sample_warnings(
        "keepalived.conf.misc_check_arg",
        &[(23, 21, NO_SUCH_SCRIPT)],
    );

    // With a script that exists, the whole file is accepted.
    let text =
        sample_text("keepalived.conf.misc_check").replace("/usr/local/bin/script.sh", "/bin/true");
    let c = part(&text).unwrap_or_else(|e| panic!("{e}"));
    // global_defs: notification_email, notification_email_from,
    // smtp_server, smtp_connect_timeout.
    assert_eq!(c.warnings.len(), 4, "{:?}", c.warnings);
    assert_eq!(c.global.router_id, "LVS_DEVEL");
    let vs = &c.virtual_servers[0];
    assert_eq!(pos(&vs.loc), (14, 1));
    assert_eq!(
        vs.address,
        VsAddress::Addr {
            addr: ip("10.10.10.2"),
            port: 1358
        }
    );
    assert_eq!(
        (vs.delay_loop, vs.scheduler.as_str(), vs.lb_kind),
        (secs(6.0), "rr", Forward::Masq)
    );
    assert_eq!(
        (vs.persistence_timeout, vs.protocol),
        (Some(50), Protocol::Tcp)
    );
    let rs = &vs.real_servers[0];
    assert_eq!(
        (rs.addr, rs.port, rs.weight),
        (ip("192.168.200.6"), 1358, 1)
    );
    let m = misc(&rs.checkers[0]);
    assert_eq!(m.path.argv, ["/bin/true"]);
    assert_eq!(
        (m.timeout, m.retry, m.delay_before_retry, m.delay_loop),
        (secs(6.0), 0, secs(1.0), secs(6.0))
    );
    assert!(!m.dynamic, "misc_dynamic is commented out");

    let text = sample_text("keepalived.conf.misc_check_arg")
        .replace("/usr/local/bin/script.sh", "/bin/echo");
    let c = part(&text).unwrap_or_else(|e| panic!("{e}"));
    let m = misc(&c.virtual_servers[0].real_servers[0].checkers[0]);
    assert_eq!(m.path.argv, ["/bin/echo", "arg1", "arg2"]);
    assert_eq!(pos(&m.path.loc), (23, 21));
}

#[test]
fn keepalived_fwmark_sample_is_accepted_as_is() {
    let c = load_sample("keepalived.conf.fwmark").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0].to_string().ends_with(
            "keepalived.conf.fwmark:12:12: protocol has no effect on a fwmark service (keepalived ignores it too)"
        ),
        "{}",
        c.warnings[0]
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.address, VsAddress::Fwmark(1));
    assert_eq!(vs.family(), Family::Inet);
    assert_eq!(
        (vs.persistence_timeout, vs.delay_loop),
        (Some(900), secs(6.0))
    );
    let addrs: Vec<_> = vs
        .real_servers
        .iter()
        .map(|rs| (rs.addr, rs.port))
        .collect();
    assert_eq!(
        addrs,
        [(ip("192.168.201.100"), 0), (ip("192.168.201.101"), 0)]
    );
    for rs in &vs.real_servers {
        let t = tcp(&rs.checkers[0]);
        assert_eq!(
            (t.connect_port, t.connect_timeout, t.retry),
            (Some(80), secs(3.0), 1)
        );
    }
}

#[test]
fn keepalived_quorum_sample() {
    sample_warnings(
        "keepalived.conf.quorum",
        &[
            (
                33,
                13,
                "quorum_up '/usr/local/sbin/quorum-up.sh': No such file",
            ),
            (
                34,
                15,
                "quorum_down '/usr/local/sbin/quorum-down.sh': No such file",
            ),
        ],
    );
    let text = sample_text("keepalived.conf.quorum")
        .replace("/usr/local/sbin/quorum-up.sh", "/bin/true")
        .replace("/usr/local/sbin/quorum-down.sh", "/bin/echo");
    let c = part(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let vs = &c.virtual_servers[0];
    assert_eq!(
        (vs.quorum, vs.hysteresis, vs.alpha, vs.omega),
        (7, 2, true, true)
    );
    assert_eq!(vs.scheduler, "wrr");
    assert_eq!(vs.quorum_up.as_ref().unwrap().argv, ["/bin/true"]);
    assert_eq!(vs.quorum_down.as_ref().unwrap().argv, ["/bin/echo"]);
    assert_eq!(vs.real_servers.len(), 10);
    for (n, rs) in vs.real_servers.iter().enumerate() {
        assert_eq!(rs.addr, ip(&format!("10.0.0.{}", n + 1)));
        assert_eq!((rs.port, rs.weight), (8080, 1));
        let t = tcp(&rs.checkers[0]);
        assert_eq!(
            (t.connect_port, t.connect_timeout, t.delay_loop),
            (Some(80), secs(3.0), secs(6.0))
        );
    }
}

#[test]
fn keepalived_sample_with_vrrp_and_http_get() {
    // The whole sample is accepted, its HTTP_GET included
    // (checker/http/tests.rs reads the HTTP checks of the samples).
    let c = load_sample("keepalived.conf.sample").unwrap_or_else(|e| panic!("{e}"));
    let vs = &c.virtual_servers[0];
    assert_eq!(pos(&vs.loc), (26, 1));
    assert_eq!(
        vs.sorry_server,
        Some(SorryServer {
            addr: ip("192.168.200.200"),
            port: 1358,
            inhibit: false,
            lb_kind: None
        })
    );
    assert_eq!(vs.real_servers[0].addr, ip("192.168.200.2"));
    assert!(matches!(
        vs.real_servers[0].checkers.as_slice(),
        [Checker::Http(_)]
    ));
}

#[test]
fn keepalived_inhibit_and_virtualhost_samples() {
    let c = load_sample("keepalived.conf.inhibit").unwrap_or_else(|e| panic!("{e}"));
    let rs = &c.virtual_servers[0].real_servers[0];
    assert!(rs.inhibit_on_failure);
    assert!(!c.virtual_servers[0].inhibit_on_failure);
    assert!(matches!(rs.checkers.as_slice(), [Checker::Http(_)]));

    let c = load_sample("keepalived.conf.virtualhost").unwrap_or_else(|e| panic!("{e}"));
    let rs = &c.virtual_servers[0].real_servers[0];
    assert_eq!(rs.port, 80);
    let [Checker::Http(h)] = rs.checkers.as_slice() else {
        panic!("{:?}", rs.checkers)
    };
    assert!(h.tls);
    // The virtual server's virtualhost is the Host unless the url has one.
    assert!(h.urls.iter().all(|u| u.host.is_some()), "{:?}", h.urls);
}

#[test]
fn keepalived_ipv6_sample() {
    // Its group and SMTP_CHECK read: accepted, as keepalived accepts it.
    load_sample("keepalived.conf.IPv6").unwrap_or_else(|e| panic!("{e}"));
    let c = part(&sample_part("keepalived.conf.IPv6", 13, 52, &[])).unwrap();
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.family(), Family::Inet6);
    assert_eq!(
        vs.address,
        VsAddress::Addr {
            addr: ip("ae00::1"),
            port: 80
        }
    );
    let rs = &vs.real_servers[0];
    assert_eq!(
        (rs.addr, rs.port),
        (ip("ae00::10"), 25),
        "NAT may change the port"
    );
}
