use std::path::Path;

use super::*;
use crate::balancer::{plan, Balancer};
use crate::config::{Config, ConfigErrors};
use crate::ipvs::{Change, ServiceKey};

const FILE: &str = "/etc/afclusterd/t.conf";

fn load(text: &str) -> Result<Config, ConfigErrors> {
    Config::from_text(text, Path::new(FILE))
}

fn group_vs(group: &str, vs_extra: &str) -> String {
    format!(
        "virtual_server_group G {{\n{group}\n}}\nvirtual_server group G {{\n protocol TCP\n{vs_extra}\n \
         real_server 10.9.0.1 8080 {{\n CI-LINUX\n }}\n real_server 10.9.0.2 8080 {{\n CI-LINUX\n }}\n}}\n"
    )
}

fn entries(c: &Config) -> &[GroupEntry] {
    match &c.virtual_servers[0].address {
        VsAddress::Group { entries, .. } => entries,
        other => panic!("not a group: {other:?}"),
    }
}

fn addr(a: &str, port: u16) -> GroupEntry {
    GroupEntry::Addr {
        addr: a.parse().unwrap(),
        port,
    }
}

#[test]
fn every_entry_form_of_keepalived_2_2_7() {
    let c = load(&group_vs(
        " 10.0.0.1 8080\n 10.0.0.2\n 192.168.200.3-5 80\n 10.1.0.254-10.1.1.1 81\n 10.2.0.4/31 82\n \
         fwmark 1\n fwmark 2 inet",
        "",
    ))
    .unwrap();
    assert_eq!(
        entries(&c),
        [
            addr("10.0.0.1", 8080),
            addr("10.0.0.2", 0),
            addr("192.168.200.3", 80),
            addr("192.168.200.4", 80),
            addr("192.168.200.5", 80),
            addr("10.1.0.254", 81),
            addr("10.1.0.255", 81),
            addr("10.1.1.0", 81),
            addr("10.1.1.1", 81),
            addr("10.2.0.4", 82),
            addr("10.2.0.5", 82),
            GroupEntry::Fwmark {
                mark: 1,
                family: None
            },
            GroupEntry::Fwmark {
                mark: 2,
                family: Some(Family::Inet)
            },
        ]
        .as_slice()
    );
    let c = load(&group_vs(" fd00::fe-100 83", "").replace("10.9.0.", "fd00:9::")).unwrap();
    assert_eq!(
        entries(&c),
        [
            addr("fd00::fe", 83),
            addr("fd00::ff", 83),
            addr("fd00::100", 83)
        ]
        .as_slice()
    );
}

#[test]
fn group_mistakes_are_located() {
    let cases = [
        (" 10.0.0.5-3 80", "2:2: '10.0.0.5-3' is not an address or range: the range's end is not greater"),
        (" 10.0.0.5-10.0.0.1 80", "2:2: address range 10.0.0.5-10.0.0.1 ends before it starts"),
        (" 10.0.0.1/24 80", "2:2: '10.0.0.1/24' is not an address or range: the address has host bits set"),
        (" 10.0.0.0/33 80", "2:2: '10.0.0.0/33' is not an address or range: the prefix length must be 1 to 32"),
        (" 10.0.0.0/8 80", "2:2: address range 10.0.0.0/8 has more than 65536 addresses"),
        (" 10.0.0.1-fd00::1 80", "2:2: '10.0.0.1-fd00::1' is not an address or range: its ends are not of the same family"),
        (" 10.0.0.1 80 90", "2:14: a virtual_server_group line is an address and port or fwmark N"),
        (" fwmark 3 ipx", "2:11: unknown fwmark family 'ipx'"),
        (" fwmark 0", "2:9: fwmark 0 is out of range"),
        ("", "1:1: virtual_server_group G has no entries"),
    ];
    for (group, want) in cases {
        let e = load(&group_vs(group, "")).expect_err(group);
        let want = format!("{FILE}:{want}");
        assert!(
            e.0.len() == 1 && e.0[0].to_string().starts_with(&want),
            "{group}: {e}"
        );
    }
    let e = load("virtual_server group H {\n protocol TCP\n real_server 10.9.0.1 80 {\n }\n}\n")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("1:1: there is no virtual_server_group 'H'"),
        "{e}"
    );
    let e = load(&group_vs(" fd00::1 80", "")).unwrap_err();
    assert!(
        e.to_string()
            .contains("has IPv6 services, and real server 10.9.0.1 is IPv4"),
        "{e}"
    );
    // Tunnelled servers may be of another family (IPVS allows it).
    load(&group_vs(" fd00::1 80\n 10.0.0.1 80", " lb_kind TUN")).unwrap();
}

