//! What IPVS should hold, from the configuration and the checkers'
//! verdicts, with keepalived's rules (check/ipwrapper.c):
//!
//! - a real server is alive while all its checkers pass, and goes down on
//!   the first that fails;
//! - a dead real server is removed from IPVS, or kept with weight 0 under
//!   `inhibit_on_failure`;
//! - afclusterd's own rule: a real server whose CI-LINUX node is
//!   `shutdown` (stopping on purpose) is down but drains: it stays in IPVS
//!   with weight 0, so that its connections end as they would and new ones
//!   go elsewhere, until the node is down (then as any dead server);
//! - a virtual server starts with quorum when the weights of its alive
//!   real servers add up to `quorum + hysteresis` (`set_quorum_states`);
//!   it loses it below `quorum - hysteresis`, or when that sum is 0, and
//!   regains it at `quorum + hysteresis` (`update_quorum_state`; both
//!   thresholds in keepalived's unsigned 32-bit arithmetic, so that the
//!   all-weight-0 pool, quorum 0 and hysteresis 4294967295, never regains
//!   it); without quorum the sorry
//!   server takes the traffic (with `sorry_server_inhibit` it stays in
//!   IPVS with weight 0 while quorum holds);
//! - with `alpha` every checker starts failed (servers come up as checks
//!   pass); without, they start passing; FILE_CHECK always starts passing
//!   (keepalived clears alpha for it: the daemon reads the file at once);
//! - a server's weight is its configured one (or misc_dynamic's) plus what
//!   its FILE_CHECKs add ([`super::file_check`]), clamped to 0..=i32::MAX
//!   for IPVS and for quorum (keepalived's `real_weight`).
//!
//! No I/O here: the daemon reports verdicts and applies the plan.

use super::carry::{self, Carried};
use crate::config::{Checker, GroupEntry, VirtualServer, VsAddress};
use crate::ipvs::{Dest, Forward, Persistence, Service, ServiceKey};
use crate::vrrp::track::Effect;

/// A real server: (virtual server, real server) indexes in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RsId {
    pub vs: usize,
    pub rs: usize,
}

/// What a verdict changed, for logs and notify scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    RealServer {
        id: RsId,
        alive: bool,
    },
    /// A dead server starts or ends draining at weight 0
    /// ([`Balancer::drain`]).
    Draining {
        id: RsId,
        on: bool,
    },
    Quorum {
        vs: usize,
        up: bool,
    },
}

#[derive(Debug, Clone)]
struct RsState {
    /// Per checker: failing now.
    failing: Vec<bool>,
    /// Per checker: failing because its node is stopping on purpose.
    draining: Vec<bool>,
    /// MISC_CHECK with misc_dynamic may change it.
    weight: i32,
    /// Per checker: what it adds to the weight (a FILE_CHECK's number ×
    /// weight; 0 for the others).
    offsets: Vec<i32>,
    /// What the reload that made this balancer carried into it.
    carried: Option<Carried>,
}

impl RsState {
    fn alive(&self) -> bool {
        !self.failing.iter().any(|f| *f)
    }

    /// Down, but kept at weight 0 while its connections end.
    fn drains(&self) -> bool {
        self.draining.iter().any(|d| *d)
    }

    /// keepalived's `real_weight(effective_weight)`: what IPVS is given.
    fn effective(&self) -> i32 {
        let sum = i64::from(self.weight) + self.offsets.iter().map(|o| i64::from(*o)).sum::<i64>();
        sum.clamp(0, i64::from(i32::MAX)) as i32
    }

    /// What it adds to its service's live sum.
    fn contribution(&self) -> u64 {
        if self.alive() {
            live_weight(self.effective())
        } else {
            0
        }
    }
}

#[derive(Debug, Clone)]
struct VsState {
    rss: Vec<RsState>,
    quorum_up: bool,
    /// The weights of the alive real servers, kept as they change, so that
    /// a verdict costs the same with 1,000 servers as with 2.
    live_sum: u64,
}

#[derive(Debug, Clone)]
pub struct Balancer {
    config: Vec<VirtualServer>,
    state: Vec<VsState>,
}

