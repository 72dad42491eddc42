//! Following the kernel's table exactly, as a state machine without I/O:
//! it is fed what the listener read and what requests answered, and says
//! which request to make next. [`Follower`](crate::Follower) drives it over
//! real sockets; tests drive it with scripted notifications.
//!
//! The rules, one place for every follower (the daemon's reflection, the
//! CLI's `events --follow`):
//! - subscribe first, then load: events racing the load are recognised by
//!   their seq (not newer: ignored);
//! - the next seq is delivered; a gap, a loss (ENOBUFS) or an undecodable
//!   message is replayed from the kernel's history (EVENT_GET since the
//!   last seq, of its instance);
//! - an event of another instance, or a replay refused with ESTALE: the
//!   table was replaced (module reloaded, namespace recreated);
//! - a history that no longer reaches back (ERANGE): the events are gone;
//! - the family vanishing (module unloaded) makes everything stale until
//!   nlctrl says it is back; no polling.
//!
//! Two goals tell what to do when the stream cannot be made whole:
//! [`Goal::Reflect`] (keep a copy of the table) loads the whole table again;
//! [`Goal::Stream`] (print every event) follows a replaced table from its
//! first event and gives up when the history is gone.

use std::time::Duration;

use crate::client::Snapshot;
use crate::error::Error;
use crate::listener::Notification;
use crate::types::{ClusterInfo, Event};

/// What the follower is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// An exact copy of the table: start with a snapshot, and load one
    /// again whenever events cannot be replayed.
    Reflect,
    /// Every event once, in order, from `since` (of `instance`): a
    /// replaced table is followed from its first event, a lost history
    /// ends the stream with [`Output::Broken`].
    Stream {
        since: Option<u64>,
        instance: Option<u64>,
    },
}

/// The request the driver is to make, and which method takes its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `Client::snapshot()` → [`Resync::on_snapshot`].
    Snapshot,
    /// `Client::events_since(since, Some(instance))` → [`Resync::on_events`].
    Replay { since: u64, instance: u64 },
    /// `Client::info()` → [`Resync::on_info`] (where a stream starts).
    Info,
    /// A request said the family is not there while the listener thinks it
    /// is: `EventListener::recheck`, its notifications to
    /// [`Resync::on_notification`], then [`Resync::on_family_checked`].
    CheckFamily,
}

/// What the follower learned, in order.
#[derive(Debug)]
pub enum Output {
    /// The whole table (Reflect): replace the copy with it.
    Snapshot(Snapshot),
    /// The next event of the table followed, each exactly once.
    Event(Event),
    /// Stream: the table was replaced; events of `new` follow from its
    /// first one.
    Restarted { old: u64, new: u64 },
    /// Until the next `Snapshot` (Reflect) or `Event`, what was delivered
    /// may be out of date: the module went away, or a request failed.
    Stale(String),
    /// Stream: the events after `since` are gone from the kernel's
    /// history; the stream cannot go on.
    Broken(Error),
}

/// What happened while following, for status and counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ResyncStats {
    /// Events delivered (live or replayed), and those ignored as already
    /// delivered (they raced a load or a replay).
    pub events: u64,
    pub events_old: u64,
    /// Losses reported by the kernel (ENOBUFS), seq gaps without one,
    /// undecodable messages.
    pub losses: u64,
    pub gaps: u64,
    pub malformed: u64,
    /// Replays from the history, and the events they delivered.
    pub replays: u64,
    pub replayed_events: u64,
    /// Whole-table loads.
    pub resyncs: u64,
    /// Times the table turned out to be another instance.
    pub replacements: u64,
    /// Times the family went away.
    pub module_unloads: u64,
    /// Requests that failed and were retried.
    pub failures: u64,
}

/// The first retry waits this long, each next one twice as long, up to
/// `MAX_BACKOFF`.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);

#[derive(Debug)]
pub struct Resync {
    goal: Goal,
    /// (instance, seq) of the last event delivered (or the snapshot), and
    /// whether it can be trusted. None: nothing delivered yet.
    cursor: Option<(u64, u64)>,
    /// The family is registered, as far as the listener knows.
    present: bool,
    /// The next request; `in_flight` once handed out.
    next: Option<Request>,
    in_flight: bool,
    /// After a failure, the next request waits for `retry()`.
    backoff: Option<Duration>,
    failures_in_a_row: u32,
    /// Stream: the seq to start from once `Info` said where the table is.
    start_since: Option<u64>,
    /// Stream: the start was given with its instance, and nothing has
    /// been replayed yet: ESTALE is the caller's mistake, not a reload.
    instance_given: bool,
    stats: ResyncStats,
}

