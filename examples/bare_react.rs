//! The least a program can do to follow a node in IPVS: wait for the
//! event, send the one IPVS request it calls for (the node's real server
//! to weight 1 when up, 0 otherwise, on 10.0.0.3:80), and nothing else.
//! The yardstick for afclusterd's reaction time (scripts/bench-lb-guest):
//! from the event's kernel timestamp to IPVS's acknowledgement, as the
//! daemon measures its own.
//!
//! Usage: bare_react EVENTS — handles that many node events, then prints
//! p50, p99 and max, and exits.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use afcluster::ipvs::{Dest, Forward, Ipvs, ServiceKey};
use afcluster::{EventListener, NodeState, Notification};
use mio::{Events, Interest, Poll, Token};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let want: usize = std::env::args()
        .nth(1)
        .ok_or("usage: bare_react EVENTS")?
        .parse()?;
    let key = ServiceKey::tcp(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3)), 80);
    let mut ipvs = Ipvs::connect()?;
    let mut listener = EventListener::new(None)?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)?;
    let mut events = Events::with_capacity(4);
    let mut notes = Vec::new();
    let mut took = Vec::with_capacity(want);
    // Ready: the guest script waits for this line.
    println!("bare_react: listening");
    while took.len() < want {
        poll.poll(&mut events, None)?;
        listener.read(&mut notes)?;
        for n in notes.drain(..) {
            let Notification::Event(ev) = n else {
                continue;
            };
            let Some(node) = ev.node else {
                continue;
            };
            let Some(last) = u8::try_from(node.id).ok() else {
                continue;
            };
            let weight = i32::from(node.state == NodeState::Up);
            let rs = IpAddr::V4(Ipv4Addr::new(10, 0, 1, last));
            ipvs.edit_dest(&key, &Dest::new(rs, 80, Forward::Masq, weight))?;
            let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
            took.push(now.saturating_sub(Duration::from_nanos(ev.timestamp_ns)));
        }
    }
    took.sort();
    let p = |q: usize| took[(took.len() * q / 100).min(took.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bare program (event -> one IPVS request): kernel event -> IPVS ack over {} events: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        took.len(),
        ms(p(50)),
        ms(p(99)),
        ms(took[took.len() - 1])
    );
    Ok(())
}
