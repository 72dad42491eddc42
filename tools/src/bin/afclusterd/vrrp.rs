//! VRRP: keepalived's vrrp_instances on the core's loop.
//!
//! The protocol runs here, on the loop: adverts are sent from the handler
//! that decides them (a raw socket send does not block) and received ones
//! are judged and fed to each instance's state machine at once, so an
//! advert or a master-down timer waits on nothing but the loop. What may
//! block — adding and removing addresses under the kernel's RTNL lock,
//! bursts of gratuitous ARPs — goes to the network thread (`netops`).
//! Interfaces are resolved at start and on reload (a few rtnetlink
//! requests, as keepalived makes them then).
//!
//! The parts: `router` (one instance: state machine, configuration,
//! counters), `groups` (vrrp_sync_groups), `track_scripts` (vrrp_script
//! runs) and `crate::track_files` (inotify, shared with FILE_CHECK), `socket` (the raw sockets),
//! `announcer` (ARP and NA frames), `netops` (the thread).

mod announcer;
mod groups;
mod netops;
mod router;
mod socket;
mod statics;
mod track_scripts;
mod vmac;

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use afcluster::config::{Config, Script, VrrpInstance};
use afcluster::control::{
    Status, TrackFileStatus, VrrpGroupStatus, VrrpNetStatus, VrrpScriptStatus,
};
use afcluster::ipvs::{SyncDaemon, SyncState};
use afcluster::rtnl::monitor::{LinkMonitor, LinkNews};
use afcluster::rtnl::{Addr, Rtnl};
use afcluster::vrrp::check::{self, Received};
use afcluster::vrrp::instance::{Action, State};
use afcluster::vrrp::packet::{self, IPPROTO_VRRP};
use afcluster::vrrp::sync_group::{self, Move};
use log::{debug, error, info, warn};
use mio::unix::SourceFd;
use mio::{Interest, Token};

use crate::core::{Cx, Exit, Message, Shared, Subsystem, TimerId};
use crate::scripts::command;
use crate::track_files::{self, TrackFiles};
use groups::Group;
use netops::{Job, Report, Worker};
use router::{notify_runs, Iface, Router, Tracked};
use socket::{Frame, VrrpSocket};
use track_scripts::TrackScripts;
use vmac::Vmacs;

/// Timer kinds of an instance; its keys are `index * KINDS + kind`.
const KINDS: u64 = 4;
const PROTOCOL: u64 = 0;
const GARP_DELAY: u64 = 1;
const GARP_REFRESH: u64 = 2;
const GARP_LOWER: u64 = 3;
/// A socket with packets left after a full batch (key: the socket's).
const SOCKET_BATCH: usize = 64;
/// Socket readiness keys start here, after the timers'.
const SOCK_KEY: u64 = 1 << 40;
/// The link monitor's readiness.
const LINK_KEY: u64 = u64::MAX;
/// The track_files' inotify descriptor.
const INOTIFY_KEY: u64 = u64::MAX - 1;

/// keepalived runs notify scripts without a limit (STOP: 1 s); a script
/// stuck for this long is killed.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);
const NOTIFY_STOP_TIMEOUT: Duration = Duration::from_secs(1);

struct Sock {
    socket: VrrpSocket,
    ifname: String,
    ifindex: u32,
    source: IpAddr,
    multicast: bool,
    group: Option<IpAddr>,
    token: Option<Token>,
    /// A batch was cut short: drain again soon.
    more: Option<TimerId>,
}

/// What tracking makes of an instance.
struct Assessed {
    total: i32,
    fault: bool,
    /// Not started yet, waiting for a weight-0 script's first run.
    hold: bool,
}

struct Timers {
    protocol: TimerId,
    garp_delay: TimerId,
    garp_refresh: TimerId,
    garp_lower: TimerId,
}

struct NetThread {
    jobs: Sender<Job>,
    reports: Receiver<Report>,
    handle: Option<JoinHandle<()>>,
}

type Backend = Box<dyn netops::Backend>;
type MakeBackend = Box<dyn FnMut() -> io::Result<Backend>>;

pub struct Vrrp {
    routers: Vec<Router>,
    /// Timer keys are `slot * KINDS + kind`: an instance's slot to its
    /// index.
    by_slot: HashMap<u64, usize>,
    next_slot: u64,
    groups: Vec<Group>,
    scripts_tracked: TrackScripts,
    files_tracked: TrackFiles,
    timers: Vec<Timers>,
    /// None: closed (no instance used it after a reload); its place is
    /// reused, so the others' keys stay.
    socks: Vec<Option<Sock>>,
    net: Option<NetThread>,
    net_report: Report,
    unclaimed: u64,
    make_backend: MakeBackend,
    next_script: u64,
    scripts: HashMap<u64, String>,
    /// Interface names to indexes, as found at the last (re)start.
    ifindex: HashMap<String, u32>,
    /// lvs_sync_daemon: the daemon, and the instance whose state it
    /// follows (none: master and backup both run).
    syncd: Option<(SyncDaemon, Option<String>)>,
    /// Link state, kept by the kernel's notifications: running by name.
    monitor: Option<(LinkMonitor, Token)>,
    running: HashMap<String, bool>,
    /// The static addresses, routes and rules were sent to the thread.
    statics: bool,
    /// use_vmac's macvlans.
    vmacs: Vmacs,
}

impl Vrrp {
    pub fn new() -> Vrrp {
        Vrrp::with_backend(Box::new(
            || Ok(Box::new(netops::System::open()?) as Backend),
        ))
    }

    pub fn with_backend(make_backend: MakeBackend) -> Vrrp {
        Vrrp {
            routers: Vec::new(),
            by_slot: HashMap::new(),
            next_slot: 0,
            groups: Vec::new(),
            scripts_tracked: TrackScripts::default(),
            files_tracked: TrackFiles::default(),
            timers: Vec::new(),
            socks: Vec::new(),
            net: None,
            net_report: Report::default(),
            unclaimed: 0,
            make_backend,
            next_script: 0,
            scripts: HashMap::new(),
            ifindex: HashMap::new(),
            syncd: None,
            monitor: None,
            running: HashMap::new(),
            statics: false,
            vmacs: Vmacs::default(),
        }
    }

