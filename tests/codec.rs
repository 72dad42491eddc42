//! The attribute codec and the netlink framing, checked against byte
//! fixtures written out by hand from the netlink wire format.
//!
//! Layout (native endian, which these fixtures take to be little endian):
//! - nlmsghdr, 16 bytes: len u32, type u16, flags u16, seq u32, pid u32
//! - genlmsghdr, 4 bytes: cmd u8, version u8, reserved u16
//! - nlattr: len u16 (header included, padding not), type u16 (a nest has
//!   NLA_F_NESTED, 0x8000, set), then the payload padded with zeros to a
//!   multiple of 4. A nest's payload is attributes of its own set.
//!
//! Every number the afcluster header defines (attribute types, commands,
//! states, event kinds, causes, the family version) comes from
//! `afcluster::uapi`; the netlink ones (NLMSG_*, NLM_F_*, NLA_F_NESTED,
//! NLMSGERR_ATTR_*) from the netlink crates, the errnos from libc. Only the
//! dynamic family id, the port id, sequence numbers, the table instance and
//! payload values are literals.
#![cfg(target_endian = "little")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::client::decode_reply;
use afcluster::listener::decode_event;
use afcluster::message::{
    cmd, node_new_attrs, node_set_attrs, AddrAttr, AfcMessage, Attrs, ClusterAttr, EventAttr,
    NodeAttr, RequestAttr,
};
use afcluster::netlink::{split_messages, Reply};
use afcluster::uapi;
use afcluster::{
    Cause, ClusterInfo, Error, Event, EventKind, KernelError, Node, NodeChange, NodeReply,
    NodeState, Notification,
};
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLA_F_NESTED, NLMSG_DONE, NLMSG_ERROR,
    NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_MULTIPART, NLM_F_REQUEST,
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

// Attribute types are u16 on the wire: the fixtures write [type, 0] (or
// [type, NESTED] for a nest), which holds while every type fits a byte.
const _: () = assert!(
    uapi::AFCLUSTER_A_ADDR_MAX < 256
        && uapi::AFCLUSTER_A_NODE_MAX < 256
        && uapi::AFCLUSTER_A_CLUSTER_MAX < 256
        && uapi::AFCLUSTER_A_EVENT_MAX < 256
);
/// The high byte of a nest's type.
const NESTED: u8 = (NLA_F_NESTED >> 8) as u8;

const A_ADDR_IPV4: u8 = byte(uapi::AFCLUSTER_A_ADDR_IPV4);
const A_ADDR_IPV6: u8 = byte(uapi::AFCLUSTER_A_ADDR_IPV6);

const A_NODE_ID: u8 = byte(uapi::AFCLUSTER_A_NODE_ID);
const A_NODE_STATE: u8 = byte(uapi::AFCLUSTER_A_NODE_STATE);
const A_NODE_NAME: u8 = byte(uapi::AFCLUSTER_A_NODE_NAME);
const A_NODE_ADDR: u8 = byte(uapi::AFCLUSTER_A_NODE_ADDR);
const A_NODE_LEASE_MS: u8 = byte(uapi::AFCLUSTER_A_NODE_LEASE_MS);
const A_NODE_REPLACE_ADDRS: u8 = byte(uapi::AFCLUSTER_A_NODE_REPLACE_ADDRS);
const A_NODE_SEQ: u8 = byte(uapi::AFCLUSTER_A_NODE_SEQ);
const A_NODE_INSTANCE: u8 = byte(uapi::AFCLUSTER_A_NODE_INSTANCE);
const A_NODE_PAD: u8 = byte(uapi::AFCLUSTER_A_NODE_PAD);

const A_CLUSTER_INSTANCE: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_INSTANCE);
const A_CLUSTER_MAX_NODES: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_MAX_NODES);
const A_CLUSTER_LOCAL_NODE: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_LOCAL_NODE);
const A_CLUSTER_NODE_COUNT: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_NODE_COUNT);
const A_CLUSTER_UP_COUNT: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_UP_COUNT);
const A_CLUSTER_SEQ: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_SEQ);
const A_CLUSTER_OLDEST_SEQ: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_OLDEST_SEQ);
const A_CLUSTER_HISTORY_LEN: u8 = byte(uapi::AFCLUSTER_A_CLUSTER_HISTORY_LEN);

const A_EVENT_KIND: u8 = byte(uapi::AFCLUSTER_A_EVENT_KIND);
const A_EVENT_SEQ: u8 = byte(uapi::AFCLUSTER_A_EVENT_SEQ);
const A_EVENT_TIMESTAMP_NS: u8 = byte(uapi::AFCLUSTER_A_EVENT_TIMESTAMP_NS);
const A_EVENT_CAUSE: u8 = byte(uapi::AFCLUSTER_A_EVENT_CAUSE);
const A_EVENT_OLD_STATE: u8 = byte(uapi::AFCLUSTER_A_EVENT_OLD_STATE);
const A_EVENT_INSTANCE: u8 = byte(uapi::AFCLUSTER_A_EVENT_INSTANCE);
const A_EVENT_NODE: u8 = byte(uapi::AFCLUSTER_A_EVENT_NODE);
const A_EVENT_LOCAL_NODE: u8 = byte(uapi::AFCLUSTER_A_EVENT_LOCAL_NODE);
const A_EVENT_SINCE_SEQ: u8 = byte(uapi::AFCLUSTER_A_EVENT_SINCE_SEQ);
const A_EVENT_PAD: u8 = byte(uapi::AFCLUSTER_A_EVENT_PAD);

const CMD_CLUSTER_GET: u8 = byte(uapi::AFCLUSTER_CMD_CLUSTER_GET);
const CMD_CLUSTER_SET: u8 = byte(uapi::AFCLUSTER_CMD_CLUSTER_SET);
const CMD_NODE_GET: u8 = byte(uapi::AFCLUSTER_CMD_NODE_GET);
const CMD_NODE_NEW: u8 = byte(uapi::AFCLUSTER_CMD_NODE_NEW);
const CMD_NODE_SET: u8 = byte(uapi::AFCLUSTER_CMD_NODE_SET);
const CMD_EVENT_GET: u8 = byte(uapi::AFCLUSTER_CMD_EVENT_GET);
const CMD_EVENT_NTF: u8 = byte(uapi::AFCLUSTER_CMD_EVENT_NTF);
const VERSION: u8 = byte(uapi::AFCLUSTER_FAMILY_VERSION);

const S_NEVERUP: u8 = byte(uapi::AFCLUSTER_NODE_STATE_NEVERUP);
const S_COMINGUP: u8 = byte(uapi::AFCLUSTER_NODE_STATE_COMINGUP);
const S_UP: u8 = byte(uapi::AFCLUSTER_NODE_STATE_UP);
const E_ADDED: u8 = byte(uapi::AFCLUSTER_EVENT_KIND_ADDED);
const E_STATE: u8 = byte(uapi::AFCLUSTER_EVENT_KIND_STATE);
const E_LOCAL_NODE: u8 = byte(uapi::AFCLUSTER_EVENT_KIND_LOCAL_NODE);
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
/// The table's instance: eight distinct bytes.
const INSTANCE: u64 = 0x0102_0304_0506_0708;
const INST: [u8; 8] = INSTANCE.to_le_bytes();

// ---------------------------------------------------------------------------
// Builders, for the variants of the hand-written fixtures. Each is checked
// against a hand-written fixture before a test relies on it.

fn nla(ty: u8, payload: &[u8]) -> Vec<u8> {
    raw_nla(u16::from(ty), payload)
}

