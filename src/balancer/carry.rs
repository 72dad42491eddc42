//! What a reload carries over, matched as keepalived matches it
//! (check/ipwrapper.c: clear_diff_services, clear_diff_rs,
//! migrate_checkers): a virtual server continues the old one with the
//! same address and protocol, a real server the old one of that service
//! with the same address and port, and each of its checkers the first
//! old checker of that real server that is the same and not yet taken.
//!
//! The balancer carries verdicts and weights along this matching, and the
//! checkers their retry counts: one matching for both.

use super::model::RsId;
#[cfg(doc)]
use crate::config::Checker;
use crate::config::VirtualServer;

/// A real server of the new configuration that continues an old one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// The real server in the previous configuration.
    pub from: RsId,
    /// Whether it was alive just before the reload.
    pub was_alive: bool,
    /// Per checker of the new real server: the old checker it continues.
    pub checkers: Vec<Option<usize>>,
}

/// Per new virtual server: the old one it continues, and per real server
/// the old real server and checker indexes (`was_alive` left false: the
/// balancer fills it in from its state).
pub(super) fn matching(
    old: &[VirtualServer],
    new: &[VirtualServer],
) -> Vec<Option<(usize, Vec<Option<Carried>>)>> {
    new.iter()
        .map(|vs| {
            let ovi = old.iter().position(|o| same_service(o, vs))?;
            let old_rss = &old[ovi].real_servers;
            let rss = vs
                .real_servers
                .iter()
                .map(|rs| {
                    let ori = old_rss
                        .iter()
                        .position(|o| o.addr == rs.addr && o.port == rs.port)?;
                    let old_checkers = &old_rss[ori].checkers;
                    let mut used = vec![false; old_checkers.len()];
                    let checkers = rs
                        .checkers
                        .iter()
                        .map(|c| {
                            let oc = (0..old_checkers.len())
                                .find(|&oc| !used[oc] && c.same_check(&old_checkers[oc]))?;
                            used[oc] = true;
                            Some(oc)
                        })
                        .collect();
                    Some(Carried {
                        from: RsId { vs: ovi, rs: ori },
                        was_alive: false,
                        checkers,
                    })
                })
                .collect();
            Some((ovi, rss))
        })
        .collect()
}

fn same_service(a: &VirtualServer, b: &VirtualServer) -> bool {
    a.address == b.address && a.protocol == b.protocol
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn servers(text: &str) -> Vec<VirtualServer> {
        Config::from_text(text, Path::new("/t.conf"))
            .unwrap_or_else(|e| panic!("{e}"))
            .virtual_servers
    }

    #[test]
    fn servers_match_by_address_and_checkers_once_each() {
        let old = servers(
            "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n CI-LINUX\n CI-LINUX\n }\n real_server 10.0.1.2 80 {\n CI-LINUX\n }\n}\n",
        );
        let new = servers(
            "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.3 80 {\n CI-LINUX\n }\n real_server 10.0.1.1 80 {\n CI-LINUX\n CI-LINUX\n CI-LINUX\n }\n}\nvirtual_server 10.0.0.2 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n CI-LINUX\n }\n}\n",
        );
        let m = matching(&old, &new);
        let (ovi, rss) = m[0].as_ref().expect("the same service");
        assert_eq!(*ovi, 0);
        assert_eq!(rss[0], None, "10.0.1.3 is new");
        let c = rss[1].as_ref().expect("10.0.1.1 continues");
        assert_eq!(c.from, RsId { vs: 0, rs: 0 });
        assert_eq!(c.checkers, [Some(0), Some(1), None]);
        assert!(m[1].is_none(), "a new service carries nothing");
    }

    #[test]
    fn a_check_is_the_same_whatever_its_line_and_timing() {
        let old = servers(
            "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n TCP_CHECK {\n retry 3\n }\n MISC_CHECK {\n misc_path \"/bin/true a\"\n }\n }\n}\n",
        );
        // Moved down a line, other timing: the same (keepalived's
        // compare_conn_opts and compare_misc_check look at neither); a
        // MISC_CHECK with other arguments or misc_dynamic is another.
        let new = servers(
            "\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n MISC_CHECK {\n misc_path \"/bin/true b\"\n }\n MISC_CHECK {\n misc_path \"/bin/true a\"\n misc_dynamic\n }\n MISC_CHECK {\n misc_path \"/bin/true a\"\n misc_timeout 9\n delay_loop 2\n }\n TCP_CHECK {\n retry 1\n delay_before_retry 4\n }\n TCP_CHECK {\n connect_timeout 2\n }\n }\n}\n",
        );
        let m = matching(&old, &new);
        let rss = &m[0].as_ref().expect("the same service").1;
        let c = rss[0].as_ref().expect("10.0.1.1 continues");
        assert_eq!(c.checkers, [None, None, Some(1), Some(0), None]);
    }
}