impl Balancer {
    pub fn new(config: Vec<VirtualServer>) -> Balancer {
        let state = config
            .iter()
            .map(|vs| {
                let rss: Vec<_> = vs
                    .real_servers
                    .iter()
                    .map(|rs| RsState {
                        failing: rs
                            .checkers
                            .iter()
                            .map(|c| vs.alpha && !matches!(c, Checker::File(_)))
                            .collect(),
                        draining: vec![false; rs.checkers.len()],
                        weight: rs.weight,
                        offsets: vec![0; rs.checkers.len()],
                        carried: None,
                    })
                    .collect();
                let mut v = VsState {
                    rss,
                    quorum_up: true,
                    live_sum: 0,
                };
                v.live_sum = weight_sum(&v);
                v.quorum_up = v.live_sum >= gain_threshold(vs);
                v
            })
            .collect();
        Balancer { config, state }
    }

    /// What keepalived reports as a service starts (init_service_vs):
    /// quorum up if it has it, quorum down if it has not and a sorry
    /// server takes over.
    pub fn initial_transitions(&self) -> Vec<Transition> {
        (0..self.config.len())
            .filter_map(|vs| self.initial_transition(vs))
            .collect()
    }

    fn initial_transition(&self, vs: usize) -> Option<Transition> {
        let up = self.state[vs].quorum_up;
        (up || self.config[vs].sorry_server.is_some()).then_some(Transition::Quorum { vs, up })
    }

    /// A new configuration, as keepalived's reload carries state over
    /// (matched as [`super::carry`] says): a service keeps its quorum
    /// state (then judged again, with hysteresis); a real server that
    /// continues an old one keeps the state of each checker that is the
    /// same (a new checker starts passing), and its misc_dynamic weight if
    /// that checker is the same. Returns the new balancer and what the
    /// reload changed: servers whose failing checker went away come up,
    /// quorum may move, and new services start as at startup.
    pub fn reconfigured(&self, config: Vec<VirtualServer>) -> (Balancer, Vec<Transition>) {
        let matching = carry::matching(&self.config, &config);
        let mut b = Balancer::new(config);
        let mut out = Vec::new();
        for (vi, m) in matching.into_iter().enumerate() {
            let Some((ovi, rss)) = m else {
                out.extend(b.initial_transition(vi));
                continue;
            };
            let mut moved = Vec::new();
            for (ri, carried) in rss.into_iter().enumerate() {
                let Some(mut carried) = carried else {
                    continue;
                };
                let rs = &b.config[vi].real_servers[ri];
                let old = &self.state[ovi].rss[carried.from.rs];
                let mut failing = vec![false; rs.checkers.len()];
                let mut draining = vec![false; rs.checkers.len()];
                let mut offsets = vec![0; rs.checkers.len()];
                let mut weight = rs.weight;
                for (ci, oc) in carried.checkers.iter().enumerate() {
                    let Some(oc) = *oc else {
                        continue;
                    };
                    failing[ci] = old.failing[oc];
                    draining[ci] = old.draining[oc];
                    offsets[ci] = old.offsets[oc];
                    if matches!(&rs.checkers[ci], Checker::Misc(m) if m.dynamic) {
                        weight = old.weight;
                    }
                }
                carried.was_alive = old.alive();
                let st = &mut b.state[vi].rss[ri];
                st.failing = failing;
                st.draining = draining;
                st.offsets = offsets;
                st.weight = weight;
                st.carried = Some(carried);
                if old.alive() != st.alive() {
                    moved.push(Transition::RealServer {
                        id: RsId { vs: vi, rs: ri },
                        alive: st.alive(),
                    });
                }
            }
            let st = &mut b.state[vi];
            st.live_sum = weight_sum(st);
            st.quorum_up = self.state[ovi].quorum_up;
            out.extend(moved);
            b.update_quorum(vi, &mut out);
        }
        (b, out)
    }

    /// The real server of the previous configuration that `id` continues
    /// (None: new, or the balancer is the first).
    pub fn carried(&self, id: RsId) -> Option<&Carried> {
        self.state[id.vs].rss[id.rs].carried.as_ref()
    }

    pub fn config(&self) -> &[VirtualServer] {
        &self.config
    }

    pub fn alive(&self, id: RsId) -> bool {
        self.state[id.vs].rss[id.rs].alive()
    }

    /// The weight a live server has (the configured one, or misc_dynamic's).
    pub fn weight(&self, id: RsId) -> i32 {
        self.state[id.vs].rss[id.rs].weight
    }

