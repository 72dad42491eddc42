use super::*;
use proptest::prelude::*;

#[test]
fn echo_request_as_keepalived_sends_it() {
    let p = echo_request(false, 0x1234, 7);
    assert_eq!(p.len(), 8 + 128);
    assert_eq!(&p[..2], &[8, 0]);
    assert_eq!(&p[4..8], &[0x12, 0x34, 0, 7]);
    assert_eq!(&p[8..27], b"keepalived check - ");
    // A valid checksum sums to 0.
    assert_eq!(checksum(&p), 0);
    let p6 = echo_request(true, 1, 2);
    assert_eq!((p6[0], p6[2], p6[3]), (128, 0, 0), "the kernel sums ICMPv6");
}

#[test]
fn replies_by_framing() {
    let reply = |t: u8| {
        let mut p = echo_request(false, 9, 3);
        p[0] = t;
        p
    };
    assert_eq!(
        decode(&reply(0), Framing::Dgram, false),
        Packet::EchoReply { id: 9, seq: 3 }
    );
    assert_eq!(
        decode(&reply(3), Framing::Dgram, false),
        Packet::Other { icmp_type: 3 }
    );
    // A raw IPv4 socket: the IP header first (IHL 5, protocol 1).
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
    ];
    ip.extend(reply(0));
    assert_eq!(
        decode(&ip, Framing::RawV4, false),
        Packet::EchoReply { id: 9, seq: 3 }
    );
    ip[9] = 17;
    assert_eq!(decode(&ip, Framing::RawV4, false), Packet::Malformed);
    let mut r6 = echo_request(true, 5, 6);
    r6[0] = 129;
    assert_eq!(
        decode(&r6, Framing::RawV6, true),
        Packet::EchoReply { id: 5, seq: 6 }
    );
    // Our own request seen by a raw socket is not a reply.
    assert_eq!(
        decode(&echo_request(true, 5, 6), Framing::RawV6, true),
        Packet::Other { icmp_type: 128 }
    );
    assert_eq!(decode(&[0, 0, 0], Framing::Dgram, false), Packet::Malformed);
}

proptest! {
    /// Whatever arrives, decoding neither panics nor finds a reply in
    /// fewer than 8 octets of ICMP.
    #[test]
    fn decode_any_bytes(buf in proptest::collection::vec(any::<u8>(), 0..200),
                        framing in prop_oneof![Just(Framing::Dgram), Just(Framing::RawV4), Just(Framing::RawV6)],
                        v6 in any::<bool>()) {
        if let Packet::EchoReply { .. } = decode(&buf, framing, v6) {
            prop_assert!(buf.len() >= 8);
        }
    }

    /// A request turned into a reply decodes to its id and sequence.
    #[test]
    fn request_reply_round_trip(id in any::<u16>(), seq in any::<u16>(), v6 in any::<bool>()) {
        let mut p = echo_request(v6, id, seq);
        p[0] = if v6 { 129 } else { 0 };
        let framing = if v6 { Framing::RawV6 } else { Framing::Dgram };
        prop_assert_eq!(decode(&p, framing, v6), Packet::EchoReply { id, seq });
        prop_assert_eq!(checksum(&echo_request(false, id, seq)), 0);
    }
}
