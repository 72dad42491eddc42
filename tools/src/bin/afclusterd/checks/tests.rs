//! The states the checks start with, at startup and across reloads.

use std::path::Path;

use afcluster::balancer::{Balancer, RsId};
use afcluster::config::Config;

use super::schedule::State;
use super::{states, Old};

fn servers(text: &str) -> Vec<afcluster::config::VirtualServer> {
    Config::from_text(text, Path::new("/t.conf"))
        .unwrap_or_else(|e| panic!("{e}"))
        .virtual_servers
}

const BEFORE: &str = "virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.0.1.1 80 {
        TCP_CHECK {
            retry 3
        }
    }
    real_server 10.0.1.2 80 {
        CI-LINUX
        TCP_CHECK {
            retry 2
        }
    }
}
";

fn id(rs: usize) -> RsId {
    RsId { vs: 0, rs }
}

fn ran(failures: u32, up: bool) -> State {
    State {
        failures,
        up,
        ran: true,
    }
}

#[test]
fn at_startup_one_failure_is_enough() {
    let b = Balancer::new(servers(BEFORE));
    let s = states(&b, id(1), None);
    assert_eq!(s[0], None, "CI-LINUX is not a check of ours");
    assert_eq!(s[1], Some(State::at_start(true, 2)));
    assert_eq!(s[1].map(|s| s.failures), Some(2));
}

#[test]
fn a_reload_carries_each_continued_checks_count() {
    let mut b = Balancer::new(servers(BEFORE));
    b.report(id(1), 0, false); // 10.0.1.2's node is down
    let mut old = Old::new();
    old.insert((id(0), 0), ran(2, true)); // mid-retry
    old.insert((id(1), 1), State::at_start(true, 2)); // not run yet
                                                      // A line higher, retry 2 for 10.0.1.1, and a new MISC_CHECK beside.
    let after = format!(
        "# moved\n{}",
        BEFORE.replace(
            "        TCP_CHECK {\n            retry 3\n        }\n",
            "        TCP_CHECK {\n            retry 2\n        }\n        MISC_CHECK {\n            misc_path /bin/true\n            retry 4\n        }\n",
        )
    );
    let (b2, _) = b.reconfigured(servers(&after));
    let s = states(&b2, id(0), Some(&old));
    // 2 counted of 3; one short of the new retry 2 (2.2.7's rule).
    assert_eq!(s[0], Some(ran(1, true)));
    assert_eq!(s[1], Some(State::new_on_reload(true)));
    // Beside the failing CI-LINUX, the TCP_CHECK that has not run needs
    // one failure.
    let s = states(&b2, id(1), Some(&old));
    assert_eq!(
        s[1],
        Some(State {
            failures: 2,
            up: true,
            ran: false
        })
    );
}

#[test]
fn a_new_real_server_starts_counting_from_zero() {
    let b = Balancer::new(servers(BEFORE));
    let after = BEFORE.replace("10.0.1.1 80", "10.0.1.3 80");
    let (b2, _) = b.reconfigured(servers(&after));
    let s = states(&b2, id(0), Some(&Old::new()));
    // keepalived runs no migrate_checkers for it: retry_it stays 0.
    assert_eq!(s[0], Some(State::new_on_reload(true)));
}