fn raw_nla(ty: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::with_capacity((len + 3) & !3);
    v.extend_from_slice(&(len as u16).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(payload);
    v.resize((len + 3) & !3, 0);
    v
}

/// A nest: NLA_F_NESTED set, the attributes as its payload.
fn nest(ty: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
    raw_nla(u16::from(ty) | NLA_F_NESTED, &attrs.concat())
}

/// An `addr` nest holding one address.
fn addr_nest(a: IpAddr) -> Vec<u8> {
    nest(
        A_NODE_ADDR,
        &[match a {
            IpAddr::V4(a) => nla(A_ADDR_IPV4, &a.octets()),
            IpAddr::V6(a) => nla(A_ADDR_IPV6, &a.octets()),
        }],
    )
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

/// An EVENT_NTF multicast (no flags, seq 0, pid 0) with these attributes.
fn event_msg(attrs: &[Vec<u8>]) -> Vec<u8> {
    nlmsg(FAMILY, 0, 0, 0, &genl(CMD_EVENT_NTF, attrs))
}

/// Emit an AfcMessage's attributes as `GenlSocket::send` would.
fn emitted(msg: &AfcMessage) -> Vec<u8> {
    let mut got = vec![0xffu8; netlink_packet_core::Emitable::buffer_len(msg)];
    netlink_packet_core::Emitable::emit(msg, &mut got);
    got
}

/// Parse a generic netlink message of the family.
fn parsed(bytes: &[u8]) -> AfcMessage {
    let back = NetlinkMessage::<GenlMessage<AfcMessage>>::deserialize(bytes)
        .expect("a well-formed message");
    let NetlinkPayload::InnerMessage(g) = back.payload else {
        panic!("not a generic netlink message");
    };
    g.payload
}

// ---------------------------------------------------------------------------
// Fixtures.

const V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);
const V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
const TIMESTAMP: u64 = 0x1122_3344_5566_7788; // 2009-02-14 10:00:16 UTC

/// The EVENT_NTF the kernel multicasts when node 7 ("node-7", 10.0.0.7
/// and 2001:db8::7, 3 s lease) goes from COMINGUP to UP through the
/// in-kernel API, as event 42: afc_put_event()'s attribute order, the node
/// in an EVENT_NODE nest, each address in a NODE_ADDR nest.
#[rustfmt::skip]
fn event_fixture() -> Vec<u8> {
    vec![
        // nlmsghdr
        156, 0, 0, 0,                       // len: 16 + 4 + 136
        FAM[0], FAM[1],                     // type: the family
        0, 0,                               // flags: a multicast has none
        0, 0, 0, 0,                         // seq
        0, 0, 0, 0,                         // pid: the kernel
        // genlmsghdr
        CMD_EVENT_NTF, VERSION, 0, 0,
        // EVENT_KIND u32 STATE
        8, 0, A_EVENT_KIND, 0,              E_STATE, 0, 0, 0,
        // EVENT_SEQ u64 42
        12, 0, A_EVENT_SEQ, 0,              42, 0, 0, 0, 0, 0, 0, 0,
        // EVENT_TIMESTAMP_NS u64 0x1122334455667788
        12, 0, A_EVENT_TIMESTAMP_NS, 0,     0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        // EVENT_CAUSE u32 KERNEL
        8, 0, A_EVENT_CAUSE, 0,             C_KERNEL, 0, 0, 0,
        // EVENT_INSTANCE u64 0x0102030405060708
        12, 0, A_EVENT_INSTANCE, 0,         8, 7, 6, 5, 4, 3, 2, 1,
        // EVENT_OLD_STATE u32 COMINGUP
        8, 0, A_EVENT_OLD_STATE, 0,         S_COMINGUP, 0, 0, 0,
        // EVENT_NODE nest: 4 + 72
        76, 0, A_EVENT_NODE, NESTED,
            // NODE_ID u32 7
            8, 0, A_NODE_ID, 0,             7, 0, 0, 0,
            // NODE_STATE u32 UP
            8, 0, A_NODE_STATE, 0,          S_UP, 0, 0, 0,
            // NODE_NAME "node-7\0" (7 bytes, 1 of padding)
            11, 0, A_NODE_NAME, 0,          b'n', b'o', b'd', b'e', b'-', b'7', 0, 0,
            // NODE_ADDR nest { ADDR_IPV4 10.0.0.7 (network order) }
            12, 0, A_NODE_ADDR, NESTED,
                8, 0, A_ADDR_IPV4, 0,       10, 0, 0, 7,
            // NODE_ADDR nest { ADDR_IPV6 2001:db8::7 }
            24, 0, A_NODE_ADDR, NESTED,
                20, 0, A_ADDR_IPV6, 0,      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 7,
            // NODE_LEASE_MS u32 3000 = 0x0bb8
            8, 0, A_NODE_LEASE_MS, 0,       0xb8, 0x0b, 0, 0,
    ]
}

/// The event node nest's attributes, one per entry, through the builder.
fn node_nest_attrs() -> Vec<Vec<u8>> {
    vec![
        nla(A_NODE_ID, &7u32.to_le_bytes()),
        nla(A_NODE_STATE, &u32::from(S_UP).to_le_bytes()),
        nla(A_NODE_NAME, b"node-7\0"),
        addr_nest(IpAddr::V4(V4)),
        addr_nest(IpAddr::V6(V6)),
        nla(A_NODE_LEASE_MS, &3000u32.to_le_bytes()),
    ]
}

// Indexes into node_nest_attrs().
const N_ID: usize = 0;
const N_STATE: usize = 1;
const N_ADDR4: usize = 3;
const N_ADDR6: usize = 4;

/// The same event's attributes, the node nest built from `node`.
fn event_attrs_with(node: &[Vec<u8>]) -> Vec<Vec<u8>> {
    vec![
        nla(A_EVENT_KIND, &u32::from(E_STATE).to_le_bytes()),
        nla(A_EVENT_SEQ, &42u64.to_le_bytes()),
        nla(A_EVENT_TIMESTAMP_NS, &TIMESTAMP.to_le_bytes()),
        nla(A_EVENT_CAUSE, &u32::from(C_KERNEL).to_le_bytes()),
        nla(A_EVENT_INSTANCE, &INSTANCE.to_le_bytes()),
        nla(A_EVENT_OLD_STATE, &u32::from(S_COMINGUP).to_le_bytes()),
        nest(A_EVENT_NODE, node),
    ]
}

fn event_attrs() -> Vec<Vec<u8>> {
    event_attrs_with(&node_nest_attrs())
}

// Indexes into event_attrs().
const I_KIND: usize = 0;
const I_SEQ: usize = 1;
const I_TIMESTAMP: usize = 2;
const I_CAUSE: usize = 3;
const I_INSTANCE: usize = 4;
const I_OLD_STATE: usize = 5;
const I_NODE: usize = 6;

fn node_7() -> Node {
    Node {
        id: 7,
        state: NodeState::Up,
        name: "node-7".into(),
        addrs: vec![IpAddr::V4(V4), IpAddr::V6(V6)],
        lease_ms: 3000,
    }
}

fn event_expected() -> Event {
    Event {
        seq: 42,
        kind: EventKind::State,
        cause: Cause::Kernel,
        timestamp_ns: TIMESTAMP,
        instance: INSTANCE,
        old_state: Some(NodeState::ComingUp),
        node: Some(node_7()),
        local_node: None,
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
// EVENT_NTF decoding.

#[test]
fn builder_reproduces_the_hand_written_event() {
    assert_eq!(event_msg(&event_attrs()), event_fixture());
}

#[test]
fn event_as_the_kernel_builds_it() {
    assert_eq!(event_of(&event_fixture()), event_expected());
}

#[test]
fn event_through_split_messages() {
    let bytes = event_fixture();
    let (h, msg) = only_message(&bytes);
    assert_eq!(h.length, 156);
    assert_eq!(h.message_type, FAMILY);
    assert_eq!(msg, &bytes[..]);
    assert_eq!(event_of(msg), event_expected());
}

/// The raw attributes, nests and all, before the typed decoding.
#[test]
fn event_attributes_decode_into_nested_values() {
    let m = parsed(&event_fixture());
    assert_eq!(m.cmd, cmd::EVENT_NTF);
    let Attrs::Event(attrs) = m.attrs else {
        panic!("EVENT_NTF carries event attributes: {:?}", m.attrs);
    };
    assert_eq!(
        attrs,
        vec![
            EventAttr::Kind(u32::from(E_STATE)),
            EventAttr::Seq(42),
            EventAttr::TimestampNs(TIMESTAMP),
            EventAttr::Cause(u32::from(C_KERNEL)),
            EventAttr::Instance(INSTANCE),
            EventAttr::OldState(u32::from(S_COMINGUP)),
            EventAttr::Node(vec![
                NodeAttr::Id(7),
                NodeAttr::State(u32::from(S_UP)),
                NodeAttr::Name("node-7".into()),
                NodeAttr::Addr(IpAddr::V4(V4)),
                NodeAttr::Addr(IpAddr::V6(V6)),
                NodeAttr::LeaseMs(3000),
            ]),
        ]
    );
}

/// An ADDED event for a node created with nothing but its id: NODE_NAME is
/// the empty string (one NUL byte), no NODE_ADDR, lease 0, no OLD_STATE.
#[rustfmt::skip]
#[test]
fn event_with_empty_name_and_no_addresses() {
    let bytes: Vec<u8> = vec![
        108, 0, 0, 0,  FAM[0], FAM[1],  0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        CMD_EVENT_NTF, VERSION, 0, 0,
        8, 0, A_EVENT_KIND, 0,          E_ADDED, 0, 0, 0,
        12, 0, A_EVENT_SEQ, 0,          1, 0, 0, 0, 0, 0, 0, 0,
        12, 0, A_EVENT_TIMESTAMP_NS, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        8, 0, A_EVENT_CAUSE, 0,         C_ADMIN, 0, 0, 0,
        12, 0, A_EVENT_INSTANCE, 0,     INST[0], INST[1], INST[2], INST[3],
                                        INST[4], INST[5], INST[6], INST[7],
        36, 0, A_EVENT_NODE, NESTED,
            8, 0, A_NODE_ID, 0,         9, 0, 0, 0,
            8, 0, A_NODE_STATE, 0,      S_NEVERUP, 0, 0, 0,
            5, 0, A_NODE_NAME, 0,       0, 0, 0, 0,
            8, 0, A_NODE_LEASE_MS, 0,   0, 0, 0, 0,
    ];
    assert_eq!(
        event_of(&bytes),
        Event {
            seq: 1,
            kind: EventKind::Added,
            cause: Cause::Admin,
            timestamp_ns: TIMESTAMP,
            instance: INSTANCE,
            old_state: None,
            node: Some(Node {
                id: 9,
                state: NodeState::NeverUp,
                name: String::new(),
                addrs: vec![],
                lease_ms: 0,
            }),
            local_node: None,
        }
    );
}

/// CLUSTER_SET changing the local node to 3: a LOCAL_NODE event, without a
/// node nest, with EVENT_LOCAL_NODE.
#[rustfmt::skip]
fn local_node_event_fixture() -> Vec<u8> {
    vec![
        80, 0, 0, 0,  FAM[0], FAM[1],  0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        CMD_EVENT_NTF, VERSION, 0, 0,
        8, 0, A_EVENT_KIND, 0,          E_LOCAL_NODE, 0, 0, 0,
        12, 0, A_EVENT_SEQ, 0,          43, 0, 0, 0, 0, 0, 0, 0,
        12, 0, A_EVENT_TIMESTAMP_NS, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        8, 0, A_EVENT_CAUSE, 0,         C_ADMIN, 0, 0, 0,
        12, 0, A_EVENT_INSTANCE, 0,     INST[0], INST[1], INST[2], INST[3],
                                        INST[4], INST[5], INST[6], INST[7],
        8, 0, A_EVENT_LOCAL_NODE, 0,    3, 0, 0, 0,
    ]
}

#[test]
fn local_node_event_has_no_node() {
    let ev = event_of(&local_node_event_fixture());
    assert_eq!(
        ev,
        Event {
            seq: 43,
            kind: EventKind::LocalNode,
            cause: Cause::Admin,
            timestamp_ns: TIMESTAMP,
            instance: INSTANCE,
            old_state: None,
            node: None,
            local_node: Some(3),
        }
    );
    assert_eq!(ev.kind.name(), "local-node");
    let json = serde_json::to_value(&ev).unwrap();
    assert_eq!(json["kind"], "local-node");
    assert_eq!(json["local_node"], 3);
    assert!(json.get("node").is_none(), "{json}");
}

#[test]
fn local_node_event_without_local_node_is_malformed() {
    let mut bytes = local_node_event_fixture();
    bytes.truncate(bytes.len() - 8);
    let len = bytes.len() as u32;
    bytes[..4].copy_from_slice(&len.to_le_bytes());
    let why = malformed(&bytes);
    assert!(why.contains("EVENT_LOCAL_NODE"), "{why}");
}

/// On an architecture without efficient unaligned access,
/// nla_put_u64_64bit() puts an empty PAD attribute before a u64 whose
/// payload would not be 8-byte aligned; a node reply has its own PAD.
#[test]
fn pad_attribute_is_tolerated() {
    let mut attrs = event_attrs();
    attrs.insert(I_SEQ, nla(A_EVENT_PAD, &[]));
    assert_eq!(attrs[I_SEQ], [4, 0, A_EVENT_PAD, 0]);
    assert_eq!(event_of(&event_msg(&attrs)), event_expected());

    let mut node = node_reply_attrs(7, &[IpAddr::V4(V4)]);
    node.insert(node.len() - 2, nla(A_NODE_PAD, &[]));
    let reply = nlmsg(FAMILY, 0, 4, PORTID, &genl(CMD_NODE_GET, &node));
    let (_, m) = message_of(reply_of(&reply, 4, &[]));
    assert_eq!(NodeReply::try_from(&m).unwrap().seq, 42);
}

/// A newer module may add attributes, to any set: they are skipped, not an
/// error -- at the top, in the node nest, in an address nest.
#[test]
fn unknown_attribute_types_are_tolerated() {
    let mut attrs = event_attrs();
    attrs.insert(2, nla(200, &[1, 2, 3, 4, 5, 6]));
    attrs.push(nla(200, &[]));
    attrs.push(nest(201, &[nla(1, &[1, 2, 3, 4])]));
    assert_eq!(event_of(&event_msg(&attrs)), event_expected());

    let mut node = node_nest_attrs();
    node[N_ADDR4] = nest(
        A_NODE_ADDR,
        &[
            nla(200, &[1]),
            nla(A_ADDR_IPV4, &V4.octets()),
            nla(201, &[]),
        ],
    );
    node.insert(1, nla(200, &[9; 12]));
    node.push(nest(201, &[]));
    assert_eq!(
        event_of(&event_msg(&event_attrs_with(&node))),
        event_expected()
    );
}

#[test]
fn truncated_attribute_is_malformed() {
    // The message ends 2 bytes into an attribute header.
    let mut attrs = event_attrs();
    attrs.push(vec![8, 0]);
    malformed(&event_msg(&attrs));

    // The message ends inside the last attribute's value: the attribute
    // says 12 bytes, the message holds 8 of them.
    let mut attrs = event_attrs();
    attrs[I_TIMESTAMP].truncate(8);
    attrs.swap(I_TIMESTAMP, I_NODE);
    let bytes = event_msg(&attrs);
    assert_eq!(
        &bytes[bytes.len() - 8..bytes.len() - 4],
        [12, 0, A_EVENT_TIMESTAMP_NS, 0]
    );
    malformed(&bytes);
}

/// The node nest says it is longer than its attributes, or one inside it
/// runs past the nest's end.
#[test]
fn truncated_nests_are_malformed() {
    let mut node = node_nest_attrs();
    node.push(vec![8, 0]);
    malformed(&event_msg(&event_attrs_with(&node)));

    let mut node = node_nest_attrs();
    // The IPv6 attribute inside its address nest claims 24 bytes.
    node[N_ADDR6][4..6].copy_from_slice(&24u16.to_le_bytes());
    let why = malformed(&event_msg(&event_attrs_with(&node)));
    assert!(why.contains("NODE_ADDR"), "{why}");
}

#[test]
fn attribute_length_past_the_end_is_malformed() {
    let mut attrs = event_attrs();
    // EVENT_KIND claims 0x100 bytes; the message is far shorter.
    attrs[I_KIND][..2].copy_from_slice(&0x100u16.to_le_bytes());
    malformed(&event_msg(&attrs));
}

#[test]
fn attribute_length_below_its_header_is_malformed() {
    for len in [0u16, 1, 3] {
        let mut attrs = event_attrs();
        attrs[I_CAUSE][..2].copy_from_slice(&len.to_le_bytes());
        malformed(&event_msg(&attrs));

        let mut node = node_nest_attrs();
        node[N_STATE][..2].copy_from_slice(&len.to_le_bytes());
        malformed(&event_msg(&event_attrs_with(&node)));
    }
}

#[test]
fn malformed_address_nests_are_malformed() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            nest(A_NODE_ADDR, &[nla(A_ADDR_IPV4, &[10, 0, 0, 7, 1])]),
            "ADDR_IPV4",
        ),
        (
            nest(A_NODE_ADDR, &[nla(A_ADDR_IPV6, &V6.octets()[..15])]),
            "ADDR_IPV6",
        ),
        (nest(A_NODE_ADDR, &[]), "no IPv4 or IPv6"),
        (nest(A_NODE_ADDR, &[nla(200, &[10, 0, 0, 7])]), "no IPv4"),
        (
            nest(
                A_NODE_ADDR,
                &[
                    nla(A_ADDR_IPV4, &V4.octets()),
                    nla(A_ADDR_IPV6, &V6.octets()),
                ],
            ),
            "two addresses",
        ),
        // The old ABI's flat address: a binary attribute, not a nest.
        (nla(A_NODE_ADDR, &V4.octets()), "NODE_ADDR"),
    ];
    for (addr, why_expected) in cases {
        let mut node = node_nest_attrs();
        node[N_ADDR4] = addr;
        let why = malformed(&event_msg(&event_attrs_with(&node)));
        assert!(why.contains(why_expected), "{why_expected}: {why}");
    }
}

