//! Throughput against the live module (run inside a VM by scripts/bench):
//! dumps of a 4096-node table through `Client::dump`, and events received
//! and decoded by an `EventListener` during a storm of changes.
//! Prints figures; asserts nothing about speed.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use afcluster::{Client, EventListener, NodeChange, NodeState, Notification};

const NODES: u32 = 4096;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut c = Client::connect()?;
    let info = c.info()?;
    if info.max_nodes < NODES || info.node_count != 0 {
        return Err(format!("load the module with max_nodes >= {NODES} and an empty table").into());
    }
    for id in 1..=NODES {
        let addr = IpAddr::V4(Ipv4Addr::new(10, 1, (id >> 8) as u8, id as u8));
        c.add(
            id,
            &NodeChange {
                state: Some(NodeState::Up),
                name: Some(format!("node-{id}")),
                addrs: Some(vec![addr]),
                lease_ms: None,
            },
        )?;
    }

    // Dump throughput.
    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        let d = c.dump()?;
        assert_eq!(d.nodes.len(), NODES as usize);
    }
    let t = start.elapsed();
    println!(
        "dump: {rounds} dumps of {NODES} nodes in {:.3} s: {:.0} nodes/s, {:.2} ms per dump",
        t.as_secs_f64(),
        f64::from(rounds * NODES) / t.as_secs_f64(),
        t.as_secs_f64() * 1000.0 / f64::from(rounds)
    );

    // Event receive + decode throughput: the changes are made first, with
    // a buffer large enough to hold them, then drained and decoded.
    let changes = 20_000u32;
    let mut listener = EventListener::new(Some(64 << 20))?;
    for i in 0..changes {
        let state = if i % 2 == 0 {
            NodeState::Down
        } else {
            NodeState::Up
        };
        let id = 1 + (i / 2) % NODES;
        c.set(
            id,
            &NodeChange {
                state: Some(state),
                ..Default::default()
            },
        )?;
    }
    let mut notes = Vec::with_capacity(changes as usize);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(30);
    let mut events = 0usize;
    let mut lost = 0usize;
    while events < changes as usize && Instant::now() < deadline {
        listener.read(&mut notes)?;
        for n in notes.drain(..) {
            match n {
                Notification::Event(_) => events += 1,
                Notification::Lost => lost += 1,
                _ => {}
            }
        }
    }
    let t = start.elapsed();
    println!(
        "events: {events} received and decoded in {:.3} s: {:.0} events/s ({lost} losses, rcvbuf {} bytes)",
        t.as_secs_f64(),
        events as f64 / t.as_secs_f64(),
        listener.rcvbuf()?
    );
    Ok(())
}
