//! The daemon's logic without a kernel: subsystems on a real loop, the
//! reflection and signals scripted, IPVS a recording fake.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use afcluster::balancer::{Balancer, RsId};
use afcluster::config::Config;
use afcluster::ipvs::{Change, Dest, Forward, Service, ServiceKey};
use afcluster::{Node, NodeState, Reflection, Snapshot};
use mio::Events;

use crate::checks::Checks;
use crate::core::reactor::SubId;
use crate::core::{Message, Reactor, Shared, Subsystem, Verdict};
use crate::ipvs_worker::fake;
use crate::lvs::Lvs;

/// Stands for the subsystems the test plays itself.
struct Script;

impl Subsystem for Script {
    fn name(&self) -> &'static str {
        "script"
    }
}

const VS: &str = "virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_kind NAT
    real_server 10.0.1.1 80 {
        CI-LINUX
    }
    real_server 10.0.1.2 80 {
        inhibit_on_failure
        CI-LINUX
    }
    real_server 10.0.1.3 80 {
        CI-LINUX
    }
}
";

fn config(text: &str) -> Config {
    Config::from_text(text, Path::new("/t.conf")).unwrap_or_else(|e| panic!("{e}"))
}

/// A loop with the balancer's subsystems; the test is subsystem 0.
fn daemon(text: &str, ipvs: &fake::Shared) -> (Reactor, SubId) {
    let c = config(text);
    let shared = Shared {
        reflection: Reflection::new(),
        balancer: Balancer::new(c.virtual_servers.clone()),
        config: Rc::new(c.clone()),
        config_path: "/t.conf".into(),
        generation: 0,
        started: Instant::now(),
    };
    let mut r = Reactor::new(shared).expect("a poll");
    let me = r.add(Box::new(Script));
    let f = ipvs.clone();
    r.add(Box::new(Lvs::with_backend(&c, move || Ok(f.clone()))));
    r.add(Box::new(Checks::default()));
    r.start();
    (r, me)
}

/// Turn the loop until the IPVS fake has seen `n` changes (the IPVS thread
/// works on its own; this bounds the wait, it measures nothing).
fn until_changes(r: &mut Reactor, ipvs: &fake::Shared, n: usize) -> Vec<Change> {
    let mut ev = Events::with_capacity(16);
    let end = Instant::now() + Duration::from_secs(10);
    while ipvs.lock().log.len() < n && Instant::now() < end {
        r.turn(&mut ev, Some(Duration::from_millis(5)))
            .expect("poll");
    }
    // And a little more, to see nothing else comes.
    for _ in 0..10 {
        r.turn(&mut ev, Some(Duration::from_millis(2)))
            .expect("poll");
    }
    std::mem::take(&mut ipvs.lock().log)
}

/// Turn the loop until the IPVS fake has seen `want`; when it saw it.
fn until_change(
    r: &mut Reactor,
    ipvs: &fake::Shared,
    want: &Change,
    within: Duration,
) -> Option<Instant> {
    let mut ev = Events::with_capacity(16);
    let end = Instant::now() + within;
    while Instant::now() < end {
        r.turn(&mut ev, Some(Duration::from_millis(5)))
            .expect("poll");
        if ipvs.lock().log.iter().any(|c| c == want) {
            return Some(Instant::now());
        }
    }
    None
}

fn key() -> ServiceKey {
    ServiceKey::tcp("10.0.0.1".parse().unwrap(), 80)
}

fn dest(last: u8, weight: i32) -> Dest {
    Dest::new(
        format!("10.0.1.{last}").parse().unwrap(),
        80,
        Forward::Masq,
        weight,
    )
}

fn node(id: u32, state: NodeState) -> Node {
    Node {
        id,
        state,
        name: format!("n{id}"),
        addrs: vec![format!("10.0.1.{id}").parse().unwrap()],
        lease_ms: 0,
    }
}

