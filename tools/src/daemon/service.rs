//! systemd's notify protocol: READY, RELOADING, STOPPING, STATUS and the
//! watchdog. Outside systemd (no NOTIFY_SOCKET) every call does nothing,
//! and there is no watchdog timer to wake the loop.

use std::time::Duration;

use log::warn;
use sd_notify::NotifyState;

pub struct Service {
    /// Half the watchdog interval, if systemd asked for a watchdog.
    ping_every: Option<Duration>,
}

impl Default for Service {
    fn default() -> Service {
        Service::new()
    }
}

impl Service {
    pub fn new() -> Service {
        let ping_every = sd_notify::watchdog_enabled().map(|d| d / 2);
        Service { ping_every }
    }

    pub fn ready(&self, status: &str) {
        send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    pub fn status(&self, status: &str) {
        send(&[NotifyState::Status(status)]);
    }

    pub fn reloading(&self) {
        // systemd 253+ (Type=notify-reload) wants the reload's timestamp.
        match NotifyState::monotonic_usec_now() {
            Ok(now) => send(&[NotifyState::Reloading, now]),
            Err(_) => send(&[NotifyState::Reloading]),
        }
    }

    pub fn stopping(&self) {
        send(&[NotifyState::Stopping]);
    }

    /// How often to ping the watchdog, if systemd asked for one.
    pub fn watchdog_every(&self) -> Option<Duration> {
        self.ping_every
    }

    pub fn ping(&self) {
        send(&[NotifyState::Watchdog]);
    }
}

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!("cannot notify systemd: {e}");
    }
}
