use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::ipvs::Family;
use afcluster::ipvs::{SyncDaemon, SyncState};
use afcluster::rtnl::route::Route;
use afcluster::rtnl::rule::{Action, Rule};
use afcluster::rtnl::{Addr, Scope};

use super::*;

#[derive(Default)]
struct Fake {
    present: BTreeSet<IpAddr>,
    /// Routes and rules, as displayed.
    tables: BTreeSet<String>,
    /// Route adds refused before one goes through.
    refuse_routes: usize,
    log: Vec<String>,
    refuse: usize,
    syncd: BTreeSet<String>,
}

impl Backend for Fake {
    fn add(&mut self, a: &Addr) -> Result<bool, String> {
        if self.refuse > 0 {
            self.refuse -= 1;
            return Err("Operation not permitted".into());
        }
        self.log.push(format!("add {}", a.addr));
        Ok(self.present.insert(a.addr))
    }

    fn del(&mut self, a: &Addr) -> Result<bool, String> {
        self.log.push(format!("del {}", a.addr));
        Ok(self.present.remove(&a.addr))
    }

    fn add_route(&mut self, r: &Route) -> Result<bool, String> {
        if self.refuse_routes > 0 {
            self.refuse_routes -= 1;
            return Err("Network is unreachable".into());
        }
        self.log.push(format!("add route {r}"));
        Ok(self.tables.insert(format!("route {r}")))
    }

    fn del_route(&mut self, r: &Route) -> Result<bool, String> {
        self.log.push(format!("del route {r}"));
        Ok(self.tables.remove(&format!("route {r}")))
    }

    fn add_rule(&mut self, r: &Rule) -> Result<bool, String> {
        self.log.push(format!("add rule {r}"));
        Ok(self.tables.insert(format!("rule {r}")))
    }

    fn del_rule(&mut self, r: &Rule) -> Result<bool, String> {
        self.log.push(format!("del rule {r}"));
        Ok(self.tables.remove(&format!("rule {r}")))
    }

    fn garp(&mut self, ifindex: u32, _mac: [u8; 6], ip: Ipv4Addr) -> Result<(), String> {
        self.log.push(format!("garp {ip} on {ifindex}"));
        Ok(())
    }

    fn na(
        &mut self,
        ifindex: u32,
        _mac: [u8; 6],
        ip: Ipv6Addr,
        router: bool,
    ) -> Result<(), String> {
        self.log
            .push(format!("na {ip} on {ifindex} router {router}"));
        Ok(())
    }

    fn syncd_start(&mut self, d: &SyncDaemon) -> Result<bool, String> {
        self.log
            .push(format!("start {} {} {}", d.state, d.interface, d.sync_id));
        Ok(self.syncd.insert(d.state.to_string()))
    }

    fn syncd_stop(&mut self, state: SyncState) -> Result<bool, String> {
        self.log.push(format!("stop {state}"));
        Ok(self.syncd.remove(&state.to_string()))
    }
}

fn addr(s: &str) -> Addr {
    let addr: IpAddr = s.parse().unwrap();
    Addr {
        index: 2,
        addr,
        prefix_len: if addr.is_ipv4() { 32 } else { 128 },
        broadcast: None,
        label: None,
        scope: Scope::Global,
        flags: 0,
        peer: None,
        preferred_lft: None,
    }
}

fn want(present: bool, addrs: &[&str]) -> Job {
    Job::Want {
        instance: "VI_1".into(),
        present,
        addrs: addrs.iter().map(|a| addr(a)).collect(),
        routes: Vec::new(),
        rules: Vec::new(),
    }
}

/// A route to `dst` (a /16) via 10.0.0.1 on eth0.
fn route(dst: &str) -> Route {
    let mut r = Route::new(dst.parse().unwrap(), 16);
    r.via = Some("10.0.0.1".parse().unwrap());
    r.dev = Some("eth0".into());
    r
}

fn rule(priority: u32, table: u32) -> Rule {
    let mut r = Rule::new(Family::Inet, priority, Action::Table(table));
    r.from = Some(("10.0.0.0".parse().unwrap(), 24));
    r
}

