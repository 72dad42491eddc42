//! What the node table should say, from what corosync says: the pure rule
//! of afcluster-corosync, apart from corosync's and the kernel's I/O.
//!
//! The states, in CI/SSI's words (the README has the table):
//! - never seen in a membership: `neverup`;
//! - in this partition's membership, the partition quorate, its feeder in
//!   the CPG group: `up`; its feeder not (yet) there: `comingup`;
//! - its feeder left the group on purpose (a clean stop of the feeder or
//!   of corosync): `shutdown`, until the node leaves the membership;
//! - gone from the membership (failed, or the end of a clean stop), or its
//!   corosync reported down by CPG: `down`, at the change that says so;
//! - this partition without quorum: every member, the local node too, is
//!   `comingup` (none may act as the cluster until quorum is back), and
//!   the nodes outside it are `down`.
//! - corosync not running here: the local node is `down`; the others keep
//!   what was last known, and their leases are no longer renewed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use afcluster::NodeState;

/// A node of corosync's nodelist (cmap `nodelist.node.N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configured {
    pub name: String,
    /// Its ring addresses, then the extra ones of `--node-addrs`.
    pub addrs: Vec<IpAddr>,
}

/// A node as the table should hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub name: String,
    pub addrs: Vec<IpAddr>,
    pub state: NodeState,
}

/// Why a feeder left the CPG group (corosync's cpg reasons that matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// cpg_leave: a clean stop.
    OnPurpose,
    /// The process died, its corosync still running.
    ProcessDied,
    /// Its node left the membership.
    NodeDown,
}

/// Everything corosync has told this feeder, kept up to date by the
/// callbacks; [`Membership::wanted`] turns it into the table.
#[derive(Debug, Clone, Default)]
pub struct Membership {
    pub nodelist: BTreeMap<u32, Configured>,
    /// corosync's local nodeid, 0 until known.
    pub local: u32,
    /// corosync is running and this feeder is connected to it.
    pub connected: bool,
    pub quorate: bool,
    /// This partition's members (quorum's member list).
    pub members: BTreeSet<u32>,
    /// Nodes whose feeder is in the CPG group.
    pub feeders: BTreeSet<u32>,
    /// Nodes whose feeder left on purpose and that are still members.
    pub shutting_down: BTreeSet<u32>,
    /// Nodes ever seen in a membership (or found already past neverup in
    /// the table at start, so that a restart does not forget them).
    pub seen: BTreeSet<u32>,
    /// This feeder is stopping on purpose: the local node is shutdown.
    pub stopping: bool,
}

impl Membership {
    /// quorum's notification: the partition and whether it is quorate.
    pub fn set_members(&mut self, quorate: bool, members: impl IntoIterator<Item = u32>) {
        self.quorate = quorate;
        self.members = members.into_iter().collect();
        self.seen.extend(self.members.iter().copied());
        // A node that left the membership ends its clean stop.
        let members = &self.members;
        self.shutting_down.retain(|id| members.contains(id));
        self.feeders.retain(|id| members.contains(id));
    }

    /// CPG's confchg: the feeders now in the group, and those that left.
    pub fn set_feeders(
        &mut self,
        now: impl IntoIterator<Item = u32>,
        left: impl IntoIterator<Item = (u32, Left)>,
    ) {
        self.feeders = now.into_iter().collect();
        for (id, why) in left {
            if self.feeders.contains(&id) {
                continue; // another feeder of that node is still there
            }
            match why {
                Left::OnPurpose => {
                    self.shutting_down.insert(id);
                }
                Left::ProcessDied => {
                    self.shutting_down.remove(&id);
                }
                // CPG may say so before quorum does: down at once.
                Left::NodeDown => {
                    self.shutting_down.remove(&id);
                    self.members.remove(&id);
                }
            }
        }
        for id in &self.feeders {
            self.shutting_down.remove(id);
        }
    }

