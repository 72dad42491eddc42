use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::rtnl::{Addr, Scope};

use super::*;

#[derive(Default)]
struct Fake {
    present: BTreeSet<IpAddr>,
    log: Vec<String>,
    refuse: usize,
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
