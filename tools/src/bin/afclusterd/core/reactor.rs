//! The loop every subsystem plugs into: one mio poll, one timer queue, one
//! child supervisor, one token allocator and one message bus. A subsystem
//! implements [`Subsystem`] and is added to the list in `daemon.rs`;
//! nothing here names one.

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use afcluster::balancer::Balancer;
use afcluster::config::Config;
use afcluster::control::{Status, SubsystemStatus};
use afcluster::Reflection;
use log::warn;
use mio::event::Source;
use mio::{Events, Interest, Poll, Token, Waker};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook_mio::v1_0::Signals;

use super::bus::Message;
use super::children::{Children, Exit};
use super::latency::Latency;
use super::timers::{TimerId, Timers};
use super::tokens::Tokens;

const SIGNALS: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_TOKEN: usize = 2;

/// A subsystem's index in the loop.
pub type SubId = usize;

/// Who gets a readiness, a timer or an exit: a subsystem, and a key of
/// its own choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    pub sub: SubId,
    pub key: u64,
}

#[derive(Debug, Clone, Copy)]
enum Due {
    Sub(Owner),
    ChildTimeout(u32),
}

/// What subsystems share, read by all, written by the one that owns each
/// part (the reflection by the reflection subsystem, the configuration by
/// the lifecycle).
pub struct Shared {
    pub reflection: Reflection,
    /// The virtual servers and their real servers' state (the lvs
    /// subsystem's; the checkers read it on a reload).
    pub balancer: Balancer,
    pub config: Rc<Config>,
    pub config_path: PathBuf,
    /// Bumped by every configuration applied.
    pub generation: u64,
    pub started: Instant,
}

/// A subsystem of the daemon. Every handler must return promptly: work
/// that blocks (kernel requests that are synchronous, like IPVS's and the
/// afcluster dumps) goes to a thread of the subsystem's own, which reports
/// back through a [`Wake`].
pub trait Subsystem {
    fn name(&self) -> &'static str;
    fn start(&mut self, _cx: &mut Cx) {}
    /// A source it registered with `key` is ready.
    fn ready(&mut self, _cx: &mut Cx, _key: u64, _ev: &mio::event::Event) {}
    fn timer(&mut self, _cx: &mut Cx, _key: u64) {}
    /// A command it spawned with `key` ended.
    fn exited(&mut self, _cx: &mut Cx, _key: u64, _exit: &Exit) {}
    /// One of its threads called `Wake::wake` for `key`.
    fn woken(&mut self, _cx: &mut Cx, _key: u64) {}
    fn message(&mut self, _cx: &mut Cx, _msg: &Message) {}
    /// The status it asked for with `Cx::want_status(key)`.
    fn status_ready(&mut self, _cx: &mut Cx, _key: u64, _status: &Status) {}
    /// Its part of the status.
    fn status(&self, _shared: &Shared, _status: &mut Status) {}
    /// The daemon is stopping (SIGTERM, SIGINT).
    fn stop(&mut self, _cx: &mut Cx) {}
}

/// Lets a thread wake its subsystem in the loop (`Subsystem::woken`).
#[derive(Clone)]
pub struct Wake {
    owner: Owner,
    queue: Arc<Mutex<Vec<Owner>>>,
    waker: Arc<Waker>,
}

impl Wake {
    pub fn wake(&self) {
        let first = match self.queue.lock() {
            Ok(mut q) => {
                let first = q.is_empty();
                if !q.contains(&self.owner) {
                    q.push(self.owner);
                }
                first
            }
            Err(_) => return, // the loop panicked: nobody to wake
        };
        if first {
            if let Err(e) = self.waker.wake() {
                warn!("cannot wake the event loop: {e}");
            }
        }
    }
}

/// The loop's parts, lent to a handler through [`Cx`].
struct Core {
    poll: Poll,
    tokens: Tokens<Owner>,
    timers: Timers<Due>,
    children: Children<Owner>,
    bus: VecDeque<Message>,
    wake_queue: Arc<Mutex<Vec<Owner>>>,
    waker: Arc<Waker>,
    status_wanted: Vec<Owner>,
    stop: bool,
    shared: Shared,
}

/// A handler's view of the loop, for the subsystem `me`.
pub struct Cx<'a> {
    me: SubId,
    core: &'a mut Core,
}