#[test]
fn unknown_enum_values_are_malformed() {
    let mut node = node_nest_attrs();
    node[N_STATE] = nla(A_NODE_STATE, &200u32.to_le_bytes());
    let why = malformed(&event_msg(&event_attrs_with(&node)));
    assert!(why.contains("NODE_STATE"), "{why}");

    let mut attrs = event_attrs();
    attrs[I_OLD_STATE] = nla(A_EVENT_OLD_STATE, &200u32.to_le_bytes());
    malformed(&event_msg(&attrs));

    let mut attrs = event_attrs();
    attrs[I_KIND] = nla(A_EVENT_KIND, &0x100u32.to_le_bytes());
    let why = malformed(&event_msg(&attrs));
    assert!(why.contains("kind"), "{why}");

    let mut attrs = event_attrs();
    attrs[I_CAUSE] = nla(A_EVENT_CAUSE, &9u32.to_le_bytes());
    let why = malformed(&event_msg(&attrs));
    assert!(why.contains("cause"), "{why}");
}

/// The old ABI's one-byte enums: every enum is a u32 now.
#[test]
fn one_byte_enums_are_malformed() {
    let mut attrs = event_attrs();
    attrs[I_KIND] = nla(A_EVENT_KIND, &[E_STATE]);
    malformed(&event_msg(&attrs));

    let mut node = node_nest_attrs();
    node[N_STATE] = nla(A_NODE_STATE, &[S_UP]);
    malformed(&event_msg(&event_attrs_with(&node)));
}

