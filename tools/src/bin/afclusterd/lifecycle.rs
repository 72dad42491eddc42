//! The daemon's life: SIGHUP reloads the configuration (a bad file keeps
//! what runs), SIGUSR1 writes the state dump, and systemd hears of it all
//! (READY, RELOADING, STATUS, the watchdog).

use std::rc::Rc;
use std::time::Instant;

use afcluster::config::ConfigErrors;
use afcluster::control::Status;
use log::{error, info, warn};
use signal_hook::consts::{SIGHUP, SIGUSR1};

use crate::core::{Cx, Message, Shared, Subsystem, TimerId};
use crate::reflection::summary;
use crate::state_dump;
use afcluster_tools::daemon::daemonize::Readiness;
use afcluster_tools::daemon::service::Service;

/// Keys of this subsystem's timer and status requests.
const WATCHDOG: u64 = 0;
const DUMP: u64 = 1;

pub struct Lifecycle {
    service: Service,
    /// The parent waiting for us to be ready (without -n).
    readiness: Option<Readiness>,
    ready: bool,
    watchdog: Option<TimerId>,
    reloads: u64,
    reload_failures: u64,
    /// The reflection's staleness systemd last heard of.
    told_stale: Option<bool>,
}

impl Lifecycle {
    pub fn new(readiness: Option<Readiness>) -> Lifecycle {
        Lifecycle {
            service: Service::new(),
            readiness,
            ready: false,
            watchdog: None,
            reloads: 0,
            reload_failures: 0,
            told_stale: None,
        }
    }

    fn reload(&mut self, cx: &mut Cx) {
        self.service.reloading();
        self.reloads += 1;
        let path = cx.shared().config_path.clone();
        // The id the daemon started with (-i), not the host name of now.
        let id = cx.shared().config.config_id.clone();
        match afcluster::config::Config::load_as(&path, id.as_deref()) {
            Ok(new) => {
                for w in &new.warnings {
                    warn!("{w}");
                }
                let old = &cx.shared().config.global;
                if new.global.events_rcv_bufs != old.events_rcv_bufs {
                    warn!("events_rcv_bufs changes take effect at the next start");
                }
                let new = Rc::new(new);
                let sh = cx.shared_mut();
                sh.config = new.clone();
                sh.generation += 1;
                cx.publish(Message::Reload(new));
                info!("configuration reloaded from {}", path.display());
            }
            Err(ConfigErrors(errors)) => {
                self.reload_failures += 1;
                for e in &errors {
                    error!("{e}");
                }
                error!(
                    "reload refused: {} has {} error(s); the previous configuration keeps running",
                    path.display(),
                    errors.len()
                );
            }
        }
        self.service.ready(&summary(cx.shared()));
    }
}

impl Subsystem for Lifecycle {
    fn name(&self) -> &'static str {
        "lifecycle"
    }

    fn start(&mut self, cx: &mut Cx) {
        if let Some(every) = self.service.watchdog_every() {
            let t = cx.timer(WATCHDOG);
            cx.arm(t, Instant::now() + every);
            self.watchdog = Some(t);
        }
    }

    fn timer(&mut self, cx: &mut Cx, key: u64) {
        if key == WATCHDOG {
            self.service.ping();
            if let (Some(t), Some(every)) = (self.watchdog, self.service.watchdog_every()) {
                cx.arm(t, Instant::now() + every);
            }
        }
    }

    fn message(&mut self, cx: &mut Cx, msg: &Message) {
        match msg {
            Message::Signal(SIGHUP) => self.reload(cx),
            Message::Signal(SIGUSR1) => cx.want_status(DUMP),
            Message::Reflection { .. } => {
                // Ready once the table is loaded, or known to be absent.
                if !self.ready {
                    self.ready = true;
                    self.service.ready(&summary(cx.shared()));
                    if let Some(r) = self.readiness.take() {
                        r.ready();
                    }
                }
                let stale = cx.shared().reflection.is_stale();
                if self.told_stale != Some(stale) {
                    self.told_stale = Some(stale);
                    self.service.status(&summary(cx.shared()));
                }
            }
            _ => {}
        }
    }

    fn status_ready(&mut self, cx: &mut Cx, key: u64, status: &Status) {
        if key != DUMP {
            return;
        }
        let path = &cx.shared().config.global.state_dump_file;
        match state_dump::write(path, status) {
            Ok(()) => info!("state dump written to {}", path.display()),
            Err(e) => warn!("state dump to {}: {e}", path.display()),
        }
    }

    fn status(&self, _shared: &Shared, st: &mut Status) {
        st.counters.reloads = self.reloads;
        st.counters.reload_failures = self.reload_failures;
    }

    fn stop(&mut self, _cx: &mut Cx) {
        self.service.stopping();
    }
}
