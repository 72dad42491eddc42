//! The VRRP network thread: adding and removing virtual addresses are
//! rtnetlink round trips under the kernel's RTNL lock, which other
//! programs may hold for a while; announcing them is a burst of packets.
//! Neither may delay an advertisement or a master-down timer, so the loop
//! only says what it wants and this thread does it.
//!
//! The loop sends, per instance, whether its addresses should be present;
//! the thread brings the interface in line and keeps at it (with a
//! backoff) when the kernel refuses. Announcements go out after the
//! addresses they announce are in place. The IPVS connection-sync daemons
//! (lvs_sync_daemon) follow the same way: the loop says which should run.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use afcluster::ipvs::{Ipvs, IpvsError, SyncDaemon, SyncState};
use afcluster::rtnl::{Addr, Rtnl};
use log::{debug, info, warn};

use super::announcer::Announcer;
use crate::core::Wake;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the thread can do to the system (a fake in tests).
pub trait Backend: Send {
    /// Ok(true): added; Ok(false): it was there.
    fn add(&mut self, a: &Addr) -> Result<bool, String>;
    /// Ok(true): removed; Ok(false): it was not there.
    fn del(&mut self, a: &Addr) -> Result<bool, String>;
    fn garp(&mut self, ifindex: u32, mac: [u8; 6], ip: std::net::Ipv4Addr) -> Result<(), String>;
    fn na(
        &mut self,
        ifindex: u32,
        mac: [u8; 6],
        ip: std::net::Ipv6Addr,
        router: bool,
    ) -> Result<(), String>;
    /// Ok(false): a daemon of that state was running already.
    fn syncd_start(&mut self, d: &SyncDaemon) -> Result<bool, String>;
    /// Ok(false): none of that state was running.
    fn syncd_stop(&mut self, state: SyncState) -> Result<bool, String>;
}

impl<B: Backend + ?Sized> Backend for Box<B> {
    fn add(&mut self, a: &Addr) -> Result<bool, String> {
        (**self).add(a)
    }

    fn del(&mut self, a: &Addr) -> Result<bool, String> {
        (**self).del(a)
    }

    fn garp(&mut self, ifindex: u32, mac: [u8; 6], ip: std::net::Ipv4Addr) -> Result<(), String> {
        (**self).garp(ifindex, mac, ip)
    }

    fn na(
        &mut self,
        ifindex: u32,
        mac: [u8; 6],
        ip: std::net::Ipv6Addr,
        router: bool,
    ) -> Result<(), String> {
        (**self).na(ifindex, mac, ip, router)
    }

    fn syncd_start(&mut self, d: &SyncDaemon) -> Result<bool, String> {
        (**self).syncd_start(d)
    }

    fn syncd_stop(&mut self, state: SyncState) -> Result<bool, String> {
        (**self).syncd_stop(state)
    }
}

/// The real one.
pub struct System {
    rtnl: Rtnl,
    announcer: Announcer,
    /// Connected when a sync daemon is first wanted.
    ipvs: Option<Ipvs>,
}

impl System {
    pub fn open() -> std::io::Result<System> {
        Ok(System {
            rtnl: Rtnl::connect()?,
            announcer: Announcer::open()?,
            ipvs: None,
        })
    }

    fn ipvs(&mut self) -> Result<&mut Ipvs, String> {
        if self.ipvs.is_none() {
            self.ipvs = Some(Ipvs::connect().map_err(|e| e.to_string())?);
        }
        self.ipvs.as_mut().ok_or_else(|| "no IPVS".to_string())
    }
}

impl Backend for System {
    fn add(&mut self, a: &Addr) -> Result<bool, String> {
        self.rtnl.add_addr(a).map_err(|e| e.to_string())
    }

    fn del(&mut self, a: &Addr) -> Result<bool, String> {
        self.rtnl.del_addr(a).map_err(|e| e.to_string())
    }

    fn garp(&mut self, ifindex: u32, mac: [u8; 6], ip: std::net::Ipv4Addr) -> Result<(), String> {
        self.announcer
            .garp(ifindex, mac, ip)
            .map_err(|e| e.to_string())
    }

    fn na(
        &mut self,
        ifindex: u32,
        mac: [u8; 6],
        ip: std::net::Ipv6Addr,
        router: bool,
    ) -> Result<(), String> {
        self.announcer
            .na(ifindex, mac, ip, router)
            .map_err(|e| e.to_string())
    }

