//! The IPVS thread's logic against a scripted backend.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::fake::Shared;
use super::*;
use afcluster::ipvs::Forward;

fn svc(port: u16) -> Service {
    Service::new(ServiceKey::tcp("10.0.0.1".parse().unwrap(), port), "rr")
}

fn dest(last: u8, weight: i32) -> Dest {
    Dest::new(
        format!("10.0.1.{last}").parse().unwrap(),
        80,
        Forward::Masq,
        weight,
    )
}

fn worker(fake: &Shared) -> Worker<Shared> {
    let f = fake.clone();
    Worker::new(Box::new(move || Ok(f.clone())))
}

fn want(w: &mut Worker<Shared>, desired: Table) {
    w.take(Job::Want {
        desired,
        remove: vec![],
        cause: Cause::Check(Instant::now()),
    });
}

#[test]
fn applies_the_difference_without_reading_the_table_again() {
    let fake = Shared::default();
    let mut w = worker(&fake);
    want(&mut w, vec![(svc(80), vec![dest(1, 1), dest(2, 1)])]);
    let r = w.work();
    assert!(r.status.in_sync && r.status.usable);
    assert_eq!((r.status.ops_applied, r.check_reactions.len()), (3, 1));
    want(&mut w, vec![(svc(80), vec![dest(1, 1), dest(2, 0)])]);
    w.work();
    let f = fake.0.lock().unwrap();
    assert_eq!(
        f.reads, 1,
        "the first round reads the table, later ones trust it"
    );
    assert_eq!(
        f.log.last(),
        Some(&Change::EditDest(svc(80).key, dest(2, 0)))
    );
}

#[test]
fn a_refused_change_reads_the_table_back_and_retries_after_a_growing_backoff() {
    let fake = Shared::default();
    // The service is added; both dests refused; then the first again.
    fake.0.lock().unwrap().refuse = VecDeque::from([false, true, true, true]);
    let mut w = worker(&fake);
    want(&mut w, vec![(svc(80), vec![dest(1, 1), dest(2, 1)])]);
    let r = w.work();
    assert!(!r.status.in_sync);
    assert_eq!(
        (r.status.ops_applied, r.status.ops_failed),
        (1, 2),
        "the others are still tried"
    );
    assert!(
        r.status
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("AddDest"),
        "{r:?}"
    );
    let first = w.retry_at().expect("a retry is due") - Instant::now();
    let r = w.work();
    assert!(!r.status.in_sync);
    assert_eq!((r.status.ops_failed, r.status.reconciles), (3, 1));
    let second = w.retry_at().expect("a retry is due") - Instant::now();
    assert!(
        first <= FIRST_BACKOFF && second > FIRST_BACKOFF,
        "{first:?} {second:?}"
    );
    let r = w.work();
    assert!(r.status.in_sync, "{r:?}");
    assert_eq!(r.status.reconciles, 2);
    assert_eq!(w.retry_at(), None);
    let f = fake.0.lock().unwrap();
    assert_eq!(f.table, vec![(svc(80), vec![dest(2, 1), dest(1, 1)])]);
    assert_eq!(f.reads, 3, "read at start and at each retry");
}

#[test]
fn the_backoff_is_bounded() {
    let fake = Shared::default();
    fake.0.lock().unwrap().refuse = std::iter::repeat_n(true, 20).collect();
    let mut w = worker(&fake);
    want(&mut w, vec![(svc(80), vec![])]);
    for _ in 0..20 {
        w.work();
    }
    assert_eq!(w.backoff, Some(MAX_BACKOFF));
}

#[test]
fn services_of_an_earlier_configuration_are_removed_others_left_alone() {
    let fake = Shared::default();
    fake.0.lock().unwrap().table = vec![(svc(81), vec![]), (svc(99), vec![])];
    let mut w = worker(&fake);
    w.take(Job::Want {
        desired: vec![(svc(80), vec![])],
        remove: vec![svc(81).key],
        cause: Cause::Config,
    });
    assert!(w.work().status.in_sync);
    let f = fake.0.lock().unwrap();
    let keys: Vec<_> = f.table.iter().map(|(s, _)| s.key).collect();
    assert_eq!(keys, [svc(99).key, svc(80).key], "99 is someone else's");
}

#[test]
fn unusable_ipvs_is_not_tried_again_until_a_reconnect() {
    let tries = Arc::new(Mutex::new(0));
    let t = tries.clone();
    let mut w: Worker<Shared> = Worker::new(Box::new(move || {
        *t.lock().unwrap() += 1;
        Err(IpvsError::NotAvailable)
    }));
    want(&mut w, vec![(svc(80), vec![])]);
    let r = w.work();
    assert!(r.unusable.is_some() && !r.status.usable);
    want(&mut w, vec![(svc(80), vec![])]);
    assert!(!w.pending());
    assert!(w.work().unusable.is_none(), "said once");
    w.take(Job::Reconnect);
    want(&mut w, vec![(svc(80), vec![])]);
    w.work();
    assert_eq!(*tries.lock().unwrap(), 2);
}