    /// The weight IPVS gives a live server: [`Balancer::weight`] plus what
    /// its FILE_CHECKs add, within 0..=i32::MAX.
    pub fn effective_weight(&self, id: RsId) -> i32 {
        self.state[id.vs].rss[id.rs].effective()
    }

    /// Whether a checker of a real server passes, as last reported.
    pub fn checker_passes(&self, id: RsId, checker: usize) -> bool {
        self.state[id.vs].rss[id.rs]
            .failing
            .get(checker)
            .is_some_and(|f| !f)
    }

    /// Whether `id` names a real server of this configuration.
    pub fn has(&self, id: RsId) -> bool {
        self.state.get(id.vs).is_some_and(|v| id.rs < v.rss.len())
    }

    pub fn quorum_up(&self, vs: usize) -> bool {
        self.state[vs].quorum_up
    }

    /// Whether a dead server is kept at weight 0 because its node is
    /// stopping on purpose.
    pub fn draining(&self, id: RsId) -> bool {
        self.state[id.vs].rss[id.rs].drains()
    }

    /// A checker's verdict. Returns what changed.
    pub fn report(&mut self, id: RsId, checker: usize, ok: bool) -> Vec<Transition> {
        self.change(id, |rs| {
            rs.failing[checker] = !ok;
            rs.draining[checker] = false;
        })
    }

    /// A checker fails because the server's node is stopping on purpose:
    /// the server is down (notify_down, quorum) but stays in IPVS at
    /// weight 0 until a plain failure or a pass replaces this verdict.
    pub fn drain(&mut self, id: RsId, checker: usize) -> Vec<Transition> {
        self.change(id, |rs| {
            rs.failing[checker] = true;
            rs.draining[checker] = true;
        })
    }

    /// MISC_CHECK's misc_dynamic: the exit status sets the weight.
    pub fn set_weight(&mut self, id: RsId, weight: i32) -> Vec<Transition> {
        self.change(id, |rs| rs.weight = weight)
    }

    /// A FILE_CHECK's effect ([`super::file_check::effect`]): a fault
    /// fails the checker and takes back what it added; otherwise it passes
    /// and adds its amount.
    pub fn file_effect(&mut self, id: RsId, checker: usize, effect: Effect) -> Vec<Transition> {
        self.change(id, |rs| match effect {
            Effect::Fault => {
                rs.failing[checker] = true;
                rs.offsets[checker] = 0;
            }
            Effect::Add(w) => {
                rs.failing[checker] = false;
                rs.offsets[checker] = w;
            }
        })
    }

    /// Changes a real server's state, keeping its service's live sum and
    /// quorum: what changed.
    fn change(&mut self, id: RsId, f: impl FnOnce(&mut RsState)) -> Vec<Transition> {
        let vs = &mut self.state[id.vs];
        let rs = &mut vs.rss[id.rs];
        let (was, before, drained) = (rs.alive(), rs.contribution(), rs.drains());
        f(rs);
        let (now, after, drains) = (rs.alive(), rs.contribution(), rs.drains());
        vs.live_sum = vs.live_sum - before + after;
        let mut out = Vec::new();
        if was != now {
            out.push(Transition::RealServer { id, alive: now });
        }
        if drained != drains {
            out.push(Transition::Draining { id, on: drains });
        }
        if was != now || before != after {
            self.update_quorum(id.vs, &mut out);
        }
        out
    }

    fn update_quorum(&mut self, vs: usize, out: &mut Vec<Transition>) {
        let cfg = &self.config[vs];
        let st = &mut self.state[vs];
        let sum = st.live_sum;
        if st.quorum_up && (sum == 0 || sum < lose_threshold(cfg)) {
            st.quorum_up = false;
            out.push(Transition::Quorum { vs, up: false });
        } else if !st.quorum_up && sum >= gain_threshold(cfg) {
            st.quorum_up = true;
            out.push(Transition::Quorum { vs, up: true });
        }
    }

