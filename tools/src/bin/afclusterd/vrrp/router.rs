//! One vrrp_instance as the daemon runs it: its configuration, its state
//! machine, the interface it was resolved to, and what it counts. No
//! sockets here: it says what to send and where, and judges what came.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use afcluster::config::{
    NodeRef, TrackFile, TrackInterface, TrackNode, TrackScript, VrrpInstance, VrrpSyncGroup,
    VrrpVersion,
};
use afcluster::control::VrrpStatus;
use afcluster::rtnl::{Addr, Scope, IFA_F_NODAD};
use afcluster::vrrp::check::{self, Drop, Expect, Peer, Received};
use afcluster::vrrp::instance::{self, Instance, Params, State, Version};
use afcluster::vrrp::packet::{self, Auth, Checksum, EncodeError};
use afcluster::vrrp::script::Health;
use afcluster::vrrp::track;
use afcluster::{NodeState, Reflection};

/// The interface an instance runs on, as found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iface {
    /// Where adverts are sent and heard: the interface, or its VMAC
    /// (the base again with vmac_xmit_base).
    pub index: u32,
    pub ifname: String,
    /// Where its addresses go and announcements leave from: the
    /// interface, or its VMAC.
    pub addr_index: u32,
    /// The MAC announcements carry (the VRRP MAC on a VMAC).
    pub mac: [u8; 6],
    /// The instance's own `interface` (a VMAC's base).
    pub base_index: u32,
    /// The adverts' source: the configured one, or the interface's
    /// primary address of the instance's family (link-local for IPv6).
    pub source: IpAddr,
}

/// What an instance tracks: its own track_* lines and its sync group's.
#[derive(Debug, Clone, Default)]
pub struct Tracks {
    pub interfaces: Vec<TrackInterface>,
    pub scripts: Vec<TrackScript>,
    pub files: Vec<TrackFile>,
    pub nodes: Vec<TrackNode>,
}

/// The state of everything an instance may track.
pub struct Tracked<'a> {
    pub nodes: &'a Reflection,
    /// Running (up with a carrier), by interface name.
    pub links: &'a HashMap<String, bool>,
    /// vrrp_script health by name; a script not there moves nothing.
    pub scripts: &'a HashMap<String, Health>,
    /// track_file numbers by name; a file not there moves nothing.
    pub files: &'a HashMap<String, i64>,
}

pub struct Router {
    /// Stable across reloads: its timers' keys are made from it.
    pub slot: u64,
    pub cfg: VrrpInstance,
    pub tracks: Tracks,
    /// Its vrrp_sync_group among the subsystem's.
    pub group: Option<usize>,
    pub m: Instance,
    /// None: the interface or its address was not found (FAULT).
    pub iface: Option<Iface>,
    /// Why it is held in FAULT besides tracking, for status.
    pub unusable: Option<String>,
    /// Its socket among the subsystem's.
    pub sock: Option<usize>,
    advert_addrs: Vec<IpAddr>,
    auth: Auth,
    checksum: Checksum,
    peers: Vec<Peer>,
    drops: BTreeMap<&'static str, u64>,
    pub last_transition: Option<Instant>,
}

