//! The attribute codec and the netlink framing, checked against byte
//! fixtures written out by hand from the netlink wire format.
//!
//! Layout (native endian, which these fixtures take to be little endian):
//! - nlmsghdr, 16 bytes: len u32, type u16, flags u16, seq u32, pid u32
//! - genlmsghdr, 4 bytes: cmd u8, version u8, reserved u16
//! - nlattr: len u16 (header included, padding not), type u16, then the
//!   payload padded with zeros to a multiple of 4.
//!
//! Every number the afcluster header defines (attribute types, commands,
//! states, events, causes, the family version) comes from
//! `afcluster::uapi`; the netlink ones (NLMSG_*, NLM_F_*, NLMSGERR_ATTR_*)
//! from the netlink crates, the errnos from libc. Only the dynamic family
//! id, the port id, sequence numbers and payload values are literals.
#![cfg(target_endian = "little")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::listener::decode_event;
use afcluster::message::{change_attrs, cmd, AfcMessage, Attr};
use afcluster::netlink::{decode_reply, split_messages, Reply};
use afcluster::uapi;
use afcluster::{
    Cause, ClusterInfo, Error, Event, EventKind, KernelError, Node, NodeChange, NodeReply,
    NodeState, Notification,
};
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK,
    NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_MULTIPART, NLM_F_REQUEST,
};
use netlink_packet_generic::GenlMessage;
use netlink_sys::constants::{NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS};

// ---------------------------------------------------------------------------
// The header's numbers, as the single bytes they are on the wire.

/// The low byte of a header number; fails the build if it needs two.
const fn byte(v: u32) -> u8 {
    assert!(v < 256, "a fixture writes this number as one byte");
    v as u8
}

// Attribute types are u16 on the wire: the fixtures write [type, 0], which
// holds while every type fits a byte.
const _: () = assert!(uapi::AFCLUSTER_A_MAX < 256);

const A_NODE_ID: u8 = byte(uapi::AFCLUSTER_A_NODE_ID);
const A_NODE_STATE: u8 = byte(uapi::AFCLUSTER_A_NODE_STATE);
const A_NODE_NAME: u8 = byte(uapi::AFCLUSTER_A_NODE_NAME);
const A_NODE_ADDR: u8 = byte(uapi::AFCLUSTER_A_NODE_ADDR);
const A_NODE_LEASE_MS: u8 = byte(uapi::AFCLUSTER_A_NODE_LEASE_MS);
const A_EVENT: u8 = byte(uapi::AFCLUSTER_A_EVENT);
const A_OLD_STATE: u8 = byte(uapi::AFCLUSTER_A_OLD_STATE);
const A_CAUSE: u8 = byte(uapi::AFCLUSTER_A_CAUSE);
const A_SEQ: u8 = byte(uapi::AFCLUSTER_A_SEQ);
const A_TIMESTAMP_NS: u8 = byte(uapi::AFCLUSTER_A_TIMESTAMP_NS);
const A_MAX_NODES: u8 = byte(uapi::AFCLUSTER_A_MAX_NODES);
const A_LOCAL_NODE: u8 = byte(uapi::AFCLUSTER_A_LOCAL_NODE);
const A_NODE_COUNT: u8 = byte(uapi::AFCLUSTER_A_NODE_COUNT);
const A_UP_COUNT: u8 = byte(uapi::AFCLUSTER_A_UP_COUNT);
const A_HISTORY_LEN: u8 = byte(uapi::AFCLUSTER_A_HISTORY_LEN);
const A_OLDEST_SEQ: u8 = byte(uapi::AFCLUSTER_A_OLDEST_SEQ);
const A_PAD: u8 = byte(uapi::AFCLUSTER_A_PAD);

const CMD_CLUSTER_GET: u8 = byte(uapi::AFCLUSTER_CMD_CLUSTER_GET);
const CMD_NODE_GET: u8 = byte(uapi::AFCLUSTER_CMD_NODE_GET);
const CMD_NODE_NEW: u8 = byte(uapi::AFCLUSTER_CMD_NODE_NEW);
const CMD_NODE_EVENT: u8 = byte(uapi::AFCLUSTER_CMD_NODE_EVENT);
const VERSION: u8 = byte(uapi::AFCLUSTER_GENL_VERSION);

const S_NEVERUP: u8 = byte(uapi::AFCLUSTER_NODE_NEVERUP);
const S_COMINGUP: u8 = byte(uapi::AFCLUSTER_NODE_COMINGUP);
const S_UP: u8 = byte(uapi::AFCLUSTER_NODE_UP);
const E_ADDED: u8 = byte(uapi::AFCLUSTER_EVENT_ADDED);
const E_STATE: u8 = byte(uapi::AFCLUSTER_EVENT_STATE);
const C_ADMIN: u8 = byte(uapi::AFCLUSTER_CAUSE_ADMIN);
const C_KERNEL: u8 = byte(uapi::AFCLUSTER_CAUSE_KERNEL);

// Netlink's own numbers, little endian.
const T_ERROR: [u8; 2] = NLMSG_ERROR.to_le_bytes();
const T_DONE: [u8; 2] = NLMSG_DONE.to_le_bytes();
const F_REQ_ACK: [u8; 2] = (NLM_F_REQUEST | NLM_F_ACK).to_le_bytes();
const F_REQ_ACK_DUMP: [u8; 2] = (NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP).to_le_bytes();
const F_MULTI: [u8; 2] = NLM_F_MULTIPART.to_le_bytes();
const F_MULTI_TLVS: [u8; 2] = (NLM_F_MULTIPART | NLM_F_ACK_TLVS).to_le_bytes();
const F_CAPPED: [u8; 2] = NLM_F_CAPPED.to_le_bytes();
const F_CAPPED_TLVS: [u8; 2] = (NLM_F_CAPPED | NLM_F_ACK_TLVS).to_le_bytes();
const F_TLVS: [u8; 2] = NLM_F_ACK_TLVS.to_le_bytes();
const ERR_MSG: u8 = NLMSGERR_ATTR_MSG as u8;
const ERR_OFFS: u8 = NLMSGERR_ATTR_OFFS as u8;

// Values the header does not define.

/// The family id nlctrl handed out (dynamic; two distinct bytes to see
/// the byte order).
const FAMILY: u16 = 0x0123;
const FAM: [u8; 2] = FAMILY.to_le_bytes();
/// The requesting socket's port id, as the kernel addresses replies.
const PORTID: u32 = 0x8765_4321;
const PID: [u8; 4] = PORTID.to_le_bytes();

