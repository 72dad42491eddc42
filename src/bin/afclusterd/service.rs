//! systemd's notify protocol: READY, RELOADING, STOPPING, STATUS and the
//! watchdog. Outside systemd (no NOTIFY_SOCKET) every call does nothing,
//! and there is no watchdog timer to wake the loop.

use std::time::{Duration, Instant};

use log::warn;
use sd_notify::NotifyState;

pub struct Service {
    /// Half the watchdog interval, if systemd asked for a watchdog.
    ping_every: Option<Duration>,
    next_ping: Option<Instant>,
}

impl Service {
    pub fn new() -> Service {
        let ping_every = sd_notify::watchdog_enabled().map(|d| d / 2);
        Service {
            ping_every,
            next_ping: ping_every.map(|d| Instant::now() + d),
        }
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

    pub fn deadline(&self) -> Option<Instant> {
        self.next_ping
    }

    pub fn on_timer(&mut self, now: Instant) {
        if let (Some(every), Some(next)) = (self.ping_every, self.next_ping) {
            if next <= now {
                send(&[NotifyState::Watchdog]);
                self.next_ping = Some(now + every);
            }
        }
    }
}

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!("cannot notify systemd: {e}");
    }
}
