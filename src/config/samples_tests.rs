//! Every keepalived sample configuration of Debian's keepalived package
//! (/usr/share/doc/keepalived/samples, scripts/install-deps installs it),
//! with what `afclusterd -t` says of it. keepalived 2.2.7's own `-t`
//! verdict is in the comment of each (run on a host with lo and eth0):
//! afclusterd must accept what keepalived accepts, and otherwise give the
//! same reason or a clearer one.

use std::path::Path;

use super::Config;

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

/// `None`: accepted; `Some(text)`: refused, `text` in the first error.
const TABLE: &[(&str, Option<&str>, Option<&str>)] = &[
    // (sample, -i config id, afclusterd's verdict)
    // keepalived 0.
    ("keepalived.conf.HTTP_GET.port", None, None),
    // keepalived 0.
    ("keepalived.conf.IPv6", None, None),
    // keepalived 0.
    ("keepalived.conf.PING_CHECK", None, None),
    // keepalived 0.
    ("keepalived.conf.SMTP_CHECK", None, None),
    // keepalived 5 (AH with state MASTER): the same reason.
    ("keepalived.conf.SSL_GET", None, Some("auth_type AH")),
    // keepalived 0.
    ("keepalived.conf.UDP_CHECK", None, None),
    // keepalived 5 without -i (no script left, eth2/eth3 missing); 0 with -i high.
    (
        "keepalived.conf.conditional_conf",
        None,
        Some("vrrp_script check_VI_0 needs a script"),
    ),
    (
        "keepalived.conf.conditional_conf",
        Some("high"),
        Some("'net_namespace' is a keepalived section"),
    ),
    // keepalived 5: its only complaint is "protocol specified for fwmark -
    // protocol will be ignored", which it counts as an error at -t;
    // afclusterd warns the same and accepts it.
    ("keepalived.conf.fwmark", None, None),
    // keepalived 0.
    ("keepalived.conf.inhibit", None, None),
    // keepalived 0, warning that the script does not exist and disabling
    // the checker: the same.
    ("keepalived.conf.misc_check", None, None),
    ("keepalived.conf.misc_check_arg", None, None),
    // keepalived 0 (quorum scripts missing: warned): the same.
    ("keepalived.conf.quorum", None, None),
    // keepalived 0.
    ("keepalived.conf.sample", None, None),
    // keepalived 0.
    ("keepalived.conf.status_code", None, None),
    // keepalived 5 (interfaces eth0.1, eth1, eth2, eth3 missing); afclusterd
    // does not look for interfaces at -t (it follows them as they come).
    ("keepalived.conf.track_interface", None, None),
    // keepalived 0.
    ("keepalived.conf.virtual_server_group", None, None),
    // keepalived 0.
    ("keepalived.conf.virtualhost", None, None),
    // keepalived 5 (eth1 missing).
    ("keepalived.conf.vrrp", None, None),
    // keepalived 5 (eth1-3 missing); its bare script names are found on PATH.
    ("keepalived.conf.vrrp.localcheck", None, None),
    // keepalived 5 (eth1 missing; VI_2, VI_3 unknown keywords).
    (
        "keepalived.conf.vrrp.lvs_syncd",
        None,
        Some("unknown keyword 'VI_2' in vrrp_sync_group"),
    ),
    // keepalived 5 (eth1-3 missing).
    ("keepalived.conf.vrrp.routes", None, None),
    // keepalived 5 (the same typo, 192.168.100./24, and eth1, eth2).
    (
        "keepalived.conf.vrrp.rules",
        None,
        Some("'192.168.100./24' is not an address"),
    ),
    // keepalived 0 (notify scripts missing: warned): the same.
    ("keepalived.conf.vrrp.scripts", None, None),
    // keepalived 5 (eth1, eth2 missing).
    ("keepalived.conf.vrrp.static_ipaddress", None, None),
    // keepalived 5 (eth1 missing); its missing notify scripts warn.
    ("keepalived.conf.vrrp.sync", None, None),
];

#[test]
fn every_sample_has_the_verdict_of_the_table() {
    let dir = Path::new(SAMPLES);
    if !dir.exists() {
        eprintln!("{SAMPLES} is missing: install keepalived");
        return;
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("keepalived.conf."))
        .collect();
    names.sort();
    let mut in_table: Vec<String> = TABLE.iter().map(|(n, _, _)| n.to_string()).collect();
    in_table.dedup();
    assert_eq!(names, in_table, "every sample, once, in order");
    assert_eq!(names.len(), 25);
    for (name, id, want) in TABLE {
        let got = Config::load_as(&dir.join(name), *id);
        match (want, got) {
            (None, Ok(_)) => {}
            (None, Err(e)) => panic!("{name} -i {id:?}: refused:\n{e}"),
            (Some(w), Ok(_)) => panic!("{name} -i {id:?}: accepted, expected {w:?}"),
            (Some(w), Err(e)) => assert!(e.0[0].message.contains(w), "{name} -i {id:?}: {e}"),
        }
    }
}
