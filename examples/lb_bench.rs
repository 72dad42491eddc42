//! One daemon's reaction to node state changes, in a test VM (run by
//! scripts/bench through scripts/bench-lb-guest, once for afclusterd and
//! once for keepalived, each alone so that neither's CPU use slows the
//! other): how long after a node's state changes in the kernel its IPVS
//! weight follows, and the CPU the daemon uses while nothing happens.
//! Prints figures, and a last `mean_ms` line the guest script reads;
//! asserts nothing.
//!
//! Usage: lb_bench ROUNDS NODES SERVICE NAME PID[,PID...]|-
//! The guest script has set up nodes 1..=NODES at 10.0.1.N and the
//! daemon's virtual server SERVICE (ADDR:PORT, TCP) with
//! inhibit_on_failure, so that a node going down is a weight going to 0.
//! The PIDs are the daemon's processes, for the idle CPU; `-` skips that.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::thread::sleep;
use std::time::{Duration, Instant};

use afcluster::ipvs::{Ipvs, ServiceKey};
use afcluster::{Client, NodeChange, NodeState};

const POLL: Duration = Duration::from_micros(200);
const GIVE_UP: Duration = Duration::from_secs(10);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rounds, nodes, service, name, pids] = args.as_slice() else {
        return Err("usage: lb_bench ROUNDS NODES SERVICE NAME PID[,PID...]|-".into());
    };
    let rounds: u32 = rounds.parse()?;
    let nodes: u32 = nodes.parse()?;
    let service: SocketAddr = service.parse()?;
    let pids: Vec<u32> = match pids.as_str() {
        "-" => Vec::new(),
        list => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
    };

    let mut c = Client::connect()?;
    let mut ipvs = Ipvs::connect()?;
    let key = ServiceKey::tcp(service.ip(), service.port());
    let mut noise = 0x5eed_u64;

    // Every server starts in.
    for n in 1..=nodes {
        wait_weight(&mut ipvs, &key, rs(n), 1, Instant::now())?;
    }

    let mut took = Vec::new();
    for round in 0..rounds {
        let n = round % nodes + 1;
        let down = (round / nodes) % 2 == 0;
        let (state, weight) = if down {
            (NodeState::Down, 0)
        } else {
            (NodeState::Up, 1)
        };
        // A random phase against a polling daemon's checking period.
        noise = splitmix(noise);
        sleep(Duration::from_micros(noise % 1_000_000));
        let t0 = Instant::now();
        c.set(
            n,
            &NodeChange {
                state: Some(state),
                ..NodeChange::default()
            },
        )?;
        took.push(wait_weight(&mut ipvs, &key, rs(n), weight, t0)?);
    }
    let mean = report(name, &mut took);

    // Idle: nothing changes for 30 s.
    if !pids.is_empty() {
        let idle = Duration::from_secs(30);
        let before = usage(&pids)?;
        sleep(idle);
        let after = usage(&pids)?;
        println!(
            "idle {}s: {name}: {} ms CPU (own and reaped children), {} wakeups (voluntary switches)",
            idle.as_secs(),
            (after.0 - before.0) * 1000 / ticks(),
            after.1 - before.1
        );
    }
    println!("mean_ms {mean:.3}");
    Ok(())
}

fn rs(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 1, u8::try_from(n).unwrap_or(u8::MAX)))
}

fn weight(
    ipvs: &mut Ipvs,
    key: &ServiceKey,
    addr: IpAddr,
) -> Result<Option<i32>, Box<dyn std::error::Error>> {
    Ok(ipvs
        .dests(key)?
        .iter()
        .find(|d| d.addr == addr)
        .map(|d| d.weight))
}

fn wait_weight(
    ipvs: &mut Ipvs,
    key: &ServiceKey,
    addr: IpAddr,
    want: i32,
    t0: Instant,
) -> Result<Duration, Box<dyn std::error::Error>> {
    while weight(ipvs, key, addr)? != Some(want) {
        if t0.elapsed() > GIVE_UP {
            return Err(format!("{key}: {addr} never reached weight {want}").into());
        }
        sleep(POLL);
    }
    Ok(t0.elapsed())
}

/// Prints the figures; returns the mean in milliseconds.
fn report(name: &str, v: &mut [Duration]) -> f64 {
    v.sort();
    let p = |q: usize| v[(v.len() * q / 100).min(v.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = v.iter().sum::<Duration>().as_secs_f64() * 1000.0 / v.len() as f64;
    println!(
        "{name}: state change -> IPVS weight over {} changes: mean {mean:.1} ms, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        v.len(),
        ms(p(50)),
        ms(p(99)),
        ms(v[v.len() - 1])
    );
    mean
}
/// CPU ticks (own + reaped children) and voluntary context switches.
fn usage(pids: &[u32]) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let (mut cpu, mut vol) = (0, 0);
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .ok_or("bad stat")?
            .1
            .split_whitespace()
            .collect();
        // utime, stime, cutime, cstime: fields 14-17, here 11-14.
        for f in &fields[11..15] {
            cpu += f.parse::<u64>()?;
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("voluntary_ctxt_switches:"))
            .ok_or("no voluntary_ctxt_switches")?;
        vol += line
            .split_whitespace()
            .nth(1)
            .ok_or("bad status")?
            .parse::<u64>()?;
    }
    Ok((cpu, vol))
}

fn ticks() -> u64 {
    rustix::param::clock_ticks_per_second()
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
