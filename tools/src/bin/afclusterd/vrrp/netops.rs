//! The VRRP network thread: adding and removing virtual addresses are
//! rtnetlink round trips under the kernel's RTNL lock, which other
//! programs may hold for a while; announcing them is a burst of packets.
//! Neither may delay an advertisement or a master-down timer, so the loop
//! only says what it wants and this thread does it.
//!
//! The loop sends, per instance, whether its addresses, routes and rules
//! should be present (and, once, the static ones); the thread brings the
//! system in line and keeps at it (with a backoff) when the kernel
//! refuses: addresses first, then routes, then rules, and the reverse on
//! removal, as keepalived does. Announcements go out after the
//! addresses they announce are in place. The IPVS connection-sync daemons
//! (lvs_sync_daemon) follow the same way: the loop says which should run.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use afcluster::ipvs::{Ipvs, IpvsError, SyncDaemon, SyncState};
use afcluster::rtnl::{Addr, Route, Rtnl, Rule};
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
    /// As add and del, for a route and a rule.
    fn add_route(&mut self, r: &Route) -> Result<bool, String>;
    fn del_route(&mut self, r: &Route) -> Result<bool, String>;
    fn add_rule(&mut self, r: &Rule) -> Result<bool, String>;
    fn del_rule(&mut self, r: &Rule) -> Result<bool, String>;
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

    fn add_route(&mut self, r: &Route) -> Result<bool, String> {
        (**self).add_route(r)
    }

    fn del_route(&mut self, r: &Route) -> Result<bool, String> {
        (**self).del_route(r)
    }

    fn add_rule(&mut self, r: &Rule) -> Result<bool, String> {
        (**self).add_rule(r)
    }

    fn del_rule(&mut self, r: &Rule) -> Result<bool, String> {
        (**self).del_rule(r)
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

    fn add_route(&mut self, r: &Route) -> Result<bool, String> {
        self.rtnl.add_route(r).map_err(|e| e.to_string())
    }

    fn del_route(&mut self, r: &Route) -> Result<bool, String> {
        self.rtnl.del_route(r).map_err(|e| e.to_string())
    }

    fn add_rule(&mut self, r: &Rule) -> Result<bool, String> {
        self.rtnl.add_rule(r).map_err(|e| e.to_string())
    }

    fn del_rule(&mut self, r: &Rule) -> Result<bool, String> {
        self.rtnl.del_rule(r).map_err(|e| e.to_string())
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
    /// Instance `instance` (its name, for logs) wants `addrs`, `routes`
    /// and `rules` present or absent. The latest want of an instance
    /// replaces earlier ones.
    Want {
        instance: String,
        present: bool,
        addrs: Vec<Addr>,
        routes: Vec<Route>,
        rules: Vec<Rule>,
    },
    /// The same for the static addresses, routes and rules, which no
    /// instance owns.
    Static {
        present: bool,
        addrs: Vec<Addr>,
        routes: Vec<Route>,
        rules: Vec<Rule>,
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
    /// Addresses, routes and rules.
    pub added: u64,
    pub removed: u64,
    pub announced: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    /// Instances (and "static") whose addresses, routes or rules are not
    /// yet as wanted.
    pub pending: Vec<String>,
    /// The sync daemons running, as far as the thread knows.
    pub syncd: Vec<SyncState>,
}

/// Whose a want is. The instances come first: at stop, as keepalived,
/// their entries go before the static ones they may depend on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    Instance(String),
    Static,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Static => f.write_str("static"),
            Owner::Instance(n) => f.write_str(n),
        }
    }
}

/// One thing the system should have.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Addr(Addr),
    Route(Route),
    Rule(Rule),
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Addr(a) => write!(f, "{}/{}", a.addr, a.prefix_len),
            Item::Route(r) => write!(f, "route {r}"),
            Item::Rule(r) => write!(f, "rule {r}"),
        }
    }
}

/// Addresses, then routes (they may need the addresses), then rules
/// (they send to the routes): the order of adding.
fn items(addrs: Vec<Addr>, routes: Vec<Route>, rules: Vec<Rule>) -> Vec<Item> {
    let a = addrs.into_iter().map(Item::Addr);
    let r = routes.into_iter().map(Item::Route);
    a.chain(r)
        .chain(rules.into_iter().map(Item::Rule))
        .collect()
}

struct Want {
    present: bool,
    /// In the order of adding; removed in reverse.
    items: Vec<Item>,
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
    wants: BTreeMap<Owner, Want>,
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
                routes,
                rules,
            } => self.want(
                Owner::Instance(instance),
                present,
                items(addrs, routes, rules),
            ),
            Job::Static {
                present,
                addrs,
                routes,
                rules,
            } => self.want(Owner::Static, present, items(addrs, routes, rules)),
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
                    .get(&Owner::Instance(instance.clone()))
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

    /// A new want of `owner`. What its previous one added but this one
    /// no longer lists (a reload shrank it) is removed first.
    fn want(&mut self, owner: Owner, present: bool, items: Vec<Item>) {
        if let Some(old) = self.wants.get(&owner) {
            if old.present {
                let gone: Vec<Item> = old
                    .items
                    .iter()
                    .rev()
                    // The listed ones apply() removes if they must go.
                    .filter(|a| !items.contains(a))
                    .cloned()
                    .collect();
                for a in &gone {
                    self.del(&owner, a);
                }
            }
        }
        self.wants.insert(
            owner,
            Want {
                present,
                items,
                done: false,
            },
        );
        self.apply();
    }

    /// Bring every want in line; on failure schedule a retry.
    pub fn apply(&mut self) {
        let mut failed = false;
        let owners: Vec<Owner> = self.wants.keys().cloned().collect();
        for owner in owners {
            let Some(w) = self.wants.get(&owner) else {
                continue;
            };
            if w.done {
                continue;
            }
            let (present, items) = (w.present, w.items.clone());
            let mut ok = true;
            if present {
                for a in &items {
                    ok &= self.add(&owner, a);
                }
            } else {
                for a in items.iter().rev() {
                    ok &= self.del(&owner, a);
                }
            }
            if let Some(w) = self.wants.get_mut(&owner) {
                w.done = ok;
            }
            failed |= !ok;
        }
        failed |= !self.apply_syncd();
        self.report.pending = self
            .wants
            .iter()
            .filter(|(_, w)| !w.done)
            .map(|(n, _)| n.to_string())
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

    fn add(&mut self, owner: &Owner, a: &Item) -> bool {
        let r = match a {
            Item::Addr(x) => self.backend.add(x),
            Item::Route(x) => self.backend.add_route(x),
            Item::Rule(x) => self.backend.add_rule(x),
        };
        self.changed(owner, a, r, true)
    }

    fn del(&mut self, owner: &Owner, a: &Item) -> bool {
        let r = match a {
            Item::Addr(x) => self.backend.del(x),
            Item::Route(x) => self.backend.del_route(x),
            Item::Rule(x) => self.backend.del_rule(x),
        };
        self.changed(owner, a, r, false)
    }

    /// Count and log an add (`added`) or a removal; Ok(false) means it was
    /// already so.
    fn changed(&mut self, owner: &Owner, a: &Item, r: Result<bool, String>, added: bool) -> bool {
        let (count, done, doing) = if added {
            (&mut self.report.added, "added", "adding")
        } else {
            (&mut self.report.removed, "removed", "removing")
        };
        match r {
            Ok(true) => {
                *count += 1;
                info!("VRRP ({owner}): {done} {a}");
                true
            }
            Ok(false) => true,
            Err(e) => self.failed(format!("({owner}) {doing} {a}: {e}")),
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
