//! The notify_node script: run on every node state change, never blocking
//! the loop and never leaving zombies.
//!
//! Runs for one node happen in order, one at a time, so the script's last
//! run always saw the node's latest state; changes that arrive while a run
//! for the same node is going are merged into one pending run (old state
//! from the first, new state from the last; dropped if they cancel out).
//! Runs for different nodes go in parallel, up to `MAX_RUNNING`. Memory is
//! thus bounded by the number of nodes, whatever the event rate.

use std::collections::{HashMap, VecDeque};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use afcluster::config::Script;
use afcluster::control::Status;
use log::{debug, warn};

use crate::core::{Cx, Exit, Message, Shared, StateChange, Subsystem};
use crate::reflection::{new_state_name, state_name};
use crate::scripts::command;

const MAX_RUNNING: usize = 16;

#[derive(Default, Clone, Copy)]
struct Counts {
    runs: u64,
    failures: u64,
    timeouts: u64,
}

pub struct NotifyHook {
    script: Option<Script>,
    timeout: Duration,
    /// Node ids in the order their pending change arrived.
    order: VecDeque<u32>,
    pending: HashMap<u32, StateChange>,
    /// The change each node's run is for.
    running: HashMap<u32, StateChange>,
    counts: Counts,
}

impl NotifyHook {
    pub fn new(script: Option<Script>, timeout: Duration) -> NotifyHook {
        NotifyHook {
            script,
            timeout,
            order: VecDeque::new(),
            pending: HashMap::new(),
            running: HashMap::new(),
            counts: Counts::default(),
        }
    }

    /// A new configuration: runs already going finish; pending ones use
    /// the new script.
    fn configure(&mut self, script: Option<Script>, timeout: Duration) {
        if script.is_none() {
            self.order.clear();
            self.pending.clear();
        }
        self.script = script;
        self.timeout = timeout;
    }

    fn push(&mut self, c: StateChange) {
        if self.script.is_none() {
            return;
        }
        match self.pending.get_mut(&c.node) {
            Some(p) => {
                p.new = c.new;
                p.seq = c.seq;
            }
            None => {
                self.pending.insert(c.node, c);
                self.order.push_back(c.node);
            }
        }
    }

    /// Start what can start: pending changes of nodes with no run going.
    fn start_runs(&mut self, cx: &mut Cx) {
        let mut waiting = VecDeque::new();
        while self.running.len() < MAX_RUNNING {
            let Some(node) = self.order.pop_front() else {
                break;
            };
            if self.running.contains_key(&node) {
                waiting.push_back(node);
                continue;
            }
            let Some(c) = self.pending.remove(&node) else {
                continue;
            };
            if c.old == c.new {
                debug!(
                    "notify_node: node {node} is back to {}: nothing to run",
                    state_name(c.new)
                );
                continue;
            }
            self.spawn(cx, c);
        }
        // Keep arrival order: the skipped ones go back in front.
        while let Some(n) = waiting.pop_back() {
            self.order.push_front(n);
        }
    }

    fn spawn(&mut self, cx: &mut Cx, c: StateChange) {
        let Some(script) = &self.script else {
            return;
        };
        self.counts.runs += 1;
        let mut cmd = command(script);
        cmd.arg(c.node.to_string())
            .arg(state_name(c.old))
            .arg(new_state_name(c.new))
            .arg(c.seq.to_string());
        match cx.spawn(&mut cmd, self.timeout, u64::from(c.node)) {
            Ok(pid) => {
                debug!(
                    "notify_node: node {} {} -> {} (seq {}): pid {pid}",
                    c.node,
                    state_name(c.old),
                    new_state_name(c.new),
                    c.seq,
                );
                self.running.insert(c.node, c);
            }
            Err(e) => {
                self.counts.failures += 1;
                warn!(
                    "notify_node ({}): cannot run {}: {e}",
                    script.loc, script.argv[0]
                );
            }
        }
    }
}

impl Subsystem for NotifyHook {
    fn name(&self) -> &'static str {
        "notify_node"
    }

    fn message(&mut self, cx: &mut Cx, msg: &Message) {
        match msg {
            Message::NodeChanges(changes) => {
                // One at a time, as they happened: a change merges only
                // into a run that is waiting behind one going.
                for c in changes.iter() {
                    self.push(*c);
                    self.start_runs(cx);
                }
            }
            Message::Reload(config) => {
                let g = &config.global;
                self.configure(g.notify_node.clone(), g.notify_node_timeout);
            }
            _ => {}
        }
    }

    fn exited(&mut self, cx: &mut Cx, key: u64, exit: &Exit) {
        let Some(change) = u32::try_from(key)
            .ok()
            .and_then(|n| self.running.remove(&n))
        else {
            return;
        };
        if exit.timed_out {
            self.counts.timeouts += 1;
            self.counts.failures += 1;
            warn!(
                "notify_node for node {} (seq {}) still running after {:?}: killed it",
                change.node, change.seq, self.timeout
            );
        } else if !exit.status.success() {
            self.counts.failures += 1;
            let how = match (exit.status.code(), exit.status.signal()) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(sig)) => format!("signal {sig}"),
                _ => exit.status.to_string(),
            };
            warn!(
                "notify_node for node {} ({} -> {}, seq {}) failed: {how}",
                change.node,
                state_name(change.old),
                new_state_name(change.new),
                change.seq
            );
        }
        self.start_runs(cx);
    }

    fn status(&self, _shared: &Shared, st: &mut Status) {
        st.counters.notify_runs = self.counts.runs;
        st.counters.notify_failures = self.counts.failures;
        st.counters.notify_timeouts = self.counts.timeouts;
    }

    fn stop(&mut self, _cx: &mut Cx) {
        if !self.running.is_empty() {
            log::info!(
                "{} notify_node run(s) still going are left to finish on their own",
                self.running.len()
            );
        }
    }
}