impl Router {
    pub fn new(cfg: VrrpInstance, iface: Result<Iface, String>) -> Router {
        let version = match cfg.version {
            VrrpVersion::V2 => Version::V2,
            VrrpVersion::V3 => Version::V3,
        };
        let (iface, unusable) = match iface {
            Ok(i) => (Some(i), None),
            Err(why) => (None, Some(why)),
        };
        let primary = iface.as_ref().map_or_else(
            || cfg.src_ip.unwrap_or(IpAddr::from([0, 0, 0, 0])),
            |i| i.source,
        );
        let m = Instance::new(Params {
            version,
            priority: cfg.priority,
            advert_cs: interval_cs(cfg.advert_int),
            want_master: cfg.state == afcluster::config::InitialState::Master,
            preempt: !cfg.nopreempt,
            preempt_delay: cfg.preempt_delay,
            down_timer_adverts: cfg.down_timer_adverts,
            primary,
            lower_prio_no_advert: cfg.lower_prio_no_advert,
            higher_prio_send_advert: cfg.higher_prio_send_advert,
        });
        let auth = match &cfg.auth_pass {
            Some(p) => {
                let mut b = [0u8; 8];
                let n = p.len().min(8);
                b[..n].copy_from_slice(&p.as_bytes()[..n]);
                Auth::Pass(b)
            }
            None => Auth::None,
        };
        let checksum = if cfg.v3_checksum_as_v2 {
            Checksum::V3_AS_V2
        } else {
            Checksum::RFC
        };
        let peers = cfg
            .unicast_peers
            .iter()
            .map(|p| Peer {
                addr: p.addr,
                min_ttl: p.min_ttl,
                max_ttl: p.max_ttl,
            })
            .collect();
        let tracks = Tracks {
            interfaces: cfg.track_interfaces.clone(),
            scripts: cfg.track_scripts.clone(),
            files: cfg.track_files.clone(),
            nodes: cfg.track_nodes.clone(),
        };
        Router {
            slot: 0,
            tracks,
            group: None,
            advert_addrs: cfg.vips.iter().map(|v| v.addr).collect(),
            m,
            iface,
            unusable,
            sock: None,
            auth,
            checksum,
            peers,
            drops: BTreeMap::new(),
            last_transition: None,
            cfg,
        }
    }

    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    /// Whether a reload may hand this running instance `new`'s
    /// configuration and let it carry on: the same VRID, version and
    /// family on the same interface, still as the kernel has it.
    pub fn can_become(&self, new: &Router) -> bool {
        let family = |r: &Router| r.iface.as_ref().map(|i| i.source.is_ipv6());
        self.cfg.vrid == new.cfg.vrid
            && self.cfg.version == new.cfg.version
            && self.cfg.interface == new.cfg.interface
            && self.iface.is_some()
            && self.iface.as_ref().map(|i| (i.index, i.addr_index, i.mac))
                == new.iface.as_ref().map(|i| (i.index, i.addr_index, i.mac))
            && family(self) == family(new)
    }

    /// Take `new`'s configuration, keeping its state machine's state,
    /// counters and drops (see `can_become`). Its group is set again by
    /// `join`.
    pub fn reconfigure(&mut self, new: Router) {
        self.m.reconfigure(new.m.params().clone());
        self.m.set_grouped(false);
        self.group = None;
        self.cfg = new.cfg;
        self.tracks = new.tracks;
        self.iface = new.iface;
        self.unusable = new.unusable;
        self.sock = new.sock;
        self.advert_addrs = new.advert_addrs;
        self.auth = new.auth;
        self.checksum = new.checksum;
        self.peers = new.peers;
    }

    /// A member of group `index`: it tracks what the group tracks too.
    pub fn join(&mut self, index: usize, g: &VrrpSyncGroup) {
        self.group = Some(index);
        self.m.set_grouped(true);
        let t = &mut self.tracks;
        t.interfaces.extend(g.track_interfaces.iter().cloned());
        t.scripts.extend(g.track_scripts.iter().cloned());
        t.files.extend(g.track_files.iter().cloned());
        t.nodes.extend(g.track_nodes.iter().cloned());
    }

    pub fn multicast(&self) -> bool {
        self.cfg.unicast_peers.is_empty()
    }

    /// The multicast group, or the peers.
    pub fn destinations(&self) -> Vec<IpAddr> {
        if self.multicast() {
            let group =
                self.cfg
                    .mcast_group
                    .unwrap_or(match self.iface.as_ref().map(|i| i.source) {
                        Some(IpAddr::V6(_)) => IpAddr::V6(packet::GROUP_V6),
                        _ => IpAddr::V4(packet::GROUP_V4),
                    });
            vec![group]
        } else {
            self.cfg.unicast_peers.iter().map(|p| p.addr).collect()
        }
    }

    /// The advertisement to send to `dst` with `priority`.
    pub fn advert(&self, priority: u8, dst: IpAddr) -> Result<Vec<u8>, EncodeError> {
        let src = self.m.params().primary;
        let a = packet::Advert {
            version: self.m.params().version,
            vrid: self.cfg.vrid,
            priority,
            interval_cs: self.m.params().advert_cs,
            addrs: self.advert_addrs.clone(),
            auth: self.auth.clone(),
        };
        packet::encode(&a, src, dst, self.checksum)
    }

