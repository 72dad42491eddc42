//! The IPVS codec: every request checked against bytes written out by hand
//! from the rules of <linux/ip_vs.h> and net/netfilter/ipvs/ip_vs_ctl.c,
//! and dumps decoded as the kernel builds them, with unknown and malformed
//! attributes.
//!
//! Layout (native endian, which these fixtures take to be little endian):
//! nlmsghdr (len u32, type u16, flags u16, seq u32, pid u32), genlmsghdr
//! (cmd u8, version u8, reserved u16), then nlattrs (len u16 with the
//! header, type u16, payload padded to 4). IPVS's own rules:
//! - PORT (service and dest) and TUN_PORT are big endian (nla_get_be16);
//! - NETMASK: IPv4 a mask in network order, IPv6 a host-order prefix
//!   length (ip_vs_add_service takes `(__force u32) netmask` as plen);
//! - FLAGS: struct ip_vs_flags { __u32 flags; __u32 mask; } in host order;
//! - the kernel answers ADDR as 16 bytes (union nf_inet_addr) for both
//!   families, and nests without NLA_F_NESTED;
//! - a sync daemon's MCAST_PORT is host order (nla_get_u16, unlike PORT),
//!   MCAST_GROUP the IPv4 address in network order (nla_get_in_addr),
//!   MCAST_TTL one byte.
//!
//! Numbers from the header come from `afcluster::ipvs::uapi`, errnos and
//! AF_*/IPPROTO_* from libc; only the family id, sequence numbers and
//! payload values are literals.
#![cfg(target_endian = "little")]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::ipvs::uapi;
use afcluster::ipvs::wire::{self, CmdAttr, DaemonAttr, IpvsMessage, SvcAttr};
use afcluster::ipvs::{
    Dest, Family, Forward, IpvsError, Persistence, Protocol, SchedFlags, Service, ServiceKey,
    SyncDaemon, SyncState, Tunnel, TunnelKind,
};
use netlink_packet_core::{
    NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_MULTIPART,
    NLM_F_REQUEST,
};

// ---------------------------------------------------------------------------
// The header's numbers, as the single bytes they are on the wire.

const fn byte(v: u32) -> u8 {
    assert!(v < 256, "a fixture writes this number as one byte");
    v as u8
}

const CMD_NEW_SERVICE: u8 = byte(uapi::IPVS_CMD_NEW_SERVICE);
const CMD_SET_SERVICE: u8 = byte(uapi::IPVS_CMD_SET_SERVICE);
const CMD_DEL_SERVICE: u8 = byte(uapi::IPVS_CMD_DEL_SERVICE);
const CMD_GET_SERVICE: u8 = byte(uapi::IPVS_CMD_GET_SERVICE);
const CMD_NEW_DEST: u8 = byte(uapi::IPVS_CMD_NEW_DEST);
const CMD_SET_DEST: u8 = byte(uapi::IPVS_CMD_SET_DEST);
const CMD_DEL_DEST: u8 = byte(uapi::IPVS_CMD_DEL_DEST);
const CMD_GET_DEST: u8 = byte(uapi::IPVS_CMD_GET_DEST);
const CMD_FLUSH: u8 = byte(uapi::IPVS_CMD_FLUSH);
const CMD_GET_INFO: u8 = byte(uapi::IPVS_CMD_GET_INFO);
const CMD_SET_INFO: u8 = byte(uapi::IPVS_CMD_SET_INFO);
const CMD_NEW_DAEMON: u8 = byte(uapi::IPVS_CMD_NEW_DAEMON);
const CMD_DEL_DAEMON: u8 = byte(uapi::IPVS_CMD_DEL_DAEMON);
const CMD_GET_DAEMON: u8 = byte(uapi::IPVS_CMD_GET_DAEMON);
const VERSION: u8 = byte(uapi::IPVS_GENL_VERSION);

const A_SERVICE: u8 = byte(uapi::IPVS_CMD_ATTR_SERVICE);
const A_DEST: u8 = byte(uapi::IPVS_CMD_ATTR_DEST);
const A_DAEMON: u8 = byte(uapi::IPVS_CMD_ATTR_DAEMON);
const S_AF: u8 = byte(uapi::IPVS_SVC_ATTR_AF);
const S_PROTOCOL: u8 = byte(uapi::IPVS_SVC_ATTR_PROTOCOL);
const S_ADDR: u8 = byte(uapi::IPVS_SVC_ATTR_ADDR);
const S_PORT: u8 = byte(uapi::IPVS_SVC_ATTR_PORT);
const S_FWMARK: u8 = byte(uapi::IPVS_SVC_ATTR_FWMARK);
const S_SCHED: u8 = byte(uapi::IPVS_SVC_ATTR_SCHED_NAME);
const S_FLAGS: u8 = byte(uapi::IPVS_SVC_ATTR_FLAGS);
const S_TIMEOUT: u8 = byte(uapi::IPVS_SVC_ATTR_TIMEOUT);
const S_NETMASK: u8 = byte(uapi::IPVS_SVC_ATTR_NETMASK);
const S_STATS: u8 = byte(uapi::IPVS_SVC_ATTR_STATS);
const S_PE: u8 = byte(uapi::IPVS_SVC_ATTR_PE_NAME);
const S_STATS64: u8 = byte(uapi::IPVS_SVC_ATTR_STATS64);
const D_ADDR: u8 = byte(uapi::IPVS_DEST_ATTR_ADDR);
const D_PORT: u8 = byte(uapi::IPVS_DEST_ATTR_PORT);
const D_FWD: u8 = byte(uapi::IPVS_DEST_ATTR_FWD_METHOD);
const D_WEIGHT: u8 = byte(uapi::IPVS_DEST_ATTR_WEIGHT);
const D_U: u8 = byte(uapi::IPVS_DEST_ATTR_U_THRESH);
const D_L: u8 = byte(uapi::IPVS_DEST_ATTR_L_THRESH);
const D_ACTIVE: u8 = byte(uapi::IPVS_DEST_ATTR_ACTIVE_CONNS);
const D_INACT: u8 = byte(uapi::IPVS_DEST_ATTR_INACT_CONNS);
const D_PERSIST: u8 = byte(uapi::IPVS_DEST_ATTR_PERSIST_CONNS);
const D_STATS: u8 = byte(uapi::IPVS_DEST_ATTR_STATS);
const D_AF: u8 = byte(uapi::IPVS_DEST_ATTR_ADDR_FAMILY);
const D_TUN_TYPE: u8 = byte(uapi::IPVS_DEST_ATTR_TUN_TYPE);
const D_TUN_PORT: u8 = byte(uapi::IPVS_DEST_ATTR_TUN_PORT);
const D_TUN_FLAGS: u8 = byte(uapi::IPVS_DEST_ATTR_TUN_FLAGS);
const M_STATE: u8 = byte(uapi::IPVS_DAEMON_ATTR_STATE);
const M_IFN: u8 = byte(uapi::IPVS_DAEMON_ATTR_MCAST_IFN);
const M_SYNC_ID: u8 = byte(uapi::IPVS_DAEMON_ATTR_SYNC_ID);
const M_MAXLEN: u8 = byte(uapi::IPVS_DAEMON_ATTR_SYNC_MAXLEN);
const M_GROUP: u8 = byte(uapi::IPVS_DAEMON_ATTR_MCAST_GROUP);
const M_GROUP6: u8 = byte(uapi::IPVS_DAEMON_ATTR_MCAST_GROUP6);
const M_PORT: u8 = byte(uapi::IPVS_DAEMON_ATTR_MCAST_PORT);
const M_TTL: u8 = byte(uapi::IPVS_DAEMON_ATTR_MCAST_TTL);
const MASTER: u8 = byte(uapi::IP_VS_STATE_MASTER);
const BACKUP: u8 = byte(uapi::IP_VS_STATE_BACKUP);
const I_VERSION: u8 = byte(uapi::IPVS_INFO_ATTR_VERSION);
const I_TAB: u8 = byte(uapi::IPVS_INFO_ATTR_CONN_TAB_SIZE);
const STATS_CONNS: u8 = 1; // IPVS_STATS_ATTR_CONNS: only an unknown payload here

const INET: u8 = byte(libc::AF_INET as u32);
const INET6: u8 = byte(libc::AF_INET6 as u32);
const TCP: u8 = byte(libc::IPPROTO_TCP as u32);
const UDP: u8 = byte(libc::IPPROTO_UDP as u32);

