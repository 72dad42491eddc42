//! The afcluster messages on the wire: the four attribute sets of the spec
//! (addr, node, cluster, event), their encoding and decoding with
//! `netlink-packet-core`'s NLA machinery (an address is an `addr` nest in a
//! node, a node an `event-node` nest in an event), framed as generic
//! netlink messages by `netlink-packet-generic`.
//!
//! Decoding is strict about what it knows and lenient about what it does
//! not: an attribute of a known type with the wrong size, an address nest
//! without exactly one address, an enum value out of range are errors; an
//! unknown attribute (a newer module, PAD) is kept as `Other` and skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    parse_string, parse_u32, parse_u64, DecodeError, DefaultNla, Emitable, NetlinkBuffer, Nla,
    NlaBuffer, NlasIterator, Parseable, ParseableParametrized, NLA_TYPE_MASK,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::netlink::genl::{GENL_HDRLEN, GENL_ID_CTRL};
use crate::netlink::NLMSG_HDRLEN;
use crate::types::{Cause, ClusterInfo, Event, EventKind, Node, NodeChange, NodeReply, NodeState};
use crate::uapi;

/// Attribute numbers, as u16, named after the header's AFCLUSTER_A_*, one
/// module per attribute set.
pub mod attr {
    /// `AFCLUSTER_A_ADDR_*`: one node address.
    pub mod addr {
        use crate::uapi;
        pub const IPV4: u16 = uapi::AFCLUSTER_A_ADDR_IPV4 as u16;
        pub const IPV6: u16 = uapi::AFCLUSTER_A_ADDR_IPV6 as u16;
        pub const MAX: u16 = uapi::AFCLUSTER_A_ADDR_MAX as u16;
    }

    /// `AFCLUSTER_A_NODE_*`: one node (NODE_* requests and replies).
    pub mod node {
        use crate::uapi;
        pub const ID: u16 = uapi::AFCLUSTER_A_NODE_ID as u16;
        pub const STATE: u16 = uapi::AFCLUSTER_A_NODE_STATE as u16;
        pub const NAME: u16 = uapi::AFCLUSTER_A_NODE_NAME as u16;
        pub const ADDR: u16 = uapi::AFCLUSTER_A_NODE_ADDR as u16;
        pub const LEASE_MS: u16 = uapi::AFCLUSTER_A_NODE_LEASE_MS as u16;
        pub const REPLACE_ADDRS: u16 = uapi::AFCLUSTER_A_NODE_REPLACE_ADDRS as u16;
        pub const SEQ: u16 = uapi::AFCLUSTER_A_NODE_SEQ as u16;
        pub const INSTANCE: u16 = uapi::AFCLUSTER_A_NODE_INSTANCE as u16;
        pub const PAD: u16 = uapi::AFCLUSTER_A_NODE_PAD as u16;
        pub const MAX: u16 = uapi::AFCLUSTER_A_NODE_MAX as u16;
    }

    /// `AFCLUSTER_A_CLUSTER_*`: the table as a whole (CLUSTER_*).
    pub mod cluster {
        use crate::uapi;
        pub const INSTANCE: u16 = uapi::AFCLUSTER_A_CLUSTER_INSTANCE as u16;
        pub const MAX_NODES: u16 = uapi::AFCLUSTER_A_CLUSTER_MAX_NODES as u16;
        pub const LOCAL_NODE: u16 = uapi::AFCLUSTER_A_CLUSTER_LOCAL_NODE as u16;
        pub const NODE_COUNT: u16 = uapi::AFCLUSTER_A_CLUSTER_NODE_COUNT as u16;
        pub const UP_COUNT: u16 = uapi::AFCLUSTER_A_CLUSTER_UP_COUNT as u16;
        pub const SEQ: u16 = uapi::AFCLUSTER_A_CLUSTER_SEQ as u16;
        pub const OLDEST_SEQ: u16 = uapi::AFCLUSTER_A_CLUSTER_OLDEST_SEQ as u16;
        pub const HISTORY_LEN: u16 = uapi::AFCLUSTER_A_CLUSTER_HISTORY_LEN as u16;
        pub const PAD: u16 = uapi::AFCLUSTER_A_CLUSTER_PAD as u16;
        pub const MAX: u16 = uapi::AFCLUSTER_A_CLUSTER_MAX as u16;
    }