// ---------------------------------------------------------------------------
// Builders, for the variants of the hand-written fixtures. Each is checked
// against a hand-written fixture before a test relies on it.

fn nla(ty: u8, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::with_capacity((len + 3) & !3);
    v.extend_from_slice(&(len as u16).to_le_bytes());
    v.extend_from_slice(&u16::from(ty).to_le_bytes());
    v.extend_from_slice(payload);
    v.resize((len + 3) & !3, 0);
    v
}

fn nlmsg(ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + payload.len());
    v.extend_from_slice(&(16 + payload.len() as u32).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&flags.to_le_bytes());
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(&pid.to_le_bytes());
    v.extend_from_slice(payload);
    v
}

fn genl(cmd: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![cmd, VERSION, 0, 0];
    for a in attrs {
        v.extend_from_slice(a);
    }
    v
}

/// A NODE_EVENT multicast (no flags, seq 0, pid 0) with these attributes.
fn event_msg(attrs: &[Vec<u8>]) -> Vec<u8> {
    nlmsg(FAMILY, 0, 0, 0, &genl(CMD_NODE_EVENT, attrs))
}

// ---------------------------------------------------------------------------
// Fixtures.

const V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
const TIMESTAMP: u64 = 0x1122_3344_5566_7788; // 2009-02-14 10:00:16 UTC

/// The NODE_EVENT the kernel multicasts when node 7 ("node-7", 10.0.0.7
/// and 2001:db8::7, 3 s lease) goes from COMINGUP to UP through the
/// in-kernel API, as event 42: afc_event_prepare()'s attribute order.
#[rustfmt::skip]
fn node_event_fixture() -> Vec<u8> {
    vec![
        // nlmsghdr
        132, 0, 0, 0,                       // len: 16 + 4 + 112
        FAM[0], FAM[1],                     // type: the family
        0, 0,                               // flags: a multicast has none
        0, 0, 0, 0,                         // seq
        0, 0, 0, 0,                         // pid: the kernel
        // genlmsghdr
        CMD_NODE_EVENT, VERSION, 0, 0,
        // NODE_ID u32 7
        8, 0, A_NODE_ID, 0,           7, 0, 0, 0,
        // NODE_STATE u8 UP
        5, 0, A_NODE_STATE, 0,        S_UP, 0, 0, 0,
        // NODE_NAME "node-7\0" (7 bytes, 1 of padding)
        11, 0, A_NODE_NAME, 0,        b'n', b'o', b'd', b'e', b'-', b'7', 0, 0,
        // NODE_ADDR 10.0.0.7
        8, 0, A_NODE_ADDR, 0,         10, 0, 0, 7,
        // NODE_ADDR 2001:db8::7
        20, 0, A_NODE_ADDR, 0,        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0, 0, 0, 7,
        // NODE_LEASE_MS u32 3000 = 0x0bb8
        8, 0, A_NODE_LEASE_MS, 0,     0xb8, 0x0b, 0, 0,
        // EVENT u8 STATE
        5, 0, A_EVENT, 0,             E_STATE, 0, 0, 0,
        // SEQ u64 42
        12, 0, A_SEQ, 0,              42, 0, 0, 0, 0, 0, 0, 0,
        // TIMESTAMP_NS u64 0x1122334455667788
        12, 0, A_TIMESTAMP_NS, 0,     0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        // CAUSE u8 KERNEL
        5, 0, A_CAUSE, 0,             C_KERNEL, 0, 0, 0,
        // OLD_STATE u8 COMINGUP
        5, 0, A_OLD_STATE, 0,         S_COMINGUP, 0, 0, 0,
    ]
}

/// The same event's attributes, one per entry, through the builder.
fn node_event_attrs() -> Vec<Vec<u8>> {
    vec![
        nla(A_NODE_ID, &7u32.to_le_bytes()),
        nla(A_NODE_STATE, &[S_UP]),
        nla(A_NODE_NAME, b"node-7\0"),
        nla(A_NODE_ADDR, &[10, 0, 0, 7]),
        nla(A_NODE_ADDR, &V6.octets()),
        nla(A_NODE_LEASE_MS, &3000u32.to_le_bytes()),
        nla(A_EVENT, &[E_STATE]),
        nla(A_SEQ, &42u64.to_le_bytes()),
        nla(A_TIMESTAMP_NS, &TIMESTAMP.to_le_bytes()),
        nla(A_CAUSE, &[C_KERNEL]),
        nla(A_OLD_STATE, &[S_COMINGUP]),
    ]
}

// Indexes into node_event_attrs().
const I_NODE_ID: usize = 0;
const I_NODE_STATE: usize = 1;
const I_ADDR4: usize = 3;
const I_SEQ: usize = 7;
const I_TIMESTAMP: usize = 8;

fn node_event_expected() -> Event {
    Event {
        seq: 42,
        kind: EventKind::State,
        cause: Cause::Kernel,
        timestamp_ns: TIMESTAMP,
        old_state: Some(NodeState::ComingUp),
        node: Node {
            id: 7,
            state: NodeState::Up,
            name: "node-7".into(),
            addrs: vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)), IpAddr::V6(V6)],
            lease_ms: 3000,
        },
    }
}