    /// Judge a packet for this instance; count a drop.
    pub fn judge(&mut self, r: &Received<'_>) -> Result<instance::Advert, Drop> {
        let skip =
            self.cfg.skip_check_adv_addr && self.m.master().is_some_and(|(from, _)| from == r.src);
        let e = Expect {
            version: self.m.params().version,
            interval_cs: self.m.params().advert_cs,
            auth: &self.auth,
            vips: &self.advert_addrs,
            check_vips: !skip,
            peers: &self.peers,
            check_unicast_src: self.cfg.check_unicast_src,
            checksum: self.checksum,
        };
        match check::check(r, &e) {
            Ok(a) => Ok(instance::Advert {
                from: r.src,
                priority: a.priority,
                interval_cs: a.interval_cs,
            }),
            Err(d) => {
                *self.drops.entry(d.kind()).or_default() += 1;
                Err(d)
            }
        }
    }

    /// The addresses it adds as master: the VIPs and the excluded ones,
    /// on its interface unless a line names another.
    pub fn addresses(&self, index_of: impl Fn(&str) -> Option<u32>) -> Vec<Addr> {
        let Some(iface) = &self.iface else {
            return Vec::new();
        };
        self.cfg
            .vips
            .iter()
            .chain(&self.cfg.excluded_vips)
            .filter_map(|v| {
                let index = match &v.dev {
                    Some(d) => index_of(d)?,
                    None => iface.addr_index,
                };
                Some(vip_addr(v, index))
            })
            .collect()
    }

    /// Its virtual_routes, as added on becoming master.
    pub fn routes(&self) -> Vec<afcluster::rtnl::Route> {
        self.cfg.routes.iter().map(|r| r.route.clone()).collect()
    }

    /// Its virtual_rules, as added after the routes.
    pub fn rules(&self) -> Vec<afcluster::rtnl::Rule> {
        self.cfg.rules.iter().map(|r| r.rule.clone()).collect()
    }

    /// Every address it announces as master.
    pub fn announced(&self) -> Vec<IpAddr> {
        self.cfg
            .vips
            .iter()
            .chain(&self.cfg.excluded_vips)
            .map(|v| v.addr)
            .collect()
    }

    /// Its total priority and FAULT from what it tracks: cluster nodes,
    /// scripts, files, and links: its own interface unless
    /// dont_track_primary, the track_interfaces, and the interfaces its
    /// addresses are on unless no_track (keepalived's).
    pub fn tracking(&self, w: &Tracked<'_>) -> (i32, bool) {
        let up = |name: &str| w.links.get(name).copied().unwrap_or(false);
        let t = &self.tracks;
        let mut effects = Vec::new();
        if !self.cfg.dont_track_primary {
            effects.push(track::effect(0, false, up(&self.cfg.interface)));
            if let Some(v) = &self.cfg.vmac {
                effects.push(track::effect(0, false, up(&v.name)));
            }
        }
        for i in &t.interfaces {
            effects.push(track::effect(i.weight, i.reverse, up(&i.interface)));
        }
        for v in self.cfg.vips.iter().chain(&self.cfg.excluded_vips) {
            if let (Some(d), false) = (&v.dev, v.no_track) {
                effects.push(track::effect(0, false, up(d)));
            }
        }
        let r = w.nodes;
        for n in &t.nodes {
            let id = match &n.node {
                NodeRef::Local => Some(r.local_node()).filter(|id| *id != 0),
                NodeRef::Id(id) => Some(*id),
                NodeRef::Name(name) => r.nodes().iter().find(|x| &x.name == name).map(|x| x.id),
            };
            let node_up = id.and_then(|id| r.state(id)) == Some(NodeState::Up);
            effects.push(track::effect(n.weight, n.reverse, node_up));
        }
        for s in &t.scripts {
            if let Some(h) = w.scripts.get(&s.script) {
                effects.push(track::script_effect(s.weight, s.reverse, *h));
            }
        }
        for f in &t.files {
            if let Some(v) = w.files.get(&f.file) {
                effects.push(track::file_effect(*v, f.weight, f.reverse));
            }
        }
        let (total, fault) = track::total(self.cfg.priority, effects);
        // Until the table is first loaded nothing is known of the nodes:
        // FAULT, as keepalived holds an instance whose tracked script has
        // not yet run. A table gone stale keeps what it last said.
        let never_loaded = r.is_stale() && r.seq() == 0;
        (total, fault || (never_loaded && !t.nodes.is_empty()))
    }

