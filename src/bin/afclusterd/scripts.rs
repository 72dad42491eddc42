//! keepalived's notify_up / notify_down / quorum_up / quorum_down: run a
//! command as configured, never waiting for it, reaped on SIGCHLD and
//! killed with its process group if it outlives `TIMEOUT`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use afcluster::config::Script;
use log::{debug, warn};
use std::os::unix::process::CommandExt;

const TIMEOUT: Duration = Duration::from_secs(60);

/// How every command the daemon runs is started: no stdin or stdout, none
/// of systemd's variables meant for the daemon, and a process group of its
/// own so that a timeout kills what it started too.
pub fn command(script: &Script) -> Command {
    let mut cmd = Command::new(&script.argv[0]);
    cmd.args(&script.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .process_group(0);
    cmd
}

#[derive(Default)]
pub struct Scripts {
    running: Vec<(Child, Instant, String)>,
}

impl Scripts {
    pub fn run(&mut self, script: &Script, why: &str) {
        match command(script).spawn() {
            Ok(child) => {
                debug!("{why}: running {} (pid {})", script.argv[0], child.id());
                self.running
                    .push((child, Instant::now() + TIMEOUT, why.to_string()));
            }
            Err(e) => warn!("{why} ({}): cannot run {}: {e}", script.loc, script.argv[0]),
        }
    }

    /// SIGCHLD.
    pub fn reap(&mut self) {
        self.running
            .retain_mut(|(child, _, why)| match child.try_wait() {
                Ok(Some(status)) => {
                    if !status.success() {
                        warn!("{why}: script failed: {status}");
                    }
                    false
                }
                Ok(None) => true,
                Err(_) => false,
            });
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.running.iter().map(|r| r.1).min()
    }

    pub fn on_timer(&mut self, now: Instant) {
        for (child, deadline, why) in &mut self.running {
            if *deadline <= now {
                warn!("{why}: script still running after {TIMEOUT:?}: killing it");
                if let Ok(pgid) = i32::try_from(child.id()) {
                    // SAFETY: plain syscall on a process group we made.
                    unsafe { libc::kill(-pgid, libc::SIGKILL) };
                }
                // Reaped on the SIGCHLD that follows; no second kill.
                *deadline = now + TIMEOUT;
            }
        }
    }
}