fn event_of(bytes: &[u8]) -> Event {
    match decode_event(bytes) {
        Notification::Event(ev) => ev,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn malformed(bytes: &[u8]) -> String {
    match decode_event(bytes) {
        Notification::Malformed(why) => why,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// The one message of a datagram, with its header.
fn only_message(datagram: &[u8]) -> (NetlinkHeader, &[u8]) {
    let mut msgs = split_messages(datagram).expect("a well-formed datagram");
    assert_eq!(msgs.len(), 1, "one message in the datagram");
    msgs.pop().unwrap()
}

fn reply_of(datagram: &[u8], seq: u32, request: &[u8]) -> afcluster::Result<Reply<AfcMessage>> {
    let (h, bytes) = only_message(datagram);
    decode_reply::<AfcMessage>(&h, bytes, seq, request)
        .map(|r| r.expect("the reply carries the request's sequence number"))
}

fn describe(r: &Reply<AfcMessage>) -> String {
    match r {
        Reply::Message(_, m) => format!("Message({m:?})"),
        Reply::Ack => "Ack".into(),
        Reply::Done => "Done".into(),
    }
}

fn message_of(r: afcluster::Result<Reply<AfcMessage>>) -> (NetlinkHeader, AfcMessage) {
    match r {
        Ok(Reply::Message(h, m)) => (h, m),
        Ok(other) => panic!("expected a message, got {}", describe(&other)),
        Err(e) => panic!("expected a message, got the error {e:?}"),
    }
}

fn error_of(r: afcluster::Result<Reply<AfcMessage>>) -> Error {
    match r {
        Err(e) => e,
        Ok(other) => panic!("expected an error, got {}", describe(&other)),
    }
}

// ---------------------------------------------------------------------------
// NODE_EVENT decoding.

#[test]
fn builder_reproduces_the_hand_written_event() {
    assert_eq!(event_msg(&node_event_attrs()), node_event_fixture());
}

#[test]
fn node_event_as_the_kernel_builds_it() {
    let bytes = node_event_fixture();
    assert_eq!(event_of(&bytes), node_event_expected());
}

#[test]
fn node_event_through_split_messages() {
    let bytes = node_event_fixture();
    let (h, msg) = only_message(&bytes);
    assert_eq!(h.length, 132);
    assert_eq!(h.message_type, FAMILY);
    assert_eq!(msg, &bytes[..]);
    assert_eq!(event_of(msg), node_event_expected());
}

/// An ADDED event for a node created with nothing but its id: NODE_NAME is
/// the empty string (one NUL byte), no NODE_ADDR, lease 0, no OLD_STATE.
#[rustfmt::skip]
#[test]
fn event_with_empty_name_and_no_addresses() {
    let bytes: Vec<u8> = vec![
        92, 0, 0, 0,  FAM[0], FAM[1],  0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        CMD_NODE_EVENT, VERSION, 0, 0,
        8, 0, A_NODE_ID, 0,           9, 0, 0, 0,
        5, 0, A_NODE_STATE, 0,        S_NEVERUP, 0, 0, 0,
        5, 0, A_NODE_NAME, 0,         0, 0, 0, 0,
        8, 0, A_NODE_LEASE_MS, 0,     0, 0, 0, 0,
        5, 0, A_EVENT, 0,             E_ADDED, 0, 0, 0,
        12, 0, A_SEQ, 0,              1, 0, 0, 0, 0, 0, 0, 0,
        12, 0, A_TIMESTAMP_NS, 0,     0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        5, 0, A_CAUSE, 0,             C_ADMIN, 0, 0, 0,
    ];
    assert_eq!(
        event_of(&bytes),
        Event {
            seq: 1,
            kind: EventKind::Added,
            cause: Cause::Admin,
            timestamp_ns: TIMESTAMP,
            old_state: None,
            node: Node {
                id: 9,
                state: NodeState::NeverUp,
                name: String::new(),
                addrs: vec![],
                lease_ms: 0,
            },
        }
    );
}

/// On an architecture without efficient unaligned access,
/// nla_put_u64_64bit() puts an empty PAD attribute before a u64 whose
/// payload would not be 8-byte aligned.
#[test]
fn pad_attribute_is_tolerated() {
    let mut attrs = node_event_attrs();
    attrs.insert(I_SEQ, nla(A_PAD, &[]));
    assert_eq!(attrs[I_SEQ], [4, 0, A_PAD, 0]);
    assert_eq!(event_of(&event_msg(&attrs)), node_event_expected());
}

/// A newer module may add attributes: they are skipped, not an error.
#[test]
fn unknown_attribute_type_is_tolerated() {
    let mut attrs = node_event_attrs();
    attrs.insert(2, nla(200, &[1, 2, 3, 4, 5, 6]));
    attrs.push(nla(200, &[]));
    assert_eq!(event_of(&event_msg(&attrs)), node_event_expected());
}

#[test]
fn truncated_attribute_is_malformed() {
    // The message ends 2 bytes into an attribute header.
    let mut attrs = node_event_attrs();
    attrs.push(vec![8, 0]);
    malformed(&event_msg(&attrs));

    // The message ends inside the last attribute's value: the attribute
    // says 12 bytes, the message holds 8 of them.
    let mut attrs = node_event_attrs();
    attrs[I_TIMESTAMP].truncate(8);
    attrs.swap(I_TIMESTAMP, 10);
    let bytes = event_msg(&attrs);
    assert_eq!(
        &bytes[bytes.len() - 8..bytes.len() - 4],
        [12, 0, A_TIMESTAMP_NS, 0]
    );
    malformed(&bytes);
}

#[test]
fn attribute_length_past_the_end_is_malformed() {
    let mut attrs = node_event_attrs();
    // NODE_ID claims 0x100 bytes; the message is far shorter.
    attrs[I_NODE_ID][..2].copy_from_slice(&0x100u16.to_le_bytes());
    malformed(&event_msg(&attrs));
}

#[test]
fn attribute_length_below_its_header_is_malformed() {
    for len in [0u16, 1, 3] {
        let mut attrs = node_event_attrs();
        attrs[I_NODE_STATE][..2].copy_from_slice(&len.to_le_bytes());
        malformed(&event_msg(&attrs));
    }
}

#[test]
fn five_byte_address_is_malformed() {
    let mut attrs = node_event_attrs();
    attrs[I_ADDR4] = nla(A_NODE_ADDR, &[10, 0, 0, 7, 1]);
    assert_eq!(attrs[I_ADDR4][..2], [9, 0]);
    malformed(&event_msg(&attrs));
}

#[test]
fn unknown_node_state_is_malformed() {
    let mut attrs = node_event_attrs();
    attrs[I_NODE_STATE] = nla(A_NODE_STATE, &[200]);
    malformed(&event_msg(&attrs));

    let mut attrs = node_event_attrs();
    attrs[10] = nla(A_OLD_STATE, &[200]);
    malformed(&event_msg(&attrs));
}

#[test]
fn missing_node_id_is_malformed() {
    let mut attrs = node_event_attrs();
    attrs.remove(I_NODE_ID);
    let why = malformed(&event_msg(&attrs));
    assert!(why.contains("NODE_ID"), "{why}");
}

#[test]
fn missing_seq_is_malformed() {
    let mut attrs = node_event_attrs();
    attrs.remove(I_SEQ);
    let why = malformed(&event_msg(&attrs));
    assert!(why.contains("SEQ"), "{why}");
}

#[test]
fn four_byte_u64_attribute_is_malformed() {
    let mut attrs = node_event_attrs();
    attrs[I_TIMESTAMP] = nla(A_TIMESTAMP_NS, &0x5566_7788u32.to_le_bytes());
    malformed(&event_msg(&attrs));

    let mut attrs = node_event_attrs();
    attrs[I_SEQ] = nla(A_SEQ, &42u32.to_le_bytes());
    malformed(&event_msg(&attrs));
}

#[test]
fn other_command_is_not_an_event() {
    let mut bytes = node_event_fixture();
    bytes[16] = CMD_NODE_GET;
    malformed(&bytes);
}

#[test]
fn short_or_overlong_frames_are_malformed() {
    let bytes = node_event_fixture();
    // Shorter than a netlink header, or than a generic netlink one.
    malformed(&bytes[..15]);
    malformed(&nlmsg(FAMILY, 0, 0, 0, &[CMD_NODE_EVENT, VERSION]));
    // nlmsg_len says more than the datagram holds.
    malformed(&bytes[..bytes.len() - 4]);
    assert!(split_messages(&bytes[..bytes.len() - 4]).is_err());
    // nlmsg_len below the header's own size.
    let mut short = bytes.clone();
    short[..4].copy_from_slice(&8u32.to_le_bytes());
    malformed(&short);
    assert!(split_messages(&short).is_err());
}

// ---------------------------------------------------------------------------
// Requests.

/// NODE_NEW for node 7 as `Client::add` builds it, emitted the way
/// `GenlSocket::send` does.
#[rustfmt::skip]
#[test]
fn node_new_request_encoding() {
    let change = NodeChange {
        state: Some(NodeState::ComingUp),
        name: Some("node-7".into()),
        addrs: Some(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)), IpAddr::V6(V6)]),
        lease_ms: Some(3000),
    };
    let mut genl = GenlMessage::from_payload(AfcMessage::new(cmd::NODE_NEW, change_attrs(7, &change)));
    genl.set_resolved_family_id(FAMILY);
    let mut msg = NetlinkMessage::from(genl);
    msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    msg.header.sequence_number = 5;
    msg.finalize();
    let mut got = vec![0u8; msg.buffer_len()];
    msg.serialize(&mut got);

    let want: Vec<u8> = vec![
        // nlmsghdr
        84, 0, 0, 0,                        // len: 16 + 4 + 64
        FAM[0], FAM[1],
        F_REQ_ACK[0], F_REQ_ACK[1],
        5, 0, 0, 0,                         // seq
        0, 0, 0, 0,                         // pid: left to the kernel
        // genlmsghdr
        CMD_NODE_NEW, VERSION, 0, 0,
        8, 0, A_NODE_ID, 0,           7, 0, 0, 0,
        5, 0, A_NODE_STATE, 0,        S_COMINGUP, 0, 0, 0,
        11, 0, A_NODE_NAME, 0,        b'n', b'o', b'd', b'e', b'-', b'7', 0, 0,
        8, 0, A_NODE_ADDR, 0,         10, 0, 0, 7,
        20, 0, A_NODE_ADDR, 0,        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0, 0, 0, 7,
        8, 0, A_NODE_LEASE_MS, 0,     0xb8, 0x0b, 0, 0,
    ];
    assert_eq!(got, want);

    // And it reads back as what was sent.
    let back = NetlinkMessage::<GenlMessage<AfcMessage>>::deserialize(&want).unwrap();
    let NetlinkPayload::InnerMessage(g) = back.payload else {
        panic!("not a generic netlink message");
    };
    assert_eq!(g.payload.cmd, cmd::NODE_NEW);
    assert_eq!(g.payload.attrs, change_attrs(7, &change));
}

/// NODE_SET that only renames to "": the empty name is one NUL byte and
/// three bytes of zero padding; absent fields emit no attribute.
#[test]
fn node_set_empty_name_encoding() {
    let change = NodeChange {
        name: Some(String::new()),
        ..NodeChange::default()
    };
    let attrs = change_attrs(3, &change);
    assert_eq!(attrs, vec![Attr::NodeId(3), Attr::NodeName(String::new())]);
    let msg = AfcMessage::new(cmd::NODE_SET, attrs);
    let mut got = vec![0xffu8; netlink_packet_core::Emitable::buffer_len(&msg)];
    netlink_packet_core::Emitable::emit(&msg, &mut got);
    #[rustfmt::skip]
    let want = [
        8, 0, A_NODE_ID, 0,     3, 0, 0, 0,
        5, 0, A_NODE_NAME, 0,   0, 0, 0, 0,
    ];
    assert_eq!(got, want);
}

/// Every attribute encodes to the size and bytes the header documents and
/// decodes back to itself.
#[test]
fn every_attribute_round_trips() {
    let cases: Vec<(Attr, Vec<u8>)> = vec![
        (Attr::NodeId(0x0102_0304), nla(A_NODE_ID, &[4, 3, 2, 1])),
        (Attr::NodeState(S_UP), nla(A_NODE_STATE, &[S_UP])),
        (Attr::NodeName("a".into()), nla(A_NODE_NAME, b"a\0")),
        (
            Attr::NodeAddr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            nla(A_NODE_ADDR, &[192, 0, 2, 1]),
        ),
        (
            Attr::NodeAddr(IpAddr::V6(V6)),
            nla(A_NODE_ADDR, &V6.octets()),
        ),
        (
            Attr::NodeLeaseMs(3000),
            nla(A_NODE_LEASE_MS, &[0xb8, 0x0b, 0, 0]),
        ),
        (Attr::Event(E_STATE), nla(A_EVENT, &[E_STATE])),
        (Attr::OldState(S_COMINGUP), nla(A_OLD_STATE, &[S_COMINGUP])),
        (Attr::Cause(C_KERNEL), nla(A_CAUSE, &[C_KERNEL])),
        (Attr::Seq(TIMESTAMP), nla(A_SEQ, &TIMESTAMP.to_le_bytes())),
        (
            Attr::TimestampNs(TIMESTAMP),
            nla(A_TIMESTAMP_NS, &TIMESTAMP.to_le_bytes()),
        ),
        (
            Attr::SinceSeq(u64::MAX - 1),
            nla(
                byte(uapi::AFCLUSTER_A_SINCE_SEQ),
                &(u64::MAX - 1).to_le_bytes(),
            ),
        ),
        (Attr::MaxNodes(64), nla(A_MAX_NODES, &[64, 0, 0, 0])),
        (Attr::LocalNode(7), nla(A_LOCAL_NODE, &[7, 0, 0, 0])),
        (Attr::NodeCount(3), nla(A_NODE_COUNT, &[3, 0, 0, 0])),
        (Attr::UpCount(2), nla(A_UP_COUNT, &[2, 0, 0, 0])),
        (Attr::HistoryLen(1024), nla(A_HISTORY_LEN, &[0, 4, 0, 0])),
        (Attr::OldestSeq(1), nla(A_OLDEST_SEQ, &1u64.to_le_bytes())),
    ];
    for (attr, wire) in cases {
        let msg = AfcMessage::new(cmd::NODE_SET, vec![attr.clone()]);
        let mut got = vec![0xffu8; netlink_packet_core::Emitable::buffer_len(&msg)];
        netlink_packet_core::Emitable::emit(&msg, &mut got);
        assert_eq!(got, wire, "{attr:?}");

        let framed = nlmsg(FAMILY, 0, 1, 0, &genl(cmd::NODE_SET, &[wire]));
        let back = NetlinkMessage::<GenlMessage<AfcMessage>>::deserialize(&framed).unwrap();
        let NetlinkPayload::InnerMessage(g) = back.payload else {
            panic!("not a generic netlink message");
        };
        assert_eq!(g.payload.attrs, vec![attr]);
    }
}

// ---------------------------------------------------------------------------
// Replies.

#[rustfmt::skip]
fn cluster_get_request() -> Vec<u8> {
    vec![
        20, 0, 0, 0,  FAM[0], FAM[1],  F_REQ_ACK[0], F_REQ_ACK[1],  3, 0, 0, 0,  0, 0, 0, 0,
        CMD_CLUSTER_GET, VERSION, 0, 0,
    ]
}

/// CLUSTER_GET's reply (afc_nl_cluster_get()'s order), then the ack the
/// kernel sends after it in a datagram of its own.
#[rustfmt::skip]
#[test]
fn cluster_get_reply_decodes_into_cluster_info() {
    let request = cluster_get_request();
    let reply: Vec<u8> = vec![
        84, 0, 0, 0,                        // len: 16 + 4 + 64
        FAM[0], FAM[1],
        0, 0,                               // flags
        3, 0, 0, 0,                         // seq: the request's
        PID[0], PID[1], PID[2], PID[3],     // pid: the requester's port
        CMD_CLUSTER_GET, VERSION, 0, 0,
        8, 0, A_MAX_NODES, 0,         64, 0, 0, 0,
        8, 0, A_LOCAL_NODE, 0,        7, 0, 0, 0,
        8, 0, A_NODE_COUNT, 0,        3, 0, 0, 0,
        8, 0, A_UP_COUNT, 0,          2, 0, 0, 0,
        // SEQ 0x1_0000_002a: the high word counts too
        12, 0, A_SEQ, 0,              0x2a, 0, 0, 0, 1, 0, 0, 0,
        // OLDEST_SEQ 0xffff_fc2b = SEQ - HISTORY_LEN + 1
        12, 0, A_OLDEST_SEQ, 0,       0x2b, 0xfc, 0xff, 0xff, 0, 0, 0, 0,
        // HISTORY_LEN 1024
        8, 0, A_HISTORY_LEN, 0,       0, 4, 0, 0,
    ];
    let (h, m) = message_of(reply_of(&reply, 3, &request));
    assert_eq!(h.port_number, PORTID);
    assert_eq!(m.cmd, cmd::CLUSTER_GET);
    assert_eq!(
        ClusterInfo::try_from(&m).unwrap(),
        ClusterInfo {
            max_nodes: 64,
            local_node: 7,
            node_count: 3,
            up_count: 2,
            seq: 0x1_0000_002a,
            oldest_seq: 0xffff_fc2b,
            history_len: 1024,
        }
    );

    // The ack: error 0, capped, the request's header echoed.
    let mut ack: Vec<u8> = vec![
        36, 0, 0, 0,  T_ERROR[0], T_ERROR[1],  F_CAPPED[0], F_CAPPED[1],
        3, 0, 0, 0,  PID[0], PID[1], PID[2], PID[3],
        0, 0, 0, 0,                         // error: 0
    ];
    ack.extend_from_slice(&request[..16]);
    assert!(matches!(reply_of(&ack, 3, &request), Ok(Reply::Ack)));
}

#[test]
fn cluster_get_reply_missing_an_attribute_is_an_error() {
    let reply = nlmsg(
        FAMILY,
        0,
        3,
        PORTID,
        &genl(
            CMD_CLUSTER_GET,
            &[
                nla(A_MAX_NODES, &64u32.to_le_bytes()),
                nla(A_LOCAL_NODE, &7u32.to_le_bytes()),
                nla(A_NODE_COUNT, &3u32.to_le_bytes()),
                nla(A_UP_COUNT, &2u32.to_le_bytes()),
                nla(A_SEQ, &42u64.to_le_bytes()),
                nla(A_HISTORY_LEN, &42u32.to_le_bytes()),
            ],
        ),
    );
    let (_, m) = message_of(reply_of(&reply, 3, &cluster_get_request()));
    let err = ClusterInfo::try_from(&m).expect_err("OLDEST_SEQ is missing");
    assert!(err.to_string().contains("OLDEST_SEQ"), "{err}");
}

#[test]
fn four_byte_u64_in_a_reply_is_an_error() {
    let reply = nlmsg(
        FAMILY,
        0,
        3,
        PORTID,
        &genl(CMD_CLUSTER_GET, &[nla(A_OLDEST_SEQ, &1u32.to_le_bytes())]),
    );
    let (h, bytes) = only_message(&reply);
    let r = decode_reply::<AfcMessage>(&h, bytes, 3, &cluster_get_request());
    assert!(matches!(r, Err(Error::Decode(_))));
}

/// NODE_NEW for node 7 with 10.0.0.7 twice: 16 + 4 + 3 * 8 bytes. The
/// second NODE_ADDR starts at byte 36.
#[rustfmt::skip]
fn node_new_request_twice_the_same_address() -> Vec<u8> {
    vec![
        44, 0, 0, 0,  FAM[0], FAM[1],  F_REQ_ACK[0], F_REQ_ACK[1],  5, 0, 0, 0,  0, 0, 0, 0,
        CMD_NODE_NEW, VERSION, 0, 0,
        8, 0, A_NODE_ID, 0,           7, 0, 0, 0,   // at 20
        8, 0, A_NODE_ADDR, 0,         10, 0, 0, 7,  // at 28
        8, 0, A_NODE_ADDR, 0,         10, 0, 0, 7,  // at 36
    ]
}

/// What afc_parse_change() answers that request with: EINVAL, extack
/// message "address given twice" and the offset of the second address.
/// The socket has NETLINK_CAP_ACK: only the request's 16-byte header is
/// echoed (its nlmsg_len still says 44), then the TLVs.
#[rustfmt::skip]
#[test]
fn error_with_extack_names_the_request_attribute() {
    let request = node_new_request_twice_the_same_address();
    let errno = (-libc::EINVAL).to_le_bytes();
    let mut reply: Vec<u8> = vec![
        68, 0, 0, 0,                        // len: 16 + 4 + 16 + 24 + 8
        T_ERROR[0], T_ERROR[1],
        F_CAPPED_TLVS[0], F_CAPPED_TLVS[1],
        5, 0, 0, 0,
        PID[0], PID[1], PID[2], PID[3],
        errno[0], errno[1], errno[2], errno[3],
    ];
    reply.extend_from_slice(&request[..16]);
    reply.extend_from_slice(&[
        // NLMSGERR_ATTR_MSG "address given twice\0": 20 bytes
        24, 0, ERR_MSG, 0,
        b'a', b'd', b'd', b'r', b'e', b's', b's', b' ', b'g', b'i', b'v', b'e', b'n', b' ',
        b't', b'w', b'i', b'c', b'e', 0,
        // NLMSGERR_ATTR_OFFS u32 36
        8, 0, ERR_OFFS, 0,            36, 0, 0, 0,
    ]);
    assert_eq!(reply.len(), 68);

    let expected = KernelError {
        errno: libc::EINVAL,
        message: Some("address given twice".into()),
        attr: Some(Attr::NodeAddr(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)))),
    };
    match error_of(reply_of(&reply, 5, &request)) {
        Error::Kernel(k) => assert_eq!(k, expected),
        e => panic!("expected Error::Kernel, got {e:?}"),
    }

    // Without NETLINK_CAP_ACK the whole request is echoed; the TLVs follow
    // it.
    let mut uncapped = nlmsg(
        NLMSG_ERROR,
        NLM_F_ACK_TLVS,
        5,
        PORTID,
        &[&(-libc::EINVAL).to_le_bytes()[..], &request, &reply[36..]].concat(),
    );
    assert_eq!(uncapped[6..8], F_TLVS);
    match error_of(reply_of(&uncapped, 5, &request)) {
        Error::Kernel(k) => assert_eq!(k, expected),
        e => panic!("expected Error::Kernel, got {e:?}"),
    }

    // Without NLM_F_ACK_TLVS the bytes after the header are not TLVs.
    uncapped[6..8].copy_from_slice(&0u16.to_le_bytes());
    match error_of(reply_of(&uncapped, 5, &request)) {
        Error::Kernel(k) => assert_eq!(
            k,
            KernelError {
                errno: libc::EINVAL,
                message: None,
                attr: None
            }
        ),
        e => panic!("expected Error::Kernel, got {e:?}"),
    }
}