    fn send(&mut self, job: Job) {
        if let Some(n) = &self.net {
            if n.jobs.send(job).is_err() {
                error!(
                    "VRRP: the network thread is gone: addresses are no longer added or removed"
                );
                self.net = None;
            }
        }
    }

    fn start_thread(&mut self, cx: &Cx) {
        if self.net.is_some() {
            return;
        }
        let backend = match (self.make_backend)() {
            Ok(b) => b,
            Err(e) => {
                error!("VRRP: cannot open the sockets to add addresses and announce them: {e}");
                return;
            }
        };
        let (jtx, jrx) = mpsc::channel();
        let (rtx, rrx) = mpsc::channel();
        let wake = cx.wake_handle(0);
        let handle = std::thread::Builder::new()
            .name("vrrp-net".into())
            .spawn(move || netops::run(Worker::new(backend), jrx, rtx, wake));
        match handle {
            Ok(h) => {
                self.net = Some(NetThread {
                    jobs: jtx,
                    reports: rrx,
                    handle: Some(h),
                })
            }
            Err(e) => error!("VRRP: cannot start its network thread: {e}"),
        }
    }

    /// Resolve, open and start every instance of `config`; `reload`: it
    /// replaces a running one.
    fn configure(&mut self, cx: &mut Cx, config: &Config, reload: bool) {
        // Every track_file's init_file, VRRP's or FILE_CHECK's, before
        // either reads them (FILE_CHECK's subsystem comes later).
        track_files::initialise_all(&config.track_files, reload);
        let syncd = config.global.vrrp.lvs_sync_daemon.as_ref().map(|l| {
            let mut d = SyncDaemon::new(SyncState::Backup, &l.interface, u32::from(l.sync_id));
            d.maxlen = l.maxlen;
            d.group = l.group;
            d.port = l.port;
            d.ttl = l.ttl;
            (d, l.instance.clone())
        });
        if config.vrrp_instances.is_empty()
            && self.routers.is_empty()
            && syncd.is_none()
            && self.syncd.is_none()
            && !statics::wanted(config, self.statics)
        {
            return;
        }
        self.start_thread(cx);
        self.want_statics(config);
        if syncd.is_none() {
            if let Some((d, _)) = self.syncd.take() {
                self.send(Job::Syncd {
                    daemon: d,
                    states: Vec::new(),
                });
            }
        }
        self.syncd = syncd;
        let mut rtnl = Rtnl::connect().map_err(|e| e.to_string());
        self.follow_links(cx, rtnl.as_mut().ok());
        self.ifindex.clear();
        let now = Instant::now();
        let mut fresh = Vec::new();
        for cfg in &config.vrrp_instances {
            let iface = match &mut rtnl {
                Ok(rt) => resolve(rt, cfg, &mut self.ifindex).and_then(|base| {
                    if cfg.vmac.is_none() {
                        return Ok(base);
                    }
                    let v = on_vmac(rt, cfg, base, &mut self.vmacs)?;
                    self.ifindex.insert(v.ifname.clone(), v.addr_index);
                    Ok(v)
                }),
                Err(e) => Err(format!("cannot ask the kernel about interfaces: {e}")),
            };
            fresh.push(Router::new(cfg.clone(), iface));
        }
        if config.vrrp_instances.iter().any(|c| c.vmac.is_some()) {
            // The VMACs just made are up: so that no instance starts in
            // FAULT for want of their news.
            self.load_links(rtnl.as_mut().ok());
        }
        // A running instance that a reload finds again (same name, VRID,
        // version and interface) carries on in its state; the others stop
        // first (a master resigns and its addresses go).
        let carried: Vec<Option<usize>> = fresh
            .iter()
            .map(|f| {
                self.routers
                    .iter()
                    .position(|r| r.name() == f.name() && r.can_become(f))
            })
            .collect();
        for i in 0..self.routers.len() {
            if !carried.contains(&Some(i)) {
                let mut out = Vec::new();
                self.routers[i].m.stop(&mut out);
                self.act(cx, i, &out, now);
            }
        }
        let mut old: Vec<Option<(Router, Timers)>> = self
            .routers
            .drain(..)
            .zip(self.timers.drain(..))
            .map(Some)
            .collect();
        let earlier_groups: HashMap<String, State> = self
            .groups
            .drain(..)
            .map(|g| (g.cfg.name, g.state))
            .collect();
        let mut readdress = Vec::new();
        let mut started = Vec::new();
        for (mut r, from) in fresh.into_iter().zip(carried) {
            if let Some(iface) = r.iface.clone() {
                match self.socket_for(cx, &r, &iface) {
                    Ok(s) => r.sock = Some(s),
                    Err(e) => {
                        r.unusable = Some(format!(
                            "cannot open its VRRP sockets on {}: {e}",
                            r.cfg.interface
                        ))
                    }
                }
            }
            if let Some(u) = &r.unusable {
                warn!("VRRP ({}): {u}; FAULT until a reload finds it", r.name());
            }
            if let Some((mut running, timers)) = from.and_then(|k| old[k].take()) {
                if running.announced() != r.announced()
                    || running.routes() != r.routes()
                    || running.rules() != r.rules()
                {
                    readdress.push(self.routers.len());
                }
                running.reconfigure(r);
                self.routers.push(running);
                self.timers.push(timers);
                continue;
            }
            // A new one. Addresses left by a daemon that died without
            // removing them go before anything else, so that none is ever
            // duplicated.
            r.slot = self.next_slot;
            self.next_slot += 1;
            let key = r.slot * KINDS;
            self.timers.push(Timers {
                protocol: cx.timer(key + PROTOCOL),
                garp_delay: cx.timer(key + GARP_DELAY),
                garp_refresh: cx.timer(key + GARP_REFRESH),
                garp_lower: cx.timer(key + GARP_LOWER),
            });
            let index_of = |n: &str| self.ifindex.get(n).copied();
            let addrs = r.addresses(index_of);
            self.send(Job::Want {
                instance: r.name().to_string(),
                present: false,
                addrs,
                routes: r.routes(),
                rules: r.rules(),
            });
            started.push(self.routers.len());
            self.routers.push(r);
        }
        // What did not carry over is gone.
        for (_, t) in old.into_iter().flatten() {
            remove_timers(cx, &t);
        }
        self.by_slot = self
            .routers
            .iter()
            .enumerate()
            .map(|(i, r)| (r.slot, i))
            .collect();
        self.close_unused_sockets(cx);
        let vmacs: Vec<String> = config
            .vrrp_instances
            .iter()
            .filter_map(|c| c.vmac.as_ref().map(|v| v.name.clone()))
            .collect();
        self.vmacs.remove_except(rtnl.as_mut().ok(), &vmacs);
        for g in &config.vrrp_sync_groups {
            let gi = self.groups.len();
            let members: Vec<usize> = g
                .members
                .iter()
                .filter_map(|m| self.routers.iter().position(|r| r.name() == m))
                .collect();
            for &m in &members {
                self.routers[m].join(gi, g);
            }
            let mut group = Group::new(g.clone(), members);
            if let Some(s) = earlier_groups.get(&g.name) {
                group.state = *s;
            }
            self.groups.push(group);
        }
        self.start_trackers(cx, config);
        let assessed = self.assess(cx);
        // Every priority first, so that a sync group's move reaches
        // members already up to date.
        for (r, a) in self.routers.iter_mut().zip(&assessed) {
            r.m.set_priority(a.total);
        }
        for (i, a) in assessed.into_iter().enumerate() {
            let mut out = Vec::new();
            if started.contains(&i) {
                let r = &self.routers[i];
                if a.hold {
                    // keepalived holds it in INIT, silently, until its
                    // scripts have run once (`track` starts it).
                    info!(
                        "VRRP ({}): vrid {} on {}: waiting for its track_scripts' first run",
                        r.name(),
                        r.cfg.vrid,
                        r.cfg.interface
                    );
                    continue;
                }
                self.start_router(cx, i, a.fault, now);
                continue;
            }
            self.routers[i].m.set_fault(now, a.fault, &mut out);
            let r = &self.routers[i];
            info!(
                "VRRP ({}): carries on as {} with the new configuration, priority {}",
                r.name(),
                r.m.state(),
                r.m.effective_priority()
            );
            if r.m.state() == State::Master {
                // Its addresses as now configured: the network thread adds
                // the new ones and removes those no longer listed.
                let index_of = |n: &str| self.ifindex.get(n).copied();
                let addrs = r.addresses(index_of);
                let job = Job::Want {
                    instance: r.name().to_string(),
                    present: true,
                    addrs,
                    routes: r.routes(),
                    rules: r.rules(),
                };
                self.send(job);
                if readdress.contains(&i) {
                    self.announce(i, self.routers[i].cfg.garp.master_repeat);
                }
                // The refresh as now configured.
                let g = self.routers[i].cfg.garp;
                let t = self.timers[i].garp_refresh;
                if g.master_refresh.is_zero() {
                    cx.disarm(t);
                } else {
                    cx.arm_in(t, g.master_refresh);
                }
            }
            self.act(cx, i, &out, now);
        }
        self.want_syncd();
    }