impl Cx<'_> {
    pub fn shared(&self) -> &Shared {
        &self.core.shared
    }

    pub fn shared_mut(&mut self) -> &mut Shared {
        &mut self.core.shared
    }

    fn owner(&self, key: u64) -> Owner {
        Owner { sub: self.me, key }
    }

    /// Register `src`; its readiness comes to `ready(key)`.
    pub fn register<S: Source + ?Sized>(
        &mut self,
        src: &mut S,
        key: u64,
        interest: Interest,
    ) -> io::Result<Token> {
        let owner = self.owner(key);
        let t = self.core.tokens.alloc(owner);
        if let Err(e) = self.core.poll.registry().register(src, t, interest) {
            self.core.tokens.free(t);
            return Err(e);
        }
        Ok(t)
    }

    pub fn deregister<S: Source + ?Sized>(&mut self, src: &mut S, t: Token) {
        let _ = self.core.poll.registry().deregister(src);
        self.core.tokens.free(t);
    }

    /// A timer that fires `timer(key)`; arm it with `arm`.
    pub fn timer(&mut self, key: u64) -> TimerId {
        let owner = self.owner(key);
        self.core.timers.add(Due::Sub(owner))
    }

    pub fn arm(&mut self, id: TimerId, at: Instant) {
        self.core.timers.arm(id, at);
    }

    pub fn arm_in(&mut self, id: TimerId, d: Duration) {
        self.core.timers.arm(id, Instant::now() + d);
    }

    pub fn disarm(&mut self, id: TimerId) {
        self.core.timers.disarm(id);
    }

    pub fn remove_timer(&mut self, id: TimerId) {
        self.core.timers.remove(id);
    }

    /// Run a command (see `scripts::command`) without waiting; its end
    /// comes to `exited(key)`, killed with its process group at `timeout`.
    pub fn spawn(&mut self, cmd: &mut Command, timeout: Duration, key: u64) -> io::Result<u32> {
        let owner = self.owner(key);
        let core = &mut *self.core;
        core.children
            .spawn(&mut core.timers, cmd, timeout, owner, Due::ChildTimeout)
    }

    /// Kill a run (and its process group); `exited` still comes.
    pub fn kill(&mut self, pid: u32) {
        self.core.children.kill(pid);
    }

    pub fn publish(&mut self, msg: Message) {
        self.core.bus.push_back(msg);
    }

    /// For a thread of this subsystem: wakes `woken(key)`.
    pub fn wake_handle(&self, key: u64) -> Wake {
        Wake {
            owner: self.owner(key),
            queue: self.core.wake_queue.clone(),
            waker: self.core.waker.clone(),
        }
    }

    /// The whole status, built once the handler returns, to `status_ready`.
    pub fn want_status(&mut self, key: u64) {
        let owner = self.owner(key);
        self.core.status_wanted.push(owner);
    }
}

pub struct Reactor {
    core: Core,
    subs: Vec<Box<dyn Subsystem>>,
    lateness: Vec<Latency>,
    signals: Signals,
}

