//! Property tests of the IPVS sync-daemon codec: every daemon the library
//! accepts round-trips through NEW_DAEMON's encoder and the dump decoder,
//! whether read back as the request or as the kernel's dump reply; the
//! encoder refuses exactly the daemons the kernel would (a name the policy
//! rejects, a group that is not multicast) or could not carry (a sync id
//! above one byte); unknown attributes in the nest change nothing; no
//! input makes the decoder panic. Frames are built little endian, as in
//! tests/ipvs_codec.rs.
#![cfg(target_endian = "little")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::ipvs::wire::{self, IpvsMessage};
use afcluster::ipvs::{uapi, IpvsError, SyncDaemon, SyncState};
use netlink_packet_core::{NLMSG_DONE, NLM_F_MULTIPART};
use proptest::collection::vec;
use proptest::prelude::*;

const FAMILY: u16 = 0x0125;
const SEQ: u32 = 7;

fn state() -> impl Strategy<Value = SyncState> {
    prop_oneof![Just(SyncState::Master), Just(SyncState::Backup)]
}

/// What the kernel's policy takes: 1 to 15 bytes without NUL.
fn interface() -> impl Strategy<Value = String> {
    "[^\0]{1,15}".prop_filter("at most 15 bytes", |s| s.len() <= wire::IFNAME_MAX)
}

/// A multicast group: 224.0.0.0/4 or ff00::/8.
fn group() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(0xe000_0000 | (a & 0x0fff_ffff)))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from((0xff << 120) | (a >> 8)))),
    ]
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

/// A daemon the encoder takes.
fn daemon() -> impl Strategy<Value = SyncDaemon> {
    (
        state(),
        interface(),
        0..=wire::SYNC_ID_MAX,
        any::<Option<u16>>(),
        proptest::option::of(group()),
        any::<Option<u16>>(),
        any::<Option<u8>>(),
    )
        .prop_map(
            |(state, interface, sync_id, maxlen, group, port, ttl)| SyncDaemon {
                state,
                interface,
                sync_id,
                maxlen,
                group,
                port,
                ttl,
            },
        )
}

/// Any daemon at all: names of any length with NULs, any id and address;
/// near the limits half of the time.
fn any_daemon() -> impl Strategy<Value = SyncDaemon> {
    (
        daemon(),
        prop_oneof![interface(), "[a-z\0]{0,3}", "[a-z]{14,17}", ".{0,20}"],
        prop_oneof![0..=wire::SYNC_ID_MAX, 250..=260u32, any::<u32>()],
        proptest::option::of(prop_oneof![group(), any_ip()]),
    )
        .prop_map(|(d, interface, sync_id, group)| SyncDaemon {
            interface,
            sync_id,
            group,
            ..d
        })
}

fn request(d: &SyncDaemon) -> Vec<u8> {
    wire::request_bytes(wire::new_daemon(d).unwrap(), FAMILY, SEQ, false)
}

/// `request`'s message as a dump's part (NLM_F_MULTI), then NLMSG_DONE.
fn as_dump(request: &[u8]) -> Vec<u8> {
    let mut v = request.to_vec();
    v[6..8].copy_from_slice(&NLM_F_MULTIPART.to_le_bytes());
    let done_len = 20u32;
    v.extend_from_slice(&done_len.to_le_bytes());
    v.extend_from_slice(&NLMSG_DONE.to_le_bytes());
    v.extend_from_slice(&NLM_F_MULTIPART.to_le_bytes());
    v.extend_from_slice(&SEQ.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&0i32.to_le_bytes());
    v
}

fn dump_request() -> Vec<u8> {
    wire::request_bytes(wire::get_daemons(), FAMILY, SEQ, true)
}

