//! The daemon's IPVS side: the virtual servers of the configuration, the
//! CI-LINUX checker read from the reflection (no polling: it is evaluated
//! when the reflection changes), and the IPVS table kept in step.
//!
//! Missing ip_vs or CAP_NET_ADMIN is reported and the daemon carries on
//! with its reflection; the next reload tries again.

use afcluster::balancer::{dest_ops, plan, Balancer, RsId, Transition};
use afcluster::config::{Checker, Config};
use afcluster::control::{RsStatus, VsStatus};
use afcluster::ipvs::{Change, Dest, Ipvs, IpvsError, ServiceKey};
use afcluster::{NodeState, Reflection};
use log::{debug, error, info, warn};

use crate::checks::Verdict;
use crate::scripts::Scripts;

pub struct Lvs {
    balancer: Balancer,
    ipvs: Option<Ipvs>,
    /// What IPVS holds for each virtual server, as last applied.
    applied: Vec<Vec<Dest>>,
    cleanup_on_stop: bool,
    /// notify_up/down, quorum_up/down.
    pub scripts: Scripts,
    /// IPVS cannot be used (no ip_vs, no CAP_NET_ADMIN): said once, not
    /// tried again until a reload.
    unusable: bool,
}

impl Lvs {
    pub fn new(config: &Config) -> Lvs {
        Lvs {
            balancer: Balancer::new(config.virtual_servers.clone()),
            ipvs: None,
            applied: Vec::new(),
            cleanup_on_stop: config.global.ipvs_cleanup_on_stop,
            unusable: false,
            scripts: Scripts::default(),
        }
    }

    fn has_work(&self) -> bool {
        !self.balancer.config().is_empty()
    }

    /// Take the checkers' first verdicts and bring IPVS in line with them,
    /// leaving services that are not ours alone.
    pub fn start(&mut self, reflection: &Reflection) {
        if !self.has_work() {
            return;
        }
        self.ci_linux(reflection);
        self.reconcile(&[]);
    }

    /// A new configuration: keep verdicts of servers still there, apply
    /// only the difference.
    pub fn reload(&mut self, config: &Config, reflection: &Reflection) {
        let before: Vec<ServiceKey> = (0..self.balancer.config().len())
            .map(|vs| self.balancer.service(vs).key)
            .collect();
        self.balancer = self.balancer.reconfigured(config.virtual_servers.clone());
        self.unusable = false;
        self.ci_linux(reflection);
        if self.has_work() || !before.is_empty() {
            self.reconcile(&before);
        }
    }

    /// The reflection changed: re-read CI-LINUX verdicts, apply what moved.
    pub fn on_reflection(&mut self, reflection: &Reflection) {
        if !self.has_work() {
            return;
        }
        let moved = self.ci_linux(reflection);
        for vs in moved {
            self.apply_vs(vs);
        }
    }

    pub fn balancer(&self) -> &Balancer {
        &self.balancer
    }