impl Reactor {
    pub fn new(shared: Shared) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let mut signals = Signals::new([SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGCHLD])?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        Ok(Reactor {
            core: Core {
                poll,
                tokens: Tokens::new(FIRST_TOKEN),
                timers: Timers::default(),
                children: Children::default(),
                bus: VecDeque::new(),
                wake_queue: Arc::new(Mutex::new(Vec::new())),
                waker,
                status_wanted: Vec::new(),
                stop: false,
                shared,
            },
            subs: Vec::new(),
            lateness: Vec::new(),
            signals,
        })
    }

    pub fn add(&mut self, s: Box<dyn Subsystem>) -> SubId {
        self.subs.push(s);
        self.lateness.push(Latency::default());
        self.subs.len() - 1
    }

    fn with<R>(&mut self, sub: SubId, f: impl FnOnce(&mut dyn Subsystem, &mut Cx) -> R) -> R {
        let mut cx = Cx {
            me: sub,
            core: &mut self.core,
        };
        f(self.subs[sub].as_mut(), &mut cx)
    }

    /// Start every subsystem, in the order added.
    pub fn start(&mut self) {
        for i in 0..self.subs.len() {
            self.with(i, |s, cx| s.start(cx));
            self.settle();
        }
    }

    /// Run until SIGTERM/SIGINT; then let every subsystem stop.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(256);
        while !self.core.stop {
            self.turn(&mut events, None)?;
        }
        for i in 0..self.subs.len() {
            self.with(i, |s, cx| s.stop(cx));
            self.settle();
        }
        Ok(())
    }

    /// One round: wait for readiness or the next timer (or at most
    /// `at_most`), handle what came, run the timers due.
    pub fn turn(&mut self, events: &mut Events, at_most: Option<Duration>) -> io::Result<()> {
        let timeout = self
            .core
            .timers
            .next()
            .map(|d| d.saturating_duration_since(Instant::now()));
        let timeout = match (timeout, at_most) {
            (Some(t), Some(m)) => Some(t.min(m)),
            (t, m) => t.or(m),
        };
        if let Err(e) = self.core.poll.poll(events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(e);
        }
        for ev in events.iter() {
            match ev.token() {
                SIGNALS => self.signals(),
                WAKER => self.woken(),
                t => {
                    if let Some(o) = self.core.tokens.owner(t) {
                        self.with(o.sub, |s, cx| s.ready(cx, o.key, ev));
                    }
                }
            }
            self.settle();
        }
        self.timers();
        Ok(())
    }

    /// Run `f` as subsystem `sub` would, then deliver what it published.
    #[cfg(test)]
    pub fn act(&mut self, sub: SubId, f: impl FnOnce(&mut Cx)) {
        let mut cx = Cx {
            me: sub,
            core: &mut self.core,
        };
        f(&mut cx);
        self.settle();
    }

    /// Let every subsystem stop, as at SIGTERM.
    #[cfg(test)]
    pub fn stop_all(&mut self) {
        for i in 0..self.subs.len() {
            self.with(i, |s, cx| s.stop(cx));
            self.settle();
        }
    }

    fn signals(&mut self) {
        let pending: Vec<i32> = self.signals.pending().collect();
        for sig in pending {
            match sig {
                SIGTERM | SIGINT => {
                    log::info!(
                        "stopping on {}",
                        if sig == SIGTERM { "SIGTERM" } else { "SIGINT" }
                    );
                    self.core.stop = true;
                }
                SIGCHLD => {
                    let mut exits = Vec::new();
                    let core = &mut self.core;
                    core.children.reap(&mut core.timers, &mut exits);
                    for (o, exit) in exits {
                        self.with(o.sub, |s, cx| s.exited(cx, o.key, &exit));
                        self.settle();
                    }
                }
                other => self.core.bus.push_back(Message::Signal(other)),
            }
        }
    }

    fn woken(&mut self) {
        let owners = match self.core.wake_queue.lock() {
            Ok(mut q) => std::mem::take(&mut *q),
            Err(_) => return,
        };
        for o in owners {
            self.with(o.sub, |s, cx| s.woken(cx, o.key));
            self.settle();
        }
    }

    fn timers(&mut self) {
        let now = Instant::now();
        while let Some((due, at)) = self.core.timers.pop_due(now) {
            match due {
                Due::Sub(o) => {
                    self.lateness[o.sub].record(Instant::now().saturating_duration_since(at));
                    self.with(o.sub, |s, cx| s.timer(cx, o.key));
                }
                Due::ChildTimeout(pid) => self.core.children.timed_out(pid),
            }
            self.settle();
        }
    }

    /// Deliver what handlers published (and what that publishes), then
    /// answer status requests.
    fn settle(&mut self) {
        loop {
            while let Some(msg) = self.core.bus.pop_front() {
                for i in 0..self.subs.len() {
                    self.with(i, |s, cx| s.message(cx, &msg));
                }
            }
            if self.core.status_wanted.is_empty() {
                return;
            }
            let status = self.status();
            for o in std::mem::take(&mut self.core.status_wanted) {
                self.with(o.sub, |s, cx| s.status_ready(cx, o.key, &status));
            }
        }
    }

    /// Every subsystem's part, and the loop's own.
    pub fn status(&self) -> Status {
        let shared = &self.core.shared;
        let mut st = Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            uptime_s: shared.started.elapsed().as_secs(),
            config: shared.config.path.display().to_string(),
            router_id: shared.config.global.router_id.clone(),
            ..Status::default()
        };
        for (s, l) in self.subs.iter().zip(&self.lateness) {
            s.status(shared, &mut st);
            st.subsystems.push(SubsystemStatus {
                name: s.name().to_string(),
                timer_lateness: l.summary(),
            });
        }
        st
    }
}