/// Everything a datagram answering GET_DAEMON decodes to.
fn decode_dump(datagram: &[u8]) -> Result<(Vec<SyncDaemon>, bool), IpvsError> {
    let (msgs, complete) = wire::read_replies(datagram, SEQ, &dump_request())?;
    let daemons = msgs
        .iter()
        .map(|(_, m)| wire::decode_daemon(m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((daemons, complete))
}

fn nla(ty: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::with_capacity((len + 3) & !3);
    v.extend_from_slice(&(len as u16).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(payload);
    v.resize((len + 3) & !3, 0);
    v
}

/// A NEW_DAEMON message whose DAEMON nest holds `nest` as it is.
fn daemon_message(nest: &[u8]) -> Vec<u8> {
    let genl = [
        &[
            uapi::IPVS_CMD_NEW_DAEMON as u8,
            uapi::IPVS_GENL_VERSION as u8,
            0,
            0,
        ][..],
        &nla(uapi::IPVS_CMD_ATTR_DAEMON as u16, nest),
    ]
    .concat();
    let mut v = Vec::new();
    v.extend_from_slice(&(16 + genl.len() as u32).to_le_bytes());
    v.extend_from_slice(&FAMILY.to_le_bytes());
    v.extend_from_slice(&NLM_F_MULTIPART.to_le_bytes());
    v.extend_from_slice(&SEQ.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&genl);
    v
}

/// The DAEMON nest's payload in a request (after nlmsghdr, genlmsghdr and
/// the nest's own header).
fn nest_payload(request: &[u8]) -> &[u8] {
    &request[24..]
}

fn never_panics(bytes: &[u8]) {
    if let Ok((msgs, _)) = wire::read_replies(bytes, SEQ, &dump_request()) {
        for (_, m) in msgs {
            let _ = wire::decode_daemon(&m);
        }
    }
    if let Ok(m) = wire::parse_message(bytes) {
        let _ = wire::decode_daemon(&m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Start request → the same daemon, read as the request itself and as
    /// the kernel's dump reply.
    #[test]
    fn daemons_round_trip(d in daemon()) {
        let bytes = request(&d);
        let msg: IpvsMessage = wire::parse_message(&bytes).unwrap();
        prop_assert_eq!(&wire::decode_daemon(&msg).unwrap(), &d);
        prop_assert_eq!(decode_dump(&as_dump(&bytes)).unwrap(), (vec![d], true));
    }

    /// Two daemons in one datagram, master and backup, both come back.
    #[test]
    fn a_dump_of_two_decodes(a in daemon(), b in daemon()) {
        let a = SyncDaemon { state: SyncState::Master, ..a };
        let b = SyncDaemon { state: SyncState::Backup, ..b };
        let mut first = request(&a);
        first[6..8].copy_from_slice(&NLM_F_MULTIPART.to_le_bytes());
        let datagram = [first, as_dump(&request(&b))].concat();
        prop_assert_eq!(decode_dump(&datagram).unwrap(), (vec![a, b], true));
    }

    /// The encoder refuses exactly what it must, and what it takes round-trips.
    #[test]
    fn the_encoder_refuses_exactly_the_invalid(d in any_daemon()) {
        let bad_name = d.interface.is_empty()
            || d.interface.len() > wire::IFNAME_MAX
            || d.interface.contains('\0');
        let bad = bad_name
            || d.sync_id > wire::SYNC_ID_MAX
            || d.group.is_some_and(|g| !g.is_multicast());
        match wire::new_daemon(&d) {
            Err(IpvsError::Invalid(_)) => prop_assert!(bad, "{:?} refused", d),
            Err(e) => prop_assert!(false, "{:?}: {}", d, e),
            Ok(m) => {
                prop_assert!(!bad, "{:?} accepted", d);
                prop_assert_eq!(&wire::decode_daemon(&m).unwrap(), &d);
            }
        }
    }

    /// Attributes the library does not know, anywhere in the nest, are
    /// skipped.
    #[test]
    fn unknown_attributes_are_skipped(
        d in daemon(),
        extra in vec((9u16..=0x3fff, vec(any::<u8>(), 0..24)), 1..4),
        at in vec(any::<prop::sample::Index>(), 4),
    ) {
        let bytes = request(&d);
        // Split the nest into its attributes, then insert the unknown ones.
        let mut attrs = Vec::new();
        let mut rest = nest_payload(&bytes);
        while !rest.is_empty() {
            let len = (u16::from_le_bytes([rest[0], rest[1]]) as usize + 3) & !3;
            attrs.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        for (i, (ty, payload)) in extra.iter().enumerate() {
            let pos = at[i].index(attrs.len() + 1);
            attrs.insert(pos, nla(*ty, payload));
        }
        let datagram = daemon_message(&attrs.concat());
        prop_assert_eq!(decode_dump(&datagram).unwrap().0, vec![d]);
    }

    /// No nest payload, however malformed, makes the decoder panic.
    #[test]
    fn random_nests_never_panic(nest in vec(any::<u8>(), 0..128)) {
        never_panics(&daemon_message(&nest));
    }

    /// Nor does any truncation or change of bytes of a valid dump.
    #[test]
    fn mutated_dumps_never_panic(
        d in daemon(),
        cut in any::<prop::sample::Index>(),
        changes in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let dump = as_dump(&request(&d));
        never_panics(&dump[..cut.index(dump.len() + 1)]);
        let mut b = dump.clone();
        for (i, v) in changes {
            let i = i.index(b.len());
            b[i] = v;
        }
        never_panics(&b);
    }
}
