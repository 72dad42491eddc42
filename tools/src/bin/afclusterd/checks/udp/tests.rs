use super::*;

#[test]
fn keepalived_filler_without_payload() {
    let cfg = afcluster::config::Config::from_text(
        "virtual_server 10.0.0.1 53 {\n protocol UDP\n real_server 10.0.0.2 53 {\n  UDP_CHECK {\n  }\n  UDP_CHECK {\n   payload 0102\n  }\n }\n}\n",
        std::path::Path::new("/t.conf"),
    )
    .unwrap();
    let cs = &cfg.virtual_servers[0].real_servers[0].checkers;
    let udp = |i: usize| match &cs[i] {
        afcluster::config::Checker::Udp(u) => u.clone(),
        other => panic!("{other:?}"),
    };
    let d = datagram(&udp(0));
    assert_eq!(d.len(), 32);
    assert_eq!(&d[..19], b"keepalived check - ");
    assert_eq!(&d[19..], &b"keepalived check - "[..13]);
    assert_eq!(datagram(&udp(1)), [1, 2]);
}

#[test]
fn only_destination_unreachable_fails() {
    assert!(unreachable(ORIGIN_ICMP, 3));
    assert!(unreachable(ORIGIN_ICMP6, 1));
    assert!(!unreachable(ORIGIN_ICMP, 11), "time exceeded");
    assert!(!unreachable(ORIGIN_ICMP6, 3), "ICMPv6 time exceeded");
    assert!(!unreachable(1, 3), "a local error");
}