#[test]
fn missing_attributes_are_malformed() {
    let mut node = node_nest_attrs();
    node.remove(N_ID);
    let why = malformed(&event_msg(&event_attrs_with(&node)));
    assert!(why.contains("NODE_ID"), "{why}");

    for (i, name) in [
        (I_SEQ, "EVENT_SEQ"),
        (I_INSTANCE, "EVENT_INSTANCE"),
        (I_KIND, "EVENT_KIND"),
        (I_NODE, "EVENT_NODE"),
    ] {
        let mut attrs = event_attrs();
        attrs.remove(i);
        let why = malformed(&event_msg(&attrs));
        assert!(why.contains(name), "{name}: {why}");
    }
}

#[test]
fn four_byte_u64_attribute_is_malformed() {
    for i in [I_TIMESTAMP, I_SEQ, I_INSTANCE] {
        let mut attrs = event_attrs();
        let ty = attrs[i][2];
        attrs[i] = nla(ty, &0x5566_7788u32.to_le_bytes());
        let why = malformed(&event_msg(&attrs));
        assert!(why.contains("u64"), "{why}");
    }
}

#[test]
fn other_command_is_not_an_event() {
    let mut bytes = event_fixture();
    for other in [CMD_NODE_GET, CMD_CLUSTER_GET, 200] {
        bytes[16] = other;
        malformed(&bytes);
    }
}

#[test]
fn short_or_overlong_frames_are_malformed() {
    let bytes = event_fixture();
    // Shorter than a netlink header, or than a generic netlink one.
    malformed(&bytes[..15]);
    malformed(&nlmsg(FAMILY, 0, 0, 0, &[CMD_EVENT_NTF, VERSION]));
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

/// A request as `GenlSocket::send` frames it.
fn framed_request(msg: AfcMessage, seq: u32, flags: u16) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(msg);
    genl.set_resolved_family_id(FAMILY);
    let mut msg = NetlinkMessage::from(genl);
    msg.header.flags = flags;
    msg.header.sequence_number = seq;
    msg.finalize();
    let mut got = vec![0u8; msg.buffer_len()];
    msg.serialize(&mut got);
    got
}

/// NODE_NEW for node 7 as `Client::add` builds it: the addresses as
/// NODE_ADDR nests, no REPLACE_ADDRS.
#[rustfmt::skip]
#[test]
fn node_new_request_encoding() {
    let change = NodeChange {
        state: Some(NodeState::ComingUp),
        name: Some("node-7".into()),
        addrs: Some(vec![IpAddr::V4(V4), IpAddr::V6(V6)]),
        lease_ms: Some(3000),
    };
    let got = framed_request(
        AfcMessage::node(cmd::NODE_NEW, node_new_attrs(7, &change)),
        5,
        NLM_F_REQUEST | NLM_F_ACK,
    );
    let want: Vec<u8> = vec![
        // nlmsghdr
        92, 0, 0, 0,                        // len: 16 + 4 + 72
        FAM[0], FAM[1],
        F_REQ_ACK[0], F_REQ_ACK[1],
        5, 0, 0, 0,                         // seq
        0, 0, 0, 0,                         // pid: left to the kernel
        // genlmsghdr
        CMD_NODE_NEW, VERSION, 0, 0,
        8, 0, A_NODE_ID, 0,             7, 0, 0, 0,
        8, 0, A_NODE_STATE, 0,          S_COMINGUP, 0, 0, 0,
        11, 0, A_NODE_NAME, 0,          b'n', b'o', b'd', b'e', b'-', b'7', 0, 0,
        12, 0, A_NODE_ADDR, NESTED,
            8, 0, A_ADDR_IPV4, 0,       10, 0, 0, 7,
        24, 0, A_NODE_ADDR, NESTED,
            20, 0, A_ADDR_IPV6, 0,      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 7,
        8, 0, A_NODE_LEASE_MS, 0,       0xb8, 0x0b, 0, 0,
    ];
    assert_eq!(got, want);

    // And it reads back as what was sent.
    let back = parsed(&want);
    assert_eq!(back.cmd, cmd::NODE_NEW);
    assert_eq!(back.attrs, Attrs::Node(node_new_attrs(7, &change)));
}

