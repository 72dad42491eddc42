//! The afcluster messages on the wire: attributes, and their encoding and
//! decoding with `netlink-packet-core`'s NLA machinery, framed as generic
//! netlink messages by `netlink-packet-generic`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    parse_string, parse_u32, parse_u64, parse_u8, DecodeError, DefaultNla, Emitable, Nla,
    NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::types::{Cause, ClusterInfo, Event, EventKind, Node, NodeReply, NodeState};
use crate::uapi;

/// Attribute numbers, as u16, named after the header's AFCLUSTER_A_*.
pub mod attr {
    use crate::uapi;
    pub const NODE_ID: u16 = uapi::AFCLUSTER_A_NODE_ID as u16;
    pub const NODE_STATE: u16 = uapi::AFCLUSTER_A_NODE_STATE as u16;
    pub const NODE_NAME: u16 = uapi::AFCLUSTER_A_NODE_NAME as u16;
    pub const NODE_ADDR: u16 = uapi::AFCLUSTER_A_NODE_ADDR as u16;
    pub const NODE_LEASE_MS: u16 = uapi::AFCLUSTER_A_NODE_LEASE_MS as u16;
    pub const EVENT: u16 = uapi::AFCLUSTER_A_EVENT as u16;
    pub const OLD_STATE: u16 = uapi::AFCLUSTER_A_OLD_STATE as u16;
    pub const CAUSE: u16 = uapi::AFCLUSTER_A_CAUSE as u16;
    pub const SEQ: u16 = uapi::AFCLUSTER_A_SEQ as u16;
    pub const TIMESTAMP_NS: u16 = uapi::AFCLUSTER_A_TIMESTAMP_NS as u16;
    pub const SINCE_SEQ: u16 = uapi::AFCLUSTER_A_SINCE_SEQ as u16;
    pub const MAX_NODES: u16 = uapi::AFCLUSTER_A_MAX_NODES as u16;
    pub const LOCAL_NODE: u16 = uapi::AFCLUSTER_A_LOCAL_NODE as u16;
    pub const NODE_COUNT: u16 = uapi::AFCLUSTER_A_NODE_COUNT as u16;
    pub const UP_COUNT: u16 = uapi::AFCLUSTER_A_UP_COUNT as u16;
    pub const HISTORY_LEN: u16 = uapi::AFCLUSTER_A_HISTORY_LEN as u16;
    pub const OLDEST_SEQ: u16 = uapi::AFCLUSTER_A_OLDEST_SEQ as u16;
}

/// Command numbers, as u8, named after the header's AFCLUSTER_CMD_*.
pub mod cmd {
    use crate::uapi;
    pub const CLUSTER_GET: u8 = uapi::AFCLUSTER_CMD_CLUSTER_GET as u8;
    pub const CLUSTER_SET: u8 = uapi::AFCLUSTER_CMD_CLUSTER_SET as u8;
    pub const NODE_GET: u8 = uapi::AFCLUSTER_CMD_NODE_GET as u8;
    pub const NODE_NEW: u8 = uapi::AFCLUSTER_CMD_NODE_NEW as u8;
    pub const NODE_SET: u8 = uapi::AFCLUSTER_CMD_NODE_SET as u8;
    pub const NODE_DEL: u8 = uapi::AFCLUSTER_CMD_NODE_DEL as u8;
    pub const EVENT_GET: u8 = uapi::AFCLUSTER_CMD_EVENT_GET as u8;
    pub const NODE_EVENT: u8 = uapi::AFCLUSTER_CMD_NODE_EVENT as u8;
}

/// The family name, from the header's `AFCLUSTER_GENL_NAME`.
pub fn family_name() -> &'static str {
    c_str(uapi::AFCLUSTER_GENL_NAME)
}

/// The multicast group name, from the header's `AFCLUSTER_MCGRP_EVENTS`.
pub fn events_group_name() -> &'static str {
    c_str(uapi::AFCLUSTER_MCGRP_EVENTS)
}

