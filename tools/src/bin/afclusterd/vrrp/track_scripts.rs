//! vrrp_scripts: each tracked one runs every `interval` on the loop's
//! child supervisor, killed at its timeout (a failure), and its rise/fall
//! health (`afcluster::vrrp::script`) is what the instances tracking it
//! see. A run never waits on anything: the advert timers go on while it
//! runs, and the user it runs as is looked up once, not per run. Unlike
//! keepalived 2.2.7, which logs "skipping run" for a script still running
//! and then runs it again anyway, a run still going is left alone; the
//! run it held back starts as soon as it ends.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use afcluster::config::VrrpScript;
use afcluster::vrrp::script::{Health, ScriptHealth};
use log::{info, warn};

use crate::core::{Cx, Exit, TimerId};
use crate::scripts::{command, user_ids};

/// Timer keys of the scripts: this plus the script's index.
pub const TIMER_KEY: u64 = 1 << 41;
/// Child keys of the scripts' runs: this plus the script's index.
pub const RUN_KEY: u64 = 1 << 62;

struct Tracked {
    cfg: VrrpScript,
    health: ScriptHealth,
    timer: TimerId,
    /// The uid and gid of `user`, looked up at start (an error: it cannot
    /// run, which is a failure).
    ids: Option<Result<(u32, u32), String>>,
    pid: Option<u32>,
    /// An interval came while it was still running.
    owed: bool,
    /// The last exit code, to log when it changes (keepalived's "now
    /// returning N").
    last_code: Option<i32>,
    skipped: u64,
}

#[derive(Default)]
pub struct TrackScripts {
    scripts: Vec<Tracked>,
    /// By name, as the instances read it.
    pub health: HashMap<String, Health>,
}

impl TrackScripts {
    /// Run the scripts `used` names (keepalived drops the others), each
    /// at once and then every interval. `earlier`: the set being replaced
    /// on a reload, whose unchanged scripts keep their health.
    pub fn start(
        cx: &mut Cx,
        defs: &[VrrpScript],
        used: impl Fn(&str) -> bool,
        earlier: Option<TrackScripts>,
    ) -> TrackScripts {
        // keepalived's clear_diff_script: a script of the same name keeps
        // its health across a reload, whatever else changed.
        let mut kept: HashMap<String, ScriptHealth> = HashMap::new();
        if let Some(mut e) = earlier {
            for t in e.scripts.drain(..) {
                cx.remove_timer(t.timer);
                if let Some(pid) = t.pid {
                    cx.kill(pid);
                }
                kept.insert(t.cfg.name.clone(), t.health);
            }
        }
        let mut out = TrackScripts::default();
        let now = Instant::now();
        for d in defs.iter().filter(|d| used(&d.name)) {
            let i = out.scripts.len() as u64;
            let timer = cx.timer(TIMER_KEY + i);
            cx.arm(timer, now);
            let health = match kept.remove(&d.name) {
                Some(h) => {
                    let h = h.carried(d.rise, d.fall);
                    info!("VRRP script {}: {} on reload", d.name, h.health());
                    h
                }
                None => ScriptHealth::new(d.rise, d.fall, d.init_fail),
            };
            let ids = d.user.as_ref().map(user_ids);
            if let Some(Err(e)) = &ids {
                warn!(
                    "VRRP script {} ({}): {e}: it cannot run, and counts as failing",
                    d.name, d.loc
                );
            }
            out.health.insert(d.name.clone(), health.health());
            out.scripts.push(Tracked {
                cfg: d.clone(),
                health,
                timer,
                ids,
                pid: None,
                owed: false,
                last_code: None,
                skipped: 0,
            });
        }
        out
    }

    /// Script `i`'s interval came round: run it, and come back after the
    /// next interval.
    pub fn timer(&mut self, cx: &mut Cx, i: usize) {
        let Some(t) = self.scripts.get_mut(i) else {
            return;
        };
        cx.arm_in(t.timer, t.cfg.interval);
        if t.pid.is_some() {
            t.skipped += 1;
            t.owed = true;
            info!(
                "VRRP script {} is still running: the next run waits for it",
                t.cfg.name
            );
            return;
        }
        let timeout = timeout_of(&t.cfg);
        let mut cmd = command(&t.cfg.script);
        let spawned = match &t.ids {
            Some(Err(e)) => Err(e.clone()),
            Some(Ok((uid, gid))) => Ok(cmd.uid(*uid).gid(*gid)),
            None => Ok(&mut cmd),
        }
        .and_then(|cmd| {
            cx.spawn(cmd, timeout, RUN_KEY + i as u64)
                .map_err(|e| e.to_string())
        });
        match spawned {
            Ok(pid) => t.pid = Some(pid),
            Err(e) => {
                warn!(
                    "VRRP script {}: cannot run {} ({}): {e}",
                    t.cfg.name, t.cfg.script.argv[0], t.cfg.script.loc
                );
                // A script that cannot run has failed.
                record(t, &mut self.health, false, "could not be run");
            }
        }
    }

    /// A run of script `i` ended. True when its health changed.
    pub fn exited(&mut self, cx: &mut Cx, i: usize, exit: &Exit) -> bool {
        let Some(t) = self.scripts.get_mut(i) else {
            return false;
        };
        if t.pid != Some(exit.pid) {
            return false;
        }
        t.pid = None;
        if std::mem::take(&mut t.owed) {
            // The run held back goes now, and the interval from it.
            cx.arm(t.timer, Instant::now());
        }
        let code = exit.status.code();
        if code != t.last_code {
            if let Some(c) = code {
                info!("VRRP script {} now returning {c}", t.cfg.name);
            }
            t.last_code = code;
        }
        let why = if exit.timed_out {
            format!("timed out after {:?}", exit.ran_for)
        } else {
            format!("{}", exit.status)
        };
        record(
            t,
            &mut self.health,
            exit.status.success() && !exit.timed_out,
            &why,
        )
    }

    /// Stop running: timers gone, runs killed (their exits are ignored).
    pub fn stop(&mut self, cx: &mut Cx) {
        for t in self.scripts.drain(..) {
            cx.remove_timer(t.timer);
            if let Some(pid) = t.pid {
                cx.kill(pid);
            }
        }
        self.health.clear();
    }

    /// For status: each script's health, and its runs skipped while the
    /// previous one was still going.
    pub fn summary(&self) -> Vec<(String, Health, u64)> {
        self.scripts
            .iter()
            .map(|t| (t.cfg.name.clone(), t.health.health(), t.skipped))
            .collect()
    }
}

fn record(t: &mut Tracked, by_name: &mut HashMap<String, Health>, ok: bool, why: &str) -> bool {
    let Some(h) = t.health.record(ok) else {
        return false;
    };
    match h {
        Health::Good => info!("VRRP script {} succeeded: good", t.cfg.name),
        Health::Failed => info!("VRRP script {} failed ({why})", t.cfg.name),
        Health::Unknown => {}
    }
    by_name.insert(t.cfg.name.clone(), h);
    true
}

/// How long a run may take: `timeout`, or else the interval.
fn timeout_of(s: &VrrpScript) -> Duration {
    if s.timeout.is_zero() {
        s.interval
    } else {
        s.timeout
    }
}
