use std::net::IpAddr;
use std::path::Path;

use afcluster::config::Config;
use afcluster::vrrp::check::Received;
use afcluster::vrrp::packet::{self, Auth, Checksum, GROUP_V4};
use afcluster::{Node, NodeState, Reflection, Snapshot};

use super::*;

fn instance(body: &str) -> VrrpInstance {
    let text = format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority 100\n{body}\n virtual_ipaddress {{\n  10.0.0.100/24\n }}\n}}\n"
    );
    let c = Config::from_text(&text, Path::new("/t.conf")).unwrap_or_else(|e| panic!("{e}"));
    c.vrrp_instances.into_iter().next().expect("one instance")
}

fn router(body: &str) -> Router {
    router_at(body, "10.0.0.2")
}

fn router_at(body: &str, source: &str) -> Router {
    let source: IpAddr = source.parse().unwrap();
    Router::new(
        instance(body),
        Ok(Iface {
            index: 2,
            ifname: "eth0".into(),
            addr_index: 2,
            base_index: 2,
            mac: [2, 0, 0, 0, 0, 2],
            source,
        }),
    )
}

fn table(local: u32, nodes: &[(u32, &str, NodeState)]) -> Reflection {
    let mut r = Reflection::new();
    r.load(Snapshot {
        nodes: nodes
            .iter()
            .map(|(id, name, state)| Node {
                id: *id,
                state: *state,
                name: (*name).to_string(),
                addrs: Vec::new(),
                lease_ms: 0,
            })
            .collect(),
        seq: 7,
        instance: 1,
        local_node: local,
    });
    r
}

#[test]
fn track_node_weighs_the_local_node_an_id_and_a_name() {
    let r = router(" track_node {\n  local weight 0\n  3 weight -20\n  web2 weight -10\n }");
    let all_up = table(
        1,
        &[
            (1, "lb1", NodeState::Up),
            (3, "web1", NodeState::Up),
            (4, "web2", NodeState::Up),
        ],
    );
    assert_eq!(r.tracking_up(&all_up), (100, false));
    let some_down = table(
        1,
        &[
            (1, "lb1", NodeState::Up),
            (3, "web1", NodeState::Down),
            (4, "web2", NodeState::Shutdown),
        ],
    );
    assert_eq!(r.tracking_up(&some_down), (70, false));
    // The local node leaving the cluster: FAULT.
    let local_down = table(1, &[(1, "lb1", NodeState::GoingDown)]);
    assert!(r.tracking_up(&local_down).1);
    // No local node set, or a node never seen: not up.
    assert!(r.tracking_up(&table(0, &[(1, "lb1", NodeState::Up)])).1);
}

#[test]
fn until_the_table_is_loaded_a_tracking_instance_is_in_fault() {
    let r = router(" track_node {\n  local weight 0\n }");
    assert!(r.tracking_up(&Reflection::new()).1);
    // One that tracks no node does not wait for the table.
    let plain = router("");
    assert_eq!(plain.tracking_up(&Reflection::new()), (100, false));
}

#[test]
fn adverts_carry_the_instance_and_decode_as_keepalived_reads_them() {
    let r = router(" version 2\n authentication {\n  auth_type PASS\n  auth_pass secret12345\n }");
    let dst = IpAddr::V4(GROUP_V4);
    let bytes = r.advert(100, dst).expect("encodes");
    let a =
        packet::decode(&bytes, "10.0.0.2".parse().unwrap(), dst, Checksum::RFC).expect("decodes");
    assert_eq!(a.vrid, 51);
    assert_eq!(a.priority, 100);
    assert_eq!(a.interval_cs, 100);
    assert_eq!(a.addrs, ["10.0.0.100".parse::<IpAddr>().unwrap()]);
    // The password cut to 8 bytes, as keepalived does.
    assert_eq!(a.auth, Auth::Pass(*b"secret12"));
}

