//! Property tests of the VRRP wire format: every valid advert round-trips
//! through the encoder and the decoder, whatever the version, family,
//! addresses and checksum option; no input makes the decoder or the IPv4
//! splitter panic; every single-bit change of a valid message is refused
//! (the Internet checksum catches every one, and a changed version, type
//! or count changes the length rules first); the pseudo-header's addresses
//! count exactly when the checksum covers them; an IPv4 header built here
//! is taken apart into exactly what went in.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use afcluster::vrrp::packet::{
    decode, encode, split_ipv4, Advert, Auth, Checksum, DecodeError, EncodeError, Version,
    GROUP_V4, GROUP_V6, IPPROTO_VRRP, MAX_INTERVAL_V2_CS, MAX_INTERVAL_V3_CS,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
}

fn checksum() -> impl Strategy<Value = Checksum> {
    any::<bool>().prop_map(|v3_ipv4_pseudo_header| Checksum {
        v3_ipv4_pseudo_header,
    })
}

/// A destination: the group most of the time, a unicast peer otherwise.
fn dst_v4() -> impl Strategy<Value = IpAddr> {
    prop_oneof![3 => Just(IpAddr::V4(GROUP_V4)), 1 => v4()]
}

fn dst_v6() -> impl Strategy<Value = IpAddr> {
    prop_oneof![3 => Just(IpAddr::V6(GROUP_V6)), 1 => v6()]
}

/// A valid advert with its source and destination: v2 (IPv4, whole
/// seconds, with or without PASS), v3 over IPv4 or IPv6 (12 bits of
/// centiseconds, no auth); up to `max_addrs` addresses of the family.
fn sent(max_addrs: usize) -> impl Strategy<Value = (Advert, IpAddr, IpAddr)> {
    let auth = prop_oneof![Just(Auth::None), any::<[u8; 8]>().prop_map(Auth::Pass)];
    let v2 = (
        any::<u8>(),
        any::<u8>(),
        0..=MAX_INTERVAL_V2_CS / 100,
        vec(v4(), 0..=max_addrs),
        auth,
        v4(),
        dst_v4(),
    )
        .prop_map(|(vrid, priority, secs, addrs, auth, src, dst)| {
            let a = Advert {
                version: Version::V2,
                vrid,
                priority,
                interval_cs: secs * 100,
                addrs,
                auth,
            };
            (a, src, dst)
        });
    let v3 = (
        any::<u8>(),
        any::<u8>(),
        0..=MAX_INTERVAL_V3_CS,
        any::<bool>(),
        vec(v4(), 0..=max_addrs),
        vec(v6(), 0..=max_addrs),
        v4(),
        dst_v4(),
        v6(),
        dst_v6(),
    )
        .prop_map(
            |(vrid, priority, interval_cs, ipv6, a4, a6, s4, d4, s6, d6)| {
                let (addrs, src, dst) = if ipv6 { (a6, s6, d6) } else { (a4, s4, d4) };
                let a = Advert {
                    version: Version::V3,
                    vrid,
                    priority,
                    interval_cs,
                    addrs,
                    auth: Auth::None,
                };
                (a, src, dst)
            },
        );
    prop_oneof![v2, v3]
}

/// Any address pair, of one family or mixed.
fn any_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    (prop_oneof![v4(), v6()], prop_oneof![v4(), v6()])
}

/// A valid message, or one close to it: a valid one with a few bytes
/// overwritten, cut short or extended, so that the decoder's later checks
/// are reached too.
fn near_valid() -> impl Strategy<Value = (Vec<u8>, IpAddr, IpAddr, Checksum)> {
    (
        sent(8),
        checksum(),
        vec((any::<usize>(), any::<u8>()), 0..4),
        prop_oneof![3 => Just(0i32), 1 => -3i32..3],
    )
        .prop_map(|((a, src, dst), ck, writes, resize)| {
            let mut b = encode(&a, src, dst, ck).unwrap();
            for (at, byte) in writes {
                let at = at % b.len();
                b[at] = byte;
            }
            let len = (b.len() as i32 + resize * 4).max(0) as usize;
            b.resize(len, 0);
            (b, src, dst, ck)
        })
}

/// The fields of an IPv4 header built by [`ipv4`].
struct Header {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    protocol: u8,
    df: bool,
    /// A multiple of 4 bytes, at most 40.
    options: Vec<u8>,
}

