//! vrrp_scripts: each tracked one runs every `interval` on the loop's
//! child supervisor, killed at its timeout (a failure), and its rise/fall
//! health (`afcluster::vrrp::script`) is what the instances tracking it
//! see. A run never waits on anything: the advert timers go on while it
//! runs. Unlike keepalived 2.2.7, which logs "skipping run" for a script
//! still running and then runs it again anyway, a run still going is
//! left alone and the next one skipped.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use afcluster::config::VrrpScript;
use afcluster::vrrp::script::{Health, ScriptHealth};
use log::{info, warn};

use crate::core::{Cx, Exit, TimerId};
use crate::scripts::command_as;

/// Timer keys of the scripts: this plus the script's index.
pub const TIMER_KEY: u64 = 1 << 41;
/// Child keys of the scripts' runs: this plus the script's index.
pub const RUN_KEY: u64 = 1 << 62;

struct Tracked {
    cfg: VrrpScript,
    health: ScriptHealth,
    timer: TimerId,
    pid: Option<u32>,
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
        let mut kept: HashMap<String, ScriptHealth> = HashMap::new();
        if let Some(mut e) = earlier {
            for t in e.scripts.drain(..) {
                cx.remove_timer(t.timer);
                if let Some(pid) = t.pid {
                    cx.kill(pid);
                }
                if defs.iter().any(|d| same_script(d, &t.cfg)) {
                    kept.insert(t.cfg.name.clone(), t.health);
                }
            }
        }
        let mut out = TrackScripts::default();
        let now = Instant::now();
        for d in defs.iter().filter(|d| used(&d.name)) {
            let i = out.scripts.len() as u64;
            let timer = cx.timer(TIMER_KEY + i);
            cx.arm(timer, now);
            let health = kept
                .remove(&d.name)
                .unwrap_or_else(|| ScriptHealth::new(d.rise, d.fall, d.init_fail));
            out.health.insert(d.name.clone(), health.health());
            out.scripts.push(Tracked {
                cfg: d.clone(),
                health,
                timer,
                pid: None,
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
            info!(
                "VRRP script {} is still running: this run is skipped",
                t.cfg.name
            );
            return;
        }
        let timeout = timeout_of(&t.cfg);
        let spawned = command_as(&t.cfg.script, t.cfg.user.as_ref()).and_then(|mut cmd| {
            cx.spawn(&mut cmd, timeout, RUN_KEY + i as u64)
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
    pub fn exited(&mut self, i: usize, exit: &Exit) -> bool {
        let Some(t) = self.scripts.get_mut(i) else {
            return false;
        };
        if t.pid != Some(exit.pid) {
            return false;
        }
        t.pid = None;
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

/// The same script but for where it was written.
fn same_script(a: &VrrpScript, b: &VrrpScript) -> bool {
    let mut b = b.clone();
    b.loc = a.loc.clone();
    b.script.loc = a.script.loc.clone();
    *a == b
}

/// How long a run may take: `timeout`, or else the interval.
fn timeout_of(s: &VrrpScript) -> Duration {
    if s.timeout.is_zero() {
        s.interval
    } else {
        s.timeout
    }
}
