//! Scripted inputs → the exact actions and deadlines keepalived 2.2.7's
//! rules give (the figures are its integer arithmetic, worked by hand).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::*;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn params() -> Params {
    Params {
        version: Version::V3,
        priority: 100,
        advert_cs: 100,
        want_master: false,
        preempt: true,
        preempt_delay: Duration::ZERO,
        down_timer_adverts: 3,
        primary: ip(2),
        lower_prio_no_advert: false,
        higher_prio_send_advert: false,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn advert(from: u8, priority: u8) -> Advert {
    Advert {
        from: ip(from),
        priority,
        interval_cs: 100,
    }
}

fn tr(from: State, to: State) -> Action {
    Action::Transition { from, to }
}

fn adv(priority: u8) -> Action {
    Action::Advertise { priority }
}

/// Started at `t0`, with what it did.
fn started(p: Params, t0: Instant) -> (Instance, Vec<Action>) {
    let mut i = Instance::new(p);
    let mut out = Vec::new();
    i.start(t0, false, &mut out);
    (i, out)
}

/// A backup at `t0` that has become master at its first timeout.
fn master_at(p: Params, t0: Instant) -> (Instance, Instant) {
    let (mut i, _) = started(p, t0);
    let t = i.deadline().expect("a backup's timer");
    let mut out = Vec::new();
    i.timer(t, &mut out);
    assert_eq!(i.state(), State::Master);
    (i, t)
}

#[test]
fn a_backup_times_out_after_three_intervals_and_the_skew() {
    let t0 = Instant::now();
    let (i, out) = started(params(), t0);
    assert_eq!(out, [tr(State::Init, State::Backup)]);
    // v3: 3 x 1 s + (256 - 100) x 100 cs x 625 / 16 us = 3 s + 609375 us.
    assert_eq!(i.deadline(), Some(t0 + ms(3000) + us(609_375)));

    // v2 at advert_int 2: 3 x 2 s + (256 - 100) x 1 s / 256.
    let (i, _) = started(
        Params {
            version: Version::V2,
            advert_cs: 200,
            ..params()
        },
        t0,
    );
    assert_eq!(i.deadline(), Some(t0 + ms(6000) + us(609_375)));

    // down_timer_adverts 1, priority 254: 1 s + 2 x 100 x 625 / 16 us.
    let (i, _) = started(
        Params {
            down_timer_adverts: 1,
            priority: 254,
            ..params()
        },
        t0,
    );
    assert_eq!(i.deadline(), Some(t0 + ms(1000) + us(7812)));
}

#[test]
fn the_owner_with_state_master_is_master_at_once() {
    let t0 = Instant::now();
    let (i, out) = started(
        Params {
            priority: 255,
            want_master: true,
            ..params()
        },
        t0,
    );
    assert_eq!(out, [adv(255), tr(State::Init, State::Master)]);
    assert_eq!(i.deadline(), Some(t0 + ms(1000)));
}

#[test]
fn state_master_below_255_waits_one_interval_for_a_master() {
    let t0 = Instant::now();
    let (mut i, out) = started(
        Params {
            want_master: true,
            ..params()
        },
        t0,
    );
    assert_eq!(out, [tr(State::Init, State::Backup)]);
    // 1 s + VRRP_TIMER_SKEW_MIN: 1 x 100 x 625 / 16 us.
    let t = t0 + ms(1000) + us(3906);
    assert_eq!(i.deadline(), Some(t));
    let mut out = Vec::new();
    i.timer(t, &mut out);
    assert_eq!(out, [adv(100), tr(State::Backup, State::Master)]);
    assert_eq!(i.deadline(), Some(t + ms(1000)));
    assert_eq!(i.stats().become_master, 1);
}

#[test]
fn a_master_advertises_every_interval() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(params(), t0);
    let mut out = Vec::new();
    i.timer(t + ms(1000), &mut out);
    i.timer(t + ms(2000), &mut out);
    assert_eq!(out, [adv(100), adv(100)]);
    assert_eq!(i.deadline(), Some(t + ms(3000)));
}

#[test]
fn a_backup_hearing_a_higher_master_restarts_its_down_timer() {
    let t0 = Instant::now();
    let (mut i, _) = started(params(), t0);
    let mut out = Vec::new();
    i.receive(t0 + ms(2000), advert(9, 150), &mut out);
    // An equal priority is accepted too.
    let t = t0 + ms(2500);
    i.receive(t, advert(9, 100), &mut out);
    assert!(out.is_empty());
    assert_eq!(i.deadline(), Some(t + ms(3000) + us(609_375)));
    assert_eq!(i.master(), Some((ip(9), 100)));
}

