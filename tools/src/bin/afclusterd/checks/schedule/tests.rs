use super::*;

const S: Duration = Duration::from_secs(1);

fn timing(retry: u32) -> Timing {
    Timing {
        delay_loop: 10 * S,
        retry,
        delay_before_retry: 2 * S,
    }
}

/// Runs `results` one after another, each attempt taking `took` and the
/// next starting when the step says; returns when each attempt started
/// (seconds after the first) and the verdicts given.
fn run(
    rule: Rule,
    t: Timing,
    mut s: State,
    took: Duration,
    results: &[bool],
) -> (Vec<f64>, Vec<Option<bool>>, State) {
    let t0 = Instant::now();
    let mut started = t0;
    let (mut starts, mut verdicts) = (Vec::new(), Vec::new());
    for &ok in results {
        starts.push((started - t0).as_secs_f64());
        let step = s.result(rule, &t, ok, started, started + took);
        verdicts.push(step.verdict);
        started = step.next;
    }
    (starts, verdicts, s)
}

fn up_and_ran() -> State {
    State {
        failures: 0,
        up: true,
        ran: true,
    }
}

fn down_and_ran() -> State {
    State {
        up: false,
        ..up_and_ran()
    }
}

#[test]
fn tcp_check_retries_a_server_that_is_up_then_takes_it_down() {
    let (starts, verdicts, s) = run(Rule::Tcp, timing(2), up_and_ran(), S, &[false; 4]);
    // Each next attempt counts from the result (1 s after its start).
    assert_eq!(starts, [0.0, 3.0, 6.0, 17.0]);
    assert_eq!(verdicts, [None, None, Some(false), None]);
    assert!(!s.up);
}

#[test]
fn tcp_check_retries_a_server_that_is_down_as_2_2_7_does() {
    // tcp_epilog in 2.2.7: retry_it < retry sends a failure to
    // delay_before_retry whether the checker is up or down.
    let (starts, verdicts, s) = run(Rule::Tcp, timing(2), down_and_ran(), S, &[false; 5]);
    assert_eq!(starts, [0.0, 3.0, 6.0, 17.0, 20.0]);
    assert_eq!(verdicts, [None; 5]);
    assert_eq!((s.up, s.failures), (false, 2));
    // One success brings it up, from anywhere in the cycle.
    let (_, verdicts, s) = run(Rule::Tcp, timing(2), s, S, &[true]);
    assert_eq!((verdicts[0], s.failures), (Some(true), 0));
}

#[test]
fn misc_check_does_not_retry_a_server_that_is_down() {
    let (starts, verdicts, _) = run(Rule::Misc, timing(2), down_and_ran(), S, &[false; 3]);
    assert_eq!(starts, [0.0, 10.0, 20.0]);
    assert_eq!(verdicts, [None; 3]);
}

#[test]
fn misc_check_times_its_next_run_from_the_start_of_the_last() {
    // Each run takes 1 s: the next starts delay_loop (or
    // delay_before_retry) after the previous one started, not ended.
    let results = [true, false, false, false, true];
    let (starts, verdicts, _) = run(Rule::Misc, timing(2), up_and_ran(), S, &results);
    assert_eq!(starts, [0.0, 10.0, 12.0, 14.0, 24.0]);
    assert_eq!(verdicts, [None, None, None, Some(false), Some(true)]);
    // A run longer than the delay: the next starts as it ends.
    let (starts, _, _) = run(Rule::Misc, timing(2), up_and_ran(), 12 * S, &[true; 3]);
    assert_eq!(starts, [0.0, 12.0, 24.0]);
}

#[test]
fn at_start_one_failure_is_enough() {
    let (starts, verdicts, _) = run(Rule::Misc, timing(3), State::at_start(true, 3), S, &[false]);
    assert_eq!((starts[0], verdicts[0]), (0.0, Some(false)));
    // alpha: a checker that starts down still reports its first failure.
    let (_, verdicts, _) = run(Rule::Tcp, timing(3), State::at_start(false, 3), S, &[false]);
    assert_eq!(verdicts[0], Some(false));
}

#[test]
fn the_first_run_waits_the_bootstrap_delay_then_part_of_warmup() {
    assert_eq!(first_run(Duration::ZERO, 0.7), S);
    assert_eq!(first_run(10 * S, 0.0), S);
    assert_eq!(first_run(10 * S, 0.5), 6 * S);
    assert_eq!(first_run(10 * S, 1.0), 11 * S);
}

