//! TCP_CHECK and MISC_CHECK, with keepalived's timing: a check every
//! `delay_loop` (the first after a random part of `warmup`, so that checks
//! spread out); a server that is up goes down only after `retry` further
//! failed attempts `delay_before_retry` apart; one success brings it up.
//!
//! Everything runs on the loop: TCP connects are non-blocking sockets,
//! MISC commands children of the supervisor, and each check has one timer.
//! Verdicts carry the configuration generation they were made under.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::process::ExitStatusExt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use afcluster::balancer::{Balancer, RsId};
use afcluster::config::{Checker, MiscCheck, TcpCheck};
use log::{debug, warn};
use mio::net::TcpStream;
use mio::{Interest, Token};
use socket2::{Domain, Socket, Type};

use crate::core::{Cx, Exit, Message, Subsystem, TimerId, Verdict};
use crate::scripts::command;

enum Kind {
    Tcp { target: SocketAddr, cfg: TcpCheck },
    Misc(MiscCheck),
}

enum Running {
    Tcp(TcpStream, Token),
    Misc(u32),
}

struct Check {
    id: RsId,
    checker: usize,
    kind: Kind,
    /// The real server's configured weight (misc_dynamic goes back to it).
    base_weight: i32,
    /// misc_dynamic: the weight last asked for.
    weight_sent: Option<i32>,
    /// Consecutive failures while the server was up.
    failures: u32,
    /// No result yet.
    first: bool,
    /// The last verdict given (a check starts as the balancer says).
    up: bool,
    running: Option<Running>,
    /// Starts the next attempt, or times the running one out.
    timer: Option<TimerId>,
}

#[derive(Default)]
pub struct Checks {
    checks: Vec<Check>,
    generation: u64,
    /// Check `i` has key `key_base + i`: keys of earlier generations (a
    /// MISC command still being reaped) are recognised and ignored.
    key_base: u64,
    verdicts: Vec<Verdict>,
}

impl Checks {
    /// The checks of the balancer's configuration, each starting as the
    /// balancer holds its checker, so that a reload does not flap them.
    /// `fresh`: at startup, where keepalived lets one failure take a
    /// server down (validate_check_config: "one failure is enough
    /// initially"); after a reload, retries count from 0.
    fn build(&mut self, cx: &mut Cx, b: &Balancer, generation: u64, fresh: bool) {
        self.shutdown(cx);
        self.key_base += self.checks.len() as u64 + 1;
        self.generation = generation;
        let now = Instant::now();
        let mut noise = seed();
        let mut checks = Vec::new();
        for (vi, vs) in b.config().iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let id = RsId { vs: vi, rs: ri };
                for (ci, c) in rs.checkers.iter().enumerate() {
                    let (kind, warmup, retry) = match c {
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
                                t.retry,
                            )
                        }
                        Checker::Misc(m) => (Kind::Misc(m.clone()), m.warmup_max(), m.retry),
                        Checker::CiLinux(_) => continue,
                    };
                    noise = splitmix(noise);
                    let spread = warmup.mul_f64((noise >> 11) as f64 / (1u64 << 53) as f64);
                    let key = self.key_base + checks.len() as u64;
                    let timer = cx.timer(key);
                    cx.arm(timer, now + spread);
                    checks.push(Check {
                        id,
                        checker: ci,
                        kind,
                        base_weight: rs.weight,
                        weight_sent: None,
                        failures: if fresh { retry } else { 0 },
                        first: fresh,
                        up: b.checker_passes(id, ci),
                        running: None,
                        timer: Some(timer),
                    });
                }
            }
        }
        self.checks = checks;
    }

    fn index(&self, key: u64) -> Option<usize> {
        let i = usize::try_from(key.checked_sub(self.key_base)?).ok()?;
        (i < self.checks.len()).then_some(i)
    }

    fn launch(&mut self, cx: &mut Cx, i: usize) {
        let key = self.key_base + i as u64;
        let c = &mut self.checks[i];
        match &c.kind {
            Kind::Tcp { target, cfg } => {
                let target = *target;
                match connect(target, cfg.bind_to) {
                    Ok(mut s) => match cx.register(&mut s, key, Interest::WRITABLE) {
                        Ok(t) => {
                            if let Some(timer) = c.timer {
                                cx.arm_in(timer, cfg.connect_timeout);
                            }
                            c.running = Some(Running::Tcp(s, t));
                        }
                        Err(e) => {
                            warn!("TCP_CHECK {target}: {e}");
                            self.finish(cx, i, false, None);
                        }
                    },
                    Err(e) => {
                        debug!("TCP_CHECK {target}: {e}");
                        self.finish(cx, i, false, None);
                    }
                }
            }
            Kind::Misc(m) => {
                // The supervisor kills it at its timeout; this check's
                // timer waits for the exit.
                match cx.spawn(&mut command(&m.path), m.timeout, key) {
                    Ok(pid) => {
                        if let Some(timer) = c.timer {
                            cx.disarm(timer);
                        }
                        c.running = Some(Running::Misc(pid));
                    }
                    Err(e) => {
                        warn!("MISC_CHECK ({}): cannot run {}: {e}", m.loc, m.path.argv[0]);
                        self.finish(cx, i, false, None);
                    }
                }
            }
        }
    }

    /// An attempt ended: apply keepalived's retry rule, schedule the next.
    fn finish(&mut self, cx: &mut Cx, i: usize, ok: bool, weight: Option<i32>) {
        let generation = self.generation;
        let c = &mut self.checks[i];
        match c.running.take() {
            Some(Running::Tcp(mut s, t)) => cx.deregister(&mut s, t),
            Some(Running::Misc(pid)) => cx.kill(pid),
            None => {}
        }
        let (delay_loop, retry, before_retry, dynamic) = match &c.kind {
            Kind::Tcp { cfg, .. } => (cfg.delay_loop, cfg.retry, cfg.delay_before_retry, false),
            Kind::Misc(m) => (m.delay_loop, m.retry, m.delay_before_retry, m.dynamic),
        };
        // misc_dynamic: exit 0 (or a failure) restores the configured weight.
        let weight = match (dynamic, weight) {
            (true, None) => Some(c.base_weight),
            (_, w) => w,
        };
        let next = |d: Duration| Instant::now() + d;
        let first = std::mem::take(&mut c.first);
        let mut verdict = None;
        if ok {
            c.failures = 0;
            let at = next(delay_loop);
            if !c.up || (weight.is_some() && weight != c.weight_sent) {
                c.up = true;
                verdict = Some(weight);
            }
            if let Some(t) = c.timer {
                cx.arm(t, at);
            }
        } else if c.up && c.failures < retry {
            c.failures += 1;
            if let Some(t) = c.timer {
                cx.arm(t, next(before_retry));
            }
            return;
        } else {
            c.failures = 0;
            if let Some(t) = c.timer {
                cx.arm(t, next(delay_loop));
            }
            if c.up || first {
                c.up = false;
                verdict = Some(weight);
            }
        }
        if let Some(weight) = verdict {
            c.weight_sent = weight.or(c.weight_sent);
            self.verdicts.push(Verdict {
                generation,
                id: c.id,
                checker: c.checker,
                ok: c.up,
                weight,
                at: Instant::now(),
                first,
            });
        }
    }

    fn publish(&mut self, cx: &mut Cx) {
        if !self.verdicts.is_empty() {
            let v = std::mem::take(&mut self.verdicts);
            cx.publish(Message::Verdicts(Rc::new(v)));
        }
    }

    /// Stop everything (reload, exit): kill commands, close sockets.
    fn shutdown(&mut self, cx: &mut Cx) {
        for c in &mut self.checks {
            match c.running.take() {
                Some(Running::Tcp(mut s, t)) => cx.deregister(&mut s, t),
                Some(Running::Misc(pid)) => cx.kill(pid),
                None => {}
            }
            if let Some(t) = c.timer.take() {
                cx.remove_timer(t);
            }
        }
    }
}

