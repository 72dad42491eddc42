//! The connection to this machine's corosync: quorum (the partition and
//! whether it is quorate), CPG (which nodes' feeders are present), cmap
//! (the nodelist, and changes to it) and cfg (corosync telling its clients
//! it is shutting down). Each handle's fd goes into the loop; on
//! readiness, `dispatch` runs the callbacks, which can only be plain
//! functions: they queue [`Event`]s that the loop takes with [`take`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::os::fd::RawFd;

use log::{debug, warn};
use rust_corosync::{self as cs, cfg, cmap, cpg, quorum, CsError, DispatchFlags, NodeId};

use crate::membership::{Configured, Left};

/// The CPG group every feeder joins: its members are the nodes whose
/// feeder runs.
pub const GROUP: &str = "afcluster-corosync";

/// What a callback reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Quorum {
        quorate: bool,
        members: Vec<u32>,
    },
    Feeders {
        members: Vec<u32>,
        left: Vec<(u32, Left)>,
    },
    NodelistChanged,
    /// corosync asks its clients whether it may shut down.
    ShuttingDown,
}

thread_local! {
    static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

fn push(e: Event) {
    EVENTS.with(|q| q.borrow_mut().push(e));
}

/// The events the last dispatches queued, in order.
pub fn take() -> Vec<Event> {
    EVENTS.with(|q| std::mem::take(&mut *q.borrow_mut()))
}

fn ids(list: &[NodeId]) -> Vec<u32> {
    list.iter().map(|n| u32::from(*n)).collect()
}

fn on_quorum(_h: &quorum::Handle, quorate: bool, _ring: quorum::RingId, members: Vec<NodeId>) {
    push(Event::Quorum {
        quorate,
        members: ids(&members),
    });
}

fn on_confchg(
    _h: &cpg::Handle,
    _group: &str,
    members: Vec<cpg::Address>,
    left: Vec<cpg::Address>,
    _joined: Vec<cpg::Address>,
) {
    let left = left
        .iter()
        .map(|a| {
            let why = match a.reason {
                cpg::Reason::Leave => Left::OnPurpose,
                cpg::Reason::NodeDown => Left::NodeDown,
                _ => Left::ProcessDied,
            };
            (u32::from(a.nodeid), why)
        })
        .collect();
    push(Event::Feeders {
        members: members.iter().map(|a| u32::from(a.nodeid)).collect(),
        left,
    });
}

#[allow(clippy::too_many_arguments)]
fn on_cmap(
    _h: &cmap::Handle,
    _t: &cmap::TrackHandle,
    _event: cmap::TrackType,
    key: &str,
    _new: &cmap::Data,
    _old: &cmap::Data,
    _user: u64,
) {
    debug!("cmap: {key} changed");
    push(Event::NodelistChanged);
}

fn on_shutdown(_h: &cfg::Handle, _flags: u32) {
    push(Event::ShuttingDown);
}

/// Which handle an fd belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Quorum,
    Cpg,
    Cmap,
    Cfg,
}

pub struct Corosync {
    quorum: quorum::Handle,
    cpg: cpg::Handle,
    cmap: cmap::Handle,
    cfg: cfg::Handle,
    // Kept for the tracker's life.
    _nodelist_track: cmap::TrackHandle,
    pub local: u32,
}

/// A corosync call that failed, for people.
fn why(what: &str, e: CsError) -> String {
    format!("{what}: {e}")
}