const F_PERSISTENT: u8 = byte(uapi::IP_VS_SVC_F_PERSISTENT);
const F_HASHED: u8 = byte(uapi::IP_VS_SVC_F_HASHED);
const F_ONEPACKET: u8 = byte(uapi::IP_VS_SVC_F_ONEPACKET);
const F_SH_FALLBACK: u8 = byte(uapi::IP_VS_SVC_F_SCHED_SH_FALLBACK);
const F_SH_PORT: u8 = byte(uapi::IP_VS_SVC_F_SCHED_SH_PORT);
/// The mask the library sends: the bits it owns (not HASHED).
const F_OWNED: u8 = byte(
    uapi::IP_VS_SVC_F_PERSISTENT
        | uapi::IP_VS_SVC_F_ONEPACKET
        | uapi::IP_VS_SVC_F_SCHED1
        | uapi::IP_VS_SVC_F_SCHED2
        | uapi::IP_VS_SVC_F_SCHED3,
);
const FWD_MASQ: u8 = byte(uapi::IP_VS_CONN_F_MASQ);
const FWD_TUNNEL: u8 = byte(uapi::IP_VS_CONN_F_TUNNEL);
const FWD_DROUTE: u8 = byte(uapi::IP_VS_CONN_F_DROUTE);
const TUN_GUE: u8 = byte(uapi::IP_VS_CONN_F_TUNNEL_TYPE_GUE);
const TUN_CSUM: u8 = byte(uapi::IP_VS_TUNNEL_ENCAP_FLAG_CSUM);

const T_ERROR: [u8; 2] = NLMSG_ERROR.to_le_bytes();
const F_REQ_ACK: [u8; 2] = (NLM_F_REQUEST | NLM_F_ACK).to_le_bytes();
const F_REQ_ACK_DUMP: [u8; 2] = (NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP).to_le_bytes();

/// The family id nlctrl handed out (dynamic; two distinct bytes).
const FAMILY: u16 = 0x0125;
const FAM: [u8; 2] = FAMILY.to_le_bytes();
const SEQ: u32 = 7;
const PORTID: u32 = 0x8765_4321;

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const VIP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const RIP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
const RIP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 1, 1);

// ---------------------------------------------------------------------------
// Builders, checked against the hand-written fixtures below before use.

fn nla(ty: u8, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::with_capacity((len + 3) & !3);
    v.extend_from_slice(&(len as u16).to_le_bytes());
    v.extend_from_slice(&u16::from(ty).to_le_bytes());
    v.extend_from_slice(payload);
    v.resize((len + 3) & !3, 0);
    v
}

fn nest(ty: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
    nla(ty, &attrs.concat())
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
    v.extend_from_slice(&attrs.concat());
    v
}

/// A request as the client sends it (seq SEQ, pid 0: the kernel's).
fn request(cmd: u8, dump: bool, attrs: &[Vec<u8>]) -> Vec<u8> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
    nlmsg(FAMILY, flags, SEQ, 0, &genl(cmd, attrs))
}

fn bytes_of(msg: IpvsMessage, dump: bool) -> Vec<u8> {
    wire::request_bytes(msg, FAMILY, SEQ, dump)
}

/// The service identity of TCP 10.0.0.1:80.
fn tcp_vip_identity() -> Vec<Vec<u8>> {
    vec![
        nla(S_AF, &[INET, 0]),
        nla(S_PROTOCOL, &[TCP, 0]),
        nla(S_ADDR, &VIP.octets()),
        nla(S_PORT, &80u16.to_be_bytes()),
    ]
}

fn tcp_vip() -> ServiceKey {
    ServiceKey::tcp(IpAddr::V4(VIP), 80)
}

// ---------------------------------------------------------------------------
// Requests.

/// NEW_SERVICE TCP 10.0.0.1:80 wlc, persistent 300 s with a /24 netmask.
#[rustfmt::skip]
fn new_service_fixture() -> Vec<u8> {
    vec![
        // nlmsghdr
        92, 0, 0, 0,                    // len: 16 + 4 + 72
        FAM[0], FAM[1],                 // type: the family
        F_REQ_ACK[0], F_REQ_ACK[1],     // flags
        7, 0, 0, 0,                     // seq
        0, 0, 0, 0,                     // pid
        // genlmsghdr
        CMD_NEW_SERVICE, VERSION, 0, 0,
        // SERVICE nest, 4 + 68
        72, 0, A_SERVICE, 0,
          // AF u16 AF_INET
          6, 0, S_AF, 0,                INET, 0, 0, 0,
          // PROTOCOL u16 IPPROTO_TCP
          6, 0, S_PROTOCOL, 0,          TCP, 0, 0, 0,
          // ADDR 10.0.0.1 (4 bytes: the kernel zero-fills the rest)
          8, 0, S_ADDR, 0,              10, 0, 0, 1,
          // PORT be16 80
          6, 0, S_PORT, 0,              0, 80, 0, 0,
          // SCHED_NAME "wlc\0"
          8, 0, S_SCHED, 0,             b'w', b'l', b'c', 0,
          // FLAGS {flags PERSISTENT, mask: the owned bits}
          12, 0, S_FLAGS, 0,            F_PERSISTENT, 0, 0, 0,  F_OWNED, 0, 0, 0,
          // TIMEOUT u32 300 = 0x12c
          8, 0, S_TIMEOUT, 0,           0x2c, 0x01, 0, 0,
          // NETMASK be32 255.255.255.0
          8, 0, S_NETMASK, 0,           255, 255, 255, 0,
    ]
}

#[test]
fn new_service_ipv4_persistent_with_netmask() {
    let s = Service::new(tcp_vip(), "wlc").with_persistence(Persistence::new(300).with_netmask(24));
    let fixture = new_service_fixture();
    assert_eq!(bytes_of(wire::new_service(&s).unwrap(), false), fixture);
    // The same mask given as a mask.
    let s2 = Service::new(tcp_vip(), "wlc")
        .with_persistence(Persistence::new(300).with_netmask(0xffff_ff00));
    assert_eq!(bytes_of(wire::new_service(&s2).unwrap(), false), fixture);
    // The builders agree with the hand-written bytes.
    let mut attrs = tcp_vip_identity();
    attrs.extend([
        nla(S_SCHED, b"wlc\0"),
        nla(S_FLAGS, &[F_PERSISTENT, 0, 0, 0, F_OWNED, 0, 0, 0]),
        nla(S_TIMEOUT, &300u32.to_le_bytes()),
        nla(S_NETMASK, &[255, 255, 255, 0]),
    ]);
    assert_eq!(
        request(CMD_NEW_SERVICE, false, &[nest(A_SERVICE, &attrs)]),
        fixture
    );
}

/// SET_SERVICE needs the full set too; without persistence: timeout 0 and
/// the whole-address netmask 255.255.255.255, as ipvsadm sends them.
#[rustfmt::skip]
#[test]
fn set_service_without_persistence() {
    let s = Service::new(ServiceKey::udp(IpAddr::V4(VIP), 53), "rr");
    let expected = vec![
        92, 0, 0, 0,                    // 16 + 4 + 72
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_SET_SERVICE, VERSION, 0, 0,
        72, 0, A_SERVICE, 0,            // 4 + 8 * 6 + 12 + 8
          6, 0, S_AF, 0,                INET, 0, 0, 0,
          6, 0, S_PROTOCOL, 0,          UDP, 0, 0, 0,
          8, 0, S_ADDR, 0,              10, 0, 0, 1,
          6, 0, S_PORT, 0,              0, 53, 0, 0,
          // "rr\0" and one byte of padding
          7, 0, S_SCHED, 0,             b'r', b'r', 0, 0,
          // flags 0, mask still the owned bits: clears persistence and ops
          12, 0, S_FLAGS, 0,            0, 0, 0, 0,  F_OWNED, 0, 0, 0,
          8, 0, S_TIMEOUT, 0,           0, 0, 0, 0,
          8, 0, S_NETMASK, 0,           255, 255, 255, 255,
    ];
    assert_eq!(bytes_of(wire::set_service(&s).unwrap(), false), expected);
}

