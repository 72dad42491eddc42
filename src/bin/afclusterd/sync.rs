//! Keeping the reflection exact: subscribe, then dump; apply events; on a
//! loss or gap replay the kernel's history (since the reflection's seq, of
//! its table instance), and when that no longer reaches back or the table
//! turns out to be another instance, dump again; when the module goes
//! away, mark the reflection stale and wait for nlctrl to say it is back.
//!
//! Requests go over a blocking socket from inside the event loop: the
//! kernel answers them at once (a 4096-node dump takes tens of
//! milliseconds), and nothing else in the loop can make progress without
//! an exact reflection anyway.

use std::time::{Duration, Instant};

use afcluster::control::{Counters, ReflectionStatus};
use afcluster::{
    Applied, Client, Error, Event, EventListener, NodeState, Notification, Reflection,
};
use log::{debug, info, warn};

/// A node's state moving, for the notify_node script. `None` is "no such
/// node": before it was added, after it was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    pub node: u32,
    pub old: Option<NodeState>,
    pub new: Option<NodeState>,
    pub seq: u64,
}

/// How long to wait before retrying a resync that failed for a reason
/// other than the module going away (say, the kernel out of memory).
const RETRY: Duration = Duration::from_secs(1);

pub struct Sync {
    pub listener: EventListener,
    reflection: Reflection,
    client: Option<Client>,
    stale_reason: Option<String>,
    retry_at: Option<Instant>,
    pub counters: Counters,
    batch: Vec<Notification>,
}

impl Sync {
    /// Subscribe (the module may not be loaded yet: then wait for it).
    pub fn new(rcvbuf: Option<usize>) -> afcluster::Result<Sync> {
        let listener = EventListener::new(rcvbuf)?;
        Ok(Sync {
            listener,
            reflection: Reflection::new(),
            client: None,
            stale_reason: Some("not loaded yet".into()),
            retry_at: None,
            counters: Counters::default(),
            batch: Vec::new(),
        })
    }

    pub fn reflection(&self) -> &Reflection {
        &self.reflection
    }

    pub fn module_loaded(&self) -> bool {
        self.listener.family_present()
    }

    pub fn status(&self) -> ReflectionStatus {
        ReflectionStatus {
            seq: self.reflection.seq(),
            instance: self.reflection.instance(),
            local_node: self.reflection.local_node(),
            stale: self.reflection.is_stale(),
            stale_reason: self
                .reflection
                .is_stale()
                .then(|| self.stale_reason.clone().unwrap_or_default()),
            nodes: self.reflection.nodes().into_iter().cloned().collect(),
        }
    }

    /// When a failed resync is to be retried.
    pub fn deadline(&self) -> Option<Instant> {
        self.retry_at
    }

    /// First load, after subscribing so that no change can slip between.
    /// Changes are not reported: there is no "before" to compare with.
    pub fn start(&mut self) {
        if self.listener.family_present() {
            self.resync(&mut Vec::new());
        } else {
            info!("the afcluster module is not loaded: waiting for it");
            self.set_stale("the afcluster module is not loaded: waiting for it");
        }
    }

