//! The daemon's IPVS side: the balancer (`Shared::balancer`) fed by the
//! CI-LINUX checker, read from the reflection when it changes (no polling),
//! by FILE_CHECK, read from its files when inotify says (`file_checks`),
//! and by the other checkers' verdicts; keepalived's notify and quorum
//! scripts; and what IPVS should hold, handed to the IPVS thread.
//!
//! Missing ip_vs or CAP_NET_ADMIN is reported once and the daemon carries
//! on with its reflection; the next reload tries again.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use afcluster::balancer::{Balancer, RsId, Transition};
use afcluster::config::{Checker, Config, Script};
use afcluster::control::{CheckerStatus, IpvsStatus, RsStatus, Status, VsStatus};
use afcluster::ipvs::{Ipvs, IpvsError, ServiceKey};
use afcluster::{NodeState, Reflection};
use log::{error, info, warn};

use crate::core::{Cx, Exit, Latency, Message, Shared, Subsystem, Verdict, Wake};
use crate::file_checks::{self, FileChecks};
use crate::ipvs_worker::{self, Backend, Cause, Job, Report, Worker};
use crate::scripts::command;

/// notify_up/down and quorum_up/down are killed past this.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

type StartWorker = Box<dyn FnOnce(Receiver<Job>, Sender<Report>, Wake) + Send>;

pub struct Lvs {
    /// Starts the IPVS thread (a scripted backend in tests).
    start_worker: Option<StartWorker>,
    jobs: Option<Sender<Job>>,
    reports: Option<Receiver<Report>>,
    thread: Option<JoinHandle<()>>,
    cleanup_on_stop: bool,
    ipvs: IpvsStatus,
    node_reaction: Latency,
    check_reaction: Latency,
    /// Scripts running, by key: what they are for.
    scripts: HashMap<u64, String>,
    next_script: u64,
    files: FileChecks,
}

impl Lvs {
    pub fn new(config: &Config) -> Lvs {
        Lvs::with_backend(config, Ipvs::connect)
    }

    /// With IPVS reached through `connect`.
    pub fn with_backend<B: Backend + 'static>(
        config: &Config,
        connect: impl FnMut() -> Result<B, IpvsError> + Send + 'static,
    ) -> Lvs {
        let start: StartWorker = Box::new(move |jobs, reports, wake| {
            ipvs_worker::run(Worker::new(Box::new(connect)), jobs, reports, wake)
        });
        Lvs {
            start_worker: Some(start),
            jobs: None,
            reports: None,
            thread: None,
            cleanup_on_stop: config.global.ipvs_cleanup_on_stop,
            ipvs: IpvsStatus::default(),
            node_reaction: Latency::default(),
            check_reaction: Latency::default(),
            scripts: HashMap::new(),
            next_script: 0,
            files: FileChecks::default(),
        }
    }

    /// What an event-driven checker (CI-LINUX, FILE_CHECK) last saw; the
    /// checkers run by the loop report their own (checks.rs).
    fn event_driven(&self, shared: &Shared, c: &Checker, addr: std::net::IpAddr) -> Option<String> {
        match c {
            Checker::CiLinux(ci) => {
                let r = &shared.reflection;
                let node = match ci.node {
                    Some(id) => r.node(id),
                    None => r.node_by_addr(addr),
                };
                let stale = if r.is_stale() {
                    " (reflection stale)"
                } else {
                    ""
                };
                Some(match node {
                    Some(n) if n.name.is_empty() => {
                        format!("node {} {}{stale}", n.id, n.state.name())
                    }
                    Some(n) => format!("node {} ({}) {}{stale}", n.id, n.name, n.state.name()),
                    None => format!("no such node in the table{stale}"),
                })
            }
            Checker::File(f) => Some(match self.files.value(&f.file) {
                Some(v) => format!("holds {v}"),
                None => "not watched".to_string(),
            }),
            _ => None,
        }
    }

    fn send(&mut self, job: Job) {
        if let Some(tx) = &self.jobs {
            if tx.send(job).is_err() {
                error!("the IPVS thread is gone: IPVS is no longer updated");
                self.jobs = None;
            }
        }
    }

    /// Hand the whole desired table to the IPVS thread.
    fn want(&mut self, cx: &Cx, remove: Vec<ServiceKey>, cause: Cause) {
        let b = &cx.shared().balancer;
        if b.config().is_empty() && remove.is_empty() {
            return;
        }
        let desired = b.desired();
        self.send(Job::Want {
            desired,
            remove,
            cause,
        });
    }

    fn run_script(&mut self, cx: &mut Cx, script: &Script, why: String) {
        match cx.spawn(&mut command(script), SCRIPT_TIMEOUT, self.next_script) {
            Ok(_) => {
                self.scripts.insert(self.next_script, why);
                self.next_script += 1;
            }
            Err(e) => warn!("{why} ({}): cannot run {}: {e}", script.loc, script.argv[0]),
        }
    }

    /// Log transitions and run their scripts.
    fn transitions(&mut self, cx: &mut Cx, ts: &[Transition]) {
        for (script, why) in scripts_of(&cx.shared().balancer, ts) {
            self.run_script(cx, &script, why);
        }
    }

    fn on_report(&mut self, r: Report) {
        if let Some(e) = &r.unusable {
            error!(
                "IPVS unavailable: {e}; node states are still reflected, but IPVS is not \
                 updated until a reload (SIGHUP) finds it usable"
            );
        }
        for d in &r.node_reactions {
            self.node_reaction.record(*d);
        }
        for d in &r.check_reactions {
            self.check_reaction.record(*d);
        }
        self.ipvs = IpvsStatus {
            reaction_node_event: self.node_reaction.summary(),
            reaction_check: self.check_reaction.summary(),
            ..r.status
        };
    }
}

