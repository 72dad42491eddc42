//! The daemon: one mio loop (keepalived's central I/O multiplexer) over
//! the event socket, the signals, the control socket and its clients.
//! Timers are deadlines kept by their owners; the loop sleeps until the
//! nearest one, or forever when there is none: idle costs nothing.

use std::io;
use std::path::Path;
use std::time::Instant;

use afcluster::config::{Config, ConfigErrors};
use afcluster::control::Status;
use log::{error, info, warn};
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook_mio::v1_0::Signals;

use crate::checks::{Checks, Verdict};
use crate::control_server::{ControlServer, View};
use crate::lvs::Lvs;
use crate::notify_hook::NotifyHook;
use crate::service::Service;
use crate::state_dump;
use crate::sync::{StateChange, Sync};

const EVENTS: Token = Token(0);
const SIGNALS: Token = Token(1);
const CONTROL: Token = Token(2);
/// Control clients get tokens from here up.
const FIRST_CLIENT: usize = 16;

pub struct Daemon {
    poll: Poll,
    signals: Signals,
    sync: Sync,
    hook: NotifyHook,
    lvs: Lvs,
    checks: Checks,
    verdicts: Vec<Verdict>,
    control: Option<ControlServer>,
    service: Service,
    config: Config,
    /// Where the configuration is re-read from on SIGHUP.
    config_path: std::path::PathBuf,
    started: Instant,
    changes: Vec<StateChange>,
    /// The reflection's (seq, stale) the checkers last saw.
    seen: Option<(u64, bool)>,
}

impl Daemon {
    /// Subscribe, listen, load the table. Errors here stop the daemon: it
    /// cannot do its job without its sockets.
    pub fn new(config: Config, config_path: &Path) -> io::Result<Daemon> {
        let poll = Poll::new()?;
        let mut signals = Signals::new([SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGCHLD])?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        let mut sync = Sync::new(config.global.events_rcv_bufs)
            .map_err(|e| io::Error::other(format!("cannot subscribe to afcluster events: {e}")))?;
        poll.registry()
            .register(&mut sync.listener, EVENTS, Interest::READABLE)?;
        let mut control = ControlServer::bind(
            &config.global.control_socket,
            config.global.control_socket_mode,
            FIRST_CLIENT,
        )?;
        control.register(poll.registry(), CONTROL)?;
        let hook = NotifyHook::new(
            config.global.notify_node.clone(),
            config.global.notify_node_timeout,
        );
        let lvs = Lvs::new(&config);
        let checks = Checks::new(lvs.balancer().config(), |id| lvs.balancer().alive(id));
        let mut d = Daemon {
            poll,
            signals,
            sync,
            hook,
            lvs,
            checks,
            verdicts: Vec::new(),
            control: Some(control),
            service: Service::new(),
            config,
            config_path: config_path.to_path_buf(),
            started: Instant::now(),
            changes: Vec::new(),
            seen: None,
        };
        d.sync.start();
        d.lvs.start(d.sync.reflection());
        d.flush_changes();
        Ok(d)
    }

