//! A vrrp_sync_group's rules over its members' state machines
//! (keepalived's vrrp/vrrp_sync.c): the members go MASTER together, and
//! only when every one of them wants to (`vrrp_sync_can_goto_master`: a
//! backup prefers to stay one rather than thrash); one leaving MASTER for
//! BACKUP takes the others with it (`vrrp_sync_backup`); one in FAULT holds
//! them all there (`vrrp_sync_fault`; the daemon applies that as the
//! union of the members' faults).

use super::instance::{Action, Instance, State};

/// What a member's actions ask of its whole group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Master,
    Backup,
}

/// The move `actions` (one member's, just done) ask of the group whose
/// members are now `members` (that one included).
pub fn follow<'a>(
    actions: &[Action],
    members: impl IntoIterator<Item = &'a Instance> + Clone,
) -> Option<Move> {
    actions.iter().rev().find_map(|a| match *a {
        Action::WantMaster => members
            .clone()
            .into_iter()
            .all(Instance::wants_master)
            .then_some(Move::Master),
        Action::Transition {
            to: State::Master, ..
        } => Some(Move::Master),
        Action::Transition {
            from: State::Master,
            to: State::Backup,
        } => Some(Move::Backup),
        _ => None,
    })
}

/// The group's state, for its notify scripts: FAULT if a member is, else
/// MASTER if one is, BACKUP if one is, STOP once all are stopped.
pub fn state<'a>(members: impl IntoIterator<Item = &'a Instance>) -> State {
    let mut s = Vec::new();
    s.extend(members.into_iter().map(Instance::state));
    [State::Fault, State::Master, State::Backup]
        .into_iter()
        .find(|x| s.contains(x))
        .unwrap_or(if s.iter().all(|x| *x == State::Stop) && !s.is_empty() {
            State::Stop
        } else {
            State::Init
        })
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::vrrp::instance::{Params, Version};

    fn member(priority: u8, t0: Instant) -> Instance {
        let mut i = Instance::new(Params {
            version: Version::V3,
            priority,
            advert_cs: 100,
            want_master: false,
            preempt: true,
            preempt_delay: Duration::ZERO,
            down_timer_adverts: 3,
            primary: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
        });
        i.set_grouped(true);
        i.start(t0, false, &mut Vec::new());
        i
    }

    #[test]
    fn the_group_goes_master_when_the_last_member_wants_it() {
        let t0 = Instant::now();
        let mut m = [member(100, t0), member(100, t0)];
        let mut out = Vec::new();
        let t = m[0].deadline().expect("timer");
        m[0].timer(t, &mut out);
        assert_eq!(follow(&out, m.iter()), None);
        out.clear();
        m[1].timer(t, &mut out);
        assert_eq!(follow(&out, m.iter()), Some(Move::Master));
        for i in &mut m {
            i.group_master(t, &mut Vec::new());
        }
        assert_eq!(state(m.iter()), State::Master);
    }

    #[test]
    fn a_member_stepping_down_takes_the_group_to_backup() {
        let out = [Action::Transition {
            from: State::Master,
            to: State::Backup,
        }];
        let t0 = Instant::now();
        let m = [member(100, t0)];
        assert_eq!(follow(&out, m.iter()), Some(Move::Backup));
        let into_fault = [Action::Transition {
            from: State::Master,
            to: State::Fault,
        }];
        assert_eq!(follow(&into_fault, m.iter()), None);
    }

    #[test]
    fn the_groups_state_is_its_worst_members() {
        let t0 = Instant::now();
        let mut m = [member(100, t0), member(100, t0)];
        assert_eq!(state(m.iter()), State::Backup);
        m[1].set_fault(t0, true, &mut Vec::new());
        assert_eq!(state(m.iter()), State::Fault);
        for i in &mut m {
            i.stop(&mut Vec::new());
        }
        assert_eq!(state(m.iter()), State::Stop);
        assert_eq!(state([].iter()), State::Init);
    }
}
