//! TCP_CHECK, MISC_CHECK, HTTP_GET and SSL_GET ([`http`]), PING_CHECK,
//! UDP_CHECK, DNS_CHECK and SMTP_CHECK (in [`probe`] and a file each), with
//! keepalived 2.2.7's timing (the rules
//! are in [`schedule`]): a check every `delay_loop` (the first after the
//! bootstrap delay and a random part of `warmup`, so that checks spread
//! out); a server goes down only after `retry` further failed attempts
//! `delay_before_retry` apart; one success brings it up.
//!
//! Everything runs on the loop: TCP connects and HTTP exchanges are
//! non-blocking sockets, MISC commands children of the supervisor, and
//! each check has one timer. HTTP_GET's retry rule is its own
//! ([`http::epilog`]).
//! Verdicts carry the configuration generation they were made under.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use afcluster::balancer::{Balancer, RsId};
use afcluster::config::{Checker, MiscCheck, TcpCheck, VsAddress};
use log::{debug, info, trace, warn};
use mio::net::TcpStream;
use mio::{Interest, Token};
use socket2::{Domain, Socket, Type};

use crate::core::{Cx, Exit, Message, Shared, Subsystem, TimerId, Verdict};
use crate::scripts::command;
use afcluster::control::Status;

mod dns;
mod http;
mod local_addrs;
mod ping;
mod probe;
mod schedule;
mod smtp;
#[cfg(test)]
mod tests;
mod udp;

use local_addrs::LocalAddrs;
use schedule::{Rule, State, Timing};

/// The address monitor's readiness key (checks have `key_base + i`).
const LOCAL_ADDRS_KEY: u64 = u64::MAX;

enum Kind {
    Tcp { target: SocketAddr, cfg: TcpCheck },
    Misc(MiscCheck),
    Http(Box<http::Http>),
    Probe(Rc<probe::Spec>),
}

enum Running {
    Tcp(TcpStream, Token),
    Misc(u32),
    Http(Box<http::Exchange>, Token),
    Probe(probe::Run),
}

struct Check {
    id: RsId,
    checker: usize,
    kind: Kind,
    /// The real server's configured weight (misc_dynamic goes back to it).
    base_weight: i32,
    /// misc_dynamic: the weight last asked for.
    weight_sent: Option<i32>,
    /// Its retry count and verdict (a check starts as the balancer says).
    state: State,
    /// No result yet since startup (a verdict's `first`).
    first: bool,
    running: Option<Running>,
    /// When the running attempt started (MISC_CHECK's clock).
    started: Instant,
    rule: Rule,
    timing: Timing,
    /// Starts the next attempt, or times the running one out.
    timer: Option<TimerId>,
    /// ha_suspend: it runs only while its virtual server's address is
    /// local.
    suspend_unless: Option<SocketAddr>,
    /// Its real server, for the log.
    rs: SocketAddr,
    /// Suspended at its last turn (for the log and the status).
    suspended: bool,
    /// Attempts made, and the last one's result (for the status).
    attempts: u64,
    last: Option<LastResult>,
}

/// What an attempt found, for `afcluster status`.
struct LastResult {
    ok: bool,
    detail: String,
    at: Instant,
}

