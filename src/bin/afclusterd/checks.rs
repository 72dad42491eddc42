//! TCP_CHECK and MISC_CHECK, with keepalived's timing: a check every
//! `delay_loop` (the first after a random part of `warmup`, so that checks
//! spread out); a server that is up goes down only after `retry` further
//! failed attempts `delay_before_retry` apart; one success brings it up.
//!
//! Everything runs inside the event loop: TCP connects are non-blocking
//! sockets registered with mio, MISC commands are children reaped on
//! SIGCHLD, and each check keeps one deadline.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::process::ExitStatusExt;
use std::process::Child;
use std::time::{Duration, Instant};

use afcluster::balancer::RsId;
use afcluster::config::{Checker, MiscCheck, TcpCheck, VirtualServer};
use log::{debug, warn};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use socket2::{Domain, Socket, Type};

use crate::scripts::command;

/// Check sockets get tokens from here up, apart from the loop's others.
pub const FIRST_TOKEN: usize = 1 << 32;

/// A checker's verdict on its real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub id: RsId,
    pub checker: usize,
    pub ok: bool,
    /// misc_dynamic: the weight the exit status asks for.
    pub weight: Option<i32>,
}

enum Kind {
    Tcp { target: SocketAddr, cfg: TcpCheck },
    Misc(MiscCheck),
}

enum Running {
    Tcp(TcpStream),
    Misc(Child),
}

struct Check {
    id: RsId,
    checker: usize,
    kind: Kind,
    /// Consecutive failures while the server was up.
    failures: u32,
    /// The last verdict given (servers start as the balancer says).
    up: bool,
    running: Option<Running>,
    /// When to start the next attempt, or when the running one times out.
    deadline: Instant,
}

pub struct Checks {
    checks: Vec<Check>,
    /// Misc children by pid, to find their check on SIGCHLD.
    by_pid: HashMap<u32, usize>,
}

