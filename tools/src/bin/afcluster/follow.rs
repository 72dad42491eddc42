//! `afcluster events`: replay the history, then follow live events.

use std::io;

use afcluster::{Client, Event, Follower, Goal, Output, Result};

use crate::output;

/// Where `events` starts: `--since` and `--instance`.
#[derive(Debug, Clone, Copy, Default)]
pub struct From {
    pub since: Option<u64>,
    pub instance: Option<u64>,
}

fn print(e: &Event, json: bool) -> io::Result<()> {
    if json {
        output::json(e)
    } else {
        output::event(e)
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

    // The library's follower: it subscribes first, then replays from the
    // start asked, replays what a loss or a gap skipped, and follows a
    // replaced table (or a reloaded module) from its first event.
    let mut f = Follower::new(
        Goal::Stream {
            since: from.since,
            instance: from.instance,
        },
        Some(rcvbuf),
    )?;
    let mut out = Vec::new();
    let mut unloaded = false;
    loop {
        f.next(&mut out)?;
        for o in out.drain(..) {
            match o {
                Output::Event(e) => print(&e, json)?,
                Output::Restarted { old, new } if unloaded => {
                    unloaded = false;
                    eprintln!(
                        "afcluster: the module is back (table instance {new}, was {old}); \
                         its sequence starts anew"
                    );
                }
                Output::Restarted { old, new } => eprintln!(
                    "afcluster: the node table was replaced (instance {old} -> {new}); \
                     following the new one from its start"
                ),
                Output::Stale(why) => {
                    unloaded |= !f.family_present();
                    eprintln!("afcluster: {why}");
                }
                // The history no longer reaches back, or the start asked
                // for is another table's: exit status 6.
                Output::Broken(e) => return Err(e),
                Output::Snapshot(_) => {}
            }
        }
    }
}