/// IPv6: 16-byte address, AF_INET6, and the netmask as a host-order
/// prefix length (64 = 0x40 first on little endian), unlike IPv4's mask.
#[rustfmt::skip]
#[test]
fn new_service_ipv6_with_ops_and_sched_flags() {
    let mut s = Service::new(ServiceKey::udp(IpAddr::V6(VIP6), 5060), "sh")
        .with_persistence(Persistence::new(60).with_netmask(64));
    s.ops = true;
    s.sched_flags = SchedFlags::SH_FALLBACK | SchedFlags::SH_PORT;
    let flags = F_PERSISTENT | F_ONEPACKET | F_SH_FALLBACK | F_SH_PORT;
    let port = 5060u16.to_be_bytes();
    let expected = vec![
        104, 0, 0, 0,                   // 16 + 4 + 84
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_NEW_SERVICE, VERSION, 0, 0,
        84, 0, A_SERVICE, 0,            // 4 + 8 * 6 + 20 + 12
          6, 0, S_AF, 0,                INET6, 0, 0, 0,
          6, 0, S_PROTOCOL, 0,          UDP, 0, 0, 0,
          20, 0, S_ADDR, 0,             0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
          6, 0, S_PORT, 0,              port[0], port[1], 0, 0,
          7, 0, S_SCHED, 0,             b's', b'h', 0, 0,
          12, 0, S_FLAGS, 0,            flags, 0, 0, 0,  F_OWNED, 0, 0, 0,
          8, 0, S_TIMEOUT, 0,           60, 0, 0, 0,
          8, 0, S_NETMASK, 0,           64, 0, 0, 0,
    ];
    assert_eq!(port, [0x13, 0xc4]);
    assert_eq!(bytes_of(wire::new_service(&s).unwrap(), false), expected);
}

/// A fwmark service is AF + FWMARK (no protocol, address or port); an
/// IPv6 one without persistence still needs a valid prefix: 128.
#[test]
fn new_service_fwmark_and_persistence_engine() {
    let s = Service::new(ServiceKey::fwmark(Family::Inet6, 5), "rr");
    let expected = request(
        CMD_NEW_SERVICE,
        false,
        &[nest(
            A_SERVICE,
            &[
                nla(S_AF, &[INET6, 0]),
                nla(S_FWMARK, &5u32.to_le_bytes()),
                nla(S_SCHED, b"rr\0"),
                nla(S_FLAGS, &[0, 0, 0, 0, F_OWNED, 0, 0, 0]),
                nla(S_TIMEOUT, &[0, 0, 0, 0]),
                nla(S_NETMASK, &128u32.to_le_bytes()),
            ],
        )],
    );
    assert_eq!(bytes_of(wire::new_service(&s).unwrap(), false), expected);

    let mut p = Persistence::new(300);
    p.engine = Some("sip".into());
    let s = Service::new(ServiceKey::fwmark(Family::Inet, 0x0102_0304), "wrr").with_persistence(p);
    let expected = request(
        CMD_NEW_SERVICE,
        false,
        &[nest(
            A_SERVICE,
            &[
                nla(S_AF, &[INET, 0]),
                nla(S_FWMARK, &[4, 3, 2, 1]),
                nla(S_SCHED, b"wrr\0"),
                nla(S_FLAGS, &[F_PERSISTENT, 0, 0, 0, F_OWNED, 0, 0, 0]),
                nla(S_TIMEOUT, &300u32.to_le_bytes()),
                nla(S_NETMASK, &[255, 255, 255, 255]),
                nla(S_PE, b"sip\0"),
            ],
        )],
    );
    assert_eq!(bytes_of(wire::new_service(&s).unwrap(), false), expected);
}