    pub fn status(&self) -> Vec<VsStatus> {
        let b = &self.balancer;
        b.config()
            .iter()
            .enumerate()
            .map(|(vi, vs)| VsStatus {
                service: b.service(vi).key.to_string(),
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
                            weight: b.weight(id),
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    /// TCP_CHECK and MISC_CHECK results: apply what moved.
    pub fn verdicts(&mut self, verdicts: &[Verdict]) {
        let mut moved = Vec::new();
        for v in verdicts {
            let mut ts = Vec::new();
            if let Some(w) = v.weight {
                ts.extend(self.balancer.set_weight(v.id, w));
                // The weight itself is a change of the table.
                moved.push(v.id.vs);
            }
            ts.extend(self.balancer.report(v.id, v.checker, v.ok));
            for t in ts {
                self.log_transition(t);
                moved.push(match t {
                    Transition::RealServer { id, .. } => id.vs,
                    Transition::Quorum { vs, .. } => vs,
                });
            }
        }
        moved.sort_unstable();
        moved.dedup();
        for vs in moved {
            self.apply_vs(vs);
        }
    }

    /// Remove what we added, unless configured to keep it.
    pub fn stop(&mut self) {
        // keepalived's omega: at shutdown the service is about to lose its
        // servers, so notify_down runs for live ones and quorum_down for
        // services that still had quorum.
        for (vi, vs) in self.balancer.config().iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let alive = self.balancer.alive(RsId { vs: vi, rs: ri });
                if let (true, true, Some(script)) = (vs.omega, alive, &rs.notify_down) {
                    self.scripts
                        .run(script, &format!("notify_down {} (omega)", rs.addr));
                }
            }
            if let (true, true, Some(script)) =
                (vs.omega, self.balancer.quorum_up(vi), &vs.quorum_down)
            {
                self.scripts
                    .run(script, &format!("quorum_down {} (omega)", vs.address));
            }
        }
        if !self.cleanup_on_stop || !self.has_work() {
            return;
        }
        let Some(ipvs) = self.ipvs.as_mut() else {
            return;
        };
        for vs in 0..self.balancer.config().len() {
            let key = self.balancer.service(vs).key;
            match ipvs.del_service(&key) {
                Ok(()) | Err(IpvsError::NotFound) => info!("IPVS: removed {key}"),
                Err(e) => warn!("IPVS: removing {key}: {e}"),
            }
        }
    }

    /// CI-LINUX: a real server passes while its node is up. A stale
    /// reflection changes nothing (a module reload must not flap servers).
    /// Returns the virtual servers whose table changed.
    fn ci_linux(&mut self, reflection: &Reflection) -> Vec<usize> {
        let mut moved = Vec::new();
        if reflection.is_stale() {
            return moved;
        }
        let mut verdicts = Vec::new();
        for (vi, vs) in self.balancer.config().iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                for (ci, c) in rs.checkers.iter().enumerate() {
                    let Checker::CiLinux(ci_linux) = c else {
                        continue;
                    };
                    let node = match ci_linux.node {
                        Some(id) => reflection.node(id),
                        None => reflection.node_by_addr(rs.addr),
                    };
                    let ok = node.is_some_and(|n| n.state == NodeState::Up);
                    verdicts.push((RsId { vs: vi, rs: ri }, ci, ok));
                }
            }
        }
        for (id, checker, ok) in verdicts {
            for t in self.balancer.report(id, checker, ok) {
                self.log_transition(t);
                let vs = match t {
                    Transition::RealServer { id, .. } => id.vs,
                    Transition::Quorum { vs, .. } => vs,
                };
                if !moved.contains(&vs) {
                    moved.push(vs);
                }
            }
        }
        moved
    }

    fn log_transition(&mut self, t: Transition) {
        let cfg = self.balancer.config();
        match t {
            Transition::RealServer { id, alive } => {
                let rs = &cfg[id.vs].real_servers[id.rs];
                let script = if alive {
                    &rs.notify_up
                } else {
                    &rs.notify_down
                };
                if let Some(s) = script {
                    let why = if alive { "notify_up" } else { "notify_down" };
                    self.scripts.run(s, &format!("{why} {}", rs.addr));
                }
                info!(
                    "virtual server {}: real server {} {}",
                    self.balancer.service(id.vs).key,
                    rs.addr,
                    if alive { "up" } else { "down" }
                );
            }
            Transition::Quorum { vs, up } => {
                let v = &cfg[vs];
                let script = if up { &v.quorum_up } else { &v.quorum_down };
                if let Some(s) = script {
                    let why = if up { "quorum_up" } else { "quorum_down" };
                    self.scripts.run(s, &format!("{why} {}", v.address));
                }
                warn!(
                    "virtual server {}: quorum {}",
                    self.balancer.service(vs).key,
                    if up { "gained" } else { "lost" }
                );
            }
        }
    }

    fn ipvs(&mut self) -> Option<&mut Ipvs> {
        if self.unusable {
            return None;
        }
        if self.ipvs.is_none() {
            match Ipvs::connect() {
                Ok(c) => self.ipvs = Some(c),
                Err(e) => {
                    self.unusable(&e);
                    return None;
                }
            }
        }
        self.ipvs.as_mut()
    }

    fn unusable(&mut self, e: &IpvsError) {
        error!(
            "IPVS unavailable: {e}; node states are still reflected, but IPVS is not \
             updated until a reload (SIGHUP) finds it usable"
        );
        self.ipvs = None;
        self.unusable = true;
    }

    /// Bring the whole table in line (start, reload). `before`: services
    /// of the previous configuration, removed if no longer wanted.
    fn reconcile(&mut self, before: &[ServiceKey]) {
        let desired = self.balancer.desired();
        let Some(ipvs) = self.ipvs() else {
            return;
        };
        let actual = match ipvs.table() {
            Ok(t) => t,
            Err(e) => return self.unusable(&e),
        };
        let ops = plan(&actual, &desired, before);
        info!("IPVS: {} change(s) to match the configuration", ops.len());
        self.run(ops);
        self.applied = desired.into_iter().map(|(_, d)| d).collect();
    }

    fn apply_vs(&mut self, vs: usize) {
        let want = self.balancer.dests(vs);
        let key = self.balancer.service(vs).key;
        let have = self.applied.get(vs).cloned().unwrap_or_default();
        let ops = dest_ops(&key, &have, &want);
        self.run(ops);
        if let Some(slot) = self.applied.get_mut(vs) {
            *slot = want;
        }
    }

    fn run(&mut self, ops: Vec<Change>) {
        let Some(ipvs) = self.ipvs() else {
            return;
        };
        for op in ops {
            debug!("IPVS: {op:?}");
            let r = ipvs.apply(&op);
            match (r, &op) {
                (Ok(()), _) => {}
                // Already as wanted (keepalived counts these as done too).
                (Err(IpvsError::Exists), Change::AddService(_) | Change::AddDest(..)) => {}
                (Err(IpvsError::NotFound), Change::DelService(_) | Change::DelDest(..)) => {}
                (Err(e @ (IpvsError::PermissionDenied | IpvsError::NotAvailable)), _) => {
                    return self.unusable(&e)
                }
                (Err(e), op) => error!("IPVS: {op:?}: {e}"),
            }
        }
    }
}
