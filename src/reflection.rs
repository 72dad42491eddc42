//! The node-status reflection: an in-memory copy of the kernel's table kept
//! current by events -- the seeds' `CI_NODE_STATE(rs)`, a constant-time
//! lookup of a node's state by node id or by any of its addresses.
//!
//! It is loaded from a snapshot (`Client::snapshot`) and then fed events in
//! any order they arrive: events not newer than what it holds are ignored
//! (so events racing with the snapshot are harmless), and a gap is reported
//! so that the caller replays it (`Client::events_since` with the
//! reflection's seq and instance) instead of guessing. An event of another
//! table instance means the table was replaced: the caller loads it again.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::client::Snapshot;
use crate::types::{Event, EventKind, Node, NodeState};

/// What `Reflection::apply` did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The event was the next one and is now reflected.
    Applied,
    /// Already reflected (seq not newer): ignored.
    Old,
    /// Events between the reflection's seq and this one are missing: the
    /// event was not applied; replay from `Reflection::seq()`.
    Gap,
    /// The reflection is stale (never loaded, or the module went away):
    /// load a snapshot first.
    Stale,
    /// The event belongs to another instance of the table than the one
    /// reflected: the table was replaced (module reloaded, namespace
    /// recreated). Not applied; load a snapshot of the new table.
    Replaced,
}

#[derive(Debug, Default, Clone)]
pub struct Reflection {
    nodes: HashMap<u32, Node>,
    by_addr: HashMap<IpAddr, u32>,
    seq: u64,
    instance: u64,
    local_node: u32,
    loaded: bool,
}

impl Reflection {
    /// An empty, stale reflection.
    pub fn new() -> Reflection {
        Reflection::default()
    }

    /// Replace the contents with a snapshot of the table.
    pub fn load(&mut self, snapshot: Snapshot) {
        self.nodes.clear();
        self.by_addr.clear();
        for n in snapshot.nodes {
            self.insert(n);
        }
        self.seq = snapshot.seq;
        self.instance = snapshot.instance;
        self.local_node = snapshot.local_node;
        self.loaded = true;
    }

    /// The module went away: keep the contents for display, but nothing
    /// applies until the next `load`.
    pub fn mark_stale(&mut self) {
        self.loaded = false;
    }

    pub fn is_stale(&self) -> bool {
        !self.loaded
    }

    /// The sequence number of the last change reflected.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The instance of the table reflected (0 before the first load).
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// This machine's node id, 0 = not set.
    pub fn local_node(&self) -> u32 {
        self.local_node
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(&id)
    }

    pub fn node_by_addr(&self, addr: IpAddr) -> Option<&Node> {
        self.by_addr.get(&addr).and_then(|id| self.nodes.get(id))
    }

    /// `CI_NODE_STATE`: the state of the node owning `addr`.
    pub fn state_by_addr(&self, addr: IpAddr) -> Option<NodeState> {
        self.node_by_addr(addr).map(|n| n.state)
    }

    pub fn state(&self, id: u32) -> Option<NodeState> {
        self.nodes.get(&id).map(|n| n.state)
    }

    /// Every node, in id order.
    pub fn nodes(&self) -> Vec<&Node> {
        let mut v: Vec<_> = self.nodes.values().collect();
        v.sort_by_key(|n| n.id);
        v
    }

    pub fn apply(&mut self, ev: &Event) -> Applied {
        if !self.loaded {
            return Applied::Stale;
        }
        if ev.instance != self.instance {
            return Applied::Replaced;
        }
        if ev.seq <= self.seq {
            return Applied::Old;
        }
        if ev.seq != self.seq + 1 {
            return Applied::Gap;
        }
        match (ev.kind, &ev.node) {
            (EventKind::LocalNode, _) => self.local_node = ev.local_node.unwrap_or(0),
            (EventKind::Removed, Some(n)) => self.remove(n.id),
            (_, Some(n)) => {
                self.remove(n.id);
                self.insert(n.clone());
            }
            // Decoding refuses a node event without its node; one built by
            // hand changes nothing but the seq.
            (_, None) => {}
        }
        self.seq = ev.seq;
        Applied::Applied
    }

    fn insert(&mut self, n: Node) {
        for a in &n.addrs {
            self.by_addr.insert(*a, n.id);
        }
        self.nodes.insert(n.id, n);
    }