    /// The IPVS services of a virtual server: one, or one per entry of
    /// its virtual_server_group, each with the same settings.
    pub fn services(&self, vs: usize) -> Vec<Service> {
        let cfg = &self.config[vs];
        let keys = match &cfg.address {
            VsAddress::Addr { addr, port } => vec![ServiceKey::Addr {
                protocol: cfg.protocol,
                addr: *addr,
                port: *port,
            }],
            VsAddress::Fwmark(mark) => vec![ServiceKey::Fwmark {
                family: cfg.family(),
                mark: *mark,
            }],
            VsAddress::Group { entries, .. } => entries
                .iter()
                .map(|e| match e {
                    GroupEntry::Addr { addr, port } => ServiceKey::Addr {
                        protocol: cfg.protocol,
                        addr: *addr,
                        port: *port,
                    },
                    GroupEntry::Fwmark { mark, family } => ServiceKey::Fwmark {
                        family: family.unwrap_or_else(|| cfg.family()),
                        mark: *mark,
                    },
                })
                .collect(),
        };
        keys.into_iter()
            .map(|key| {
                let mut s = Service::new(key, &cfg.scheduler);
                s.ops = cfg.ops;
                if let Some(t) = cfg.persistence_timeout {
                    let mut p = Persistence::new(t);
                    p.netmask = cfg.persistence_granularity;
                    s = s.with_persistence(p);
                }
                s
            })
            .collect()
    }

    /// A virtual server as the log names it: its service, or its group.
    pub fn label(&self, vs: usize) -> String {
        match &self.config[vs].address {
            VsAddress::Group { name, .. } => format!("group {name}"),
            _ => self
                .services(vs)
                .first()
                .map_or_else(String::new, |s| s.key.to_string()),
        }
    }

    /// The keys of every service of the configuration.
    pub fn keys(&self) -> Vec<ServiceKey> {
        (0..self.config.len())
            .flat_map(|vs| self.services(vs).into_iter().map(|s| s.key))
            .collect()
    }

    /// The destinations IPVS should hold for a virtual server now.
    pub fn dests(&self, vs: usize) -> Vec<Dest> {
        let cfg = &self.config[vs];
        let st = &self.state[vs];
        let sorry = cfg.sorry_server.as_ref().zip(cfg.sorry_lb_kind());
        // Without quorum the sorry server serves alone: keepalived takes
        // the live servers out too (perform_quorum_state), the inhibited
        // ones to weight 0. Without a sorry server nothing changes.
        let sorry_serves = sorry.is_some() && !st.quorum_up;
        let mut out = Vec::new();
        for (rs, s) in cfg.real_servers.iter().zip(&st.rss) {
            let weight = if s.alive() && !sorry_serves {
                s.effective()
            } else if rs.inhibit_on_failure || s.drains() {
                0
            } else {
                continue;
            };
            let mut d = Dest::new(rs.addr, rs.port, rs.lb_kind, weight);
            d.upper_threshold = rs.uthreshold;
            d.lower_threshold = rs.lthreshold;
            out.push(d);
        }
        if let Some((sorry, kind)) = sorry {
            let weight = if !st.quorum_up {
                Some(1)
            } else if sorry.inhibit {
                Some(0)
            } else {
                None
            };
            // A sorry server that is also a real server is that entry: at
            // weight 1 while it serves (keepalived's alloc_ssvr), else as
            // the real server is.
            match out
                .iter()
                .position(|d| d.addr == sorry.addr && d.port == sorry.port)
            {
                Some(i) if sorry_serves => out[i].weight = 1,
                Some(_) => {}
                None => {
                    if let Some(w) = weight {
                        out.push(Dest::new(sorry.addr, sorry.port, kind, w));
                    }
                }
            }
        }
        out
    }

    /// The whole table this configuration wants. A group's services have
    /// the same destinations, DR and TUN ones with each service's port
    /// (IPVS gives them that port whatever is asked).
    pub fn desired(&self) -> Vec<(Service, Vec<Dest>)> {
        let mut out = Vec::new();
        for vs in 0..self.config.len() {
            let dests = self.dests(vs);
            let group = matches!(self.config[vs].address, VsAddress::Group { .. });
            for s in self.services(vs) {
                let mut d = dests.clone();
                if group {
                    let port = match s.key {
                        ServiceKey::Addr { port, .. } => port,
                        ServiceKey::Fwmark { .. } => 0,
                    };
                    for d in d.iter_mut().filter(|d| d.forward != Forward::Masq) {
                        d.port = port;
                    }
                }
                out.push((s, d));
            }
        }
        out
    }
}

fn weight_sum(st: &VsState) -> u64 {
    st.rss.iter().map(RsState::contribution).sum()
}

/// What a server adds to the live sum (negative weights add nothing).
fn live_weight(w: i32) -> u64 {
    u64::try_from(w).unwrap_or(0)
}