impl Resync {
    /// `present`: whether the family is registered now (the listener
    /// already subscribed).
    pub fn new(goal: Goal, present: bool) -> Resync {
        let mut r = Resync {
            goal,
            cursor: None,
            present,
            next: None,
            in_flight: false,
            backoff: None,
            failures_in_a_row: 0,
            start_since: None,
            instance_given: false,
            stats: ResyncStats::default(),
        };
        if let Goal::Stream { since, instance } = goal {
            r.start_since = since;
            if let (Some(s), Some(i)) = (since, instance) {
                r.cursor = Some((i, s));
                r.instance_given = true;
            }
        }
        r.load();
        r
    }

    pub fn stats(&self) -> &ResyncStats {
        &self.stats
    }

    /// The table instance and seq followed, once known.
    pub fn cursor(&self) -> Option<(u64, u64)> {
        self.cursor
    }

    /// Whether a request failed and the next one waits for [`Resync::retry`]
    /// after this long.
    pub fn backoff(&self) -> Option<Duration> {
        self.backoff
    }

    /// The backoff has passed: the failed request may go again.
    pub fn retry(&mut self) {
        self.backoff = None;
    }

    /// The request to make now, if any (one at a time).
    pub fn request(&mut self) -> Option<Request> {
        if self.in_flight || self.backoff.is_some() {
            return None;
        }
        let r = self.next?;
        if !self.present && r != Request::CheckFamily {
            return None; // nlctrl will say when it is back
        }
        self.in_flight = true;
        Some(r)
    }

    /// (Re)start from the table as it is: a snapshot to reflect, or where
    /// a stream starts (`Info`, or a replay when the start is known).
    fn load(&mut self) {
        self.next = Some(match (self.goal, self.cursor) {
            (Goal::Reflect, _) => Request::Snapshot,
            (Goal::Stream { .. }, Some((instance, since))) => Request::Replay { since, instance },
            (Goal::Stream { .. }, None) => Request::Info,
        });
    }

    /// Replay from the cursor (after a loss or a gap), unless a bigger
    /// load is already due.
    fn replay(&mut self) {
        match (self.cursor, self.next) {
            (_, Some(Request::Snapshot | Request::Info | Request::CheckFamily)) => {}
            (Some((instance, since)), _) => self.next = Some(Request::Replay { since, instance }),
            (None, _) => self.load(),
        }
    }

    /// The table was replaced by instance `new` (None: not known yet).
    fn replaced(&mut self, new: Option<u64>, out: &mut Vec<Output>) {
        self.stats.replacements += 1;
        match (self.goal, new) {
            (Goal::Reflect, _) => self.next = Some(Request::Snapshot),
            (Goal::Stream { .. }, Some(new)) => self.restart(new, out),
            // Which one it is now: `on_info` restarts on it.
            (Goal::Stream { .. }, None) => self.next = Some(Request::Info),
        }
    }

    /// Stream: follow instance `new` from its first event.
    fn restart(&mut self, new: u64, out: &mut Vec<Output>) {
        let old = self.cursor.map_or(0, |c| c.0);
        out.push(Output::Restarted { old, new });
        self.cursor = Some((new, 0));
        self.next = Some(Request::Replay {
            since: 0,
            instance: new,
        });
    }

    /// An event, live or replayed. Returns false when it does not follow on
    /// (a gap or another instance): the caller decides what that means.
    fn deliver(&mut self, ev: Event, out: &mut Vec<Output>) -> Delivered {
        let Some((instance, seq)) = self.cursor else {
            return Delivered::NotFollowing;
        };
        if ev.instance != instance {
            return Delivered::Replaced(ev.instance);
        }
        if ev.seq <= seq {
            self.stats.events_old += 1;
            return Delivered::Old;
        }
        if ev.seq != seq + 1 {
            return Delivered::Gap;
        }
        self.cursor = Some((instance, ev.seq));
        out.push(Output::Event(ev));
        Delivered::Yes
    }

    /// What the listener read.
    pub fn on_notification(&mut self, n: Notification, out: &mut Vec<Output>) {
        match n {
            Notification::Event(ev) => {
                // Not followed yet, or a load is due: the load covers it.
                if matches!(self.next, Some(Request::Snapshot | Request::Info)) || !self.present {
                    return;
                }
                match self.deliver(ev, out) {
                    Delivered::Yes => self.stats.events += 1,
                    Delivered::Old | Delivered::NotFollowing => {}
                    Delivered::Gap => {
                        self.stats.gaps += 1;
                        self.replay();
                    }
                    Delivered::Replaced(new) => self.replaced(Some(new), out),
                }
            }
            Notification::Lost => {
                self.stats.losses += 1;
                self.replay();
            }
            Notification::Malformed(_) => {
                self.stats.malformed += 1;
                self.replay();
            }
            Notification::FamilyAppeared => {
                self.present = true;
                self.backoff = None;
                // A new registration is a new table: a snapshot of it, or
                // (Stream) its instance, to follow it from its first event.
                self.next = Some(match self.goal {
                    Goal::Reflect => Request::Snapshot,
                    Goal::Stream { .. } => Request::Info,
                });
            }
            Notification::FamilyVanished => {
                self.stats.module_unloads += 1;
                self.present = false;
                self.backoff = None;
                self.next = None;
                out.push(Output::Stale(
                    "the afcluster module was unloaded: waiting for it".into(),
                ));
            }
        }
    }

