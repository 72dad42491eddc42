//! The reflection. The library's follower runs in a thread of its own:
//! its requests are synchronous (a 4096-node dump takes tens of
//! milliseconds), and loading a table and telling what changed is as
//! long again, longer than any other subsystem's timer may wait. The
//! thread keeps a copy of the table, works out the state changes, and
//! hands the loop finished work: a whole new table to swap in, or events
//! to apply, with their changes. The loop then tells the others.

use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use afcluster::control::{ReflectionStatus, Status};
use afcluster::{Applied, Event, Follower, Goal, NodeState, Output, Reflection, ResyncStats};
use log::{debug, error, info, warn};

use crate::core::{Cx, Message, Shared, StateChange, Subsystem, Wake};

/// Where the thread's outputs come from: the follower, or a script.
pub trait Feed: Send {
    /// Block until there is something; append it.
    fn next(&mut self, out: &mut Vec<Output>) -> afcluster::Result<()>;
    fn stats(&self) -> ResyncStats;
    fn family_present(&self) -> bool;
}

impl Feed for Follower {
    fn next(&mut self, out: &mut Vec<Output>) -> afcluster::Result<()> {
        Follower::next(self, out)
    }

    fn stats(&self) -> ResyncStats {
        Follower::stats(self).clone()
    }

    fn family_present(&self) -> bool {
        Follower::family_present(self)
    }
}

/// Work the thread has done, in order.
enum Item {
    /// A whole table to swap in.
    Loaded(Box<Reflection>),
    /// Events that follow on from the table the loop holds.
    Events(Vec<Event>),
    Stale(String),
}

/// What the thread sends after each wait.
struct Batch {
    items: Vec<Item>,
    changes: Vec<StateChange>,
    /// The kernel timestamp of the newest event applied.
    event_ns: Option<u64>,
    stats: ResyncStats,
    family_present: bool,
}

/// The thread's copy of the table, and what it tells from it.
#[derive(Default)]
pub struct Digest {
    mine: Reflection,
    loaded_once: bool,
}