/// keepalived computes `quorum ± hysteresis` in unsigned int: it wraps.
fn gain_threshold(vs: &VirtualServer) -> u64 {
    u64::from(vs.quorum.wrapping_add(vs.hysteresis))
}

fn lose_threshold(vs: &VirtualServer) -> u64 {
    u64::from(vs.quorum.wrapping_sub(vs.hysteresis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn balancer(text: &str) -> Balancer {
        let c = Config::from_text(text, Path::new("/t.conf")).unwrap_or_else(|e| panic!("{e}"));
        Balancer::new(c.virtual_servers)
    }

    const TWO: &str = "virtual_server 10.0.0.1 80 {
        protocol TCP
        lb_algo rr
        lb_kind DR
        quorum 2
        hysteresis 1
        sorry_server 10.0.9.9 80
        real_server 10.0.1.1 80 { weight 2
            CI-LINUX }
        real_server 10.0.1.2 80 { weight 1
            inhibit_on_failure
            CI-LINUX }
    }\n";

    const TWO_RS: [std::net::IpAddr; 2] = [
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 1)),
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 2)),
    ];

    /// One real server with two checkers: CI-LINUX (0) and TCP_CHECK (1).
    const CI_AND_TCP: &str = "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n CI-LINUX\n TCP_CHECK {\n connect_timeout 1\n }\n }\n}\n";

    fn id(rs: usize) -> RsId {
        RsId { vs: 0, rs }
    }

    fn weights(b: &Balancer) -> Vec<(String, i32)> {
        b.dests(0)
            .iter()
            .map(|d| (d.addr.to_string(), d.weight))
            .collect()
    }

    #[test]
    fn the_service_and_its_dests_follow_the_configuration() {
        let b = balancer(TWO);
        let s = &b.services(0)[0];
        assert_eq!(s.key, ServiceKey::tcp("10.0.0.1".parse().unwrap(), 80));
        assert_eq!(s.scheduler, "rr");
        let d = b.dests(0);
        assert_eq!(d.len(), 2, "alive from the start without alpha: {d:?}");
        assert!(d.iter().all(|d| d.forward == Forward::Route));
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 2), ("10.0.1.2".into(), 1)]
        );
    }

    #[test]
    fn down_removes_or_inhibits_and_quorum_brings_the_sorry_server() {
        let mut b = balancer(TWO);
        // 10.0.1.2 down: inhibited to weight 0; sum 2 >= quorum 2 - 1.
        assert_eq!(
            b.report(id(1), 0, false),
            [Transition::RealServer {
                id: id(1),
                alive: false
            }]
        );
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 2), ("10.0.1.2".into(), 0)]
        );
        // 10.0.1.1 down: removed; sum 0 < 1: quorum lost, sorry server in.
        assert_eq!(
            b.report(id(0), 0, false),
            [
                Transition::RealServer {
                    id: id(0),
                    alive: false
                },
                Transition::Quorum { vs: 0, up: false }
            ]
        );
        assert_eq!(
            weights(&b),
            [("10.0.1.2".into(), 0), ("10.0.9.9".into(), 1)]
        );
        // 10.0.1.2 back: sum 1 < quorum 2 + 1: still no quorum (hysteresis).
        assert_eq!(
            b.report(id(1), 0, true),
            [Transition::RealServer {
                id: id(1),
                alive: true
            }]
        );
        assert!(!b.quorum_up(0));
        // Alive, but without quorum the sorry server serves alone
        // (10.0.1.2 is inhibit_on_failure: kept at weight 0).
        assert_eq!(
            weights(&b),
            [("10.0.1.2".into(), 0), ("10.0.9.9".into(), 1)]
        );
        // 10.0.1.1 back: sum 3 >= 3: quorum, the sorry server leaves.
        b.report(id(0), 0, true);
        assert!(b.quorum_up(0));
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 2), ("10.0.1.2".into(), 1)]
        );
    }

    #[test]
    fn a_server_is_down_while_any_checker_fails() {
        let mut b = balancer(CI_AND_TCP);
        assert_eq!(
            b.report(id(0), 1, false),
            [
                Transition::RealServer {
                    id: id(0),
                    alive: false
                },
                Transition::Quorum { vs: 0, up: false }
            ]
        );
        assert!(b.report(id(0), 0, false).is_empty(), "already down");
        assert!(b.report(id(0), 1, true).is_empty(), "CI-LINUX still fails");
        assert!(!b.alive(id(0)));
        b.report(id(0), 0, true);
        assert!(b.alive(id(0)));
    }

    #[test]
    fn a_shutdown_drains_at_weight_zero_until_the_node_is_down() {
        let mut b = balancer(TWO);
        // 10.0.1.1 drains: down for notify and quorum (sum 1 >= 2 - 1),
        // kept in IPVS at weight 0.
        assert_eq!(
            b.drain(id(0), 0),
            [
                Transition::RealServer {
                    id: id(0),
                    alive: false
                },
                Transition::Draining {
                    id: id(0),
                    on: true
                }
            ]
        );
        assert!(b.draining(id(0)) && !b.alive(id(0)));
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 0), ("10.0.1.2".into(), 1)]
        );
        assert!(b.drain(id(0), 0).is_empty(), "the same verdict again");
        // Its node is down: removed, as any dead server.
        assert_eq!(
            b.report(id(0), 0, false),
            [Transition::Draining {
                id: id(0),
                on: false
            }]
        );
        assert_eq!(weights(&b), [("10.0.1.2".into(), 1)]);
        // Back up: its weight again.
        b.drain(id(0), 0);
        assert_eq!(
            b.report(id(0), 0, true),
            [
                Transition::RealServer {
                    id: id(0),
                    alive: true
                },
                Transition::Draining {
                    id: id(0),
                    on: false
                }
            ]
        );
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 2), ("10.0.1.2".into(), 1)]
        );
    }

    #[test]
    fn a_draining_server_stays_at_zero_whatever_its_other_checkers_say() {
        let mut b = balancer(CI_AND_TCP);
        b.drain(id(0), 0);
        // Its service stops before its node is down: still drained.
        assert!(b.report(id(0), 1, false).is_empty());
        assert_eq!(weights(&b), [("10.0.1.1".into(), 0)]);
        // The quorum is lost at the drain (sum 0), not again.
        assert!(!b.quorum_up(0));
        b.report(id(0), 0, false);
        assert!(b.dests(0).is_empty());
    }

    #[test]
    fn a_reload_keeps_a_drain() {
        let mut b = balancer(TWO);
        b.drain(id(0), 0);
        let c =
            Config::from_text(&TWO.replace("quorum 2", "quorum 1"), Path::new("/t.conf")).unwrap();
        let (b2, ts) = b.reconfigured(c.virtual_servers);
        assert!(ts.is_empty(), "{ts:?}");
        assert!(b2.draining(id(0)));
        assert_eq!(
            weights(&b2),
            [("10.0.1.1".into(), 0), ("10.0.1.2".into(), 1)]
        );
    }

    #[test]
    fn alpha_starts_down_and_a_reload_keeps_verdicts() {
        let text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n alpha\n real_server 10.0.1.1 80 {\n CI-LINUX\n }\n real_server 10.0.1.2 80 {\n CI-LINUX\n }\n}\n";
        let mut b = balancer(text);
        assert!(b.dests(0).is_empty());
        b.report(id(1), 0, true);
        let c = Config::from_text(
            &text.replace("real_server 10.0.1.1 80", "real_server 10.0.1.3 80"),
            Path::new("/t.conf"),
        )
        .unwrap();
        let (b2, _) = b.reconfigured(c.virtual_servers);
        // 10.0.1.2 kept its verdict; the new 10.0.1.3 starts as alpha says.
        assert!(b2.alive(id(1)) && !b2.alive(id(0)));
    }

    #[test]
    fn a_live_weight_sum_of_zero_loses_quorum_even_at_quorum_zero() {
        // All weights 0: keepalived lowers quorum to the total (0) and
        // hysteresis to quorum - 1, which wraps to 4294967295.
        let text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n sorry_server 10.0.9.9 80\n real_server 10.0.1.1 80 {\n weight 0\n CI-LINUX\n }\n real_server 10.0.1.2 80 {\n weight 0\n CI-LINUX\n }\n}\n";
        let mut b = balancer(text);
        let cfg = &b.config()[0];
        assert_eq!((cfg.quorum, cfg.hysteresis), (0, u32::MAX));
        // It starts without quorum (0 < 0 + 4294967295): the sorry server
        // serves alone.
        assert!(!b.quorum_up(0));
        assert_eq!(weights(&b), [("10.0.9.9".into(), 1)]);
        // Servers going down and up never bring it back at sum 0.
        b.report(id(0), 0, false);
        assert!(b
            .report(id(0), 0, true)
            .iter()
            .all(|t| !matches!(t, Transition::Quorum { .. })));
        assert!(!b.quorum_up(0));
    }

    #[test]
    fn it_starts_with_quorum_only_at_quorum_plus_hysteresis() {
        let text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n quorum 2\n hysteresis 1\n sorry_server 10.0.9.9 80\n real_server 10.0.1.1 80 {\n weight 2\n CI-LINUX\n }\n real_server 10.0.1.2 80 {\n weight 1\n CI-LINUX\n }\n}\n";
        let b = balancer(text);
        assert!(b.quorum_up(0), "sum 3 >= 2 + 1");
        let mut b = balancer(&text.replace("weight 1", "weight 0"));
        assert!(!b.quorum_up(0), "sum 2 < 2 + 1: it starts without quorum");
        assert!(weights(&b).contains(&("10.0.9.9".into(), 1)));
        // Once gained (at 3), it holds down to 2 - 1 = 1.
        b.set_weight(id(1), 1);
        assert!(b.quorum_up(0));
        b.set_weight(id(1), 0);
        assert!(b.quorum_up(0), "sum 2 >= 1");
    }

    #[test]
    fn the_live_sum_kept_equals_the_sum_recomputed() {
        let mut b = balancer(TWO);
        let mut x: u64 = 12345;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let rs = (x >> 33) as usize % 2;
            match (x >> 40) % 3 {
                0 => drop(b.report(id(rs), 0, (x >> 50) % 2 == 0)),
                1 => drop(b.set_weight(id(rs), ((x >> 45) % 5) as i32 - 1)),
                _ => drop(b.drain(id(rs), 0)),
            }
            assert_eq!(b.state[0].live_sum, weight_sum(&b.state[0]));
            // A drained server is in IPVS at weight 0, a dead one as
            // inhibit_on_failure says (10.0.1.2 has it).
            let held = b.dests(0).into_iter().find(|d| d.addr == TWO_RS[rs]);
            match (b.alive(id(rs)), b.draining(id(rs))) {
                (true, _) => assert!(held.is_some() || !b.quorum_up(0)),
                (false, true) => assert_eq!(held.map(|d| d.weight), Some(0)),
                (false, false) => assert_eq!(held.map(|d| d.weight), (rs == 1).then_some(0)),
            }
        }
    }

    #[test]
    fn a_sorry_server_that_is_a_real_server_serves_at_weight_1() {
        let text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n quorum 2\n sorry_server 10.0.1.2 80\n real_server 10.0.1.1 80 {\n weight 2\n CI-LINUX\n }\n real_server 10.0.1.2 80 {\n weight 3\n inhibit_on_failure\n CI-LINUX\n }\n}\n";
        let mut b = balancer(text);
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 2), ("10.0.1.2".into(), 3)]
        );
        b.report(id(1), 0, false);
        assert!(b.quorum_up(0), "2 >= 2");
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 2), ("10.0.1.2".into(), 0)]
        );
        b.report(id(0), 0, false);
        assert!(!b.quorum_up(0));
        assert_eq!(weights(&b), [("10.0.1.2".into(), 1)]);
    }

    #[test]
    fn a_reload_keeps_quorum_state_and_the_state_of_each_same_checker() {
        let mut b = balancer(TWO);
        b.report(id(0), 0, false);
        b.report(id(1), 0, false);
        assert!(!b.quorum_up(0));
        // 10.0.1.1 gets a second checker; 10.0.1.2 loses its only one,
        // so it comes up; quorum: 1 < 2 + 1, still down (hysteresis from
        // the state kept, not a fresh start).
        let text = TWO
            .replace(
                "real_server 10.0.1.1 80 { weight 2\n            CI-LINUX }",
                "real_server 10.0.1.1 80 { weight 2\n            CI-LINUX\n MISC_CHECK {\n misc_path /bin/true\n } }",
            )
            .replace("inhibit_on_failure\n            CI-LINUX }", "inhibit_on_failure }");
        let c = Config::from_text(&text, Path::new("/t.conf")).unwrap();
        let (b2, ts) = b.reconfigured(c.virtual_servers);
        assert_eq!(
            ts,
            [Transition::RealServer {
                id: id(1),
                alive: true
            }]
        );
        assert!(
            !b2.alive(id(0)),
            "CI-LINUX kept failing; the new MISC_CHECK passes"
        );
        assert!(b2.checker_passes(id(0), 1));
        assert!(!b2.quorum_up(0));
    }

    #[test]
    fn a_reload_that_only_moves_a_checker_keeps_its_state() {
        let mut b = balancer(TWO);
        b.report(id(0), 0, false);
        // A comment line above: every checker is on another line now.
        let c = Config::from_text(&format!("# moved\n{TWO}"), Path::new("/t.conf")).unwrap();
        let (b2, ts) = b.reconfigured(c.virtual_servers);
        assert!(ts.is_empty(), "{ts:?}");
        assert!(!b2.alive(id(0)));
        let carried = b2.carried(id(0)).expect("10.0.1.1 continues");
        assert_eq!((carried.from, carried.was_alive), (id(0), false));
        assert_eq!(carried.checkers, [Some(0)]);
    }

    #[test]
    fn services_start_with_quorum_notifies() {
        let b = balancer(TWO);
        assert_eq!(
            b.initial_transitions(),
            [Transition::Quorum { vs: 0, up: true }]
        );
        let b = balancer("virtual_server 10.0.0.1 80 {\n protocol TCP\n alpha\n real_server 10.0.1.1 80 {\n CI-LINUX\n }\n}\n");
        assert!(
            b.initial_transitions().is_empty(),
            "no quorum, no sorry server: nothing"
        );
    }

    #[test]
    fn a_file_check_moves_the_weight_and_its_fault_takes_the_server_down() {
        let text = "track_file f {\n file /run/f\n weight 0\n}\n\
                    virtual_server 10.0.0.1 80 {\n protocol TCP\n alpha\n quorum 3\n sorry_server 10.0.9.9 80\n\
                    real_server 10.0.1.1 80 {\n weight 2\n FILE_CHECK {\n track_file f\n weight 1\n }\n }\n\
                    real_server 10.0.1.2 80 {\n weight 1\n inhibit_on_failure\n FILE_CHECK {\n track_file f\n }\n }\n}\n";
        let mut b = balancer(text);
        // alpha does not hold a FILE_CHECK down: it starts passing.
        assert!(b.alive(id(0)) && b.alive(id(1)) && b.quorum_up(0));
        // 10.0.1.1 follows number × 1 on top of its weight 2.
        assert!(b.file_effect(id(0), 0, Effect::Add(3)).is_empty());
        assert_eq!(b.effective_weight(id(0)), 5);
        assert_eq!(b.weight(id(0)), 2, "the configured weight stays");
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 5), ("10.0.1.2".into(), 1)]
        );
        // Below 0: weight 0 in IPVS, still up, and the live sum loses it.
        assert_eq!(
            b.file_effect(id(0), 0, Effect::Add(-9)),
            [Transition::Quorum { vs: 0, up: false }],
            "0 + 1 < quorum 3"
        );
        assert!(b.alive(id(0)));
        assert_eq!(b.effective_weight(id(0)), 0);
        // The weight-0 FILE_CHECK of 10.0.1.2: a fault takes it down.
        assert_eq!(
            b.file_effect(id(1), 0, Effect::Fault),
            [Transition::RealServer {
                id: id(1),
                alive: false
            }]
        );
        b.file_effect(id(0), 0, Effect::Add(1));
        assert!(b.quorum_up(0), "3 >= 3");
        assert_eq!(
            weights(&b),
            [("10.0.1.1".into(), 3), ("10.0.1.2".into(), 0)]
        );
        assert_eq!(b.state[0].live_sum, weight_sum(&b.state[0]));
        assert_eq!(
            b.file_effect(id(1), 0, Effect::Add(0)),
            [Transition::RealServer {
                id: id(1),
                alive: true
            }]
        );
        assert_eq!(b.state[0].live_sum, 4);
    }

    #[test]
    fn sorry_server_inhibit_and_persistence() {
        let b = balancer(
            "virtual_server fd00::1 443 {\n protocol TCP\n persistence_timeout 300\n persistence_granularity 64\n sorry_server fd00::99 443\n sorry_server_inhibit\n real_server fd00::2 443 {\n }\n}\n",
        );
        let s = &b.services(0)[0];
        assert_eq!(
            s.persistence.as_ref().map(|p| (p.timeout_s, p.netmask)),
            Some((300, Some(64)))
        );
        assert_eq!(weights(&b), [("fd00::2".into(), 1), ("fd00::99".into(), 0)]);
    }
}
