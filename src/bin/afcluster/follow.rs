//! `afcluster events`: replay the history, then follow live events.

use std::io;

use afcluster::{Client, Error, Event, EventListener, Notification, Result};
use mio::{Events, Interest, Poll, Token};

use crate::output;

const LISTENER: Token = Token(0);

/// Where `events` starts: `--since` and `--instance`.
#[derive(Debug, Clone, Copy, Default)]
pub struct From {
    pub since: Option<u64>,
    pub instance: Option<u64>,
}

/// Where the follower is: the table it follows and the last seq printed.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    instance: u64,
    last: u64,
}

fn print(e: &Event, json: bool) -> io::Result<()> {
    if json {
        output::json(e)
    } else {
        output::event(e)
    }
}

/// Print the events after the cursor that the kernel still holds.
fn replay(c: &mut Client, cur: &mut Cursor, json: bool) -> Result<()> {
    for e in c.events_since(cur.last, Some(cur.instance))? {
        print(&e, json)?;
        cur.last = e.seq;
    }
    Ok(())
}

/// The table was replaced: follow the new one (`instance`, or whichever
/// the kernel has now) from its first event.
fn restart(c: &mut Client, cur: &mut Cursor, instance: Option<u64>, json: bool) -> Result<()> {
    let instance = match instance {
        Some(i) => i,
        None => c.info()?.instance,
    };
    eprintln!(
        "afcluster: the node table was replaced (instance {} -> {instance}); \
         following the new one from its start",
        cur.instance
    );
    *cur = Cursor { instance, last: 0 };
    replay(c, cur, json)
}

/// After a loss or a gap: replay what was missed; when the table turns
/// out to be another one, follow that one from its start. A history that
/// no longer reaches back is an error (exit status 6): the stream of
/// events cannot be made whole again.
fn catch_up(c: &mut Client, cur: &mut Cursor, json: bool) -> Result<()> {
    match replay(c, cur, json) {
        Err(Error::Stale(_)) => restart(c, cur, None, json),
        other => other,
    }
}

/// `follow`: the receive buffer of the follower's socket, or None to only
/// print the history.
pub fn events(c: &mut Client, from: From, follow: Option<usize>, json: bool) -> Result<()> {
    let Some(rcvbuf) = follow else {
        let since = match from.since {
            Some(s) => s,
            None => c.info()?.oldest_seq.saturating_sub(1),
        };
        for e in c.events_since(since, from.instance)? {
            print(&e, json)?;
        }
        return Ok(());
    };

    // Subscribe first, then replay: nothing can fall between the two, and
    // what arrives twice is recognised by its sequence number.
    let mut listener = EventListener::new(Some(rcvbuf))?;
    let info = c.info()?;
    let mut cur = Cursor {
        // The kernel checks the instance given (ESTALE: exit status 6).
        instance: from.instance.unwrap_or(info.instance),
        last: from.since.unwrap_or(info.seq),
    };
    replay(c, &mut cur, json)?;
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
                // Another table's event: it replaced ours, and nlctrl did
                // not say so (or not yet).
                Notification::Event(e) if e.instance != cur.instance => {
                    restart(c, &mut cur, Some(e.instance), json)?
                }
                Notification::Event(e) if e.seq <= cur.last => {}
                Notification::Event(e) if e.seq == cur.last + 1 => {
                    print(&e, json)?;
                    cur.last = e.seq;
                }
                // A gap without a loss report: replay it rather than guess.
                Notification::Event(_) => catch_up(c, &mut cur, json)?,
                Notification::Lost => {
                    log::warn!("events were lost; replaying from seq {}", cur.last);
                    catch_up(c, &mut cur, json)?;
                }
                Notification::Malformed(m) => {
                    log::warn!("undecodable message ({m}); replaying from seq {}", cur.last);
                    catch_up(c, &mut cur, json)?;
                }
                Notification::FamilyVanished => {
                    eprintln!("afcluster: the module was unloaded; waiting for it to return");
                }
                Notification::FamilyAppeared => {
                    eprintln!("afcluster: the module is back; its sequence starts anew");
                    *c = Client::connect()?;
                    let instance = c.info()?.instance;
                    cur = Cursor { instance, last: 0 };
                    replay(c, &mut cur, json)?;
                }
            }
        }
    }
}