#[test]
fn v3_backup_times_out_on_the_masters_interval() {
    let t0 = Instant::now();
    let (mut i, _) = started(params(), t0);
    let mut out = Vec::new();
    i.receive(
        t0,
        Advert {
            interval_cs: 50,
            ..advert(9, 200)
        },
        &mut out,
    );
    // 3 x 0.5 s + 156 x 50 x 625 / 16 us.
    assert_eq!(i.deadline(), Some(t0 + ms(1500) + us(304_687)));

    // v2 never learns it.
    let (mut i, _) = started(
        Params {
            version: Version::V2,
            ..params()
        },
        t0,
    );
    i.receive(
        t0,
        Advert {
            interval_cs: 50,
            ..advert(9, 200)
        },
        &mut out,
    );
    assert_eq!(i.deadline(), Some(t0 + ms(3000) + us(609_375)));
}

#[test]
fn a_backup_of_higher_priority_ignores_a_lower_master_and_preempts() {
    let t0 = Instant::now();
    let (mut i, _) = started(params(), t0);
    let first = i.deadline();
    let mut out = Vec::new();
    i.receive(t0 + ms(1000), advert(9, 50), &mut out);
    i.receive(t0 + ms(2000), advert(9, 50), &mut out);
    assert!(out.is_empty());
    assert_eq!(i.deadline(), first, "ignored adverts do not move the timer");
    assert_eq!(i.stats().lower_prio_ignored, 2);
    let t = first.expect("a deadline");
    i.timer(t, &mut out);
    assert_eq!(out, [adv(100), tr(State::Backup, State::Master)]);
}

#[test]
fn nopreempt_keeps_a_lower_master() {
    let t0 = Instant::now();
    let (mut i, _) = started(
        Params {
            preempt: false,
            ..params()
        },
        t0,
    );
    let mut out = Vec::new();
    let t = t0 + ms(2000);
    i.receive(t, advert(9, 50), &mut out);
    // Skew at our own priority, not the master's.
    assert_eq!(i.deadline(), Some(t + ms(3000) + us(609_375)));
}

#[test]
fn preempt_delay_accepts_a_lower_master_until_it_runs_out() {
    let t0 = Instant::now();
    let (mut i, _) = started(
        Params {
            preempt_delay: ms(5000),
            ..params()
        },
        t0,
    );
    let mut out = Vec::new();
    let down = ms(3000) + us(609_375);
    // The first lower advert starts the delay; it is accepted.
    i.receive(t0 + ms(1000), advert(9, 50), &mut out);
    assert_eq!(i.deadline(), Some(t0 + ms(1000) + down));
    // Still within the delay (ends at t0 + 6 s).
    i.receive(t0 + ms(5900), advert(9, 50), &mut out);
    assert_eq!(i.deadline(), Some(t0 + ms(5900) + down));
    // Past it: ignored, the timer runs out.
    i.receive(t0 + ms(6100), advert(9, 50), &mut out);
    assert_eq!(i.deadline(), Some(t0 + ms(5900) + down));
    assert!(out.is_empty());

    // A higher advert cancels a running delay: the next lower one starts
    // it again.
    let (mut i, _) = started(
        Params {
            preempt_delay: ms(5000),
            ..params()
        },
        t0,
    );
    i.receive(t0, advert(9, 50), &mut out);
    i.receive(t0 + ms(4000), advert(9, 150), &mut out);
    i.receive(t0 + ms(5500), advert(9, 50), &mut out);
    i.receive(t0 + ms(9000), advert(9, 50), &mut out);
    assert_eq!(i.deadline(), Some(t0 + ms(9000) + down));
}

#[test]
fn priority_zero_makes_a_backup_take_over_after_the_skew() {
    let t0 = Instant::now();
    let (mut i, _) = started(params(), t0);
    let mut out = Vec::new();
    let t = t0 + ms(1200);
    i.receive(t, advert(9, 0), &mut out);
    assert_eq!(i.deadline(), Some(t + us(609_375)));
    assert_eq!(i.stats().pri_zero_received, 1);
}

#[test]
fn a_master_steps_down_for_a_higher_priority_or_an_equal_one_from_a_higher_address() {
    let t0 = Instant::now();
    for (from, prio) in [(1, 101), (9, 100)] {
        let (mut i, t) = master_at(params(), t0);
        let mut out = Vec::new();
        let now = t + ms(300);
        i.receive(
            now,
            Advert {
                interval_cs: 200,
                ..advert(from, prio)
            },
            &mut out,
        );
        assert_eq!(out, [tr(State::Master, State::Backup)], "{from} {prio}");
        // v3: timed on the new master's 2 s interval.
        assert_eq!(i.deadline(), Some(now + ms(6000) + us(1_218_750)));
        assert_eq!(i.master(), Some((ip(from), prio)));
        assert_eq!(i.stats().release_master, 1);
    }
}