#[test]
fn identity_only_commands() {
    let ident = nest(A_SERVICE, &tcp_vip_identity());
    assert_eq!(
        bytes_of(wire::del_service(&tcp_vip()).unwrap(), false),
        request(CMD_DEL_SERVICE, false, std::slice::from_ref(&ident))
    );
    assert_eq!(
        bytes_of(wire::get_service(&tcp_vip()).unwrap(), false),
        request(CMD_GET_SERVICE, false, std::slice::from_ref(&ident))
    );
    assert_eq!(
        bytes_of(wire::get_dests(&tcp_vip()).unwrap(), true),
        request(CMD_GET_DEST, true, std::slice::from_ref(&ident))
    );
    #[rustfmt::skip]
    let dump = vec![
        20, 0, 0, 0, FAM[0], FAM[1], F_REQ_ACK_DUMP[0], F_REQ_ACK_DUMP[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_GET_SERVICE, VERSION, 0, 0,
    ];
    assert_eq!(bytes_of(wire::get_services(), true), dump);
    assert_eq!(
        bytes_of(wire::flush(), false),
        request(CMD_FLUSH, false, &[])
    );
    assert_eq!(
        bytes_of(wire::get_info(), false),
        request(CMD_GET_INFO, false, &[])
    );
}

/// NEW_DEST: the SERVICE nest (identity) and the full DEST nest, with
/// ADDR_FAMILY.
#[rustfmt::skip]
fn new_dest_fixture() -> Vec<u8> {
    vec![
        116, 0, 0, 0,                   // 16 + 4 + 36 + 60
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_NEW_DEST, VERSION, 0, 0,
        36, 0, A_SERVICE, 0,
          6, 0, S_AF, 0,                INET, 0, 0, 0,
          6, 0, S_PROTOCOL, 0,          TCP, 0, 0, 0,
          8, 0, S_ADDR, 0,              10, 0, 0, 1,
          6, 0, S_PORT, 0,              0, 80, 0, 0,
        60, 0, A_DEST, 0,
          8, 0, D_ADDR, 0,              10, 0, 1, 1,
          // PORT be16 8080 = 0x1f90
          6, 0, D_PORT, 0,              0x1f, 0x90, 0, 0,
          8, 0, D_FWD, 0,               FWD_MASQ, 0, 0, 0,
          8, 0, D_WEIGHT, 0,            3, 0, 0, 0,
          8, 0, D_U, 0,                 100, 0, 0, 0,
          8, 0, D_L, 0,                 10, 0, 0, 0,
          6, 0, D_AF, 0,                INET, 0, 0, 0,
    ]
}

#[test]
fn new_dest_nat_with_thresholds() {
    let mut d = Dest::new(IpAddr::V4(RIP), 8080, Forward::Masq, 3);
    d.upper_threshold = 100;
    d.lower_threshold = 10;
    assert_eq!(
        bytes_of(wire::new_dest(&tcp_vip(), &d).unwrap(), false),
        new_dest_fixture()
    );
}

/// SET_DEST: same shape; a weight is an s32 (here 0: drained).
#[test]
fn set_dest_route_weight_zero() {
    let d = Dest::new(IpAddr::V4(RIP), 80, Forward::Route, 0);
    let expected = request(
        CMD_SET_DEST,
        false,
        &[
            nest(A_SERVICE, &tcp_vip_identity()),
            nest(
                A_DEST,
                &[
                    nla(D_ADDR, &RIP.octets()),
                    nla(D_PORT, &[0, 80]),
                    nla(D_FWD, &[FWD_DROUTE, 0, 0, 0]),
                    nla(D_WEIGHT, &[0, 0, 0, 0]),
                    nla(D_U, &[0, 0, 0, 0]),
                    nla(D_L, &[0, 0, 0, 0]),
                    nla(D_AF, &[INET, 0]),
                ],
            ),
        ],
    );
    assert_eq!(
        bytes_of(wire::set_dest(&tcp_vip(), &d).unwrap(), false),
        expected
    );
}

/// An IPv6 destination of an IPv4 fwmark service (tunnel only, 3.18+):
/// ADDR_FAMILY says so. GUE settings go as TUN_TYPE u8, TUN_PORT be16,
/// TUN_FLAGS u16.
#[test]
fn new_dest_mixed_family_gue_tunnel() {
    let key = ServiceKey::fwmark(Family::Inet, 9);
    let mut d = Dest::new(IpAddr::V6(RIP6), 0, Forward::Tunnel, 1);
    d.tunnel = Tunnel {
        kind: TunnelKind::Gue,
        port: 6080,
        csum: true,
        remcsum: false,
    };
    let expected = request(
        CMD_NEW_DEST,
        false,
        &[
            nest(
                A_SERVICE,
                &[nla(S_AF, &[INET, 0]), nla(S_FWMARK, &[9, 0, 0, 0])],
            ),
            nest(
                A_DEST,
                &[
                    nla(D_ADDR, &RIP6.octets()),
                    nla(D_PORT, &[0, 0]),
                    nla(D_FWD, &[FWD_TUNNEL, 0, 0, 0]),
                    nla(D_WEIGHT, &[1, 0, 0, 0]),
                    nla(D_U, &[0, 0, 0, 0]),
                    nla(D_L, &[0, 0, 0, 0]),
                    nla(D_AF, &[INET6, 0]),
                    nla(D_TUN_TYPE, &[TUN_GUE]),
                    nla(D_TUN_PORT, &6080u16.to_be_bytes()),
                    nla(D_TUN_FLAGS, &[TUN_CSUM, 0]),
                ],
            ),
        ],
    );
    assert_eq!(bytes_of(wire::new_dest(&key, &d).unwrap(), false), expected);
}

/// DEL_DEST: the DEST nest carries only the identity (and the family, so
/// the kernel looks in the right family).
#[rustfmt::skip]
#[test]
fn del_dest_ipv6() {
    let key = ServiceKey::tcp(IpAddr::V6(VIP6), 443);
    let expected = vec![
        108, 0, 0, 0,                   // 16 + 4 + 48 + 40
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_DEL_DEST, VERSION, 0, 0,
        48, 0, A_SERVICE, 0,            // 4 + 8 * 3 + 20
          6, 0, S_AF, 0,                INET6, 0, 0, 0,
          6, 0, S_PROTOCOL, 0,          TCP, 0, 0, 0,
          20, 0, S_ADDR, 0,             0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
          // 443 = 0x01bb
          6, 0, S_PORT, 0,              0x01, 0xbb, 0, 0,
        40, 0, A_DEST, 0,               // 4 + 20 + 8 * 2
          20, 0, D_ADDR, 0,             0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1,
          6, 0, D_PORT, 0,              0x01, 0xbb, 0, 0,
          6, 0, D_AF, 0,                INET6, 0, 0, 0,
    ];
    assert_eq!(
        bytes_of(wire::del_dest(&key, IpAddr::V6(RIP6), 443).unwrap(), false),
        expected
    );
}

#[test]
fn invalid_requests_are_refused_before_sending() {
    let invalid = |r: Result<IpvsMessage, IpvsError>| match r {
        Err(IpvsError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    };
    invalid(wire::del_service(&ServiceKey::fwmark(Family::Inet, 0)));
    invalid(wire::new_service(&Service::new(tcp_vip(), "")));
    // 15 bytes fit IP_VS_SCHEDNAME_MAXLEN with the NUL, 16 do not.
    assert!(wire::new_service(&Service::new(tcp_vip(), "abcdefghijklmno")).is_ok());
    invalid(wire::new_service(&Service::new(
        tcp_vip(),
        "abcdefghijklmnop",
    )));
    invalid(wire::new_service(&Service::new(tcp_vip(), "r\0r")));
    let v6 = ServiceKey::tcp(IpAddr::V6(VIP6), 80);
    for bad in [0, 129] {
        let s = Service::new(v6, "rr").with_persistence(Persistence::new(1).with_netmask(bad));
        invalid(wire::new_service(&s));
    }
    let mut p = Persistence::new(1);
    p.engine = Some("x".repeat(16));
    invalid(wire::new_service(
        &Service::new(tcp_vip(), "rr").with_persistence(p),
    ));
}

// ---- sync daemons ----

/// NEW_DAEMON with only what the kernel requires: STATE, MCAST_IFN (a
/// NUL-terminated string) and SYNC_ID, as u32s.
#[rustfmt::skip]
#[test]
fn new_daemon_minimal() {
    let d = SyncDaemon::new(SyncState::Master, "eth0", 7);
    let expected = vec![
        52, 0, 0, 0,                    // 16 + 4 + 32
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_NEW_DAEMON, VERSION, 0, 0,
        32, 0, A_DAEMON, 0,             // 4 + 8 + 12 + 8
          // STATE u32 IP_VS_STATE_MASTER
          8, 0, M_STATE, 0,             MASTER, 0, 0, 0,
          // MCAST_IFN "eth0\0" (len 9) and three bytes of padding
          9, 0, M_IFN, 0,               b'e', b't', b'h', b'0',  0, 0, 0, 0,
          // SYNC_ID u32 7
          8, 0, M_SYNC_ID, 0,           7, 0, 0, 0,
    ];
    assert_eq!(bytes_of(wire::new_daemon(&d).unwrap(), false), expected);
    assert_eq!(
        request(CMD_NEW_DAEMON, false, &[nest(A_DAEMON, &[
            nla(M_STATE, &[MASTER, 0, 0, 0]),
            nla(M_IFN, b"eth0\0"),
            nla(M_SYNC_ID, &7u32.to_le_bytes()),
        ])]),
        expected
    );
}

/// Every optional setting: SYNC_MAXLEN u16, MCAST_GROUP as the address's
/// four bytes, MCAST_PORT u16 in host order (9000 = 0x2328: 0x28 first),
/// MCAST_TTL u8.
#[rustfmt::skip]
#[test]
fn new_daemon_with_every_setting() {
    let d = SyncDaemon {
        maxlen: Some(1400),
        group: Some(IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3))),
        port: Some(9000),
        ttl: Some(3),
        ..SyncDaemon::new(SyncState::Backup, "sync0", 200)
    };
    let expected = vec![
        84, 0, 0, 0,                    // 16 + 4 + 64
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_NEW_DAEMON, VERSION, 0, 0,
        64, 0, A_DAEMON, 0,             // 4 + 8 + 12 + 8 + 8 + 8 + 8 + 8
          8, 0, M_STATE, 0,             BACKUP, 0, 0, 0,
          // "sync0\0" (len 10) and two bytes of padding
          10, 0, M_IFN, 0,              b's', b'y', b'n', b'c',  b'0', 0, 0, 0,
          8, 0, M_SYNC_ID, 0,           200, 0, 0, 0,
          // SYNC_MAXLEN u16 1400 = 0x578
          6, 0, M_MAXLEN, 0,            0x78, 0x05, 0, 0,
          // MCAST_GROUP 239.1.2.3, network order
          8, 0, M_GROUP, 0,             239, 1, 2, 3,
          // MCAST_PORT u16 9000, host order
          6, 0, M_PORT, 0,              0x28, 0x23, 0, 0,
          // MCAST_TTL u8 3
          5, 0, M_TTL, 0,               3, 0, 0, 0,
    ];
    assert_eq!(bytes_of(wire::new_daemon(&d).unwrap(), false), expected);
}

/// An IPv6 group goes as MCAST_GROUP6, the 16 bytes of the in6_addr.
#[rustfmt::skip]
#[test]
fn new_daemon_ipv6_group() {
    let d = SyncDaemon {
        group: Some(IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x81))),
        ..SyncDaemon::new(SyncState::Master, "eth0", 0)
    };
    let expected = vec![
        72, 0, 0, 0,                    // 16 + 4 + 52
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_NEW_DAEMON, VERSION, 0, 0,
        52, 0, A_DAEMON, 0,             // 4 + 8 + 12 + 8 + 20
          8, 0, M_STATE, 0,             MASTER, 0, 0, 0,
          9, 0, M_IFN, 0,               b'e', b't', b'h', b'0',  0, 0, 0, 0,
          8, 0, M_SYNC_ID, 0,           0, 0, 0, 0,
          20, 0, M_GROUP6, 0,           0xff, 0x02, 0, 0,  0, 0, 0, 0,
                                        0, 0, 0, 0,        0, 0, 0, 0x81,
    ];
    assert_eq!(bytes_of(wire::new_daemon(&d).unwrap(), false), expected);
}