impl Digest {
    fn digest(&mut self, outputs: Vec<Output>, batch: &mut Batch) {
        let r = &mut self.mine;
        let mut events = Vec::new();
        for o in outputs {
            match o {
                Output::Snapshot(s) => {
                    if !events.is_empty() {
                        batch.items.push(Item::Events(std::mem::take(&mut events)));
                    }
                    let before = std::mem::take(r);
                    if self.loaded_once && before.instance() != s.instance {
                        info!(
                            "the table is a new instance ({}, was {}): its seqs start anew",
                            s.instance,
                            before.instance()
                        );
                    }
                    let seq = s.seq;
                    r.load(s);
                    if self.loaded_once {
                        diff(&before, r, seq, &mut batch.changes);
                    }
                    self.loaded_once = true;
                    info!(
                        "reflecting {} nodes at seq {} of table instance {}, local node {}",
                        r.len(),
                        r.seq(),
                        r.instance(),
                        local_name(r.local_node())
                    );
                    batch.items.push(Item::Loaded(Box::new(r.clone())));
                }
                Output::Event(ev) => {
                    let id = ev.node.as_ref().map(|n| n.id);
                    let old = id.and_then(|id| r.state(id));
                    let old_local = r.local_node();
                    match r.apply(&ev) {
                        Applied::Applied => {}
                        other => {
                            // The follower delivers only the next seq.
                            warn!("event seq {} not applied ({other:?})", ev.seq);
                            continue;
                        }
                    }
                    batch.event_ns = Some(ev.timestamp_ns);
                    match id {
                        Some(id) => {
                            let new = r.state(id);
                            debug!(
                                "seq {} node {id} {}: {} -> {}",
                                ev.seq,
                                ev.kind,
                                state_name(old),
                                new_state_name(new)
                            );
                            if old != new {
                                batch.changes.push(StateChange {
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
                            local_name(r.local_node()),
                            local_name(old_local)
                        ),
                    }
                    events.push(ev);
                }
                Output::Stale(why) => {
                    if !events.is_empty() {
                        batch.items.push(Item::Events(std::mem::take(&mut events)));
                    }
                    if !r.is_stale() {
                        warn!("node states are stale (last seq {}): {why}", r.seq());
                    }
                    r.mark_stale();
                    batch.items.push(Item::Stale(why));
                }
                // Only streams restart or break.
                Output::Restarted { .. } | Output::Broken(_) => {}
            }
        }
        if !events.is_empty() {
            batch.items.push(Item::Events(events));
        }
    }
}

pub struct ReflectionSync {
    feed: Option<Box<dyn Feed>>,
    rx: Option<Receiver<Batch>>,
    stats: ResyncStats,
    family_present: bool,
    stale_reason: Option<String>,
}

impl ReflectionSync {
    /// Subscribe now (the module may not be loaded yet: then it waits for
    /// it); the thread starts with the loop.
    pub fn new(rcvbuf: Option<usize>) -> afcluster::Result<ReflectionSync> {
        let follower = Follower::new(Goal::Reflect, rcvbuf)?;
        Ok(ReflectionSync::with(Box::new(follower)))
    }

    pub fn with(feed: Box<dyn Feed>) -> ReflectionSync {
        let family_present = feed.family_present();
        ReflectionSync {
            feed: Some(feed),
            rx: None,
            stats: ResyncStats::default(),
            family_present,
            stale_reason: Some(if family_present {
                "loading the table".into()
            } else {
                "the afcluster module is not loaded: waiting for it".into()
            }),
        }
    }

    /// The thread's work, onto the shared reflection: a swap, or events
    /// that are each a few map updates. Every batch queued is applied, and
    /// then the others hear of it once: under a storm the thread queues
    /// many while the loop works, and what the others do per message (the
    /// balancer re-evaluates its CI-LINUX servers) must not be paid per
    /// batch, or it delays every timer behind it.
    fn apply(&mut self, cx: &mut Cx, batches: Vec<Batch>) {
        let mut changes = Vec::new();
        let mut event_ns = None;
        let mut any = false;
        for batch in batches {
            any = true;
            self.stats = batch.stats;
            self.family_present = batch.family_present;
            let r = &mut cx.shared_mut().reflection;
            for item in batch.items {
                match item {
                    Item::Loaded(new) => {
                        *r = *new;
                        self.stale_reason = None;
                    }
                    Item::Events(evs) => {
                        for ev in &evs {
                            r.apply(ev);
                        }
                    }
                    Item::Stale(why) => {
                        r.mark_stale();
                        self.stale_reason = Some(why);
                    }
                }
            }
            changes.extend(batch.changes);
            event_ns = batch.event_ns.or(event_ns);
        }
        if !any {
            return;
        }
        if !changes.is_empty() {
            cx.publish(Message::NodeChanges(Rc::new(changes)));
        }
        cx.publish(Message::Reflection { event_ns });
    }
}

fn follow(mut feed: Box<dyn Feed>, tx: Sender<Batch>, wake: Wake) {
    let mut digest = Digest::default();
    let mut outputs = Vec::new();
    loop {
        let failed = feed.next(&mut outputs).err();
        if let Some(e) = &failed {
            // Its own sockets failed: nothing more will come.
            error!(
                "following the afcluster table failed: {e}; node states stay stale until a restart"
            );
            outputs.push(Output::Stale(format!("the event socket failed: {e}")));
        }
        let mut batch = Batch {
            items: Vec::new(),
            changes: Vec::new(),
            event_ns: None,
            stats: feed.stats(),
            family_present: feed.family_present(),
        };
        digest.digest(std::mem::take(&mut outputs), &mut batch);
        if tx.send(batch).is_err() {
            return; // the loop is gone
        }
        wake.wake();
        if failed.is_some() {
            return;
        }
    }
}

impl Subsystem for ReflectionSync {
    fn name(&self) -> &'static str {
        "reflection"
    }

    fn start(&mut self, cx: &mut Cx) {
        let Some(feed) = self.feed.take() else {
            return;
        };
        let (tx, rx) = mpsc::channel();
        let wake = cx.wake_handle(0);
        let spawned = thread::Builder::new()
            .name("reflection".into())
            .spawn(move || follow(feed, tx, wake));
        match spawned {
            Ok(_) => self.rx = Some(rx),
            Err(e) => error!("cannot start the reflection's thread: {e}"),
        }
        cx.shared_mut().reflection.mark_stale();
        if !self.family_present {
            // No load to wait for: the others may go on with a stale table.
            info!("the afcluster module is not loaded: waiting for it");
            cx.publish(Message::Reflection { event_ns: None });
        }
    }

    fn woken(&mut self, cx: &mut Cx, _key: u64) {
        let batches: Vec<Batch> = match &self.rx {
            Some(rx) => rx.try_iter().collect(),
            None => return,
        };
        self.apply(cx, batches);
    }

    fn status(&self, shared: &Shared, st: &mut Status) {
        let r = &shared.reflection;
        st.module_loaded = self.family_present;
        st.reflection = ReflectionStatus {
            seq: r.seq(),
            instance: r.instance(),
            local_node: r.local_node(),
            stale: r.is_stale(),
            stale_reason: r
                .is_stale()
                .then(|| self.stale_reason.clone().unwrap_or_default()),
            nodes: r.nodes().into_iter().cloned().collect(),
        };
        st.counters.reflection = self.stats.clone();
    }
}

/// A summary for systemd's status line.
pub fn summary(shared: &Shared) -> String {
    let r = &shared.reflection;
    if r.is_stale() {
        "stale: waiting for the afcluster table".to_string()
    } else {
        format!("reflecting {} nodes at seq {}", r.len(), r.seq())
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