    fn remove(&mut self, id: u32) {
        if let Some(old) = self.nodes.remove(&id) {
            for a in &old.addrs {
                // Only if still ours: the kernel keeps addresses unique.
                if self.by_addr.get(a) == Some(&id) {
                    self.by_addr.remove(a);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Cause;

    fn node(id: u32, state: NodeState, addrs: &[&str]) -> Node {
        Node {
            id,
            state,
            name: format!("n{id}"),
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            lease_ms: 0,
        }
    }

    const INSTANCE: u64 = 0x5eed;

    fn ev(seq: u64, kind: EventKind, n: Node) -> Event {
        Event {
            seq,
            kind,
            cause: Cause::Admin,
            timestamp_ns: 0,
            instance: INSTANCE,
            old_state: None,
            node: Some(n),
            local_node: None,
        }
    }

    fn snap(nodes: Vec<Node>, seq: u64) -> Snapshot {
        Snapshot {
            nodes,
            seq,
            instance: INSTANCE,
            local_node: 0,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn stale_until_loaded() {
        let mut r = Reflection::new();
        assert!(r.is_stale());
        let e = ev(1, EventKind::Added, node(1, NodeState::Up, &[]));
        assert_eq!(r.apply(&e), Applied::Stale);
        r.load(snap(vec![], 0));
        assert_eq!(r.apply(&e), Applied::Applied);
        r.mark_stale();
        assert_eq!(
            r.apply(&ev(2, EventKind::Removed, node(1, NodeState::Up, &[]))),
            Applied::Stale
        );
        assert_eq!(r.state(1), Some(NodeState::Up), "contents kept while stale");
    }

    #[test]
    fn lookups_by_id_and_any_address() {
        let mut r = Reflection::new();
        r.load(snap(
            vec![
                node(1, NodeState::Up, &["10.0.0.1", "fd00::1"]),
                node(2, NodeState::Down, &["10.0.0.2"]),
            ],
            7,
        ));
        assert_eq!(r.seq(), 7);
        assert_eq!(r.state_by_addr(ip("fd00::1")), Some(NodeState::Up));
        assert_eq!(r.state_by_addr(ip("10.0.0.2")), Some(NodeState::Down));
        assert_eq!(r.state_by_addr(ip("10.0.0.3")), None);
        assert_eq!(r.node(2).map(|n| n.name.as_str()), Some("n2"));
    }

    #[test]
    fn events_racing_the_snapshot_are_ignored_and_gaps_reported() {
        let mut r = Reflection::new();
        r.load(snap(vec![node(1, NodeState::Up, &[])], 5));
        // Arrived during the dump, already in the snapshot.
        assert_eq!(
            r.apply(&ev(5, EventKind::State, node(1, NodeState::Up, &[]))),
            Applied::Old
        );
        assert_eq!(
            r.apply(&ev(7, EventKind::State, node(1, NodeState::Down, &[]))),
            Applied::Gap
        );
        assert_eq!(r.state(1), Some(NodeState::Up), "a gap applies nothing");
        assert_eq!(
            r.apply(&ev(6, EventKind::State, node(1, NodeState::GoingDown, &[]))),
            Applied::Applied
        );
        assert_eq!(
            r.apply(&ev(7, EventKind::State, node(1, NodeState::Down, &[]))),
            Applied::Applied
        );
        assert_eq!((r.state(1), r.seq()), (Some(NodeState::Down), 7));
    }

    #[test]
    fn address_changes_and_removal_update_the_map() {
        let mut r = Reflection::new();
        r.load(snap(
            vec![node(1, NodeState::Up, &["10.0.0.1", "10.0.0.11"])],
            0,
        ));
        r.apply(&ev(
            1,
            EventKind::Changed,
            node(1, NodeState::Up, &["10.0.0.11", "10.0.0.12"]),
        ));
        assert_eq!(r.state_by_addr(ip("10.0.0.1")), None);
        assert_eq!(r.state_by_addr(ip("10.0.0.12")), Some(NodeState::Up));
        // The freed address moves to another node.
        r.apply(&ev(
            2,
            EventKind::Added,
            node(2, NodeState::ComingUp, &["10.0.0.1"]),
        ));
        assert_eq!(r.node_by_addr(ip("10.0.0.1")).map(|n| n.id), Some(2));
        r.apply(&ev(
            3,
            EventKind::Removed,
            node(1, NodeState::Up, &["10.0.0.11", "10.0.0.12"]),
        ));
        assert_eq!((r.len(), r.state_by_addr(ip("10.0.0.11"))), (1, None));
        assert_eq!(r.state_by_addr(ip("10.0.0.1")), Some(NodeState::ComingUp));
        assert_eq!(r.nodes().iter().map(|n| n.id).collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn local_node_events_move_the_local_node_only() {
        let mut r = Reflection::new();
        r.load(snap(vec![node(1, NodeState::Up, &["10.0.0.1"])], 3));
        let local = Event {
            kind: EventKind::LocalNode,
            node: None,
            local_node: Some(1),
            ..ev(4, EventKind::LocalNode, node(1, NodeState::Up, &[]))
        };
        assert_eq!(r.apply(&local), Applied::Applied);
        assert_eq!((r.local_node(), r.seq(), r.len()), (1, 4, 1));
        assert_eq!(r.state(1), Some(NodeState::Up));
        let none = Event {
            seq: 5,
            local_node: Some(0),
            ..local
        };
        assert_eq!(r.apply(&none), Applied::Applied);
        assert_eq!(r.local_node(), 0);
    }

    #[test]
    fn an_event_of_another_instance_is_not_applied() {
        let mut r = Reflection::new();
        r.load(snap(vec![node(1, NodeState::Up, &[])], 9));
        assert_eq!(r.instance(), INSTANCE);
        // The new table's first event: seq 1, another instance. Neither
        // "old" nor a gap: the table was replaced.
        let other = Event {
            instance: INSTANCE + 1,
            ..ev(1, EventKind::Added, node(2, NodeState::Up, &[]))
        };
        assert_eq!(r.apply(&other), Applied::Replaced);
        let next = Event {
            instance: INSTANCE + 1,
            ..ev(10, EventKind::Added, node(2, NodeState::Up, &[]))
        };
        assert_eq!(r.apply(&next), Applied::Replaced);
        assert_eq!((r.seq(), r.len()), (9, 1), "nothing applied");
    }
}