/// DEL_DAEMON carries STATE alone (ip_vs_genl_del_daemon reads nothing
/// else); GET_DAEMON is a dump without attributes.
#[rustfmt::skip]
#[test]
fn del_and_get_daemon() {
    let expected = vec![
        32, 0, 0, 0,                    // 16 + 4 + 12
        FAM[0], FAM[1], F_REQ_ACK[0], F_REQ_ACK[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_DEL_DAEMON, VERSION, 0, 0,
        12, 0, A_DAEMON, 0,
          8, 0, M_STATE, 0,             BACKUP, 0, 0, 0,
    ];
    assert_eq!(bytes_of(wire::del_daemon(SyncState::Backup), false), expected);
    assert_eq!(
        bytes_of(wire::del_daemon(SyncState::Master), false),
        request(CMD_DEL_DAEMON, false, &[nest(A_DAEMON, &[nla(M_STATE, &[MASTER, 0, 0, 0])])])
    );
    let dump = vec![
        20, 0, 0, 0, FAM[0], FAM[1], F_REQ_ACK_DUMP[0], F_REQ_ACK_DUMP[1], 7, 0, 0, 0, 0, 0, 0, 0,
        CMD_GET_DAEMON, VERSION, 0, 0,
    ];
    assert_eq!(bytes_of(wire::get_daemons(), true), dump);
}

#[test]
fn invalid_daemons_are_refused_before_sending() {
    let invalid = |d: SyncDaemon| match wire::new_daemon(&d) {
        Err(IpvsError::Invalid(m)) => m,
        other => panic!("expected Invalid for {d:?}, got {other:?}"),
    };
    // 15 bytes fit IP_VS_IFNAME_MAXLEN with the NUL, 16 do not.
    assert!(wire::new_daemon(&SyncDaemon::new(SyncState::Master, "abcdefghijklmno", 1)).is_ok());
    invalid(SyncDaemon::new(SyncState::Master, "abcdefghijklmnop", 1));
    invalid(SyncDaemon::new(SyncState::Master, "", 1));
    invalid(SyncDaemon::new(SyncState::Master, "e\0th", 1));
    // Sync messages carry the id in one byte.
    assert!(wire::new_daemon(&SyncDaemon::new(SyncState::Backup, "eth0", 255)).is_ok());
    let m = invalid(SyncDaemon::new(SyncState::Backup, "eth0", 256));
    assert!(m.contains("0 to 255"), "{m}");
    // The kernel answers EINVAL to a group that is not multicast.
    for g in [
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
    ] {
        let m = invalid(SyncDaemon {
            group: Some(g),
            ..SyncDaemon::new(SyncState::Master, "eth0", 1)
        });
        assert!(m.contains("multicast"), "{m}");
    }
}

// ---------------------------------------------------------------------------
// Replies.

/// One service of a GET_SERVICE dump as ip_vs_genl_fill_service builds it:
/// 16-byte ADDR, FLAGS with HASHED and mask ~0, STATS and STATS64 nests,
/// plus an attribute from a future kernel.
fn dumped_service(extra: &[Vec<u8>]) -> Vec<u8> {
    let mut svc = vec![
        nla(S_AF, &[INET, 0]),
        nla(S_PROTOCOL, &[TCP, 0]),
        nla(S_ADDR, &[10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        nla(S_PORT, &[0, 80]),
        nla(S_SCHED, b"wlc\0"),
        nla(
            S_FLAGS,
            &[F_PERSISTENT | F_HASHED, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        ),
        nla(S_TIMEOUT, &300u32.to_le_bytes()),
        nla(S_NETMASK, &[255, 255, 255, 0]),
        nest(S_STATS, &[nla(STATS_CONNS, &5u32.to_le_bytes())]),
        nest(S_STATS64, &[nla(STATS_CONNS, &5u64.to_le_bytes())]),
        nla(200, b"from the future"),
    ];
    svc.extend_from_slice(extra);
    nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_SERVICE, &[nest(A_SERVICE, &svc)]),
    )
}

fn dumped_fwmark6() -> Vec<u8> {
    let svc = [
        nla(S_AF, &[INET6, 0]),
        nla(S_FWMARK, &7u32.to_le_bytes()),
        nla(S_SCHED, b"sh\0"),
        nla(
            S_FLAGS,
            &[
                F_HASHED | F_ONEPACKET | F_SH_PORT,
                0,
                0,
                0,
                0xff,
                0xff,
                0xff,
                0xff,
            ],
        ),
        nla(S_TIMEOUT, &[0, 0, 0, 0]),
        nla(S_NETMASK, &128u32.to_le_bytes()),
    ];
    nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_SERVICE, &[nest(A_SERVICE, &svc)]),
    )
}

fn done() -> Vec<u8> {
    nlmsg(
        NLMSG_DONE,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &0i32.to_le_bytes(),
    )
}

fn dump_request() -> Vec<u8> {
    bytes_of(wire::get_services(), true)
}

fn decode_services(datagram: &[u8]) -> Result<(Vec<Service>, bool), IpvsError> {
    let (msgs, complete) = wire::read_replies(datagram, SEQ, &dump_request())?;
    let services = msgs
        .iter()
        .map(|(_, m)| wire::decode_service(m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((services, complete))
}

#[test]
fn service_dump_decodes() {
    let datagram = [dumped_service(&[]), dumped_fwmark6(), done()].concat();
    let (services, complete) = decode_services(&datagram).unwrap();
    assert!(complete);
    let mut fwm = Service::new(ServiceKey::fwmark(Family::Inet6, 7), "sh");
    fwm.ops = true;
    fwm.sched_flags = SchedFlags::SH_PORT;
    assert_eq!(
        services,
        vec![
            Service::new(tcp_vip(), "wlc").with_persistence(Persistence::new(300).with_netmask(24)),
            fwm,
        ]
    );
    // Decoded values are already canonical: the derived fields match.
    let p = services[0].persistence.as_ref().unwrap();
    assert_eq!(
        (p.timeout_s, p.netmask, p.engine.as_deref()),
        (300, Some(24), None)
    );
}

#[test]
fn dump_split_across_datagrams() {
    let (first, complete) = decode_services(&dumped_service(&[])).unwrap();
    assert_eq!((first.len(), complete), (1, false));
    let (rest, complete) = decode_services(&[dumped_fwmark6(), done()].concat()).unwrap();
    assert_eq!((rest.len(), complete), (1, true));
}

#[test]
fn replies_to_other_requests_are_skipped() {
    let mut other = dumped_service(&[]);
    other[8] = 99; // another sequence number
    let (services, complete) = decode_services(&[other, done()].concat()).unwrap();
    assert!(services.is_empty() && complete);
}

#[test]
fn persistence_engine_and_ipv6_prefix_decode() {
    let svc = [
        nla(S_AF, &[INET6, 0]),
        nla(S_PROTOCOL, &[UDP, 0]),
        nla(S_ADDR, &VIP6.octets()),
        nla(S_PORT, &5060u16.to_be_bytes()),
        nla(S_SCHED, b"rr\0"),
        nla(S_PE, b"sip\0"),
        nla(
            S_FLAGS,
            &[F_PERSISTENT | F_HASHED, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        ),
        nla(S_TIMEOUT, &60u32.to_le_bytes()),
        nla(S_NETMASK, &[48, 0, 0, 0]),
    ];
    let msg = nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_SERVICE, &[nest(A_SERVICE, &svc)]),
    );
    let (services, _) = decode_services(&msg).unwrap();
    let p = services[0].persistence.as_ref().unwrap();
    assert_eq!(p.netmask, Some(48));
    assert_eq!(p.engine.as_deref(), Some("sip"));
    assert_eq!(services[0].key.to_string(), "UDP [fd00::1]:5060");
}

/// One destination as ip_vs_genl_fill_dest builds it.
fn dumped_dest(af: Option<u8>, addr: &[u8; 16], fwd: u8) -> Vec<u8> {
    let mut d = vec![
        nla(D_ADDR, addr),
        nla(D_PORT, &8080u16.to_be_bytes()),
        nla(D_FWD, &[fwd, 0, 0, 0]),
        nla(D_WEIGHT, &3i32.to_le_bytes()),
        nla(D_TUN_TYPE, &[0]),
        nla(D_TUN_PORT, &[0, 0]),
        nla(D_TUN_FLAGS, &[0, 0]),
        nla(D_U, &100u32.to_le_bytes()),
        nla(D_L, &10u32.to_le_bytes()),
        nla(D_ACTIVE, &2u32.to_le_bytes()),
        nla(D_INACT, &1u32.to_le_bytes()),
        nla(D_PERSIST, &4u32.to_le_bytes()),
    ];
    if let Some(af) = af {
        d.push(nla(D_AF, &[af, 0]));
    }
    d.push(nest(D_STATS, &[nla(STATS_CONNS, &9u32.to_le_bytes())]));
    d.push(nla(250, &[1, 2, 3]));
    nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_DEST, &[nest(A_DEST, &d)]),
    )
}

fn v4_in_16(a: Ipv4Addr) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&a.octets());
    b
}

