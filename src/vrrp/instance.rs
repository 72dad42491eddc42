//! One VRRP instance's state machine, as keepalived 2.2.7 runs it
//! (vrrp/vrrp.c: `vrrp_state_backup`, `vrrp_state_master_rx`,
//! `vrrp_state_master_tx`, `vrrp_state_leave_master`,
//! `vrrp_state_leave_fault`; vrrp/vrrp_scheduler.c: `vrrp_init_state`,
//! `vrrp_init_instance_sands`, `try_up_instance`; vrrp/vrrp_track.c:
//! `down_instance`, `vrrp_set_effective_priority`).
//!
//! No I/O and no clock: every input carries `now`, and the machine answers
//! with [`Action`]s (send an advertisement, a state changed) and one
//! deadline, [`Instance::deadline`], which the daemon arms on its timer
//! queue. The daemon validates packets before they get here (checksum,
//! TTL, version, VRID, authentication, v2 interval): an invalid packet
//! never reaches the machine, so it never moves a timer. keepalived 2.2.7
//! re-arms a master's advert timer after any packet with its VRID, valid or
//! not, so a stream of bad packets silences it; that is the one place this
//! machine departs from it on purpose.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use super::packet::Version;

/// The priority of the address owner: it needs no election.
pub const PRIO_OWNER: u8 = 255;
/// The priority a router advertises as it resigns (stop, FAULT).
pub const PRIO_STOP: u8 = 0;

/// What the instance is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// They differ in the skew and in whether a backup learns the master's
    /// advertisement interval.
    pub version: Version,
    /// The configured priority, 1..=255 (255: the address owner).
    pub priority: u8,
    /// This router's advertisement interval, in centiseconds (v2: a whole
    /// number of seconds).
    pub advert_cs: u16,
    /// `state MASTER`: the owner becomes master at once; any other router
    /// waits one interval for an existing master before it takes over.
    pub want_master: bool,
    /// Not `nopreempt`.
    pub preempt: bool,
    /// `preempt_delay`: how long a backup of higher priority keeps accepting
    /// a lower-priority master before it preempts; zero for none.
    pub preempt_delay: Duration,
    /// `down_timer_adverts` (keepalived's default 3): adverts missed before a
    /// backup takes over.
    pub down_timer_adverts: u32,
    /// The address this router sends from: equal priorities are decided by
    /// it, the higher address winning.
    pub primary: IpAddr,
    /// `lower_prio_no_advert`: a master does not answer a lower-priority
    /// advertisement with one of its own.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: a master answers a higher-priority
    /// advertisement with one of its own before it steps down.
    pub higher_prio_send_advert: bool,
}

/// keepalived's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Configured, not started.
    Init,
    Backup,
    Master,
    /// A tracked object failed (weight 0), or the interface is down.
    Fault,
    /// The instance was stopped (daemon exit, or removed on reload).
    Stop,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        })
    }
}

/// What the daemon must do, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement now with this priority (0: resigning).
    Advertise { priority: u8 },
    /// The state changed. Into MASTER: add the addresses, announce them
    /// (gratuitous ARP, unsolicited NA), notify, start the master sync
    /// daemon. Out of MASTER: the reverse. The advertisement that goes with
    /// it, if any, comes first.
    Transition { from: State, to: State },
    /// In a sync group: its master-down timer ran out, but it goes MASTER
    /// only with the whole group ([`Instance::group_master`]); until then
    /// it stays BACKUP with its timer re-armed.
    WantMaster,
}

/// An advertisement that passed the daemon's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advert {
    pub from: IpAddr,
    pub priority: u8,
    /// The interval it carries, in centiseconds (v3; for v2 the daemon has
    /// already dropped one that differs from ours).
    pub interval_cs: u16,
}

/// Counts for status, named as keepalived's statistics are.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Stats {
    pub adverts_received: u64,
    pub adverts_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub pri_zero_received: u64,
    pub pri_zero_sent: u64,
    /// Lower-priority adverts a backup ignored so as to preempt.
    pub lower_prio_ignored: u64,
}

