//! HTTP_GET's and SSL_GET's own retry rule, keepalived 2.2.7's `epilog`
//! and `timeout_epilog` (check_http.c), which differ from TCP_CHECK's:
//!
//! - the urls are checked one per attempt, in order, `delay_loop` apart;
//!   the checker passes when the last one does, if none has failed;
//! - a failure is retried on the same url `delay_before_retry` later, up
//!   to `retry` times; then the checker fails and that url is the failed
//!   one, retried every max(delay_loop, delay_before_retry);
//! - when the failed url passes again, every url is checked again from the
//!   first (delay_loop apart) before the checker passes;
//! - while down, a failure moves nothing (no count: it is known to be down);
//! - `fast_recovery`: the next attempt starts at once before the first
//!   result, and while down with no failed url (checking its way back up).
//!
//! [`State`]'s fields are keepalived's `retry_it`, `is_up` and `has_run`.

use std::time::Instant;

use crate::checks::schedule::{State, Step, Timing};

/// Which url is next, and which one failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    /// keepalived's `url_it`.
    pub url: usize,
    /// keepalived's `failed_url`.
    pub failed: Option<usize>,
}

/// The result of an attempt on `cursor.url` (`ok`), ended `now`, among
/// `n_urls`: the next attempt's time and the verdict to send, if any.
pub fn result(
    state: &mut State,
    cursor: &mut Cursor,
    n_urls: usize,
    t: &Timing,
    fast_recovery: bool,
    ok: bool,
    now: Instant,
) -> Step {
    let mut verdict = None;
    if ok {
        // epilog(REGISTER_CHECKER_NEW)
        let next = cursor.url + 1;
        state.failures = 0;
        if next >= n_urls && cursor.failed.is_none() {
            if !state.up || !state.ran {
                verdict = Some(true);
                state.up = true;
                state.ran = true;
            }
            cursor.url = 0;
        } else if cursor.failed.is_some() {
            // The failed url is back: check them all again (a single url
            // too: it must pass once more).
            cursor.failed = None;
            cursor.url = 0;
        } else {
            cursor.url = next;
        }
        if !state.ran {
            // Before the first verdict one failure is enough.
            state.failures = t.retry;
        }
    } else {
        let (was_up, had_run) = (state.up, state.ran);
        if was_up || !had_run {
            // epilog(REGISTER_CHECKER_RETRY)
            state.ran = true;
            state.failures = state.failures.saturating_add(1);
            if state.failures > t.retry {
                // keepalived sends no DOWN for a checker already down at its
                // first result; the balancer still hears the first result.
                verdict = Some(false);
                state.up = false;
                cursor.failed = Some(cursor.url);
            }
        }
        // else epilog(REGISTER_CHECKER_FAILED): nothing moves.
    }
    let delay = if ok {
        t.delay_loop
    } else if cursor.failed.is_some() {
        t.delay_before_retry.max(t.delay_loop)
    } else {
        t.delay_before_retry
    };
    let at_once = fast_recovery && (!state.ran || (!state.up && cursor.failed.is_none()));
    Step {
        next: if at_once { now } else { now + delay },
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const T: Timing = Timing {
        delay_loop: Duration::from_secs(10),
        retry: 2,
        delay_before_retry: Duration::from_secs(1),
    };

    /// Runs `results` from `state`; returns (delay, verdict, url) of each.
    fn run(
        state: &mut State,
        cursor: &mut Cursor,
        n: usize,
        fast: bool,
        results: &[bool],
    ) -> Vec<(u64, Option<bool>, usize)> {
        let now = Instant::now();
        results
            .iter()
            .map(|&ok| {
                let url = cursor.url;
                let s = result(state, cursor, n, &T, fast, ok, now);
                ((s.next - now).as_secs(), s.verdict, url)
            })
            .collect()
    }

    #[test]
    fn one_url_retries_then_fails_then_recovers() {
        let mut s = State::at_start(true, T.retry);
        let mut c = Cursor::default();
        // Up at start: the first result is a verdict.
        assert_eq!(
            run(&mut s, &mut c, 1, false, &[true]),
            [(10, Some(true), 0)]
        );
        assert_eq!(
            run(
                &mut s,
                &mut c,
                1,
                false,
                &[false, false, false, false, true, true]
            ),
            [
                (1, None, 0),
                (1, None, 0),
                // The third failure (retry 2): down, every delay_loop.
                (10, Some(false), 0),
                // Known down: nothing counted.
                (10, None, 0),
                // The failed url passes: all urls again, this one too.
                (10, None, 0),
                (10, Some(true), 0),
            ]
        );
        assert!(s.up);
    }

    #[test]
    fn at_start_one_failure_is_enough() {
        let mut s = State::at_start(true, T.retry);
        let mut c = Cursor::default();
        assert_eq!(
            run(&mut s, &mut c, 1, false, &[false]),
            [(10, Some(false), 0)]
        );
        assert!(!s.up && s.ran);
    }

    #[test]
    fn urls_are_checked_one_per_turn() {
        let mut s = State::at_start(false, T.retry);
        let mut c = Cursor::default();
        assert_eq!(
            run(&mut s, &mut c, 3, false, &[true, true, true, true]),
            [
                (10, None, 0),
                (10, None, 1),
                (10, Some(true), 2),
                (10, None, 0)
            ]
        );
        // The second url fails: retried on it, then it is the failed url.
        assert_eq!(
            run(&mut s, &mut c, 3, false, &[false, false, false]),
            [(1, None, 1), (1, None, 1), (10, Some(false), 1)]
        );
        assert_eq!(c.failed, Some(1));
        // Back: every url again from the first before the verdict.
        assert_eq!(
            run(
                &mut s,
                &mut c,
                3,
                false,
                &[true, true, false, true, true, true]
            ),
            [
                (10, None, 1),
                (10, None, 0),
                // Down, no failed url: a failure is retried at
                // delay_before_retry, counting nothing.
                (1, None, 1),
                (10, None, 1),
                (10, Some(true), 2),
                (10, None, 0),
            ]
        );
    }

    #[test]
    fn before_the_first_verdict_a_later_url_failing_is_enough() {
        let mut s = State::at_start(true, T.retry);
        let mut c = Cursor::default();
        assert_eq!(
            run(&mut s, &mut c, 2, false, &[true, false]),
            [(10, None, 0), (10, Some(false), 1)]
        );
    }

    #[test]
    fn fast_recovery_goes_at_once_while_coming_back() {
        let mut s = State::at_start(false, T.retry);
        let mut c = Cursor::default();
        // Before the first result and until the verdict: at once.
        assert_eq!(
            run(&mut s, &mut c, 2, true, &[true, true, true]),
            [(0, None, 0), (10, Some(true), 1), (10, None, 0)]
        );
        assert_eq!(
            run(
                &mut s,
                &mut c,
                2,
                true,
                &[false, false, false, false, true, true, true]
            ),
            [
                (1, None, 1),
                (1, None, 1),
                (10, Some(false), 1),
                // The failed url is retried at delay_loop...
                (10, None, 1),
                // ...and once it passes all are checked again at once.
                (0, None, 1),
                (0, None, 0),
                (10, Some(true), 1),
            ]
        );
    }

    #[test]
    fn a_longer_delay_before_retry_holds_for_the_failed_url() {
        let t = Timing {
            delay_before_retry: Duration::from_secs(30),
            ..T
        };
        let mut s = State::at_start(true, 0);
        let mut c = Cursor::default();
        let now = Instant::now();
        let step = result(&mut s, &mut c, 1, &t, false, false, now);
        assert_eq!(step.next - now, Duration::from_secs(30));
    }
}
