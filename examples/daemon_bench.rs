//! afclusterd's figures against the live module (run in a VM by
//! scripts/bench): how fast the daemon applies events compared with a bare
//! receive loop on the same events, how long a change takes to reach its
//! reflection (p50/p99), and its RSS with 4096 nodes.
//! Prints figures; asserts nothing about speed.
//!
//! Usage: daemon_bench SOCKET PID   (the daemon runs with a large
//! events_rcv_bufs, the module with max_nodes >= 4096 and an empty table)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, Instant};

use afcluster::control::wait_for_seq;
use afcluster::{Client, EventListener, NodeChange, NodeState, Notification};

const NODES: u32 = 4096;
const BURST: u32 = 20_000;
const PROBES: usize = 2000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [socket, pid] = args.as_slice() else {
        return Err("usage: daemon_bench SOCKET PID".into());
    };
    let socket = Path::new(socket);
    let pid: i32 = pid.parse()?;
    let mut c = Client::connect()?;
    let info = c.info()?;
    if info.max_nodes < NODES || info.node_count != 0 {
        return Err(format!("load the module with max_nodes >= {NODES} and an empty table").into());
    }

    // RSS with a full table: a name and an IPv4 and an IPv6 address each.
    let rss_empty = rss_kib(pid)?;
    for id in 1..=NODES {
        let [.., hi, lo] = id.to_be_bytes();
        c.add(
            id,
            &NodeChange {
                state: Some(NodeState::Up),
                name: Some(format!("node-{id:04}.cluster.example")),
                addrs: Some(vec![
                    IpAddr::V4(Ipv4Addr::new(10, 1, hi, lo)),
                    IpAddr::V6(Ipv6Addr::new(
                        0xfd00,
                        0,
                        0,
                        0,
                        0,
                        0,
                        u16::from(hi),
                        u16::from(lo),
                    )),
                ]),
                lease_ms: None,
            },
        )?;
    }
    wait_for_seq(socket, c.info()?.seq)?;
    println!(
        "rss: {} KiB with {NODES} nodes (2 addresses and a name each), {} KiB with none",
        rss_kib(pid)?,
        rss_empty
    );

    // Apply rate: the daemon is stopped while BURST changes queue in its
    // socket, then let go; a bare listener subscribed before the burst
    // drains the very same events afterwards (the ceiling).
    let mut bare = EventListener::new(Some(64 << 20))?;
    let stopped = Stopped::new(pid)?;
    let base = c.info()?.seq;
    for i in 0..BURST {
        // Every change flips a node (a change to the same state is no event).
        let state = if (i / NODES) % 2 == 0 {
            NodeState::Down
        } else {
            NodeState::Up
        };
        c.set(
            1 + i % NODES,
            &NodeChange {
                state: Some(state),
                ..Default::default()
            },
        )?;
    }
    let target = c.info()?.seq;
    if target != base + u64::from(BURST) {
        return Err(format!("expected {BURST} events, the kernel made {}", target - base).into());
    }
    let start = Instant::now();
    drop(stopped);
    wait_for_seq(socket, target)?;
    let daemon_t = start.elapsed();
    let mut notes = Vec::new();
    let (mut events, mut lost) = (0u32, 0u32);
    let start = Instant::now();
    while events < BURST && start.elapsed() < Duration::from_secs(60) {
        bare.read(&mut notes)?;
        for n in notes.drain(..) {
            match n {
                Notification::Event(_) => events += 1,
                Notification::Lost => lost += 1,
                _ => {}
            }
        }
    }
    let bare_t = start.elapsed();
    let daemon_rate = f64::from(BURST) / daemon_t.as_secs_f64();
    let bare_rate = f64::from(events) / bare_t.as_secs_f64();
    println!(
        "apply: daemon {daemon_rate:.0} events/s ({BURST} in {:.3} s); bare receive loop {bare_rate:.0} events/s ({events} in {:.3} s, {lost} losses); daemon/bare {:.2}",
        daemon_t.as_secs_f64(),
        bare_t.as_secs_f64(),
        daemon_rate / bare_rate
    );
    drop(bare);

    // Latency: a change requested -> the daemon confirms its reflection
    // holds it. The request's own round trip is measured alone beside it.
    let mut seq = c.info()?.seq;
    let mut up = c.node(7)?.node.state == NodeState::Up;
    let (mut lat, mut rtt) = (Vec::with_capacity(PROBES), Vec::with_capacity(PROBES));
    for _ in 0..PROBES {
        up = !up;
        let state = if up { NodeState::Up } else { NodeState::Down };
        let change = NodeChange {
            state: Some(state),
            ..Default::default()
        };
        let t = Instant::now();
        c.set(7, &change)?;
        rtt.push(t.elapsed());
        seq += 1;
        wait_for_seq(socket, seq)?;
        lat.push(t.elapsed());
    }
    let final_seq = c.info()?.seq;
    if final_seq != seq {
        return Err(format!("another writer was active (seq {final_seq}, expected {seq})").into());
    }
    lat.sort();
    rtt.sort();
    println!(
        "latency: change -> reflected p50 {} p99 {} max {} over {PROBES} changes (the change request alone: p50 {} p99 {})",
        us(pct(&lat, 50)),
        us(pct(&lat, 99)),
        us(lat[lat.len() - 1]),
        us(pct(&rtt, 50)),
        us(pct(&rtt, 99))
    );
    Ok(())
}

fn pct(v: &[Duration], p: usize) -> Duration {
    v[(v.len() * p / 100).min(v.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{} us", d.as_micros())
}

/// The daemon, stopped until this is dropped: whatever happens, it is let
/// go again (a stopped daemon would ignore the SIGTERM that ends the run).
struct Stopped(i32);

impl Stopped {
    fn new(pid: i32) -> std::io::Result<Stopped> {
        signal(pid, rustix::process::Signal::STOP)?;
        Ok(Stopped(pid))
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = signal(self.0, rustix::process::Signal::CONT);
    }
}

fn signal(pid: i32, sig: rustix::process::Signal) -> std::io::Result<()> {
    let pid = rustix::process::Pid::from_raw(pid)
        .ok_or_else(|| std::io::Error::other(format!("not a process id: {pid}")))?;
    Ok(rustix::process::kill_process(pid, sig)?)
}

fn rss_kib(pid: i32) -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
}
