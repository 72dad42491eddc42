//! PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK on the loop: each
//! attempt is one non-blocking socket registered with the loop (opened at
//! its turn, closed at its end, as keepalived does), driven by readiness,
//! its check's timer bounding each step. The wire formats are in each
//! checker's file, as pure functions.

use std::io;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::Duration;

use afcluster::config::{Checker, DnsCheck, PingCheck, Probe, SmtpCheck, UdpCheck};
use mio::unix::SourceFd;
use mio::{Interest, Token};
use socket2::{Domain, SockAddr, Socket, Type};

use super::{dns, ping, smtp, udp};
use crate::core::Cx;

/// One of the four, as configured.
pub enum Spec {
    Ping(PingCheck),
    Udp(UdpCheck),
    Dns(DnsCheck),
    Smtp(SmtpCheck),
}

impl Spec {
    pub fn of(c: &Checker) -> Option<Spec> {
        Some(match c {
            Checker::Ping(p) => Spec::Ping(p.clone()),
            Checker::Udp(u) => Spec::Udp(u.clone()),
            Checker::Dns(d) => Spec::Dns(d.clone()),
            Checker::Smtp(s) => Spec::Smtp(s.clone()),
            _ => return None,
        })
    }

    pub fn probe(&self) -> &Probe {
        match self {
            Spec::Ping(p) => &p.probe,
            Spec::Udp(u) => &u.probe,
            Spec::Dns(d) => &d.probe,
            Spec::Smtp(s) => &s.probe,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Spec::Ping(_) => "PING_CHECK",
            Spec::Udp(_) => "UDP_CHECK",
            Spec::Dns(_) => "DNS_CHECK",
            Spec::Smtp(_) => "SMTP_CHECK",
        }
    }

    /// Opens and registers an attempt. Err: it failed at once (the reason
    /// for the log).
    pub fn start(self: &Rc<Spec>, cx: &mut Cx, key: u64) -> Result<Run, String> {
        let (socket, state) = match &**self {
            Spec::Ping(p) => ping::start(p).map(|(s, a)| (s, State::Ping(a))),
            Spec::Udp(u) => udp::start(u).map(|(s, a)| (s, State::Udp(a))),
            Spec::Dns(d) => dns::start(d, key).map(|(s, a)| (s, State::Dns(a))),
            Spec::Smtp(s) => smtp::start(s).map(|(so, a)| (so, State::Smtp(a))),
        }?;
        let interest = match state {
            State::Smtp(_) => Interest::READABLE | Interest::WRITABLE,
            _ => Interest::READABLE,
        };
        let token = cx
            .register(&mut SourceFd(&socket.as_raw_fd()), key, interest)
            .map_err(|e| format!("cannot watch its socket: {e}"))?;
        Ok(Run {
            spec: self.clone(),
            socket,
            token,
            state,
        })
    }
}

/// What an event did to an attempt.
pub enum Progress {
    /// Still waiting, within the same step.
    Wait,
    /// A new step began: its timeout starts now.
    Step(Duration),
    /// The attempt ended: passed or not, and why (for the log).
    Done(bool, String),
}

enum State {
    Ping(ping::Attempt),
    Udp(udp::Attempt),
    Dns(dns::Attempt),
    Smtp(smtp::Attempt),
}

/// An attempt under way.
pub struct Run {
    spec: Rc<Spec>,
    socket: Socket,
    token: Token,
    state: State,
}

impl Run {
    pub fn ready(&mut self, ev: &mio::event::Event) -> Progress {
        let s = &self.socket;
        match (&mut self.state, &*self.spec) {
            (State::Ping(a), Spec::Ping(_)) => a.ready(s),
            (State::Udp(a), Spec::Udp(u)) => a.ready(s, u, ev.is_error()),
            (State::Dns(a), Spec::Dns(_)) => a.ready(s),
            (State::Smtp(a), Spec::Smtp(c)) => a.ready(s, c),
            _ => Progress::Done(false, "internal mismatch of check and attempt".into()),
        }
    }

    /// Whether running out of time is a success: UDP_CHECK without
    /// require_reply (silence is no ICMP error).
    pub fn timeout_passes(&self) -> bool {
        matches!(&*self.spec, Spec::Udp(u) if !u.require_reply)
    }

    /// What it was doing when its time ran out (for the log).
    pub fn waiting_for(&self) -> &'static str {
        match &self.state {
            State::Ping(_) => "no echo reply",
            State::Udp(_) => "no reply",
            State::Dns(_) => "no reply",
            State::Smtp(a) => a.waiting_for(),
        }
    }

    /// The checker and where it goes, for the log.
    pub fn describe(&self) -> String {
        format!("{} {}", self.spec.name(), self.spec.probe().target)
    }

    pub fn close(self, cx: &mut Cx) {
        cx.deregister(&mut SourceFd(&self.socket.as_raw_fd()), self.token);
    }
}

/// A non-blocking socket for `target`, bound to `bind_to` if given (port
/// 0), connected unless it is a stream (whose connect is left to the
/// caller).
pub fn socket(
    target: std::net::SocketAddr,
    bind_to: Option<std::net::IpAddr>,
    ty: Type,
    protocol: socket2::Protocol,
) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(target), ty, Some(protocol))?;
    s.set_nonblocking(true)?;
    if let Some(ip) = bind_to {
        s.bind(&SockAddr::from(std::net::SocketAddr::new(ip, 0)))?;
    }
    Ok(s)
}

/// Whether an I/O error only means "not yet".
pub fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