/// NODE_SET with an address list: the nests and REPLACE_ADDRS, a flag
/// (an attribute without payload).
#[rustfmt::skip]
#[test]
fn node_set_replacing_the_addresses() {
    let change = NodeChange {
        addrs: Some(vec![IpAddr::V4(V4)]),
        ..NodeChange::default()
    };
    let attrs = node_set_attrs(3, &change);
    assert_eq!(
        attrs,
        vec![NodeAttr::Id(3), NodeAttr::Addr(IpAddr::V4(V4)), NodeAttr::ReplaceAddrs]
    );
    let want = [
        8, 0, A_NODE_ID, 0,                 3, 0, 0, 0,
        12, 0, A_NODE_ADDR, NESTED,
            8, 0, A_ADDR_IPV4, 0,           10, 0, 0, 7,
        4, 0, A_NODE_REPLACE_ADDRS, 0,
    ];
    assert_eq!(emitted(&AfcMessage::node(cmd::NODE_SET, attrs.clone())), want);
    let back = parsed(&nlmsg(FAMILY, 0, 1, 0, &genl(CMD_NODE_SET, &[want.to_vec()])));
    assert_eq!(back.attrs, Attrs::Node(attrs));
}

/// `set --no-addrs`: REPLACE_ADDRS alone empties the list; without an
/// address list NODE_SET sends no flag and keeps the addresses.
#[test]
fn node_set_emptying_or_keeping_the_addresses() {
    let empty = NodeChange {
        addrs: Some(vec![]),
        ..NodeChange::default()
    };
    assert_eq!(
        node_set_attrs(3, &empty),
        vec![NodeAttr::Id(3), NodeAttr::ReplaceAddrs]
    );
    // NODE_NEW has no flag: a new node has exactly the addresses given.
    assert_eq!(node_new_attrs(3, &empty), vec![NodeAttr::Id(3)]);
    let keep = NodeChange {
        state: Some(NodeState::Up),
        ..NodeChange::default()
    };
    assert_eq!(
        node_set_attrs(3, &keep),
        vec![NodeAttr::Id(3), NodeAttr::State(u32::from(S_UP))]
    );
}

/// NODE_SET that only renames to "": the empty name is one NUL byte and
/// three bytes of zero padding; absent fields emit no attribute.
#[test]
fn node_set_empty_name_encoding() {
    let change = NodeChange {
        name: Some(String::new()),
        ..NodeChange::default()
    };
    let attrs = node_set_attrs(3, &change);
    assert_eq!(attrs, vec![NodeAttr::Id(3), NodeAttr::Name(String::new())]);
    #[rustfmt::skip]
    let want = [
        8, 0, A_NODE_ID, 0,     3, 0, 0, 0,
        5, 0, A_NODE_NAME, 0,   0, 0, 0, 0,
    ];
    assert_eq!(emitted(&AfcMessage::node(cmd::NODE_SET, attrs)), want);
}

/// EVENT_GET as `Client::events_since` builds it, with the instance.
#[rustfmt::skip]
#[test]
fn event_get_request_encoding() {
    let got = framed_request(
        AfcMessage::event(
            cmd::EVENT_GET,
            vec![EventAttr::SinceSeq(5), EventAttr::Instance(INSTANCE)],
        ),
        6,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP,
    );
    assert_eq!(got, event_get_request());
}

#[rustfmt::skip]
fn event_get_request() -> Vec<u8> {
    vec![
        44, 0, 0, 0,  FAM[0], FAM[1],  F_REQ_ACK_DUMP[0], F_REQ_ACK_DUMP[1],  6, 0, 0, 0,  0, 0, 0, 0,
        CMD_EVENT_GET, VERSION, 0, 0,
        12, 0, A_EVENT_SINCE_SEQ, 0,    5, 0, 0, 0, 0, 0, 0, 0,             // at 20
        12, 0, A_EVENT_INSTANCE, 0,     INST[0], INST[1], INST[2], INST[3], // at 32
                                        INST[4], INST[5], INST[6], INST[7],
    ]
}

#[rustfmt::skip]
#[test]
fn cluster_set_request_encoding() {
    let got = framed_request(
        AfcMessage::cluster(cmd::CLUSTER_SET, vec![ClusterAttr::LocalNode(3)]),
        2,
        NLM_F_REQUEST | NLM_F_ACK,
    );
    let want: Vec<u8> = vec![
        28, 0, 0, 0,  FAM[0], FAM[1],  F_REQ_ACK[0], F_REQ_ACK[1],  2, 0, 0, 0,  0, 0, 0, 0,
        CMD_CLUSTER_SET, VERSION, 0, 0,
        8, 0, A_CLUSTER_LOCAL_NODE, 0,  3, 0, 0, 0,
    ];
    assert_eq!(got, want);
}