/// The reflection subsystem's part: load a table, tell the others.
fn reflect(r: &mut Reactor, me: SubId, seq: u64, nodes: Vec<Node>) {
    r.act(me, |cx| {
        cx.shared_mut().reflection.load(Snapshot {
            nodes,
            seq,
            instance: 7,
            local_node: 0,
        });
        cx.publish(Message::Reflection { event_ns: Some(1) });
    });
}

#[test]
fn node_states_become_exactly_these_ipvs_changes() {
    let ipvs = fake::Shared::default();
    let (mut r, me) = daemon(VS, &ipvs);
    // Stale at start: every server as configured (no alpha: up).
    assert_eq!(
        until_changes(&mut r, &ipvs, 4),
        [
            Change::AddService(Service::new(key(), "wlc")),
            Change::AddDest(key(), dest(1, 1)),
            Change::AddDest(key(), dest(2, 1)),
            Change::AddDest(key(), dest(3, 1)),
        ]
    );
    reflect(
        &mut r,
        me,
        3,
        vec![
            node(1, NodeState::Up),
            node(2, NodeState::Down),
            node(3, NodeState::Up),
        ],
    );
    // 2 down with inhibit_on_failure: weight 0, not removed.
    assert_eq!(
        until_changes(&mut r, &ipvs, 1),
        [Change::EditDest(key(), dest(2, 0))]
    );
    reflect(
        &mut r,
        me,
        4,
        vec![
            node(1, NodeState::Up),
            node(2, NodeState::Up),
            node(3, NodeState::GoingDown),
        ],
    );
    let mut got = until_changes(&mut r, &ipvs, 2);
    got.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        got,
        [
            Change::DelDest(key(), "10.0.1.3".parse().unwrap(), 80),
            Change::EditDest(key(), dest(2, 1)),
        ]
    );
    let st = r.status();
    assert!(st.ipvs.in_sync && st.ipvs.usable, "{:?}", st.ipvs);
    assert_eq!(st.ipvs.ops_applied, 7);
    assert_eq!(st.ipvs.reaction_node_event.count, 2);
    r.stop_all();
}

#[test]
fn a_clean_shutdown_drains_at_weight_zero_then_removes_at_down() {
    let ipvs = fake::Shared::default();
    let (mut r, me) = daemon(VS, &ipvs);
    let table = |s3| vec![node(1, NodeState::Up), node(2, NodeState::Up), node(3, s3)];
    until_changes(&mut r, &ipvs, 4);
    reflect(&mut r, me, 3, table(NodeState::Shutdown));
    assert_eq!(
        until_changes(&mut r, &ipvs, 1),
        [Change::EditDest(key(), dest(3, 0))]
    );
    let rs = r.status().virtual_servers[0].real_servers[2].clone();
    assert!(!rs.alive && rs.draining, "{rs:?}");
    reflect(&mut r, me, 4, table(NodeState::Down));
    assert_eq!(
        until_changes(&mut r, &ipvs, 1),
        [Change::DelDest(key(), "10.0.1.3".parse().unwrap(), 80)]
    );
    assert!(!r.status().virtual_servers[0].real_servers[2].draining);
    reflect(&mut r, me, 5, table(NodeState::Up));
    assert_eq!(
        until_changes(&mut r, &ipvs, 1),
        [Change::AddDest(key(), dest(3, 1))]
    );
    r.stop_all();
}

