//! The loop: corosync's four handles and the signals in one mio poll, the
//! table written at each change, leases renewed at a third of their
//! length. corosync or the module missing: tried again with a bounded
//! backoff, then everything is read afresh (a resync).

use std::collections::BTreeMap;
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::{debug, info, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use crate::corosync::{self, Corosync, Event, Source};
use crate::membership::{Configured, Membership};
use crate::node_addrs::NodeAddrs;
use crate::table::Table;

const SIGNALS: Token = Token(0);
/// corosync's handles are tokens 1..=4.
const FIRST_SOURCE: usize = 1;

/// The backoff of reconnection attempts, to corosync and to the module.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

pub struct Options {
    pub lease: Duration,
    pub node_addrs: Option<PathBuf>,
}

pub struct Feeder {
    opts: Options,
    poll: Poll,
    signals: Signals,
    corosync: Option<Corosync>,
    /// corosync's handles and their fds, by token (from FIRST_SOURCE).
    sources: Vec<(Source, RawFd)>,
    table: Option<Table>,
    m: Membership,
    extra: NodeAddrs,
    /// The nodelist as corosync has it (without the extra addresses).
    nodelist: BTreeMap<u32, Configured>,
    retry_at: Option<Instant>,
    retry_delay: Duration,
    renew_at: Instant,
    /// What was last said about a missing corosync or module, by which,
    /// so that a long wait logs once.
    complaints: BTreeMap<&'static str, String>,
}

impl Feeder {
    pub fn new(opts: Options) -> io::Result<Feeder> {
        let extra = match &opts.node_addrs {
            Some(p) => NodeAddrs::load(p).map_err(io::Error::other)?,
            None => NodeAddrs::default(),
        };
        let poll = Poll::new()?;
        let mut signals = Signals::new([SIGHUP, SIGTERM, SIGINT])?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        Ok(Feeder {
            opts,
            poll,
            signals,
            corosync: None,
            sources: Vec::new(),
            table: None,
            m: Membership::default(),
            extra,
            nodelist: BTreeMap::new(),
            retry_at: Some(Instant::now()),
            retry_delay: RETRY_FIRST,
            renew_at: Instant::now(),
            complaints: BTreeMap::new(),
        })
    }

    fn lease_ms(&self) -> u32 {
        u32::try_from(self.opts.lease.as_millis()).unwrap_or(u32::MAX)
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(16);
        loop {
            let now = Instant::now();
            let mut wake = self.renew_at;
            if let Some(r) = self.retry_at {
                wake = wake.min(r);
            }
            let timeout = wake.saturating_duration_since(now);
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let woken = Instant::now();
            let mut changed = false;
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => {
                        let pending: Vec<i32> = self.signals.pending().collect();
                        for sig in pending {
                            if sig == SIGHUP {
                                self.reload_node_addrs();
                                changed = true;
                            } else {
                                self.stop();
                                return Ok(());
                            }
                        }
                    }
                    Token(t) => {
                        let Some(&(s, _)) = self.sources.get(t.wrapping_sub(FIRST_SOURCE)) else {
                            continue;
                        };
                        changed |= self.dispatch(s);
                    }
                }
            }
            let now = Instant::now();
            if self.retry_at.is_some_and(|r| r <= now) {
                changed |= self.reconnect();
            }
            if changed {
                self.write();
                // scripts/bench-corosync-guest reads it: corosync's
                // callback to the table written.
                debug!(
                    "table written {} µs after the wakeup",
                    woken.elapsed().as_micros()
                );
            }
            if now >= self.renew_at {
                self.renew();
            }
        }
    }

    /// One handle's callbacks, applied to the membership. Whether it moved.
    fn dispatch(&mut self, s: Source) -> bool {
        let Some(c) = &self.corosync else {
            return false;
        };
        if let Err(e) = c.dispatch(s) {
            warn!("corosync went away ({e}): the local node is down until it is back");
            self.lost_corosync();
            return true;
        }
        let mut moved = false;
        for e in corosync::take() {
            debug!("corosync: {e:?}");
            moved = true;
            match e {
                Event::Quorum { quorate, members } => {
                    info!(
                        "membership: {members:?}, {}",
                        if quorate { "quorate" } else { "NOT quorate" }
                    );
                    self.m.set_members(quorate, members);
                }
                Event::Feeders { members, left } => {
                    for (id, why) in &left {
                        info!("the feeder of node {id} left the group ({why:?})");
                    }
                    self.m.set_feeders(members, left);
                }
                Event::NodelistChanged => self.read_nodelist(),
                Event::ShuttingDown => {
                    info!(
                        "corosync is shutting down: leaving the group, the local node shuts down"
                    );
                    if let Some(c) = &self.corosync {
                        c.leave();
                    }
                    self.m.stopping = true;
                    self.write();
                    if let Some(c) = &self.corosync {
                        c.allow_shutdown();
                    }
                }
            }
        }
        moved
    }

    fn lost_corosync(&mut self) {
        // The fds registered, not asked again of a connection that died;
        // deregistered before the handles close them.
        for (_, fd) in self.sources.drain(..) {
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        }
        self.corosync = None;
        self.m.disconnected();
        self.m.stopping = false;
        self.retry_delay = RETRY_FIRST;
        self.retry_at = Some(Instant::now() + RETRY_FIRST);
    }

    /// Connect what is missing, the table and corosync each on its own
    /// (the membership is followed while the module is not loaded yet).
    /// Whether there is something new to write.
    fn reconnect(&mut self) -> bool {
        self.retry_at = None;
        let mut new = false;
        let mut missing = false;
        if self.table.is_none() {
            match Table::open(self.lease_ms()) {
                Ok(t) => {
                    info!("node table open: writing the membership");
                    self.complaints.remove("table");
                    self.m.seen.extend(t.seen());
                    self.table = Some(t);
                    new = true;
                }
                Err(e) => {
                    self.complain("table", format!("cannot open the node table: {e}"));
                    missing = true;
                }
            }
        }
        if self.corosync.is_none() {
            match Corosync::connect().and_then(|c| {
                let fds = c.fds()?;
                Ok((c, fds))
            }) {
                Ok((c, fds)) => {
                    self.connected(c, fds);
                    self.complaints.remove("corosync");
                    new = true;
                }
                Err(e) => {
                    self.complain(
                        "corosync",
                        format!("cannot connect to corosync ({e}); waiting for it"),
                    );
                    // The local node is down while corosync is not running.
                    self.m.disconnected();
                    missing = true;
                    new = true;
                }
            }
        }
        if missing {
            self.backoff();
        } else {
            self.retry_delay = RETRY_FIRST;
        }
        new
    }

    fn connected(&mut self, c: Corosync, fds: Vec<(Source, RawFd)>) {
        for (i, (s, fd)) in fds.iter().enumerate() {
            if let Err(e) = self.poll.registry().register(
                &mut SourceFd(fd),
                Token(FIRST_SOURCE + i),
                Interest::READABLE,
            ) {
                warn!("cannot watch corosync's {s:?} connection: {e}");
            }
        }
        self.sources = fds;
        info!("connected to corosync: local node {}", c.local);
        self.m.local = c.local;
        self.m.connected = true;
        self.corosync = Some(c);
        self.read_nodelist();
    }

    fn backoff(&mut self) {
        self.retry_at = Some(Instant::now() + self.retry_delay);
        self.retry_delay = (self.retry_delay * 2).min(RETRY_MAX);
    }

    fn complain(&mut self, about: &'static str, what: String) {
        if self.complaints.get(about) != Some(&what) {
            warn!("{what}");
            self.complaints.insert(about, what);
        }
    }

    fn read_nodelist(&mut self) {
        let Some(c) = &self.corosync else { return };
        match c.nodelist() {
            Ok(n) => {
                let known: Vec<(u32, String)> =
                    n.iter().map(|(id, c)| (*id, c.name.clone())).collect();
                for k in self.extra.unknown(&known) {
                    warn!("--node-addrs names {k:?}, which is not in corosync's nodelist");
                }
                self.nodelist = n;
                self.merge_extra();
            }
            Err(e) => warn!("cannot read corosync's nodelist: {e}"),
        }
    }

    fn merge_extra(&mut self) {
        self.m.nodelist = self
            .nodelist
            .iter()
            .map(|(id, c)| {
                let mut c = c.clone();
                for a in self.extra.of(*id, &c.name) {
                    if !c.addrs.contains(&a) {
                        c.addrs.push(a);
                    }
                }
                (*id, c)
            })
            .collect();
    }

    fn reload_node_addrs(&mut self) {
        let Some(p) = &self.opts.node_addrs else {
            return;
        };
        match NodeAddrs::load(p) {
            Ok(a) => {
                info!("reloaded {}", p.display());
                self.extra = a;
                self.merge_extra();
            }
            Err(e) => warn!("{e}: keeping the addresses read before"),
        }
    }

    /// The table as the membership says; a netlink failure reopens it.
    fn write(&mut self) {
        let Some(t) = &mut self.table else { return };
        if let Err(e) = t.apply(&self.m.wanted(), self.m.local) {
            warn!("cannot write the node table ({e}): reading it again");
            self.table = None;
            self.retry_at = Some(Instant::now() + RETRY_FIRST);
        }
    }

    /// Renew what this feeder vouches for: everything while connected,
    /// the local node alone without corosync.
    fn renew(&mut self) {
        self.renew_at = Instant::now() + self.opts.lease / 3;
        let ids: Vec<u32> = self.m.wanted().keys().copied().collect();
        let Some(t) = &mut self.table else { return };
        match t.renew(ids.into_iter()) {
            // A lease that ran out (this process stalled) is put right.
            Ok(()) => self.write(),
            Err(e) => {
                warn!("cannot renew the leases ({e}): reading the table again");
                self.table = None;
                self.retry_at = Some(Instant::now() + RETRY_FIRST);
            }
        }
    }

    /// A clean stop: the others see this feeder leave on purpose, and the
    /// local node is shutdown; the leases then end it.
    fn stop(&mut self) {
        info!("stopping: the local node shuts down");
        if let Some(c) = &self.corosync {
            c.leave();
        }
        self.m.stopping = true;
        self.write();
    }
}