#[test]
fn a_master_answers_a_lower_priority_or_an_equal_one_from_a_lower_address() {
    let t0 = Instant::now();
    for (from, prio) in [(9, 99), (1, 100)] {
        let (mut i, t) = master_at(params(), t0);
        let mut out = Vec::new();
        let now = t + ms(300);
        i.receive(now, advert(from, prio), &mut out);
        assert_eq!(out, [adv(100)], "{from} {prio}");
        assert_eq!(i.state(), State::Master);
        assert_eq!(i.deadline(), Some(now + ms(1000)));
    }
    // lower_prio_no_advert: silence, and the advert timer keeps its time.
    let (mut i, t) = master_at(
        Params {
            lower_prio_no_advert: true,
            ..params()
        },
        t0,
    );
    let mut out = Vec::new();
    i.receive(t + ms(300), advert(9, 99), &mut out);
    assert!(out.is_empty());
    assert_eq!(i.deadline(), Some(t + ms(1000)));
}

#[test]
fn higher_prio_send_advert_answers_before_stepping_down() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(
        Params {
            higher_prio_send_advert: true,
            ..params()
        },
        t0,
    );
    let mut out = Vec::new();
    i.receive(t, advert(9, 200), &mut out);
    assert_eq!(out, [adv(100), tr(State::Master, State::Backup)]);
}

#[test]
fn a_master_answers_priority_zero_and_its_own_looped_packet_moves_nothing() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(params(), t0);
    let mut out = Vec::new();
    i.receive(t + ms(400), advert(7, 0), &mut out);
    assert_eq!(out, [adv(100)]);
    assert_eq!(i.deadline(), Some(t + ms(1400)));
    out.clear();
    i.receive(t + ms(600), advert(2, 100), &mut out);
    assert!(out.is_empty());
    assert_eq!(i.deadline(), Some(t + ms(1400)));
}

#[test]
fn two_owners_both_step_back_to_254() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(
        Params {
            priority: 255,
            want_master: true,
            ..params()
        },
        t0,
    );
    let mut out = Vec::new();
    // From a higher address: now 255 > 254, step down.
    i.receive(t, advert(9, 255), &mut out);
    assert_eq!(i.effective_priority(), 254);
    assert_eq!(out, [tr(State::Master, State::Backup)]);
}

#[test]
fn fault_resigns_a_master_and_recovery_returns_to_backup() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(params(), t0);
    let mut out = Vec::new();
    i.set_fault(t, true, &mut out);
    assert_eq!(out, [adv(0), tr(State::Master, State::Fault)]);
    assert_eq!(i.deadline(), None);
    out.clear();
    // Adverts are ignored in FAULT.
    i.receive(t, advert(9, 0), &mut out);
    i.timer(t, &mut out);
    assert!(out.is_empty());
    let back = t + ms(5000);
    i.set_fault(back, false, &mut out);
    assert_eq!(out, [tr(State::Fault, State::Backup)]);
    assert_eq!(i.deadline(), Some(back + ms(3000) + us(609_375)));
}

#[test]
fn an_owner_leaving_fault_is_master_at_once() {
    let t0 = Instant::now();
    let mut i = Instance::new(Params {
        priority: 255,
        want_master: true,
        ..params()
    });
    let mut out = Vec::new();
    i.start(t0, true, &mut out);
    assert_eq!(out, [tr(State::Init, State::Fault)]);
    out.clear();
    i.set_fault(t0, false, &mut out);
    assert_eq!(out, [adv(255), tr(State::Fault, State::Master)]);
}

#[test]
fn stop_resigns_a_master_with_priority_zero() {
    let t0 = Instant::now();
    let (mut i, _) = master_at(params(), t0);
    let mut out = Vec::new();
    i.stop(&mut out);
    assert_eq!(out, [adv(0), tr(State::Master, State::Stop)]);
    assert_eq!(i.deadline(), None);
    out.clear();
    i.stop(&mut out);
    assert!(out.is_empty());
    let (mut b, _) = started(params(), t0);
    b.stop(&mut out);
    assert_eq!(out, [tr(State::Backup, State::Stop)]);
}

