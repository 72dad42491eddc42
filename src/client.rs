//! Requests to the afcluster family: read and change the node table.

use std::net::IpAddr;
use std::time::Duration;

use netlink_packet_core::{NetlinkHeader, ParseableParametrized, NLM_F_DUMP_INTR};
use netlink_packet_generic::GenlHeader;

use crate::error::{Error, Result};
use crate::message::{
    cmd, family_name, node_new_attrs, node_set_attrs, AfcMessage, ClusterAttr, EventAttr, NodeAttr,
};
use crate::netlink::genl::{self, FamilyInfo, GenlSocket};
use crate::netlink::Reply;
use crate::types::{ClusterInfo, Event, EventKind, Node, NodeChange, NodeReply};

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
    /// The table's instance (0 if empty and unknown).
    pub instance: u64,
    /// The table changed during the dump (NLM_F_DUMP_INTR, or messages
    /// with different seqs or instances): not a snapshot.
    pub interrupted: bool,
}

/// A consistent picture of the table: its nodes, and the seq, instance and
/// local node they hold at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    /// The seq of the last event reflected in `nodes`.
    pub seq: u64,
    /// The table's instance: pass it to `events_since` with `seq`.
    pub instance: u64,
    /// This machine's node id, 0 = not set.
    pub local_node: u32,
}

