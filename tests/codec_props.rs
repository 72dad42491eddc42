//! Property tests of the nested decoding: whatever the kernel could send
//! round-trips through the encoder and the decoder unchanged; unknown
//! attributes anywhere in the nests change nothing; no input makes a
//! decoder panic; an extack offset finds exactly the attribute that starts
//! there, nests included.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::client::decode_reply;
use afcluster::listener::decode_event;
use afcluster::message::{
    cluster_attrs, cmd, event_attrs, node_new_attrs, node_reply_attrs, node_set_attrs,
    request_attr_at, AfcMessage, Attrs, ClusterAttr, EventAttr, NodeAttr, RequestAttr,
};
use afcluster::netlink::{split_messages, Reply};
use afcluster::{
    Cause, ClusterInfo, Event, EventKind, Node, NodeChange, NodeReply, NodeState, Notification,
};
use netlink_packet_core::{
    Emitable, NetlinkMessage, NetlinkPayload, NLA_F_NESTED, NLM_F_MULTIPART,
};
use netlink_packet_generic::GenlMessage;
use proptest::collection::vec;
use proptest::prelude::*;

const FAMILY: u16 = 0x0123;

fn state() -> impl Strategy<Value = NodeState> {
    proptest::sample::select(NodeState::ALL)
}

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>()
            .prop_filter("not 0.0.0.0", |a| *a != 0)
            .prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>()
            .prop_filter("not ::", |a| *a != 0)
            .prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

/// A node the kernel could describe: a name of printable characters
/// (shorter than AFCLUSTER_NODE_NAME_MAX bytes), up to 16 addresses.
fn node() -> impl Strategy<Value = Node> {
    (
        1u32..=65535,
        state(),
        "\\PC{0,20}",
        vec(addr(), 0..=16),
        any::<u32>(),
    )
        .prop_map(|(id, state, name, addrs, lease_ms)| Node {
            id,
            state,
            name,
            addrs,
            lease_ms,
        })
}

fn event() -> impl Strategy<Value = Event> {
    (
        proptest::sample::select(EventKind::ALL),
        any::<u64>(),
        any::<u64>(),
        proptest::sample::select(Cause::ALL),
        any::<u64>(),
        state(),
        node(),
        any::<u32>(),
    )
        .prop_map(|(kind, seq, ts, cause, instance, old, node, local)| {
            let local_kind = kind == EventKind::LocalNode;
            Event {
                seq,
                kind,
                cause,
                timestamp_ns: ts,
                instance,
                old_state: (kind == EventKind::State).then_some(old),
                node: (!local_kind).then_some(node),
                local_node: local_kind.then_some(local),
            }
        })
}

fn cluster_info() -> impl Strategy<Value = ClusterInfo> {
    (
        any::<u64>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
    )
        .prop_map(
            |(instance, max, local, count, up, seq, oldest, len)| ClusterInfo {
                instance,
                max_nodes: max,
                local_node: local,
                node_count: count,
                up_count: up,
                seq,
                oldest_seq: oldest,
                history_len: len,
            },
        )
}

fn change() -> impl Strategy<Value = NodeChange> {
    (
        proptest::option::of(state()),
        proptest::option::of("\\PC{0,20}"),
        proptest::option::of(vec(addr(), 0..=16)),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(state, name, addrs, lease_ms)| NodeChange {
            state,
            name,
            addrs,
            lease_ms,
        })
}

/// A whole netlink message of the family with this payload.
fn framed(msg: AfcMessage, flags: u16) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(msg);
    genl.set_resolved_family_id(FAMILY);
    let mut m = NetlinkMessage::from(genl);
    m.header.flags = flags;
    m.finalize();
    let mut buf = vec![0u8; m.buffer_len()];
    m.serialize(&mut buf);
    buf
}

fn parsed(bytes: &[u8]) -> Result<AfcMessage, String> {
    let m =
        NetlinkMessage::<GenlMessage<AfcMessage>>::deserialize(bytes).map_err(|e| e.to_string())?;
    match m.payload {
        NetlinkPayload::InnerMessage(g) => Ok(g.payload),
        other => Err(format!("{other:?}")),
    }
}

/// An attribute of a type no set has (yet), flagged as a nest or not.
fn unknown_attr() -> impl Strategy<Value = (u16, bool, Vec<u8>)> {
    (200u16..0x3fff, any::<bool>(), vec(any::<u8>(), 0..24))
}