    /// `AFCLUSTER_A_EVENT_*`: one change of the table (EVENT_*).
    pub mod event {
        use crate::uapi;
        pub const KIND: u16 = uapi::AFCLUSTER_A_EVENT_KIND as u16;
        pub const SEQ: u16 = uapi::AFCLUSTER_A_EVENT_SEQ as u16;
        pub const TIMESTAMP_NS: u16 = uapi::AFCLUSTER_A_EVENT_TIMESTAMP_NS as u16;
        pub const CAUSE: u16 = uapi::AFCLUSTER_A_EVENT_CAUSE as u16;
        pub const OLD_STATE: u16 = uapi::AFCLUSTER_A_EVENT_OLD_STATE as u16;
        pub const INSTANCE: u16 = uapi::AFCLUSTER_A_EVENT_INSTANCE as u16;
        pub const NODE: u16 = uapi::AFCLUSTER_A_EVENT_NODE as u16;
        pub const LOCAL_NODE: u16 = uapi::AFCLUSTER_A_EVENT_LOCAL_NODE as u16;
        pub const SINCE_SEQ: u16 = uapi::AFCLUSTER_A_EVENT_SINCE_SEQ as u16;
        pub const PAD: u16 = uapi::AFCLUSTER_A_EVENT_PAD as u16;
        pub const MAX: u16 = uapi::AFCLUSTER_A_EVENT_MAX as u16;
    }

    // Every attribute type fits the 14 bits netlink leaves for it.
    const _: () = assert!(
        (addr::MAX as u32) < 0x4000
            && (node::MAX as u32) < 0x4000
            && (cluster::MAX as u32) < 0x4000
            && (event::MAX as u32) < 0x4000
    );
}

/// Command numbers, as u8, named after the header's AFCLUSTER_CMD_*. A
/// reply carries its request's command; EVENT_NTF is the multicast.
pub mod cmd {
    use crate::uapi;
    pub const CLUSTER_GET: u8 = uapi::AFCLUSTER_CMD_CLUSTER_GET as u8;
    pub const CLUSTER_SET: u8 = uapi::AFCLUSTER_CMD_CLUSTER_SET as u8;
    pub const NODE_GET: u8 = uapi::AFCLUSTER_CMD_NODE_GET as u8;
    pub const NODE_NEW: u8 = uapi::AFCLUSTER_CMD_NODE_NEW as u8;
    pub const NODE_SET: u8 = uapi::AFCLUSTER_CMD_NODE_SET as u8;
    pub const NODE_DEL: u8 = uapi::AFCLUSTER_CMD_NODE_DEL as u8;
    pub const EVENT_GET: u8 = uapi::AFCLUSTER_CMD_EVENT_GET as u8;
    pub const EVENT_NTF: u8 = uapi::AFCLUSTER_CMD_EVENT_NTF as u8;

    const _: () = assert!(uapi::AFCLUSTER_CMD_MAX < 256);
}

/// The family name, from the header's `AFCLUSTER_FAMILY_NAME`.
pub fn family_name() -> &'static str {
    c_str(uapi::AFCLUSTER_FAMILY_NAME)
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

// ---------------------------------------------------------------------------
// Value codecs, with the attribute's name in every error.

fn u32_value(what: &str, v: &[u8]) -> Result<u32, DecodeError> {
    if v.len() != 4 {
        return Err(format!("{what}: {} bytes, a u32 takes 4", v.len()).into());
    }
    parse_u32(v)
}

fn u64_value(what: &str, v: &[u8]) -> Result<u64, DecodeError> {
    if v.len() != 8 {
        return Err(format!("{what}: {} bytes, a u64 takes 8", v.len()).into());
    }
    parse_u64(v)
}

fn string_value(what: &str, v: &[u8]) -> Result<String, DecodeError> {
    parse_string(v).map_err(|_| DecodeError::from(format!("{what}: not UTF-8")))
}

fn flag_value(what: &str, v: &[u8]) -> Result<(), DecodeError> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: a flag has no payload, this one has {} bytes",
            v.len()
        )
        .into())
    }
}

/// The attributes nested in `v`, each parsed by `P`.
fn nested<P>(what: &str, v: &[u8]) -> Result<Vec<P>, DecodeError>
where
    for<'a> P: Parseable<NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(v)
        .map(|nla| {
            nla.and_then(|nla| P::parse(&nla))
                .map_err(|e| DecodeError::from(format!("in {what}: {e}")))
        })
        .collect()
}

fn emit_nested<T: Nla>(attrs: &[T], buf: &mut [u8]) {
    attrs.emit(buf)
}

fn nested_len<T: Nla>(attrs: &[T]) -> usize {
    attrs.buffer_len()
}

// ---------------------------------------------------------------------------
// addr

/// One attribute of an `addr` nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrAttr {
    /// `ADDR_IPV4`: a u32 in network order, i.e. the address's octets.
    Ipv4(Ipv4Addr),
    /// `ADDR_IPV6`: 16 bytes, network order.
    Ipv6(Ipv6Addr),
    Other(DefaultNla),
}

impl AddrAttr {
    pub fn of(a: IpAddr) -> AddrAttr {
        match a {
            IpAddr::V4(a) => AddrAttr::Ipv4(a),
            IpAddr::V6(a) => AddrAttr::Ipv6(a),
        }
    }

    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            AddrAttr::Ipv4(a) => Some(IpAddr::V4(*a)),
            AddrAttr::Ipv6(a) => Some(IpAddr::V6(*a)),
            AddrAttr::Other(_) => None,
        }
    }
}