#[derive(Default)]
pub struct Checks {
    checks: Vec<Check>,
    generation: u64,
    /// Check `i` has key `key_base + i`: keys of earlier generations (a
    /// MISC command still being reaped) are recognised and ignored.
    key_base: u64,
    verdicts: Vec<Verdict>,
    /// Open while a virtual server has ha_suspend.
    local: Option<LocalAddrs>,
    /// SSL_GET's TLS client configuration, made at the first SSL_GET.
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Checks {
    /// The checks of the balancer's configuration, each starting as the
    /// balancer holds its checker, so that a reload does not flap them.
    /// `fresh`: at startup; else after a reload, which carries the retry
    /// counts of the checks it continues ([`states`]).
    fn build(&mut self, cx: &mut Cx, b: &Balancer, generation: u64, fresh: bool) {
        let old: Old = if fresh {
            Old::new()
        } else {
            self.checks
                .iter()
                .map(|c| ((c.id, c.checker), c.state))
                .collect()
        };
        self.shutdown(cx);
        self.key_base += self.checks.len() as u64 + 1;
        self.generation = generation;
        let now = Instant::now();
        let mut noise = seed();
        let mut checks = Vec::new();
        self.watch_local_addrs(cx, b);
        for (vi, vs) in b.config().iter().enumerate() {
            // keepalived clears ha_suspend on fwmark services (so does the
            // configuration).
            let suspend_unless = match vs.address {
                VsAddress::Addr { addr, port } if vs.ha_suspend => {
                    Some(SocketAddr::new(addr, port))
                }
                _ => None,
            };
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let id = RsId { vs: vi, rs: ri };
                let states = states(b, id, (!fresh).then_some(&old));
                for ((ci, c), state) in rs.checkers.iter().enumerate().zip(states) {
                    let (Some(mut state), Some((rule, timing, warmup))) = (state, rule_of(c))
                    else {
                        continue;
                    };
                    let kind = match c {
                        Checker::Tcp(t) => {
                            let ip = t.connect_ip.unwrap_or(rs.addr);
                            let port = t.connect_port.unwrap_or(rs.port);
                            Kind::Tcp {
                                target: SocketAddr::new(ip, port),
                                cfg: t.clone(),
                            }
                        }
                        Checker::Misc(m) => Kind::Misc(m.clone()),
                        Checker::Http(h) => {
                            let ip = h.connect_ip.unwrap_or(rs.addr);
                            let port = h.connect_port.unwrap_or(rs.port);
                            let tls = if h.tls { self.tls_config() } else { None };
                            Kind::Http(Box::new(http::Http::new(
                                h.clone(),
                                SocketAddr::new(ip, port),
                                tls,
                            )))
                        }
                        Checker::Ping(_) | Checker::Udp(_) | Checker::Dns(_) | Checker::Smtp(_) => {
                            let Some(spec) = probe::Spec::of(c) else {
                                continue;
                            };
                            if let Checker::Smtp(_) = c {
                                // smtp_start_check_thread: each first run
                                // starts its count from 0.
                                state.failures = 0;
                            }
                            Kind::Probe(Rc::new(spec))
                        }
                        Checker::CiLinux(_) | Checker::File(_) => continue,
                    };
                    noise = splitmix(noise);
                    let fraction = (noise >> 11) as f64 / (1u64 << 53) as f64;
                    let key = self.key_base + checks.len() as u64;
                    let timer = cx.timer(key);
                    cx.arm(timer, now + schedule::first_run(warmup, fraction));
                    checks.push(Check {
                        id,
                        checker: ci,
                        kind,
                        base_weight: rs.weight,
                        weight_sent: None,
                        state,
                        first: fresh,
                        running: None,
                        started: now,
                        rule,
                        timing,
                        timer: Some(timer),
                        suspend_unless,
                        rs: SocketAddr::new(rs.addr, rs.port),
                        suspended: false,
                        attempts: 0,
                        last: None,
                    });
                }
            }
        }
        self.checks = checks;
    }

    /// SSL_GET's client configuration, made once.
    fn tls_config(&mut self) -> Option<Arc<rustls::ClientConfig>> {
        if self.tls.is_none() {
            match afcluster::http_check::tls::client_config() {
                Ok(c) => self.tls = Some(c),
                Err(e) => warn!("SSL_GET: cannot make a TLS client ({e}): every SSL_GET fails"),
            }
        }
        self.tls.clone()
    }

    fn index(&self, key: u64) -> Option<usize> {
        let i = usize::try_from(key.checked_sub(self.key_base)?).ok()?;
        (i < self.checks.len()).then_some(i)
    }

    /// ha_suspend needs the local addresses: watched while a virtual
    /// server has it.
    fn watch_local_addrs(&mut self, cx: &mut Cx, b: &Balancer) {
        let wanted = b.config().iter().any(|vs| vs.ha_suspend);
        match (wanted, self.local.is_some()) {
            (true, false) => match LocalAddrs::open(cx, LOCAL_ADDRS_KEY) {
                Ok(l) => self.local = Some(l),
                Err(e) => warn!(
                    "ha_suspend: cannot watch this machine's addresses ({e}): the checkers run \
                     whether the virtual addresses are here or not"
                ),
            },
            (false, true) => {
                if let Some(l) = self.local.take() {
                    l.close(cx);
                }
            }
            _ => {}
        }
    }

    /// keepalived's disabled checker: at its turn it does not run, and
    /// comes back after delay_loop.
    fn suspended(&mut self, cx: &mut Cx, i: usize) -> bool {
        let c = &mut self.checks[i];
        let (here, vs) = match (c.suspend_unless, &self.local) {
            (Some(vs), Some(l)) => (l.has(vs.ip()), vs),
            _ => return false,
        };
        if here == c.suspended {
            info!(
                "{} the healthchecker of real server {} of virtual server {vs} (ha_suspend)",
                if here { "Activating" } else { "Suspending" },
                c.rs
            );
            c.suspended = !here;
        }
        if here {
            return false;
        }
        if let Some(t) = c.timer {
            cx.arm_in(t, c.timing.delay_loop);
        }
        true
    }

