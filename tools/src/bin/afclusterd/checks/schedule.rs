//! When a checker runs next and what a result does to it, as keepalived
//! 2.2.7 does it (the version Debian 12 ships and the differential test
//! runs against): check_tcp.c tcp_epilog, check_misc.c
//! misc_check_child_thread, check_ping.c icmp_epilog, check_udp.c
//! udp_epilog, check_dns.c dns_final, check_api.c register_checkers_thread
//! and ipwrapper.c migrate_checkers. Pure: the caller owns the clock.

use std::time::{Duration, Instant};

/// keepalived's BOOTSTRAP_DELAY (lib/scheduler.h, one TIMER_HZ): every
/// checker's first run waits this before its random part of warmup, at
/// startup and after each reload alike (register_checkers_thread).
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);

/// Whose retry rule and clock apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// TCP_CHECK, and SMTP_CHECK (smtp_final counts the same way; its
    /// count also starts from 0 at each first run, which the caller sets).
    Tcp,
    Misc,
    /// PING_CHECK and UDP_CHECK (icmp_epilog, udp_epilog): failures are
    /// counted only while up; timed from the result.
    Udp,
    /// DNS_CHECK (dns_final): counted while up or before the first
    /// result, as MISC_CHECK; timed from the result.
    Dns,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub delay_loop: Duration,
    pub retry: u32,
    pub delay_before_retry: Duration,
}

/// keepalived's checker_t `retry_it`, `is_up` and `has_run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Failed attempts counted towards `retry`.
    pub failures: u32,
    /// The checker passes (as the balancer last heard).
    pub up: bool,
    /// A result came since the checker was created.
    pub ran: bool,
}

/// What one result did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// When the next attempt starts.
    pub next: Instant,
    /// The checker's new verdict, when the balancer must hear it.
    pub verdict: Option<bool>,
}

/// How long after startup or a reload a checker first runs: the bootstrap
/// delay, then `fraction` (0 to 1, random) of its warmup, which spreads
/// the checks out (`warmup * random() / RAND_MAX` in keepalived).
pub fn first_run(warmup: Duration, fraction: f64) -> Duration {
    BOOTSTRAP_DELAY + warmup.mul_f64(fraction.clamp(0.0, 1.0))
}

impl State {
    /// At startup one failure is enough (check_data.c
    /// validate_check_config sets retry_it to retry).
    pub fn at_start(up: bool, retry: u32) -> State {
        State {
            failures: retry,
            up,
            ran: false,
        }
    }

    /// A checker a reload brings that continues none: retry_it 0, as
    /// queue_checker leaves it.
    pub fn new_on_reload(up: bool) -> State {
        State {
            failures: 0,
            up,
            ran: false,
        }
    }

    /// A checker that continues `old` across a reload (migrate_checkers):
    /// it keeps whether it ran, and its count, but short of the new retry
    /// so that another failure is needed; none without retries. This is
    /// 2.2.7's rule: later versions set retry + 1 for a checker that is
    /// down and cap the count at retry otherwise.
    pub fn carried(old: State, up: bool, retry: u32) -> State {
        let failures = if old.failures > 0 && retry > 0 {
            old.failures.min(retry - 1)
        } else {
            0
        };
        State {
            failures,
            up,
            ran: old.ran,
        }
    }

    /// The result of an attempt that started at `started` and ended at
    /// `now`.
    pub fn result(
        &mut self,
        rule: Rule,
        t: &Timing,
        ok: bool,
        started: Instant,
        now: Instant,
    ) -> Step {
        let (was_up, ran) = (self.up, self.ran);
        self.ran = true;
        // TCP_CHECK counts failures whatever its state: 2.2.7 retries a
        // server that is already down at delay_before_retry too (later
        // versions do not). MISC_CHECK and DNS_CHECK count them only while
        // up or before their first result, PING_CHECK and UDP_CHECK only
        // while up (though before the first result one that has used its
        // retries goes down).
        let counts = match rule {
            Rule::Tcp => true,
            Rule::Misc | Rule::Dns => was_up || !ran,
            Rule::Udp => was_up,
        };
        let may_go_down = rule == Rule::Tcp || was_up || !ran;
        let mut verdict = None;
        let mut counted = false;
        if ok {
            self.failures = 0;
            self.up = true;
            if !was_up {
                verdict = Some(true);
            }
        } else if may_go_down && self.failures >= t.retry {
            self.failures = 0;
            self.up = false;
            if was_up || !ran {
                verdict = Some(false);
            }
        } else if counts {
            self.failures += 1;
            counted = true;
        } else if rule == Rule::Dns {
            // dns_final resets the count of a server that is down.
            self.failures = 0;
        }
        // A retry is due while failures are being counted (MISC_CHECK),
        // or after one was just counted (the others).
        let retrying = match rule {
            Rule::Misc => self.failures > 0,
            _ => counted,
        };
        let delay = if retrying {
            t.delay_before_retry
        } else {
            t.delay_loop
        };
        let next = match rule {
            // tcp_epilog and the others: from the result.
            Rule::Tcp | Rule::Udp | Rule::Dns => now + delay,
            // misc_check_child_thread: from the start of the run
            // (last_ran), at once if that is already past.
            Rule::Misc => (started + delay).max(now),
        };
        Step { next, verdict }
    }
}

/// After a reload, for the checkers of a real server that continues one
/// (migrate_checkers): if one of its checkers has failed (`other_failing`:
/// one that is not a TCP or MISC check), or it was down and none has run,
/// one failure is enough for those that have not run.
pub fn after_reload(states: &mut [(State, u32)], other_failing: bool, was_alive: bool) {
    let failed = other_failing || states.iter().any(|(s, _)| s.ran && !s.up);
    let any_ran = states.iter().any(|(s, _)| s.ran);
    if failed || (!was_alive && !any_ran) {
        for (s, retry) in states.iter_mut().filter(|(s, _)| !s.ran) {
            s.failures = *retry;
        }
    }
}

#[cfg(test)]
mod tests;
