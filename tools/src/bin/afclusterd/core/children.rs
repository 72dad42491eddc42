//! One child supervisor for every command the daemon runs (MISC_CHECK,
//! notify and quorum scripts, notify_node; track scripts next): spawn
//! without waiting, reap on SIGCHLD, kill the whole process group when a
//! run outlives its timeout (the timeout is a timer of the shared queue).

use std::collections::HashMap;
use std::io;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use log::warn;
use rustix::process::{kill_process_group, Pid, Signal};

use super::timers::{TimerId, Timers};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    pub pid: u32,
    pub status: ExitStatus,
    /// Killed for running past its timeout.
    pub timed_out: bool,
    pub ran_for: Duration,
}

struct Running<K> {
    child: Child,
    owner: K,
    timer: TimerId,
    started: Instant,
    timed_out: bool,
}

pub struct Children<K> {
    running: HashMap<u32, Running<K>>,
}

impl<K: Copy> Default for Children<K> {
    fn default() -> Self {
        Children {
            running: HashMap::new(),
        }
    }
}

impl<K: Copy> Children<K> {
    /// Start `cmd` (made by `scripts::command`: a process group of its
    /// own); `timer_key(pid)` is what its timeout timer fires with.
    pub fn spawn<T: Copy>(
        &mut self,
        timers: &mut Timers<T>,
        cmd: &mut Command,
        timeout: Duration,
        owner: K,
        timer_key: impl FnOnce(u32) -> T,
    ) -> io::Result<u32> {
        let child = cmd.spawn()?;
        let pid = child.id();
        let now = Instant::now();
        let timer = timers.add(timer_key(pid));
        timers.arm(timer, now + timeout);
        self.running.insert(
            pid,
            Running {
                child,
                owner,
                timer,
                started: now,
                timed_out: false,
            },
        );
        Ok(pid)
    }

    /// The run's timeout passed: kill its process group; it is reaped,
    /// as timed out, on the SIGCHLD that follows.
    pub fn timed_out(&mut self, pid: u32) {
        if let Some(r) = self.running.get_mut(&pid) {
            r.timed_out = true;
            kill_group(pid);
        }
    }

    /// Kill a run (its owner no longer wants it); reaped as any other.
    pub fn kill(&mut self, pid: u32) {
        if self.running.contains_key(&pid) {
            kill_group(pid);
        }
    }

    /// SIGCHLD: every run that ended, with its owner.
    pub fn reap<T: Copy>(&mut self, timers: &mut Timers<T>, out: &mut Vec<(K, Exit)>) {
        let mut done = Vec::new();
        for (&pid, r) in self.running.iter_mut() {
            match r.child.try_wait() {
                Ok(Some(status)) => done.push((pid, status)),
                Ok(None) => {}
                Err(e) => warn!("waiting for pid {pid}: {e}"),
            }
        }
        for (pid, status) in done {
            if let Some(r) = self.running.remove(&pid) {
                timers.remove(r.timer);
                out.push((
                    r.owner,
                    Exit {
                        pid,
                        status,
                        timed_out: r.timed_out,
                        ran_for: r.started.elapsed(),
                    },
                ));
            }
        }
    }
}

fn kill_group(pid: u32) {
    let Some(pgid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return;
    };
    // ESRCH: it ended meanwhile, and is reaped as usual.
    let _ = kill_process_group(pgid, Signal::KILL);
}
