use crate::config::testing::*;

/// The group's LINES from line 2, then instances VI_1..VI_3 (vrids 1..3,
/// `extra` in each).
fn with(group: &[&str], extra: &[&str]) -> Vec<String> {
    let mut v = vec!["vrrp_sync_group G {".to_string()];
    v.extend(group.iter().map(|l| format!("  {l}")));
    v.push("}".into());
    for n in 1..=3 {
        v.push(format!("vrrp_instance VI_{n} {{"));
        v.push("  interface eth0".into());
        v.push(format!("  virtual_router_id {n}"));
        v.push("  virtual_ipaddress { 10.0.0.1 }".into());
        v.extend(extra.iter().map(|l| format!("  {l}")));
        v.push("}".into());
    }
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

#[test]
fn a_group_with_notify_and_tracking() {
    let text = [
        vec![
            "vrrp_script chk {".to_string(),
            "  script /bin/true".into(),
            "}".into(),
        ],
        with(
            &[
                "group {",
                "  VI_1 VI_2",
                "  VI_3",
                "}",
                "notify_master /bin/true",
                "notify \"/bin/echo group\"",
                "track_interface { eth1 }",
                "track_script { chk }",
                "track_node { local }",
            ],
            &[],
        ),
    ]
    .concat();
    let c = ok(&refs(&text));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let g = &c.vrrp_sync_groups[0];
    assert_eq!((g.loc.line, g.name.as_str()), (4, "G"));
    assert_eq!(g.members, ["VI_1", "VI_2", "VI_3"]);
    assert_eq!(g.notify.master.as_ref().unwrap().argv, ["/bin/true"]);
    assert_eq!(g.notify.any.as_ref().unwrap().argv, ["/bin/echo", "group"]);
    assert_eq!(g.track_interfaces[0].interface, "eth1");
    assert_eq!(g.track_scripts[0].script, "chk");
    assert_eq!(g.track_nodes.len(), 1);
    assert!(!g.tracking_weight);
    for i in &c.vrrp_instances {
        assert_eq!(i.sync_group.as_deref(), Some("G"));
    }
}

#[test]
fn members_must_exist_and_be_in_one_group() {
    let mut text = with(&["group { VI_1 VI_9 VI_1 }"], &[]);
    text.extend(
        ["vrrp_sync_group H {", "  group { VI_1 VI_2 }", "}"]
            .iter()
            .map(|s| s.to_string()),
    );
    assert_errors(
        &refs(&text),
        &[
            "2:21: VI_1 is already in the group at /etc/afclusterd/t.conf:2:11",
            "2:16: sync group G: there is no vrrp_instance 'VI_9'",
            "20:11: VI_1 is already in sync group G (at /etc/afclusterd/t.conf:2:11): an instance is in one group at most",
        ],
    );
}

#[test]
fn a_group_needs_a_group_block_once_and_not_empty() {
    assert_errors(
        &refs(&with(&["VI_1", "VI_2"], &[])),
        &[
            "2:3: unknown keyword 'VI_1' in vrrp_sync_group (the instances go in group { })",
            "3:3: unknown keyword 'VI_2' in vrrp_sync_group",
            "1:1: vrrp_sync_group G needs a group { INSTANCE... }",
        ],
    );
    assert_errors(
        &refs(&with(&["group { }"], &[])),
        &["2:3: sync group G has an empty group (keepalived would drop it)"],
    );
    assert_errors(
        &refs(&with(&["group { VI_1 VI_2 }", "group { VI_3 }"], &[])),
        &["3:3: group is already given at /etc/afclusterd/t.conf:2:3"],
    );
    let mut text = with(&["group { VI_1 VI_2 }"], &[]);
    text.extend(
        ["vrrp_sync_group G {", "  group { VI_3 }", "}"]
            .iter()
            .map(|s| s.to_string()),
    );
    assert_errors(
        &refs(&text),
        &["19:17: vrrp_sync_group G is already defined at /etc/afclusterd/t.conf:1:1"],
    );
}

#[test]
fn keepalived_s_group_warnings_and_refusals() {
    let c = ok(&refs(&with(
        &["group { VI_1 }", "global_tracking", "smtp_alert"],
        &["track_interface { eth1 weight 2 }"],
    )));
    assert_messages(
        &c.warnings,
        &[
            "3:3: global_tracking is deprecated: write sync_group_tracking_weight",
            "4:3: smtp_alert has no effect",
            "1:1: sync group G has only one instance: this is probably not what you want",
        ],
    );
    assert!(c.vrrp_sync_groups[0].tracking_weight);
    assert_errors(
        &refs(&with(
            &[
                "group { VI_1 VI_2 }",
                "notify_priority_changes",
                "track_process { p }",
                "track_bfd { b }",
                "notify_master /bin/true",
                "notify_master /bin/true",
            ],
            &[],
        )),
        &[
            "3:3: notify_priority_changes is not supported",
            "4:3: track_process is not supported: afclusterd has no process",
            "5:3: track_bfd is not supported: afclusterd has no bfd",
            "7:3: notify_master is already set at /etc/afclusterd/t.conf:6:3",
        ],
    );
}

#[test]
fn an_owner_starting_master_with_a_backup_cannot_sync() {
    let mut text = with(&["group { VI_1 VI_4 }"], &[]);
    text.extend(
        [
            "vrrp_instance VI_4 {",
            "  state MASTER",
            "  priority 255",
            "  interface eth0",
            "  virtual_router_id 4",
            "  virtual_ipaddress { 10.0.0.4 }",
            "}",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    assert_errors(
        &refs(&text),
        &["1:1: sync group G mixes an address owner starting MASTER (VI_4) with an instance starting BACKUP (VI_1)"],
    );
}

#[test]
fn group_tracking_weights_are_refused_with_an_owner_member() {
    let mut text = with(
        &[
            "group { VI_1 VI_4 }",
            "track_interface { eth1 weight 3 }",
            "track_node { 2 weight -5 }",
        ],
        &[],
    );
    text.extend(
        [
            "vrrp_instance VI_4 {",
            "  state BACKUP",
            "  priority 255",
            "  interface eth0",
            "  virtual_router_id 4",
            "  virtual_ipaddress { 10.0.0.4 }",
            "}",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    assert_errors(
        &refs(&text),
        &[
            "3:21: track_interface eth1 has weight 3, but member VI_4 owns its addresses",
            "4:16: track_node 2 has weight -5, but member VI_4 owns its addresses",
        ],
    );
    // Weights are fine without an owner.
    let c = ok(&refs(&with(
        &["group { VI_1 VI_2 }", "track_interface { eth1 weight 3 }"],
        &[],
    )));
    assert_eq!(c.vrrp_sync_groups[0].track_interfaces[0].weight, 3);
    // An unknown script in the group.
    assert_errors(
        &refs(&with(
            &["group { VI_1 VI_2 }", "track_script { nope }"],
            &[],
        )),
        &["3:18: there is no vrrp_script 'nope'"],
    );
}