/// Log each transition; the scripts it runs, with what they are for.
fn scripts_of(b: &Balancer, ts: &[Transition]) -> Vec<(Script, String)> {
    let cfg = b.config();
    let mut out = Vec::new();
    for t in ts {
        match *t {
            Transition::RealServer { id, alive } => {
                let rs = &cfg[id.vs].real_servers[id.rs];
                let script = if alive {
                    &rs.notify_up
                } else {
                    &rs.notify_down
                };
                info!(
                    "virtual server {}: real server {} {}",
                    b.label(id.vs),
                    rs.addr,
                    if alive { "up" } else { "down" }
                );
                if let Some(s) = script {
                    let why = if alive { "notify_up" } else { "notify_down" };
                    out.push((s.clone(), format!("{why} {}", rs.addr)));
                }
            }
            Transition::Draining { id, on } => {
                let rs = &cfg[id.vs].real_servers[id.rs];
                info!(
                    "virtual server {}: real server {} {}",
                    b.label(id.vs),
                    rs.addr,
                    if on {
                        "draining at weight 0: its node is shutting down"
                    } else {
                        "no longer draining"
                    }
                );
            }
            Transition::Quorum { vs, up } => {
                let v = &cfg[vs];
                let script = if up { &v.quorum_up } else { &v.quorum_down };
                warn!(
                    "virtual server {}: quorum {}",
                    b.label(vs),
                    if up { "gained" } else { "lost" }
                );
                if let Some(s) = script {
                    let why = if up { "quorum_up" } else { "quorum_down" };
                    out.push((s.clone(), format!("{why} {}", v.address)));
                }
            }
        }
    }
    out
}

/// CI-LINUX: a real server passes while its node is up, and drains while
/// it is `shutdown` (stopping on purpose: weight 0 until it is down). A
/// stale reflection changes nothing (a module reload must not flap servers).
fn ci_linux(b: &mut Balancer, reflection: &Reflection) -> Vec<Transition> {
    let mut out = Vec::new();
    if reflection.is_stale() {
        return out;
    }
    let mut verdicts = Vec::new();
    for (vi, vs) in b.config().iter().enumerate() {
        for (ri, rs) in vs.real_servers.iter().enumerate() {
            for (ci, c) in rs.checkers.iter().enumerate() {
                let Checker::CiLinux(ci_linux) = c else {
                    continue;
                };
                let node = match ci_linux.node {
                    Some(id) => reflection.node(id),
                    None => reflection.node_by_addr(rs.addr),
                };
                let state = node.map(|n| n.state);
                verdicts.push((RsId { vs: vi, rs: ri }, ci, state));
            }
        }
    }
    for (id, checker, state) in verdicts {
        out.extend(match state {
            Some(NodeState::Shutdown) => b.drain(id, checker),
            s => b.report(id, checker, s == Some(NodeState::Up)),
        });
    }
    out
}