/// Every attribute of every set encodes to the size and bytes the spec
/// says and decodes back to itself.
#[test]
fn every_attribute_round_trips() {
    fn check(cmd: u8, msg: AfcMessage, wire: Vec<u8>) {
        assert_eq!(emitted(&msg), wire, "{msg:?}");
        let framed = nlmsg(FAMILY, 0, 1, 0, &genl(cmd, &[wire]));
        assert_eq!(parsed(&framed), msg);
    }
    let u32le = |v: u32| v.to_le_bytes().to_vec();
    let u64le = |v: u64| v.to_le_bytes().to_vec();
    let node: Vec<(NodeAttr, Vec<u8>)> = vec![
        (NodeAttr::Id(0x0102_0304), nla(A_NODE_ID, &[4, 3, 2, 1])),
        (
            NodeAttr::State(u32::from(S_UP)),
            nla(A_NODE_STATE, &u32le(S_UP.into())),
        ),
        (NodeAttr::Name("a".into()), nla(A_NODE_NAME, b"a\0")),
        (NodeAttr::Addr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))), {
            nest(A_NODE_ADDR, &[nla(A_ADDR_IPV4, &[192, 0, 2, 1])])
        }),
        (
            NodeAttr::Addr(IpAddr::V6(V6)),
            nest(A_NODE_ADDR, &[nla(A_ADDR_IPV6, &V6.octets())]),
        ),
        (
            NodeAttr::LeaseMs(3000),
            nla(A_NODE_LEASE_MS, &[0xb8, 0x0b, 0, 0]),
        ),
        (NodeAttr::ReplaceAddrs, nla(A_NODE_REPLACE_ADDRS, &[])),
        (NodeAttr::Seq(TIMESTAMP), nla(A_NODE_SEQ, &u64le(TIMESTAMP))),
        (NodeAttr::Instance(INSTANCE), nla(A_NODE_INSTANCE, &INST)),
    ];
    for (a, wire) in node {
        check(CMD_NODE_SET, AfcMessage::node(cmd::NODE_SET, vec![a]), wire);
    }
    let cluster: Vec<(ClusterAttr, Vec<u8>)> = vec![
        (
            ClusterAttr::Instance(INSTANCE),
            nla(A_CLUSTER_INSTANCE, &INST),
        ),
        (
            ClusterAttr::MaxNodes(64),
            nla(A_CLUSTER_MAX_NODES, &[64, 0, 0, 0]),
        ),
        (
            ClusterAttr::LocalNode(7),
            nla(A_CLUSTER_LOCAL_NODE, &[7, 0, 0, 0]),
        ),
        (
            ClusterAttr::NodeCount(3),
            nla(A_CLUSTER_NODE_COUNT, &[3, 0, 0, 0]),
        ),
        (
            ClusterAttr::UpCount(2),
            nla(A_CLUSTER_UP_COUNT, &[2, 0, 0, 0]),
        ),
        (
            ClusterAttr::Seq(TIMESTAMP),
            nla(A_CLUSTER_SEQ, &u64le(TIMESTAMP)),
        ),
        (
            ClusterAttr::OldestSeq(1),
            nla(A_CLUSTER_OLDEST_SEQ, &u64le(1)),
        ),
        (
            ClusterAttr::HistoryLen(1024),
            nla(A_CLUSTER_HISTORY_LEN, &[0, 4, 0, 0]),
        ),
    ];
    for (a, wire) in cluster {
        check(
            CMD_CLUSTER_GET,
            AfcMessage::cluster(cmd::CLUSTER_GET, vec![a]),
            wire,
        );
    }
    let event: Vec<(EventAttr, Vec<u8>)> = vec![
        (
            EventAttr::Kind(u32::from(E_STATE)),
            nla(A_EVENT_KIND, &u32le(E_STATE.into())),
        ),
        (
            EventAttr::Seq(TIMESTAMP),
            nla(A_EVENT_SEQ, &u64le(TIMESTAMP)),
        ),
        (
            EventAttr::TimestampNs(TIMESTAMP),
            nla(A_EVENT_TIMESTAMP_NS, &u64le(TIMESTAMP)),
        ),
        (
            EventAttr::Cause(u32::from(C_KERNEL)),
            nla(A_EVENT_CAUSE, &u32le(C_KERNEL.into())),
        ),
        (
            EventAttr::OldState(u32::from(S_COMINGUP)),
            nla(A_EVENT_OLD_STATE, &u32le(S_COMINGUP.into())),
        ),
        (EventAttr::Instance(INSTANCE), nla(A_EVENT_INSTANCE, &INST)),
        (
            EventAttr::Node(vec![NodeAttr::Id(7), NodeAttr::Addr(IpAddr::V4(V4))]),
            nest(
                A_EVENT_NODE,
                &[nla(A_NODE_ID, &u32le(7)), addr_nest(IpAddr::V4(V4))],
            ),
        ),
        (EventAttr::Node(vec![]), nest(A_EVENT_NODE, &[])),
        (EventAttr::LocalNode(7), nla(A_EVENT_LOCAL_NODE, &u32le(7))),
        (
            EventAttr::SinceSeq(u64::MAX - 1),
            nla(A_EVENT_SINCE_SEQ, &u64le(u64::MAX - 1)),
        ),
    ];
    for (a, wire) in event {
        check(
            CMD_EVENT_NTF,
            AfcMessage::event(cmd::EVENT_NTF, vec![a]),
            wire,
        );
    }
    // The address nest's own attributes, inside a NODE_ADDR nest.
    for (a, wire) in [
        (AddrAttr::Ipv4(V4), nla(A_ADDR_IPV4, &[10, 0, 0, 7])),
        (AddrAttr::Ipv6(V6), nla(A_ADDR_IPV6, &V6.octets())),
    ] {
        let ip = a.ip().unwrap();
        check(
            CMD_NODE_GET,
            AfcMessage::node(cmd::NODE_GET, vec![NodeAttr::Addr(ip)]),
            nest(A_NODE_ADDR, &[wire]),
        );
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

/// CLUSTER_GET's reply (afc_put_cluster()'s order), then the ack the
/// kernel sends after it in a datagram of its own.
#[rustfmt::skip]
#[test]
fn cluster_get_reply_decodes_into_cluster_info() {
    let request = cluster_get_request();
    let reply: Vec<u8> = vec![
        96, 0, 0, 0,                        // len: 16 + 4 + 76
        FAM[0], FAM[1],
        0, 0,                               // flags
        3, 0, 0, 0,                         // seq: the request's
        PID[0], PID[1], PID[2], PID[3],     // pid: the requester's port
        CMD_CLUSTER_GET, VERSION, 0, 0,
        12, 0, A_CLUSTER_INSTANCE, 0,       INST[0], INST[1], INST[2], INST[3],
                                            INST[4], INST[5], INST[6], INST[7],
        8, 0, A_CLUSTER_MAX_NODES, 0,       64, 0, 0, 0,
        8, 0, A_CLUSTER_LOCAL_NODE, 0,      7, 0, 0, 0,
        8, 0, A_CLUSTER_NODE_COUNT, 0,      3, 0, 0, 0,
        8, 0, A_CLUSTER_UP_COUNT, 0,        2, 0, 0, 0,
        // SEQ 0x1_0000_002a: the high word counts too
        12, 0, A_CLUSTER_SEQ, 0,            0x2a, 0, 0, 0, 1, 0, 0, 0,
        // OLDEST_SEQ 0xffff_fc2b = SEQ - HISTORY_LEN + 1
        12, 0, A_CLUSTER_OLDEST_SEQ, 0,     0x2b, 0xfc, 0xff, 0xff, 0, 0, 0, 0,
        // HISTORY_LEN 1024
        8, 0, A_CLUSTER_HISTORY_LEN, 0,     0, 4, 0, 0,
    ];
    let (h, m) = message_of(reply_of(&reply, 3, &request));
    assert_eq!(h.port_number, PORTID);
    assert_eq!(m.cmd, cmd::CLUSTER_GET);
    let info = ClusterInfo::try_from(&m).unwrap();
    assert_eq!(
        info,
        ClusterInfo {
            instance: INSTANCE,
            max_nodes: 64,
            local_node: 7,
            node_count: 3,
            up_count: 2,
            seq: 0x1_0000_002a,
            oldest_seq: 0xffff_fc2b,
            history_len: 1024,
        }
    );
    // CLUSTER_SET's reply is the same message with its own command.
    let mut set_reply = reply.clone();
    set_reply[16] = CMD_CLUSTER_SET;
    let (_, m) = message_of(reply_of(&set_reply, 3, &request));
    assert_eq!(ClusterInfo::try_from(&m).unwrap(), info);

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
    let all = [
        nla(A_CLUSTER_INSTANCE, &INST),
        nla(A_CLUSTER_MAX_NODES, &64u32.to_le_bytes()),
        nla(A_CLUSTER_LOCAL_NODE, &7u32.to_le_bytes()),
        nla(A_CLUSTER_NODE_COUNT, &3u32.to_le_bytes()),
        nla(A_CLUSTER_UP_COUNT, &2u32.to_le_bytes()),
        nla(A_CLUSTER_SEQ, &42u64.to_le_bytes()),
        nla(A_CLUSTER_OLDEST_SEQ, &1u64.to_le_bytes()),
        nla(A_CLUSTER_HISTORY_LEN, &42u32.to_le_bytes()),
    ];
    let names = [
        "INSTANCE",
        "MAX_NODES",
        "LOCAL_NODE",
        "NODE_COUNT",
        "UP_COUNT",
        "CLUSTER_SEQ",
        "OLDEST_SEQ",
        "HISTORY_LEN",
    ];
    for (i, name) in names.iter().enumerate() {
        let mut attrs = all.to_vec();
        attrs.remove(i);
        let reply = nlmsg(FAMILY, 0, 3, PORTID, &genl(CMD_CLUSTER_GET, &attrs));
        let (_, m) = message_of(reply_of(&reply, 3, &cluster_get_request()));
        let err = ClusterInfo::try_from(&m).expect_err(name);
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}

#[test]
fn four_byte_u64_in_a_reply_is_an_error() {
    let reply = nlmsg(
        FAMILY,
        0,
        3,
        PORTID,
        &genl(
            CMD_CLUSTER_GET,
            &[nla(A_CLUSTER_OLDEST_SEQ, &1u32.to_le_bytes())],
        ),
    );
    let (h, bytes) = only_message(&reply);
    let r = decode_reply::<AfcMessage>(&h, bytes, 3, &cluster_get_request());
    assert!(matches!(r, Err(Error::Decode(_))));
}

/// A node as the kernel puts it in a NODE_* reply: afc_put_node_attrs()
/// then SEQ and INSTANCE.
fn node_reply_attrs(id: u32, addrs: &[IpAddr]) -> Vec<Vec<u8>> {
    let mut attrs = vec![
        nla(A_NODE_ID, &id.to_le_bytes()),
        nla(A_NODE_STATE, &u32::from(S_UP).to_le_bytes()),
        nla(A_NODE_NAME, format!("n{id}\0").as_bytes()),
    ];
    attrs.extend(addrs.iter().map(|a| addr_nest(*a)));
    attrs.push(nla(A_NODE_LEASE_MS, &0u32.to_le_bytes()));
    attrs.push(nla(A_NODE_SEQ, &42u64.to_le_bytes()));
    attrs.push(nla(A_NODE_INSTANCE, &INSTANCE.to_le_bytes()));
    attrs
}

/// A NODE_GET dump's message for node `id`.
fn dump_node(seq: u32, id: u32, addrs: &[IpAddr]) -> Vec<u8> {
    nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        seq,
        PORTID,
        &genl(CMD_NODE_GET, &node_reply_attrs(id, addrs)),
    )
}

/// NODE_SET's reply: the node's new description, the seq of the last
/// event the request caused, the instance.
#[rustfmt::skip]
#[test]
fn node_set_reply_decodes_into_node_reply() {
    let reply: Vec<u8> = vec![
        88, 0, 0, 0,  FAM[0], FAM[1],  0, 0,  5, 0, 0, 0,  PID[0], PID[1], PID[2], PID[3],
        CMD_NODE_SET, VERSION, 0, 0,
        8, 0, A_NODE_ID, 0,                 3, 0, 0, 0,
        8, 0, A_NODE_STATE, 0,              S_UP, 0, 0, 0,
        7, 0, A_NODE_NAME, 0,               b'g', b'w', 0, 0,
        12, 0, A_NODE_ADDR, NESTED,
            8, 0, A_ADDR_IPV4, 0,           10, 0, 0, 7,
        8, 0, A_NODE_LEASE_MS, 0,           0x88, 0x13, 0, 0,
        12, 0, A_NODE_SEQ, 0,               9, 0, 0, 0, 0, 0, 0, 0,
        12, 0, A_NODE_INSTANCE, 0,          INST[0], INST[1], INST[2], INST[3],
                                            INST[4], INST[5], INST[6], INST[7],
    ];
    let (_, m) = message_of(reply_of(&reply, 5, &[]));
    let r = NodeReply::try_from(&m).unwrap();
    assert_eq!(
        r,
        NodeReply {
            node: Node {
                id: 3,
                state: NodeState::Up,
                name: "gw".into(),
                addrs: vec![IpAddr::V4(V4)],
                lease_ms: 5000,
            },
            seq: 9,
            instance: INSTANCE,
        }
    );
    // `afcluster --json set` prints this object.
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({
            "id": 3, "state": "up", "name": "gw", "addrs": ["10.0.0.7"],
            "lease_ms": 5000, "seq": 9, "instance": INSTANCE,
        })
    );
    // Without SEQ or INSTANCE it is no reply of this ABI.
    for cut in [24, 12] {
        let mut short = reply[..reply.len() - cut].to_vec();
        let len = short.len() as u32;
        short[..4].copy_from_slice(&len.to_le_bytes());
        let (_, m) = message_of(reply_of(&short, 5, &[]));
        let err = NodeReply::try_from(&m).expect_err("SEQ or INSTANCE missing");
        assert!(err.to_string().contains("NODE_"), "{err}");
    }
}