fn raw_nla(ty: u16, nested: bool, payload: &[u8]) -> Vec<u8> {
    let ty = if nested { ty | NLA_F_NESTED } else { ty };
    let len = 4 + payload.len();
    let mut v = Vec::with_capacity((len + 3) & !3);
    v.extend_from_slice(&(len as u16).to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(payload);
    v.resize((len + 3) & !3, 0);
    v
}

/// Insert `extra` attributes at positions `at` (modulo the count) among
/// the attributes of `buf`, a well-formed attribute stream.
fn insert_attrs(buf: &[u8], extra: &[Vec<u8>], at: &[usize]) -> Vec<u8> {
    let mut attrs = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let len = usize::from(u16::from_ne_bytes([buf[pos], buf[pos + 1]]));
        let end = pos + ((len + 3) & !3);
        attrs.push(buf[pos..end].to_vec());
        pos = end;
    }
    for (e, i) in extra.iter().zip(at) {
        let i = i % (attrs.len() + 1);
        attrs.insert(i, e.clone());
    }
    attrs.concat()
}

fn nla_bytes<T: Emitable>(a: &T) -> Vec<u8> {
    let mut v = vec![0u8; a.buffer_len()];
    a.emit(&mut v);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// An event the kernel could broadcast comes back as itself, as a
    /// multicast and as an EVENT_GET reply.
    #[test]
    fn events_round_trip(ev in event()) {
        for (c, flags) in [(cmd::EVENT_NTF, 0), (cmd::EVENT_GET, NLM_F_MULTIPART)] {
            let bytes = framed(AfcMessage::event(c, event_attrs(&ev)), flags);
            prop_assert_eq!(decode_event(&bytes), Notification::Event(ev.clone()));
        }
    }

    #[test]
    fn node_replies_round_trip(n in node(), seq in any::<u64>(), instance in any::<u64>()) {
        let r = NodeReply { node: n, seq, instance };
        for c in [cmd::NODE_GET, cmd::NODE_NEW, cmd::NODE_SET, cmd::NODE_DEL] {
            let bytes = framed(AfcMessage::node(c, node_reply_attrs(&r)), 0);
            let m = parsed(&bytes).map_err(TestCaseError::fail)?;
            prop_assert_eq!(NodeReply::try_from(&m).map_err(|e| e.to_string()), Ok(r.clone()));
        }
    }

    #[test]
    fn cluster_info_round_trips(i in cluster_info()) {
        for c in [cmd::CLUSTER_GET, cmd::CLUSTER_SET] {
            let bytes = framed(AfcMessage::cluster(c, cluster_attrs(&i)), 0);
            let m = parsed(&bytes).map_err(TestCaseError::fail)?;
            prop_assert_eq!(ClusterInfo::try_from(&m).map_err(|e| e.to_string()), Ok(i.clone()));
        }
    }

    /// Requests read back as what was sent; NODE_SET carries REPLACE_ADDRS
    /// exactly when it has an address list, NODE_NEW never.
    #[test]
    fn change_requests_round_trip(id in 1u32..=65535, c in change()) {
        for (command, attrs) in [
            (cmd::NODE_NEW, node_new_attrs(id, &c)),
            (cmd::NODE_SET, node_set_attrs(id, &c)),
        ] {
            let flag = attrs.contains(&NodeAttr::ReplaceAddrs);
            prop_assert_eq!(flag, command == cmd::NODE_SET && c.addrs.is_some());
            let addrs: Vec<IpAddr> = attrs
                .iter()
                .filter_map(|a| match a { NodeAttr::Addr(a) => Some(*a), _ => None })
                .collect();
            prop_assert_eq!(addrs, c.addrs.clone().unwrap_or_default());
            let bytes = framed(AfcMessage::node(command, attrs.clone()), 0);
            let m = parsed(&bytes).map_err(TestCaseError::fail)?;
            prop_assert_eq!(m.attrs, Attrs::Node(attrs));
        }
    }

    /// Forward compatibility: attributes of unknown types, anywhere among
    /// the event's, the node nest's or an address nest's, change nothing.
    #[test]
    fn unknown_attributes_anywhere_are_skipped(
        ev in event().prop_filter("a node event", |e| e.node.is_some()),
        extra in vec(unknown_attr(), 0..4),
        at in vec(any::<usize>(), 4),
        in_node in vec(unknown_attr(), 0..4),
        in_addr in unknown_attr(),
    ) {
        let extra: Vec<Vec<u8>> = extra.iter().map(|(t, n, p)| raw_nla(*t, *n, p)).collect();
        let in_node: Vec<Vec<u8>> = in_node.iter().map(|(t, n, p)| raw_nla(*t, *n, p)).collect();
        let Some(node) = ev.node.clone() else {
            return Ok(());
        };
        // The node nest's attributes, the first address nest padded too.
        let mut node_bytes = Vec::new();
        let mut first_addr = true;
        for a in afcluster::message::node_attrs(&node) {
            let mut b = nla_bytes(&a);
            if first_addr && matches!(a, NodeAttr::Addr(_)) {
                first_addr = false;
                let inner = insert_attrs(&b[4..], &[raw_nla(in_addr.0, in_addr.1, &in_addr.2)], &at);
                b = raw_nla(
                    u16::from_ne_bytes([b[2], b[3]]) & !NLA_F_NESTED,
                    true,
                    &inner,
                );
            }
            node_bytes.extend(b);
        }
        let node_bytes = insert_attrs(&node_bytes, &in_node, &at);
        let mut top = Vec::new();
        for a in event_attrs(&ev) {
            match a {
                EventAttr::Node(_) => top.extend(raw_nla(
                    afcluster::message::attr::event::NODE,
                    true,
                    &node_bytes,
                )),
                a => top.extend(nla_bytes(&a)),
            }
        }
        let top = insert_attrs(&top, &extra, &at);
        let mut payload = vec![cmd::EVENT_NTF, 1, 0, 0];
        payload.extend(top);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(16 + payload.len() as u32).to_ne_bytes());
        bytes.extend_from_slice(&FAMILY.to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend(payload);
        prop_assert_eq!(decode_event(&bytes), Notification::Event(ev));
    }

    /// No change of a valid message's bytes makes a decoder panic; what
    /// decodes is a well-formed value.
    #[test]
    fn mutated_messages_never_panic(
        ev in event(),
        flips in vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let mut bytes = framed(AfcMessage::event(cmd::EVENT_NTF, event_attrs(&ev)), 0);
        for (i, b) in &flips {
            let i = i % bytes.len();
            bytes[i] = *b;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = decode_event(&bytes);
        if let Ok(msgs) = split_messages(&bytes) {
            for (h, m) in msgs {
                if let Ok(Some(Reply::Message(_, m))) =
                    decode_reply::<AfcMessage>(&h, m, h.sequence_number, &bytes)
                {
                    let _ = NodeReply::try_from(&m);
                    let _ = ClusterInfo::try_from(&m);
                    if let Ok(e) = Event::try_from(&m) {
                        // What decodes keeps the promises of the type.
                        if e.kind == EventKind::LocalNode {
                            prop_assert!(e.local_node.is_some());
                        } else {
                            prop_assert!(e.node.is_some());
                        }
                    }
                }
            }
        }
    }

    /// Random attribute payloads behind a valid header, in every set.
    #[test]
    fn random_payloads_never_panic(
        command in prop_oneof![Just(cmd::EVENT_NTF), Just(cmd::NODE_GET), Just(cmd::CLUSTER_GET), any::<u8>()],
        body in vec(any::<u8>(), 0..200),
    ) {
        let mut payload = vec![command, 1, 0, 0];
        payload.extend(&body);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(16 + payload.len() as u32).to_ne_bytes());
        bytes.extend_from_slice(&FAMILY.to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend(payload);
        let _ = decode_event(&bytes);
        if let Ok(m) = parsed(&bytes) {
            let _ = NodeReply::try_from(&m);
            let _ = ClusterInfo::try_from(&m);
            let _ = Event::try_from(&m);
        }
        for offset in 0..body.len() + 4 {
            let _ = request_attr_at(command, &body, offset);
        }
    }

    /// An extack offset names the attribute that starts there -- at the top
    /// or inside an address nest -- and nothing anywhere else.
    #[test]
    fn extack_offsets_find_their_attribute(id in 1u32..=65535, c in change(), since in any::<u64>(), inst in any::<u64>()) {
        let node = node_set_attrs(id, &c);
        let bytes = nla_bytes(&node.as_slice());
        let mut starts = Vec::new();
        let mut pos = 0;
        for a in &node {
            starts.push(pos);
            prop_assert_eq!(request_attr_at(cmd::NODE_SET, &bytes, pos), Some(RequestAttr::Node(a.clone())));
            if let NodeAttr::Addr(ip) = a {
                starts.push(pos + 4);
                let inner = request_attr_at(cmd::NODE_SET, &bytes, pos + 4);
                prop_assert_eq!(inner.as_ref().and_then(RequestAttr::addr), Some(*ip));
            }
            pos += a.buffer_len();
        }
        for offset in 0..bytes.len() + 8 {
            if !starts.contains(&offset) {
                prop_assert_eq!(request_attr_at(cmd::NODE_SET, &bytes, offset), None);
            }
        }
        let ev = [EventAttr::SinceSeq(since), EventAttr::Instance(inst)];
        let bytes = nla_bytes(&&ev[..]);
        prop_assert_eq!(request_attr_at(cmd::EVENT_GET, &bytes, 12), Some(RequestAttr::Event(ev[1].clone())));
        let cl = [ClusterAttr::LocalNode(id)];
        let bytes = nla_bytes(&&cl[..]);
        prop_assert_eq!(request_attr_at(cmd::CLUSTER_SET, &bytes, 0), Some(RequestAttr::Cluster(cl[0].clone())));
    }
}
