//! IPVS requests are synchronous netlink round trips, and bringing 1,000
//! real servers in line is thousands of them: they run in this thread, so
//! that no timer of the loop waits for them (keepalived gets the same by
//! running its checkers in a process of their own).
//!
//! The loop sends what it wants IPVS to hold, whole; the thread applies
//! the difference from what it believes IPVS holds. Wants that arrive
//! while it works are merged: only the latest is applied. A change the
//! kernel refuses makes the belief void: the table is read back and
//! brought in line again, after a backoff that doubles up to
//! `MAX_BACKOFF` while it keeps failing.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use afcluster::balancer::{apply_change, plan};
use afcluster::control::IpvsStatus;
use afcluster::ipvs::{Change, Dest, Ipvs, IpvsError, Service, ServiceKey};
use log::{debug, error, info, warn};

use crate::core::Wake;

pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub type Table = Vec<(Service, Vec<Dest>)>;

/// What caused a want, for the reaction-time figures.
#[derive(Debug, Clone, Copy)]
pub enum Cause {
    /// Start or reload.
    Config,
    /// A node event, by its kernel timestamp (CLOCK_REALTIME, ns).
    NodeEvent(u64),
    /// A checker's result, when it came in.
    Check(Instant),
}

pub enum Job {
    Want {
        desired: Table,
        /// Services of earlier configurations, removed if present.
        remove: Vec<ServiceKey>,
        cause: Cause,
    },
    /// Try IPVS again (reload), after it was found unusable.
    Reconnect,
    /// Remove these services, then end the thread.
    Stop { remove: Vec<ServiceKey> },
}

/// What the thread tells the loop after each round.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Usable, in sync, the counts and the last refusal (the reaction
    /// summaries are the loop's to fill).
    pub status: IpvsStatus,
    /// Reactions completed this round.
    pub node_reactions: Vec<Duration>,
    pub check_reactions: Vec<Duration>,
    /// IPVS was found unusable this round (said once by the loop).
    pub unusable: Option<String>,
}

/// Where changes go: the kernel, or a script in tests.
pub trait Backend {
    fn table(&mut self) -> Result<Table, IpvsError>;
    fn apply(&mut self, c: &Change) -> Result<(), IpvsError>;
}

impl Backend for Ipvs {
    fn table(&mut self) -> Result<Table, IpvsError> {
        Ipvs::table(self)
    }

    fn apply(&mut self, c: &Change) -> Result<(), IpvsError> {
        Ipvs::apply(self, c)
    }
}

pub struct Worker<B> {
    connect: Box<dyn FnMut() -> Result<B, IpvsError> + Send>,
    backend: Option<B>,
    /// IPVS as far as the thread knows; None: read it back first.
    believed: Option<Table>,
    desired: Option<Table>,
    remove: Vec<ServiceKey>,
    causes: Vec<Cause>,
    /// The last backoff, and when the retry it delays is due.
    backoff: Option<Duration>,
    retry_at: Option<Instant>,
    /// The next read of the table is a reconcile after a refusal.
    refused: bool,
    unusable: bool,
    report: Report,
}

impl<B: Backend> Worker<B> {
    pub fn new(connect: Box<dyn FnMut() -> Result<B, IpvsError> + Send>) -> Worker<B> {
        Worker {
            connect,
            backend: None,
            believed: None,
            desired: None,
            remove: Vec::new(),
            causes: Vec::new(),
            backoff: None,
            retry_at: None,
            refused: false,
            unusable: false,
            report: Report {
                status: IpvsStatus {
                    usable: true,
                    ..IpvsStatus::default()
                },
                ..Report::default()
            },
        }
    }

    /// Take a job; false once told to stop.
    pub fn take(&mut self, job: Job) -> bool {
        match job {
            Job::Want {
                desired,
                remove,
                cause,
            } => {
                self.desired = Some(desired);
                for k in remove {
                    if !self.remove.contains(&k) {
                        self.remove.push(k);
                    }
                }
                self.causes.push(cause);
                true
            }
            Job::Reconnect => {
                self.unusable = false;
                self.backend = None;
                self.believed = None;
                true
            }
            Job::Stop { remove } => {
                self.stop(&remove);
                false
            }
        }
    }

    /// Whether there is work that can be done now.
    pub fn pending(&self) -> bool {
        !self.unusable && self.desired.is_some()
    }

    /// When a refused round is to be retried.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Bring IPVS to the latest want. Returns the report for the loop.
    pub fn work(&mut self) -> Report {
        self.report.node_reactions.clear();
        self.report.check_reactions.clear();
        self.report.unusable = None;
        self.retry_at = None;
        if !self.pending() {
            return self.report.clone();
        }
        match self.round() {
            Ok(()) => {
                if self.refused {
                    info!("IPVS is in line with the configuration again");
                }
                self.refused = false;
                self.backoff = None;
                self.report.status.in_sync = true;
                self.desired = None;
                self.remove.clear();
                self.reactions();
            }
            Err(Failure::Unusable(e)) => {
                self.unusable = true;
                self.backend = None;
                self.believed = None;
                self.report.status.usable = false;
                self.report.status.in_sync = false;
                self.report.unusable = Some(e.to_string());
                self.causes.clear();
            }
            Err(Failure::Refused) => {
                // Read the table back next time, after a while.
                self.believed = None;
                self.refused = true;
                self.report.status.in_sync = false;
                let b = match self.backoff {
                    None => FIRST_BACKOFF,
                    Some(b) => (b * 2).min(MAX_BACKOFF),
                };
                self.backoff = Some(b);
                self.retry_at = Some(Instant::now() + b);
            }
        }
        self.report.clone()
    }