/// An offset outside the request's attributes names no attribute.
#[test]
fn extack_offset_outside_the_request_names_nothing() {
    let request = node_new_request_twice_the_same_address();
    for offs in [0u32, 16, 44, 1000, u32::MAX] {
        let tlvs = [nla(ERR_MSG, b"bad\0"), nla(ERR_OFFS, &offs.to_le_bytes())].concat();
        let reply = nlmsg(
            NLMSG_ERROR,
            NLM_F_CAPPED | NLM_F_ACK_TLVS,
            5,
            PORTID,
            &[&(-libc::EINVAL).to_le_bytes()[..], &request[..16], &tlvs].concat(),
        );
        match error_of(reply_of(&reply, 5, &request)) {
            Error::Kernel(k) => {
                assert_eq!(k.message.as_deref(), Some("bad"));
                assert_eq!(k.attr, None, "offset {offs}");
            }
            e => panic!("expected Error::Kernel, got {e:?}"),
        }
    }
}

/// A NODE_GET dump given an address: afc_nl_node_dump() refuses it with
/// EINVAL in NLMSG_DONE, whose payload is the error then the TLVs directly.
#[rustfmt::skip]
#[test]
fn done_with_error_and_extack() {
    let request: Vec<u8> = vec![
        28, 0, 0, 0,  FAM[0], FAM[1],  F_REQ_ACK_DUMP[0], F_REQ_ACK_DUMP[1],  6, 0, 0, 0,  0, 0, 0, 0,
        CMD_NODE_GET, VERSION, 0, 0,
        8, 0, A_NODE_ADDR, 0,         192, 0, 2, 1,     // at 20
    ];
    let errno = (-libc::EINVAL).to_le_bytes();
    let done: Vec<u8> = vec![
        72, 0, 0, 0,                        // len: 16 + 4 + 44 + 8
        T_DONE[0], T_DONE[1],
        F_MULTI_TLVS[0], F_MULTI_TLVS[1],
        6, 0, 0, 0,
        PID[0], PID[1], PID[2], PID[3],
        errno[0], errno[1], errno[2], errno[3],
        // NLMSGERR_ATTR_MSG "a node dump takes no node id or address\0": 40 bytes
        44, 0, ERR_MSG, 0,
        b'a', b' ', b'n', b'o', b'd', b'e', b' ', b'd', b'u', b'm', b'p', b' ',
        b't', b'a', b'k', b'e', b's', b' ', b'n', b'o', b' ', b'n', b'o', b'd',
        b'e', b' ', b'i', b'd', b' ', b'o', b'r', b' ', b'a', b'd', b'd', b'r',
        b'e', b's', b's', 0,
        // NLMSGERR_ATTR_OFFS u32 20
        8, 0, ERR_OFFS, 0,            20, 0, 0, 0,
    ];
    assert_eq!(done.len(), 72);
    match error_of(reply_of(&done, 6, &request)) {
        Error::Kernel(k) => assert_eq!(
            k,
            KernelError {
                errno: libc::EINVAL,
                message: Some("a node dump takes no node id or address".into()),
                attr: Some(Attr::NodeAddr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))),
            }
        ),
        e => panic!("expected Error::Kernel, got {e:?}"),
    }
}

