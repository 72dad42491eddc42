//! How late a timer of one subsystem fires while the others work: a
//! VRRP-like subsystem re-arms a timer every 10 ms while
//! - the table is reloaded: 4096 nodes, every 500 ms, half of them
//!   flipping between up and down, which moves 1,000 CI-LINUX real
//!   servers, so that each reload is a 1,000-change IPVS reconcile (the
//!   scripted IPVS takes 200 µs per change, as a netlink round trip in a
//!   software-emulated VM does);
//! - slow scripts run: MISC_CHECKs whose command sleeps past its timeout.
//!
//!
//! And how long the daemon itself takes to react, natively (the VMs run
//! under software emulation, where every syscall and thread wakeup costs
//! tens of times more): a node flips every 5 ms, delivered by a scripted
//! follower thread stamped with the time it hands the event over, through
//! the loop to the IPVS thread and a scripted IPVS that costs nothing;
//! the daemon's own reaction histogram is then its overhead alone.
//!
//! Not tests (they assert nothing): `scripts/bench-core` runs them in
//! release mode and prints the figures.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use afcluster::balancer::Balancer;
use afcluster::config::Config;
use afcluster::control::LatencySummary;
use afcluster::{
    Cause, Event, EventKind, Node, NodeState, Output, Reflection, ResyncStats, Snapshot,
};
use mio::Events;

use crate::checks::Checks;
use crate::core::{Cx, Reactor, Shared, Subsystem, TimerId};
use crate::ipvs_worker::fake;
use crate::lvs::Lvs;
use crate::reflection::{Feed, ReflectionSync};

const PROBE_EVERY: Duration = Duration::from_millis(10);
const RELOAD_EVERY: Duration = Duration::from_millis(500);
const NODES: u32 = 4096;
const SERVERS: u32 = 1000;
const CHANGE_COST: Duration = Duration::from_micros(200);

/// Re-arms its timer every 10 ms, as VRRP does on every advert.
struct Probe(Option<TimerId>);

impl Subsystem for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn start(&mut self, cx: &mut Cx) {
        let t = cx.timer(0);
        cx.arm_in(t, PROBE_EVERY);
        self.0 = Some(t);
    }

    fn timer(&mut self, cx: &mut Cx, _key: u64) {
        if let Some(t) = self.0 {
            cx.arm_in(t, PROBE_EVERY);
        }
    }
}

/// The table reloads as the follower would deliver them: a whole
/// snapshot every `RELOAD_EVERY`, half the nodes flipped each time
/// (built beforehand: in the daemon that is the kernel's and the
/// follower thread's work).
struct Reloads {
    snapshots: std::vec::IntoIter<Snapshot>,
}

impl Reloads {
    fn new(secs: u64) -> Reloads {
        let rounds = secs * 1000 / RELOAD_EVERY.as_millis() as u64 + 2;
        let snapshots: Vec<Snapshot> = (1..=rounds)
            .map(|round| Snapshot {
                nodes: (1..=NODES)
                    .map(|id| Node {
                        id,
                        state: if id % 2 == 0 && round % 2 == 0 {
                            NodeState::Down
                        } else {
                            NodeState::Up
                        },
                        name: format!("node{id}"),
                        addrs: vec![addr(id).parse().expect("an address")],
                        lease_ms: 0,
                    })
                    .collect(),
                seq: round,
                instance: 1,
                local_node: 1,
            })
            .collect();
        Reloads {
            snapshots: snapshots.into_iter(),
        }
    }
}

impl Feed for Reloads {
    fn next(&mut self, out: &mut Vec<Output>) -> afcluster::Result<()> {
        std::thread::sleep(RELOAD_EVERY);
        match self.snapshots.next() {
            Some(s) => out.push(Output::Snapshot(s)),
            None => std::thread::sleep(Duration::from_secs(3600)),
        }
        Ok(())
    }