    fn launch(&mut self, cx: &mut Cx, i: usize) {
        if self.suspended(cx, i) {
            return;
        }
        let key = self.key_base + i as u64;
        let c = &mut self.checks[i];
        c.started = Instant::now();
        match &c.kind {
            Kind::Tcp { target, cfg } => {
                let target = *target;
                match connect(target, cfg.bind_to.map(|ip| SocketAddr::new(ip, 0))) {
                    Ok(mut s) => match cx.register(&mut s, key, Interest::WRITABLE) {
                        Ok(t) => {
                            if let Some(timer) = c.timer {
                                cx.arm_in(timer, cfg.connect_timeout);
                            }
                            c.running = Some(Running::Tcp(s, t));
                        }
                        Err(e) => {
                            warn!("TCP_CHECK {target}: {e}");
                            self.finish(
                                cx,
                                i,
                                false,
                                None,
                                format!("cannot watch the socket: {e}"),
                            );
                        }
                    },
                    Err(e) => {
                        debug!("TCP_CHECK {target}: {e}");
                        self.finish(cx, i, false, None, format!("cannot connect: {e}"));
                    }
                }
            }
            Kind::Http(h) => {
                let timeout = h.cfg.connect_timeout;
                let started = h.start().and_then(|mut ex| {
                    cx.register(ex.stream(), key, Interest::READABLE | Interest::WRITABLE)
                        .map(|t| (ex, t))
                        .map_err(|e| format!("cannot watch the socket: {e}"))
                });
                match started {
                    Ok((ex, t)) => {
                        if let Some(timer) = c.timer {
                            cx.arm_in(timer, timeout);
                        }
                        c.running = Some(Running::Http(Box::new(ex), t));
                    }
                    Err(e) => {
                        debug!("{}: {e}", h.describe());
                        self.finish(cx, i, false, None, e);
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
                        self.finish(cx, i, false, None, format!("cannot run: {e}"));
                    }
                }
            }
            Kind::Probe(spec) => match spec.start(cx, key) {
                Ok(run) => {
                    if let Some(timer) = c.timer {
                        cx.arm_in(timer, spec.probe().connect_timeout);
                    }
                    c.running = Some(Running::Probe(run));
                }
                Err(why) => {
                    debug!("{} {}: {why}", spec.name(), spec.probe().target);
                    self.finish(cx, i, false, None, why.to_string());
                }
            },
        }
    }

    /// An attempt ended: apply keepalived's retry rule, schedule the next.
    fn finish(&mut self, cx: &mut Cx, i: usize, ok: bool, weight: Option<i32>, detail: String) {
        let generation = self.generation;
        let c = &mut self.checks[i];
        c.attempts += 1;
        c.last = Some(LastResult {
            ok,
            detail,
            at: Instant::now(),
        });
        match c.running.take() {
            Some(Running::Tcp(mut s, t)) => cx.deregister(&mut s, t),
            Some(Running::Misc(pid)) => cx.kill(pid),
            Some(Running::Http(mut ex, t)) => cx.deregister(ex.stream(), t),
            Some(Running::Probe(r)) => r.close(cx),
            None => {}
        }
        let dynamic = matches!(&c.kind, Kind::Misc(m) if m.dynamic);
        // misc_dynamic: exit 0 (or a failure) restores the configured weight.
        let weight = match (dynamic, weight) {
            (true, None) => Some(c.base_weight),
            (_, w) => w,
        };
        let now = Instant::now();
        let step = match &mut c.kind {
            Kind::Http(h) => http::epilog::result(
                &mut c.state,
                &mut h.cursor,
                h.cfg.urls.len(),
                &c.timing,
                h.cfg.fast_recovery,
                ok,
                now,
            ),
            _ => c.state.result(c.rule, &c.timing, ok, c.started, now),
        };
        if let Some(t) = c.timer {
            cx.arm(t, step.next);
        }
        let first = std::mem::take(&mut c.first);
        let weight_moved = ok && weight.is_some() && weight != c.weight_sent;
        if step.verdict.is_none() && !weight_moved {
            return;
        }
        c.weight_sent = weight.or(c.weight_sent);
        self.verdicts.push(Verdict {
            generation,
            id: c.id,
            checker: c.checker,
            ok: c.state.up,
            weight,
            at: now,
            first,
        });
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
                Some(Running::Http(mut ex, t)) => cx.deregister(ex.stream(), t),
                Some(Running::Probe(r)) => r.close(cx),
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
        if let Some(running) = &self.checks[i].running {
            // UDP_CHECK without require_reply: silence passes.
            let (ok, detail) = match (running, &self.checks[i].kind) {
                (Running::Probe(r), _) => {
                    debug!("{}: {}", r.describe(), r.waiting_for());
                    (
                        r.timeout_passes(),
                        format!("timed out: {}", r.waiting_for()),
                    )
                }
                (Running::Http(ex, _), Kind::Http(h)) => {
                    let what = if ex.connected() {
                        "Timeout reading"
                    } else {
                        "Timeout connecting"
                    };
                    debug!("{}: {what}", h.describe());
                    (false, what.to_string())
                }
                _ => (false, "timed out connecting".to_string()),
            };
            debug!("check {i} timed out");
            self.finish(cx, i, ok, None, detail);
        } else {
            self.launch(cx, i);
        }
        self.publish(cx);
    }