    /// lvs_sync_daemon as keepalived runs it: with an instance, the
    /// master daemon while that instance is MASTER and the backup one
    /// otherwise; without, both.
    fn want_syncd(&mut self) {
        let Some((d, inst)) = &self.syncd else {
            return;
        };
        let states = match inst {
            Some(name) => {
                let master = self
                    .routers
                    .iter()
                    .any(|r| r.name() == name && r.m.state() == State::Master);
                vec![if master {
                    SyncState::Master
                } else {
                    SyncState::Backup
                }]
            }
            None => vec![SyncState::Master, SyncState::Backup],
        };
        let daemon = d.clone();
        self.send(Job::Syncd { daemon, states });
    }

    /// Sockets no instance uses any more (after a reload) are closed.
    fn close_unused_sockets(&mut self, cx: &mut Cx) {
        for n in 0..self.socks.len() {
            if self.routers.iter().any(|r| r.sock == Some(n)) {
                continue;
            }
            if let Some(s) = self.socks[n].take() {
                close_socket(cx, s);
            }
        }
    }

    /// The socket of the instance's interface, family and mode, shared
    /// by the instances that have the same (keepalived's socket pool).
    fn socket_for(&mut self, cx: &mut Cx, r: &Router, i: &Iface) -> io::Result<usize> {
        let multicast = r.multicast();
        let group = if multicast {
            r.destinations().first().copied()
        } else {
            None
        };
        if let Some(n) = self.socks.iter().position(|s| {
            s.as_ref().is_some_and(|s| {
                s.ifname == i.ifname
                    && s.ifindex == i.index
                    && s.source == i.source
                    && s.multicast == multicast
                    && s.group == group
            })
        }) {
            return Ok(n);
        }
        let socket = VrrpSocket::open(&i.ifname, i.index, i.source, group)?;
        // A closed one's place, or a new one.
        let n = self
            .socks
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.socks.len());
        let key = SOCK_KEY + n as u64;
        let fd = socket.fd();
        let token = cx.register(&mut SourceFd(&fd), key, Interest::READABLE)?;
        let more = cx.timer(key);
        let sock = Some(Sock {
            socket,
            ifname: i.ifname.clone(),
            ifindex: i.index,
            source: i.source,
            multicast,
            group,
            token: Some(token),
            more: Some(more),
        });
        if n == self.socks.len() {
            self.socks.push(sock);
        } else {
            self.socks[n] = sock;
        }
        Ok(n)
    }

    /// Run the vrrp_scripts and watch the track_files that some instance
    /// tracks (on a reload, unchanged scripts keep their health).
    fn start_trackers(&mut self, cx: &mut Cx, config: &Config) {
        let routers = &self.routers;
        let earlier = std::mem::take(&mut self.scripts_tracked);
        self.scripts_tracked = TrackScripts::start(
            cx,
            &config.vrrp_scripts,
            |name| {
                routers
                    .iter()
                    .any(|r| r.tracks.scripts.iter().any(|t| t.script == name))
            },
            Some(earlier),
        );
        self.files_tracked.stop(cx);
        self.files_tracked =
            TrackFiles::start(cx, INOTIFY_KEY, "VRRP", &config.track_files, |name| {
                routers
                    .iter()
                    .any(|r| r.tracks.files.iter().any(|t| t.file == name))
            });
    }

    /// Leave INIT.
    fn start_router(&mut self, cx: &mut Cx, i: usize, fault: bool, now: Instant) {
        let mut out = Vec::new();
        let r = &mut self.routers[i];
        r.m.start(now, fault, &mut out);
        info!(
            "VRRP ({}): vrid {} on {}, priority {}, {}",
            r.name(),
            r.cfg.vrid,
            r.cfg.interface,
            r.m.effective_priority(),
            r.m.state()
        );
        self.act(cx, i, &out, now);
    }

    /// Every instance's total priority and whether it is held in FAULT:
    /// what it tracks, its interface, and its sync group (one member in
    /// FAULT holds them all; one waiting for its scripts too).
    fn assess(&self, cx: &Cx) -> Vec<Assessed> {
        let w = Tracked {
            nodes: &cx.shared().reflection,
            links: &self.running,
            scripts: &self.scripts_tracked.health,
            files: &self.files_tracked.values,
        };
        let mut out: Vec<Assessed> = self
            .routers
            .iter()
            .map(|r| {
                let (total, fault) = r.tracking(&w);
                Assessed {
                    total,
                    fault: fault || r.unusable.is_some(),
                    hold: r.waits_for_scripts(&w),
                }
            })
            .collect();
        for g in &self.groups {
            let fault = g.members.iter().any(|&m| out[m].fault);
            let hold = g.members.iter().any(|&m| out[m].hold);
            for &m in &g.members {
                out[m].fault |= fault;
                out[m].hold |= hold;
            }
        }
        out
    }

    /// Carry out what instance `i`'s state machine asked for, and what
    /// that asks of its sync group.
    fn act(&mut self, cx: &mut Cx, i: usize, actions: &[Action], now: Instant) {
        for a in actions {
            match *a {
                Action::Advertise { priority } => self.advertise(i, priority),
                Action::Transition { from, to } => self.transition(cx, i, from, to, now),
                Action::WantMaster => {}
            }
        }
        let t = self.timers[i].protocol;
        match self.routers[i].m.deadline() {
            Some(at) => cx.arm(t, at),
            None => cx.disarm(t),
        }
        if let Some(g) = self.routers[i].group {
            self.follow_group(cx, g, actions, now);
        }
    }

    /// A member moved: the others follow (keepalived's vrrp_sync_master,
    /// vrrp_sync_backup), and the group's notify scripts run when its
    /// state changes.
    fn follow_group(&mut self, cx: &mut Cx, g: usize, actions: &[Action], now: Instant) {
        let members = self.groups[g].members.clone();
        let mv = sync_group::follow(actions, members.iter().map(|&j| &self.routers[j].m));
        if let Some(mv) = mv {
            for &j in &members {
                let mut out = Vec::new();
                match mv {
                    Move::Master => self.routers[j].m.group_master(now, &mut out),
                    Move::Backup => self.routers[j].m.group_backup(now, &mut out),
                }
                if !out.is_empty() {
                    self.act(cx, j, &out, now);
                }
            }
        }
        let state = sync_group::state(members.iter().map(|&j| &self.routers[j].m));
        if state != self.groups[g].state {
            let grp = &mut self.groups[g];
            info!("VRRP group {}: {} -> {state}", grp.cfg.name, grp.state);
            grp.state = state;
            let runs = grp.notifies(state);
            let who = format!("group {}", grp.cfg.name);
            self.run_notifies(cx, &who, runs, state);
        }
    }

    fn advertise(&mut self, i: usize, priority: u8) {
        let r = &self.routers[i];
        let Some(sock) = r
            .sock
            .and_then(|s| self.socks.get(s))
            .and_then(Option::as_ref)
        else {
            return;
        };
        for dst in r.destinations() {
            match r.advert(priority, dst) {
                Ok(bytes) => {
                    if let Err(e) = sock.socket.send(&bytes, dst) {
                        debug!("VRRP ({}): sending an advert to {dst}: {e}", r.name());
                    }
                }
                Err(e) => warn!("VRRP ({}): cannot build an advert: {e}", r.name()),
            }
        }
    }

    fn transition(&mut self, cx: &mut Cx, i: usize, from: State, to: State, now: Instant) {
        let t = &self.timers[i];
        let (garp_delay, garp_refresh) = (t.garp_delay, t.garp_refresh);
        let index_of = |n: &str| self.ifindex.get(n).copied();
        let r = &self.routers[i];
        info!("VRRP ({}): {from} -> {to}", r.name());
        let addrs = r.addresses(index_of);
        let (routes, rules) = (r.routes(), r.rules());
        let name = r.name().to_string();
        if to == State::Master {
            self.send(Job::Want {
                instance: name.clone(),
                present: true,
                addrs,
                routes,
                rules,
            });
            self.announce(i, self.routers[i].cfg.garp.master_repeat);
            let g = self.routers[i].cfg.garp;
            if !g.master_delay.is_zero() {
                cx.arm_in(garp_delay, g.master_delay);
            }
            if !g.master_refresh.is_zero() {
                cx.arm_in(garp_refresh, g.master_refresh);
            }
        } else if from == State::Master {
            self.send(Job::Want {
                instance: name,
                present: false,
                addrs,
                routes,
                rules,
            });
            cx.disarm(garp_delay);
            cx.disarm(garp_refresh);
            cx.disarm(self.timers[i].garp_lower);
        }
        self.routers[i].transitioned(now);
        self.follow_syncd(i, from, to);
        // One held in INIT and stopped never ran: nothing to tell.
        if !(from == State::Init && to == State::Stop) {
            self.notify(cx, i, to);
        }
    }

    /// keepalived's ipvs_syncd_master and ipvs_syncd_backup: the sync
    /// daemon's state follows its instance in and out of MASTER.
    fn follow_syncd(&mut self, i: usize, from: State, to: State) {
        let Some((d, Some(inst))) = &self.syncd else {
            return;
        };
        if inst != self.routers[i].name() {
            return;
        }
        let states = if to == State::Master {
            vec![SyncState::Master]
        } else if from == State::Master && to != State::Stop {
            vec![SyncState::Backup]
        } else {
            return;
        };
        let daemon = d.clone();
        self.send(Job::Syncd { daemon, states });
    }

    fn announce(&mut self, i: usize, repeat: u32) {
        let r = &self.routers[i];
        let Some(iface) = &r.iface else {
            return;
        };
        if repeat == 0 {
            return;
        }
        let job = Job::Announce {
            instance: r.name().to_string(),
            ifindex: iface.addr_index,
            mac: iface.mac,
            addrs: r.announced(),
            repeat,
            router: false,
        };
        self.send(job);
    }

    /// keepalived's notify_master/_backup/_fault/_stop, then `notify`
    /// with INSTANCE, the name, the state and the priority.
    fn notify(&mut self, cx: &mut Cx, i: usize, to: State) {
        let r = &self.routers[i];
        let runs = notify_runs(
            &r.cfg.notify,
            to,
            "INSTANCE",
            r.name(),
            r.m.effective_priority(),
        );
        let name = format!("({})", r.name());
        self.run_notifies(cx, &name, runs, to);
    }

    fn run_notifies(&mut self, cx: &mut Cx, who: &str, runs: Vec<Script>, to: State) {
        let timeout = if to == State::Stop {
            NOTIFY_STOP_TIMEOUT
        } else {
            NOTIFY_TIMEOUT
        };
        for s in runs {
            let key = self.next_script;
            self.next_script += 1;
            match cx.spawn(&mut command(&s), timeout, key) {
                Ok(_) => {
                    self.scripts
                        .insert(key, format!("{who} {}", s.argv.join(" ")));
                }
                Err(e) => warn!("VRRP {who}: cannot run {} ({}): {e}", s.argv[0], s.loc),
            }
        }
    }

    /// A master heard a lower-priority router claim the address: after a
    /// split, the neighbours may have moved to it. keepalived refreshes
    /// them at once and again after garp_lower_prio_delay.
    fn lower_priority_heard(&mut self, cx: &mut Cx, i: usize) {
        let g = self.routers[i].cfg.garp;
        if g.lower_prio_repeat == 0 {
            return;
        }
        self.announce(i, g.lower_prio_repeat);
        if !g.lower_prio_delay.is_zero() {
            cx.arm_in(self.timers[i].garp_lower, g.lower_prio_delay);
        }
    }

    /// Read what a socket holds, a batch at a time.
    fn drain(&mut self, cx: &mut Cx, n: usize) {
        let now = Instant::now();
        for _ in 0..SOCKET_BATCH {
            let Some(sock) = self.socks.get_mut(n).and_then(Option::as_mut) else {
                return;
            };
            let frame = match sock.socket.recv() {
                Ok(Some(f)) => f,
                Ok(None) => return,
                Err(e) => {
                    warn!("VRRP: receiving on {}: {e}", sock.ifname);
                    return;
                }
            };
            let (src, dst, ttl, vrrp) = match frame {
                Frame::V4(buf) => match packet::split_ipv4(buf) {
                    Ok(p) if p.protocol == IPPROTO_VRRP => (
                        IpAddr::V4(p.src),
                        IpAddr::V4(p.dst),
                        Some(p.ttl),
                        p.payload.to_vec(),
                    ),
                    Ok(_) | Err(_) => {
                        self.unclaimed += 1;
                        continue;
                    }
                },
                Frame::V6 {
                    src,
                    dst,
                    hop_limit,
                    vrrp,
                } => (
                    IpAddr::V6(src),
                    IpAddr::V6(dst.unwrap_or(packet::GROUP_V6)),
                    hop_limit,
                    vrrp.to_vec(),
                ),
            };
            let Some(vrid) = check::vrid_of(&vrrp) else {
                self.unclaimed += 1;
                continue;
            };
            let Some(i) = self.routers.iter().position(|r| {
                r.sock == Some(n) && r.cfg.vrid == vrid && r.m.state() != State::Stop
            }) else {
                self.unclaimed += 1;
                continue;
            };
            let received = Received {
                src,
                dst,
                ttl,
                vrrp: &vrrp,
            };
            match self.routers[i].judge(&received) {
                Ok(advert) => {
                    let r = &mut self.routers[i];
                    let lower = r.m.state() == State::Master
                        && (advert.priority, advert.from)
                            < (r.m.effective_priority(), r.m.params().primary)
                        && advert.priority != 0;
                    let mut out = Vec::new();
                    r.m.receive(now, advert, &mut out);
                    self.act(cx, i, &out, now);
                    if lower {
                        self.lower_priority_heard(cx, i);
                    }
                }
                Err(d) => debug!(
                    "VRRP ({}): dropped a packet from {src}: {d}",
                    self.routers[i].name()
                ),
            }
        }
        // More may be waiting: come back after the timers that are due.
        if let Some(t) = self
            .socks
            .get(n)
            .and_then(Option::as_ref)
            .and_then(|s| s.more)
        {
            cx.arm(t, now);
        }
    }

    /// Listen to link changes (once), and learn every link's state.
    fn follow_links(&mut self, cx: &mut Cx, rtnl: Option<&mut Rtnl>) {
        if self.monitor.is_none() {
            match LinkMonitor::open() {
                Ok(mut m) => match cx.register(m.source(), LINK_KEY, Interest::READABLE) {
                    Ok(t) => self.monitor = Some((m, t)),
                    Err(e) => warn!("VRRP: cannot watch link state: {e}"),
                },
                Err(e) => warn!("VRRP: cannot watch link state: {e}"),
            }
        }
        self.load_links(rtnl);
    }

    /// Every link's state from a dump (at start, and after the monitor
    /// lost messages).
    fn load_links(&mut self, rtnl: Option<&mut Rtnl>) {
        let mut own;
        let rt = match rtnl {
            Some(r) => r,
            None => match Rtnl::connect() {
                Ok(r) => {
                    own = r;
                    &mut own
                }
                Err(e) => {
                    warn!("VRRP: cannot read link state: {e}");
                    return;
                }
            },
        };
        match rt.links() {
            Ok(links) => {
                self.running = links.into_iter().map(|l| (l.name, l.running)).collect();
            }
            Err(e) => warn!("VRRP: cannot read link state: {e}"),
        }
    }

    /// The kernel's link notifications.
    fn links_changed(&mut self, cx: &mut Cx) {
        let mut news = Vec::new();
        if let Some((m, _)) = &mut self.monitor {
            if let Err(e) = m.read(&mut news) {
                warn!("VRRP: reading link changes: {e}");
            }
        }
        let mut overrun = false;
        let mut resolve_again = false;
        for n in news {
            match n {
                LinkNews::Link(l) => {
                    resolve_again |= self.link_news(&l);
                    if self.running.get(&l.name) != Some(&l.running) {
                        info!(
                            "VRRP: {} is {}",
                            l.name,
                            if l.running { "up" } else { "down" }
                        );
                    }
                    self.running.insert(l.name, l.running);
                }
                LinkNews::Removed(l) => {
                    info!("VRRP: {} is gone", l.name);
                    self.running.remove(&l.name);
                    // A VMAC someone removed is made again (keepalived
                    // does too).
                    resolve_again |= self
                        .routers
                        .iter()
                        .any(|r| r.cfg.vmac.as_ref().is_some_and(|v| v.name == l.name));
                    self.vmacs.made.remove(&l.name);
                }
                LinkNews::AddrRemoved(a) => self.addr_removed(&a),
                LinkNews::AddrAdded(a) => resolve_again |= self.addr_added(&a),
                LinkNews::Overrun => overrun = true,
            }
        }
        if overrun {
            self.load_links(None);
            resolve_again = true;
        }
        if resolve_again {
            // An instance's interface was made again (a new index) or
            // appeared: it starts over on it, the others carry on.
            let config = cx.shared().config.clone();
            self.configure(cx, &config, true);
        }
        self.track(cx);
    }

    /// keepalived's rule for the address adverts are sent from: one taken
    /// from the interface, or a configured one with track_src_ip, that is
    /// removed is FAULT (a configured one without keeps being used).
    fn addr_removed(&mut self, a: &Addr) {
        for r in &mut self.routers {
            let lost = r
                .iface
                .as_ref()
                .is_some_and(|i| i.index == a.index && i.source == a.addr);
            if lost && r.unusable.is_none() && (r.cfg.src_ip.is_none() || r.cfg.track_src_ip) {
                let why = format!(
                    "its source address {} was removed from {}",
                    a.addr, r.cfg.interface
                );
                info!("VRRP ({}): {why}: FAULT", r.cfg.name);
                r.unusable = Some(why);
            }
        }
        // One of a master's own addresses removed by someone else: put
        // back (keepalived steps down to BACKUP and takes the address
        // again by election, seconds without it; nothing here needs that).
        let index_of = |n: &str| self.ifindex.get(n).copied();
        let mut again = Vec::new();
        for r in &self.routers {
            let ours = r
                .addresses(index_of)
                .into_iter()
                .any(|x| x.index == a.index && x.addr == a.addr);
            if ours && r.m.state() == State::Master {
                warn!(
                    "VRRP ({}): {} was removed from its interface by someone else: put back",
                    r.name(),
                    a.addr
                );
                again.push(Job::Want {
                    instance: r.name().to_string(),
                    present: true,
                    addrs: r.addresses(index_of),
                    routes: r.routes(),
                    rules: r.rules(),
                });
            }
        }
        for job in again {
            self.send(job);
        }
    }

    /// An address appeared: a configured source address that came back
    /// ends the FAULT; an instance without one (or without an interface
    /// found) resolves its interface again (true).
    fn addr_added(&mut self, a: &Addr) -> bool {
        let mut again = false;
        for r in &mut self.routers {
            if r.unusable.is_none() || self.ifindex.get(&r.cfg.interface) != Some(&a.index) {
                continue;
            }
            match r.cfg.src_ip {
                Some(src) if src == a.addr && r.iface.is_some() => {
                    info!("VRRP ({}): its source address {src} is back", r.cfg.name);
                    r.unusable = None;
                }
                Some(_) if r.iface.is_some() => {}
                _ => again = true,
            }
        }
        again
    }

    /// A link appeared or changed: a new Ethernet address is taken as it
    /// is; true when an instance must resolve its interface again (it
    /// has a new index, or had none).
    fn link_news(&mut self, l: &afcluster::rtnl::Link) -> bool {
        let mut again = false;
        for r in &mut self.routers {
            let vmac = r.cfg.vmac.as_ref().map(|v| v.name.as_str());
            if l.name != r.cfg.interface && Some(l.name.as_str()) != vmac {
                continue;
            }
            match &mut r.iface {
                // A VMAC's base, or the VMAC itself, as they were.
                Some(i) if vmac.is_some() => {
                    let known = if Some(l.name.as_str()) == vmac {
                        i.addr_index
                    } else {
                        i.base_index
                    };
                    again |= known != l.index;
                }
                Some(i) if i.index == l.index => {
                    if let Some(mac) = l.mac.filter(|m| *m != i.mac) {
                        info!(
                            "VRRP ({}): {} has a new Ethernet address",
                            r.cfg.name, l.name
                        );
                        i.mac = mac;
                    }
                }
                _ => again = true,
            }
        }
        again
    }

    /// Apply what every instance tracks (nodes, links, scripts, files);
    /// one held in INIT for its scripts starts once they have run.
    fn track(&mut self, cx: &mut Cx) {
        let now = Instant::now();
        let assessed = self.assess(cx);
        for (r, a) in self.routers.iter_mut().zip(&assessed) {
            r.m.set_priority(a.total);
        }
        for (i, a) in assessed.into_iter().enumerate() {
            if self.routers[i].m.state() == State::Init {
                if !a.hold {
                    self.start_router(cx, i, a.fault, now);
                }
                continue;
            }
            let mut out = Vec::new();
            self.routers[i].m.set_fault(now, a.fault, &mut out);
            self.act(cx, i, &out, now);
        }
    }

    /// Stop every instance (a master resigns), and forget them.
    fn stop_routers(&mut self, cx: &mut Cx) {
        let now = Instant::now();
        for i in 0..self.routers.len() {
            let mut out = Vec::new();
            self.routers[i].m.stop(&mut out);
            self.act(cx, i, &out, now);
        }
        for t in self.timers.drain(..) {
            remove_timers(cx, &t);
        }
        for s in self.socks.drain(..).flatten() {
            close_socket(cx, s);
        }
        self.routers.clear();
        self.by_slot.clear();
        self.groups.clear();
    }
}

