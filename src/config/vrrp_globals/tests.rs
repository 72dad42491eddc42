use super::*;
use crate::config::testing::*;
use crate::config::Config;

/// global_defs { LINES } (from line 2), and an instance VI_1 (vrid 51).
fn with(lines: &[&str]) -> Vec<String> {
    let mut v = vec!["global_defs {".to_string()];
    v.extend(lines.iter().map(|l| format!("  {l}")));
    v.extend(
        [
            "}",
            "vrrp_instance VI_1 {",
            "  interface eth0",
            "  virtual_router_id 51",
            "  virtual_ipaddress { 10.0.0.1 }",
            "}",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

fn globals(lines: &[&str]) -> Config {
    ok(&refs(&with(lines)))
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn defaults_are_keepalived_s() {
    let g = VrrpGlobals::default();
    assert_eq!(g.version, VrrpVersion::V2);
    assert!(!g.strict && !g.skip_check_adv_addr && !g.check_unicast_src && !g.v3_checksum_as_v2);
    assert_eq!(
        (
            g.garp_master_delay,
            g.garp_master_repeat,
            g.garp_master_refresh,
            g.garp_master_refresh_repeat
        ),
        (secs(5), 5, Duration::ZERO, 1)
    );
    assert_eq!(
        (g.garp_lower_prio_delay, g.garp_lower_prio_repeat),
        (None, None)
    );
    assert_eq!(
        (g.garp_interval, g.gna_interval),
        (Duration::ZERO, Duration::ZERO)
    );
    assert_eq!(g.down_timer_adverts, 3);
    assert!(!g.lower_prio_no_advert && !g.higher_prio_send_advert);
    assert_eq!(g.mcast_group4, Ipv4Addr::new(224, 0, 0, 18));
    assert_eq!(g.mcast_group6, "ff02::12".parse::<Ipv6Addr>().unwrap());
    assert_eq!(g.startup_delay, Duration::ZERO);
    assert!(!g.log_unknown_vrids);
    assert_eq!(g.lvs_sync_daemon, None);
}

#[test]
fn every_keyword_and_what_instances_take_from_it() {
    let c = globals(&[
        "vrrp_version 3",
        "vrrp_skip_check_adv_addr",
        "vrrp_check_unicast_src",
        "v3_checksum_as_v2",
        "vrrp_garp_master_delay 2",
        "vrrp_garp_master_repeat 3",
        "vrrp_garp_master_refresh 60",
        "vrrp_garp_master_refresh_repeat 2",
        "vrrp_garp_lower_prio_delay 1",
        "vrrp_garp_lower_prio_repeat 4",
        "vrrp_garp_interval 0.001",
        "vrrp_gna_interval 0.002",
        "vrrp_down_timer_adverts 4",
        "vrrp_lower_prio_no_advert",
        "vrrp_higher_prio_send_advert true",
        "vrrp_mcast_group4 224.0.0.99",
        "vrrp_mcast_group6 ff02::99",
        "vrrp_startup_delay 5.5",
        "log_unknown_vrids",
    ]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let g = &c.global.vrrp;
    assert_eq!(g.version, VrrpVersion::V3);
    assert!(g.skip_check_adv_addr && g.check_unicast_src && g.v3_checksum_as_v2);
    assert_eq!(
        (
            g.garp_master_delay,
            g.garp_master_repeat,
            g.garp_master_refresh,
            g.garp_master_refresh_repeat
        ),
        (secs(2), 3, secs(60), 2)
    );
    assert_eq!(
        (g.garp_lower_prio_delay, g.garp_lower_prio_repeat),
        (Some(secs(1)), Some(4))
    );
    assert_eq!(
        (g.garp_interval, g.gna_interval),
        (Duration::from_millis(1), Duration::from_millis(2))
    );
    assert_eq!(g.down_timer_adverts, 4);
    assert!(g.lower_prio_no_advert && g.higher_prio_send_advert && g.log_unknown_vrids);
    assert_eq!(g.mcast_group4, Ipv4Addr::new(224, 0, 0, 99));
    assert_eq!(g.startup_delay, Duration::from_millis(5500));
    let i = &c.vrrp_instances[0];
    assert_eq!(i.version, VrrpVersion::V3);
    assert!(i.skip_check_adv_addr && i.check_unicast_src && i.v3_checksum_as_v2);
    assert_eq!(
        (
            i.garp.master_delay,
            i.garp.lower_prio_delay,
            i.garp.lower_prio_repeat
        ),
        (secs(2), secs(1), 4)
    );
    assert_eq!(i.down_timer_adverts, 4);
    assert!(i.lower_prio_no_advert && i.higher_prio_send_advert);
    assert_eq!(i.mcast_group, Some("224.0.0.99".parse().unwrap()));
}

#[test]
fn vrrp_min_garp_lowers_what_is_still_the_default() {
    let g = globals(&["vrrp_min_garp"]).global.vrrp;
    assert_eq!(
        (
            g.garp_master_delay,
            g.garp_master_repeat,
            g.garp_master_refresh_repeat
        ),
        (Duration::ZERO, 1, 0)
    );
    let g = globals(&[
        "vrrp_garp_master_repeat 3",
        "vrrp_min_garp",
        "vrrp_garp_master_delay 2",
    ])
    .global
    .vrrp;
    assert_eq!((g.garp_master_delay, g.garp_master_repeat), (secs(2), 3));
    let g = globals(&["vrrp_min_garp off"]).global.vrrp;
    assert_eq!(g.garp_master_repeat, 5);
}

#[test]
fn mistakes_are_located() {
    assert_errors(
        &refs(&with(&[
            "vrrp_version 1",
            "vrrp_strict yes",
            "vrrp_mcast_group4 10.0.0.1",
            "vrrp_mcast_group4 ff02::1",
            "vrrp_mcast_group6 224.0.0.1",
            "vrrp_garp_master_delay 1.5",
            "vrrp_garp_master_refresh -1",
            "vrrp_down_timer_adverts 0",
            "vrrp_garp_interval 0",
            "vrrp_startup_delay 0.0001",
        ])),
        &[
            "2:16: VRRP version '1': must be 2 or 3",
            "3:15: vrrp_strict takes no value; unexpected 'yes'",
            "4:21: vrrp_mcast_group4 10.0.0.1 is not an IPv4 multicast address",
            "5:21: vrrp_mcast_group4 ff02::1 is not an IPv4 multicast address",
            "6:21: vrrp_mcast_group6 224.0.0.1 is not an IPv6 multicast address",
            "7:26: '1.5' is not a valid vrrp_garp_master_delay",
            "8:28: '-1' is not a valid vrrp_garp_master_refresh",
            "9:27: vrrp_down_timer_adverts 0 is out of range: 1 to 100",
            "10:22: 0 s: must be more than 0",
            "11:22: 0.0001 s is too short: at least 0.001 s",
        ],
    );
    let c = globals(&[
        "vrrp_mcast_group6 ff05::12",
        "vrrp_garp_interval 2",
        "vrrp_garp_master_repeat 0",
    ]);
    assert_messages(
        &c.warnings,
        &[
            "2:21: vrrp_mcast_group6 ff05::12 should be a link-local multicast address",
            "3:22: vrrp_garp_interval 2 s is very large",
            "4:27: vrrp_garp_master_repeat 0 is read as 1",
        ],
    );
    assert_eq!(c.global.vrrp.garp_master_repeat, 1);
}

#[test]
fn keepalived_s_other_vrrp_globals_are_refused_or_ignored() {
    for kw in [
        "vrrp_iptables",
        "vrrp_ipsets",
        "nftables",
        "vrrp_garp_extra_if",
        "vmac_prefix",
        "vrrp_notify_fifo",
        "vrrp_notify_priority_changes",
    ] {
        let e = load(&refs(&with(&[kw]))).expect_err(kw);
        let msg = format!("{FILE}:2:3: {kw} is not supported: ");
        assert!(
            e.0.len() == 1 && e.0[0].to_string().starts_with(&msg),
            "{kw}: {e}"
        );
    }
    for kw in [
        "vrrp_priority -5",
        "vrrp_no_swap",
        "vrrp_rx_bufs_policy MTU",
        "enable_snmp_vrrp",
    ] {
        let c = globals(&[kw]);
        let name = kw.split(' ').next().unwrap();
        assert_messages(&c.warnings, &[&format!("2:3: {name} has no effect: ")]);
    }
}

#[test]
fn lvs_sync_daemon_2_2_7_forms() {
    let d = globals(&["lvs_sync_daemon eth1 VI_1"])
        .global
        .vrrp
        .lvs_sync_daemon
        .unwrap();
    assert_eq!((d.loc.line, d.loc.column), (2, 3));
    assert_eq!(
        (d.interface.as_str(), d.instance.as_deref()),
        ("eth1", Some("VI_1"))
    );
    assert_eq!(d.sync_id, 51, "the instance's VRID");
    assert_eq!((d.maxlen, d.port, d.ttl, d.group), (None, None, None, None));
    let d = globals(&[
        "lvs_sync_daemon eth1 inst VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 224.0.0.82",
    ])
    .global
    .vrrp
    .lvs_sync_daemon
    .unwrap();
    assert_eq!(d.instance.as_deref(), Some("VI_1"));
    assert_eq!(d.sync_id, 7);
    assert_eq!((d.maxlen, d.port, d.ttl), (Some(1400), Some(8849), Some(2)));
    assert_eq!(d.group, Some("224.0.0.82".parse().unwrap()));
    // Without an instance: sync id 0, master and backup always.
    let d = globals(&["lvs_sync_daemon eth1"])
        .global
        .vrrp
        .lvs_sync_daemon
        .unwrap();
    assert_eq!((d.instance, d.sync_id), (None, 0));
    // The old positional sync id.
    let c = globals(&["lvs_sync_daemon eth1 VI_1 9"]);
    assert_messages(&c.warnings, &["2:29: write the sync id as 'id N'"]);
    assert_eq!(c.global.vrrp.lvs_sync_daemon.unwrap().sync_id, 9);
    assert_errors(
        &refs(&with(&[
            "lvs_sync_daemon",
            "lvs_sync_daemon eth1 VI_9 id 256",
            "lvs_sync_daemon eth1 VI_1 port",
            "lvs_sync_daemon eth1 VI_1 group 10.0.0.1",
            "lvs_sync_daemon eth1 VI_1 colour red",
        ])),
        &[
            "2:3: lvs_sync_daemon needs an interface",
            "3:32: '256' is not a valid lvs_sync_daemon id (0 to 255)",
            "4:29: lvs_sync_daemon port needs a value",
            "5:35: lvs_sync_daemon group 10.0.0.1 is not a multicast address",
            "6:29: unknown lvs_sync_daemon option 'colour'",
        ],
    );
    assert_errors(
        &refs(&with(&[
            "lvs_sync_daemon eth1 VI_9",
            "lvs_sync_daemon eth2 VI_1",
        ])),
        &[
            "3:3: lvs_sync_daemon is already set at /etc/afclusterd/t.conf:2:3",
            "2:3: lvs_sync_daemon: there is no vrrp_instance 'VI_9'",
        ],
    );
}

/// Every VRRP-related global_defs keyword of keepalived 2.2.7 and 2.2.8
/// (core/global_parser.c init_global_keywords) is known.
#[test]
fn every_keepalived_vrrp_global_is_classified() {
    let all = "vrrp_process_name smtp_alert_vrrp v3_checksum_as_v2 lvs_sync_daemon vrrp_mcast_group4 \
        vrrp_mcast_group6 vrrp_garp_master_delay vrrp_garp_master_repeat vrrp_garp_master_refresh \
        vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat \
        vrrp_down_timer_adverts vrrp_garp_interval vrrp_gna_interval vrrp_min_garp vrrp_garp_extra_if \
        vrrp_vmac_garp_intvl vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert vrrp_version \
        vrrp_iptables vrrp_ipsets nftables nftables_priority nftables_ifindex nftables_ipvs \
        nftables_ipvs_priority nftables_ipvs_start_fwmark nftables_counters vrrp_check_unicast_src \
        vrrp_skip_check_adv_addr vrrp_strict vrrp_priority vrrp_no_swap vrrp_rt_priority \
        vrrp_cpu_affinity vrrp_rlimit_rttime vrrp_rlimit_rtime vrrp_notify_fifo vrrp_notify_fifo_script \
        vrrp_notify_priority_changes fifo_write_vrrp_states_on_reload snmp_socket enable_snmp_vrrp \
        enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 vrrp_netlink_cmd_rcv_bufs \
        vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs \
        vrrp_netlink_monitor_rcv_bufs_force vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier \
        vrrp_startup_delay log_unknown_vrids vmac_prefix vmac_addr_prefix";
    for kw in all.split_whitespace() {
        assert!(classify(kw).is_some(), "{kw}");
    }
}