#[test]
fn dest_dump_decodes_with_counters() {
    let req = bytes_of(wire::get_dests(&tcp_vip()).unwrap(), true);
    let datagram = [
        dumped_dest(Some(INET), &v4_in_16(RIP), FWD_MASQ),
        // An IPv6 tunnel destination of the IPv4 service.
        dumped_dest(Some(INET6), &RIP6.octets(), FWD_TUNNEL),
        // A kernel before 3.18: no ADDR_FAMILY, the service's family.
        dumped_dest(None, &v4_in_16(RIP), FWD_DROUTE),
        done(),
    ]
    .concat();
    let (msgs, complete) = wire::read_replies(&datagram, SEQ, &req).unwrap();
    assert!(complete);
    let entries: Vec<_> = msgs
        .iter()
        .map(|(_, m)| wire::decode_dest(m, Family::Inet).unwrap())
        .collect();
    let mut d = Dest::new(IpAddr::V4(RIP), 8080, Forward::Masq, 3);
    d.upper_threshold = 100;
    d.lower_threshold = 10;
    assert_eq!(entries[0].dest, d);
    assert_eq!(
        (
            entries[0].active_conns,
            entries[0].inactive_conns,
            entries[0].persistent_conns
        ),
        (2, 1, 4)
    );
    assert_eq!(entries[1].dest.addr, IpAddr::V6(RIP6));
    assert_eq!(entries[1].dest.forward, Forward::Tunnel);
    assert_eq!(entries[2].dest.addr, IpAddr::V4(RIP));
    assert_eq!(entries[2].dest.forward, Forward::Route);
}

#[test]
fn info_reply_reuses_attribute_numbers() {
    // SET_INFO's attributes 1 and 2 are VERSION and CONN_TAB_SIZE, not
    // SERVICE and DEST.
    let msg = nlmsg(
        FAMILY,
        0,
        SEQ,
        PORTID,
        &genl(
            CMD_SET_INFO,
            &[
                nla(I_VERSION, &0x0001_0201u32.to_le_bytes()),
                nla(I_TAB, &4096u32.to_le_bytes()),
            ],
        ),
    );
    let parsed = wire::parse_message(&msg).unwrap();
    assert_eq!(
        parsed.attrs,
        vec![
            CmdAttr::InfoVersion(0x0001_0201),
            CmdAttr::InfoConnTabSize(4096)
        ]
    );
    let info = wire::decode_info(&parsed).unwrap();
    assert_eq!((info.version, info.conn_tab_size), ((1, 2, 1), 4096));
}

/// One daemon of a GET_DAEMON dump as ip_vs_genl_dump_daemon builds it: a
/// NEW_DAEMON message, the settings in ip_vs_genl_fill_daemon's order with
/// the kernel's defaults filled in, the group last.
fn dumped_daemon(state: u8, ifn: &[u8], id: u32, group: Vec<u8>) -> Vec<u8> {
    let attrs = [
        nla(M_STATE, &[state, 0, 0, 0]),
        nla(M_IFN, ifn),
        nla(M_SYNC_ID, &id.to_le_bytes()),
        nla(M_MAXLEN, &1472u16.to_le_bytes()),
        nla(M_PORT, &8848u16.to_le_bytes()),
        nla(M_TTL, &[1]),
        group,
    ];
    nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_DAEMON, &[nest(A_DAEMON, &attrs)]),
    )
}

fn decode_daemons(datagram: &[u8]) -> Result<(Vec<SyncDaemon>, bool), IpvsError> {
    let req = bytes_of(wire::get_daemons(), true);
    let (msgs, complete) = wire::read_replies(datagram, SEQ, &req)?;
    let daemons = msgs
        .iter()
        .map(|(_, m)| wire::decode_daemon(m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((daemons, complete))
}

#[rustfmt::skip]
#[test]
fn daemon_dump_decodes() {
    let master = dumped_daemon(MASTER, b"eth0\0", 7, nla(M_GROUP, &[224, 0, 0, 81]));
    // The master's message byte by byte: 4 + 8 + 12 + 8 + 8 + 8 + 8 + 8.
    assert_eq!(&master[16..], &[
        CMD_NEW_DAEMON, VERSION, 0, 0,
        64, 0, A_DAEMON, 0,
          8, 0, M_STATE, 0,             MASTER, 0, 0, 0,
          9, 0, M_IFN, 0,               b'e', b't', b'h', b'0',  0, 0, 0, 0,
          8, 0, M_SYNC_ID, 0,           7, 0, 0, 0,
          6, 0, M_MAXLEN, 0,            0xc0, 0x05, 0, 0,      // 1472 = 0x5c0
          6, 0, M_PORT, 0,              0x90, 0x22, 0, 0,      // 8848 = 0x2290
          5, 0, M_TTL, 0,               1, 0, 0, 0,
          8, 0, M_GROUP, 0,             224, 0, 0, 81,
    ][..]);
    let ff02_81 = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81];
    let backup = dumped_daemon(BACKUP, b"sync0\0", 0, nla(M_GROUP6, &ff02_81));
    let (daemons, complete) = decode_daemons(&[master, backup, done()].concat()).unwrap();
    assert!(complete);
    let defaults = |d: SyncDaemon, group: IpAddr| SyncDaemon {
        maxlen: Some(1472),
        group: Some(group),
        port: Some(SyncDaemon::DEFAULT_PORT),
        ttl: Some(SyncDaemon::DEFAULT_TTL),
        ..d
    };
    assert_eq!(daemons, vec![
        defaults(SyncDaemon::new(SyncState::Master, "eth0", 7),
                 IpAddr::V4(SyncDaemon::DEFAULT_GROUP)),
        defaults(SyncDaemon::new(SyncState::Backup, "sync0", 0),
                 IpAddr::V6(Ipv6Addr::from(ff02_81))),
    ]);
    // No daemon running: an empty dump.
    assert_eq!(decode_daemons(&done()).unwrap(), (vec![], true));
}

/// Kernels before 4.3 send STATE, MCAST_IFN and SYNC_ID only; attributes
/// from a newer kernel are skipped.
#[test]
fn old_and_new_kernels_daemons_decode() {
    let msg = nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(
            CMD_NEW_DAEMON,
            &[nest(
                A_DAEMON,
                &[
                    nla(M_STATE, &[BACKUP, 0, 0, 0]),
                    nla(M_IFN, b"eth1\0"),
                    nla(M_SYNC_ID, &9u32.to_le_bytes()),
                    nla(200, b"from the future"),
                ],
            )],
        ),
    );
    let (daemons, _) = decode_daemons(&[msg, done()].concat()).unwrap();
    assert_eq!(daemons, vec![SyncDaemon::new(SyncState::Backup, "eth1", 9)]);
}

#[test]
fn malformed_daemons_are_decode_errors() {
    let daemon_with = |attrs: &[Vec<u8>]| {
        nlmsg(
            FAMILY,
            NLM_F_MULTIPART,
            SEQ,
            PORTID,
            &genl(CMD_NEW_DAEMON, &[nest(A_DAEMON, attrs)]),
        )
    };
    let good = [
        nla(M_STATE, &[MASTER, 0, 0, 0]),
        nla(M_IFN, b"eth0\0"),
        nla(M_SYNC_ID, &[1, 0, 0, 0]),
    ];
    assert!(decode_daemons(&daemon_with(&good)).is_ok());
    let decode_error = |b: &[u8]| match decode_daemons(b) {
        Err(IpvsError::Decode(m)) => m,
        other => panic!("expected a Decode error, got {other:?}"),
    };
    // Wrong sizes.
    for bad in [
        nla(M_STATE, &[1, 0]),
        nla(M_SYNC_ID, &[1, 0, 0, 0, 0]),
        nla(M_MAXLEN, &[1, 0, 0, 0]),
        nla(M_GROUP, &[224, 0, 0]),
        nla(M_GROUP6, &[0xff; 4]),
        nla(M_PORT, &[1]),
        nla(M_TTL, &[1, 0]),
        nla(M_IFN, b"et\0h0\0"),
    ] {
        let mut attrs = good.to_vec();
        attrs.push(bad);
        decode_error(&daemon_with(&attrs));
    }
    // A required attribute missing, or a state that is neither.
    for missing in 0..good.len() {
        let mut attrs = good.to_vec();
        attrs.remove(missing);
        assert!(decode_error(&daemon_with(&attrs)).contains("lacks"));
    }
    let mut attrs = good.to_vec();
    attrs[0] = nla(M_STATE, &[MASTER | BACKUP, 0, 0, 0]);
    assert!(decode_error(&daemon_with(&attrs)).contains("state 3"));
    // No DAEMON nest at all.
    let bare = nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_DAEMON, &[]),
    );
    assert!(decode_error(&bare).contains("DAEMON"));
}

