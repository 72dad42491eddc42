//! Requests to the afcluster family: read and change the node table.

use std::net::IpAddr;
use std::time::Duration;

use netlink_packet_core::NLM_F_DUMP_INTR;

use crate::error::{Error, Result};
use crate::message::{cmd, family_name, AfcMessage, Attr};
use crate::netlink::{self, FamilyInfo, GenlSocket};
use crate::types::{ClusterInfo, Event, Node, NodeChange, NodeReply};

/// How long a request waits for the kernel's answer. The kernel answers at
/// once; this only bounds a wait that should never happen.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How many interrupted dumps `snapshot` tolerates before giving up.
pub const SNAPSHOT_TRIES: u32 = 100;

/// A dump of the node table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub nodes: Vec<Node>,
    /// The table's sequence number when the dump was built (0 if empty and
    /// unknown: an empty table reports its seq through `info()`).
    pub seq: u64,
    /// The table changed during the dump (NLM_F_DUMP_INTR): not a snapshot.
    pub interrupted: bool,
}

/// A request socket. Requests are synchronous: the kernel answers
/// immediately, and events are read on a separate `EventListener` socket
/// so that replies and notifications never mix.
#[derive(Debug)]
pub struct Client {
    sock: GenlSocket,
    family: FamilyInfo,
}

impl Client {
    /// Open a socket and find the family; `Error::NotLoaded` without it.
    pub fn connect() -> Result<Client> {
        let mut sock = GenlSocket::new()?;
        sock.set_read_timeout(REQUEST_TIMEOUT)?;
        let family = netlink::resolve_family(&mut sock, family_name())?.ok_or(Error::NotLoaded)?;
        Ok(Client { sock, family })
    }

    pub fn family(&self) -> &FamilyInfo {
        &self.family
    }

    fn call(&mut self, cmd: u8, attrs: Vec<Attr>, dump: bool) -> Result<Vec<AfcMessage>> {
        Ok(self
            .call_with_headers(cmd, attrs, dump)?
            .into_iter()
            .map(|(_, m)| m)
            .collect())
    }

    fn call_with_headers(
        &mut self,
        cmd: u8,
        attrs: Vec<Attr>,
        dump: bool,
    ) -> Result<Vec<(netlink_packet_core::NetlinkHeader, AfcMessage)>> {
        let req = AfcMessage::new(cmd, attrs);
        netlink::transact(&mut self.sock, self.family.id, req, dump).map_err(|e| match e {
            // A family that vanished mid-session: the module was unloaded.
            Error::NotFound(k) if k.message.is_none() && k.attr.is_none() => Error::NotLoaded,
            e => e,
        })
    }

    fn one<T>(&mut self, cmd: u8, attrs: Vec<Attr>) -> Result<T>
    where
        for<'a> T: TryFrom<&'a AfcMessage, Error = netlink_packet_core::DecodeError>,
    {
        let replies = self.call(cmd, attrs, false)?;
        let msg = replies
            .first()
            .ok_or_else(|| Error::Decode("no reply to a request that has one".into()))?;
        Ok(T::try_from(msg)?)
    }

    pub fn info(&mut self) -> Result<ClusterInfo> {
        self.one(cmd::CLUSTER_GET, vec![])
    }

    pub fn node(&mut self, id: u32) -> Result<NodeReply> {
        self.one(cmd::NODE_GET, vec![Attr::NodeId(id)])
    }

    /// The node owning an address (any of its addresses).
    pub fn node_by_addr(&mut self, addr: IpAddr) -> Result<NodeReply> {
        self.one(cmd::NODE_GET, vec![Attr::NodeAddr(addr)])
    }

    /// One dump, as the kernel sent it.
    pub fn dump(&mut self) -> Result<Dump> {
        let replies = self.call_with_headers(cmd::NODE_GET, vec![], true)?;
        let mut dump = Dump {
            nodes: Vec::with_capacity(replies.len()),
            seq: 0,
            interrupted: false,
        };
        for (h, m) in &replies {
            let r = NodeReply::try_from(m)?;
            dump.interrupted |=
                h.flags & NLM_F_DUMP_INTR != 0 || (dump.seq != 0 && r.seq != dump.seq);
            dump.seq = r.seq;
            dump.nodes.push(r.node);
        }
        Ok(dump)
    }

    /// A consistent snapshot of the table and its sequence number: dumps
    /// again while concurrent changes interrupt the dump.
    pub fn snapshot(&mut self) -> Result<(Vec<Node>, u64)> {
        for _ in 0..SNAPSHOT_TRIES {
            let before = self.info()?.seq;
            let d = self.dump()?;
            if d.interrupted {
                continue;
            }
            if !d.nodes.is_empty() {
                return Ok((d.nodes, d.seq));
            }
            // An empty dump carries no SEQ: nothing may have come between.
            if self.info()?.seq == before {
                return Ok((d.nodes, before));
            }
        }
        Err(Error::Busy(SNAPSHOT_TRIES))
    }

    pub fn add(&mut self, id: u32, c: &NodeChange) -> Result<()> {
        self.call(cmd::NODE_NEW, crate::message::change_attrs(id, c), false)
            .map(drop)
    }

    /// Change a node; also renews its lease.
    pub fn set(&mut self, id: u32, c: &NodeChange) -> Result<()> {
        self.call(cmd::NODE_SET, crate::message::change_attrs(id, c), false)
            .map(drop)
    }

    pub fn delete(&mut self, id: u32) -> Result<()> {
        self.call(cmd::NODE_DEL, vec![Attr::NodeId(id)], false)
            .map(drop)
    }

    pub fn set_local(&mut self, id: u32) -> Result<()> {
        self.call(cmd::CLUSTER_SET, vec![Attr::LocalNode(id)], false)
            .map(drop)
    }

    /// The events after `since`, in order, replayed from the kernel's
    /// history; `Error::HistoryGone` when it no longer reaches back.
    pub fn events_since(&mut self, since: u64) -> Result<Vec<Event>> {
        let replies = self
            .call(cmd::EVENT_GET, vec![Attr::SinceSeq(since)], true)
            .map_err(|e| match e {
                Error::Kernel(k) if k.errno == libc::ERANGE => Error::HistoryGone(k),
                e => e,
            })?;
        replies.iter().map(|m| Ok(Event::try_from(m)?)).collect()
    }
}