    fn stats(&self) -> ResyncStats {
        ResyncStats::default()
    }

    fn family_present(&self) -> bool {
        true
    }
}

fn addr(id: u32) -> String {
    format!("10.{}.{}.{}", id >> 16, (id >> 8) & 255, id & 255)
}

/// Node 2k backs real server k: every reload moves all of them.
fn config(slow_scripts: usize) -> Config {
    let mut text = String::from("virtual_server 10.255.0.1 80 {\n protocol TCP\n");
    for k in 1..=SERVERS {
        text += &format!(" real_server {} 80 {{\n  CI-LINUX\n }}\n", addr(2 * k));
    }
    text += "}\n";
    if slow_scripts > 0 {
        text += "virtual_server 10.255.0.2 80 {\n protocol TCP\n delay_loop 1\n";
        for k in 0..slow_scripts {
            text += &format!(
                " real_server 10.254.0.{} 80 {{\n  MISC_CHECK {{\n   misc_path \"/bin/sleep 5\"\n   misc_timeout 1\n  }}\n }}\n",
                k + 1
            );
        }
        text += "}\n";
    }
    Config::from_text(&text, Path::new("/bench.conf")).unwrap_or_else(|e| panic!("{e}"))
}

struct Slow(fake::Shared);

impl crate::ipvs_worker::Backend for Slow {
    fn table(&mut self) -> Result<crate::ipvs_worker::Table, afcluster::ipvs::IpvsError> {
        self.0.table()
    }

    fn apply(&mut self, c: &afcluster::ipvs::Change) -> Result<(), afcluster::ipvs::IpvsError> {
        std::thread::sleep(CHANGE_COST);
        let r = self.0.apply(c);
        self.0.lock().log.clear();
        r
    }
}

/// Run one load for `secs`; the probe's timer lateness, and the IPVS
/// changes applied meanwhile.
fn run(reloads: bool, slow_scripts: usize, secs: u64) -> (LatencySummary, u64) {
    let c = config(slow_scripts);
    let shared = Shared {
        reflection: Reflection::new(),
        balancer: Balancer::new(c.virtual_servers.clone()),
        config: Rc::new(c.clone()),
        config_path: "/bench.conf".into(),
        generation: 0,
        started: Instant::now(),
    };
    let mut r = Reactor::new(shared).expect("a poll");
    r.add(Box::new(Probe(None)));
    if reloads {
        r.add(Box::new(ReflectionSync::with(Box::new(Reloads::new(secs)))));
    }
    let ipvs = fake::Shared::default();
    r.add(Box::new(Lvs::with_backend(&c, move || {
        Ok(Slow(ipvs.clone()))
    })));
    r.add(Box::new(Checks::default()));
    r.start();
    let mut ev = Events::with_capacity(64);
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        r.turn(&mut ev, Some(Duration::from_millis(50)))
            .expect("poll");
    }
    let st = r.status();
    r.stop_all();
    let probe = st
        .subsystems
        .iter()
        .find(|s| s.name == "probe")
        .map(|s| s.timer_lateness.clone())
        .unwrap_or_default();
    (probe, st.ipvs.ops_applied)
}

#[test]
#[ignore = "a benchmark: scripts/bench-core runs it"]
fn bench_timer_lateness_under_load() {
    let secs = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!(
        "timer lateness of a subsystem re-arming every {} ms, {secs} s per load",
        PROBE_EVERY.as_millis()
    );
    println!(
        "{:<58} {:>7} {:>8} {:>8} {:>8} {:>12}",
        "load", "timers", "p50 ms", "p99 ms", "max ms", "IPVS changes"
    );
    let loads: [(&str, bool, usize); 4] = [
        ("none", false, 0),
        (
            "4096-node reload + 1,000-server IPVS reconcile every 0.5 s",
            true,
            0,
        ),
        ("20 MISC_CHECKs sleeping past their 1 s timeout", false, 20),
        ("both", true, 20),
    ];
    for (name, reloads, slow) in loads {
        let (l, ops) = run(reloads, slow, secs);
        let ms = |us: u64| us as f64 / 1000.0;
        println!(
            "{name:<58} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>12}",
            l.count,
            ms(l.p50_us),
            ms(l.p99_us),
            ms(l.max_us),
            ops
        );
    }
}