impl Corosync {
    /// Connect and join the group. Err: corosync is not running (or
    /// refuses us); the caller tries again later.
    pub fn connect() -> Result<Corosync, String> {
        let (quorum, _) = quorum::initialize(
            &quorum::ModelData::ModelV1(quorum::Model1Data {
                flags: quorum::Model1Flags::None,
                quorum_notification_fn: Some(on_quorum),
                nodelist_notification_fn: None,
            }),
            0,
        )
        .map_err(|e| why("quorum", e))?;
        // CHANGES sends the current state first, then each change.
        quorum::trackstart(&quorum, cs::TrackFlags::Changes).map_err(|e| why("quorum", e))?;
        let cmap = cmap::initialize(cmap::Map::Icmap).map_err(|e| why("cmap", e))?;
        let nodelist_track = cmap::track_add(
            &cmap,
            "nodelist.node.",
            cmap::TrackType::ADD
                | cmap::TrackType::DELETE
                | cmap::TrackType::MODIFY
                | cmap::TrackType::PREFIX,
            &cmap::NotifyCallback {
                notify_fn: Some(on_cmap),
            },
            0,
        )
        .map_err(|e| why("cmap track", e))?;
        let cfg = cfg::initialize(&cfg::Callbacks {
            corosync_cfg_shutdown_callback_fn: Some(on_shutdown),
        })
        .map_err(|e| why("cfg", e))?;
        // Shutdown requests reach the clients that track.
        cfg::track_start(&cfg, cfg::TrackFlags::None).map_err(|e| why("cfg track", e))?;
        let cpg = cpg::initialize(
            &cpg::ModelData::ModelV1(cpg::Model1Data {
                flags: cpg::Model1Flags::None,
                deliver_fn: None,
                confchg_fn: Some(on_confchg),
                totem_confchg_fn: None,
            }),
            0,
        )
        .map_err(|e| why("cpg", e))?;
        let local = cpg::local_get(&cpg).map_err(|e| why("cpg local nodeid", e))?;
        cpg::join(&cpg, GROUP).map_err(|e| why("cpg join", e))?;
        Ok(Corosync {
            quorum,
            cpg,
            cmap,
            cfg,
            _nodelist_track: nodelist_track,
            local: u32::from(local),
        })
    }

    pub fn fds(&self) -> Result<Vec<(Source, RawFd)>, String> {
        Ok(vec![
            (
                Source::Quorum,
                quorum::fd_get(&self.quorum).map_err(|e| why("quorum fd", e))?,
            ),
            (
                Source::Cpg,
                cpg::fd_get(&self.cpg).map_err(|e| why("cpg fd", e))?,
            ),
            (
                Source::Cmap,
                cmap::fd_get(&self.cmap).map_err(|e| why("cmap fd", e))?,
            ),
            (
                Source::Cfg,
                cfg::fd_get(&self.cfg).map_err(|e| why("cfg fd", e))?,
            ),
        ])
    }

    /// Run the callbacks waiting on one handle. Err: corosync is gone.
    pub fn dispatch(&self, s: Source) -> Result<(), String> {
        let r = match s {
            Source::Quorum => quorum::dispatch(&self.quorum, DispatchFlags::All),
            Source::Cpg => cpg::dispatch(&self.cpg, DispatchFlags::All),
            Source::Cmap => cmap::dispatch(&self.cmap, DispatchFlags::All),
            Source::Cfg => cfg::dispatch(&self.cfg, DispatchFlags::All),
        };
        match r {
            Ok(()) | Err(CsError::CsErrTryAgain) => Ok(()),
            Err(e) => Err(why(&format!("{s:?} dispatch"), e)),
        }
    }

    /// Leave the group on purpose: the other feeders see a clean stop.
    pub fn leave(&self) {
        if let Err(e) = cpg::leave(&self.cpg, GROUP) {
            warn!("cannot leave the CPG group {GROUP}: {e}");
        }
    }

    /// Let corosync go on shutting down.
    pub fn allow_shutdown(&self) {
        if let Err(e) = cfg::reply_to_shutdown(&self.cfg, cfg::ShutdownReply::Yes) {
            debug!("cfg shutdown reply: {e}");
        }
    }