impl Subsystem for Checks {
    fn name(&self) -> &'static str {
        "checkers"
    }

    fn start(&mut self, cx: &mut Cx) {
        let generation = cx.shared().generation;
        let b = cx.shared().balancer.clone();
        self.build(cx, &b, generation, true);
    }

    fn timer(&mut self, cx: &mut Cx, key: u64) {
        let Some(i) = self.index(key) else {
            return;
        };
        if self.checks[i].running.is_some() {
            debug!("check {i} timed out");
            self.finish(cx, i, false, None);
        } else {
            self.launch(cx, i);
        }
        self.publish(cx);
    }

    /// A TCP check's socket is writable: connected, or refused.
    fn ready(&mut self, cx: &mut Cx, key: u64, _ev: &mio::event::Event) {
        let Some(i) = self.index(key) else {
            return;
        };
        let Some(Running::Tcp(s, _)) = &self.checks[i].running else {
            return;
        };
        let ok = match s.take_error() {
            Ok(None) => s.peer_addr().is_ok(),
            _ => false,
        };
        self.finish(cx, i, ok, None);
        self.publish(cx);
    }

    /// A MISC command ended.
    fn exited(&mut self, cx: &mut Cx, key: u64, exit: &Exit) {
        let Some(i) = self.index(key) else {
            return; // a check of an earlier configuration
        };
        if !matches!(self.checks[i].running, Some(Running::Misc(pid)) if pid == exit.pid) {
            return;
        }
        self.checks[i].running = None;
        let dynamic = matches!(&self.checks[i].kind, Kind::Misc(m) if m.dynamic);
        let (ok, weight) = match (exit.timed_out, exit.status.code(), dynamic) {
            (true, _, _) => {
                debug!("MISC_CHECK timed out");
                (false, None)
            }
            (false, Some(0), _) => (true, None),
            (false, Some(code @ 2..=255), true) => (true, Some(code - 2)),
            (false, code, _) => {
                debug!("MISC_CHECK exit {code:?} signal {:?}", exit.status.signal());
                (false, None)
            }
        };
        self.finish(cx, i, ok, weight);
        self.publish(cx);
    }

    fn message(&mut self, cx: &mut Cx, msg: &Message) {
        // The balancer subsystem comes first in the loop, so by now it
        // holds the new configuration, with the verdicts it kept.
        if let Message::Reload(_) = msg {
            let generation = cx.shared().generation;
            let b = cx.shared().balancer.clone();
            self.build(cx, &b, generation, false);
        }
    }

    fn stop(&mut self, cx: &mut Cx) {
        self.shutdown(cx);
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