/// NODE_NEW for node 7 with 10.0.0.7 twice: 16 + 4 + 8 + 2 * 12 bytes.
/// The second NODE_ADDR nest starts at byte 40, its ADDR_IPV4 at 44.
#[rustfmt::skip]
fn node_new_request_twice_the_same_address() -> Vec<u8> {
    vec![
        52, 0, 0, 0,  FAM[0], FAM[1],  F_REQ_ACK[0], F_REQ_ACK[1],  5, 0, 0, 0,  0, 0, 0, 0,
        CMD_NODE_NEW, VERSION, 0, 0,
        8, 0, A_NODE_ID, 0,             7, 0, 0, 0,     // at 20
        12, 0, A_NODE_ADDR, NESTED,                     // at 28
            8, 0, A_ADDR_IPV4, 0,       10, 0, 0, 7,    // at 32
        12, 0, A_NODE_ADDR, NESTED,                     // at 40
            8, 0, A_ADDR_IPV4, 0,       10, 0, 0, 7,    // at 44
    ]
}

/// An NLMSG_ERROR for `request` with errno, extack message and offset,
/// capped (NETLINK_CAP_ACK: only the request's 16-byte header echoed).
fn capped_error(request: &[u8], errno: i32, msg: &[u8], offs: u32) -> Vec<u8> {
    let tlvs = [nla(ERR_MSG, msg), nla(ERR_OFFS, &offs.to_le_bytes())].concat();
    nlmsg(
        NLMSG_ERROR,
        NLM_F_CAPPED | NLM_F_ACK_TLVS,
        u32::from_le_bytes([request[8], request[9], request[10], request[11]]),
        PORTID,
        &[&(-errno).to_le_bytes()[..], &request[..16], &tlvs].concat(),
    )
}