    pub fn on_timer(&mut self, now: Instant, changes: &mut Vec<StateChange>) {
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.resync(changes);
        }
    }

    /// The listener is readable: drain it and act on what it said.
    pub fn on_readable(&mut self, changes: &mut Vec<StateChange>) {
        let mut batch = std::mem::take(&mut self.batch);
        if let Err(e) = self.listener.read(&mut batch) {
            // A receive error other than a loss: what the socket held is
            // unknown, so treat it as one.
            warn!("reading events failed: {e}; resynchronising");
            batch.push(Notification::Lost);
        }
        for note in batch.drain(..) {
            self.handle(note, changes);
        }
        self.batch = batch;
    }

    fn handle(&mut self, note: Notification, changes: &mut Vec<StateChange>) {
        match note {
            Notification::Event(ev) => match self.apply(&ev, changes) {
                Applied::Gap => {
                    self.counters.gaps += 1;
                    warn!(
                        "event seq {} after seq {}: events missing; replaying",
                        ev.seq,
                        self.reflection.seq()
                    );
                    self.replay(changes);
                }
                Applied::Replaced => {
                    self.counters.replacements += 1;
                    warn!(
                        "event seq {} of table instance {}, not {}: the table was replaced; reloading it",
                        ev.seq,
                        ev.instance,
                        self.reflection.instance()
                    );
                    self.resync(changes);
                }
                Applied::Applied | Applied::Old | Applied::Stale => {}
            },
            Notification::Lost => {
                self.counters.losses += 1;
                if !self.reflection.is_stale() {
                    warn!(
                        "the kernel dropped events (socket buffer full) after seq {}; replaying",
                        self.reflection.seq()
                    );
                    self.replay(changes);
                }
            }
            Notification::Malformed(what) => {
                self.counters.malformed += 1;
                warn!("undecodable event ({what}); replaying to learn what it said");
                if !self.reflection.is_stale() {
                    self.replay(changes);
                }
            }
            Notification::FamilyAppeared => {
                info!("the afcluster module is loaded: loading its table");
                self.client = None;
                self.resync(changes);
            }
            Notification::FamilyVanished => {
                self.counters.module_unloads += 1;
                self.client = None;
                self.retry_at = None;
                warn!(
                    "the afcluster module was unloaded: node states are stale (last seq {}) until it is back",
                    self.reflection.seq()
                );
                self.set_stale("the afcluster module was unloaded: waiting for it");
            }
        }
    }

    /// Apply one event; note state changes.
    fn apply(&mut self, ev: &Event, changes: &mut Vec<StateChange>) -> Applied {
        let id = ev.node.as_ref().map(|n| n.id);
        let old = id.and_then(|id| self.reflection.state(id));
        let old_local = self.reflection.local_node();
        let r = self.reflection.apply(ev);
        match r {
            Applied::Applied => {
                self.counters.events += 1;
                match id {
                    Some(id) => {
                        let new = self.reflection.state(id);
                        debug!(
                            "seq {} node {id} {}: {} -> {}",
                            ev.seq,
                            ev.kind,
                            state_name(old),
                            new_state_name(new)
                        );
                        if old != new {
                            changes.push(StateChange {
                                node: id,
                                old,
                                new,
                                seq: ev.seq,
                            });
                        }
                    }
                    None => info!(
                        "seq {}: the local node is now {} (was {})",
                        ev.seq,
                        local_name(self.reflection.local_node()),
                        local_name(old_local)
                    ),
                }
            }
            Applied::Old => self.counters.events_old += 1,
            Applied::Gap | Applied::Stale | Applied::Replaced => {}
        }
        r
    }

    /// Fetch the events after our seq from the kernel's history; when it
    /// no longer holds them, dump.
    fn replay(&mut self, changes: &mut Vec<StateChange>) {
        let since = self.reflection.seq();
        let instance = self.reflection.instance();
        let events = match self
            .client()
            .and_then(|c| c.events_since(since, Some(instance)))
        {
            Ok(evs) => evs,
            Err(Error::HistoryGone(_)) => {
                info!("the kernel's history no longer reaches back to seq {since}: reloading the table");
                return self.resync(changes);
            }
            Err(Error::Stale(_)) => {
                self.counters.replacements += 1;
                info!("the table is no longer instance {instance} (it was replaced): reloading it");
                return self.resync(changes);
            }
            Err(e) => return self.failed("replay", e, changes),
        };
        self.counters.replays += 1;
        let n = events.len();
        for ev in &events {
            match self.apply(ev, changes) {
                Applied::Applied => self.counters.replayed_events += 1,
                Applied::Old => {}
                Applied::Gap | Applied::Stale | Applied::Replaced => {
                    warn!(
                        "the replay after seq {since} does not follow on at seq {} (instance {}): reloading the table",
                        ev.seq, ev.instance
                    );
                    return self.resync(changes);
                }
            }
        }
        debug!(
            "replayed {n} events after seq {since}, now at seq {}",
            self.reflection.seq()
        );
    }

    /// Load the whole table. The listener is already subscribed, so events
    /// queued behind the dump are newer than its seq or ignored as old.
    fn resync(&mut self, changes: &mut Vec<StateChange>) {
        let snapshot = match self.client().and_then(|c| c.snapshot()) {
            Ok(s) => s,
            Err(e) => return self.failed("loading the table", e, changes),
        };
        let seq = snapshot.seq;
        let had_content = self.counters.resyncs > 0;
        let before = std::mem::take(&mut self.reflection);
        if had_content && before.instance() != snapshot.instance {
            info!(
                "the table is a new instance ({}, was {}): its seqs start anew",
                snapshot.instance,
                before.instance()
            );
        }
        self.reflection.load(snapshot);
        self.counters.resyncs += 1;
        self.stale_reason = None;
        self.retry_at = None;
        if had_content {
            diff(&before, &self.reflection, seq, changes);
        }
        info!(
            "reflecting {} nodes at seq {} of table instance {}, local node {}",
            self.reflection.len(),
            self.reflection.seq(),
            self.reflection.instance(),
            local_name(self.reflection.local_node())
        );
    }

    fn client(&mut self) -> afcluster::Result<&mut Client> {
        if self.client.is_none() {
            self.client = Some(Client::connect()?);
        }
        // Just set if it was empty.
        self.client.as_mut().ok_or(Error::NotLoaded)
    }

    fn failed(&mut self, what: &str, e: Error, changes: &mut Vec<StateChange>) {
        self.client = None;
        if matches!(e, Error::NotLoaded) {
            // The listener may not know yet (or ever, if the notification
            // was dropped): ask nlctrl, and act on what changed.
            let mut notes = Vec::new();
            match self.listener.recheck(&mut notes) {
                Ok(true) => {
                    for n in notes {
                        self.handle(n, changes);
                    }
                    return;
                }
                Ok(false) if !self.listener.family_present() => {
                    // nlctrl will say when it is back; no polling.
                    self.set_stale("the afcluster module is not loaded: waiting for it");
                    return;
                }
                Ok(false) => {}
                Err(e) => warn!("asking nlctrl about the afcluster family: {e}"),
            }
        }
        warn!("{what} failed: {e}; retrying in {}s", RETRY.as_secs());
        self.set_stale(&format!("{what} failed: {e}"));
        self.retry_at = Some(Instant::now() + RETRY);
    }

    fn set_stale(&mut self, why: &str) {
        self.reflection.mark_stale();
        self.stale_reason = Some(why.to_string());
    }
}

/// A local node id for people: "none" for 0.
fn local_name(id: u32) -> String {
    if id == 0 {
        "none".into()
    } else {
        id.to_string()
    }
}

/// A state before a change: "none" for a node that did not exist.
pub fn state_name(s: Option<NodeState>) -> &'static str {
    s.map_or("none", NodeState::name)
}

/// A state after a change: "removed" for a node that no longer exists.
pub fn new_state_name(s: Option<NodeState>) -> &'static str {
    s.map_or("removed", NodeState::name)
}

/// The state changes between two reflections (after a reload of the table).
fn diff(before: &Reflection, after: &Reflection, seq: u64, changes: &mut Vec<StateChange>) {
    for n in after.nodes() {
        let old = before.state(n.id);
        if old != Some(n.state) {
            changes.push(StateChange {
                node: n.id,
                old,
                new: Some(n.state),
                seq,
            });
        }
    }
    for n in before.nodes() {
        if after.node(n.id).is_none() {
            changes.push(StateChange {
                node: n.id,
                old: Some(n.state),
                new: None,
                seq,
            });
        }
    }
}
