use super::*;
use proptest::prelude::*;

/// A reply header: id, flags, then counts.
fn header(id: u16, flags: u16, ancount: u16) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend(id.to_be_bytes());
    h.extend(flags.to_be_bytes());
    h.extend([0, 1]);
    h.extend(ancount.to_be_bytes());
    h.extend([0, 0, 0, 0]);
    h
}

#[test]
fn the_query_keepalived_sends() {
    let q = query(0xbeef, "", 6).unwrap();
    // Header: id, RD, one question; the root, SOA, IN.
    assert_eq!(q, [0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1]);
    let q = query(1, "example.com", 28).unwrap();
    assert_eq!(&q[12..], b"\x07example\x03com\x00\x00\x1c\x00\x01");
    assert_eq!(query(1, "example.com.", 28).unwrap(), q);
    assert_eq!(query(1, ".", 6).unwrap(), query(1, "", 6).unwrap());
}

#[test]
fn replies_as_dns_recv_thread_reads_them() {
    assert_eq!(reply(&header(7, 0x8180, 1), 7), Reply::NoError);
    // keepalived does not look at ANCOUNT.
    assert_eq!(reply(&header(7, 0x8000, 0), 7), Reply::NoError);
    assert_eq!(reply(&header(7, 0x8183, 0), 7), Reply::Error(3));
    assert_eq!(reply(&header(7, 0x8182, 0), 7), Reply::Error(2));
    assert_eq!(reply(&header(8, 0x8180, 1), 7), Reply::Ignore, "another id");
    assert_eq!(reply(&header(7, 0x0100, 1), 7), Reply::Ignore, "a query");
    assert_eq!(
        reply(&header(7, 0x8180, 1)[..11], 7),
        Reply::Ignore,
        "short"
    );
}

proptest! {
    /// Any header: the verdict is keepalived's rule on id, QR and RCODE.
    #[test]
    fn reply_rule(id in any::<u16>(), want in any::<u16>(), flags in any::<u16>(),
                  tail in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut b = header(id, flags, 0);
        b.extend(tail);
        let expected = if id != want || flags & 0x8000 == 0 {
            Reply::Ignore
        } else if flags & 0xf == 0 {
            Reply::NoError
        } else {
            Reply::Error((flags & 0xf) as u8)
        };
        prop_assert_eq!(reply(&b, want), expected);
    }

    /// Any name the configuration accepts makes a query that parses back
    /// with its id, RD and one question of the type.
    #[test]
    fn query_round_trip(id in any::<u16>(), labels in proptest::collection::vec("[a-z0-9-]{1,20}", 0..5),
                        t in proptest::sample::select(afcluster::config::checker::DNS_TYPES.iter().map(|t| t.1).collect::<Vec<u16>>())) {
        let name = labels.join(".");
        let q = query(id, &name, t).unwrap();
        let m = Message::from_octets(q).unwrap();
        prop_assert_eq!(m.header().id(), id);
        prop_assert!(m.header().rd() && !m.header().qr());
        let qs: Vec<_> = m.question().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(qs.len(), 1);
        prop_assert_eq!(qs[0].qtype().to_int(), t);
        prop_assert_eq!(qs[0].qname().label_count(), labels.len() + 1);
    }
}