fn remove_timers(cx: &mut Cx, t: &Timers) {
    cx.remove_timer(t.protocol);
    cx.remove_timer(t.garp_delay);
    cx.remove_timer(t.garp_refresh);
    cx.remove_timer(t.garp_lower);
}

fn close_socket(cx: &mut Cx, mut s: Sock) {
    let fd = s.socket.fd();
    if let Some(t) = s.token.take() {
        cx.deregister(&mut SourceFd(&fd), t);
    }
    if let Some(t) = s.more.take() {
        cx.remove_timer(t);
    }
}

/// use_vmac: the instance runs on its VMAC (made now if need be), with
/// the source the base interface gave it (IPv4) or the link-local
/// address put on the VMAC (IPv6); vmac_xmit_base keeps the adverts on
/// the base.
fn on_vmac(
    rt: &mut Rtnl,
    cfg: &VrrpInstance,
    base: Iface,
    vmacs: &mut Vmacs,
) -> Result<Iface, String> {
    let xmit_base = cfg.vmac.as_ref().is_some_and(|v| v.xmit_base);
    let base_link = rt
        .link(&cfg.interface)
        .map_err(|e| format!("looking up interface {}: {e}", cfg.interface))?
        .ok_or_else(|| format!("no interface {}", cfg.interface))?;
    let (vmac, ll) = vmacs.ensure(rt, cfg, &base_link, !xmit_base)?;
    let mac = vmac
        .mac
        .ok_or_else(|| format!("the VMAC {} has no Ethernet address", vmac.name))?;
    let source = match ll {
        Some(a) if !xmit_base => IpAddr::V6(a),
        _ => base.source,
    };
    Ok(if xmit_base {
        Iface {
            addr_index: vmac.index,
            mac,
            source,
            ..base
        }
    } else {
        Iface {
            index: vmac.index,
            ifname: vmac.name,
            addr_index: vmac.index,
            mac,
            source,
            ..base
        }
    })
}

