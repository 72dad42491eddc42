//! Scripted notifications and answers in; the requests and outputs that
//! must come out.

use super::*;
use crate::error::KernelError;
use crate::types::{Cause, EventKind, Node, NodeState};

const A: u64 = 0xa1;
const B: u64 = 0xb2;

fn kerr(errno: i32) -> KernelError {
    KernelError {
        errno,
        message: None,
        attr: None,
    }
}

fn ev(instance: u64, seq: u64) -> Event {
    Event {
        seq,
        kind: EventKind::State,
        cause: Cause::Admin,
        timestamp_ns: 0,
        instance,
        old_state: Some(NodeState::Down),
        node: Some(Node {
            id: 1,
            state: NodeState::Up,
            name: String::new(),
            addrs: vec![],
            lease_ms: 0,
        }),
        local_node: None,
    }
}

fn snap(instance: u64, seq: u64) -> Snapshot {
    Snapshot {
        nodes: vec![],
        seq,
        instance,
        local_node: 0,
    }
}

fn info(instance: u64, seq: u64) -> ClusterInfo {
    ClusterInfo {
        instance,
        max_nodes: 4096,
        local_node: 0,
        node_count: 0,
        up_count: 0,
        seq,
        oldest_seq: 1,
        history_len: 1,
    }
}

fn seqs(out: &[Output]) -> Vec<u64> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.seq),
            _ => None,
        })
        .collect()
}

/// Output holds errors, which do not compare: compare what they print.
#[track_caller]
fn same(out: &[Output], want: &[Output]) {
    assert_eq!(format!("{out:?}"), format!("{want:?}"));
}

fn note(r: &mut Resync, n: Notification) -> Vec<Output> {
    let mut out = Vec::new();
    r.on_notification(n, &mut out);
    out
}

fn events(r: &mut Resync, evs: crate::Result<Vec<Event>>) -> Vec<Output> {
    let mut out = Vec::new();
    r.on_events(evs, &mut out);
    out
}

/// A reflecting follower that loaded instance A at seq 5.
fn reflecting() -> Resync {
    let mut r = Resync::new(Goal::Reflect, true);
    assert_eq!(r.request(), Some(Request::Snapshot));
    assert_eq!(r.request(), None, "one request at a time");
    let mut out = Vec::new();
    r.on_snapshot(Ok(snap(A, 5)), &mut out);
    same(&out, &[Output::Snapshot(snap(A, 5))]);
    assert_eq!(r.request(), None);
    r
}

#[test]
fn reflect_delivers_the_next_seq_and_ignores_old_ones() {
    let mut r = reflecting();
    assert_eq!(seqs(&note(&mut r, Notification::Event(ev(A, 6)))), [6]);
    assert!(note(&mut r, Notification::Event(ev(A, 6))).is_empty());
    assert!(note(&mut r, Notification::Event(ev(A, 3))).is_empty());
    assert_eq!(r.request(), None);
    assert_eq!((r.stats().events, r.stats().events_old), (1, 2));
}

#[test]
fn a_gap_is_replayed_from_the_last_seq_of_its_instance() {
    let mut r = reflecting();
    assert!(note(&mut r, Notification::Event(ev(A, 8))).is_empty());
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 5,
            instance: A
        })
    );
    // Live events read while the replay is out are not delivered twice.
    let out = events(&mut r, Ok(vec![ev(A, 6), ev(A, 7), ev(A, 8)]));
    assert_eq!(seqs(&out), [6, 7, 8]);
    assert!(note(&mut r, Notification::Event(ev(A, 8))).is_empty());
    assert_eq!(seqs(&note(&mut r, Notification::Event(ev(A, 9)))), [9]);
    let s = r.stats();
    assert_eq!((s.gaps, s.replays, s.replayed_events), (1, 1, 3));
}

#[test]
fn a_loss_or_a_malformed_message_is_replayed() {
    for n in [Notification::Lost, Notification::Malformed("x".into())] {
        let mut r = reflecting();
        assert!(note(&mut r, n).is_empty());
        assert_eq!(
            r.request(),
            Some(Request::Replay {
                since: 5,
                instance: A
            })
        );
        assert!(events(&mut r, Ok(vec![])).is_empty());
        assert_eq!(r.request(), None);
    }
}

