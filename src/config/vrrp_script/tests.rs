use super::*;
use crate::config::testing::*;

/// vrrp_script chk { LINES } (from line 2), tracked by an instance.
fn with(lines: &[&str]) -> Vec<String> {
    let mut v = vec!["vrrp_script chk {".to_string()];
    v.extend(lines.iter().map(|l| format!("  {l}")));
    v.extend(
        [
            "}",
            "vrrp_instance VI_1 {",
            "  interface eth0",
            "  virtual_router_id 51",
            "  virtual_ipaddress { 10.0.0.1 }",
            "  track_script { chk }",
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

fn script_of(lines: &[&str]) -> VrrpScript {
    ok(&refs(&with(lines))).vrrp_scripts.remove(0)
}

#[test]
fn defaults_are_keepalived_s() {
    let s = script_of(&["script /bin/true"]);
    assert_eq!((s.loc.line, s.loc.column, s.name.as_str()), (1, 1, "chk"));
    assert_eq!(s.script.argv, ["/bin/true"]);
    assert_eq!(s.interval, Duration::from_secs(1));
    assert_eq!(s.timeout, Duration::from_secs(1), "unset: the interval");
    assert_eq!((s.weight, s.reverse, s.rise, s.fall), (0, false, 1, 1));
    assert_eq!((s.user, s.init_fail), (None, false));
}

#[test]
fn every_keyword() {
    let s = script_of(&[
        "script \"/bin/echo 'a b' c\"",
        "interval 2",
        "timeout 5",
        "weight -4 reverse",
        "rise 3",
        "fall 2",
        "user nobody nogroup",
        "init_fail",
    ]);
    assert_eq!(s.script.argv, ["/bin/echo", "a b", "c"]);
    assert_eq!((s.interval, s.timeout), (Duration::from_secs(2), Duration::from_secs(5)));
    assert_eq!((s.weight, s.reverse, s.rise, s.fall), (-4, true, 3, 2));
    assert_eq!(
        s.user,
        Some(ScriptUser {
            user: "nobody".into(),
            group: Some("nogroup".into())
        })
    );
    assert!(s.init_fail);
    assert_eq!(script_of(&["script /bin/true", "user nobody"]).user.unwrap().group, None);
}

#[test]
fn zero_interval_and_timeout_are_read_as_one_second() {
    let c = ok(&refs(&with(&["script /bin/true", "interval 0", "timeout 0"])));
    assert_messages(
        &c.warnings,
        &["3:12: interval 0 is read as 1 s, as keepalived does", "4:11: timeout 0 is read as 1 s"],
    );
    assert_eq!(c.vrrp_scripts[0].timeout, Duration::from_secs(1));
}

#[test]
fn mistakes_are_located() {
    assert_errors(
        &refs(&with(&[
            "script /bin/true extra",
            "interval 4295",
            "weight 254",
            "weight 1 sideways",
            "weight",
            "rise 0",
            "user",
            "user a b c",
            "init_fail now",
            "bogus",
        ])),
        &[
            "2:20: script: unexpected 'extra': quote the whole command line",
            "3:12: interval 4295 is out of range: 0 to 4294",
            "4:10: weight 254 is out of range: -253 to 253",
            "5:12: unknown weight option 'sideways' (expected reverse)",
            "6:3: weight needs a value",
            "7:8: rise 0 is out of range",
            "8:3: user needs a user name",
            "9:12: user takes a user and a group; unexpected 'c'",
            "10:13: init_fail takes no value",
            "11:3: unknown keyword 'bogus' in vrrp_script",
            "1:1: vrrp_script chk needs a script (keepalived would drop it)",
        ],
    );
    // The instance's track line adds no error for the broken script.
    assert_errors(
        &refs(&with(&["script relative.sh"])),
        &["2:10: script 'relative.sh' must be given by its absolute path"],
    );
}

#[test]
fn names_are_unique_and_unused_scripts_warned() {
    let mut text = with(&["script /bin/true"]);
    text.extend(["vrrp_script chk {", "  script /bin/true", "}"].iter().map(|s| s.to_string()));
    assert_errors(&refs(&text), &["10:13: vrrp_script chk is already defined at /etc/afclusterd/t.conf:1:1"]);
    let c = ok(&["vrrp_script lonely {", "  script /bin/true", "}"]);
    assert_messages(&c.warnings, &["1:1: vrrp_script lonely is not tracked by any instance or sync group"]);
}