    /// corosync's nodelist, each node with its ring addresses (names
    /// resolved, as corosync resolves them).
    pub fn nodelist(&self) -> Result<BTreeMap<u32, Configured>, String> {
        let keys = cmap::CmapIterStart::new(&self.cmap, "nodelist.node.")
            .map_err(|e| why("cmap nodelist", e))?;
        let mut raw: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
        for item in keys {
            // nodelist.node.<N>.<field>
            let rest = item.key_name().trim_start_matches("nodelist.node.");
            if let Some((n, field)) = rest.split_once('.') {
                let v = match item.data() {
                    cmap::Data::UInt32(v) => Value::Number(*v),
                    cmap::Data::String(s) => Value::Text(s.clone()),
                    _ => continue,
                };
                raw.entry(n.to_string())
                    .or_default()
                    .push((field.to_string(), v));
            }
        }
        Ok(nodes_of(&raw))
    }
}

/// A cmap value the nodelist uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Number(u32),
    Text(String),
}

/// The nodes of cmap's `nodelist.node.N.*` keys (grouped by N). A node
/// without a nodeid is skipped with a warning, as corosync needs one for
/// knet; ring addresses that do not resolve are left out.
pub fn nodes_of(raw: &BTreeMap<String, Vec<(String, Value)>>) -> BTreeMap<u32, Configured> {
    let mut out = BTreeMap::new();
    for (n, fields) in raw {
        let mut id = None;
        let mut name = None;
        let mut rings: Vec<(u32, String)> = Vec::new();
        for (field, data) in fields {
            match (field.as_str(), data) {
                ("nodeid", Value::Number(v)) => id = Some(*v),
                ("nodeid", Value::Text(s)) => id = s.trim().parse().ok(),
                ("name", Value::Text(s)) => name = Some(s.clone()),
                (f, Value::Text(s)) if f.starts_with("ring") && f.ends_with("_addr") => {
                    let ring = f["ring".len()..f.len() - "_addr".len()]
                        .parse()
                        .unwrap_or(u32::MAX);
                    rings.push((ring, s.clone()));
                }
                _ => {}
            }
        }
        let Some(id) = id.filter(|id| *id != 0) else {
            warn!("corosync nodelist.node.{n} has no nodeid: left out");
            continue;
        };
        rings.sort();
        let addrs: Vec<IpAddr> = rings.iter().flat_map(|(_, a)| resolve(a)).collect();
        let name =
            name.unwrap_or_else(|| rings.first().map(|(_, a)| a.clone()).unwrap_or_default());
        out.insert(id, Configured { name, addrs });
    }
    out
}

/// A ring address: an address, or a name corosync resolves.
fn resolve(a: &str) -> Vec<IpAddr> {
    if let Ok(ip) = a.parse::<IpAddr>() {
        return vec![ip];
    }
    match (a, 0).to_socket_addrs() {
        Ok(list) => {
            let mut v: Vec<IpAddr> = list.map(|s| s.ip()).collect();
            v.dedup();
            v
        }
        Err(e) => {
            warn!("corosync ring address {a} does not resolve ({e}): left out");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Text(v.into())
    }

    #[test]
    fn nodelist_keys_become_nodes_with_their_rings_in_order() {
        let mut raw = BTreeMap::new();
        raw.insert(
            "0".to_string(),
            vec![
                ("nodeid".into(), Value::Number(21)),
                ("name".into(), s("web1")),
                ("ring1_addr".into(), s("fd10::21")),
                ("ring0_addr".into(), s("10.10.0.21")),
            ],
        );
        raw.insert(
            "1".to_string(),
            vec![
                ("nodeid".into(), s("22")),
                ("ring0_addr".into(), s("10.10.0.22")),
            ],
        );
        raw.insert(
            "2".to_string(),
            vec![("ring0_addr".into(), s("10.10.0.23"))],
        );
        let nodes = nodes_of(&raw);
        assert_eq!(nodes.keys().copied().collect::<Vec<_>>(), [21, 22]);
        assert_eq!(nodes[&21].name, "web1");
        assert_eq!(
            nodes[&21].addrs,
            ["10.10.0.21", "fd10::21"].map(|a| a.parse::<IpAddr>().unwrap())
        );
        // No name: corosync names it by its first ring address.
        assert_eq!(nodes[&22].name, "10.10.0.22");
    }
}