// ---- malformed ----

fn decode_error(datagram: &[u8]) -> String {
    match decode_services(datagram) {
        Err(IpvsError::Decode(m)) => m,
        other => panic!("expected a Decode error, got {other:?}"),
    }
}

fn service_with(attrs: &[Vec<u8>]) -> Vec<u8> {
    nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_SERVICE, &[nest(A_SERVICE, attrs)]),
    )
}

#[test]
fn malformed_service_attributes_are_decode_errors() {
    let good = tcp_vip_identity();
    let full = |extra: Vec<Vec<u8>>| {
        let mut a = good.clone();
        a.extend([
            nla(S_SCHED, b"rr\0"),
            nla(S_FLAGS, &[0; 8]),
            nla(S_TIMEOUT, &[0; 4]),
            nla(S_NETMASK, &[255; 4]),
        ]);
        a.extend(extra);
        a
    };
    assert!(decode_services(&service_with(&full(vec![]))).is_ok());
    // A 3-byte port, a 2-byte fwmark, a 5-byte address, short flags.
    for bad in [
        nla(S_PORT, &[0, 0, 80]),
        nla(S_FWMARK, &[1, 0]),
        nla(S_ADDR, &[10, 0, 0, 1, 0]),
        nla(S_FLAGS, &[1, 0, 0, 0]),
        nla(S_NETMASK, &[255, 255]),
        nla(S_SCHED, b"r\0r\0"),
        nla(S_SCHED, &[0xff, 0xfe, 0]),
    ] {
        decode_error(&service_with(&full(vec![bad])));
    }
    // Unknown family or protocol; a missing attribute.
    let mut a = full(vec![]);
    a[0] = nla(S_AF, &[99, 0]);
    assert!(decode_error(&service_with(&a)).contains("family"));
    a[0] = nla(S_AF, &[INET, 0]);
    a[1] = nla(S_PROTOCOL, &[47, 0]);
    assert!(decode_error(&service_with(&a)).contains("protocol"));
    assert!(decode_error(&service_with(&good)).contains("FLAGS"));
    // A message without the SERVICE nest.
    let bare = nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_SERVICE, &[]),
    );
    decode_error(&bare);
}

#[test]
fn malformed_framing_is_a_decode_error() {
    let mut a = tcp_vip_identity();
    a[3] = nla(S_PORT, &[0, 80]);
    let msg = service_with(&a);
    // The nest claims more bytes than the message has.
    let mut long_nest = msg.clone();
    long_nest[20] = 200;
    decode_error(&long_nest);
    // An attribute shorter than its own header.
    let mut short_attr = msg.clone();
    short_attr[24] = 2;
    decode_error(&short_attr);
    // The genl header cut off.
    decode_error(&nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &[CMD_NEW_SERVICE],
    ));
}

#[test]
fn malformed_dests_are_decode_errors() {
    let bad_fwd = dumped_dest(Some(INET), &v4_in_16(RIP), 5);
    let m = wire::parse_message(&bad_fwd).unwrap();
    assert!(
        matches!(wire::decode_dest(&m, Family::Inet), Err(IpvsError::Decode(s)) if s.contains("forwarding"))
    );
    // An IPv6 destination whose address has 4 bytes.
    let d = nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(
            CMD_NEW_DEST,
            &[nest(
                A_DEST,
                &[
                    nla(D_ADDR, &[10, 0, 1, 1]),
                    nla(D_PORT, &[0, 80]),
                    nla(D_FWD, &[0; 4]),
                    nla(D_WEIGHT, &[1, 0, 0, 0]),
                    nla(D_U, &[0; 4]),
                    nla(D_L, &[0; 4]),
                    nla(D_AF, &[INET6, 0]),
                ],
            )],
        ),
    );
    let m = wire::parse_message(&d).unwrap();
    assert!(matches!(
        wire::decode_dest(&m, Family::Inet),
        Err(IpvsError::Decode(_))
    ));
    // A weight of 2 bytes.
    let short_weight = nlmsg(
        FAMILY,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &genl(CMD_NEW_DEST, &[nest(A_DEST, &[nla(D_WEIGHT, &[1, 0])])]),
    );
    assert!(matches!(
        wire::parse_message(&short_weight),
        Err(IpvsError::Decode(_))
    ));
}

/// No input panics: every truncation and every single-byte corruption of
/// a dump decodes to a value or an error.
#[test]
fn corrupted_dumps_never_panic() {
    let datagram = [
        dumped_service(&[]),
        dumped_fwmark6(),
        dumped_dest(Some(INET), &v4_in_16(RIP), FWD_MASQ),
        dumped_daemon(MASTER, b"eth0\0", 7, nla(M_GROUP, &[224, 0, 0, 81])),
        done(),
    ]
    .concat();
    let req = dump_request();
    let try_all = |bytes: &[u8]| {
        if let Ok((msgs, _)) = wire::read_replies(bytes, SEQ, &req) {
            for (_, m) in msgs {
                let _ = wire::decode_service(&m);
                let _ = wire::decode_dest(&m, Family::Inet);
                let _ = wire::decode_daemon(&m);
            }
        }
    };
    for n in 0..datagram.len() {
        try_all(&datagram[..n]);
    }
    for i in 0..datagram.len() {
        for v in [0u8, 1, 3, 0x7f, 0xff] {
            let mut b = datagram.clone();
            b[i] = v;
            try_all(&b);
        }
    }
}

// ---- errors ----

/// The NLMSG_ERROR the kernel answers `request` with: capped (only the
/// request's header), extack message optional.
fn error_reply(request: &[u8], errno: i32, extack: Option<&str>) -> Vec<u8> {
    let mut payload = (-errno).to_le_bytes().to_vec();
    payload.extend_from_slice(&request[..16]);
    let mut flags = NLM_F_CAPPED;
    if let Some(m) = extack {
        flags |= NLM_F_ACK_TLVS;
        let mut s = m.as_bytes().to_vec();
        s.push(0);
        payload.extend(nla(netlink_sys::constants::NLMSGERR_ATTR_MSG as u8, &s));
    }
    let mut v = nlmsg(u16::from_le_bytes(T_ERROR), flags, SEQ, PORTID, &payload);
    v[8..12].copy_from_slice(&SEQ.to_le_bytes());
    v
}

fn answer(request: &[u8], errno: i32, extack: Option<&str>) -> Result<(), IpvsError> {
    wire::read_replies(&error_reply(request, errno, extack), SEQ, request).map(drop)
}

#[test]
fn kernel_errors_in_the_users_terms() {
    let s = Service::new(tcp_vip(), "wlc");
    let new_svc = bytes_of(wire::new_service(&s).unwrap(), false);
    let set_svc = bytes_of(wire::set_service(&s).unwrap(), false);
    let del_svc = bytes_of(wire::del_service(&tcp_vip()).unwrap(), false);
    let d = Dest::new(IpAddr::V4(RIP), 80, Forward::Masq, 1);
    let new_dest = bytes_of(wire::new_dest(&tcp_vip(), &d).unwrap(), false);
    let del_dest = bytes_of(
        wire::del_dest(&tcp_vip(), IpAddr::V4(RIP), 80).unwrap(),
        false,
    );

    assert!(matches!(
        answer(&new_svc, libc::EEXIST, None),
        Err(IpvsError::Exists)
    ));
    assert!(matches!(
        answer(&new_dest, libc::EEXIST, None),
        Err(IpvsError::Exists)
    ));
    // No service: ESRCH; no destination: ENOENT.
    assert!(matches!(
        answer(&del_svc, libc::ESRCH, None),
        Err(IpvsError::NotFound)
    ));
    assert!(matches!(
        answer(&set_svc, libc::ESRCH, None),
        Err(IpvsError::NotFound)
    ));
    assert!(matches!(
        answer(&del_dest, libc::ENOENT, None),
        Err(IpvsError::NotFound)
    ));
    // ENOENT on NEW/SET_SERVICE: no such scheduler module.
    match answer(&new_svc, libc::ENOENT, None) {
        Err(IpvsError::UnknownScheduler { scheduler, engine }) => {
            assert_eq!((scheduler.as_str(), engine), ("wlc", None))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        answer(&set_svc, libc::ENOENT, None),
        Err(IpvsError::UnknownScheduler { .. })
    ));
    assert!(matches!(
        answer(&del_svc, libc::EPERM, None),
        Err(IpvsError::PermissionDenied)
    ));
    match answer(&new_dest, libc::ERANGE, None) {
        Err(
            e @ IpvsError::Kernel {
                errno: libc::ERANGE,
                message: None,
            },
        ) => {
            assert_eq!(e.errno(), Some(libc::ERANGE))
        }
        other => panic!("{other:?}"),
    }
    match answer(&new_svc, libc::EINVAL, Some("bad thing")) {
        Err(IpvsError::Kernel { errno, message }) => {
            assert_eq!(
                (errno, message.as_deref()),
                (libc::EINVAL, Some("bad thing"))
            )
        }
        other => panic!("{other:?}"),
    }
    // A plain ACK completes a request.
    let ack = error_reply(&new_svc, 0, None);
    assert_eq!(
        wire::read_replies(&ack, SEQ, &new_svc).unwrap(),
        (vec![], true)
    );
}

