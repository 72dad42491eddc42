//! Byte vectors checked outside this code: a published capture, values
//! computed with Python's `struct` and the RFC 1071 sum, and one checksum
//! the kernel filled in (`IPV6_CHECKSUM`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().unwrap())
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse().unwrap())
}

fn g4() -> IpAddr {
    IpAddr::V4(GROUP_V4)
}

fn g6() -> IpAddr {
    IpAddr::V6(GROUP_V6)
}

/// A tcpdump capture of a VRRPv2 advert as an Ethernet frame, published
/// with google/gopacket's layers/vrrp_test.go:
/// `IP 192.168.0.30 > 224.0.0.18: VRRPv2, Advertisement, vrid 1, prio
/// 100, authtype none, intvl 1s, length 20`. The frame is padded to 60
/// bytes: 6 bytes after the IP total length (40).
const CAPTURED_FRAME: [u8; 60] = [
    0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x01, 0x08, 0x00, 0x45, 0xc0,
    0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0xff, 0x70, 0x19, 0xcd, 0xc0, 0xa8, 0x00, 0x1e, 0xe0, 0x00,
    0x00, 0x12, 0x21, 0x01, 0x64, 0x01, 0x00, 0x01, 0xba, 0x52, 0xc0, 0xa8, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// keepalived's shipped keepalived.conf, instance VI_1 (without
/// `vrrp_strict`, which would drop the authentication): VRID 51, priority
/// 100, advert_int 1, auth_type PASS, auth_pass 1111, VIPs
/// 192.168.200.16-18. Checksum 0x7d36 (Python, RFC 1071).
const KEEPALIVED_SAMPLE_V2: [u8; 28] = [
    0x21, 0x33, 0x64, 0x03, 0x01, 0x01, 0x7d, 0x36, 0xc0, 0xa8, 0xc8, 0x10, 0xc0, 0xa8, 0xc8, 0x11,
    0xc0, 0xa8, 0xc8, 0x12, 0x31, 0x31, 0x31, 0x31, 0x00, 0x00, 0x00, 0x00,
];

fn keepalived_sample_v2() -> Advert {
    Advert {
        version: Version::V2,
        vrid: 51,
        priority: 100,
        interval_cs: 100,
        addrs: vec![
            v4("192.168.200.16"),
            v4("192.168.200.17"),
            v4("192.168.200.18"),
        ],
        auth: Auth::Pass(*b"1111\0\0\0\0"),
    }
}

/// v3 over IPv4, 192.168.200.1 -> 224.0.0.18: VRID 51, priority 150,
/// 100 cs, VIP 192.168.200.16. Checksum with the pseudo-header 0x4674,
/// without it 0xafad (Python, RFC 1071).
const V3_IPV4: [u8; 12] = [
    0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x46, 0x74, 0xc0, 0xa8, 0xc8, 0x10,
];
const V3_IPV4_AS_V2_CHECKSUM: [u8; 2] = [0xaf, 0xad];

fn v3_ipv4() -> Advert {
    Advert {
        version: Version::V3,
        vrid: 51,
        priority: 150,
        interval_cs: 100,
        addrs: vec![v4("192.168.200.16")],
        auth: Auth::None,
    }
}

/// v3 over IPv6, fe80::1 -> ff02::12: VRID 51, priority 100, 100 cs, VIPs
/// 2001:db8::16 and fe80::16. Checksum 0x3fd1 (Python, RFC 1071 over the
/// IPv6 pseudo-header).
const V3_IPV6: [u8; 40] = [
    0x31, 0x33, 0x64, 0x02, 0x00, 0x64, 0x3f, 0xd1, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
];

fn v3_ipv6() -> Advert {
    Advert {
        version: Version::V3,
        vrid: 51,
        priority: 100,
        interval_cs: 100,
        addrs: vec![v6("2001:db8::16"), v6("fe80::16")],
        auth: Auth::None,
    }
}

/// Sent with a raw IPv6 socket (protocol 112, `IPV6_CHECKSUM` 6) from ::1
/// to ::1 in a network namespace, read back from another: the kernel
/// filled in checksum 0xd771. VRID 7, priority 200, 300 cs, 2001:db8::16.
const KERNEL_V3_IPV6_LOOPBACK: [u8; 24] = [
    0x31, 0x07, 0xc8, 0x01, 0x01, 0x2c, 0xd7, 0x71, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
];

/// Rewrites the checksum of a v2 or v3-over-IPv4-with-pseudo-header
/// message after a test changed a byte, so that only that change counts.
fn fix_checksum(buf: &mut [u8], version: Version, src: IpAddr, dst: IpAddr) {
    buf[6] = 0;
    buf[7] = 0;
    let sum = sum_words(
        pseudo_header_sum(version, src, dst, buf.len(), Checksum::RFC),
        buf,
    );
    let ck = !fold(sum);
    buf[6..8].copy_from_slice(&ck.to_be_bytes());
}

#[test]
fn captured_v2_advert() {
    let ip = split_ipv4(&CAPTURED_FRAME[14..]).unwrap();
    assert_eq!(ip.src, Ipv4Addr::new(192, 168, 0, 30));
    assert_eq!(ip.dst, GROUP_V4);
    assert_eq!(ip.ttl, TTL);
    assert_eq!(ip.protocol, IPPROTO_VRRP);
    // The 6 padding bytes are cut off.
    assert_eq!(ip.payload, &CAPTURED_FRAME[34..54]);

    let (src, dst) = (IpAddr::V4(ip.src), IpAddr::V4(ip.dst));
    let advert = decode(ip.payload, src, dst, Checksum::RFC).unwrap();
    let expected = Advert {
        version: Version::V2,
        vrid: 1,
        priority: 100,
        interval_cs: 100,
        addrs: vec![v4("192.168.0.1")],
        auth: Auth::None,
    };
    assert_eq!(advert, expected);
    // And we build it byte for byte (checksum 0xba52 = 47698).
    assert_eq!(
        encode(&expected, src, dst, Checksum::RFC).unwrap(),
        ip.payload
    );
}

#[test]
fn keepalived_sample_v2_pass() {
    let a = keepalived_sample_v2();
    let src = v4("192.168.200.1");
    let bytes = encode(&a, src, g4(), Checksum::RFC).unwrap();
    assert_eq!(bytes, KEEPALIVED_SAMPLE_V2);
    assert_eq!(a.encoded_len(false), bytes.len());
    assert_eq!(decode(&bytes, src, g4(), Checksum::RFC).unwrap(), a);
    // v2 has no pseudo-header: any addresses, either option.
    let other = v4("10.9.8.7");
    assert_eq!(encode(&a, other, other, Checksum::V3_AS_V2).unwrap(), bytes);
    assert_eq!(decode(&bytes, other, other, Checksum::V3_AS_V2).unwrap(), a);
}

#[test]
fn v2_auth_none_ignores_auth_data() {
    // keepalived sends zeros and does not look at them without PASS.
    let mut bytes = CAPTURED_FRAME[34..54].to_vec();
    bytes[12..20].copy_from_slice(b"whatever");
    let src = v4("192.168.0.30");
    fix_checksum(&mut bytes, Version::V2, src, g4());
    assert_eq!(
        decode(&bytes, src, g4(), Checksum::RFC).unwrap().auth,
        Auth::None
    );
}

#[test]
fn v3_ipv4_with_and_without_pseudo_header() {
    let a = v3_ipv4();
    let src = v4("192.168.200.1");
    let rfc = encode(&a, src, g4(), Checksum::RFC).unwrap();
    assert_eq!(rfc, V3_IPV4);
    assert_eq!(decode(&rfc, src, g4(), Checksum::default()).unwrap(), a);

    let as_v2 = encode(&a, src, g4(), Checksum::V3_AS_V2).unwrap();
    assert_eq!(as_v2[..6], V3_IPV4[..6]);
    assert_eq!(as_v2[6..8], V3_IPV4_AS_V2_CHECKSUM);
    assert_eq!(as_v2[8..], V3_IPV4[8..]);
    assert_eq!(decode(&as_v2, src, g4(), Checksum::V3_AS_V2).unwrap(), a);

    // Each side refuses the other's: the two-masters case of keepalived
    // 2.2.7 against a Cisco (acassen/keepalived#2324).
    assert_eq!(
        decode(&as_v2, src, g4(), Checksum::RFC),
        Err(DecodeError::Checksum {
            got: 0xafad,
            want: 0x4674
        })
    );
    assert_eq!(
        decode(&rfc, src, g4(), Checksum::V3_AS_V2),
        Err(DecodeError::Checksum {
            got: 0x4674,
            want: 0xafad
        })
    );
    // The pseudo-header's source counts (a unicast peer's own address).
    assert!(matches!(
        decode(&rfc, v4("192.168.200.2"), g4(), Checksum::RFC),
        Err(DecodeError::Checksum { .. })
    ));
}

#[test]
fn v3_ipv6_advert() {
    let a = v3_ipv6();
    let (src, dst) = (v6("fe80::1"), g6());
    let bytes = encode(&a, src, dst, Checksum::RFC).unwrap();
    assert_eq!(bytes, V3_IPV6);
    assert_eq!(a.encoded_len(true), bytes.len());
    // The option is about IPv4 only.
    assert_eq!(encode(&a, src, dst, Checksum::V3_AS_V2).unwrap(), bytes);
    assert_eq!(decode(&bytes, src, dst, Checksum::V3_AS_V2).unwrap(), a);
    assert!(matches!(
        decode(&bytes, v6("fe80::2"), dst, Checksum::RFC),
        Err(DecodeError::Checksum { .. })
    ));
}

#[test]
fn v3_ipv6_checksum_as_the_kernel_computes_it() {
    let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let a = Advert {
        version: Version::V3,
        vrid: 7,
        priority: 200,
        interval_cs: 300,
        addrs: vec![v6("2001:db8::16")],
        auth: Auth::None,
    };
    assert_eq!(
        encode(&a, lo, lo, Checksum::RFC).unwrap(),
        KERNEL_V3_IPV6_LOOPBACK
    );
    assert_eq!(
        decode(&KERNEL_V3_IPV6_LOOPBACK, lo, lo, Checksum::RFC).unwrap(),
        a
    );
}

#[test]
fn v3_reserved_bits_ignored_on_receipt() {
    let src = v4("192.168.200.1");
    let mut bytes = V3_IPV4.to_vec();
    bytes[4] |= 0xf0;
    fix_checksum(&mut bytes, Version::V3, src, g4());
    assert_eq!(decode(&bytes, src, g4(), Checksum::RFC).unwrap(), v3_ipv4());
}

#[test]
fn checksum_field_zero_or_ffff_are_the_same_value() {
    // Ones' complement has two zeros: a message whose data sums to 0xffff
    // gets checksum 0, and keepalived's in_csum accepts 0xffff too.
    let src = v4("10.0.0.1");
    let mut a = Advert {
        version: Version::V2,
        vrid: 0,
        priority: 0,
        interval_cs: 0,
        addrs: vec![],
        auth: Auth::None,
    };
    // The words sum to 0x21ff + 0xde00 = 0xffff.
    a.vrid = 0xff;
    a.priority = 0xde;
    let bytes = encode(&a, src, g4(), Checksum::RFC).unwrap();
    assert_eq!(bytes[6..8], [0, 0]);
    let mut other = bytes.clone();
    other[6..8].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(decode(&other, src, g4(), Checksum::RFC).unwrap(), a);
}

#[test]
fn zero_and_255_addresses() {
    for (src, dst, version) in [
        (v4("10.0.0.1"), g4(), Version::V2),
        (v4("10.0.0.1"), g4(), Version::V3),
        (v6("fe80::1"), g6(), Version::V3),
    ] {
        let mut a = Advert {
            version,
            vrid: 1,
            priority: 100,
            interval_cs: 100,
            addrs: vec![],
            auth: Auth::None,
        };
        let bytes = encode(&a, src, dst, Checksum::RFC).unwrap();
        assert_eq!(bytes.len(), a.encoded_len(src.is_ipv6()));
        assert_eq!(bytes[3], 0);
        assert_eq!(decode(&bytes, src, dst, Checksum::RFC).unwrap(), a);

        a.addrs = (0..255u32)
            .map(|i| match src {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(0x2001_0db8 << 96 | u128::from(i))),
            })
            .collect();
        let bytes = encode(&a, src, dst, Checksum::RFC).unwrap();
        assert_eq!(bytes[3], 255);
        assert_eq!(decode(&bytes, src, dst, Checksum::RFC).unwrap(), a);

        a.addrs.push(a.addrs[0]);
        assert_eq!(
            encode(&a, src, dst, Checksum::RFC),
            Err(EncodeError::TooManyAddrs(256))
        );
    }
}