#[derive(Debug, Clone)]
pub struct Instance {
    p: Params,
    state: State,
    /// The priority after tracking (the base one for the owner).
    effective: u8,
    /// The master's interval a backup times out on (v3 learns it).
    master_adver_cs: u16,
    /// The current master-down interval (keepalived's `ms_down_timer`).
    ms_down: Duration,
    deadline: Option<Instant>,
    /// When a running preempt_delay ends.
    preempt_at: Option<Instant>,
    /// The last master heard from, and its priority.
    master: Option<(IpAddr, u8)>,
    /// Held in FAULT (by tracking or the interface) whatever else happens.
    fault: bool,
    /// A member of a sync group: it waits for the group to go MASTER.
    grouped: bool,
    /// keepalived's `wantstate == MASTER`: configured so, or its timer ran
    /// out since it last heard a master it accepts.
    wants_master: bool,
    stats: Stats,
}

impl Instance {
    pub fn new(p: Params) -> Instance {
        let advert_cs = p.advert_cs.max(1);
        Instance {
            effective: p.priority,
            master_adver_cs: advert_cs,
            ms_down: Duration::ZERO,
            p: Params { advert_cs, ..p },
            state: State::Init,
            deadline: None,
            preempt_at: None,
            master: None,
            fault: false,
            grouped: false,
            wants_master: false,
            stats: Stats::default(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn params(&self) -> &Params {
        &self.p
    }

    /// The priority it advertises now.
    pub fn effective_priority(&self) -> u8 {
        self.effective
    }

    /// The master last heard from (in BACKUP), or none.
    pub fn master(&self) -> Option<(IpAddr, u8)> {
        self.master
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A reload changed what it is configured with (priority, interval,
    /// preemption, …) but not what it is (VRID, version, interface): it
    /// carries on in its state, as keepalived keeps a master across a
    /// reload, instead of starting again. Tracking then sets the total
    /// priority as usual.
    pub fn reconfigure(&mut self, p: Params) {
        let advert_cs = p.advert_cs.max(1);
        self.p = Params { advert_cs, ..p };
        // A backup keeps timing out on the interval a v3 master sent.
        if self.state != State::Backup || self.p.version == Version::V2 {
            self.master_adver_cs = advert_cs;
        }
        self.effective = self.p.priority;
        if self.p.preempt_delay.is_zero() {
            self.preempt_at = None;
        }
        self.ms_down = self.master_down();
    }

    /// Make it a member of a sync group (before `start`).
    pub fn set_grouped(&mut self, grouped: bool) {
        self.grouped = grouped;
    }

    /// MASTER, or a member whose timer ran out and waits for its group.
    pub fn wants_master(&self) -> bool {
        self.state == State::Master || (self.state == State::Backup && self.wants_master)
    }

    /// Its sync group goes MASTER (keepalived's `vrrp_sync_master`): a
    /// BACKUP member takes over now.
    pub fn group_master(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.state == State::Backup {
            self.goto_master(now, out);
        }
    }

    /// Its sync group goes BACKUP (`vrrp_sync_backup`): a MASTER member
    /// leaves without resigning (the member that heard the better master
    /// already did what the protocol asks).
    pub fn group_backup(&mut self, now: Instant, out: &mut Vec<Action>) {
        // keepalived's vrrp_sync_backup leaves a BACKUP member as it is.
        if self.state == State::Master {
            self.wants_master = false;
            self.stats.release_master += 1;
            self.ms_down = self.master_down();
            self.enter(State::Backup, out);
            self.deadline = Some(now + self.ms_down);
        }
    }

    /// When `timer` must be called: the next advertisement (MASTER) or the
    /// master-down timeout (BACKUP); none in the other states.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Leave INIT (`vrrp_init_state`). `fault`: a tracked object is already
    /// failed, or the interface is down.
    pub fn start(&mut self, now: Instant, fault: bool, out: &mut Vec<Action>) {
        if self.state != State::Init {
            return;
        }
        self.fault = fault;
        self.wants_master = self.p.want_master;
        if fault {
            self.enter(State::Fault, out);
            self.deadline = None;
        } else if self.p.want_master && self.p.priority == PRIO_OWNER {
            // keepalived times out of BACKUP after 1 us, with no BACKUP
            // notification: the owner is master at once.
            self.goto_master(now, out);
        } else {
            self.ms_down = if self.p.want_master {
                // One interval to hear from a master that is already there.
                cs(self.master_adver_cs) + self.skew_of(1)
            } else {
                self.master_down()
            };
            self.enter(State::Backup, out);
            self.deadline = Some(now + self.ms_down);
        }
    }

    /// The deadline passed.
    pub fn timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            State::Backup if self.grouped => {
                // keepalived's vrrp_sync_can_goto_master: wait a whole
                // master-down interval again for the others.
                self.wants_master = true;
                self.ms_down = self.master_down();
                self.deadline = Some(now + self.ms_down);
                out.push(Action::WantMaster);
            }
            State::Backup => self.goto_master(now, out),
            State::Master => {
                self.advertise(self.effective, out);
                self.deadline = Some(now + cs(self.p.advert_cs));
            }
            State::Init | State::Fault | State::Stop => self.deadline = None,
        }
    }

    /// A valid advertisement for this instance arrived.
    pub fn receive(&mut self, now: Instant, a: Advert, out: &mut Vec<Action>) {
        self.stats.adverts_received += 1;
        if a.priority == PRIO_STOP {
            self.stats.pri_zero_received += 1;
        }
        match self.state {
            State::Backup => self.backup_rx(now, a),
            State::Master => self.master_rx(now, a, out),
            // keepalived ignores adverts in FAULT and INIT.
            State::Init | State::Fault | State::Stop => {}
        }
    }

    /// Tracking moved the total priority (base plus the weights of what is
    /// tracked). Clamped to 1..=254; the owner's never changes.
    pub fn set_priority(&mut self, total: i32) {
        if self.p.priority == PRIO_OWNER {
            return;
        }
        let new = u8::try_from(total.clamp(1, i32::from(PRIO_OWNER) - 1)).unwrap_or(1);
        if new == self.effective {
            return;
        }
        self.effective = new;
        let old_down = self.ms_down;
        self.ms_down = self.master_down();
        if self.state == State::Backup {
            // The running master-down timer moves by the change of skew.
            if let Some(d) = self.deadline {
                self.deadline = Some(if self.ms_down >= old_down {
                    d + (self.ms_down - old_down)
                } else {
                    d.checked_sub(old_down - self.ms_down).unwrap_or(d)
                });
            }
        }
    }

    /// A weight-0 tracked object failed or recovered, or the interface went
    /// down or up (`down_instance`, `try_up_instance`).
    pub fn set_fault(&mut self, now: Instant, fault: bool, out: &mut Vec<Action>) {
        if fault == self.fault {
            return;
        }
        self.fault = fault;
        match (fault, self.state) {
            (_, State::Init | State::Stop) => {}
            (true, State::Master) => {
                self.advertise(PRIO_STOP, out);
                self.stats.release_master += 1;
                self.enter(State::Fault, out);
                self.deadline = None;
            }
            (true, _) => {
                self.enter(State::Fault, out);
                self.deadline = None;
            }
            (false, State::Fault) => {
                self.master_adver_cs = self.p.advert_cs;
                self.wants_master = false;
                if self.p.want_master && self.p.priority == PRIO_OWNER {
                    self.goto_master(now, out);
                } else {
                    self.preempt_at = None;
                    self.ms_down = self.master_down();
                    self.enter(State::Backup, out);
                    self.deadline = Some(now + self.ms_down);
                }
            }
            (false, _) => {}
        }
    }

    /// Stop (daemon exit, instance removed): a master resigns with a
    /// priority-0 advertisement so that a backup takes over at once.
    pub fn stop(&mut self, out: &mut Vec<Action>) {
        match self.state {
            State::Stop => return,
            State::Master => {
                self.advertise(PRIO_STOP, out);
                self.stats.release_master += 1;
            }
            State::Init | State::Backup | State::Fault => {}
        }
        self.enter(State::Stop, out);
        self.deadline = None;
    }

    fn backup_rx(&mut self, now: Instant, a: Advert) {
        if a.priority == PRIO_STOP {
            // The master resigned: take over after the skew only.
            self.ms_down = self.skew();
            self.deadline = Some(now + self.ms_down);
            return;
        }
        let delaying = !self.p.preempt_delay.is_zero() && self.preempt_at.is_none_or(|t| t > now);
        if !self.p.preempt || a.priority >= self.effective || delaying {
            if self.p.version == Version::V3 {
                // RFC 5798: the master's interval is the one to time out on.
                self.master_adver_cs = a.interval_cs.max(1);
            }
            self.ms_down = self.master_down();
            self.master = Some((a.from, a.priority));
            // A master it accepts: it no longer wants MASTER.
            self.wants_master = false;
            if !self.p.preempt_delay.is_zero() {
                if a.priority >= self.effective {
                    self.preempt_at = None;
                } else if self.preempt_at.is_none() {
                    self.preempt_at = Some(now + self.p.preempt_delay);
                }
            }
            self.deadline = Some(now + self.ms_down);
        } else {
            // Ours is higher: let the down timer run out and preempt.
            self.stats.lower_prio_ignored += 1;
            self.master = Some((a.from, a.priority));
        }
    }

    fn master_rx(&mut self, now: Instant, a: Advert, out: &mut Vec<Action>) {
        let addr = self.compare_addr(a.from);
        let outranked = a.priority > self.effective
            || (a.priority == self.effective && addr == Ordering::Greater);
        if a.priority == PRIO_STOP || (self.p.higher_prio_send_advert && outranked) {
            self.advertise(self.effective, out);
            if a.priority == PRIO_STOP {
                self.deadline = Some(now + cs(self.p.advert_cs));
                return;
            }
        }
        if a.priority == self.effective && addr != Ordering::Equal && self.effective == PRIO_OWNER {
            // Two owners: keepalived reports the misconfiguration and
            // steps back to 254 so that an election can decide.
            self.p.priority = PRIO_OWNER - 1;
            self.effective = PRIO_OWNER - 1;
        }
        let lower =
            a.priority < self.effective || (a.priority == self.effective && addr == Ordering::Less);
        let higher = a.priority > self.effective
            || (a.priority == self.effective && addr == Ordering::Greater);
        if lower {
            // Answer at once so that the lower router goes back to BACKUP.
            if !self.p.lower_prio_no_advert {
                self.advertise(self.effective, out);
                self.deadline = Some(now + cs(self.p.advert_cs));
            }
        } else if higher {
            if self.p.version == Version::V3 {
                self.master_adver_cs = a.interval_cs.max(1);
            }
            self.master = Some((a.from, a.priority));
            self.preempt_at = None;
            self.stats.release_master += 1;
            self.wants_master = false;
            self.ms_down = self.master_down();
            self.enter(State::Backup, out);
            self.deadline = Some(now + self.ms_down);
        }
        // Equal priority from our own address (our own packet looped back,
        // or a duplicate address): keepalived only warns; nothing moves.
    }

    fn goto_master(&mut self, now: Instant, out: &mut Vec<Action>) {
        // The old master must drop the addresses before our gratuitous
        // ARPs go out: the advertisement goes first.
        self.master_adver_cs = self.p.advert_cs;
        self.master = None;
        self.preempt_at = None;
        self.advertise(self.effective, out);
        self.stats.become_master += 1;
        self.enter(State::Master, out);
        self.deadline = Some(now + cs(self.p.advert_cs));
    }

    fn advertise(&mut self, priority: u8, out: &mut Vec<Action>) {
        self.stats.adverts_sent += 1;
        if priority == PRIO_STOP {
            self.stats.pri_zero_sent += 1;
        }
        out.push(Action::Advertise { priority });
    }

    fn enter(&mut self, to: State, out: &mut Vec<Action>) {
        let from = self.state;
        if from != to {
            self.state = to;
            out.push(Action::Transition { from, to });
        }
    }

    /// keepalived's `vrrp_saddr_cmp`: the sender's address against ours.
    fn compare_addr(&self, from: IpAddr) -> Ordering {
        match (from, self.p.primary) {
            (IpAddr::V4(a), IpAddr::V4(b)) => a.cmp(&b),
            (IpAddr::V6(a), IpAddr::V6(b)) => a.cmp(&b),
            // keepalived answers "equal" for a family mismatch.
            _ => Ordering::Equal,
        }
    }

    /// `VRRP_MS_DOWN_TIMER`.
    fn master_down(&self) -> Duration {
        cs(self.master_adver_cs) * self.p.down_timer_adverts + self.skew()
    }

    /// `VRRP_TIMER_SKEW`: the lower our priority, the longer we wait.
    fn skew(&self) -> Duration {
        self.skew_of(256 - u32::from(self.effective))
    }

    /// `VRRP_TIMER_SKEW_CALC`, in keepalived's integer microseconds: v3
    /// scales with the master's interval, v2 is in 1/256 s.
    fn skew_of(&self, pri: u32) -> Duration {
        let us = match self.p.version {
            Version::V3 => u64::from(pri) * u64::from(self.master_adver_cs) * 625 / 16,
            Version::V2 => u64::from(pri) * 1_000_000 / 256,
        };
        Duration::from_micros(us)
    }
}

fn cs(centis: u16) -> Duration {
    Duration::from_millis(u64::from(centis) * 10)
}

#[cfg(test)]
mod tests;
