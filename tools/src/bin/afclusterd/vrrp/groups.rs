//! vrrp_sync_groups as the daemon runs them: which instances are in each,
//! and the group's state for its notify scripts. The rules that move the
//! members are `afcluster::vrrp::sync_group`'s.

use afcluster::config::{Script, VrrpSyncGroup};
use afcluster::vrrp::instance::State;

use super::router::notify_runs;

pub struct Group {
    pub cfg: VrrpSyncGroup,
    /// The members' indexes among the subsystem's instances.
    pub members: Vec<usize>,
    /// As last notified.
    pub state: State,
}

impl Group {
    pub fn new(cfg: VrrpSyncGroup, members: Vec<usize>) -> Group {
        Group {
            cfg,
            members,
            state: State::Init,
        }
    }

    /// keepalived's send_group_notifies: notify_master/_backup/_fault/
    /// _stop, then `notify` with GROUP, the name, the state and 0.
    pub fn notifies(&self, to: State) -> Vec<Script> {
        notify_runs(&self.cfg.notify, to, "GROUP", &self.cfg.name, 0)
    }
}