#[test]
fn intervals() {
    let src = v4("10.0.0.1");
    let mut a = keepalived_sample_v2();
    for (cs, byte) in [(0, 0), (100, 1), (25500, 255)] {
        a.interval_cs = cs;
        let bytes = encode(&a, src, g4(), Checksum::RFC).unwrap();
        assert_eq!(bytes[5], byte);
        assert_eq!(
            decode(&bytes, src, g4(), Checksum::RFC)
                .unwrap()
                .interval_cs,
            cs
        );
    }
    for cs in [50, 150, 25600, u16::MAX] {
        a.interval_cs = cs;
        assert_eq!(
            encode(&a, src, g4(), Checksum::RFC),
            Err(EncodeError::Interval {
                version: Version::V2,
                interval_cs: cs
            })
        );
    }

    let mut a = v3_ipv4();
    for cs in [0, 1, 50, 4095] {
        a.interval_cs = cs;
        let bytes = encode(&a, src, g4(), Checksum::RFC).unwrap();
        assert_eq!(bytes[4..6], cs.to_be_bytes());
        assert_eq!(
            decode(&bytes, src, g4(), Checksum::RFC)
                .unwrap()
                .interval_cs,
            cs
        );
    }
    a.interval_cs = 4096;
    let err = encode(&a, src, g4(), Checksum::RFC).unwrap_err();
    assert_eq!(
        err,
        EncodeError::Interval {
            version: Version::V3,
            interval_cs: 4096
        }
    );
    assert!(err.to_string().contains("4095"), "{err}");
}

