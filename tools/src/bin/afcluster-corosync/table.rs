//! Writing the wanted nodes into this network namespace's node table, and
//! renewing their leases. Only the nodes of corosync's nodelist are
//! written; any other node (added by hand) is never touched.

use std::collections::BTreeMap;

use afcluster::{Client, Node, NodeChange, NodeState};
use log::{info, warn};

use crate::membership::Wanted;

/// What one node needs: nothing, to be added, or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Add(NodeChange),
    Set(NodeChange),
}

/// The request that makes `current` (the kernel's, if it has the node)
/// `want`, with the lease; None when it already is.
pub fn write_for(current: Option<&Node>, want: &Wanted, lease_ms: u32) -> Option<Write> {
    let Some(cur) = current else {
        return Some(Write::Add(NodeChange {
            state: Some(want.state),
            name: Some(want.name.clone()),
            addrs: Some(want.addrs.clone()),
            lease_ms: Some(lease_ms),
        }));
    };
    let c = NodeChange {
        state: (cur.state != want.state).then_some(want.state),
        name: (cur.name != want.name).then(|| want.name.clone()),
        addrs: (!same_addrs(&cur.addrs, &want.addrs)).then(|| want.addrs.clone()),
        lease_ms: (cur.lease_ms != lease_ms).then_some(lease_ms),
    };
    let changes =
        c.state.is_some() || c.name.is_some() || c.addrs.is_some() || c.lease_ms.is_some();
    changes.then_some(Write::Set(c))
}

/// The same addresses, in whatever order the kernel keeps them.
fn same_addrs(a: &[std::net::IpAddr], b: &[std::net::IpAddr]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

pub struct Table {
    client: Client,
    lease_ms: u32,
    /// The nodes of ours as the kernel last described them.
    held: BTreeMap<u32, Node>,
    local_set: Option<u32>,
}

impl Table {
    /// Connect and read the table. Err: the module is not loaded (or
    /// another netlink failure); the caller tries again later.
    pub fn open(lease_ms: u32) -> afcluster::Result<Table> {
        let mut client = Client::connect()?;
        let held = client
            .dump()?
            .nodes
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        Ok(Table {
            client,
            lease_ms,
            held,
            local_set: None,
        })
    }

    /// The nodes the kernel holds already past neverup (a feeder that
    /// restarts knows they were seen).
    pub fn seen(&self) -> impl Iterator<Item = u32> + '_ {
        self.held
            .values()
            .filter(|n| n.state != NodeState::NeverUp)
            .map(|n| n.id)
    }

    /// Make the table hold `wanted`; the table's local node is corosync's.
    pub fn apply(&mut self, wanted: &BTreeMap<u32, Wanted>, local: u32) -> afcluster::Result<()> {
        for (id, want) in wanted {
            let Some(w) = write_for(self.held.get(id), want, self.lease_ms) else {
                continue;
            };
            let reply = match &w {
                Write::Add(c) => self.client.add(*id, c),
                Write::Set(c) => self.client.set(*id, c),
            };
            match reply {
                Ok(r) => {
                    let was = self.held.get(id).map(|n| n.state);
                    if was != Some(r.node.state) {
                        info!(
                            "node {id} ({}): {} -> {}",
                            want.name,
                            was.map_or("absent", |s| s.name()),
                            r.node.state
                        );
                    }
                    self.held.insert(*id, r.node);
                }
                // Removed by hand meanwhile: add it next time.
                Err(afcluster::Error::NotFound(_)) if matches!(w, Write::Set(_)) => {
                    warn!("node {id} was removed from the table by someone else: adding it again");
                    self.held.remove(id);
                    return self.apply(wanted, local);
                }
                Err(e) => return Err(e),
            }
        }
        if local != 0 && self.local_set != Some(local) {
            let info = self.client.set_local(local)?;
            if info.local_node == local {
                self.local_set = Some(local);
            }
        }
        Ok(())
    }

    /// Renew the leases of the nodes `ids` (any NODE_SET renews).
    pub fn renew(&mut self, ids: impl Iterator<Item = u32>) -> afcluster::Result<()> {
        for id in ids {
            if self.held.contains_key(&id) {
                let r = self.client.set(id, &NodeChange::default())?;
                self.held.insert(id, r.node);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(state: NodeState) -> Node {
        Node {
            id: 2,
            state,
            name: "node2".into(),
            addrs: vec!["10.0.0.2".parse().unwrap()],
            lease_ms: 5000,
        }
    }

    fn want(state: NodeState) -> Wanted {
        Wanted {
            name: "node2".into(),
            addrs: vec!["10.0.0.2".parse().unwrap()],
            state,
        }
    }

    #[test]
    fn only_what_differs_is_written() {
        assert_eq!(
            write_for(Some(&node(NodeState::Up)), &want(NodeState::Up), 5000),
            None
        );
        assert_eq!(
            write_for(Some(&node(NodeState::Up)), &want(NodeState::Down), 5000),
            Some(Write::Set(NodeChange {
                state: Some(NodeState::Down),
                ..NodeChange::default()
            }))
        );
        let mut other = want(NodeState::Up);
        other.addrs.push("fd00::2".parse().unwrap());
        let Some(Write::Set(c)) = write_for(Some(&node(NodeState::Up)), &other, 3000) else {
            panic!("a change expected");
        };
        assert_eq!((c.state, c.name, c.lease_ms), (None, None, Some(3000)));
        assert_eq!(c.addrs.map(|a| a.len()), Some(2));
    }

    #[test]
    fn an_absent_node_is_added_whole() {
        assert_eq!(
            write_for(None, &want(NodeState::ComingUp), 5000),
            Some(Write::Add(NodeChange {
                state: Some(NodeState::ComingUp),
                name: Some("node2".into()),
                addrs: Some(vec!["10.0.0.2".parse().unwrap()]),
                lease_ms: Some(5000),
            }))
        );
    }
}