    /// corosync went away: nothing of the membership is known any more.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.quorate = false;
        self.members.clear();
        self.feeders.clear();
        self.shutting_down.clear();
    }

    /// The state one configured node should have.
    pub fn state(&self, id: u32) -> NodeState {
        if id == self.local && self.stopping {
            return NodeState::Shutdown;
        }
        if !self.connected {
            // The others are not written then (see `wanted`): this is only
            // what the local node, or a node never written, gets.
            return if id == self.local || self.seen.contains(&id) {
                NodeState::Down
            } else {
                NodeState::NeverUp
            };
        }
        if self.members.contains(&id) {
            if !self.quorate {
                NodeState::ComingUp
            } else if self.feeders.contains(&id) {
                NodeState::Up
            } else if self.shutting_down.contains(&id) {
                NodeState::Shutdown
            } else {
                NodeState::ComingUp
            }
        } else if self.seen.contains(&id) {
            NodeState::Down
        } else {
            NodeState::NeverUp
        }
    }

    /// The whole table this feeder writes: every node of the nodelist.
    /// Disconnected, only the local node is known; the others are left
    /// out (their entries stay as written, leases running).
    pub fn wanted(&self) -> BTreeMap<u32, Wanted> {
        self.nodelist
            .iter()
            .filter(|(id, _)| self.connected || **id == self.local || self.stopping)
            .map(|(id, c)| {
                (
                    *id,
                    Wanted {
                        name: c.name.clone(),
                        addrs: c.addrs.clone(),
                        state: self.state(*id),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NodeState::*;

    fn three() -> Membership {
        let mut m = Membership::default();
        for id in 1..=3 {
            m.nodelist.insert(
                id,
                Configured {
                    name: format!("node{id}"),
                    addrs: vec![format!("10.0.0.{id}").parse().unwrap()],
                },
            );
        }
        m.local = 1;
        m.connected = true;
        m
    }

    fn states(m: &Membership) -> Vec<NodeState> {
        m.wanted().values().map(|w| w.state).collect()
    }

    #[test]
    fn a_cluster_forming_comes_up_as_its_feeders_join() {
        let mut m = three();
        assert_eq!(states(&m), [NeverUp, NeverUp, NeverUp]);
        m.set_members(true, [1, 2]);
        assert_eq!(states(&m), [ComingUp, ComingUp, NeverUp]);
        m.set_feeders([1, 2], []);
        assert_eq!(states(&m), [Up, Up, NeverUp]);
        m.set_members(true, [1, 2, 3]);
        m.set_feeders([1, 2, 3], []);
        assert_eq!(states(&m), [Up, Up, Up]);
    }

    #[test]
    fn a_failed_node_is_down_whichever_of_cpg_and_quorum_says_it_first() {
        let mut a = three();
        a.set_members(true, [1, 2, 3]);
        a.set_feeders([1, 2, 3], []);
        let mut b = a.clone();
        a.set_feeders([1, 2], [(3, Left::NodeDown)]);
        assert_eq!(states(&a), [Up, Up, Down]);
        a.set_members(true, [1, 2]);
        assert_eq!(states(&a), [Up, Up, Down]);
        b.set_members(true, [1, 2]);
        assert_eq!(states(&b), [Up, Up, Down]);
        b.set_feeders([1, 2], [(3, Left::NodeDown)]);
        assert_eq!(states(&b), [Up, Up, Down]);
        // Back: comingup until its feeder joins.
        b.set_members(true, [1, 2, 3]);
        assert_eq!(states(&b), [Up, Up, ComingUp]);
        b.set_feeders([1, 2, 3], []);
        assert_eq!(states(&b), [Up, Up, Up]);
    }

    #[test]
    fn a_clean_stop_is_shutdown_then_down() {
        let mut m = three();
        m.set_members(true, [1, 2, 3]);
        m.set_feeders([1, 2, 3], []);
        m.set_feeders([1, 2], [(3, Left::OnPurpose)]);
        assert_eq!(states(&m), [Up, Up, Shutdown]);
        m.set_members(true, [1, 2]);
        assert_eq!(states(&m), [Up, Up, Down]);
        // Its next start is not a shutdown any more.
        m.set_members(true, [1, 2, 3]);
        assert_eq!(states(&m), [Up, Up, ComingUp]);
    }

    #[test]
    fn a_dead_feeder_on_a_live_node_is_comingup() {
        let mut m = three();
        m.set_members(true, [1, 2, 3]);
        m.set_feeders([1, 2, 3], []);
        m.set_feeders([1, 3], [(2, Left::ProcessDied)]);
        assert_eq!(states(&m), [Up, ComingUp, Up]);
    }

    #[test]
    fn without_quorum_the_partition_is_comingup_and_the_rest_down() {
        let mut m = three();
        m.set_members(true, [1, 2, 3]);
        m.set_feeders([1, 2, 3], []);
        m.set_members(false, [1]);
        assert_eq!(states(&m), [ComingUp, Down, Down]);
        m.set_members(true, [1, 2, 3]);
        m.set_feeders([1, 2, 3], []);
        assert_eq!(states(&m), [Up, Up, Up]);
    }

    #[test]
    fn without_corosync_only_the_local_node_is_written_down() {
        let mut m = three();
        m.set_members(true, [1, 2, 3]);
        m.set_feeders([1, 2, 3], []);
        m.disconnected();
        let w = m.wanted();
        assert_eq!(w.keys().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(w[&1].state, Down);
    }

    #[test]
    fn stopping_the_feeder_says_shutdown_for_the_local_node() {
        let mut m = three();
        m.set_members(true, [1, 2, 3]);
        m.set_feeders([1, 2, 3], []);
        m.stopping = true;
        assert_eq!(states(&m), [Shutdown, Up, Up]);
    }

    #[test]
    fn a_node_already_past_neverup_in_the_table_is_down_not_neverup() {
        let mut m = three();
        m.seen.insert(3);
        m.set_members(true, [1, 2]);
        assert_eq!(states(&m), [ComingUp, ComingUp, Down]);
    }
}