impl Checks {
    /// The checks of a configuration; `alive` says how each server starts.
    pub fn new(vss: &[VirtualServer], alive: impl Fn(RsId) -> bool) -> Checks {
        let now = Instant::now();
        let mut noise = seed();
        let mut checks = Vec::new();
        for (vi, vs) in vss.iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let id = RsId { vs: vi, rs: ri };
                for (ci, c) in rs.checkers.iter().enumerate() {
                    let (kind, warmup) = match c {
                        Checker::Tcp(t) => {
                            let ip = t.connect_ip.unwrap_or(rs.addr);
                            let port = t.connect_port.unwrap_or(rs.port);
                            let target = SocketAddr::new(ip, port);
                            (
                                Kind::Tcp {
                                    target,
                                    cfg: t.clone(),
                                },
                                t.warmup_max(),
                            )
                        }
                        Checker::Misc(m) => (Kind::Misc(m.clone()), m.warmup_max()),
                        Checker::CiLinux(_) => continue,
                    };
                    noise = splitmix(noise);
                    let spread = warmup.mul_f64((noise >> 11) as f64 / (1u64 << 53) as f64);
                    checks.push(Check {
                        id,
                        checker: ci,
                        kind,
                        failures: 0,
                        up: alive(id),
                        running: None,
                        deadline: now + spread,
                    });
                }
            }
        }
        Checks {
            checks,
            by_pid: HashMap::new(),
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.checks.iter().map(|c| c.deadline).min()
    }

    /// Start due checks; fail those that ran out of time.
    pub fn on_timer(&mut self, r: &Registry, now: Instant, out: &mut Vec<Verdict>) {
        for i in 0..self.checks.len() {
            if self.checks[i].deadline > now {
                continue;
            }
            if self.checks[i].running.is_some() {
                debug!("check {i} timed out");
                self.finish(r, i, false, None, out);
            } else {
                self.launch(r, i, now, out);
            }
        }
    }

    fn launch(&mut self, r: &Registry, i: usize, now: Instant, out: &mut Vec<Verdict>) {
        let c = &mut self.checks[i];
        match &c.kind {
            Kind::Tcp { target, cfg } => match connect(*target, cfg.bind_to) {
                Ok(mut s) => {
                    let token = Token(FIRST_TOKEN + i);
                    if let Err(e) = r.register(&mut s, token, Interest::WRITABLE) {
                        warn!("TCP_CHECK {target}: {e}");
                        return self.finish(r, i, false, None, out);
                    }
                    c.deadline = now + cfg.connect_timeout;
                    c.running = Some(Running::Tcp(s));
                }
                Err(e) => {
                    debug!("TCP_CHECK {target}: {e}");
                    self.finish(r, i, false, None, out);
                }
            },
            Kind::Misc(m) => match command(&m.path).spawn() {
                Ok(child) => {
                    self.by_pid.insert(child.id(), i);
                    c.deadline = now + m.timeout;
                    c.running = Some(Running::Misc(child));
                }
                Err(e) => {
                    warn!("MISC_CHECK ({}): cannot run {}: {e}", m.loc, m.path.argv[0]);
                    self.finish(r, i, false, None, out);
                }
            },
        }
    }

    /// Whether a token is one of the checks' sockets.
    pub fn owns(&self, t: Token) -> bool {
        t.0 >= FIRST_TOKEN && t.0 - FIRST_TOKEN < self.checks.len()
    }

    /// A TCP check's socket is writable: connected, or refused.
    pub fn ready(&mut self, r: &Registry, t: Token, out: &mut Vec<Verdict>) {
        let i = t.0 - FIRST_TOKEN;
        let Some(Running::Tcp(s)) = &self.checks[i].running else {
            return;
        };
        let ok = match s.take_error() {
            Ok(None) => s.peer_addr().is_ok(),
            _ => false,
        };
        self.finish(r, i, ok, None, out);
    }

    /// SIGCHLD: collect finished MISC commands.
    pub fn reap(&mut self, r: &Registry, out: &mut Vec<Verdict>) {
        let mut done = Vec::new();
        for (&pid, &i) in &self.by_pid {
            if let Some(Running::Misc(child)) = &mut self.checks[i].running {
                match child.try_wait() {
                    Ok(Some(status)) => done.push((pid, i, status)),
                    Ok(None) => {}
                    Err(e) => warn!("MISC_CHECK pid {pid}: {e}"),
                }
            }
        }
        for (pid, i, status) in done {
            self.by_pid.remove(&pid);
            let dynamic = matches!(&self.checks[i].kind, Kind::Misc(m) if m.dynamic);
            let (ok, weight) = match (status.code(), dynamic) {
                (Some(0), _) => (true, None),
                (Some(code @ 2..=255), true) => (true, Some(code - 2)),
                (code, _) => {
                    debug!("MISC_CHECK exit {code:?} signal {:?}", status.signal());
                    (false, None)
                }
            };
            self.finish(r, i, ok, weight, out);
        }
    }

    /// An attempt ended: apply keepalived's retry rule, schedule the next.
    fn finish(
        &mut self,
        r: &Registry,
        i: usize,
        ok: bool,
        weight: Option<i32>,
        out: &mut Vec<Verdict>,
    ) {
        let c = &mut self.checks[i];
        match c.running.take() {
            Some(Running::Tcp(mut s)) => {
                let _ = r.deregister(&mut s);
            }
            Some(Running::Misc(mut child)) => {
                self.by_pid.remove(&child.id());
                stop(&mut child);
            }
            None => {}
        }
        let (delay_loop, retry, before_retry) = match &c.kind {
            Kind::Tcp { cfg, .. } => (cfg.delay_loop, cfg.retry, cfg.delay_before_retry),
            Kind::Misc(m) => (m.delay_loop, m.retry, m.delay_before_retry),
        };
        let now = Instant::now();
        if ok {
            c.failures = 0;
            c.deadline = now + delay_loop;
            if !c.up || weight.is_some() {
                c.up = true;
                out.push(verdict(c, true, weight));
            }
            return;
        }
        if c.up && c.failures < retry {
            c.failures += 1;
            c.deadline = now + before_retry;
            return;
        }
        c.failures = 0;
        c.deadline = now + delay_loop;
        if c.up {
            c.up = false;
            out.push(verdict(c, false, None));
        }
    }

    /// Stop everything (reload, exit): kill commands, close sockets.
    pub fn shutdown(&mut self, r: &Registry) {
        for c in &mut self.checks {
            match c.running.take() {
                Some(Running::Tcp(mut s)) => {
                    let _ = r.deregister(&mut s);
                }
                Some(Running::Misc(mut child)) => stop(&mut child),
                None => {}
            }
        }
        self.by_pid.clear();
    }
}

/// A command still running (timed out, or the checks are going away):
/// kill it and what it started, and reap it (SIGKILL makes that quick).
fn stop(child: &mut Child) {
    if child.try_wait().ok().flatten().is_none() {
        if let Ok(pgid) = i32::try_from(child.id()) {
            // SAFETY: plain syscall on a process group we made.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
        let _ = child.wait();
    }
}

fn verdict(c: &Check, ok: bool, weight: Option<i32>) -> Verdict {
    Verdict {
        id: c.id,
        checker: c.checker,
        ok,
        weight,
    }
}

/// A non-blocking connect, from `bind_to` if given.
fn connect(target: SocketAddr, bind_to: Option<IpAddr>) -> io::Result<TcpStream> {
    // socket2 opens it close-on-exec: MISC commands do not inherit it.
    let s = Socket::new(Domain::for_address(target), Type::STREAM, None)?;
    s.set_nonblocking(true)?;
    if let Some(ip) = bind_to {
        s.bind(&SocketAddr::new(ip, 0).into())?;
    }
    match s.connect(&target.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(s.into()))
}

/// Spreading first checks needs no more than this.
fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    t.as_nanos() as u64 ^ u64::from(std::process::id())
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