#[test]
fn verdicts_of_an_earlier_configuration_are_void_after_a_reload() {
    // The review's bug: verdicts queued, then a SIGHUP's reload, then the
    // old ids applied to the new configuration (out of bounds: a panic;
    // or in bounds: credited to another server).
    let ipvs = fake::Shared::default();
    let (mut r, me) = daemon(VS, &ipvs);
    until_changes(&mut r, &ipvs, 4);
    let one = VS.replace(
        "    real_server 10.0.1.2 80 {\n        inhibit_on_failure\n        CI-LINUX\n    }\n    real_server 10.0.1.3 80 {\n        CI-LINUX\n    }\n",
        "",
    );
    let new = Rc::new(config(&one));
    r.act(me, |cx| {
        let sh = cx.shared_mut();
        sh.config = new.clone();
        sh.generation += 1;
        cx.publish(Message::Reload(new.clone()));
        // Made under generation 0, delivered after the reload.
        let old = |rs, ok| Verdict {
            generation: 0,
            id: RsId { vs: 0, rs },
            checker: 0,
            ok,
            weight: None,
            at: Instant::now(),
            first: false,
        };
        cx.publish(Message::Verdicts(Rc::new(vec![
            old(2, false),
            old(0, false),
        ])));
    });
    let mut got = until_changes(&mut r, &ipvs, 2);
    got.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        got,
        [
            Change::DelDest(key(), "10.0.1.2".parse().unwrap(), 80),
            Change::DelDest(key(), "10.0.1.3".parse().unwrap(), 80),
        ],
        "only the reload's changes: 10.0.1.1 was not credited with a void verdict"
    );
    let st = r.status();
    assert_eq!(st.virtual_servers[0].real_servers.len(), 1);
    assert!(st.virtual_servers[0].real_servers[0].alive);
    // A verdict of the configuration in force does apply.
    r.act(me, |cx| {
        let generation = cx.shared().generation;
        cx.publish(Message::Verdicts(Rc::new(vec![Verdict {
            generation,
            id: RsId { vs: 0, rs: 0 },
            checker: 0,
            ok: false,
            weight: None,
            at: Instant::now(),
            first: false,
        }])));
    });
    assert_eq!(
        until_changes(&mut r, &ipvs, 1),
        [Change::DelDest(key(), "10.0.1.1".parse().unwrap(), 80)]
    );
    assert_eq!(r.status().ipvs.reaction_check.count, 1);
    r.stop_all();
}

#[test]
fn a_refused_change_is_reconciled_and_counted() {
    let ipvs = fake::Shared::default();
    // The service goes in, its first dest is refused once.
    ipvs.lock().refuse = [false, true].into_iter().collect();
    let (mut r, _me) = daemon(VS, &ipvs);
    let got = until_changes(&mut r, &ipvs, 5);
    assert_eq!(got.len(), 5, "4 tried, then the refused one again: {got:?}");
    assert_eq!(got[4], Change::AddDest(key(), dest(1, 1)));
    let st = r.status();
    assert!(st.ipvs.in_sync, "{:?}", st.ipvs);
    assert_eq!((st.ipvs.ops_failed, st.ipvs.reconciles), (1, 1));
    assert_eq!(ipvs.lock().table.len(), 1);
    assert_eq!(ipvs.lock().table[0].1.len(), 3);
    r.stop_all();
}