    /// A TCP check's socket is writable (connected, or refused), or a
    /// probe's socket is ready.
    fn ready(&mut self, cx: &mut Cx, key: u64, ev: &mio::event::Event) {
        if key == LOCAL_ADDRS_KEY {
            // Checks look at the addresses at their next turn.
            if let Some(l) = &mut self.local {
                l.ready();
            }
            return;
        }
        let Some(i) = self.index(key) else {
            return;
        };
        let c = &mut self.checks[i];
        if let (Some(Running::Http(ex, _)), Kind::Http(h)) = (&mut c.running, &c.kind) {
            match ex.ready(h.url()) {
                http::Step::Wait { progressed: true } => {
                    if let Some(t) = c.timer {
                        cx.arm_in(t, h.cfg.connect_timeout);
                    }
                }
                http::Step::Wait { progressed: false } => {}
                http::Step::Done(r) => {
                    let (ok, detail) = match r {
                        Ok(code) => (true, format!("status {code}")),
                        Err(why) => (false, why),
                    };
                    debug!("{}: {detail}", h.describe());
                    self.finish(cx, i, ok, None, detail);
                    self.publish(cx);
                }
            }
            return;
        }
        let s = match &mut self.checks[i].running {
            Some(Running::Tcp(s, _)) => s,
            Some(Running::Probe(r)) => {
                match r.ready(ev) {
                    probe::Progress::Wait => {}
                    probe::Progress::Step(d) => {
                        if let Some(t) = self.checks[i].timer {
                            cx.arm_in(t, d);
                        }
                    }
                    probe::Progress::Done(ok, why) => {
                        if ok {
                            trace!("{}: {why}", r.describe());
                        } else {
                            debug!("{}: {why}", r.describe());
                        }
                        self.finish(cx, i, ok, None, why.to_string());
                        self.publish(cx);
                    }
                }
                return;
            }
            _ => return,
        };
        let (ok, detail) = match s.take_error() {
            Ok(None) => match s.peer_addr() {
                Ok(_) => (true, "connected".to_string()),
                Err(e) => (false, e.to_string()),
            },
            Ok(Some(e)) | Err(e) => (false, e.to_string()),
        };
        self.finish(cx, i, ok, None, detail);
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
        let (ok, weight, detail) = match (exit.timed_out, exit.status.code(), dynamic) {
            (true, _, _) => {
                debug!("MISC_CHECK timed out");
                (false, None, "timed out: killed".to_string())
            }
            (false, Some(0), _) => (true, None, "exit 0".to_string()),
            (false, Some(code @ 2..=255), true) => (
                true,
                Some(code - 2),
                format!("exit {code}: weight {}", code - 2),
            ),
            (false, code, _) => {
                debug!("MISC_CHECK exit {code:?} signal {:?}", exit.status.signal());
                let detail = match (code, exit.status.signal()) {
                    (Some(code), _) => format!("exit {code}"),
                    (None, Some(sig)) => format!("killed by signal {sig}"),
                    (None, None) => "ended".to_string(),
                };
                (false, None, detail)
            }
        };
        self.finish(cx, i, ok, weight, detail);
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

    /// Each check's count and last result, into the real servers lvs.rs
    /// listed (it comes before in the loop).
    fn status(&self, _shared: &Shared, st: &mut Status) {
        let now = Instant::now();
        for c in &self.checks {
            let Some(out) = st
                .virtual_servers
                .get_mut(c.id.vs)
                .and_then(|vs| vs.real_servers.get_mut(c.id.rs))
                .and_then(|rs| rs.checkers.get_mut(c.checker))
            else {
                continue;
            };
            out.suspended = c.suspended;
            out.attempts = c.attempts;
            if c.state.ran {
                out.failures = Some(c.state.failures);
            }
            out.retry = Some(c.timing.retry);
            if let Some(l) = &c.last {
                out.last = Some(l.detail.clone());
                out.last_ok = Some(l.ok);
                let age = now.saturating_duration_since(l.at);
                out.last_age_ms = Some(u64::try_from(age.as_millis()).unwrap_or(u64::MAX));
            }
        }
    }

    fn stop(&mut self, cx: &mut Cx) {
        self.shutdown(cx);
        if let Some(l) = self.local.take() {
            l.close(cx);
        }
    }
}

/// The states of the checks before a reload, by real server and checker.
type Old = HashMap<(RsId, usize), State>;

/// The states real server `id`'s checkers start with, per checker (None:
/// not a check of ours): at startup (`old` None) one failure is enough;
/// after a reload a check continuing an old one carries its count, and
/// those that have not run need one failure beside a failed checker
/// (ipwrapper.c migrate_checkers).
fn states(b: &Balancer, id: RsId, old: Option<&Old>) -> Vec<Option<State>> {
    let rs = &b.config()[id.vs].real_servers[id.rs];
    let carried = old.and_then(|_| b.carried(id));
    let mut states: Vec<Option<(State, u32)>> = rs
        .checkers
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let retry = rule_of(c)?.1.retry;
            let up = b.checker_passes(id, ci);
            let Some(old) = old else {
                return Some((State::at_start(up, retry), retry));
            };
            let was = carried
                .and_then(|cr| Some((cr.from, (*cr.checkers.get(ci)?)?)))
                .and_then(|k| old.get(&k));
            let state = match was {
                Some(was) => State::carried(*was, up, retry),
                None => State::new_on_reload(up),
            };
            Some((state, retry))
        })
        .collect();
    if let Some(cr) = carried {
        let other_failing = rs
            .checkers
            .iter()
            .enumerate()
            .any(|(ci, c)| rule_of(c).is_none() && !b.checker_passes(id, ci));
        let mut ours: Vec<(State, u32)> = states.iter().flatten().copied().collect();
        schedule::after_reload(&mut ours, other_failing, cr.was_alive);
        let mut ours = ours.into_iter();
        for s in states.iter_mut().flatten() {
            if let Some(new) = ours.next() {
                *s = new;
            }
        }
    }
    states.into_iter().map(|s| s.map(|(s, _)| s)).collect()
}