/// Decode one message of the reply to an afcluster request (sequence
/// `seq`, bytes `request`), as `Client` reads them: a kernel error becomes
/// the `Error` it means, naming the request's attribute it points at. None
/// when the message belongs to another request.
pub fn decode_reply<F>(
    header: &NetlinkHeader,
    bytes: &[u8],
    seq: u32,
    request: &[u8],
) -> Result<Option<Reply<F>>>
where
    F: ParseableParametrized<[u8], GenlHeader> + std::fmt::Debug,
{
    genl::decode_reply(header, bytes, seq).map_err(|e| Error::of_request(e, request))
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
        let family = genl::resolve_family(&mut sock, family_name())?.ok_or(Error::NotLoaded)?;
        Ok(Client { sock, family })
    }

    pub fn family(&self) -> &FamilyInfo {
        &self.family
    }

    fn call(&mut self, req: AfcMessage, dump: bool) -> Result<Vec<AfcMessage>> {
        Ok(self
            .call_with_headers(req, dump)?
            .into_iter()
            .map(|(_, m)| m)
            .collect())
    }

    fn call_with_headers(
        &mut self,
        req: AfcMessage,
        dump: bool,
    ) -> Result<Vec<(NetlinkHeader, AfcMessage)>> {
        let sent = self.sock.send(self.family.id, req, dump)?;
        genl::receive(&self.sock, &sent).map_err(|e| match Error::of_request(e, &sent.bytes) {
            // A family that vanished mid-session: the module was unloaded.
            Error::NotFound(k) if k.message.is_none() && k.attr.is_none() => Error::NotLoaded,
            e => e,
        })
    }

    /// A `do` request and its one reply.
    fn one<T>(&mut self, req: AfcMessage) -> Result<T>
    where
        for<'a> T: TryFrom<&'a AfcMessage, Error = netlink_packet_core::DecodeError>,
    {
        let replies = self.call(req, false)?;
        let msg = replies
            .first()
            .ok_or_else(|| Error::Decode("no reply to a request that has one".into()))?;
        Ok(T::try_from(msg)?)
    }

    pub fn info(&mut self) -> Result<ClusterInfo> {
        self.one(AfcMessage::cluster(cmd::CLUSTER_GET, vec![]))
    }

    pub fn node(&mut self, id: u32) -> Result<NodeReply> {
        self.one(AfcMessage::node(cmd::NODE_GET, vec![NodeAttr::Id(id)]))
    }

    /// The node owning an address (any of its addresses).
    pub fn node_by_addr(&mut self, addr: IpAddr) -> Result<NodeReply> {
        self.one(AfcMessage::node(cmd::NODE_GET, vec![NodeAttr::Addr(addr)]))
    }

    /// One dump, as the kernel sent it.
    pub fn dump(&mut self) -> Result<Dump> {
        let replies = self.call_with_headers(AfcMessage::node(cmd::NODE_GET, vec![]), true)?;
        let mut dump = Dump {
            nodes: Vec::with_capacity(replies.len()),
            seq: 0,
            instance: 0,
            interrupted: false,
        };
        for (i, (h, m)) in replies.iter().enumerate() {
            let r = NodeReply::try_from(m)?;
            dump.interrupted |= h.flags & NLM_F_DUMP_INTR != 0
                || (i > 0 && (r.seq != dump.seq || r.instance != dump.instance));
            dump.seq = r.seq;
            dump.instance = r.instance;
            dump.nodes.push(r.node);
        }
        Ok(dump)
    }

    /// A consistent snapshot of the table: dumps again while concurrent
    /// changes interrupt the dump. The local node is the one CLUSTER_GET
    /// reported just before the dump, brought up to the dump's seq with
    /// the LOCAL_NODE events between the two (from the history).
    pub fn snapshot(&mut self) -> Result<Snapshot> {
        for _ in 0..SNAPSHOT_TRIES {
            let before = self.info()?;
            let d = self.dump()?;
            if d.interrupted {
                continue;
            }
            let mut snap = Snapshot {
                nodes: Vec::new(),
                seq: before.seq,
                instance: before.instance,
                local_node: before.local_node,
            };
            if d.nodes.is_empty() {
                // An empty dump carries no SEQ: nothing may have come
                // between the two CLUSTER_GETs.
                let after = self.info()?;
                if (after.seq, after.instance) != (before.seq, before.instance) {
                    continue;
                }
            } else if d.instance != before.instance || d.seq < before.seq {
                // The table was replaced in between.
                continue;
            } else if d.seq > before.seq {
                let events = match self.events_since(before.seq, Some(before.instance)) {
                    Ok(evs) => evs,
                    Err(Error::HistoryGone(_) | Error::Stale(_)) => continue,
                    Err(e) => return Err(e),
                };
                for e in events.iter().take_while(|e| e.seq <= d.seq) {
                    if e.kind == EventKind::LocalNode {
                        snap.local_node = e.local_node.unwrap_or(0);
                    }
                }
                snap.seq = d.seq;
            }
            snap.nodes = d.nodes;
            return Ok(snap);
        }
        Err(Error::Busy(SNAPSHOT_TRIES))
    }

    /// Add a node; the reply is its description with the seq of its ADDED
    /// event.
    pub fn add(&mut self, id: u32, c: &NodeChange) -> Result<NodeReply> {
        self.one(AfcMessage::node(cmd::NODE_NEW, node_new_attrs(id, c)))
    }

    /// Change a node; also renews its lease. `c.addrs`, when given,
    /// replaces the address list. The reply is the node's new description
    /// with the seq of the last event the change caused (the table's seq
    /// if it changed nothing).
    pub fn set(&mut self, id: u32, c: &NodeChange) -> Result<NodeReply> {
        self.one(AfcMessage::node(cmd::NODE_SET, node_set_attrs(id, c)))
    }

    /// Remove a node; the reply is its last description with the seq of
    /// its REMOVED event.
    pub fn delete(&mut self, id: u32) -> Result<NodeReply> {
        self.one(AfcMessage::node(cmd::NODE_DEL, vec![NodeAttr::Id(id)]))
    }

    /// Set this machine's node id (0 = none); the reply is the table's
    /// summary after the change (a change is a LOCAL_NODE event).
    pub fn set_local(&mut self, id: u32) -> Result<ClusterInfo> {
        self.one(AfcMessage::cluster(
            cmd::CLUSTER_SET,
            vec![ClusterAttr::LocalNode(id)],
        ))
    }

    /// The events after `since`, in order, replayed from the kernel's
    /// history. With `instance` (the table's instance `since` was read
    /// from), `Error::Stale` when the table is another one now: its seqs
    /// are unrelated, dump it again. `Error::HistoryGone` when the history
    /// no longer reaches back to `since`, or `since` is newer than the
    /// table's seq.
    pub fn events_since(&mut self, since: u64, instance: Option<u64>) -> Result<Vec<Event>> {
        let mut attrs = vec![EventAttr::SinceSeq(since)];
        attrs.extend(instance.map(EventAttr::Instance));
        let replies = self
            .call(AfcMessage::event(cmd::EVENT_GET, attrs), true)
            .map_err(Error::of_event_get)?;
        replies.iter().map(|m| Ok(Event::try_from(m)?)).collect()
    }
}
