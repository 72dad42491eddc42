//! `afcluster events`: replay the history, then follow live events.

use std::io;

use afcluster::{Client, Event, EventListener, Notification, Result};
use mio::{Events, Interest, Poll, Token};

use crate::output;

const LISTENER: Token = Token(0);

fn print(e: &Event, json: bool) -> io::Result<()> {
    if json {
        output::json(e)
    } else {
        output::event(e)
    }
}

/// Print the events after `since` that the kernel still holds; returns the
/// last sequence number printed (or `since`).
fn replay(c: &mut Client, since: u64, json: bool) -> Result<u64> {
    let mut last = since;
    for e in c.events_since(since)? {
        print(&e, json)?;
        last = e.seq;
    }
    Ok(last)
}

/// `follow`: the receive buffer of the follower's socket, or None to only
/// print the history.
pub fn events(c: &mut Client, since: Option<u64>, follow: Option<usize>, json: bool) -> Result<()> {
    let Some(rcvbuf) = follow else {
        let since = match since {
            Some(s) => s,
            None => c.info()?.oldest_seq.saturating_sub(1),
        };
        replay(c, since, json)?;
        return Ok(());
    };

    // Subscribe first, then replay: nothing can fall between the two, and
    // what arrives twice is recognised by its sequence number.
    let mut listener = EventListener::new(Some(rcvbuf))?;
    let mut last = match since {
        Some(s) => replay(c, s, json)?,
        None => c.info()?.seq,
    };
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(4);
    let mut notes = Vec::new();
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.into());
        }
        listener.read(&mut notes)?;
        for n in notes.drain(..) {
            match n {
                Notification::Event(e) if e.seq <= last => {}
                Notification::Event(e) if e.seq == last + 1 => {
                    print(&e, json)?;
                    last = e.seq;
                }
                // A gap without a loss report: replay it rather than guess.
                Notification::Event(_) => last = replay(c, last, json)?,
                Notification::Lost => {
                    log::warn!("events were lost; replaying from seq {last}");
                    last = replay(c, last, json)?;
                }
                Notification::Malformed(m) => {
                    log::warn!("undecodable message ({m}); replaying from seq {last}");
                    last = replay(c, last, json)?;
                }
                Notification::FamilyVanished => {
                    eprintln!("afcluster: the module was unloaded; waiting for it to return");
                }
                Notification::FamilyAppeared => {
                    eprintln!("afcluster: the module is back; its sequence starts anew");
                    *c = Client::connect()?;
                    last = replay(c, 0, json)?;
                }
            }
        }
    }
}