/// A checker's rule, timing and longest warmup; None for CI-LINUX, which
/// the reflection drives, and FILE_CHECK, which inotify drives (lvs.rs).
fn rule_of(c: &Checker) -> Option<(Rule, Timing, Duration)> {
    match c {
        Checker::Tcp(t) => Some((
            Rule::Tcp,
            Timing {
                delay_loop: t.delay_loop,
                retry: t.retry,
                delay_before_retry: t.delay_before_retry,
            },
            t.warmup_max(),
        )),
        Checker::Misc(m) => Some((
            Rule::Misc,
            Timing {
                delay_loop: m.delay_loop,
                retry: m.retry,
                delay_before_retry: m.delay_before_retry,
            },
            m.warmup_max(),
        )),
        // HTTP's rule is http::epilog's: the Rule is not consulted.
        Checker::Http(h) => Some((
            Rule::Tcp,
            Timing {
                delay_loop: h.delay_loop,
                retry: h.retry,
                delay_before_retry: h.delay_before_retry,
            },
            h.warmup_max(),
        )),
        Checker::Ping(_) | Checker::Udp(_) | Checker::Dns(_) | Checker::Smtp(_) => {
            let (p, rule) = match c {
                Checker::Ping(p) => (&p.probe, Rule::Udp),
                Checker::Udp(u) => (&u.probe, Rule::Udp),
                Checker::Dns(d) => (&d.probe, Rule::Dns),
                Checker::Smtp(s) => (&s.probe, Rule::Tcp),
                _ => return None,
            };
            Some((
                rule,
                Timing {
                    delay_loop: p.delay_loop,
                    retry: p.retry,
                    delay_before_retry: p.delay_before_retry,
                },
                p.warmup_max(),
            ))
        }
        Checker::CiLinux(_) | Checker::File(_) => None,
    }
}

/// A non-blocking connect, from `bind_to` if given.
fn connect(target: SocketAddr, bind_to: Option<SocketAddr>) -> io::Result<TcpStream> {
    // socket2 opens it close-on-exec: MISC commands do not inherit it.
    let s = Socket::new(Domain::for_address(target), Type::STREAM, None)?;
    s.set_nonblocking(true)?;
    if let Some(a) = bind_to {
        s.bind(&a.into())?;
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