/// The end of a dump: NLMSG_DONE with error 0 (and an empty one, which the
/// kernel also allows).
#[test]
fn done_without_error_ends_the_dump() {
    let done = nlmsg(NLMSG_DONE, NLM_F_MULTIPART, 6, PORTID, &0i32.to_le_bytes());
    assert_eq!(done[..4], [20, 0, 0, 0]);
    assert!(matches!(reply_of(&done, 6, &[]), Ok(Reply::Done)));
    let empty = nlmsg(NLMSG_DONE, NLM_F_MULTIPART, 6, PORTID, &[]);
    assert!(matches!(reply_of(&empty, 6, &[]), Ok(Reply::Done)));
}

/// NODE_NEW without CAP_NET_ADMIN: genetlink answers EPERM itself, with no
/// extack, so only the capped header follows the error.
#[rustfmt::skip]
#[test]
fn eperm_is_permission_denied() {
    let request = node_new_request_twice_the_same_address();
    let errno = (-libc::EPERM).to_le_bytes();
    let mut reply: Vec<u8> = vec![
        36, 0, 0, 0,  T_ERROR[0], T_ERROR[1],  F_CAPPED[0], F_CAPPED[1],
        5, 0, 0, 0,  PID[0], PID[1], PID[2], PID[3],
        errno[0], errno[1], errno[2], errno[3],
    ];
    reply.extend_from_slice(&request[..16]);
    let err = error_of(reply_of(&reply, 5, &request));
    assert_eq!(err.errno(), Some(libc::EPERM));
    match err {
        Error::PermissionDenied(k) => assert_eq!(
            k,
            KernelError { errno: libc::EPERM, message: None, attr: None }
        ),
        e => panic!("expected Error::PermissionDenied, got {e:?}"),
    }
}