#[test]
fn encode_errors() {
    let (s4, s6) = (v4("10.0.0.1"), v6("fe80::1"));
    assert_eq!(
        encode(&v3_ipv4(), s4, g6(), Checksum::RFC),
        Err(EncodeError::MixedFamilies { src: s4, dst: g6() })
    );
    let mut a = keepalived_sample_v2();
    a.addrs = vec![v6("2001:db8::1")];
    assert_eq!(
        encode(&a, s6, g6(), Checksum::RFC),
        Err(EncodeError::V2Ipv6)
    );
    let mut a = v3_ipv4();
    a.auth = Auth::Pass(*b"secret\0\0");
    assert_eq!(
        encode(&a, s4, g4(), Checksum::RFC),
        Err(EncodeError::V3Auth)
    );
    let mut a = v3_ipv4();
    a.addrs.push(v6("2001:db8::1"));
    assert_eq!(
        encode(&a, s4, g4(), Checksum::RFC),
        Err(EncodeError::AddrFamily(v6("2001:db8::1")))
    );
    assert_eq!(
        encode(&v3_ipv6(), s6, g6(), Checksum::RFC).map(|_| ()),
        Ok(())
    );
    let mut a = v3_ipv6();
    a.addrs.insert(0, v4("10.1.1.1"));
    assert_eq!(
        encode(&a, s6, g6(), Checksum::RFC),
        Err(EncodeError::AddrFamily(v4("10.1.1.1")))
    );
}