    /// Run until SIGTERM/SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        self.service.ready(&self.summary());
        let mut events = Events::with_capacity(64);
        loop {
            let timeout = self
                .deadline()
                .map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in events.iter() {
                match ev.token() {
                    EVENTS => {
                        let was_stale = self.sync.reflection().is_stale();
                        self.sync.on_readable(&mut self.changes);
                        if was_stale != self.sync.reflection().is_stale() {
                            self.service.status(&self.summary());
                        }
                    }
                    SIGNALS => {
                        if self.on_signals() {
                            return Ok(());
                        }
                    }
                    CONTROL => {
                        if let Some(c) = self.control.as_mut() {
                            c.accept(self.poll.registry());
                        }
                    }
                    t if self.checks.owns(t) => {
                        self.checks
                            .ready(self.poll.registry(), t, &mut self.verdicts)
                    }
                    t => self.client_ready(t),
                }
            }
            self.run_timers();
            self.reflection_moved();
            if !self.verdicts.is_empty() {
                let v = std::mem::take(&mut self.verdicts);
                self.lvs.verdicts(&v);
            }
            self.wake_waiters();
            self.flush_changes();
        }
    }

    fn client_ready(&mut self, t: Token) {
        // Moved out so that the status can be built (only once a request
        // is complete) while the server is borrowed.
        let Some(mut control) = self.control.take() else {
            return;
        };
        if control.owns(t) {
            control.ready(self.poll.registry(), t, &*self);
        }
        self.control = Some(control);
    }

    fn wake_waiters(&mut self) {
        if let Some(mut control) = self.control.take() {
            control.wake_waiters(self.poll.registry(), &*self);
            self.control = Some(control);
        }
    }

    /// True when asked to stop.
    fn on_signals(&mut self) -> bool {
        let pending: Vec<i32> = self.signals.pending().collect();
        let mut stop = false;
        for sig in pending {
            match sig {
                SIGTERM | SIGINT => {
                    info!(
                        "stopping on {}",
                        if sig == SIGTERM { "SIGTERM" } else { "SIGINT" }
                    );
                    stop = true;
                }
                SIGHUP => self.reload(),
                SIGUSR1 => self.dump(),
                SIGCHLD => {
                    self.hook.reap(&mut self.sync.counters);
                    self.checks.reap(self.poll.registry(), &mut self.verdicts);
                    self.lvs.scripts.reap();
                }
                _ => {}
            }
        }
        stop
    }

    fn deadline(&self) -> Option<Instant> {
        [
            self.sync.deadline(),
            self.hook.deadline(),
            self.control.as_ref().and_then(|c| c.deadline()),
            self.service.deadline(),
            self.checks.deadline(),
            self.lvs.scripts.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn run_timers(&mut self) {
        let now = Instant::now();
        self.sync.on_timer(now, &mut self.changes);
        self.hook.on_timer(now, &mut self.sync.counters);
        if let Some(c) = self.control.as_mut() {
            c.on_timer(self.poll.registry(), now);
        }
        self.service.on_timer(now);
        self.checks
            .on_timer(self.poll.registry(), now, &mut self.verdicts);
        self.lvs.scripts.on_timer(now);
    }

    /// Hand the state changes of this round to the notify_node script.
    /// After anything that may have changed the reflection: let the
    /// CI-LINUX checkers see it.
    fn reflection_moved(&mut self) {
        let r = self.sync.reflection();
        let now = (r.seq(), r.is_stale());
        if self.seen != Some(now) {
            self.seen = Some(now);
            self.lvs.on_reflection(r);
        }
    }

    fn flush_changes(&mut self) {
        for c in self.changes.drain(..) {
            self.hook.push(c, &mut self.sync.counters);
        }
    }

    /// SIGHUP: read the file again; if it is bad, keep what runs.
    fn reload(&mut self) {
        self.service.reloading();
        self.sync.counters.reloads += 1;
        match Config::load(&self.config_path) {
            Ok(new) => {
                for w in &new.warnings {
                    warn!("{w}");
                }
                self.apply(new);
            }
            Err(ConfigErrors(errors)) => {
                self.sync.counters.reload_failures += 1;
                for e in &errors {
                    error!("{e}");
                }
                error!(
                    "reload refused: {} has {} error(s); the previous configuration keeps running",
                    self.config_path.display(),
                    errors.len()
                );
            }
        }
        self.service.ready(&self.summary());
    }

    fn apply(&mut self, new: Config) {
        let g = &new.global;
        self.hook
            .configure(g.notify_node.clone(), g.notify_node_timeout);
        let old = &self.config.global;
        if g.control_socket != old.control_socket
            || g.control_socket_mode != old.control_socket_mode
        {
            self.rebind(&g.control_socket, g.control_socket_mode);
        }
        self.lvs.reload(&new, self.sync.reflection());
        self.checks.shutdown(self.poll.registry());
        let b = self.lvs.balancer();
        self.checks = Checks::new(b.config(), |id| b.alive(id));
        if g.events_rcv_bufs != self.config.global.events_rcv_bufs {
            warn!("events_rcv_bufs changes take effect at the next start");
        }
        info!("configuration reloaded from {}", self.config_path.display());
        self.config = new;
    }

    /// Move the control socket; if the new one cannot be bound, keep the old.
    fn rebind(&mut self, path: &Path, mode: u32) {
        let same_path = self.control.as_ref().is_some_and(|c| c.path() == path);
        if same_path {
            if let Err(e) =
                std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
            {
                warn!("control socket {}: {e}", path.display());
            }
            return;
        }
        match ControlServer::bind(path, mode, FIRST_CLIENT) {
            Ok(mut new) => {
                if let Err(e) = new.register(self.poll.registry(), CONTROL) {
                    warn!(
                        "control socket {}: {e}; keeping the old one",
                        path.display()
                    );
                    return;
                }
                if let Some(old) = self.control.take() {
                    old.shutdown(self.poll.registry());
                }
                info!("control socket moved to {}", path.display());
                self.control = Some(new);
            }
            Err(e) => warn!("control socket: {e}; keeping the old one"),
        }
    }

    fn dump(&mut self) {
        let path = &self.config.global.state_dump_file;
        match state_dump::write(path, &self.status()) {
            Ok(()) => info!("state dump written to {}", path.display()),
            Err(e) => warn!("state dump to {}: {e}", path.display()),
        }
    }

    fn summary(&self) -> String {
        let r = self.sync.reflection();
        if r.is_stale() {
            format!(
                "stale: {}",
                self.sync.status().stale_reason.unwrap_or_default()
            )
        } else {
            format!("reflecting {} nodes at seq {}", r.len(), r.seq())
        }
    }

    /// Clean stop: tell systemd, close the control socket.
    pub fn shutdown(mut self) {
        self.service.stopping();
        self.checks.shutdown(self.poll.registry());
        self.lvs.stop();
        if let Some(c) = self.control.take() {
            c.shutdown(self.poll.registry());
        }
        if self.hook.running() > 0 {
            info!(
                "{} notify_node run(s) still going are left to finish on their own",
                self.hook.running()
            );
        }
    }
}

impl View for Daemon {
    fn fresh_seq(&self) -> Option<u64> {
        let r = self.sync.reflection();
        (!r.is_stale()).then(|| r.seq())
    }

    fn status(&self) -> Status {
        Status {
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
            uptime_s: self.started.elapsed().as_secs(),
            config: self.config.path.display().to_string(),
            router_id: self.config.global.router_id.clone(),
            module_loaded: self.sync.module_loaded(),
            reflection: self.sync.status(),
            counters: self.sync.counters.clone(),
            virtual_servers: self.lvs.status(),
        }
    }
}
