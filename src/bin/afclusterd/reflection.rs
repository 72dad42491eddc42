//! The reflection: the library's follower runs in a thread of its own
//! (its requests are synchronous: a 4096-node dump takes tens of
//! milliseconds, longer than any other subsystem's timer may wait) and
//! hands what it learned to the loop, which applies it to
//! `Shared::reflection` and tells the other subsystems.

use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use afcluster::control::{ReflectionStatus, Status};
use afcluster::{Applied, Follower, Goal, NodeState, Output, Reflection, ResyncStats};
use log::{debug, error, info, warn};

use crate::core::{Cx, Message, Shared, StateChange, Subsystem, Wake};

/// What the thread sends: outputs in order, and the counters after them.
struct Batch {
    outputs: Vec<Output>,
    stats: ResyncStats,
    family_present: bool,
}

pub struct ReflectionSync {
    follower: Option<Follower>,
    rx: Option<Receiver<Batch>>,
    stats: ResyncStats,
    family_present: bool,
    stale_reason: Option<String>,
    loaded_once: bool,
}

impl ReflectionSync {
    /// Subscribe now (the module may not be loaded yet: then it waits for
    /// it); the thread starts with the loop.
    pub fn new(rcvbuf: Option<usize>) -> afcluster::Result<ReflectionSync> {
        let follower = Follower::new(Goal::Reflect, rcvbuf)?;
        let family_present = follower.family_present();
        Ok(ReflectionSync {
            follower: Some(follower),
            rx: None,
            stats: ResyncStats::default(),
            family_present,
            stale_reason: Some(if family_present {
                "loading the table".into()
            } else {
                "the afcluster module is not loaded: waiting for it".into()
            }),
            loaded_once: false,
        })
    }

    fn apply(&mut self, cx: &mut Cx, batch: Batch) {
        self.stats = batch.stats;
        self.family_present = batch.family_present;
        let mut changes = Vec::new();
        let mut event_ns = None;
        let r = &mut cx.shared_mut().reflection;
        for o in batch.outputs {
            match o {
                Output::Snapshot(s) => {
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
                        diff(&before, r, seq, &mut changes);
                    }
                    self.loaded_once = true;
                    self.stale_reason = None;
                    info!(
                        "reflecting {} nodes at seq {} of table instance {}, local node {}",
                        r.len(),
                        r.seq(),
                        r.instance(),
                        local_name(r.local_node())
                    );
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
                    event_ns = Some(ev.timestamp_ns);
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
                            local_name(r.local_node()),
                            local_name(old_local)
                        ),
                    }
                }
                Output::Stale(why) => {
                    if !r.is_stale() {
                        warn!("node states are stale (last seq {}): {why}", r.seq());
                    }
                    r.mark_stale();
                    self.stale_reason = Some(why);
                }
                // Only streams restart or break.
                Output::Restarted { .. } | Output::Broken(_) => {}
            }
        }
        if !changes.is_empty() {
            cx.publish(Message::NodeChanges(Rc::new(changes)));
        }
        cx.publish(Message::Reflection { event_ns });
    }
}

fn follow(mut f: Follower, tx: Sender<Batch>, wake: Wake) {
    let mut outputs = Vec::new();
    loop {
        if let Err(e) = f.next(&mut outputs) {
            // Its own sockets failed: nothing more will come.
            error!(
                "following the afcluster table failed: {e}; node states stay stale until a restart"
            );
            outputs.push(Output::Stale(format!("the event socket failed: {e}")));
        }
        let batch = Batch {
            outputs: std::mem::take(&mut outputs),
            stats: f.stats().clone(),
            family_present: f.family_present(),
        };
        let failed = matches!(batch.outputs.last(), Some(Output::Stale(w)) if w.starts_with("the event socket failed"));
        if tx.send(batch).is_err() {
            return; // the loop is gone
        }
        wake.wake();
        if failed {
            return;
        }
    }
}

impl Subsystem for ReflectionSync {
    fn name(&self) -> &'static str {
        "reflection"
    }

    fn start(&mut self, cx: &mut Cx) {
        let Some(f) = self.follower.take() else {
            return;
        };
        let (tx, rx) = mpsc::channel();
        let wake = cx.wake_handle(0);
        let spawned = thread::Builder::new()
            .name("reflection".into())
            .spawn(move || follow(f, tx, wake));
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
        for b in batches {
            self.apply(cx, b);
        }
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
        let s = &self.stats;
        let c = &mut st.counters;
        c.events = s.events + s.replayed_events;
        c.events_old = s.events_old;
        c.losses = s.losses;
        c.gaps = s.gaps;
        c.malformed = s.malformed;
        c.replays = s.replays;
        c.replayed_events = s.replayed_events;
        c.resyncs = s.resyncs;
        c.replacements = s.replacements;
        c.module_unloads = s.module_unloads;
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