fn c_str(bytes: &'static [u8]) -> &'static str {
    std::ffi::CStr::from_bytes_with_nul(bytes)
        .ok()
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default()
}

/// One attribute. Unknown ones (a newer module, PAD) are kept as `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    NodeId(u32),
    NodeState(u8),
    NodeName(String),
    NodeAddr(IpAddr),
    NodeLeaseMs(u32),
    Event(u8),
    OldState(u8),
    Cause(u8),
    Seq(u64),
    TimestampNs(u64),
    SinceSeq(u64),
    MaxNodes(u32),
    LocalNode(u32),
    NodeCount(u32),
    UpCount(u32),
    HistoryLen(u32),
    OldestSeq(u64),
    Other(DefaultNla),
}

impl Nla for Attr {
    fn value_len(&self) -> usize {
        use Attr::*;
        match self {
            NodeState(_) | Event(_) | OldState(_) | Cause(_) => 1,
            NodeId(_) | NodeLeaseMs(_) | MaxNodes(_) | LocalNode(_) | NodeCount(_) | UpCount(_)
            | HistoryLen(_) => 4,
            Seq(_) | TimestampNs(_) | SinceSeq(_) | OldestSeq(_) => 8,
            NodeName(s) => s.len() + 1,
            NodeAddr(IpAddr::V4(_)) => 4,
            NodeAddr(IpAddr::V6(_)) => 16,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use Attr::*;
        match self {
            NodeId(_) => attr::NODE_ID,
            NodeState(_) => attr::NODE_STATE,
            NodeName(_) => attr::NODE_NAME,
            NodeAddr(_) => attr::NODE_ADDR,
            NodeLeaseMs(_) => attr::NODE_LEASE_MS,
            Event(_) => attr::EVENT,
            OldState(_) => attr::OLD_STATE,
            Cause(_) => attr::CAUSE,
            Seq(_) => attr::SEQ,
            TimestampNs(_) => attr::TIMESTAMP_NS,
            SinceSeq(_) => attr::SINCE_SEQ,
            MaxNodes(_) => attr::MAX_NODES,
            LocalNode(_) => attr::LOCAL_NODE,
            NodeCount(_) => attr::NODE_COUNT,
            UpCount(_) => attr::UP_COUNT,
            HistoryLen(_) => attr::HISTORY_LEN,
            OldestSeq(_) => attr::OLDEST_SEQ,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        use Attr::*;
        match self {
            NodeState(v) | Event(v) | OldState(v) | Cause(v) => buf[0] = *v,
            NodeId(v) | NodeLeaseMs(v) | MaxNodes(v) | LocalNode(v) | NodeCount(v) | UpCount(v)
            | HistoryLen(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Seq(v) | TimestampNs(v) | SinceSeq(v) | OldestSeq(v) => {
                buf[..8].copy_from_slice(&v.to_ne_bytes())
            }
            NodeName(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            NodeAddr(IpAddr::V4(a)) => buf[..4].copy_from_slice(&a.octets()),
            NodeAddr(IpAddr::V6(a)) => buf[..16].copy_from_slice(&a.octets()),
            Other(nla) => nla.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for Attr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let kind = buf.kind();
        let what = || format!("attribute {kind} ({} bytes)", v.len());
        let exact = |n: usize| -> Result<(), DecodeError> {
            if v.len() == n {
                Ok(())
            } else {
                Err(format!("{}: expected {n} bytes", what()).into())
            }
        };
        Ok(match kind {
            attr::NODE_ID => Attr::NodeId(parse_u32(v)?),
            attr::NODE_STATE => Attr::NodeState(parse_u8(v)?),
            attr::NODE_NAME => Attr::NodeName(parse_string(v)?),
            attr::NODE_ADDR => Attr::NodeAddr(match v.len() {
                4 => IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3])),
                16 => {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(v);
                    IpAddr::V6(Ipv6Addr::from(o))
                }
                _ => return Err(format!("{}: an address is 4 or 16 bytes", what()).into()),
            }),
            attr::NODE_LEASE_MS => Attr::NodeLeaseMs(parse_u32(v)?),
            attr::EVENT => Attr::Event(parse_u8(v)?),
            attr::OLD_STATE => Attr::OldState(parse_u8(v)?),
            attr::CAUSE => Attr::Cause(parse_u8(v)?),
            attr::SEQ | attr::TIMESTAMP_NS | attr::SINCE_SEQ | attr::OLDEST_SEQ => {
                exact(8)?;
                let x = parse_u64(v)?;
                match kind {
                    attr::SEQ => Attr::Seq(x),
                    attr::TIMESTAMP_NS => Attr::TimestampNs(x),
                    attr::SINCE_SEQ => Attr::SinceSeq(x),
                    _ => Attr::OldestSeq(x),
                }
            }
            attr::MAX_NODES
            | attr::LOCAL_NODE
            | attr::NODE_COUNT
            | attr::UP_COUNT
            | attr::HISTORY_LEN => {
                exact(4)?;
                let x = parse_u32(v)?;
                match kind {
                    attr::MAX_NODES => Attr::MaxNodes(x),
                    attr::LOCAL_NODE => Attr::LocalNode(x),
                    attr::NODE_COUNT => Attr::NodeCount(x),
                    attr::UP_COUNT => Attr::UpCount(x),
                    _ => Attr::HistoryLen(x),
                }
            }
            _ => Attr::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// The payload of an afcluster generic-netlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfcMessage {
    pub cmd: u8,
    pub attrs: Vec<Attr>,
}

impl AfcMessage {
    pub fn new(cmd: u8, attrs: Vec<Attr>) -> Self {
        AfcMessage { cmd, attrs }
    }
}

impl GenlFamily for AfcMessage {
    fn family_name() -> &'static str {
        family_name()
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        uapi::AFCLUSTER_GENL_VERSION as u8
    }
}

impl Emitable for AfcMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for AfcMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let attrs = NlasIterator::new(buf)
            .map(|nla| nla.and_then(|nla| Attr::parse(&nla)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AfcMessage {
            cmd: header.cmd,
            attrs,
        })
    }
}

/// The fields of one decoded message, for building the typed values.
#[derive(Default)]
struct Fields {
    id: Option<u32>,
    state: Option<u8>,
    name: Option<String>,
    addrs: Vec<IpAddr>,
    lease_ms: Option<u32>,
    event: Option<u8>,
    old_state: Option<u8>,
    cause: Option<u8>,
    seq: Option<u64>,
    timestamp_ns: Option<u64>,
    max_nodes: Option<u32>,
    local_node: Option<u32>,
    node_count: Option<u32>,
    up_count: Option<u32>,
    history_len: Option<u32>,
    oldest_seq: Option<u64>,
}

impl Fields {
    fn of(msg: &AfcMessage) -> Fields {
        let mut f = Fields::default();
        for a in &msg.attrs {
            match a {
                Attr::NodeId(v) => f.id = Some(*v),
                Attr::NodeState(v) => f.state = Some(*v),
                Attr::NodeName(v) => f.name = Some(v.clone()),
                Attr::NodeAddr(v) => f.addrs.push(*v),
                Attr::NodeLeaseMs(v) => f.lease_ms = Some(*v),
                Attr::Event(v) => f.event = Some(*v),
                Attr::OldState(v) => f.old_state = Some(*v),
                Attr::Cause(v) => f.cause = Some(*v),
                Attr::Seq(v) => f.seq = Some(*v),
                Attr::TimestampNs(v) => f.timestamp_ns = Some(*v),
                Attr::MaxNodes(v) => f.max_nodes = Some(*v),
                Attr::LocalNode(v) => f.local_node = Some(*v),
                Attr::NodeCount(v) => f.node_count = Some(*v),
                Attr::UpCount(v) => f.up_count = Some(*v),
                Attr::HistoryLen(v) => f.history_len = Some(*v),
                Attr::OldestSeq(v) => f.oldest_seq = Some(*v),
                Attr::SinceSeq(_) | Attr::Other(_) => {}
            }
        }
        f
    }
}

fn need<T>(v: Option<T>, name: &str) -> Result<T, DecodeError> {
    v.ok_or_else(|| DecodeError::from(format!("reply lacks the {name} attribute")))
}

fn state(raw: u8) -> Result<NodeState, DecodeError> {
    NodeState::from_raw(raw).ok_or_else(|| format!("unknown node state {raw}").into())
}

fn node_of(f: &mut Fields) -> Result<Node, DecodeError> {
    Ok(Node {
        id: need(f.id, "NODE_ID")?,
        state: state(need(f.state, "NODE_STATE")?)?,
        name: f.name.take().unwrap_or_default(),
        addrs: std::mem::take(&mut f.addrs),
        lease_ms: f.lease_ms.unwrap_or(0),
    })
}

impl TryFrom<&AfcMessage> for NodeReply {
    type Error = DecodeError;
    fn try_from(msg: &AfcMessage) -> Result<Self, DecodeError> {
        let mut f = Fields::of(msg);
        Ok(NodeReply {
            node: node_of(&mut f)?,
            seq: need(f.seq, "SEQ")?,
        })
    }
}

impl TryFrom<&AfcMessage> for Event {
    type Error = DecodeError;
    fn try_from(msg: &AfcMessage) -> Result<Self, DecodeError> {
        if msg.cmd != cmd::NODE_EVENT {
            return Err(format!("command {} is not NODE_EVENT", msg.cmd).into());
        }
        let mut f = Fields::of(msg);
        let raw_kind = need(f.event, "EVENT")?;
        let raw_cause = need(f.cause, "CAUSE")?;
        Ok(Event {
            seq: need(f.seq, "SEQ")?,
            kind: EventKind::from_raw(raw_kind)
                .ok_or_else(|| DecodeError::from(format!("unknown event {raw_kind}")))?,
            cause: Cause::from_raw(raw_cause)
                .ok_or_else(|| DecodeError::from(format!("unknown cause {raw_cause}")))?,
            timestamp_ns: need(f.timestamp_ns, "TIMESTAMP_NS")?,
            old_state: f.old_state.map(state).transpose()?,
            node: node_of(&mut f)?,
        })
    }
}

impl TryFrom<&AfcMessage> for ClusterInfo {
    type Error = DecodeError;
    fn try_from(msg: &AfcMessage) -> Result<Self, DecodeError> {
        let f = Fields::of(msg);
        Ok(ClusterInfo {
            max_nodes: need(f.max_nodes, "MAX_NODES")?,
            local_node: need(f.local_node, "LOCAL_NODE")?,
            node_count: need(f.node_count, "NODE_COUNT")?,
            up_count: need(f.up_count, "UP_COUNT")?,
            seq: need(f.seq, "SEQ")?,
            oldest_seq: need(f.oldest_seq, "OLDEST_SEQ")?,
            history_len: need(f.history_len, "HISTORY_LEN")?,
        })
    }
}

/// The attributes describing a node change in NODE_NEW / NODE_SET.
pub fn change_attrs(id: u32, c: &crate::types::NodeChange) -> Vec<Attr> {
    let mut attrs = vec![Attr::NodeId(id)];
    if let Some(s) = c.state {
        attrs.push(Attr::NodeState(s.to_raw()));
    }
    if let Some(n) = &c.name {
        attrs.push(Attr::NodeName(n.clone()));
    }
    if let Some(addrs) = &c.addrs {
        attrs.extend(addrs.iter().map(|a| Attr::NodeAddr(*a)));
    }
    if let Some(l) = c.lease_ms {
        attrs.push(Attr::NodeLeaseMs(l));
    }
    attrs
}