#[test]
fn enoent_is_not_found() {
    let request = node_new_request_twice_the_same_address();
    let reply = nlmsg(
        NLMSG_ERROR,
        NLM_F_CAPPED,
        5,
        PORTID,
        &[&(-libc::ENOENT).to_le_bytes()[..], &request[..16]].concat(),
    );
    assert!(matches!(
        error_of(reply_of(&reply, 5, &request)),
        Error::NotFound(KernelError {
            errno: libc::ENOENT,
            ..
        })
    ));
}

#[test]
fn reply_to_another_request_is_skipped() {
    let done = nlmsg(NLMSG_DONE, NLM_F_MULTIPART, 6, PORTID, &0i32.to_le_bytes());
    let (h, bytes) = only_message(&done);
    assert!(matches!(
        decode_reply::<AfcMessage>(&h, bytes, 7, &[]),
        Ok(None)
    ));
}

/// A node as afc_nl_node_dump() puts it: afc_put_node() then SEQ.
fn dump_node(seq: u32, id: u32, addrs: &[IpAddr]) -> Vec<u8> {
    let mut attrs = vec![
        nla(A_NODE_ID, &id.to_le_bytes()),
        nla(A_NODE_STATE, &[S_UP]),
        nla(A_NODE_NAME, format!("n{id}\0").as_bytes()),
    ];
    for a in addrs {
        attrs.push(match a {
            IpAddr::V4(a) => nla(A_NODE_ADDR, &a.octets()),
            IpAddr::V6(a) => nla(A_NODE_ADDR, &a.octets()),
        });
    }
    attrs.push(nla(A_NODE_LEASE_MS, &0u32.to_le_bytes()));
    attrs.push(nla(A_SEQ, &42u64.to_le_bytes()));
    nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        seq,
        PORTID,
        &genl(CMD_NODE_GET, &attrs),
    )
}