#[test]
fn packets_that_fail_the_checks_are_counted_by_reason() {
    let mut r = router(" version 3");
    let other = router_at(" version 3\n priority 150", "10.0.0.1");
    let dst = IpAddr::V4(GROUP_V4);
    let src: IpAddr = "10.0.0.1".parse().unwrap();
    let good = other.advert(150, dst).expect("encodes");
    let rx = |vrrp: &[u8], ttl| {
        let mut r2 = router(" version 3");
        r2.judge(&Received {
            src,
            dst,
            ttl: Some(ttl),
            vrrp,
        })
        .map(|a| a.priority)
    };
    assert_eq!(rx(&good, 255), Ok(150));
    let e = r.judge(&Received {
        src,
        dst,
        ttl: Some(64),
        vrrp: &good,
    });
    assert!(e.is_err());
    let mut bad = good.clone();
    bad[6] ^= 1; // the checksum
    let _ = r.judge(&Received {
        src,
        dst,
        ttl: Some(255),
        vrrp: &bad,
    });
    let st = r.status(Instant::now());
    assert_eq!(st.drops.get("ttl"), Some(&1));
    assert_eq!(st.drops.values().sum::<u64>(), 2);
}

impl Router {
    /// Tracking nodes and links only.
    fn tracking_links(
        &self,
        r: &Reflection,
        links: &std::collections::HashMap<String, bool>,
    ) -> (i32, bool) {
        self.tracking(&Tracked {
            nodes: r,
            links,
            scripts: &Default::default(),
            files: &Default::default(),
        })
    }

    /// Tracking with its interface up.
    fn tracking_up(&self, r: &Reflection) -> (i32, bool) {
        self.tracking_links(r, &[("eth0".to_string(), true)].into())
    }
}

#[test]
fn its_interface_going_down_is_a_fault_unless_dont_track_primary() {
    let r = router(" track_interface {\n  eth1 weight -30\n }");
    let t = Reflection::new();
    let links = |eth0, eth1| -> std::collections::HashMap<String, bool> {
        [("eth0".to_string(), eth0), ("eth1".to_string(), eth1)].into()
    };
    assert_eq!(r.tracking_links(&t, &links(true, true)), (100, false));
    assert_eq!(r.tracking_links(&t, &links(true, false)), (70, false));
    assert!(r.tracking_links(&t, &links(false, true)).1);
    // An interface not known at all is not up.
    assert!(r.tracking_links(&t, &Default::default()).1);
    let d = router(" dont_track_primary");
    assert_eq!(d.tracking_links(&t, &links(false, true)), (100, false));
}

/// The first instance of a whole configuration (scripts, files, groups).
fn configured(text: &str) -> (Router, Config) {
    let c = Config::from_text(text, Path::new("/t.conf")).unwrap_or_else(|e| panic!("{e}"));
    let cfg = c.vrrp_instances[0].clone();
    let r = Router::new(
        cfg,
        Ok(Iface {
            index: 2,
            ifname: "eth0".into(),
            addr_index: 2,
            base_index: 2,
            mac: [2, 0, 0, 0, 0, 2],
            source: "10.0.0.2".parse().unwrap(),
        }),
    );
    (r, c)
}

const SCRIPTS_AND_FILES: &str = "
vrrp_script chk_up {
 script \"/bin/true\"
}
vrrp_script chk_load {
 script \"/bin/true\"
 weight -30
}
track_file maint {
 file /run/maint
 weight 0
}
track_file load {
 file /run/load
 weight -5
}
vrrp_instance VI_1 {
 interface eth0
 virtual_router_id 51
 priority 100
 track_script {
  chk_up
  chk_load
 }
 track_file {
  maint
  load
 }
 virtual_ipaddress {
  10.0.0.100/24
 }
}
";

