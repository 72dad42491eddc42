//! A storm of random changes to the live table, for the daemon's tests and
//! benchmarks: adds, state changes, address changes and removals over
//! nodes 1..=NODES, reproducible from a seed.
//!
//! Usage: storm COUNT [SEED] [NODES] [--keep-going]
//! --keep-going: ignore refused changes and wait for the module to come
//! back when it is unloaded (tests unload it mid-storm).
//! Prints "storm: N changes applied, M refused, seq S".

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::thread::sleep;
use std::time::Duration;

use afcluster::{Client, Error, NodeChange, NodeState};

/// splitmix64: a test's source of noise, not worth a crate.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STATES: [NodeState; 5] = [
    NodeState::Up,
    NodeState::Down,
    NodeState::GoingDown,
    NodeState::ComingUp,
    NodeState::Shutdown,
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep_going = args.iter().any(|a| a == "--keep-going");
    let nums: Vec<u64> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| "usage: storm COUNT [SEED] [NODES] [--keep-going]")?;
    let count = *nums
        .first()
        .ok_or("usage: storm COUNT [SEED] [NODES] [--keep-going]")?;
    let mut noise = Noise(nums.get(1).copied().unwrap_or(1));
    let nodes = nums.get(2).copied().unwrap_or(300).max(1);

    let mut c = connect(keep_going)?;
    // Start from what the table holds, so that several storms can follow
    // each other.
    let mut live: HashSet<u32> = c.dump()?.nodes.iter().map(|n| n.id).collect();
    let (mut applied, mut refused) = (0u64, 0u64);
    for _ in 0..count {
        let id = u32::try_from(noise.below(nodes) + 1)?;
        let r = if live.contains(&id) && noise.below(10) == 0 {
            c.delete(id).map(|_| live.remove(&id))
        } else if live.contains(&id) {
            let state = STATES[noise.below(STATES.len() as u64) as usize];
            // The id's own low bytes keep addresses unique across nodes.
            let addrs = (noise.below(10) < 3).then(|| {
                let net = 30 + noise.below(4) as u8;
                let [.., hi, lo] = id.to_be_bytes();
                vec![IpAddr::V4(Ipv4Addr::new(10, net, hi, lo))]
            });
            let change = NodeChange {
                state: Some(state),
                addrs,
                ..NodeChange::default()
            };
            c.set(id, &change).map(|_| true)
        } else {
            let change = NodeChange {
                state: Some(NodeState::ComingUp),
                name: Some(format!("n{id}")),
                ..NodeChange::default()
            };
            c.add(id, &change).map(|_| live.insert(id))
        };
        match r {
            Ok(_) => applied += 1,
            Err(e) if keep_going => {
                refused += 1;
                if matches!(e, Error::NotLoaded | Error::Io(_) | Error::Timeout) {
                    c = connect(true)?;
                    live = c.dump()?.nodes.iter().map(|n| n.id).collect();
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "storm: {applied} changes applied, {refused} refused, seq {}",
        c.info()?.seq
    );
    Ok(())
}

fn connect(wait: bool) -> Result<Client, Error> {
    loop {
        match Client::connect() {
            Err(Error::NotLoaded) if wait => sleep(Duration::from_millis(50)),
            r => return r,
        }
    }
}