/// The interface of `cfg` and the adverts' source address on it.
fn resolve(
    rt: &mut Rtnl,
    cfg: &VrrpInstance,
    ifindex: &mut HashMap<String, u32>,
) -> Result<Iface, String> {
    let link = rt
        .link(&cfg.interface)
        .map_err(|e| format!("looking up interface {}: {e}", cfg.interface))?
        .ok_or_else(|| format!("no interface {}", cfg.interface))?;
    ifindex.insert(link.name.clone(), link.index);
    for v in cfg.vips.iter().chain(&cfg.excluded_vips) {
        if let Some(d) = &v.dev {
            if !ifindex.contains_key(d) {
                if let Ok(Some(l)) = rt.link(d) {
                    ifindex.insert(l.name.clone(), l.index);
                }
            }
        }
    }
    let mac = link
        .mac
        .ok_or_else(|| format!("interface {} has no Ethernet address", cfg.interface))?;
    let source = match cfg.src_ip {
        Some(s) if cfg.track_src_ip => {
            let addrs = rt
                .addrs(link.index)
                .map_err(|e| format!("listing the addresses of {}: {e}", cfg.interface))?;
            if !addrs.iter().any(|a| a.addr == s) {
                return Err(format!(
                    "its source address {s} is not on {} (track_src_ip)",
                    cfg.interface
                ));
            }
            s
        }
        Some(s) => s,
        None => {
            let addrs = rt
                .addrs(link.index)
                .map_err(|e| format!("listing the addresses of {}: {e}", cfg.interface))?;
            primary(&addrs, cfg.family == afcluster::ipvs::Family::Inet6).ok_or_else(|| {
                format!(
                    "interface {} has no {} address to send adverts from",
                    cfg.interface,
                    if cfg.family == afcluster::ipvs::Family::Inet6 {
                        "link-local IPv6"
                    } else {
                        "IPv4"
                    }
                )
            })?
        }
    };
    Ok(Iface {
        index: link.index,
        ifname: link.name,
        addr_index: link.index,
        base_index: link.index,
        mac,
        source,
    })
}