#[test]
fn scripts_and_files_move_the_priority_or_hold_it_in_fault() {
    let (r, _) = configured(SCRIPTS_AND_FILES);
    let t = Reflection::new();
    let links = [("eth0".to_string(), true)].into();
    let at = |up: Health, load: Health, maint: i64, load_file: i64| {
        r.tracking(&Tracked {
            nodes: &t,
            links: &links,
            scripts: &[("chk_up".to_string(), up), ("chk_load".to_string(), load)].into(),
            files: &[
                ("maint".to_string(), maint),
                ("load".to_string(), load_file),
            ]
            .into(),
        })
    };
    use Health::*;
    // A weight-0 script not yet run moves nothing: it holds a starting
    // instance in INIT instead.
    assert_eq!(at(Unknown, Unknown, 0, 0), (100, false));
    let held = |up: Health| {
        r.waits_for_scripts(&Tracked {
            nodes: &t,
            links: &links,
            scripts: &[
                ("chk_up".to_string(), up),
                ("chk_load".to_string(), Unknown),
            ]
            .into(),
            files: &Default::default(),
        })
    };
    assert!(held(Unknown));
    // The weighted one does not hold it.
    assert!(!held(Good));
    assert_eq!(at(Good, Unknown, 0, 0), (100, false));
    assert_eq!(at(Good, Failed, 0, 0), (70, false));
    assert_eq!(at(Failed, Good, 0, 0), (100, true));
    // The file's number times its weight; a weight-0 file's non-zero is FAULT.
    assert_eq!(at(Good, Good, 0, 4), (80, false));
    assert_eq!(at(Good, Good, 1, 0), (100, true));
    assert_eq!(at(Good, Good, 0, -100), (353, false));
    assert_eq!(at(Good, Good, 0, 60), (100, true));
}

#[test]
fn a_member_tracks_what_its_group_tracks() {
    let text = "
vrrp_script chk {
 script \"/bin/true\"
}
vrrp_sync_group G {
 group {
  VI_1
  VI_2
 }
 track_script {
  chk
 }
 track_interface {
  eth1
 }
}
vrrp_instance VI_1 {
 interface eth0
 virtual_router_id 51
 priority 100
 virtual_ipaddress {
  10.0.0.100/24
 }
}
vrrp_instance VI_2 {
 interface eth0
 virtual_router_id 52
 priority 100
 virtual_ipaddress {
  10.0.0.101/24
 }
}
";
    let (mut r, c) = configured(text);
    let t = Reflection::new();
    let links = [("eth0".to_string(), true), ("eth1".to_string(), true)].into();
    let scripts = [("chk".to_string(), Health::Failed)].into();
    let w = Tracked {
        nodes: &t,
        links: &links,
        scripts: &scripts,
        files: &Default::default(),
    };
    assert_eq!(r.tracking(&w), (100, false));
    r.join(0, &c.vrrp_sync_groups[0]);
    assert_eq!(r.group, Some(0));
    assert_eq!(r.tracking(&w), (100, true));
    let down = [("eth0".to_string(), true), ("eth1".to_string(), false)].into();
    let scripts = [("chk".to_string(), Health::Good)].into();
    assert!(
        r.tracking(&Tracked {
            links: &down,
            scripts: &scripts,
            ..w
        })
        .1
    );
}

#[test]
fn notify_runs_the_state_script_then_notify_with_four_arguments() {
    let i = instance(" notify_master \"/bin/true m\"\n notify \"/bin/echo x\"");
    let runs = notify_runs(&i.notify, State::Master, "INSTANCE", "VI_1", 150);
    let argv: Vec<Vec<String>> = runs.into_iter().map(|s| s.argv).collect();
    assert_eq!(
        argv,
        [
            vec!["/bin/true", "m"],
            vec!["/bin/echo", "x", "INSTANCE", "VI_1", "MASTER", "150"]
        ]
    );
    let runs = notify_runs(&i.notify, State::Fault, "GROUP", "G", 0);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].argv[2..], ["GROUP", "G", "FAULT", "0"]);
}