const FLIP_EVERY: Duration = Duration::from_millis(5);

/// Node 1 flips between up and down every `FLIP_EVERY`, after a first
/// snapshot of four nodes up; each event is stamped as it is handed over.
struct Flips {
    seq: u64,
}

fn flip_node(id: u32, state: NodeState) -> Node {
    Node {
        id,
        state,
        name: format!("node{id}"),
        addrs: vec![addr(id).parse().expect("an address")],
        lease_ms: 0,
    }
}

impl Feed for Flips {
    fn next(&mut self, out: &mut Vec<Output>) -> afcluster::Result<()> {
        if self.seq == 0 {
            self.seq = 4;
            out.push(Output::Snapshot(Snapshot {
                nodes: (1..=4).map(|id| flip_node(id, NodeState::Up)).collect(),
                seq: 4,
                instance: 1,
                local_node: 1,
            }));
            return Ok(());
        }
        std::thread::sleep(FLIP_EVERY);
        self.seq += 1;
        let (old, new) = if self.seq % 2 == 1 {
            (NodeState::Up, NodeState::Down)
        } else {
            (NodeState::Down, NodeState::Up)
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        out.push(Output::Event(Event {
            seq: self.seq,
            kind: EventKind::State,
            cause: Cause::Admin,
            timestamp_ns: u64::try_from(now.as_nanos()).unwrap_or(u64::MAX),
            instance: 1,
            old_state: Some(old),
            node: Some(flip_node(1, new)),
            local_node: None,
        }));
        Ok(())
    }

    fn stats(&self) -> ResyncStats {
        ResyncStats::default()
    }

    fn family_present(&self) -> bool {
        true
    }
}

#[test]
#[ignore = "a benchmark: scripts/bench-core runs it"]
fn bench_reaction_native() {
    let secs = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let text = "virtual_server 10.255.0.1 80 {\n protocol TCP\n".to_string()
        + &(1..=4)
            .map(|id| {
                format!(
                    " real_server {} 80 {{\n  inhibit_on_failure\n  CI-LINUX\n }}\n",
                    addr(id)
                )
            })
            .collect::<String>()
        + "}\n";
    let c = Config::from_text(&text, Path::new("/bench.conf")).unwrap_or_else(|e| panic!("{e}"));
    let shared = Shared {
        reflection: Reflection::new(),
        balancer: Balancer::new(c.virtual_servers.clone()),
        config: Rc::new(c.clone()),
        config_path: "/bench.conf".into(),
        generation: 0,
        started: Instant::now(),
    };
    let mut r = Reactor::new(shared).expect("a poll");
    r.add(Box::new(ReflectionSync::with(Box::new(Flips { seq: 0 }))));
    let ipvs = fake::Shared::default();
    let backend = ipvs.clone();
    r.add(Box::new(Lvs::with_backend(&c, move || Ok(backend.clone()))));
    r.start();
    let mut ev = Events::with_capacity(64);
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        r.turn(&mut ev, Some(Duration::from_millis(50)))
            .expect("poll");
        ipvs.lock().log.clear();
    }
    let st = r.status();
    r.stop_all();
    let l = &st.ipvs.reaction_node_event;
    println!(
        "node event handed over -> scripted IPVS applied, native, one flip every {} ms for {secs} s: \
         {} reactions, p50 {} us, p99 {} us, max {} us",
        FLIP_EVERY.as_millis(),
        l.count,
        l.p50_us,
        l.p99_us,
        l.max_us
    );
}