/// start_sync_thread answers EEXIST when a daemon of the state runs and
/// ENODEV without the interface; stop_sync_thread ESRCH when none runs.
/// On other requests those errnos keep their meaning.
#[test]
fn daemon_errors_in_the_users_terms() {
    let d = SyncDaemon::new(SyncState::Backup, "sync0", 5);
    let start = bytes_of(wire::new_daemon(&d).unwrap(), false);
    let stop = bytes_of(wire::del_daemon(SyncState::Master), false);
    match answer(&start, libc::EEXIST, None) {
        Err(e @ IpvsError::DaemonRunning(SyncState::Backup)) => {
            assert_eq!(e.errno(), Some(libc::EEXIST));
            assert_eq!(
                e.to_string(),
                "an IPVS backup sync daemon is already running"
            );
        }
        other => panic!("{other:?}"),
    }
    match answer(&stop, libc::ESRCH, None) {
        Err(e @ IpvsError::DaemonNotRunning(SyncState::Master)) => {
            assert_eq!(e.errno(), Some(libc::ESRCH));
            assert_eq!(e.to_string(), "no IPVS master sync daemon is running");
        }
        other => panic!("{other:?}"),
    }
    match answer(&start, libc::ENODEV, None) {
        Err(e @ IpvsError::NoSuchInterface(_)) => {
            assert_eq!(e.errno(), Some(libc::ENODEV));
            assert!(matches!(&e, IpvsError::NoSuchInterface(i) if i == "sync0"));
        }
        other => panic!("{other:?}"),
    }
    // EINVAL (a mixed-family destination, an old kernel's policy): as is.
    assert!(matches!(
        answer(&start, libc::EINVAL, None),
        Err(IpvsError::Kernel {
            errno: libc::EINVAL,
            ..
        })
    ));
    assert!(matches!(
        answer(&stop, libc::EPERM, None),
        Err(IpvsError::PermissionDenied)
    ));
    // ESRCH on a service request is still a missing service.
    let del_svc = bytes_of(wire::del_service(&tcp_vip()).unwrap(), false);
    assert!(matches!(
        answer(&del_svc, libc::ESRCH, None),
        Err(IpvsError::NotFound)
    ));
}

// ---------------------------------------------------------------------------
// Values.

#[test]
fn services_compare_by_meaning() {
    let with = |n: Option<u32>| {
        let mut p = Persistence::new(300);
        p.netmask = n;
        Service::new(tcp_vip(), "rr").with_persistence(p)
    };
    assert_eq!(with(Some(24)), with(Some(0xffff_ff00)));
    assert_eq!(with(None), with(Some(32)));
    assert_eq!(with(None), with(Some(u32::MAX)));
    assert_ne!(with(Some(24)), with(Some(16)));
    assert_ne!(with(None), Service::new(tcp_vip(), "rr"));
    let set: HashSet<Service> = [
        with(Some(24)),
        with(Some(0xffff_ff00)),
        with(None),
        with(Some(32)),
    ]
    .into_iter()
    .collect();
    assert_eq!(set.len(), 2);
    let v6 = |n: Option<u32>| {
        let mut p = Persistence::new(1);
        p.netmask = n;
        Service::new(ServiceKey::tcp(IpAddr::V6(VIP6), 80), "rr").with_persistence(p)
    };
    assert_eq!(v6(None), v6(Some(128)));
    assert_ne!(v6(Some(64)), v6(Some(128)));
}

/// Whatever is encoded decodes back equal: a dump's NEW_SERVICE has the
/// shape of the NEW_SERVICE request.
#[test]
fn services_round_trip() {
    let keys = [
        tcp_vip(),
        ServiceKey::udp(IpAddr::V6(VIP6), 0),
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: IpAddr::V4(VIP),
            port: 65535,
        },
        ServiceKey::fwmark(Family::Inet, 1),
        ServiceKey::fwmark(Family::Inet6, u32::MAX),
    ];
    for key in keys {
        for netmask in [None, Some(0), Some(1), Some(24), Some(64)] {
            let mut s = Service::new(key, "mh");
            if key.family() == Family::Inet6 && netmask == Some(0) {
                continue;
            }
            s.persistence = Some(Persistence {
                timeout_s: 3600,
                netmask,
                engine: Some("sip".into()),
            });
            s.ops = true;
            s.sched_flags = SchedFlags::MH_FALLBACK | SchedFlags::FLAG3;
            let bytes = bytes_of(wire::new_service(&s).unwrap(), false);
            let back = wire::decode_service(&wire::parse_message(&bytes).unwrap()).unwrap();
            assert_eq!(back, s);
            assert_eq!(back, back.canonical());
            let plain = Service::new(key, "none");
            let bytes = bytes_of(wire::new_service(&plain).unwrap(), false);
            let back = wire::decode_service(&wire::parse_message(&bytes).unwrap()).unwrap();
            assert_eq!(back, plain);
        }
    }
    let parsed = wire::parse_message(&new_service_fixture()).unwrap();
    assert_eq!(parsed.cmd, CMD_NEW_SERVICE);
    assert!(matches!(&parsed.attrs[0], CmdAttr::Service(a) if a[3] == SvcAttr::Port(80)));
}

/// A request's DAEMON nest decodes like a dump's (the same NEW_DAEMON
/// shape), so what is started reads back equal.
#[test]
fn daemons_round_trip() {
    let full = SyncDaemon {
        maxlen: Some(u16::MAX),
        group: Some(IpAddr::V6(Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 0, 0x1234))),
        port: Some(1),
        ttl: Some(u8::MAX),
        ..SyncDaemon::new(SyncState::Backup, "abcdefghijklmno", 255)
    };
    for d in [SyncDaemon::new(SyncState::Master, "lo", 0), full] {
        let bytes = bytes_of(wire::new_daemon(&d).unwrap(), false);
        let msg = wire::parse_message(&bytes).unwrap();
        assert_eq!(msg.cmd, CMD_NEW_DAEMON);
        assert!(
            matches!(&msg.attrs[0], CmdAttr::Daemon(a) if a[1] == DaemonAttr::McastIfn(d.interface.clone()))
        );
        assert_eq!(wire::decode_daemon(&msg).unwrap(), d);
    }
    assert_eq!("Master".parse::<SyncState>(), Ok(SyncState::Master));
    assert_eq!("backup".parse::<SyncState>(), Ok(SyncState::Backup));
    assert!("both".parse::<SyncState>().is_err());
    assert_eq!(SyncState::Backup.to_string(), "backup");
    assert_eq!(SyncState::from_raw(0), None);
}

#[test]
fn service_keys_display_like_ipvsadm() {
    assert_eq!(tcp_vip().to_string(), "TCP 10.0.0.1:80");
    assert_eq!(
        ServiceKey::tcp(IpAddr::V6(VIP6), 80).to_string(),
        "TCP [fd00::1]:80"
    );
    assert_eq!(
        ServiceKey::fwmark(Family::Inet, 5).to_string(),
        "FWM 5 IPv4"
    );
    assert_eq!(
        ServiceKey::fwmark(Family::Inet6, 5).to_string(),
        "FWM 5 IPv6"
    );
    let sctp = ServiceKey::Addr {
        protocol: Protocol::Sctp,
        addr: IpAddr::V4(VIP),
        port: 9,
    };
    assert_eq!(sctp.to_string(), "SCTP 10.0.0.1:9");
    assert_eq!(wire::family_name(), "IPVS");
}