    fn round(&mut self) -> Result<(), Failure> {
        if self.backend.is_none() {
            self.backend = Some((self.connect)().map_err(Failure::Unusable)?);
            self.report.status.usable = true;
        }
        let Some(backend) = self.backend.as_mut() else {
            return Err(Failure::Refused);
        };
        if self.believed.is_none() {
            let t = backend.table().map_err(|e| match e {
                IpvsError::PermissionDenied | IpvsError::NotAvailable => Failure::Unusable(e),
                e => {
                    warn!("IPVS: reading the table: {e}");
                    Failure::Refused
                }
            })?;
            if self.refused {
                self.report.status.reconciles += 1;
            }
            self.believed = Some(t);
        }
        let (Some(believed), Some(desired)) = (self.believed.as_mut(), self.desired.as_ref())
        else {
            return Ok(());
        };
        let mut ours: Vec<ServiceKey> = desired.iter().map(|(s, _)| s.key).collect();
        ours.extend(self.remove.iter().copied());
        let ops = plan(believed, desired, &ours);
        if !ops.is_empty() {
            debug!("IPVS: {} change(s)", ops.len());
        }
        let mut refused = false;
        for op in &ops {
            match backend.apply(op) {
                Ok(()) => {}
                // Already as wanted (keepalived counts these as done too).
                Err(IpvsError::Exists)
                    if matches!(op, Change::AddService(_) | Change::AddDest(..)) => {}
                Err(IpvsError::NotFound)
                    if matches!(op, Change::DelService(_) | Change::DelDest(..)) => {}
                Err(e @ (IpvsError::PermissionDenied | IpvsError::NotAvailable)) => {
                    return Err(Failure::Unusable(e))
                }
                Err(e) => {
                    self.report.status.ops_failed += 1;
                    let msg = format!("{op:?}: {e}");
                    error!("IPVS: {msg}; reading the table back to retry");
                    self.report.status.last_error = Some(msg);
                    refused = true;
                    continue;
                }
            }
            self.report.status.ops_applied += 1;
            apply_change(believed, op);
        }
        if refused {
            return Err(Failure::Refused);
        }
        Ok(())
    }

    fn reactions(&mut self) {
        let now = Instant::now();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        for c in self.causes.drain(..) {
            match c {
                Cause::Config => {}
                Cause::NodeEvent(ns) => self
                    .report
                    .node_reactions
                    .push(Duration::from_nanos(wall.saturating_sub(ns))),
                Cause::Check(at) => self
                    .report
                    .check_reactions
                    .push(now.saturating_duration_since(at)),
            }
        }
    }

    fn stop(&mut self, remove: &[ServiceKey]) {
        if remove.is_empty() {
            return;
        }
        let backend = match self.backend.take() {
            Some(b) => Some(b),
            None if !self.unusable => (self.connect)().ok(),
            None => None,
        };
        let Some(mut backend) = backend else {
            return;
        };
        for key in remove {
            match backend.apply(&Change::DelService(*key)) {
                Ok(()) | Err(IpvsError::NotFound) => info!("IPVS: removed {key}"),
                Err(e) => warn!("IPVS: removing {key}: {e}"),
            }
        }
    }
}

enum Failure {
    /// No ip_vs, or no CAP_NET_ADMIN: not tried again until a reload.
    Unusable(IpvsError),
    /// A change was refused: read the table back and retry.
    Refused,
}

/// The thread: take jobs, work, report, until told to stop.
pub fn run<B: Backend>(mut w: Worker<B>, rx: Receiver<Job>, tx: Sender<Report>, wake: Wake) {
    loop {
        let wait = w
            .retry_at()
            .filter(|_| w.pending())
            .map(|t| t.saturating_duration_since(Instant::now()));
        let job = match wait {
            Some(d) => match rx.recv_timeout(d) {
                Ok(j) => Some(j),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(j) => Some(j),
                Err(_) => return,
            },
        };
        if let Some(j) = job {
            if !w.take(j) {
                return;
            }
            // Merge what else is queued: only the latest want matters.
            while let Ok(j) = rx.try_recv() {
                if !w.take(j) {
                    return;
                }
            }
        }
        if w.retry_at().is_some_and(|t| t > Instant::now()) {
            continue; // a new want waits for the retry too
        }
        let report = w.work();
        if tx.send(report).is_err() {
            return;
        }
        wake.wake();
    }
}

#[cfg(test)]
pub mod fake;
#[cfg(test)]
mod tests;