/// One datagram of a NODE_GET dump: two nodes and NLMSG_DONE.
#[test]
fn several_messages_in_one_datagram() {
    let a4 = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let first = dump_node(6, 1, &[a4]);
    let second = dump_node(6, 12, &[a4, IpAddr::V6(V6)]);
    #[rustfmt::skip]
    let done: Vec<u8> = vec![
        20, 0, 0, 0,  T_DONE[0], T_DONE[1],  F_MULTI[0], F_MULTI[1],
        6, 0, 0, 0,  PID[0], PID[1], PID[2], PID[3],
        0, 0, 0, 0,
    ];
    assert_eq!(nlmsg(NLMSG_DONE, NLM_F_MULTIPART, 6, PORTID, &[0; 4]), done);
    let datagram = [&first[..], &second, &done].concat();

    let msgs = split_messages(&datagram).unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0].1, &first[..]);
    assert_eq!(msgs[1].1, &second[..]);
    assert_eq!(msgs[2].1, &done[..]);
    assert_eq!(msgs[0].0.length as usize, first.len());
    assert_eq!(msgs[1].0.message_type, FAMILY);
    assert_eq!(msgs[2].0.message_type, NLMSG_DONE);
    assert!(msgs.iter().all(|(h, _)| h.sequence_number == 6));

    let mut nodes = Vec::new();
    let mut done_seen = false;
    for (h, bytes) in &msgs {
        match decode_reply::<AfcMessage>(h, bytes, 6, &[]) {
            Ok(Some(Reply::Message(h, m))) => {
                assert_eq!(h.flags, NLM_F_MULTIPART);
                nodes.push(NodeReply::try_from(&m).unwrap());
            }
            Ok(Some(Reply::Done)) => done_seen = true,
            Ok(Some(other)) => panic!("unexpected {}", describe(&other)),
            Ok(None) => panic!("a message of this dump was skipped"),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(done_seen);
    assert_eq!(
        nodes,
        vec![
            NodeReply {
                node: Node {
                    id: 1,
                    state: NodeState::Up,
                    name: "n1".into(),
                    addrs: vec![a4],
                    lease_ms: 0
                },
                seq: 42
            },
            NodeReply {
                node: Node {
                    id: 12,
                    state: NodeState::Up,
                    name: "n12".into(),
                    addrs: vec![a4, IpAddr::V6(V6)],
                    lease_ms: 0
                },
                seq: 42
            },
        ]
    );
}

/// EVENT_GET replays NODE_EVENT messages, several to a datagram, flagged
/// NLM_F_MULTI: each decodes as the multicast would.
#[test]
fn event_get_replay_datagram() {
    let mut second_attrs = node_event_attrs();
    second_attrs[I_SEQ] = nla(A_SEQ, &43u64.to_le_bytes());
    let replay = |attrs: &[Vec<u8>]| {
        nlmsg(
            FAMILY,
            NLM_F_MULTIPART,
            9,
            PORTID,
            &genl(CMD_NODE_EVENT, attrs),
        )
    };
    let datagram = [
        replay(&node_event_attrs()),
        replay(&second_attrs),
        nlmsg(NLMSG_DONE, NLM_F_MULTIPART, 9, PORTID, &[0; 4]),
    ]
    .concat();
    let msgs = split_messages(&datagram).unwrap();
    assert_eq!(msgs.len(), 3);
    let mut expected = node_event_expected();
    assert_eq!(event_of(msgs[0].1), expected);
    expected.seq = 43;
    assert_eq!(event_of(msgs[1].1), expected);
    assert!(matches!(
        decode_event(msgs[2].1),
        Notification::Malformed(_)
    ));
}

// ---------------------------------------------------------------------------
// Garbage never panics.

/// xorshift64*: small, deterministic, good enough to shake a parser.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// How far the garbage got: to show the cases reach past the framing.
#[derive(Default, Debug)]
struct Reached {
    split: usize,
    events: usize,
    messages: usize,
    nodes: usize,
    kernel_errors: usize,
    named_attrs: usize,
}

/// Everything a reader does with a datagram, tallied.
fn exercise(datagram: &[u8], reached: &mut Reached) {
    let _ = decode_event(datagram);
    let Ok(msgs) = split_messages(datagram) else {
        return;
    };
    reached.split += 1;
    let request = node_new_request_twice_the_same_address();
    for (h, bytes) in msgs {
        if let Notification::Event(_) = decode_event(bytes) {
            reached.events += 1;
        }
        match decode_reply::<AfcMessage>(&h, bytes, h.sequence_number, &request) {
            Ok(Some(Reply::Message(_, m))) => {
                reached.messages += 1;
                reached.nodes += usize::from(NodeReply::try_from(&m).is_ok());
                let _ = ClusterInfo::try_from(&m);
                let _ = Event::try_from(&m);
            }
            Err(Error::Kernel(k) | Error::PermissionDenied(k) | Error::NotFound(k)) => {
                reached.kernel_errors += 1;
                reached.named_attrs += usize::from(k.attr.is_some());
            }
            _ => {}
        }
    }
}

/// A random attribute: a known type (or not) with a payload of a size
/// that is right for some type, and now and then a lying length.
fn random_attr(rng: &mut Rng) -> Vec<u8> {
    let ty = if rng.below(8) == 0 {
        rng.next() as u8
    } else {
        rng.below(uapi::AFCLUSTER_A_MAX as usize + 1) as u8
    };
    let len = [0, 1, 2, 4, 5, 8, 16, 3, 7][rng.below(9)];
    let mut a = nla(ty, &rng.bytes(len));
    if rng.below(16) == 0 {
        let lie = rng.next() as u16;
        a[..2].copy_from_slice(&lie.to_le_bytes());
    }
    a
}

fn random_case(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    match rng.below(5) {
        // Bytes and nothing else.
        0 => {
            let n = rng.below(256);
            rng.bytes(n)
        }
        // A real message with a few bytes changed.
        1 => {
            let mut b = seeds[rng.below(seeds.len())].clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            b
        }
        // A real message cut short, its length fixed up or not.
        2 => {
            let mut b = seeds[rng.below(seeds.len())].clone();
            b.truncate(rng.below(b.len() + 1));
            if b.len() >= 4 && rng.below(2) == 0 {
                let n = b.len() as u32;
                b[..4].copy_from_slice(&n.to_le_bytes());
            }
            b
        }
        // Well-framed messages of random attributes.
        3 => {
            let mut d = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let attrs: Vec<Vec<u8>> = (0..rng.below(14)).map(|_| random_attr(rng)).collect();
                let ty = [FAMILY, NLMSG_ERROR, NLMSG_DONE, rng.next() as u16][rng.below(4)];
                let cmd = [
                    CMD_NODE_EVENT,
                    CMD_NODE_GET,
                    CMD_CLUSTER_GET,
                    rng.next() as u8,
                ][rng.below(4)];
                let flags = rng.next() as u16;
                let mut payload = genl(cmd, &attrs);
                payload[1] = rng.next() as u8;
                d.extend(nlmsg(ty, flags, rng.next() as u32, PORTID, &payload));
            }
            d
        }
        // Error and done messages with random TLVs after the code.
        _ => {
            let ty = [NLMSG_ERROR, NLMSG_DONE][rng.below(2)];
            let flags = [
                NLM_F_CAPPED | NLM_F_ACK_TLVS,
                NLM_F_ACK_TLVS,
                0,
                rng.next() as u16,
            ][rng.below(4)];
            let code = [-libc::EINVAL, -libc::EPERM, 0, i32::MIN, rng.next() as i32][rng.below(5)];
            let mut payload = code.to_le_bytes().to_vec();
            if ty == NLMSG_ERROR {
                let req = node_new_request_twice_the_same_address();
                payload.extend_from_slice(&req[..[0, 4, 16, 44][rng.below(4)]]);
            }
            for _ in 0..rng.below(4) {
                let payload_len = rng.below(12);
                let mut t = nla(
                    [ERR_MSG, ERR_OFFS, 3][rng.below(3)],
                    &rng.bytes(payload_len),
                );
                if rng.below(2) == 0 {
                    let offs = [20u32, 28, 36, 40, 44, rng.next() as u32][rng.below(6)];
                    t = nla(ERR_OFFS, &offs.to_le_bytes());
                }
                payload.extend(t);
            }
            nlmsg(ty, flags, rng.next() as u32, PORTID, &payload)
        }
    }
}