fn want_all(
    instance: &str,
    present: bool,
    addrs: &[&str],
    routes: &[&str],
    rules: &[(u32, u32)],
) -> Job {
    Job::Want {
        instance: instance.into(),
        present,
        addrs: addrs.iter().map(|a| addr(a)).collect(),
        routes: routes.iter().map(|r| route(r)).collect(),
        rules: rules.iter().map(|(p, t)| rule(*p, *t)).collect(),
    }
}

fn statics(routes: &[&str], rules: &[(u32, u32)]) -> Job {
    Job::Static {
        present: true,
        addrs: vec![addr("10.0.0.5")],
        routes: routes.iter().map(|r| route(r)).collect(),
        rules: rules.iter().map(|(p, t)| rule(*p, *t)).collect(),
    }
}

fn announce(addrs: &[&str], repeat: u32) -> Job {
    Job::Announce {
        instance: "VI_1".into(),
        ifindex: 2,
        mac: [2, 0, 0, 0, 0, 1],
        addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        repeat,
        router: false,
    }
}

#[test]
fn becoming_master_adds_then_announces_each_address_repeat_times() {
    let mut w = Worker::new(Fake::default());
    assert!(w.take(want(true, &["10.0.0.10", "fd10::10"])));
    assert!(w.take(announce(&["10.0.0.10", "fd10::10"], 2)));
    assert_eq!(
        w.backend.log,
        [
            "add 10.0.0.10",
            "add fd10::10",
            "garp 10.0.0.10 on 2",
            "na fd10::10 on 2 router false",
            "garp 10.0.0.10 on 2",
            "na fd10::10 on 2 router false",
        ]
    );
    assert_eq!(w.report().added, 2);
    assert_eq!(w.report().announced, 4);
}

#[test]
fn a_refused_add_is_retried_and_nothing_is_announced_until_it_is_in_place() {
    let mut w = Worker::new(Fake {
        refuse: 1,
        ..Fake::default()
    });
    w.take(want(true, &["10.0.0.10"]));
    assert_eq!(w.report().failures, 1);
    assert_eq!(w.report().pending, ["VI_1"]);
    assert!(w.retry_at().is_some());
    w.take(announce(&["10.0.0.10"], 1));
    // The announce job applied again first: now the address is there.
    assert_eq!(w.backend.log, ["add 10.0.0.10", "garp 10.0.0.10 on 2"]);
    assert!(w.report().pending.is_empty());
    assert_eq!(w.retry_at(), None);
}

#[test]
fn leaving_master_removes_and_a_reload_drops_the_addresses_no_longer_listed() {
    let mut w = Worker::new(Fake::default());
    w.take(want(true, &["10.0.0.10", "10.0.0.11"]));
    w.take(want(true, &["10.0.0.10"]));
    assert_eq!(
        w.backend.present,
        BTreeSet::from(["10.0.0.10".parse().unwrap()])
    );
    w.take(want(false, &["10.0.0.10"]));
    assert!(w.backend.present.is_empty());
    assert_eq!(w.report().removed, 2);
}

#[test]
fn stop_removes_what_is_present_and_ends() {
    let mut w = Worker::new(Fake::default());
    w.take(want(true, &["10.0.0.10"]));
    assert!(!w.take(Job::Stop));
    assert!(w.backend.present.is_empty());
}

#[test]
fn an_announcement_for_an_instance_that_is_not_master_is_skipped() {
    let mut w = Worker::new(Fake::default());
    w.take(want(false, &["10.0.0.10"]));
    w.take(announce(&["10.0.0.10"], 3));
    assert_eq!(w.backend.log, ["del 10.0.0.10"]);
}

fn syncd(states: &[SyncState]) -> Job {
    Job::Syncd {
        daemon: SyncDaemon::new(SyncState::Backup, "eth0", 51),
        states: states.to_vec(),
    }
}