#[test]
fn a_reload_carries_the_count_short_of_the_new_retry() {
    let old = |failures, ran| State {
        failures,
        up: true,
        ran,
    };
    // Mid-retry: kept.
    assert_eq!(State::carried(old(1, true), true, 3).failures, 1);
    // At or past the new retry: one short of it, so another failure is
    // needed before the server goes down.
    assert_eq!(State::carried(old(3, true), true, 3).failures, 2);
    assert_eq!(State::carried(old(5, true), true, 2).failures, 1);
    // retry 0, or nothing counted: 0.
    assert_eq!(State::carried(old(2, true), true, 0).failures, 0);
    assert_eq!(State::carried(old(0, true), true, 3).failures, 0);
    // Whether it ran carries; the verdict is the balancer's.
    let c = State::carried(old(3, false), false, 3);
    assert_eq!((c.ran, c.up), (false, false));
    assert_eq!(State::new_on_reload(true).failures, 0);
}

#[test]
fn after_a_reload_one_failure_is_enough_beside_a_failed_checker() {
    let fresh = State::new_on_reload(true);
    let failed = State {
        up: false,
        ..up_and_ran()
    };
    // A checker that ran and failed: the one that has not run needs one
    // failure; the one that ran keeps its count.
    let mut states = [(fresh, 3), (failed, 2), (up_and_ran(), 4)];
    after_reload(&mut states, false, false);
    assert_eq!(
        states.map(|(s, _)| s.failures),
        [3, 0, 0],
        "only the checker that has not run"
    );
    // Alive, nothing failed: counts stay.
    let mut states = [(fresh, 3), (up_and_ran(), 2)];
    after_reload(&mut states, false, true);
    assert_eq!(states[0].0.failures, 0);
    // Another kind of checker (CI-LINUX) failing counts as failed.
    let mut states = [(fresh, 3)];
    after_reload(&mut states, true, true);
    assert_eq!(states[0].0.failures, 3);
    // Down with no checker run yet (alpha before its first results).
    let mut states = [(fresh, 3), (fresh, 1)];
    after_reload(&mut states, false, false);
    assert_eq!(states.map(|(s, _)| s.failures), [3, 1]);
}

#[test]
fn ping_and_udp_checks_retry_only_while_up() {
    let (starts, verdicts, s) = run(Rule::Udp, timing(2), up_and_ran(), S, &[false; 4]);
    assert_eq!(starts, [0.0, 3.0, 6.0, 17.0]);
    assert_eq!(verdicts, [None, None, Some(false), None]);
    assert_eq!((s.up, s.failures), (false, 0));
    // Down: every delay_loop, no retries, nothing reported.
    let (starts, verdicts, _) = run(Rule::Udp, timing(2), down_and_ran(), S, &[false; 3]);
    assert_eq!(starts, [0.0, 11.0, 22.0]);
    assert_eq!(verdicts, [None; 3]);
    // At start one failure is enough, up or down.
    let (_, verdicts, _) = run(Rule::Udp, timing(3), State::at_start(true, 3), S, &[false]);
    assert_eq!(verdicts, [Some(false)]);
    let (_, verdicts, _) = run(Rule::Udp, timing(3), State::at_start(false, 3), S, &[false]);
    assert_eq!(verdicts, [Some(false)]);
    // A new checker of a reload that starts down (retry_it 0) is not
    // counted: icmp_epilog counts only while up.
    let (starts, verdicts, s) = run(
        Rule::Udp,
        timing(2),
        State::new_on_reload(false),
        S,
        &[false; 2],
    );
    assert_eq!((starts, verdicts), (vec![0.0, 11.0], vec![None, None]));
    assert!(!s.up);
}

#[test]
fn dns_check_counts_before_its_first_result_and_times_from_the_result() {
    // A reload's new checker, down: counted (as MISC_CHECK) since it has
    // not run, then taken down.
    let (starts, verdicts, s) = run(
        Rule::Dns,
        timing(1),
        State::new_on_reload(false),
        S,
        &[false; 3],
    );
    assert_eq!(starts, [0.0, 3.0, 14.0]);
    assert_eq!(verdicts, [None, None, None]);
    assert_eq!((s.up, s.failures), (false, 0));
    let (starts, verdicts, _) = run(
        Rule::Dns,
        timing(2),
        up_and_ran(),
        S,
        &[false, false, true, false],
    );
    assert_eq!(starts, [0.0, 3.0, 6.0, 17.0]);
    assert_eq!(verdicts, [None; 4]);
    let mut s = State {
        failures: 1,
        ..down_and_ran()
    };
    // dns_final resets the count of a server that is down.
    let step = s.result(Rule::Dns, &timing(2), false, Instant::now(), Instant::now());
    assert_eq!((step.verdict, s.failures), (None, 0));
}
