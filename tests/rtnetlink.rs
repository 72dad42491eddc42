//! The netlink transport serves any protocol, not only generic netlink:
//! rtnetlink requests (netlink-packet-route's messages) through the same
//! socket, framing and reply loop. Needs no privilege and no module: every
//! network namespace has "lo".

use std::time::Duration;

use afcluster::netlink::{transact, NlError, NlSocket};
use netlink_packet_core::NLM_F_DUMP;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;

fn route_socket() -> NlSocket {
    let sock = NlSocket::new(NETLINK_ROUTE).expect("a NETLINK_ROUTE socket");
    sock.set_read_timeout(Duration::from_secs(5)).unwrap();
    sock
}

fn get_link(index: u32) -> RouteNetlinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    RouteNetlinkMessage::GetLink(m)
}

/// (index, name) of each RTM_NEWLINK among `replies`.
fn links(
    replies: &[(netlink_packet_core::NetlinkHeader, RouteNetlinkMessage)],
) -> Vec<(u32, String)> {
    replies
        .iter()
        .filter_map(|(_, m)| match m {
            RouteNetlinkMessage::NewLink(l) => l.attributes.iter().find_map(|a| match a {
                LinkAttribute::IfName(n) => Some((l.header.index, n.clone())),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

#[test]
fn rtm_getlink_dump_finds_lo_and_a_do_request_gets_it_again() {
    let mut sock = route_socket();
    let replies = transact::<_, RouteNetlinkMessage>(&mut sock, get_link(0), NLM_F_DUMP)
        .expect("RTM_GETLINK dump");
    let all = links(&replies);
    let (lo, _) = all
        .iter()
        .find(|(_, n)| n == "lo")
        .unwrap_or_else(|| panic!("no lo among {all:?}"));

    // A `do` request on the same socket: the next seq, its reply, then the
    // ack transact asked for.
    let replies =
        transact::<_, RouteNetlinkMessage>(&mut sock, get_link(*lo), 0).expect("RTM_GETLINK of lo");
    assert_eq!(links(&replies), [(*lo, "lo".to_string())]);
}

#[test]
fn rtm_getlink_of_no_such_link_is_the_kernels_errno() {
    let mut sock = route_socket();
    match transact::<_, RouteNetlinkMessage>(&mut sock, get_link(0x7fff_fff0), 0) {
        Err(NlError::Kernel(e)) => assert_eq!(e.errno, libc::ENODEV, "{e:?}"),
        other => panic!("expected ENODEV, got {other:?}"),
    }
}

/// Runs `f` on a thread of its own in a new network namespace (only that
/// thread moves); None where the process may not create one (not root).
fn in_new_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    std::thread::spawn(move || {
        // SAFETY: only NEWNET, which moves this thread alone and touches no
        // file descriptor table (the hazard of FILES).
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
            .ok()
            .map(|()| f())
    })
    .join()
    .expect("the namespace thread")
}

#[test]
fn rtnl_adds_lists_and_removes_an_address_and_says_when_there_was_nothing_to_do() {
    use afcluster::rtnl::{Addr, Rtnl, Scope};
    let done = in_new_netns(|| {
        let mut rt = Rtnl::connect().expect("a route socket");
        let lo = rt.link("lo").expect("GETLINK").expect("lo exists");
        assert_eq!(rt.link("no-such-if0").expect("GETLINK"), None);
        let vip = |addr: &str, prefix_len| Addr {
            index: lo.index,
            addr: addr.parse().unwrap(),
            prefix_len,
            broadcast: None,
            label: None,
            scope: Scope::Global,
            flags: if addr.contains(':') {
                afcluster::rtnl::IFA_F_NODAD
            } else {
                0
            },
            peer: None,
            preferred_lft: addr.contains(':').then_some(0),
        };
        for a in [vip("10.9.9.9", 32), vip("fd00:9::9", 128)] {
            assert!(rt.add_addr(&a).expect("add"), "{a:?} added");
            assert!(!rt.add_addr(&a).expect("add again"), "{a:?} was there");
            let listed = rt.addrs(lo.index).expect("GETADDR");
            assert!(
                listed
                    .iter()
                    .any(|l| l.addr == a.addr && l.prefix_len == a.prefix_len),
                "{a:?} not among {listed:?}"
            );
            assert!(rt.del_addr(&a).expect("del"), "{a:?} removed");
            assert!(!rt.del_addr(&a).expect("del again"), "{a:?} was gone");
            assert!(!rt
                .addrs(lo.index)
                .expect("GETADDR")
                .iter()
                .any(|l| l.addr == a.addr));
        }
    });
    if done.is_none() {
        eprintln!("skipped: cannot create a network namespace here");
    }
}

#[test]
fn the_link_monitor_hears_a_link_go_up_and_down() {
    use afcluster::rtnl::monitor::{LinkMonitor, LinkNews};
    let done = in_new_netns(|| {
        let mut m = LinkMonitor::open().expect("a monitor");
        let ip = |state: &str| {
            let ok = std::process::Command::new("ip")
                .args(["link", "set", "lo", state])
                .status()
                .expect("ip runs")
                .success();
            assert!(ok, "ip link set lo {state}");
        };
        let mut seen = Vec::new();
        for state in ["up", "down"] {
            ip(state);
            let end = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                let mut out = Vec::new();
                m.read(&mut out).expect("read");
                let hit = out.iter().rev().find_map(|n| match n {
                    LinkNews::Link(l) if l.name == "lo" => Some(l.running),
                    _ => None,
                });
                if let Some(running) = hit {
                    seen.push(running);
                    break;
                }
                assert!(std::time::Instant::now() < end, "no news of lo {state}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // lo has no carrier of its own: up means IFF_UP and IFF_RUNNING.
        assert_eq!(seen, [true, false]);
        let mut rt = afcluster::rtnl::Rtnl::connect().expect("a route socket");
        assert!(rt.links().expect("a dump").iter().any(|l| l.name == "lo"));
    });
    if done.is_none() {
        eprintln!("skipped: cannot create a network namespace here");
    }
}