#[test]
fn sync_daemons_follow_the_state_leftovers_stopped_first() {
    let mut w = Worker::new(Fake::default());
    // A daemon that died left a master running.
    w.backend.syncd.insert("master".into());
    w.take(syncd(&[SyncState::Backup]));
    w.take(syncd(&[SyncState::Master]));
    w.take(syncd(&[SyncState::Backup]));
    assert!(!w.take(Job::Stop));
    assert_eq!(
        w.backend.log,
        [
            "stop master",
            "stop backup",
            // Backup at start.
            "stop master",
            "start backup eth0 51",
            // Becoming master: the backup stops first.
            "stop backup",
            "start master eth0 51",
            // Back to backup.
            "stop master",
            "start backup eth0 51",
            // At exit, none.
            "stop master",
            "stop backup",
        ]
    );
    assert!(w.backend.syncd.is_empty());
    assert!(w.report().syncd.is_empty());
}

#[test]
fn routes_follow_the_addresses_and_rules_the_routes_and_leave_in_reverse() {
    let mut w = Worker::new(Fake::default());
    w.take(want_all(
        "VI_1",
        true,
        &["10.0.0.10"],
        &["10.1.0.0"],
        &[(100, 2)],
    ));
    w.take(want_all(
        "VI_1",
        false,
        &["10.0.0.10"],
        &["10.1.0.0"],
        &[(100, 2)],
    ));
    assert_eq!(
        w.backend.log,
        [
            "add 10.0.0.10",
            "add route 10.1.0.0/16 via 10.0.0.1 dev eth0",
            "add rule 100: from 10.0.0.0/24 lookup 2",
            "del rule 100: from 10.0.0.0/24 lookup 2",
            "del route 10.1.0.0/16 via 10.0.0.1 dev eth0",
            "del 10.0.0.10",
        ]
    );
    assert!(w.backend.tables.is_empty() && w.backend.present.is_empty());
    assert_eq!((w.report().added, w.report().removed), (3, 3));
}

#[test]
fn a_refused_route_is_retried_and_the_instance_is_pending_meanwhile() {
    let mut w = Worker::new(Fake {
        refuse_routes: 2,
        ..Fake::default()
    });
    w.take(want_all("VI_1", true, &["10.0.0.10"], &["10.1.0.0"], &[]));
    assert_eq!(w.report().pending, ["VI_1"]);
    assert!(w
        .report()
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("adding route 10.1.0.0/16") && e.contains("unreachable")));
    let first = w.retry_at().expect("a retry");
    w.apply();
    assert!(w.retry_at().expect("another retry") > first);
    w.apply();
    assert!(w.report().pending.is_empty());
    assert_eq!(w.retry_at(), None);
    assert_eq!(w.backend.tables.len(), 1);
    assert_eq!(w.report().failures, 2);
}

#[test]
fn static_entries_stay_across_transitions_a_reload_applies_the_difference_and_stop_removes_them_last(
) {
    let mut w = Worker::new(Fake::default());
    w.take(statics(&["10.2.0.0", "10.3.0.0"], &[(10, 5)]));
    w.take(want_all("VI_1", true, &["10.0.0.10"], &["10.1.0.0"], &[]));
    w.take(want_all("VI_1", false, &["10.0.0.10"], &["10.1.0.0"], &[]));
    assert_eq!(w.backend.tables.len(), 3);
    assert!(w
        .backend
        .present
        .contains(&"10.0.0.5".parse::<IpAddr>().unwrap()));
    // A reload drops one static route and the rule.
    w.take(statics(&["10.2.0.0"], &[]));
    assert_eq!(
        w.backend.tables,
        BTreeSet::from(["route 10.2.0.0/16 via 10.0.0.1 dev eth0".to_string()])
    );
    w.take(want_all("VI_1", true, &["10.0.0.10"], &["10.1.0.0"], &[]));
    w.backend.log.clear();
    assert!(!w.take(Job::Stop));
    assert_eq!(
        w.backend.log,
        [
            "del route 10.1.0.0/16 via 10.0.0.1 dev eth0",
            "del 10.0.0.10",
            "del route 10.2.0.0/16 via 10.0.0.1 dev eth0",
            "del 10.0.0.5",
        ]
    );
    assert!(w.backend.tables.is_empty() && w.backend.present.is_empty());
}