/// What the kernel answers that request with: EINVAL, extack message
/// "address given twice" and the offset of the second address nest. The
/// socket has NETLINK_CAP_ACK: only the request's 16-byte header is echoed
/// (its nlmsg_len still says 52), then the TLVs.
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
        // NLMSGERR_ATTR_OFFS u32 40
        8, 0, ERR_OFFS, 0,            40, 0, 0, 0,
    ]);
    assert_eq!(reply.len(), 68);
    assert_eq!(capped_error(&request, libc::EINVAL, b"address given twice\0", 40), reply);

    let expected = KernelError {
        errno: libc::EINVAL,
        message: Some("address given twice".into()),
        attr: Some(RequestAttr::Node(NodeAttr::Addr(IpAddr::V4(V4)))),
    };
    match error_of(reply_of(&reply, 5, &request)) {
        Error::Kernel(k) => {
            assert_eq!(k, expected);
            assert_eq!(k.to_string(), "address given twice (address 10.0.0.7)");
        }
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

/// The policy's own checks point inside the nest: at the ADDR_IPV4.
#[test]
fn extack_offset_inside_a_nest_names_the_inner_attribute() {
    let request = node_new_request_twice_the_same_address();
    let reply = capped_error(&request, libc::EADDRINUSE, b"taken\0", 44);
    match error_of(reply_of(&reply, 5, &request)) {
        Error::Kernel(k) => {
            assert_eq!(k.attr, Some(RequestAttr::Addr(AddrAttr::Ipv4(V4))));
            assert_eq!(
                k.attr.as_ref().and_then(RequestAttr::addr),
                Some(IpAddr::V4(V4))
            );
        }
        e => panic!("expected Error::Kernel, got {e:?}"),
    }
    let reply = capped_error(&request, libc::ERANGE, b"too big\0", 20);
    match error_of(reply_of(&reply, 5, &request)) {
        Error::Kernel(k) => assert_eq!(k.attr, Some(RequestAttr::Node(NodeAttr::Id(7)))),
        e => panic!("expected Error::Kernel, got {e:?}"),
    }
}

/// An offset where no attribute starts names no attribute: outside the
/// attributes, inside an attribute's header or value, past the end.
#[test]
fn extack_offset_outside_any_attribute_names_nothing() {
    let request = node_new_request_twice_the_same_address();
    for offs in [0u32, 16, 22, 24, 30, 36, 42, 48, 52, 1000, u32::MAX] {
        let reply = capped_error(&request, libc::EINVAL, b"bad\0", offs);
        match error_of(reply_of(&reply, 5, &request)) {
            Error::Kernel(k) => {
                assert_eq!(k.message.as_deref(), Some("bad"));
                assert_eq!(k.attr, None, "offset {offs}");
            }
            e => panic!("expected Error::Kernel, got {e:?}"),
        }
    }
}

/// EVENT_GET with another table's instance: the dump's start refuses it
/// with ESTALE in NLMSG_DONE, whose payload is the error then the TLVs
/// directly; the client calls it `Error::Stale`.
#[rustfmt::skip]
#[test]
fn done_with_estale_is_stale() {
    let request = event_get_request();
    let errno = (-libc::ESTALE).to_le_bytes();
    let mut done: Vec<u8> = vec![
        60, 0, 0, 0,                        // len: 16 + 4 + 32 + 8
        T_DONE[0], T_DONE[1],
        F_MULTI_TLVS[0], F_MULTI_TLVS[1],
        6, 0, 0, 0,
        PID[0], PID[1], PID[2], PID[3],
        errno[0], errno[1], errno[2], errno[3],
    ];
    // NLMSGERR_ATTR_MSG "INSTANCE is another table's\0": 28 bytes
    done.extend_from_slice(&nla(ERR_MSG, b"INSTANCE is another table's\0"));
    // NLMSGERR_ATTR_OFFS u32 32: the INSTANCE attribute
    done.extend_from_slice(&[8, 0, ERR_OFFS, 0, 32, 0, 0, 0]);
    assert_eq!(done.len(), 60);
    let err = error_of(reply_of(&done, 6, &request));
    let Error::Kernel(k) = &err else {
        panic!("expected Error::Kernel, got {err:?}");
    };
    assert_eq!(
        k,
        &KernelError {
            errno: libc::ESTALE,
            message: Some("INSTANCE is another table's".into()),
            attr: Some(RequestAttr::Event(EventAttr::Instance(INSTANCE))),
        }
    );
    let stale = err.of_event_get();
    assert!(matches!(stale, Error::Stale(_)), "{stale:?}");
    assert_eq!(stale.errno(), Some(libc::ESTALE));
    assert!(stale.to_string().contains("replaced"), "{stale}");
}

/// ERANGE from EVENT_GET is `Error::HistoryGone`; from anything else (a
/// node id past max_nodes) it stays a plain kernel error.
#[test]
fn erange_of_event_get_is_history_gone() {
    let request = event_get_request();
    let done = nlmsg(
        NLMSG_DONE,
        NLM_F_MULTIPART | NLM_F_ACK_TLVS,
        6,
        PORTID,
        &[
            &(-libc::ERANGE).to_le_bytes()[..],
            &nla(
                ERR_MSG,
                b"the event history no longer reaches back to SINCE_SEQ\0",
            ),
            &nla(ERR_OFFS, &20u32.to_le_bytes()),
        ]
        .concat(),
    );
    let err = error_of(reply_of(&done, 6, &request));
    match &err {
        Error::Kernel(k) => assert_eq!(k.attr, Some(RequestAttr::Event(EventAttr::SinceSeq(5)))),
        e => panic!("expected Error::Kernel, got {e:?}"),
    }
    let gone = err.of_event_get();
    assert!(matches!(gone, Error::HistoryGone(_)), "{gone:?}");
    assert!(gone.to_string().contains("dump the table again"), "{gone}");
    assert!(gone.to_string().contains("(since seq 5)"), "{gone}");

    let other = Error::from_kernel(KernelError {
        errno: libc::EINVAL,
        message: None,
        attr: None,
    });
    assert!(matches!(other.of_event_get(), Error::Kernel(_)));
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
    let node = |id: u32, addrs: Vec<IpAddr>| NodeReply {
        node: Node {
            id,
            state: NodeState::Up,
            name: format!("n{id}"),
            addrs,
            lease_ms: 0,
        },
        seq: 42,
        instance: INSTANCE,
    };
    assert_eq!(
        nodes,
        vec![node(1, vec![a4]), node(12, vec![a4, IpAddr::V6(V6)])]
    );
}

/// EVENT_GET replays events, several to a datagram, flagged NLM_F_MULTI,
/// with the command EVENT_GET and the attributes the multicast had: each
/// decodes as the multicast would.
#[test]
fn event_get_replay_datagram() {
    let mut second_attrs = event_attrs();
    second_attrs[I_SEQ] = nla(A_EVENT_SEQ, &43u64.to_le_bytes());
    let replay = |attrs: &[Vec<u8>]| {
        nlmsg(
            FAMILY,
            NLM_F_MULTIPART,
            9,
            PORTID,
            &genl(CMD_EVENT_GET, attrs),
        )
    };
    let datagram = [
        replay(&event_attrs()),
        replay(&second_attrs),
        nlmsg(NLMSG_DONE, NLM_F_MULTIPART, 9, PORTID, &[0; 4]),
    ]
    .concat();
    let msgs = split_messages(&datagram).unwrap();
    assert_eq!(msgs.len(), 3);
    let mut expected = event_expected();
    assert_eq!(event_of(msgs[0].1), expected);
    expected.seq = 43;
    assert_eq!(event_of(msgs[1].1), expected);
    assert!(matches!(
        decode_event(msgs[2].1),
        Notification::Malformed(_)
    ));
    // The same bytes after the generic netlink header as the multicast.
    assert_eq!(msgs[0].1[17..], event_fixture()[17..]);
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
/// that is right for some type, now and then a nest of such attributes
/// (flagged or not), and now and then a lying length.
fn random_attr(rng: &mut Rng, depth: u32) -> Vec<u8> {
    let ty = if rng.below(8) == 0 {
        rng.next() as u8
    } else {
        rng.below(uapi::AFCLUSTER_A_EVENT_MAX as usize + 1) as u8
    };
    let mut a = if depth < 2 && rng.below(4) == 0 {
        let inner: Vec<Vec<u8>> = (0..rng.below(5))
            .map(|_| random_attr(rng, depth + 1))
            .collect();
        let flag = if rng.below(4) == 0 { 0 } else { NLA_F_NESTED };
        raw_nla(u16::from(ty) | flag, &inner.concat())
    } else {
        let len = [0, 1, 2, 4, 5, 8, 16, 3, 7, 15][rng.below(10)];
        nla(ty, &rng.bytes(len))
    };
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
                let attrs: Vec<Vec<u8>> = (0..rng.below(14)).map(|_| random_attr(rng, 0)).collect();
                let ty = [FAMILY, NLMSG_ERROR, NLMSG_DONE, rng.next() as u16][rng.below(4)];
                let cmd = [
                    CMD_EVENT_NTF,
                    CMD_EVENT_GET,
                    CMD_NODE_GET,
                    CMD_CLUSTER_GET,
                    rng.next() as u8,
                ][rng.below(5)];
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
                    let offs = [20u32, 28, 32, 36, 40, 44, rng.next() as u32][rng.below(7)];
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
        event_fixture(),
        local_node_event_fixture(),
        event_msg(&event_attrs()[..5]),
        dump_node(6, 12, &[IpAddr::V6(V6)]),
        cluster_get_request(),
        node_new_request_twice_the_same_address(),
        event_get_request(),
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
