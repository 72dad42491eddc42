//! The notify_node script: run on every node state change, never blocking
//! the loop and never leaving zombies.
//!
//! Runs for one node happen in order, one at a time, so the script's last
//! run always saw the node's latest state; changes that arrive while a run
//! for the same node is going are merged into one pending run (old state
//! from the first, new state from the last; dropped if they cancel out).
//! Runs for different nodes go in parallel, up to `MAX_RUNNING`. Memory is
//! thus bounded by the number of nodes, whatever the event rate.
//!
//! Children are reaped on SIGCHLD; a run past its timeout is killed with
//! its whole process group.

use std::collections::{HashMap, VecDeque};
use std::process::Child;
use std::time::{Duration, Instant};

use afcluster::config::Script;
use afcluster::control::Counters;
use log::{debug, warn};
use std::os::unix::process::ExitStatusExt;

use crate::scripts::command;
use crate::sync::{new_state_name, state_name, StateChange};

const MAX_RUNNING: usize = 16;

struct Running {
    child: Child,
    change: StateChange,
    deadline: Instant,
    killed: bool,
}

pub struct NotifyHook {
    script: Option<Script>,
    timeout: Duration,
    /// Node ids in the order their pending change arrived.
    order: VecDeque<u32>,
    pending: HashMap<u32, StateChange>,
    running: HashMap<u32, Running>,
}

impl NotifyHook {
    pub fn new(script: Option<Script>, timeout: Duration) -> NotifyHook {
        NotifyHook {
            script,
            timeout,
            order: VecDeque::new(),
            pending: HashMap::new(),
            running: HashMap::new(),
        }
    }

    /// A new configuration: runs already going finish; pending ones use
    /// the new script.
    pub fn configure(&mut self, script: Option<Script>, timeout: Duration) {
        if script.is_none() {
            self.order.clear();
            self.pending.clear();
        }
        self.script = script;
        self.timeout = timeout;
    }

    pub fn push(&mut self, c: StateChange, counters: &mut Counters) {
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
        self.start(counters);
    }

    /// Start what can start: pending changes of nodes with no run going.
    fn start(&mut self, counters: &mut Counters) {
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
            self.spawn(c, counters);
        }
        // Keep arrival order: the skipped ones go back in front.
        while let Some(n) = waiting.pop_back() {
            self.order.push_front(n);
        }
    }

    fn spawn(&mut self, c: StateChange, counters: &mut Counters) {
        let Some(script) = &self.script else {
            return;
        };
        counters.notify_runs += 1;
        let mut cmd = command(script);
        cmd.arg(c.node.to_string())
            .arg(state_name(c.old))
            .arg(new_state_name(c.new))
            .arg(c.seq.to_string());
        match cmd.spawn() {
            Ok(child) => {
                debug!(
                    "notify_node: node {} {} -> {} (seq {}): pid {}",
                    c.node,
                    state_name(c.old),
                    new_state_name(c.new),
                    c.seq,
                    child.id()
                );
                self.running.insert(
                    c.node,
                    Running {
                        child,
                        change: c,
                        deadline: Instant::now() + self.timeout,
                        killed: false,
                    },
                );
            }
            Err(e) => {
                counters.notify_failures += 1;
                warn!(
                    "notify_node ({}): cannot run {}: {e}",
                    script.loc, script.argv[0]
                );
            }
        }
    }

    /// SIGCHLD: collect every finished run, then start waiting ones.
    pub fn reap(&mut self, counters: &mut Counters) {
        let mut done = Vec::new();
        for (node, r) in self.running.iter_mut() {
            match r.child.try_wait() {
                Ok(Some(status)) => {
                    done.push(*node);
                    if r.killed {
                        continue; // counted as a timeout
                    }
                    if !status.success() {
                        counters.notify_failures += 1;
                        let how = match (status.code(), status.signal()) {
                            (Some(code), _) => format!("exit status {code}"),
                            (None, Some(sig)) => format!("signal {sig}"),
                            _ => status.to_string(),
                        };
                        warn!(
                            "notify_node for node {} ({} -> {}, seq {}) failed: {how}",
                            node,
                            state_name(r.change.old),
                            new_state_name(r.change.new),
                            r.change.seq
                        );
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    // Cannot happen for our own child; do not keep it forever.
                    warn!("notify_node: waiting for pid {}: {e}", r.child.id());
                    done.push(*node);
                }
            }
        }
        for node in done {
            self.running.remove(&node);
        }
        self.start(counters);
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.running
            .values()
            .filter(|r| !r.killed)
            .map(|r| r.deadline)
            .min()
    }

    /// Kill runs past their deadline (reaped on the SIGCHLD that follows).
    pub fn on_timer(&mut self, now: Instant, counters: &mut Counters) {
        for r in self.running.values_mut() {
            if r.killed || r.deadline > now {
                continue;
            }
            r.killed = true;
            counters.notify_timeouts += 1;
            counters.notify_failures += 1;
            warn!(
                "notify_node for node {} (seq {}) still running after {:?}: killing it",
                r.change.node, r.change.seq, self.timeout
            );
            if let Ok(pgid) = i32::try_from(r.child.id()) {
                // SAFETY: plain syscall on a process group we created.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
            }
        }
    }

    pub fn running(&self) -> usize {
        self.running.len()
    }
}