/// Verdicts of the configuration in force; those made under an earlier
/// one (a reload came between) are void: their ids index another list.
/// Returns the transitions, whether a weight moved, and the servers whose
/// first check failed while they were already down (alpha: keepalived
/// runs notify_down for them all the same).
pub fn apply_verdicts(
    b: &mut Balancer,
    generation: u64,
    vs: &[Verdict],
) -> (Vec<Transition>, bool, Vec<RsId>) {
    let mut out = Vec::new();
    let mut weight_moved = false;
    let mut first_down = Vec::new();
    for v in vs {
        if v.generation != generation || !b.has(v.id) {
            continue;
        }
        if v.first && !v.ok && !b.alive(v.id) {
            first_down.push(v.id);
        }
        // A failure takes the server down before its weight goes back to
        // the configured one (no quorum move on a weight it no longer
        // has); a success sets the weight it asks for, then comes up.
        if !v.ok {
            out.extend(b.report(v.id, v.checker, v.ok));
        }
        if let Some(w) = v.weight {
            if b.weight(v.id) != w {
                weight_moved = true;
            }
            out.extend(b.set_weight(v.id, w));
        }
        if v.ok {
            out.extend(b.report(v.id, v.checker, v.ok));
        }
    }
    (out, weight_moved, first_down)
}