/// keepalived's choice of source: the interface's first primary IPv4
/// address, or its IPv6 link-local one.
fn primary(addrs: &[Addr], ipv6: bool) -> Option<IpAddr> {
    addrs
        .iter()
        .find(|a| match a.addr {
            IpAddr::V4(_) => !ipv6 && !a.is_secondary(),
            IpAddr::V6(v6) => ipv6 && socket::is_link_local(&v6),
        })
        .map(|a| a.addr)
}

impl Subsystem for Vrrp {
    fn name(&self) -> &'static str {
        "vrrp"
    }

    fn start(&mut self, cx: &mut Cx) {
        let config = cx.shared().config.clone();
        self.configure(cx, &config, false);
    }

    fn ready(&mut self, cx: &mut Cx, key: u64, _ev: &mio::event::Event) {
        if key == LINK_KEY {
            self.links_changed(cx);
            return;
        }
        if key == INOTIFY_KEY {
            if self.files_tracked.ready() {
                self.track(cx);
            }
            return;
        }
        if let Some(n) = key.checked_sub(SOCK_KEY) {
            if let Ok(n) = usize::try_from(n) {
                if n < self.socks.len() {
                    self.drain(cx, n);
                }
            }
        }
    }

    fn timer(&mut self, cx: &mut Cx, key: u64) {
        if let Some(n) = key.checked_sub(track_scripts::TIMER_KEY) {
            if let Ok(n) = usize::try_from(n) {
                self.scripts_tracked.timer(cx, n);
            }
            return;
        }
        if let Some(n) = key.checked_sub(SOCK_KEY) {
            if let Ok(n) = usize::try_from(n) {
                if n < self.socks.len() {
                    self.drain(cx, n);
                }
            }
            return;
        }
        let Some(&i) = self.by_slot.get(&(key / KINDS)) else {
            return;
        };
        let now = Instant::now();
        match key % KINDS {
            PROTOCOL => {
                let mut out = Vec::new();
                self.routers[i].m.timer(now, &mut out);
                self.act(cx, i, &out, now);
            }
            GARP_DELAY if self.routers[i].m.state() == State::Master => {
                self.announce(i, self.routers[i].cfg.garp.master_repeat);
            }
            GARP_LOWER if self.routers[i].m.state() == State::Master => {
                self.announce(i, self.routers[i].cfg.garp.lower_prio_repeat);
            }
            GARP_REFRESH if self.routers[i].m.state() == State::Master => {
                let g = self.routers[i].cfg.garp;
                if !g.master_refresh.is_zero() {
                    self.announce(i, g.master_refresh_repeat);
                    cx.arm_in(self.timers[i].garp_refresh, g.master_refresh);
                }
            }
            _ => {}
        }
    }

    fn woken(&mut self, _cx: &mut Cx, _key: u64) {
        if let Some(n) = &self.net {
            while let Ok(r) = n.reports.try_recv() {
                self.net_report = r;
            }
        }
    }

    fn exited(&mut self, cx: &mut Cx, key: u64, exit: &Exit) {
        if let Some(n) = key.checked_sub(track_scripts::RUN_KEY) {
            if let Ok(n) = usize::try_from(n) {
                if self.scripts_tracked.exited(cx, n, exit) {
                    self.track(cx);
                }
            }
            return;
        }
        let Some(what) = self.scripts.remove(&key) else {
            return;
        };
        if exit.timed_out {
            warn!("VRRP {what}: ran past its time: killed");
        } else if !exit.status.success() {
            warn!("VRRP {what}: failed: {}", exit.status);
        }
    }

    fn message(&mut self, cx: &mut Cx, msg: &Message) {
        match msg {
            Message::Reflection { .. } => self.track(cx),
            Message::Reload(config) => self.reload(cx, config),
            _ => {}
        }
    }

    fn status(&self, _shared: &Shared, status: &mut Status) {
        let now = Instant::now();
        status.vrrp = self.routers.iter().map(|r| r.status(now)).collect();
        let n = &self.net_report;
        status.vrrp_net = VrrpNetStatus {
            addresses_added: n.added,
            addresses_removed: n.removed,
            announcements: n.announced,
            failures: n.failures,
            last_error: n.last_error.clone(),
            pending: n.pending.clone(),
            unclaimed: self.unclaimed,
            sync_daemons: n.syncd.iter().map(|s| s.to_string()).collect(),
        };
        status.vrrp_groups = self
            .groups
            .iter()
            .map(|g| VrrpGroupStatus {
                name: g.cfg.name.clone(),
                state: g.state.to_string(),
                members: g.cfg.members.clone(),
            })
            .collect();
        status.vrrp_scripts = self
            .scripts_tracked
            .summary()
            .into_iter()
            .map(|(name, h, skipped)| VrrpScriptStatus {
                name,
                health: h.to_string(),
                skipped,
            })
            .collect();
        let mut files: Vec<_> = self.files_tracked.values.iter().collect();
        files.sort();
        status.track_files = files
            .into_iter()
            .map(|(name, value)| TrackFileStatus {
                name: name.clone(),
                value: *value,
            })
            .collect();
    }

    fn stop(&mut self, cx: &mut Cx) {
        self.stop_routers(cx);
        self.scripts_tracked.stop(cx);
        self.files_tracked.stop(cx);
        if let Some(mut n) = self.net.take() {
            // The addresses go before the daemon does.
            let _ = n.jobs.send(Job::Stop);
            if let Some(h) = n.handle.take() {
                if h.join().is_err() {
                    error!("VRRP: the network thread panicked while removing addresses");
                }
            }
        }
        // Then the VMACs, as keepalived removes them at exit.
        self.vmacs.remove_except(None, &[]);
    }
}

impl Vrrp {
    /// A new configuration: an instance found again carries on in its
    /// state with its new settings (no needless transition, as keepalived
    /// keeps a master across a reload); the others stop or start.
    fn reload(&mut self, cx: &mut Cx, config: &Rc<Config>) {
        self.configure(cx, config, true);
    }
}