#[test]
fn reflect_loads_the_table_when_the_history_is_gone_or_replaced() {
    for err in [
        Error::HistoryGone(kerr(libc::ERANGE)),
        Error::Stale(kerr(libc::ESTALE)),
    ] {
        let mut r = reflecting();
        note(&mut r, Notification::Lost);
        r.request();
        assert!(events(&mut r, Err(err)).is_empty());
        assert_eq!(r.request(), Some(Request::Snapshot));
        let mut out = Vec::new();
        r.on_snapshot(Ok(snap(B, 2)), &mut out);
        same(&out, &[Output::Snapshot(snap(B, 2))]);
        assert_eq!(seqs(&note(&mut r, Notification::Event(ev(B, 3)))), [3]);
    }
}

#[test]
fn an_event_of_another_instance_means_the_table_was_replaced() {
    let mut r = reflecting();
    assert!(note(&mut r, Notification::Event(ev(B, 1))).is_empty());
    assert_eq!(r.request(), Some(Request::Snapshot));
    assert_eq!(r.stats().replacements, 1);
    // Events until the snapshot are covered by it.
    assert!(note(&mut r, Notification::Event(ev(B, 2))).is_empty());
}

#[test]
fn the_family_leaving_makes_it_stale_until_it_is_back() {
    let mut r = reflecting();
    let out = note(&mut r, Notification::FamilyVanished);
    assert!(matches!(&out[..], [Output::Stale(why)] if why.contains("unloaded")));
    assert_eq!(r.request(), None, "no polling while it is away");
    assert!(note(&mut r, Notification::Lost).is_empty());
    assert_eq!(r.request(), None);
    note(&mut r, Notification::FamilyAppeared);
    assert_eq!(r.request(), Some(Request::Snapshot));
}

#[test]
fn absent_at_start_it_waits_for_the_family() {
    let mut r = Resync::new(Goal::Reflect, false);
    assert_eq!(r.request(), None);
    note(&mut r, Notification::FamilyAppeared);
    assert_eq!(r.request(), Some(Request::Snapshot));
}

#[test]
fn a_failed_request_is_retried_after_a_bounded_backoff() {
    let mut r = Resync::new(Goal::Reflect, true);
    let mut waits = Vec::new();
    for _ in 0..8 {
        assert_eq!(r.request(), Some(Request::Snapshot));
        let mut out = Vec::new();
        r.on_snapshot(Err(Error::Kernel(kerr(libc::ENOMEM))), &mut out);
        assert!(matches!(&out[..], [Output::Stale(why)] if why.contains("loading the table")));
        assert_eq!(r.request(), None, "not before the backoff");
        waits.push(r.backoff().unwrap().as_millis());
        r.retry();
    }
    assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
    r.request();
    let mut out = Vec::new();
    r.on_snapshot(Ok(snap(A, 1)), &mut out);
    assert_eq!(r.stats().failures, 8);
    // Success resets it.
    note(&mut r, Notification::Lost);
    r.request();
    events(&mut r, Err(Error::Kernel(kerr(libc::ENOMEM))));
    assert_eq!(r.backoff().unwrap().as_millis(), 250);
}

#[test]
fn not_loaded_asks_nlctrl_and_waits_if_it_is_gone() {
    let mut r = reflecting();
    note(&mut r, Notification::Lost);
    r.request();
    assert!(events(&mut r, Err(Error::NotLoaded)).is_empty());
    assert_eq!(r.request(), Some(Request::CheckFamily));
    // The recheck learned it went away.
    let out = note(&mut r, Notification::FamilyVanished);
    assert!(matches!(&out[..], [Output::Stale(_)]));
    r.on_family_checked(false);
    assert_eq!(r.request(), None);
    note(&mut r, Notification::FamilyAppeared);
    assert_eq!(r.request(), Some(Request::Snapshot));
}

#[test]
fn not_loaded_while_nlctrl_says_present_retries_later() {
    let mut r = reflecting();
    note(&mut r, Notification::Lost);
    r.request();
    events(&mut r, Err(Error::NotLoaded));
    assert_eq!(r.request(), Some(Request::CheckFamily));
    r.on_family_checked(true);
    assert_eq!(r.request(), None);
    assert!(r.backoff().is_some());
    r.retry();
    assert_eq!(r.request(), Some(Request::Snapshot));
}