    /// A weight-0 track_script has not run yet: keepalived keeps the
    /// instance in INIT until it has (only at start; a running instance
    /// is not held by a script a reload added).
    pub fn waits_for_scripts(&self, w: &Tracked<'_>) -> bool {
        self.tracks
            .scripts
            .iter()
            .any(|s| s.weight == 0 && w.scripts.get(&s.script) == Some(&Health::Unknown))
    }

    pub fn transitioned(&mut self, now: Instant) {
        self.last_transition = Some(now);
    }

    pub fn status(&self, now: Instant) -> VrrpStatus {
        let s = self.m.stats();
        VrrpStatus {
            name: self.cfg.name.clone(),
            interface: self.cfg.interface.clone(),
            vrid: self.cfg.vrid,
            version: self.m.params().version.number(),
            state: self.m.state().to_string(),
            base_priority: self.cfg.priority,
            effective_priority: self.m.effective_priority(),
            source: self.iface.as_ref().map(|i| i.source.to_string()),
            master: self.m.master().map(|(a, _)| a.to_string()),
            master_priority: self.m.master().map(|(_, p)| p),
            unusable: self.unusable.clone(),
            since_s: self
                .last_transition
                .map(|t| now.saturating_duration_since(t).as_secs()),
            counters: s.clone(),
            drops: self
                .drops
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
        }
    }
}

/// A configured address (virtual or static) as rtnetlink adds it on
/// interface `index`.
pub(super) fn vip_addr(v: &afcluster::config::Vip, index: u32) -> Addr {
    Addr {
        index,
        addr: v.addr,
        prefix_len: v.prefix_len,
        broadcast: v.broadcast,
        label: v.label.clone(),
        scope: Scope::from_raw(v.scope),
        flags: vip_flags(&v.flags),
        peer: v.peer,
        preferred_lft: v.preferred_lft,
    }
}

/// The IFA_F_* flags of a configured address.
fn vip_flags(f: &afcluster::config::VipFlags) -> u32 {
    // linux/if_addr.h
    const HOMEADDRESS: u32 = 0x10;
    const MANAGETEMPADDR: u32 = 0x100;
    const NOPREFIXROUTE: u32 = 0x200;
    const MCAUTOJOIN: u32 = 0x400;
    [
        (f.nodad, IFA_F_NODAD),
        (f.home, HOMEADDRESS),
        (f.mngtmpaddr, MANAGETEMPADDR),
        (f.noprefixroute, NOPREFIXROUTE),
        (f.autojoin, MCAUTOJOIN),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |acc, (_, bit)| acc | bit)
}

/// The configured interval in centiseconds (the configuration has
/// already rounded it to what the version carries).
fn interval_cs(d: Duration) -> u16 {
    u16::try_from(d.as_millis() / 10).unwrap_or(u16::MAX).max(1)
}

/// keepalived's notify_script_exec: the notify_master/_backup/_fault/
/// _stop script for `to`, then `notify` with `kind` (INSTANCE or GROUP),
/// the name, the state and the priority (0 for a group).
pub fn notify_runs(
    n: &afcluster::config::Notify,
    to: State,
    kind: &str,
    name: &str,
    priority: u8,
) -> Vec<afcluster::config::Script> {
    let specific = match to {
        State::Master => n.master.clone(),
        State::Backup => n.backup.clone(),
        State::Fault => n.fault.clone(),
        State::Stop => n.stop.clone(),
        State::Init => None,
    };
    let mut runs: Vec<_> = specific.into_iter().collect();
    if let Some(any) = &n.any {
        let mut s = any.clone();
        s.argv.extend([
            kind.to_string(),
            name.to_string(),
            notify_state(to).to_string(),
            priority.to_string(),
        ]);
        runs.push(s);
    }
    runs
}

/// The state names keepalived's notify scripts get.
pub fn notify_state(s: State) -> &'static str {
    match s {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault | State::Init => "FAULT",
        State::Stop => "STOP",
    }
}

#[cfg(test)]
mod tests;