impl Subsystem for Lvs {
    fn name(&self) -> &'static str {
        "lvs"
    }

    fn start(&mut self, cx: &mut Cx) {
        let (jtx, jrx) = mpsc::channel();
        let (rtx, rrx) = mpsc::channel();
        let wake = cx.wake_handle(0);
        let Some(start) = self.start_worker.take() else {
            return;
        };
        match thread::Builder::new()
            .name("ipvs".into())
            .spawn(move || start(jrx, rtx, wake))
        {
            Ok(h) => {
                self.jobs = Some(jtx);
                self.reports = Some(rrx);
                self.thread = Some(h);
            }
            Err(e) => error!("cannot start the IPVS thread: {e}; IPVS is not updated"),
        }
        // The files are read before the services start, as keepalived
        // does: a server its file holds down is never added, and what
        // quorum it starts with counts the files' weights.
        let config = cx.shared().config.clone();
        self.files = FileChecks::start(cx, &config);
        let sh = cx.shared_mut();
        self.files.apply(&mut sh.balancer);
        let mut ts = sh.balancer.initial_transitions();
        ts.extend(ci_linux(&mut sh.balancer, &sh.reflection));
        self.transitions(cx, &ts);
        self.want(cx, Vec::new(), Cause::Config);
    }

    fn ready(&mut self, cx: &mut Cx, key: u64, _ev: &mio::event::Event) {
        if key != file_checks::INOTIFY_KEY || !self.files.ready() {
            return;
        }
        let at = Instant::now();
        let (ts, moved) = self.files.apply(&mut cx.shared_mut().balancer);
        if ts.is_empty() && !moved {
            return;
        }
        self.transitions(cx, &ts);
        self.want(cx, Vec::new(), Cause::Check(at));
    }

    fn woken(&mut self, _cx: &mut Cx, _key: u64) {
        let reports: Vec<Report> = match &self.reports {
            Some(rx) => rx.try_iter().collect(),
            None => return,
        };
        for r in reports {
            self.on_report(r);
        }
    }

    fn message(&mut self, cx: &mut Cx, msg: &Message) {
        match msg {
            Message::Reflection { event_ns } => {
                let sh = cx.shared_mut();
                let ts = ci_linux(&mut sh.balancer, &sh.reflection);
                if ts.is_empty() {
                    return;
                }
                self.transitions(cx, &ts);
                let cause = event_ns.map_or(Cause::Config, Cause::NodeEvent);
                self.want(cx, Vec::new(), cause);
            }
            Message::Verdicts(vs) => {
                let sh = cx.shared_mut();
                let (ts, weight_moved, first_down) =
                    apply_verdicts(&mut sh.balancer, sh.generation, vs);
                let runs: Vec<(Script, String)> = first_down
                    .iter()
                    .filter_map(|id| {
                        let rs = &sh.balancer.config()[id.vs].real_servers[id.rs];
                        let s = rs.notify_down.clone()?;
                        Some((s, format!("notify_down {} (first check)", rs.addr)))
                    })
                    .collect();
                for (s, why) in runs {
                    self.run_script(cx, &s, why);
                }
                if ts.is_empty() && !weight_moved {
                    return;
                }
                self.transitions(cx, &ts);
                let at = vs.iter().map(|v| v.at).min().unwrap_or_else(Instant::now);
                self.want(cx, Vec::new(), Cause::Check(at));
            }
            Message::Reload(config) => {
                // cleanup_on_stop stays as started: -I outlives reloads.
                let sh = cx.shared_mut();
                let before: Vec<ServiceKey> = sh.balancer.keys();
                let (b, mut ts) = sh.balancer.reconfigured(config.virtual_servers.clone());
                sh.balancer = b;
                ts.extend(ci_linux(&mut sh.balancer, &sh.reflection));
                self.files.stop(cx);
                self.files = FileChecks::start(cx, config);
                let sh = cx.shared_mut();
                ts.extend(self.files.apply(&mut sh.balancer).0);
                let b = &sh.balancer;
                let now: Vec<ServiceKey> = b.keys();
                let remove = before.into_iter().filter(|k| !now.contains(k)).collect();
                self.transitions(cx, &ts);
                self.send(Job::Reconnect);
                self.want(cx, remove, Cause::Config);
            }
            _ => {}
        }
    }

    fn exited(&mut self, _cx: &mut Cx, key: u64, exit: &Exit) {
        let Some(why) = self.scripts.remove(&key) else {
            return;
        };
        if exit.timed_out {
            warn!("{why}: script ran past {SCRIPT_TIMEOUT:?}: killed");
        } else if !exit.status.success() {
            warn!("{why}: script failed: {}", exit.status);
        }
    }

    fn status(&self, shared: &Shared, st: &mut Status) {
        let b = &shared.balancer;
        st.virtual_servers = b
            .config()
            .iter()
            .enumerate()
            .map(|(vi, vs)| VsStatus {
                service: b.label(vi),
                quorum: b.quorum_up(vi),
                real_servers: vs
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(ri, rs)| {
                        let id = RsId { vs: vi, rs: ri };
                        RsStatus {
                            addr: rs.addr,
                            port: rs.port,
                            alive: b.alive(id),
                            draining: b.draining(id),
                            weight: b.effective_weight(id),
                            checkers: rs
                                .checkers
                                .iter()
                                .enumerate()
                                .map(|(ci, c)| CheckerStatus {
                                    kind: c.keyword().to_string(),
                                    target: c.target(rs.addr, rs.port),
                                    up: b.checker_passes(id, ci),
                                    last: self.event_driven(shared, c, rs.addr),
                                    ..CheckerStatus::default()
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect();
        st.ipvs = self.ipvs.clone();
    }

    /// keepalived's omega, then remove what we added unless told to keep it.
    fn stop(&mut self, cx: &mut Cx) {
        self.files.stop(cx);
        let b = cx.shared().balancer.clone();
        // At shutdown every service is about to lose its servers: with
        // omega, notify_down runs for the live ones IPVS holds, and
        // quorum_down for every service. Not when IPVS is kept.
        if self.cleanup_on_stop {
            for (vi, vs) in b.config().iter().enumerate() {
                if !vs.omega {
                    continue;
                }
                let held = b.dests(vi);
                for (ri, rs) in vs.real_servers.iter().enumerate() {
                    let alive = b.alive(RsId { vs: vi, rs: ri });
                    let in_ipvs = held.iter().any(|d| d.addr == rs.addr && d.port == rs.port);
                    if let (true, true, Some(script)) = (alive, in_ipvs, &rs.notify_down) {
                        self.run_script(cx, script, format!("notify_down {} (omega)", rs.addr));
                    }
                }
                if let Some(script) = &vs.quorum_down {
                    self.run_script(cx, script, format!("quorum_down {} (omega)", vs.address));
                }
            }
        }
        let remove = if self.cleanup_on_stop {
            b.keys()
        } else {
            Vec::new()
        };
        self.send(Job::Stop { remove });
        self.jobs = None;
        if let Some(h) = self.thread.take() {
            // It finishes what it was doing, removes the services, ends.
            let _ = h.join();
        }
    }
}