/// A stream following instance A from its seq 5.
fn streaming() -> Resync {
    let mut r = Resync::new(
        Goal::Stream {
            since: None,
            instance: None,
        },
        true,
    );
    assert_eq!(r.request(), Some(Request::Info));
    let mut out = Vec::new();
    r.on_info(Ok(info(A, 5)), &mut out);
    assert!(out.is_empty());
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 5,
            instance: A
        })
    );
    assert!(events(&mut r, Ok(vec![])).is_empty());
    r
}

#[test]
fn stream_starts_now_and_follows() {
    let mut r = streaming();
    assert_eq!(seqs(&note(&mut r, Notification::Event(ev(A, 6)))), [6]);
    note(&mut r, Notification::Lost);
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 6,
            instance: A
        })
    );
    assert_eq!(seqs(&events(&mut r, Ok(vec![ev(A, 7)]))), [7]);
}

#[test]
fn stream_from_a_seq_asks_where_the_table_is_then_replays() {
    let mut r = Resync::new(
        Goal::Stream {
            since: Some(0),
            instance: None,
        },
        true,
    );
    assert_eq!(r.request(), Some(Request::Info));
    r.on_info(Ok(info(A, 9)), &mut Vec::new());
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 0,
            instance: A
        })
    );
}

#[test]
fn stream_ends_when_the_history_is_gone() {
    let mut r = streaming();
    note(&mut r, Notification::Lost);
    r.request();
    let out = events(&mut r, Err(Error::HistoryGone(kerr(libc::ERANGE))));
    assert!(matches!(&out[..], [Output::Broken(Error::HistoryGone(_))]));
    assert_eq!(r.request(), None);
}

#[test]
fn stream_follows_a_replaced_table_from_its_first_event() {
    // Seen through a live event of the new instance.
    let mut r = streaming();
    let out = note(&mut r, Notification::Event(ev(B, 3)));
    same(&out, &[Output::Restarted { old: A, new: B }]);
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 0,
            instance: B
        })
    );
    assert_eq!(
        seqs(&events(&mut r, Ok(vec![ev(B, 1), ev(B, 2), ev(B, 3)]))),
        [1, 2, 3]
    );
    // Seen through ESTALE: ask which instance it is now.
    let mut r = streaming();
    note(&mut r, Notification::Lost);
    r.request();
    assert!(events(&mut r, Err(Error::Stale(kerr(libc::ESTALE)))).is_empty());
    assert_eq!(r.request(), Some(Request::Info));
    let mut out = Vec::new();
    r.on_info(Ok(info(B, 4)), &mut out);
    same(&out, &[Output::Restarted { old: A, new: B }]);
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 0,
            instance: B
        })
    );
}

#[test]
fn stream_follows_a_reloaded_module_from_its_first_event() {
    let mut r = streaming();
    note(&mut r, Notification::FamilyVanished);
    assert_eq!(r.request(), None);
    note(&mut r, Notification::FamilyAppeared);
    assert_eq!(r.request(), Some(Request::Info));
    let mut out = Vec::new();
    r.on_info(Ok(info(B, 0)), &mut out);
    same(&out, &[Output::Restarted { old: A, new: B }]);
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 0,
            instance: B
        })
    );
}

#[test]
fn stream_from_another_instance_given_by_the_caller_is_an_error() {
    let mut r = Resync::new(
        Goal::Stream {
            since: Some(0),
            instance: Some(B),
        },
        true,
    );
    assert_eq!(
        r.request(),
        Some(Request::Replay {
            since: 0,
            instance: B
        })
    );
    let out = events(&mut r, Err(Error::Stale(kerr(libc::ESTALE))));
    assert!(matches!(&out[..], [Output::Broken(Error::Stale(_))]));
    assert_eq!(r.request(), None);
}

#[test]
fn a_replay_that_does_not_follow_on_is_not_trusted() {
    let mut r = reflecting();
    note(&mut r, Notification::Lost);
    r.request();
    let out = events(&mut r, Ok(vec![ev(A, 6), ev(A, 8)]));
    assert_eq!(seqs(&out), [6]);
    assert_eq!(r.request(), Some(Request::Snapshot));
}