/// An IPv4 packet: the header, total length header + payload, then
/// `padding` bytes the total length does not count.
fn ipv4(h: &Header, payload: &[u8], padding: &[u8]) -> Vec<u8> {
    let header = 20 + h.options.len();
    let total = (header + payload.len()) as u16;
    let mut b = vec![0x40 | (header / 4) as u8, 0xc0];
    b.extend_from_slice(&total.to_be_bytes());
    let flags = if h.df { 0x40 } else { 0 };
    b.extend_from_slice(&[0, 0, flags, 0, h.ttl, h.protocol, 0, 0]);
    b.extend_from_slice(&h.src.octets());
    b.extend_from_slice(&h.dst.octets());
    b.extend_from_slice(&h.options);
    b.extend_from_slice(payload);
    b.extend_from_slice(padding);
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip((a, src, dst) in sent(255), ck in checksum()) {
        let bytes = encode(&a, src, dst, ck).unwrap();
        prop_assert_eq!(bytes.len(), a.encoded_len(src.is_ipv6()));
        prop_assert_eq!(bytes[3] as usize, a.addrs.len());
        prop_assert_eq!(decode(&bytes, src, dst, ck), Ok(a));
    }

    /// Through the IPv4 header too, as a raw socket would deliver it.
    #[test]
    fn round_trip_through_ipv4(
        (a, src, dst) in sent(32).prop_filter("IPv4", |(_, s, _)| s.is_ipv4()),
        ck in checksum(),
        padding in vec(any::<u8>(), 0..8),
    ) {
        let (IpAddr::V4(s4), IpAddr::V4(d4)) = (src, dst) else { unreachable!() };
        let bytes = encode(&a, src, dst, ck).unwrap();
        let header = Header {
            src: s4,
            dst: d4,
            ttl: 255,
            protocol: IPPROTO_VRRP,
            df: false,
            options: vec![],
        };
        let packet = ipv4(&header, &bytes, &padding);
        let ip = split_ipv4(&packet).unwrap();
        let got = decode(ip.payload, IpAddr::V4(ip.src), IpAddr::V4(ip.dst), ck);
        prop_assert_eq!(got, Ok(a));
    }

    /// Encoding refuses exactly the intervals the version cannot carry.
    #[test]
    fn intervals((a, src, dst) in sent(2), interval_cs in any::<u16>()) {
        let a = Advert { interval_cs, ..a };
        let fits = match a.version {
            Version::V2 => interval_cs % 100 == 0 && interval_cs <= MAX_INTERVAL_V2_CS,
            Version::V3 => interval_cs <= MAX_INTERVAL_V3_CS,
        };
        match encode(&a, src, dst, Checksum::RFC) {
            Ok(bytes) => {
                prop_assert!(fits);
                prop_assert_eq!(decode(&bytes, src, dst, Checksum::RFC), Ok(a));
            }
            Err(e) => {
                prop_assert!(!fits);
                prop_assert_eq!(
                    e,
                    EncodeError::Interval { version: a.version, interval_cs }
                );
            }
        }
    }

    #[test]
    fn decode_never_panics(
        bytes in vec(any::<u8>(), 0..600),
        (src, dst) in any_pair(),
        ck in checksum(),
    ) {
        let _ = decode(&bytes, src, dst, ck);
    }

    /// The instance's checks on top of the decoder: near-valid input of
    /// any kind is accepted or dropped with a reason, never a panic, and
    /// what is accepted is what the decoder reads.
    #[test]
    fn the_instance_checks_never_panic(
        (bytes, src, dst, ck) in near_valid(),
        ttl in proptest::option::of(any::<u8>()),
        v2 in any::<bool>(),
        check_vips in any::<bool>(),
        unicast in any::<bool>(),
    ) {
        use afcluster::vrrp::check::{check, Expect, Peer, Received};
        let vips = [src];
        let peers = [Peer { addr: src, min_ttl: 0, max_ttl: 255 }];
        let auth = Auth::None;
        let e = Expect {
            version: if v2 { Version::V2 } else { Version::V3 },
            interval_cs: 100,
            auth: &auth,
            vips: &vips,
            check_vips,
            peers: if unicast { &peers[..] } else { &[] },
            check_unicast_src: true,
            checksum: ck,
        };
        if let Ok(a) = check(&Received { src, dst, ttl, vrrp: &bytes }, &e) {
            prop_assert_eq!(decode(&bytes, src, dst, ck), Ok(a));
        }
    }

    /// Near-valid input reaches the later checks; whatever decodes
    /// re-encodes to a message the decoder reads the same.
    #[test]
    fn decode_near_valid((bytes, src, dst, ck) in near_valid()) {
        if let Ok(a) = decode(&bytes, src, dst, ck) {
            let again = encode(&a, src, dst, ck).unwrap();
            prop_assert_eq!(again.len(), bytes.len());
            prop_assert_eq!(decode(&again, src, dst, ck), Ok(a));
        }
    }

    /// The checksum covers every byte of the message, so a single changed
    /// bit is always refused: never decoded, not even to another advert.
    #[test]
    fn every_single_bit_flip_is_refused((a, src, dst) in sent(16), ck in checksum()) {
        let bytes = encode(&a, src, dst, ck).unwrap();
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            let got = decode(&b, src, dst, ck);
            prop_assert!(got.is_err(), "bit {} flipped: {:?}", bit, got);
        }
    }

    /// A different source or destination is refused exactly when the
    /// checksum covers the pseudo-header (v3, and over IPv4 only with the
    /// option); otherwise the same advert is decoded.
    #[test]
    fn pseudo_header_addresses_count_exactly_when_covered(
        (a, src, dst) in sent(4),
        ck in checksum(),
        which in any::<bool>(),
        bit in 0u32..128,
    ) {
        let bytes = encode(&a, src, dst, ck).unwrap();
        let flip = |ip: IpAddr| match ip {
            IpAddr::V4(v) => IpAddr::V4(Ipv4Addr::from(u32::from(v) ^ (1 << (bit % 32)))),
            IpAddr::V6(v) => IpAddr::V6(Ipv6Addr::from(u128::from(v) ^ (1 << bit))),
        };
        let (s2, d2) = if which { (flip(src), dst) } else { (src, flip(dst)) };
        let covered = a.version == Version::V3 && (src.is_ipv6() || ck.v3_ipv4_pseudo_header);
        let got = decode(&bytes, s2, d2, ck);
        if covered {
            prop_assert!(
                matches!(got, Err(DecodeError::Checksum { .. })),
                "{:?}",
                got
            );
        } else {
            prop_assert_eq!(got, Ok(a));
        }
    }

    #[test]
    fn split_ipv4_never_panics(bytes in vec(any::<u8>(), 0..100)) {
        let _ = split_ipv4(&bytes);
    }

    /// Valid headers, mostly: any first byte and total length, so that
    /// every check is reached.
    #[test]
    fn split_ipv4_near_valid(
        first in any::<u8>(),
        total in any::<u16>(),
        frag in any::<u16>(),
        rest in vec(any::<u8>(), 16..120),
    ) {
        let mut b = vec![first, 0];
        b.extend_from_slice(&total.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&frag.to_be_bytes());
        b.extend_from_slice(&rest);
        if let Ok(p) = split_ipv4(&b) {
            let header = (first & 0x0f) as usize * 4;
            prop_assert_eq!(first >> 4, 4);
            prop_assert_eq!(p.payload, &b[header..total as usize]);
            prop_assert_eq!(frag & 0x3fff, 0);
        }
    }

    #[test]
    fn split_ipv4_round_trip(
        (src, dst) in (any::<u32>(), any::<u32>()),
        ttl in any::<u8>(),
        protocol in any::<u8>(),
        df in any::<bool>(),
        options in (0usize..=10).prop_flat_map(|words| vec(any::<u8>(), words * 4)),
        payload in vec(any::<u8>(), 0..200),
        padding in vec(any::<u8>(), 0..32),
    ) {
        let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
        let header = Header { src, dst, ttl, protocol, df, options };
        let b = ipv4(&header, &payload, &padding);
        let p = split_ipv4(&b).unwrap();
        prop_assert_eq!(p.src, src);
        prop_assert_eq!(p.dst, dst);
        prop_assert_eq!(p.ttl, ttl);
        prop_assert_eq!(p.protocol, protocol);
        prop_assert_eq!(p.payload, &payload[..]);
    }
}