impl Nla for AddrAttr {
    fn value_len(&self) -> usize {
        match self {
            AddrAttr::Ipv4(_) => 4,
            AddrAttr::Ipv6(_) => 16,
            AddrAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            AddrAttr::Ipv4(_) => attr::addr::IPV4,
            AddrAttr::Ipv6(_) => attr::addr::IPV6,
            AddrAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            AddrAttr::Ipv4(a) => buf[..4].copy_from_slice(&a.octets()),
            AddrAttr::Ipv6(a) => buf[..16].copy_from_slice(&a.octets()),
            AddrAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for AddrAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            attr::addr::IPV4 => {
                let o: [u8; 4] = v.try_into().map_err(|_| {
                    DecodeError::from(format!(
                        "ADDR_IPV4: {} bytes, an IPv4 address takes 4",
                        v.len()
                    ))
                })?;
                AddrAttr::Ipv4(Ipv4Addr::from(o))
            }
            attr::addr::IPV6 => {
                let o: [u8; 16] = v.try_into().map_err(|_| {
                    DecodeError::from(format!(
                        "ADDR_IPV6: {} bytes, an IPv6 address takes 16",
                        v.len()
                    ))
                })?;
                AddrAttr::Ipv6(Ipv6Addr::from(o))
            }
            _ => AddrAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// The one address of an `addr` nest (unknown attributes beside it are
/// skipped; none or two addresses is an error).
pub fn addr_of_nest(nest: &[AddrAttr]) -> Result<IpAddr, DecodeError> {
    let mut ips = nest.iter().filter_map(AddrAttr::ip);
    match (ips.next(), ips.next()) {
        (Some(a), None) => Ok(a),
        (None, _) => Err("an address nest holds no IPv4 or IPv6 address".into()),
        (Some(a), Some(b)) => {
            Err(format!("an address nest holds two addresses ({a} and {b}), not one").into())
        }
    }
}

// ---------------------------------------------------------------------------
// node

/// One attribute of the `node` set (and of the `event-node` nest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeAttr {
    Id(u32),
    /// The raw `enum afcluster_node_state`.
    State(u32),
    Name(String),
    /// An `addr` nest holding this one address.
    Addr(IpAddr),
    LeaseMs(u32),
    /// NODE_SET: the ADDR nests given replace the whole list.
    ReplaceAddrs,
    Seq(u64),
    Instance(u64),
    Other(DefaultNla),
}

impl NodeAttr {
    fn addr_nest(a: &IpAddr) -> [AddrAttr; 1] {
        [AddrAttr::of(*a)]
    }
}

impl Nla for NodeAttr {
    fn value_len(&self) -> usize {
        use NodeAttr::*;
        match self {
            Id(_) | State(_) | LeaseMs(_) => 4,
            Seq(_) | Instance(_) => 8,
            ReplaceAddrs => 0,
            Name(s) => s.len() + 1,
            Addr(a) => nested_len(&NodeAttr::addr_nest(a)),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use NodeAttr::*;
        match self {
            Id(_) => attr::node::ID,
            State(_) => attr::node::STATE,
            Name(_) => attr::node::NAME,
            Addr(_) => attr::node::ADDR,
            LeaseMs(_) => attr::node::LEASE_MS,
            ReplaceAddrs => attr::node::REPLACE_ADDRS,
            Seq(_) => attr::node::SEQ,
            Instance(_) => attr::node::INSTANCE,
            Other(nla) => nla.kind(),
        }
    }

    fn is_nested(&self) -> bool {
        match self {
            NodeAttr::Addr(_) => true,
            NodeAttr::Other(nla) => nla.is_nested(),
            _ => false,
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        use NodeAttr::*;
        match self {
            Id(v) | State(v) | LeaseMs(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Seq(v) | Instance(v) => buf[..8].copy_from_slice(&v.to_ne_bytes()),
            ReplaceAddrs => {}
            Name(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Addr(a) => emit_nested(&NodeAttr::addr_nest(a), buf),
            Other(nla) => nla.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for NodeAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            attr::node::ID => NodeAttr::Id(u32_value("NODE_ID", v)?),
            attr::node::STATE => NodeAttr::State(u32_value("NODE_STATE", v)?),
            attr::node::NAME => NodeAttr::Name(string_value("NODE_NAME", v)?),
            attr::node::ADDR => {
                let nest: Vec<AddrAttr> = nested("NODE_ADDR", v)?;
                NodeAttr::Addr(
                    addr_of_nest(&nest)
                        .map_err(|e| DecodeError::from(format!("NODE_ADDR: {e}")))?,
                )
            }
            attr::node::LEASE_MS => NodeAttr::LeaseMs(u32_value("NODE_LEASE_MS", v)?),
            attr::node::REPLACE_ADDRS => {
                flag_value("NODE_REPLACE_ADDRS", v)?;
                NodeAttr::ReplaceAddrs
            }
            attr::node::SEQ => NodeAttr::Seq(u64_value("NODE_SEQ", v)?),
            attr::node::INSTANCE => NodeAttr::Instance(u64_value("NODE_INSTANCE", v)?),
            _ => NodeAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

// ---------------------------------------------------------------------------
// cluster

/// One attribute of the `cluster` set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterAttr {
    Instance(u64),
    MaxNodes(u32),
    LocalNode(u32),
    NodeCount(u32),
    UpCount(u32),
    Seq(u64),
    OldestSeq(u64),
    HistoryLen(u32),
    Other(DefaultNla),
}

impl Nla for ClusterAttr {
    fn value_len(&self) -> usize {
        use ClusterAttr::*;
        match self {
            MaxNodes(_) | LocalNode(_) | NodeCount(_) | UpCount(_) | HistoryLen(_) => 4,
            Instance(_) | Seq(_) | OldestSeq(_) => 8,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use ClusterAttr::*;
        match self {
            Instance(_) => attr::cluster::INSTANCE,
            MaxNodes(_) => attr::cluster::MAX_NODES,
            LocalNode(_) => attr::cluster::LOCAL_NODE,
            NodeCount(_) => attr::cluster::NODE_COUNT,
            UpCount(_) => attr::cluster::UP_COUNT,
            Seq(_) => attr::cluster::SEQ,
            OldestSeq(_) => attr::cluster::OLDEST_SEQ,
            HistoryLen(_) => attr::cluster::HISTORY_LEN,
            Other(nla) => nla.kind(),
        }
    }

    fn is_nested(&self) -> bool {
        matches!(self, ClusterAttr::Other(nla) if nla.is_nested())
    }

    fn emit_value(&self, buf: &mut [u8]) {
        use ClusterAttr::*;
        match self {
            MaxNodes(v) | LocalNode(v) | NodeCount(v) | UpCount(v) | HistoryLen(v) => {
                buf[..4].copy_from_slice(&v.to_ne_bytes())
            }
            Instance(v) | Seq(v) | OldestSeq(v) => buf[..8].copy_from_slice(&v.to_ne_bytes()),
            Other(nla) => nla.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for ClusterAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            attr::cluster::INSTANCE => ClusterAttr::Instance(u64_value("CLUSTER_INSTANCE", v)?),
            attr::cluster::MAX_NODES => ClusterAttr::MaxNodes(u32_value("CLUSTER_MAX_NODES", v)?),
            attr::cluster::LOCAL_NODE => {
                ClusterAttr::LocalNode(u32_value("CLUSTER_LOCAL_NODE", v)?)
            }
            attr::cluster::NODE_COUNT => {
                ClusterAttr::NodeCount(u32_value("CLUSTER_NODE_COUNT", v)?)
            }
            attr::cluster::UP_COUNT => ClusterAttr::UpCount(u32_value("CLUSTER_UP_COUNT", v)?),
            attr::cluster::SEQ => ClusterAttr::Seq(u64_value("CLUSTER_SEQ", v)?),
            attr::cluster::OLDEST_SEQ => {
                ClusterAttr::OldestSeq(u64_value("CLUSTER_OLDEST_SEQ", v)?)
            }
            attr::cluster::HISTORY_LEN => {
                ClusterAttr::HistoryLen(u32_value("CLUSTER_HISTORY_LEN", v)?)
            }
            _ => ClusterAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

// ---------------------------------------------------------------------------
// event

/// One attribute of the `event` set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventAttr {
    /// The raw `enum afcluster_event_kind`.
    Kind(u32),
    Seq(u64),
    TimestampNs(u64),
    /// The raw `enum afcluster_cause`.
    Cause(u32),
    /// The raw `enum afcluster_node_state`.
    OldState(u32),
    Instance(u64),
    /// The `event-node` nest: the node's description.
    Node(Vec<NodeAttr>),
    LocalNode(u32),
    /// EVENT_GET request.
    SinceSeq(u64),
    Other(DefaultNla),
}

impl Nla for EventAttr {
    fn value_len(&self) -> usize {
        use EventAttr::*;
        match self {
            Kind(_) | Cause(_) | OldState(_) | LocalNode(_) => 4,
            Seq(_) | TimestampNs(_) | Instance(_) | SinceSeq(_) => 8,
            Node(attrs) => nested_len(attrs),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use EventAttr::*;
        match self {
            Kind(_) => attr::event::KIND,
            Seq(_) => attr::event::SEQ,
            TimestampNs(_) => attr::event::TIMESTAMP_NS,
            Cause(_) => attr::event::CAUSE,
            OldState(_) => attr::event::OLD_STATE,
            Instance(_) => attr::event::INSTANCE,
            Node(_) => attr::event::NODE,
            LocalNode(_) => attr::event::LOCAL_NODE,
            SinceSeq(_) => attr::event::SINCE_SEQ,
            Other(nla) => nla.kind(),
        }
    }

    fn is_nested(&self) -> bool {
        match self {
            EventAttr::Node(_) => true,
            EventAttr::Other(nla) => nla.is_nested(),
            _ => false,
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        use EventAttr::*;
        match self {
            Kind(v) | Cause(v) | OldState(v) | LocalNode(v) => {
                buf[..4].copy_from_slice(&v.to_ne_bytes())
            }
            Seq(v) | TimestampNs(v) | Instance(v) | SinceSeq(v) => {
                buf[..8].copy_from_slice(&v.to_ne_bytes())
            }
            Node(attrs) => emit_nested(attrs, buf),
            Other(nla) => nla.emit_value(buf),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for EventAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            attr::event::KIND => EventAttr::Kind(u32_value("EVENT_KIND", v)?),
            attr::event::SEQ => EventAttr::Seq(u64_value("EVENT_SEQ", v)?),
            attr::event::TIMESTAMP_NS => {
                EventAttr::TimestampNs(u64_value("EVENT_TIMESTAMP_NS", v)?)
            }
            attr::event::CAUSE => EventAttr::Cause(u32_value("EVENT_CAUSE", v)?),
            attr::event::OLD_STATE => EventAttr::OldState(u32_value("EVENT_OLD_STATE", v)?),
            attr::event::INSTANCE => EventAttr::Instance(u64_value("EVENT_INSTANCE", v)?),
            attr::event::NODE => EventAttr::Node(nested("EVENT_NODE", v)?),
            attr::event::LOCAL_NODE => EventAttr::LocalNode(u32_value("EVENT_LOCAL_NODE", v)?),
            attr::event::SINCE_SEQ => EventAttr::SinceSeq(u64_value("EVENT_SINCE_SEQ", v)?),
            _ => EventAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

// ---------------------------------------------------------------------------
// Messages

/// The attributes of one message, of the set its command uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attrs {
    /// CLUSTER_GET, CLUSTER_SET.
    Cluster(Vec<ClusterAttr>),
    /// NODE_GET, NODE_NEW, NODE_SET, NODE_DEL.
    Node(Vec<NodeAttr>),
    /// EVENT_GET, EVENT_NTF.
    Event(Vec<EventAttr>),
    /// A command this crate does not know (a newer module): undecoded.
    Unknown(Vec<DefaultNla>),
}

/// Which attribute set a command's messages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrSet {
    Cluster,
    Node,
    Event,
    Unknown,
}

impl AttrSet {
    pub fn of_cmd(c: u8) -> AttrSet {
        match c {
            cmd::CLUSTER_GET | cmd::CLUSTER_SET => AttrSet::Cluster,
            cmd::NODE_GET | cmd::NODE_NEW | cmd::NODE_SET | cmd::NODE_DEL => AttrSet::Node,
            cmd::EVENT_GET | cmd::EVENT_NTF => AttrSet::Event,
            _ => AttrSet::Unknown,
        }
    }
}

/// The payload of an afcluster generic-netlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfcMessage {
    pub cmd: u8,
    pub attrs: Attrs,
}

impl AfcMessage {
    pub fn cluster(cmd: u8, attrs: Vec<ClusterAttr>) -> Self {
        AfcMessage {
            cmd,
            attrs: Attrs::Cluster(attrs),
        }
    }

    pub fn node(cmd: u8, attrs: Vec<NodeAttr>) -> Self {
        AfcMessage {
            cmd,
            attrs: Attrs::Node(attrs),
        }
    }

    pub fn event(cmd: u8, attrs: Vec<EventAttr>) -> Self {
        AfcMessage {
            cmd,
            attrs: Attrs::Event(attrs),
        }
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
        uapi::AFCLUSTER_FAMILY_VERSION as u8
    }
}

impl Emitable for AfcMessage {
    fn buffer_len(&self) -> usize {
        match &self.attrs {
            Attrs::Cluster(a) => a.as_slice().buffer_len(),
            Attrs::Node(a) => a.as_slice().buffer_len(),
            Attrs::Event(a) => a.as_slice().buffer_len(),
            Attrs::Unknown(a) => a.as_slice().buffer_len(),
        }
    }

    fn emit(&self, buffer: &mut [u8]) {
        match &self.attrs {
            Attrs::Cluster(a) => a.as_slice().emit(buffer),
            Attrs::Node(a) => a.as_slice().emit(buffer),
            Attrs::Event(a) => a.as_slice().emit(buffer),
            Attrs::Unknown(a) => a.as_slice().emit(buffer),
        }
    }
}

fn parse_attrs<P>(buf: &[u8]) -> Result<Vec<P>, DecodeError>
where
    for<'a> P: Parseable<NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(buf)
        .map(|nla| nla.and_then(|nla| P::parse(&nla)))
        .collect()
}

impl ParseableParametrized<[u8], GenlHeader> for AfcMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let attrs = match AttrSet::of_cmd(header.cmd) {
            AttrSet::Cluster => Attrs::Cluster(parse_attrs(buf)?),
            AttrSet::Node => Attrs::Node(parse_attrs(buf)?),
            AttrSet::Event => Attrs::Event(parse_attrs(buf)?),
            AttrSet::Unknown => Attrs::Unknown(parse_attrs(buf)?),
        };
        Ok(AfcMessage {
            cmd: header.cmd,
            attrs,
        })
    }
}

// ---------------------------------------------------------------------------
// Typed values

fn need<T>(v: Option<T>, name: &str) -> Result<T, DecodeError> {
    v.ok_or_else(|| DecodeError::from(format!("the message lacks the {name} attribute")))
}

fn state(raw: u32, name: &str) -> Result<NodeState, DecodeError> {
    NodeState::from_raw(raw).ok_or_else(|| format!("{name}: unknown node state {raw}").into())
}

/// What a node's attributes say.
#[derive(Default)]
struct NodeFields {
    id: Option<u32>,
    state: Option<u32>,
    name: Option<String>,
    addrs: Vec<IpAddr>,
    lease_ms: Option<u32>,
    seq: Option<u64>,
    instance: Option<u64>,
}

impl NodeFields {
    fn of(attrs: &[NodeAttr]) -> NodeFields {
        let mut f = NodeFields::default();
        for a in attrs {
            match a {
                NodeAttr::Id(v) => f.id = Some(*v),
                NodeAttr::State(v) => f.state = Some(*v),
                NodeAttr::Name(v) => f.name = Some(v.clone()),
                NodeAttr::Addr(v) => f.addrs.push(*v),
                NodeAttr::LeaseMs(v) => f.lease_ms = Some(*v),
                NodeAttr::Seq(v) => f.seq = Some(*v),
                NodeAttr::Instance(v) => f.instance = Some(*v),
                NodeAttr::ReplaceAddrs | NodeAttr::Other(_) => {}
            }
        }
        f
    }

    fn node(&mut self) -> Result<Node, DecodeError> {
        Ok(Node {
            id: need(self.id, "NODE_ID")?,
            state: state(need(self.state, "NODE_STATE")?, "NODE_STATE")?,
            name: self.name.take().unwrap_or_default(),
            addrs: std::mem::take(&mut self.addrs),
            lease_ms: self.lease_ms.unwrap_or(0),
        })
    }
}

/// A node description (NODE_* replies, an event's node nest).
pub fn node_of(attrs: &[NodeAttr]) -> Result<Node, DecodeError> {
    NodeFields::of(attrs).node()
}

impl TryFrom<&AfcMessage> for NodeReply {
    type Error = DecodeError;
    fn try_from(msg: &AfcMessage) -> Result<Self, DecodeError> {
        let Attrs::Node(attrs) = &msg.attrs else {
            return Err(format!("command {} is not a NODE_* reply", msg.cmd).into());
        };
        let mut f = NodeFields::of(attrs);
        Ok(NodeReply {
            node: f.node()?,
            seq: need(f.seq, "NODE_SEQ")?,
            instance: need(f.instance, "NODE_INSTANCE")?,
        })
    }
}

impl TryFrom<&AfcMessage> for Event {
    type Error = DecodeError;
    fn try_from(msg: &AfcMessage) -> Result<Self, DecodeError> {
        let attrs = match (&msg.attrs, msg.cmd) {
            (Attrs::Event(attrs), cmd::EVENT_NTF | cmd::EVENT_GET) => attrs,
            _ => return Err(format!("command {} is not EVENT_NTF or EVENT_GET", msg.cmd).into()),
        };
        event_of(attrs)
    }
}

/// An event from its attributes.
pub fn event_of(attrs: &[EventAttr]) -> Result<Event, DecodeError> {
    let (mut kind, mut seq, mut ts, mut cause, mut old, mut instance) =
        (None, None, None, None, None, None);
    let (mut node, mut local) = (None, None);
    for a in attrs {
        match a {
            EventAttr::Kind(v) => kind = Some(*v),
            EventAttr::Seq(v) => seq = Some(*v),
            EventAttr::TimestampNs(v) => ts = Some(*v),
            EventAttr::Cause(v) => cause = Some(*v),
            EventAttr::OldState(v) => old = Some(*v),
            EventAttr::Instance(v) => instance = Some(*v),
            EventAttr::Node(v) => node = Some(v),
            EventAttr::LocalNode(v) => local = Some(*v),
            EventAttr::SinceSeq(_) | EventAttr::Other(_) => {}
        }
    }
    let raw_kind = need(kind, "EVENT_KIND")?;
    let kind = EventKind::from_raw(raw_kind)
        .ok_or_else(|| DecodeError::from(format!("EVENT_KIND: unknown event kind {raw_kind}")))?;
    let raw_cause = need(cause, "EVENT_CAUSE")?;
    let cause = Cause::from_raw(raw_cause)
        .ok_or_else(|| DecodeError::from(format!("EVENT_CAUSE: unknown cause {raw_cause}")))?;
    let node = node
        .map(|n| node_of(n).map_err(|e| DecodeError::from(format!("in EVENT_NODE: {e}"))))
        .transpose()?;
    match kind {
        EventKind::LocalNode if local.is_none() => {
            return Err("a local-node event lacks the EVENT_LOCAL_NODE attribute".into())
        }
        EventKind::LocalNode => {}
        _ if node.is_none() => {
            return Err(format!("a {kind} event lacks the EVENT_NODE attribute").into())
        }
        _ => {}
    }
    Ok(Event {
        seq: need(seq, "EVENT_SEQ")?,
        kind,
        cause,
        timestamp_ns: need(ts, "EVENT_TIMESTAMP_NS")?,
        instance: need(instance, "EVENT_INSTANCE")?,
        old_state: old.map(|s| state(s, "EVENT_OLD_STATE")).transpose()?,
        node,
        local_node: local,
    })
}

impl TryFrom<&AfcMessage> for ClusterInfo {
    type Error = DecodeError;
    fn try_from(msg: &AfcMessage) -> Result<Self, DecodeError> {
        let Attrs::Cluster(attrs) = &msg.attrs else {
            return Err(format!("command {} is not a CLUSTER_* reply", msg.cmd).into());
        };
        let mut i = ClusterInfoFields::default();
        for a in attrs {
            match a {
                ClusterAttr::Instance(v) => i.instance = Some(*v),
                ClusterAttr::MaxNodes(v) => i.max_nodes = Some(*v),
                ClusterAttr::LocalNode(v) => i.local_node = Some(*v),
                ClusterAttr::NodeCount(v) => i.node_count = Some(*v),
                ClusterAttr::UpCount(v) => i.up_count = Some(*v),
                ClusterAttr::Seq(v) => i.seq = Some(*v),
                ClusterAttr::OldestSeq(v) => i.oldest_seq = Some(*v),
                ClusterAttr::HistoryLen(v) => i.history_len = Some(*v),
                ClusterAttr::Other(_) => {}
            }
        }
        Ok(ClusterInfo {
            instance: need(i.instance, "CLUSTER_INSTANCE")?,
            max_nodes: need(i.max_nodes, "CLUSTER_MAX_NODES")?,
            local_node: need(i.local_node, "CLUSTER_LOCAL_NODE")?,
            node_count: need(i.node_count, "CLUSTER_NODE_COUNT")?,
            up_count: need(i.up_count, "CLUSTER_UP_COUNT")?,
            seq: need(i.seq, "CLUSTER_SEQ")?,
            oldest_seq: need(i.oldest_seq, "CLUSTER_OLDEST_SEQ")?,
            history_len: need(i.history_len, "CLUSTER_HISTORY_LEN")?,
        })
    }
}

#[derive(Default)]
struct ClusterInfoFields {
    instance: Option<u64>,
    max_nodes: Option<u32>,
    local_node: Option<u32>,
    node_count: Option<u32>,
    up_count: Option<u32>,
    seq: Option<u64>,
    oldest_seq: Option<u64>,
    history_len: Option<u32>,
}

// ---------------------------------------------------------------------------
// Encoding typed values (requests; the tests' fixtures)

/// A node's description as attributes (ID STATE NAME ADDR* LEASE_MS): the
/// `event-node` nest, and the start of a NODE_* reply.
pub fn node_attrs(n: &Node) -> Vec<NodeAttr> {
    let mut attrs = vec![
        NodeAttr::Id(n.id),
        NodeAttr::State(n.state.to_raw()),
        NodeAttr::Name(n.name.clone()),
    ];
    attrs.extend(n.addrs.iter().map(|a| NodeAttr::Addr(*a)));
    attrs.push(NodeAttr::LeaseMs(n.lease_ms));
    attrs
}

/// An event as the kernel puts it (afc_put_event()'s order).
pub fn event_attrs(e: &Event) -> Vec<EventAttr> {
    let mut attrs = vec![
        EventAttr::Kind(e.kind.to_raw()),
        EventAttr::Seq(e.seq),
        EventAttr::TimestampNs(e.timestamp_ns),
        EventAttr::Cause(e.cause.to_raw()),
        EventAttr::Instance(e.instance),
    ];
    if let Some(s) = e.old_state {
        attrs.push(EventAttr::OldState(s.to_raw()));
    }
    if let Some(n) = &e.node {
        attrs.push(EventAttr::Node(node_attrs(n)));
    }
    if let Some(l) = e.local_node {
        attrs.push(EventAttr::LocalNode(l));
    }
    attrs
}

/// A NODE_* reply as the kernel puts it: the node, then SEQ and INSTANCE.
pub fn node_reply_attrs(r: &NodeReply) -> Vec<NodeAttr> {
    let mut attrs = node_attrs(&r.node);
    attrs.push(NodeAttr::Seq(r.seq));
    attrs.push(NodeAttr::Instance(r.instance));
    attrs
}

/// A CLUSTER_GET reply as the kernel puts it.
pub fn cluster_attrs(i: &ClusterInfo) -> Vec<ClusterAttr> {
    vec![
        ClusterAttr::Instance(i.instance),
        ClusterAttr::MaxNodes(i.max_nodes),
        ClusterAttr::LocalNode(i.local_node),
        ClusterAttr::NodeCount(i.node_count),
        ClusterAttr::UpCount(i.up_count),
        ClusterAttr::Seq(i.seq),
        ClusterAttr::OldestSeq(i.oldest_seq),
        ClusterAttr::HistoryLen(i.history_len),
    ]
}

fn change_attrs(id: u32, c: &NodeChange, replace_flag: bool) -> Vec<NodeAttr> {
    let mut attrs = vec![NodeAttr::Id(id)];
    if let Some(s) = c.state {
        attrs.push(NodeAttr::State(s.to_raw()));
    }
    if let Some(n) = &c.name {
        attrs.push(NodeAttr::Name(n.clone()));
    }
    if let Some(addrs) = &c.addrs {
        attrs.extend(addrs.iter().map(|a| NodeAttr::Addr(*a)));
    }
    if let Some(l) = c.lease_ms {
        attrs.push(NodeAttr::LeaseMs(l));
    }
    if replace_flag && c.addrs.is_some() {
        attrs.push(NodeAttr::ReplaceAddrs);
    }
    attrs
}

/// NODE_NEW's attributes: ID [STATE NAME ADDR* LEASE_MS].
pub fn node_new_attrs(id: u32, c: &NodeChange) -> Vec<NodeAttr> {
    change_attrs(id, c, false)
}

/// NODE_SET's attributes: ID [STATE NAME LEASE_MS] and, when the change
/// has an address list, ADDR* REPLACE_ADDRS (an empty list empties it).
pub fn node_set_attrs(id: u32, c: &NodeChange) -> Vec<NodeAttr> {
    change_attrs(id, c, true)
}

// ---------------------------------------------------------------------------
// The request attribute an extack offset points at

/// A request's attribute, of whichever set it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestAttr {
    Cluster(ClusterAttr),
    Node(NodeAttr),
    Event(EventAttr),
    /// Inside a NODE_ADDR nest.
    Addr(AddrAttr),
}

impl RequestAttr {
    /// The address this attribute holds, if it is one.
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            RequestAttr::Node(NodeAttr::Addr(a)) => Some(*a),
            RequestAttr::Addr(a) => a.ip(),
            _ => None,
        }
    }
}

/// Where a nest's attributes are found, and of which set they are.
#[derive(Clone, Copy)]
enum Walk {
    Cluster,
    Node,
    Event,
    Addr,
}

/// The attribute of a request starting at byte `offset` of `attrs` (the
/// bytes after the generic netlink header; `cmd` its command), decoded,
/// descending into nests; None when no attribute starts there or it does
/// not decode.
pub fn request_attr_at(cmd: u8, attrs: &[u8], offset: usize) -> Option<RequestAttr> {
    let walk = match AttrSet::of_cmd(cmd) {
        AttrSet::Cluster => Walk::Cluster,
        AttrSet::Node => Walk::Node,
        AttrSet::Event => Walk::Event,
        AttrSet::Unknown => return None,
    };
    attr_at(walk, attrs, offset)
}

/// The attribute of `request` (an afcluster request: a whole netlink
/// message, as sent) that starts at byte `offset`, where the kernel's
/// extack offset points (NLMSGERR_ATTR_OFFS counts from the netlink header).
pub fn request_attr_of(request: &[u8], offset: usize) -> Option<RequestAttr> {
    let start = NLMSG_HDRLEN + GENL_HDRLEN;
    if offset < start || offset >= request.len() {
        return None;
    }
    let header = NetlinkBuffer::new_checked(request).ok()?;
    if header.message_type() == GENL_ID_CTRL {
        return None;
    }
    let end = (header.length() as usize).min(request.len());
    let cmd = *request.get(NLMSG_HDRLEN)?;
    request_attr_at(cmd, request.get(start..end)?, offset - start)
}

fn attr_at(walk: Walk, buf: &[u8], offset: usize) -> Option<RequestAttr> {
    let mut pos = 0usize;
    while pos < buf.len() && pos <= offset {
        let nla = NlaBuffer::new_checked(&buf[pos..]).ok()?;
        let len = usize::from(nla.length());
        if offset == pos {
            return match walk {
                Walk::Cluster => ClusterAttr::parse(&nla).ok().map(RequestAttr::Cluster),
                Walk::Node => NodeAttr::parse(&nla).ok().map(RequestAttr::Node),
                Walk::Event => EventAttr::parse(&nla).ok().map(RequestAttr::Event),
                Walk::Addr => AddrAttr::parse(&nla).ok().map(RequestAttr::Addr),
            };
        }
        if offset < pos + 4 {
            return None;
        }
        if offset < pos + len {
            // Inside this attribute: only a nest has attributes within.
            let inner = match (walk, nla.kind() & NLA_TYPE_MASK) {
                (Walk::Node, attr::node::ADDR) => Walk::Addr,
                (Walk::Event, attr::event::NODE) => Walk::Node,
                _ => return None,
            };
            let value = buf.get(pos + 4..pos + len)?;
            return attr_at(inner, value, offset - pos - 4);
        }
        pos += (len.max(4) + 3) & !3;
    }
    None
}