/// Every decoder error, each from a packet that is wrong in that one way.
#[test]
fn decode_errors() {
    let s4 = v4("192.168.200.1");
    let s6 = v6("fe80::1");
    let ck = Checksum::RFC;
    let mut seen = Vec::new();
    let mut check = |got: Result<Advert, DecodeError>, want: DecodeError| {
        assert_eq!(got, Err(want));
        assert!(!want.to_string().is_empty());
        seen.push(want.kind());
    };

    check(decode(&[], s4, g4(), ck), DecodeError::Short { len: 0 });
    check(
        decode(&V3_IPV4[..7], s4, g4(), ck),
        DecodeError::Short { len: 7 },
    );

    for version in [0u8, 1, 4, 15] {
        let mut b = V3_IPV4;
        b[0] = version << 4 | 1;
        check(decode(&b, s4, g4(), ck), DecodeError::Version(version));
    }
    for kind in [0u8, 2, 15] {
        let mut b = V3_IPV4;
        b[0] = 0x30 | kind;
        check(decode(&b, s4, g4(), ck), DecodeError::Type(kind));
    }

    let mut b = V3_IPV6;
    b[0] = 0x21;
    check(decode(&b, s6, g6(), ck), DecodeError::V2Ipv6);

    check(
        decode(&V3_IPV4, s4, g6(), ck),
        DecodeError::MixedFamilies { src: s4, dst: g6() },
    );

    // One address missing, one byte too many, the count off by one.
    check(
        decode(&KEEPALIVED_SAMPLE_V2[..24], s4, g4(), ck),
        DecodeError::AddrCount {
            naddr: 3,
            expected: 28,
            len: 24,
        },
    );
    let mut long = V3_IPV4.to_vec();
    long.push(0);
    check(
        decode(&long, s4, g4(), ck),
        DecodeError::AddrCount {
            naddr: 1,
            expected: 12,
            len: 13,
        },
    );
    let mut b = V3_IPV6;
    b[3] = 1;
    check(
        decode(&b, s6, g6(), ck),
        DecodeError::AddrCount {
            naddr: 1,
            expected: 24,
            len: 40,
        },
    );
    // An IPv4 v3 message read as IPv6 has the wrong length for its count.
    check(
        decode(&V3_IPV4, s6, g6(), ck),
        DecodeError::AddrCount {
            naddr: 1,
            expected: 24,
            len: 12,
        },
    );

    let mut b = KEEPALIVED_SAMPLE_V2;
    // Another password, checksum not updated: "1121" adds 0x0100 to the
    // words' sum, so the checksum wanted is 0x0100 less.
    b[22] = b'2';
    check(
        decode(&b, s4, g4(), ck),
        DecodeError::Checksum {
            got: 0x7d36,
            want: 0x7c36,
        },
    );

    for auth in [3u8, 0xff] {
        let mut b = KEEPALIVED_SAMPLE_V2;
        b[4] = auth;
        fix_checksum(&mut b, Version::V2, s4, g4());
        check(decode(&b, s4, g4(), ck), DecodeError::AuthType(auth));
    }
    let mut b = KEEPALIVED_SAMPLE_V2;
    b[4] = 2;
    fix_checksum(&mut b, Version::V2, s4, g4());
    check(decode(&b, s4, g4(), ck), DecodeError::AuthAh);

    let ip = &CAPTURED_FRAME[14..54];
    check(
        split_ipv4(&ip[..19]).map(|_| unreachable!()),
        DecodeError::Ipv4Short { len: 19 },
    );
    let mut b = ip.to_vec();
    b[0] = 0x65;
    check(
        split_ipv4(&b).map(|_| unreachable!()),
        DecodeError::Ipv4Version(6),
    );
    for ihl in [0u8, 4, 11, 15] {
        let mut b = ip.to_vec();
        b[0] = 0x40 | ihl;
        check(
            split_ipv4(&b).map(|_| unreachable!()),
            DecodeError::Ipv4HeaderLen { ihl, len: 40 },
        );
    }
    for total in [0u16, 19, 41, 0xffff] {
        let mut b = ip.to_vec();
        b[2..4].copy_from_slice(&total.to_be_bytes());
        check(
            split_ipv4(&b).map(|_| unreachable!()),
            DecodeError::Ipv4TotalLen {
                total,
                header: 20,
                len: 40,
            },
        );
    }
    for frag in [0x2000u16, 0x0001, 0x1fff, 0x6000] {
        let mut b = ip.to_vec();
        b[6..8].copy_from_slice(&frag.to_be_bytes());
        check(
            split_ipv4(&b).map(|_| unreachable!()),
            DecodeError::Ipv4Fragment(frag),
        );
    }

    // Every variant was produced, each with its own name.
    let mut kinds = seen.clone();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), 14, "{kinds:?}");
}