#[test]
fn garbage_never_panics() {
    let seeds = vec![
        node_event_fixture(),
        event_msg(&node_event_attrs()[..5]),
        dump_node(6, 12, &[IpAddr::V6(V6)]),
        cluster_get_request(),
        node_new_request_twice_the_same_address(),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut reached = Reached::default();
    for case in 0..10_000 {
        let input = random_case(&mut rng, &seeds);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            exercise(&input, &mut reached)
        }));
        if outcome.is_err() {
            panic!("case {case} panicked on {input:02x?}");
        }
    }
    println!("{reached:?}");
    assert!(reached.split > 3000, "{reached:?}");
    assert!(reached.events > 100, "{reached:?}");
    assert!(reached.messages > 1000, "{reached:?}");
    assert!(reached.nodes > 50, "{reached:?}");
    assert!(reached.kernel_errors > 500, "{reached:?}");
    assert!(reached.named_attrs > 50, "{reached:?}");
}

/// An error code of i32::MIN in NLMSG_ERROR or NLMSG_DONE (no kernel sends
/// it, but a reader must not trust the bytes): decode_reply negates it to
/// get the errno, which overflows and panics in a debug build.
#[test]
fn error_code_i32_min_does_not_panic() {
    for ty in [NLMSG_ERROR, NLMSG_DONE] {
        let payload = [&i32::MIN.to_le_bytes()[..], &[0u8; 16]].concat();
        let reply = nlmsg(ty, NLM_F_CAPPED, 5, PORTID, &payload);
        let (h, bytes) = only_message(&reply);
        // In a release build the negation wraps: the errno must still
        // come out positive.
        let err = error_of(decode_reply::<AfcMessage>(&h, bytes, 5, &[]).map(|r| r.unwrap()));
        assert!(err.errno().is_some_and(|e| e > 0), "{err:?}");
    }
}