    /// The answer to `Request::Snapshot`.
    pub fn on_snapshot(&mut self, r: crate::Result<Snapshot>, out: &mut Vec<Output>) {
        self.in_flight = false;
        match r {
            Ok(s) => {
                self.succeeded();
                self.stats.resyncs += 1;
                self.cursor = Some((s.instance, s.seq));
                self.next = None;
                out.push(Output::Snapshot(s));
            }
            Err(e) => self.failed("loading the table", e, out),
        }
    }

    /// The answer to `Request::Info` (Stream: where to start).
    pub fn on_info(&mut self, r: crate::Result<ClusterInfo>, out: &mut Vec<Output>) {
        self.in_flight = false;
        match r {
            Ok(info) => {
                self.succeeded();
                match self.cursor {
                    Some((old, _)) if old != info.instance => self.restart(info.instance, out),
                    Some((instance, since)) => {
                        self.next = Some(Request::Replay { since, instance })
                    }
                    None => {
                        let since = self.start_since.take().unwrap_or(info.seq);
                        self.cursor = Some((info.instance, since));
                        self.next = Some(Request::Replay {
                            since,
                            instance: info.instance,
                        });
                    }
                }
            }
            Err(e) => self.failed("asking for the table's seq", e, out),
        }
    }

    /// The answer to `Request::Replay`.
    pub fn on_events(&mut self, r: crate::Result<Vec<Event>>, out: &mut Vec<Output>) {
        self.in_flight = false;
        let since = self.cursor.map_or(0, |c| c.1);
        match r {
            Ok(events) => {
                self.succeeded();
                self.instance_given = false;
                self.stats.replays += 1;
                self.next = None;
                for ev in events {
                    match self.deliver(ev, out) {
                        Delivered::Yes => {
                            self.stats.events += 1;
                            self.stats.replayed_events += 1;
                        }
                        Delivered::Old | Delivered::NotFollowing => {}
                        // The history answers for the instance asked: this
                        // cannot be, so trust nothing of it.
                        Delivered::Gap | Delivered::Replaced(_) => {
                            self.broken_replay(since, out);
                            return;
                        }
                    }
                }
            }
            Err(e @ Error::Stale(_)) if self.instance_given => {
                self.next = None;
                out.push(Output::Broken(e));
            }
            Err(Error::Stale(_)) => {
                self.succeeded();
                self.replaced(None, out);
            }
            Err(e @ Error::HistoryGone(_)) => {
                self.succeeded();
                match self.goal {
                    Goal::Reflect => self.next = Some(Request::Snapshot),
                    Goal::Stream { .. } => {
                        self.next = None;
                        out.push(Output::Broken(e));
                    }
                }
            }
            Err(e) => self.failed("replaying events", e, out),
        }
    }

    fn broken_replay(&mut self, since: u64, out: &mut Vec<Output>) {
        match self.goal {
            Goal::Reflect => self.next = Some(Request::Snapshot),
            Goal::Stream { .. } => {
                self.next = None;
                out.push(Output::Broken(Error::Decode(format!(
                    "the kernel's replay after seq {since} does not follow on"
                ))));
            }
        }
    }

    /// After `Request::CheckFamily`: whether the family is registered.
    pub fn on_family_checked(&mut self, present: bool) {
        self.in_flight = false;
        if self.next == Some(Request::CheckFamily) {
            // No notification changed the plan: the family is what the
            // listener says; if present, the request failed for nothing
            // we can see, so retry it after a while.
            self.present = present;
            self.load();
            if present {
                self.back_off();
            }
        }
    }

    fn succeeded(&mut self) {
        self.failures_in_a_row = 0;
    }

    fn back_off(&mut self) {
        let n = self.failures_in_a_row.min(5);
        self.failures_in_a_row += 1;
        self.backoff = Some((FIRST_BACKOFF * 2u32.pow(n)).min(MAX_BACKOFF));
    }

    fn failed(&mut self, what: &str, e: Error, out: &mut Vec<Output>) {
        self.stats.failures += 1;
        if matches!(e, Error::NotLoaded) {
            // Keep the plan; learn whether the family went away.
            self.next = Some(Request::CheckFamily);
            return;
        }
        out.push(Output::Stale(format!("{what} failed: {e}")));
        self.back_off();
    }
}

enum Delivered {
    Yes,
    Old,
    Gap,
    Replaced(u64),
    NotFollowing,
}

#[cfg(test)]
mod tests;