#[test]
fn split_ipv4_options_df_and_padding() {
    // The captured packet with 4 bytes of options (NOPs) and DF set.
    let ip = &CAPTURED_FRAME[14..54];
    let mut b = vec![0x46];
    b.extend_from_slice(&ip[1..20]);
    b.extend_from_slice(&[1, 1, 1, 1]);
    b.extend_from_slice(&ip[20..]);
    b[2..4].copy_from_slice(&44u16.to_be_bytes());
    b[6] = 0x40;
    b.extend_from_slice(&[0xee; 2]); // padding
    let p = split_ipv4(&b).unwrap();
    assert_eq!(p.payload, &ip[20..]);
    assert_eq!(p.src, Ipv4Addr::new(192, 168, 0, 30));
    // A header alone (total = IHL) gives an empty payload, which decode
    // calls short.
    let mut h = ip[..20].to_vec();
    h[2..4].copy_from_slice(&20u16.to_be_bytes());
    let p = split_ipv4(&h).unwrap();
    assert!(p.payload.is_empty());
    assert_eq!(
        decode(p.payload, g4(), g4(), Checksum::RFC),
        Err(DecodeError::Short { len: 0 })
    );
}

#[test]
fn constants() {
    assert_eq!(GROUP_V4.to_string(), "224.0.0.18");
    assert_eq!(GROUP_V6.to_string(), "ff02::12");
    assert_eq!(IPPROTO_VRRP, 112);
    assert_eq!(TTL, 255);
    assert_eq!(Checksum::default(), Checksum::RFC);
    assert!(Checksum::default().v3_ipv4_pseudo_header);
}