    fn syncd_start(&mut self, d: &SyncDaemon) -> Result<bool, String> {
        match self.ipvs()?.start_daemon(d) {
            Ok(()) => Ok(true),
            Err(IpvsError::DaemonRunning(_)) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    fn syncd_stop(&mut self, state: SyncState) -> Result<bool, String> {
        match self.ipvs()?.stop_daemon(state) {
            Ok(()) => Ok(true),
            Err(IpvsError::DaemonNotRunning(_)) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}

pub enum Job {
    /// Instance `instance` (its name, for logs) wants `addrs` present or
    /// absent. The latest want of an instance replaces earlier ones.
    Want {
        instance: String,
        present: bool,
        addrs: Vec<Addr>,
    },
    /// Send `repeat` gratuitous ARPs / unsolicited NAs for each address,
    /// once the instance's addresses are present.
    Announce {
        instance: String,
        ifindex: u32,
        mac: [u8; 6],
        addrs: Vec<IpAddr>,
        repeat: u32,
        router: bool,
    },
    /// Run the sync daemons of `daemon` (its state ignored) in these
    /// states, and stop the others. The first such job also stops what a
    /// daemon that died left running.
    Syncd {
        daemon: SyncDaemon,
        states: Vec<SyncState>,
    },
    /// Remove everything still present, stop the sync daemons, then end.
    Stop,
}

/// What the loop shows in status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub added: u64,
    pub removed: u64,
    pub announced: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    /// Instances whose addresses are not yet as wanted.
    pub pending: Vec<String>,
    /// The sync daemons running, as far as the thread knows.
    pub syncd: Vec<SyncState>,
}

struct Want {
    present: bool,
    addrs: Vec<Addr>,
    done: bool,
}

/// The sync daemons wanted, and whether they are as wanted.
struct SyncWant {
    daemon: SyncDaemon,
    states: Vec<SyncState>,
    done: bool,
}

pub struct Worker<B: Backend> {
    backend: B,
    wants: BTreeMap<String, Want>,
    syncd: Option<SyncWant>,
    report: Report,
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl<B: Backend> Worker<B> {
    pub fn new(backend: B) -> Worker<B> {
        Worker {
            backend,
            wants: BTreeMap::new(),
            syncd: None,
            report: Report::default(),
            retry_at: None,
            backoff: FIRST_BACKOFF,
        }
    }

    /// Take a job; false: stop.
    pub fn take(&mut self, job: Job) -> bool {
        match job {
            Job::Want {
                instance,
                present,
                addrs,
            } => {
                // Addresses the previous want added but this one no longer
                // lists (a reload shrank the list) are removed first.
                if let Some(old) = self.wants.get(&instance) {
                    if old.present {
                        let gone: Vec<Addr> = old
                            .addrs
                            .iter()
                            .filter(|a| !addrs.contains(a) || !present)
                            .cloned()
                            .collect();
                        for a in &gone {
                            self.del(&instance, a);
                        }
                    }
                }
                self.wants.insert(
                    instance,
                    Want {
                        present,
                        addrs,
                        done: false,
                    },
                );
                self.apply();
            }
            Job::Announce {
                instance,
                ifindex,
                mac,
                addrs,
                repeat,
                router,
            } => {
                self.apply();
                if self
                    .wants
                    .get(&instance)
                    .is_some_and(|w| w.present && w.done)
                {
                    self.announce(ifindex, mac, &addrs, repeat, router);
                } else {
                    debug!("VRRP ({instance}): addresses not in place, announcement skipped");
                }
            }
            Job::Syncd { daemon, states } => {
                if self.syncd.is_none() {
                    // Leftovers of a daemon that died: stopped, then started
                    // as wanted.
                    for s in [SyncState::Master, SyncState::Backup] {
                        self.sync_stop(s);
                    }
                }
                self.syncd = Some(SyncWant {
                    daemon,
                    states,
                    done: false,
                });
                self.apply();
            }
            Job::Stop => {
                for w in self.wants.values_mut() {
                    if w.present {
                        w.present = false;
                        w.done = false;
                    }
                }
                if let Some(s) = &mut self.syncd {
                    s.states.clear();
                    s.done = false;
                }
                self.apply();
                return false;
            }
        }
        true
    }

    /// Bring every want in line; on failure schedule a retry.
    pub fn apply(&mut self) {
        let mut failed = false;
        let names: Vec<String> = self.wants.keys().cloned().collect();
        for name in names {
            let Some(w) = self.wants.get(&name) else {
                continue;
            };
            if w.done {
                continue;
            }
            let (present, addrs) = (w.present, w.addrs.clone());
            let mut ok = true;
            for a in &addrs {
                ok &= if present {
                    self.add(&name, a)
                } else {
                    self.del(&name, a)
                };
            }
            if let Some(w) = self.wants.get_mut(&name) {
                w.done = ok;
            }
            failed |= !ok;
        }
        failed |= !self.apply_syncd();
        self.report.pending = self
            .wants
            .iter()
            .filter(|(_, w)| !w.done)
            .map(|(n, _)| n.clone())
            .collect();
        if failed {
            self.retry_at = Some(Instant::now() + self.backoff);
            self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        } else {
            self.retry_at = None;
            self.backoff = FIRST_BACKOFF;
        }
    }

    /// The sync daemons as wanted: the unwanted stopped first (a master
    /// and a backup may not share the sync id's traffic), then the wanted
    /// started. False: something failed.
    fn apply_syncd(&mut self) -> bool {
        let Some(w) = &self.syncd else {
            return true;
        };
        if w.done {
            return true;
        }
        let (daemon, states) = (w.daemon.clone(), w.states.clone());
        let mut ok = true;
        for s in [SyncState::Master, SyncState::Backup] {
            if !states.contains(&s) {
                ok &= self.sync_stop(s);
            }
        }
        for s in states {
            let d = SyncDaemon {
                state: s,
                ..daemon.clone()
            };
            match self.backend.syncd_start(&d) {
                Ok(started) => {
                    if started {
                        info!(
                            "IPVS: {s} sync daemon started on {}, sync id {}",
                            d.interface, d.sync_id
                        );
                    }
                    if !self.report.syncd.contains(&s) {
                        self.report.syncd.push(s);
                    }
                }
                Err(e) => ok = self.failed(format!("starting the {s} sync daemon: {e}")),
            }
        }
        if let Some(w) = &mut self.syncd {
            w.done = ok;
        }
        ok
    }

    fn sync_stop(&mut self, s: SyncState) -> bool {
        match self.backend.syncd_stop(s) {
            Ok(stopped) => {
                if stopped {
                    info!("IPVS: {s} sync daemon stopped");
                }
                self.report.syncd.retain(|r| *r != s);
                true
            }
            Err(e) => self.failed(format!("stopping the {s} sync daemon: {e}")),
        }
    }

    fn add(&mut self, instance: &str, a: &Addr) -> bool {
        let r = self.backend.add(a);
        self.changed(instance, a, r, true)
    }

    fn del(&mut self, instance: &str, a: &Addr) -> bool {
        let r = self.backend.del(a);
        self.changed(instance, a, r, false)
    }

    /// Count and log an add (`added`) or a removal; Ok(false) means it was
    /// already so.
    fn changed(&mut self, instance: &str, a: &Addr, r: Result<bool, String>, added: bool) -> bool {
        let (count, done, doing) = if added {
            (&mut self.report.added, "added", "adding")
        } else {
            (&mut self.report.removed, "removed", "removing")
        };
        match r {
            Ok(true) => {
                *count += 1;
                info!("VRRP ({instance}): {done} {}/{}", a.addr, a.prefix_len);
                true
            }
            Ok(false) => true,
            Err(e) => self.failed(format!(
                "({instance}) {doing} {}/{}: {e}",
                a.addr, a.prefix_len
            )),
        }
    }

    fn announce(
        &mut self,
        ifindex: u32,
        mac: [u8; 6],
        addrs: &[IpAddr],
        repeat: u32,
        router: bool,
    ) {
        for _ in 0..repeat {
            for a in addrs {
                let r = match a {
                    IpAddr::V4(v4) => self.backend.garp(ifindex, mac, *v4),
                    IpAddr::V6(v6) => self.backend.na(ifindex, mac, *v6, router),
                };
                match r {
                    Ok(()) => self.report.announced += 1,
                    Err(e) => {
                        self.failed(format!("announcing {a}: {e}"));
                    }
                }
            }
        }
    }

    fn failed(&mut self, what: String) -> bool {
        warn!("VRRP: {what}");
        self.report.failures += 1;
        self.report.last_error = Some(what);
        false
    }

    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    pub fn report(&self) -> &Report {
        &self.report
    }
}

/// The thread: take jobs, work, report, until told to stop.
pub fn run<B: Backend>(mut w: Worker<B>, rx: Receiver<Job>, tx: Sender<Report>, wake: Wake) {
    loop {
        let job = match w.retry_at() {
            Some(t) => match rx.recv_timeout(t.saturating_duration_since(Instant::now())) {
                Ok(j) => Some(j),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(j) => Some(j),
                Err(_) => return,
            },
        };
        let go_on = match job {
            Some(j) => w.take(j),
            None => {
                w.apply();
                true
            }
        };
        if tx.send(w.report().clone()).is_err() {
            return;
        }
        wake.wake();
        if !go_on {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