#[test]
fn a_group_defined_after_its_use_and_ha_suspend_warned() {
    let text = group_vs(" 10.0.0.1 80", " ha_suspend");
    let (vsg, rest) = text.split_at(text.find("virtual_server group").unwrap());
    let c = load(&format!("{rest}{vsg}")).unwrap();
    assert_eq!(entries(&c), [addr("10.0.0.1", 80)].as_slice());
    assert!(!c.virtual_servers[0].ha_suspend);
    assert!(
        c.warnings[0]
            .message
            .contains("ha_suspend on a virtual_server group"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn the_balancer_makes_one_ipvs_service_per_entry_with_the_same_servers() {
    let c = load(&group_vs(
        " 10.0.0.1 80\n 10.0.0.2-3 81\n fwmark 7",
        " lb_algo rr\n persistence_timeout 50",
    ))
    .unwrap();
    let b = Balancer::new(c.virtual_servers);
    let want = b.desired();
    let keys: Vec<String> = want.iter().map(|(s, _)| s.key.to_string()).collect();
    assert_eq!(
        keys,
        [
            "TCP 10.0.0.1:80",
            "TCP 10.0.0.2:81",
            "TCP 10.0.0.3:81",
            "FWM 7 IPv4"
        ]
    );
    for (s, d) in &want {
        assert_eq!(s.scheduler, "rr");
        assert_eq!(s.persistence.as_ref().map(|p| p.timeout_s), Some(50));
        let dests: Vec<String> = d.iter().map(|d| format!("{}:{}", d.addr, d.port)).collect();
        assert_eq!(dests, ["10.9.0.1:8080", "10.9.0.2:8080"], "{}", s.key);
    }
    assert_eq!(b.label(0), "group G");
    // From an empty table: each service, then its two servers.
    let ops = plan(&[], &want, &[]);
    assert_eq!(ops.len(), 4 * 3);
    assert!(
        matches!(&ops[0], Change::AddService(s) if s.key == ServiceKey::tcp("10.0.0.1".parse().unwrap(), 80))
    );
    assert!(matches!(&ops[9], Change::AddService(s) if s.key.to_string() == "FWM 7 IPv4"));
    // A server down leaves every service of the group.
    let mut b = b;
    let down = crate::balancer::RsId { vs: 0, rs: 1 };
    b.report(down, 0, false);
    let ops = plan(&want, &b.desired(), &b.keys());
    assert_eq!(ops.len(), 4);
    assert!(ops
        .iter()
        .all(|o| matches!(o, Change::DelDest(_, a, 8080) if a.to_string() == "10.9.0.2")));
}

#[test]
fn dr_servers_of_a_group_take_each_service_s_port() {
    let c = load(&group_vs(" 10.0.0.1 80\n 10.0.0.2 443", " lb_kind DR")).unwrap();
    let b = Balancer::new(c.virtual_servers);
    let ports: Vec<Vec<u16>> = b
        .desired()
        .iter()
        .map(|(_, d)| d.iter().map(|d| d.port).collect())
        .collect();
    assert_eq!(ports, [[80, 80], [443, 443]]);
}