#[test]
fn transitions_run_their_scripts_through_the_supervisor() {
    let dir = std::env::temp_dir().join(format!("afcd-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let log = dir.join("log");
    let text = VS.replacen(
        "    real_server 10.0.1.1 80 {\n        CI-LINUX\n    }",
        &format!(
            "    real_server 10.0.1.1 80 {{\n        notify_down \"/bin/sh -c 'echo down >> {0}'\"\n        notify_up \"/bin/sh -c 'echo up >> {0}'\"\n        CI-LINUX\n    }}",
            log.display()
        ),
        1,
    );
    let ipvs = fake::Shared::default();
    let (mut r, me) = daemon(&text, &ipvs);
    until_changes(&mut r, &ipvs, 4);
    let all_up = || {
        vec![
            node(1, NodeState::Up),
            node(2, NodeState::Up),
            node(3, NodeState::Up),
        ]
    };
    reflect(&mut r, me, 2, all_up());
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let mut ev = Events::with_capacity(16);
    let mut until = |r: &mut Reactor, want: &str| {
        let end = Instant::now() + Duration::from_secs(10);
        while read() != want && Instant::now() < end {
            r.turn(&mut ev, Some(Duration::from_millis(10)))
                .expect("poll");
        }
        assert_eq!(read(), want);
    };
    reflect(
        &mut r,
        me,
        3,
        vec![
            node(1, NodeState::Down),
            node(2, NodeState::Up),
            node(3, NodeState::Up),
        ],
    );
    until(&mut r, "down\n");
    reflect(&mut r, me, 4, all_up());
    until(&mut r, "down\nup\n");
    r.stop_all();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn misc_check_runs_after_the_bootstrap_delay_and_times_runs_from_their_start() {
    let dir = std::env::temp_dir().join(format!("afcd-misc-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let log = dir.join("starts");
    // Each run notes when it started, then takes 0.6 s.
    let text = format!(
        "virtual_server 10.0.0.1 80 {{
    protocol TCP
    delay_loop 1
    real_server 10.0.1.1 80 {{
        MISC_CHECK {{
            misc_path \"/bin/sh -c 'date +%s.%N >> {}; sleep 0.6'\"
            misc_timeout 2
            warmup 0
        }}
    }}
}}
",
        log.display()
    );
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    let ipvs = fake::Shared::default();
    let (mut r, _me) = daemon(&text, &ipvs);
    let starts = || -> Vec<f64> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    let mut ev = Events::with_capacity(16);
    let end = Instant::now() + Duration::from_secs(10);
    while starts().len() < 3 && Instant::now() < end {
        r.turn(&mut ev, Some(Duration::from_millis(10)))
            .expect("poll");
    }
    r.stop_all();
    let s = starts();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(s.len() >= 3, "{s:?}");
    // keepalived's BOOTSTRAP_DELAY: no check before 1 s (warmup 0).
    assert!(
        s[0] - t0 >= 0.95,
        "first run {:.3} s after start",
        s[0] - t0
    );
    // From start to start: delay_loop, not delay_loop + the 0.6 s run
    // (the margin is for a loaded machine).
    for w in s.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            (0.85..1.45).contains(&gap),
            "{gap:.3} s between runs: {s:?}"
        );
    }
}

#[test]
fn tcp_check_retries_a_server_already_down_as_keepalived_2_2_7() {
    // A port nothing listens on (until the test opens it again).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let text = format!(
        "virtual_server 10.0.0.1 80 {{
    protocol TCP
    delay_loop 2
    real_server 127.0.0.1 {port} {{
        TCP_CHECK {{
            connect_timeout 1
            retry 2
            delay_before_retry 0.3
            warmup 0
        }}
    }}
}}
"
    );
    let ipvs = fake::Shared::default();
    let (mut r, _me) = daemon(&text, &ipvs);
    let rs = Dest::new("127.0.0.1".parse().unwrap(), port, Forward::Masq, 1);
    assert_eq!(
        until_changes(&mut r, &ipvs, 2),
        [
            Change::AddService(Service::new(key(), "wlc")),
            Change::AddDest(key(), rs.clone()),
        ]
    );
    // The first check (after 1 s) fails: out at once.
    let del = Change::DelDest(key(), rs.addr, port);
    let out = until_change(&mut r, &ipvs, &del, Duration::from_secs(5)).expect("taken out");
    // The next check, delay_loop later, fails too; 2.2.7 then retries
    // the server that is down at delay_before_retry (its 0.3 s), so a
    // service back just after that check is seen 0.3 s later, not at the
    // next delay_loop (2 s on).
    let mut ev = Events::with_capacity(16);
    while out.elapsed() < Duration::from_millis(2100) {
        r.turn(&mut ev, Some(Duration::from_millis(5)))
            .expect("poll");
    }
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port again");
    let add = Change::AddDest(key(), rs);
    let back = until_change(&mut r, &ipvs, &add, Duration::from_secs(5));
    r.stop_all();
    drop(listener);
    let back = back.expect("back in");
    let after = back.duration_since(out);
    assert!(
        after < Duration::from_millis(3500),
        "back {after:?} after it went out"
    );
}