#[test]
fn a_priority_change_moves_a_backups_running_timer_by_the_change_of_skew() {
    let t0 = Instant::now();
    let (mut i, _) = started(params(), t0);
    let d = i.deadline().expect("a deadline");
    // 100 -> 200: the skew shrinks from 156 to 56 x 3906.25 us.
    i.set_priority(200);
    assert_eq!(i.effective_priority(), 200);
    assert_eq!(Some(d - us(609_375 - 218_750)), i.deadline());
    // Clamped to 1..254.
    i.set_priority(-40);
    assert_eq!(i.effective_priority(), 1);
    i.set_priority(900);
    assert_eq!(i.effective_priority(), 254);
    // The owner's never changes.
    let mut o = Instance::new(Params {
        priority: 255,
        ..params()
    });
    o.set_priority(10);
    assert_eq!(o.effective_priority(), 255);
}

#[test]
fn a_lowered_master_advertises_its_new_priority() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(params(), t0);
    i.set_priority(80);
    let mut out = Vec::new();
    i.timer(t + ms(1000), &mut out);
    assert_eq!(out, [adv(80)]);
}

/// A sync group's member, started at `t0`.
fn member(p: Params, t0: Instant) -> Instance {
    let mut i = Instance::new(p);
    i.set_grouped(true);
    let mut out = Vec::new();
    i.start(t0, false, &mut out);
    assert_eq!(out, vec![tr(State::Init, State::Backup)]);
    i
}

#[test]
fn a_member_whose_timer_runs_out_waits_for_its_group() {
    let t0 = Instant::now();
    let mut i = member(params(), t0);
    assert!(!i.wants_master());
    let t = i.deadline().expect("a backup's timer");
    let mut out = Vec::new();
    i.timer(t, &mut out);
    // No transition: it wants MASTER, and waits a master-down interval more.
    assert_eq!(out, vec![Action::WantMaster]);
    assert_eq!(i.state(), State::Backup);
    assert!(i.wants_master());
    assert_eq!(i.deadline(), Some(t + (t - t0)));
    // The group goes: it takes over, advertising first.
    i.group_master(t + ms(5), &mut out);
    assert_eq!(out[1..], [adv(100), tr(State::Backup, State::Master)]);
    assert!(i.wants_master());
}

#[test]
fn a_member_hearing_a_master_no_longer_wants_to_be_one() {
    let t0 = Instant::now();
    let mut i = member(params(), t0);
    let t = i.deadline().expect("a backup's timer");
    let mut out = Vec::new();
    i.timer(t, &mut out);
    assert!(i.wants_master());
    i.receive(t + ms(1), advert(9, 150), &mut out);
    assert!(!i.wants_master());
    // A lower master it would preempt leaves the wish as it is.
    i.timer(i.deadline().expect("timer"), &mut out);
    i.receive(t + ms(2), advert(9, 50), &mut out);
    assert!(i.wants_master());
}

#[test]
fn state_master_members_want_it_from_the_start() {
    let t0 = Instant::now();
    let i = member(
        Params {
            want_master: true,
            ..params()
        },
        t0,
    );
    assert!(i.wants_master());
}

#[test]
fn the_group_going_backup_takes_a_master_member_with_it_silently() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(params(), t0);
    let mut out = Vec::new();
    i.group_backup(t + ms(10), &mut out);
    assert_eq!(out, vec![tr(State::Master, State::Backup)]);
    assert_eq!(i.stats().release_master, 1);
    assert_eq!(i.deadline(), Some(t + ms(10) + (t - t0)));
    assert!(!i.wants_master());
    // Not a master: nothing moves.
    let mut out = Vec::new();
    i.group_backup(t + ms(20), &mut out);
    i.group_master(t + ms(20), &mut Vec::new());
    assert!(out.is_empty());
}

#[test]
fn a_reconfigured_master_stays_master_with_its_new_priority() {
    let t0 = Instant::now();
    let (mut i, t) = master_at(params(), t0);
    i.reconfigure(Params {
        priority: 120,
        advert_cs: 50,
        ..params()
    });
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.effective_priority(), 120);
    let mut out = Vec::new();
    let d = i.deadline().expect("its advert timer");
    i.timer(d, &mut out);
    // The new interval from the next advert on.
    assert_eq!(out, vec![adv(120)]);
    assert_eq!(i.deadline(), Some(d + ms(500)));
    assert!(d >= t);
}

#[test]
fn a_reconfigured_backup_keeps_its_running_timer() {
    let t0 = Instant::now();
    let (mut i, _) = started(params(), t0);
    let d = i.deadline();
    i.reconfigure(Params {
        priority: 90,
        ..params()
    });
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.deadline(), d);
    assert_eq!(i.effective_priority(), 90);
}
