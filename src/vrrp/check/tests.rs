use std::net::IpAddr;

use super::*;
use crate::vrrp::packet::{encode, GROUP_V4};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn advert(version: Version, priority: u8, addrs: &[&str]) -> Advert {
    Advert {
        version,
        vrid: 51,
        priority,
        interval_cs: 100,
        addrs: addrs.iter().map(|a| ip(a)).collect(),
        auth: Auth::None,
    }
}

struct Case {
    a: Advert,
    src: IpAddr,
    dst: IpAddr,
    ttl: Option<u8>,
}

impl Case {
    fn multicast(a: Advert) -> Case {
        Case {
            a,
            src: ip("10.0.0.1"),
            dst: IpAddr::V4(GROUP_V4),
            ttl: Some(255),
        }
    }

    fn run(&self, e: &Expect<'_>) -> Result<Advert, Drop> {
        let bytes = encode(&self.a, self.src, self.dst, Checksum::RFC).expect("encodes");
        check(
            &Received {
                src: self.src,
                dst: self.dst,
                ttl: self.ttl,
                vrrp: &bytes,
            },
            e,
        )
    }
}

const NONE: Auth = Auth::None;

fn expect<'a>(version: Version, vips: &'a [IpAddr]) -> Expect<'a> {
    Expect {
        version,
        interval_cs: 100,
        auth: &NONE,
        vips,
        check_vips: true,
        peers: &[],
        check_unicast_src: false,
        checksum: Checksum::RFC,
    }
}

#[test]
fn a_good_advert_passes_whatever_the_order_of_its_addresses() {
    let vips = [ip("10.0.0.10"), ip("10.0.0.11")];
    let c = Case::multicast(advert(Version::V3, 100, &["10.0.0.11", "10.0.0.10"]));
    assert_eq!(
        c.run(&expect(Version::V3, &vips)).map(|a| a.priority),
        Ok(100)
    );
}

#[test]
fn multicast_needs_ttl_255_and_unicast_does_not() {
    let vips = [ip("10.0.0.10")];
    let mut c = Case::multicast(advert(Version::V3, 100, &["10.0.0.10"]));
    c.ttl = Some(64);
    assert_eq!(c.run(&expect(Version::V3, &vips)), Err(Drop::Ttl(64)));
    c.dst = ip("10.0.0.2");
    let peers = [Peer {
        addr: ip("10.0.0.1"),
        min_ttl: 0,
        max_ttl: 255,
    }];
    let e = Expect {
        peers: &peers,
        ..expect(Version::V3, &vips)
    };
    assert!(c.run(&e).is_ok());
}

#[test]
fn the_wrong_version_is_dropped() {
    let vips = [ip("10.0.0.10")];
    let c = Case::multicast(advert(Version::V3, 100, &["10.0.0.10"]));
    assert_eq!(
        c.run(&expect(Version::V2, &vips)),
        Err(Drop::Version { got: 3, want: 2 })
    );
}

#[test]
fn v2_needs_our_password_and_our_interval() {
    let vips = [ip("10.0.0.10")];
    let mut a = advert(Version::V2, 100, &["10.0.0.10"]);
    a.auth = Auth::Pass(*b"1111\0\0\0\0");
    let ours = Auth::Pass(*b"2222\0\0\0\0");
    let e = Expect {
        auth: &ours,
        ..expect(Version::V2, &vips)
    };
    assert_eq!(Case::multicast(a.clone()).run(&e), Err(Drop::Auth));
    let same = Auth::Pass(*b"1111\0\0\0\0");
    let e = Expect {
        auth: &same,
        interval_cs: 200,
        ..expect(Version::V2, &vips)
    };
    assert_eq!(
        Case::multicast(a.clone()).run(&e),
        Err(Drop::Interval {
            got_s: 1,
            want_s: 2
        })
    );
    let e = Expect {
        auth: &same,
        ..expect(Version::V2, &vips)
    };
    assert!(Case::multicast(a).run(&e).is_ok());
}

#[test]
fn a_v3_master_may_advertise_another_interval() {
    let vips = [ip("10.0.0.10")];
    let mut a = advert(Version::V3, 100, &["10.0.0.10"]);
    a.interval_cs = 50;
    assert_eq!(
        Case::multicast(a)
            .run(&expect(Version::V3, &vips))
            .map(|a| a.interval_cs),
        Ok(50)
    );
}

#[test]
fn a_different_address_list_is_dropped_unless_the_check_is_skipped() {
    let vips = [ip("10.0.0.10"), ip("10.0.0.11")];
    let short = Case::multicast(advert(Version::V3, 100, &["10.0.0.10"]));
    assert_eq!(
        short.run(&expect(Version::V3, &vips)),
        Err(Drop::AddrCount { got: 1, want: 2 })
    );
    let other = Case::multicast(advert(Version::V3, 100, &["10.0.0.10", "10.0.0.12"]));
    assert_eq!(
        other.run(&expect(Version::V3, &vips)),
        Err(Drop::VipMissing(ip("10.0.0.11")))
    );
    let e = Expect {
        check_vips: false,
        ..expect(Version::V3, &vips)
    };
    assert!(short.run(&e).is_ok());
}

#[test]
fn multicast_to_a_unicast_instance_and_the_reverse_are_dropped() {
    let vips = [ip("10.0.0.10")];
    let peers = [Peer {
        addr: ip("10.0.0.1"),
        min_ttl: 0,
        max_ttl: 255,
    }];
    let e = Expect {
        peers: &peers,
        ..expect(Version::V3, &vips)
    };
    let c = Case::multicast(advert(Version::V3, 100, &["10.0.0.10"]));
    assert_eq!(
        c.run(&e).map_err(|d| d.kind()),
        Err("cast"),
        "multicast to a unicast instance"
    );
    let mut u = Case::multicast(advert(Version::V3, 100, &["10.0.0.10"]));
    u.dst = ip("10.0.0.2");
    assert_eq!(
        u.run(&expect(Version::V3, &vips)).map_err(|d| d.kind()),
        Err("cast")
    );
}

#[test]
fn vrrp_check_unicast_src_wants_a_known_peer_within_its_ttl_range() {
    let vips = [ip("10.0.0.10")];
    let peers = [Peer {
        addr: ip("10.0.0.3"),
        min_ttl: 250,
        max_ttl: 255,
    }];
    let e = Expect {
        peers: &peers,
        check_unicast_src: true,
        ..expect(Version::V3, &vips)
    };
    let mut c = Case::multicast(advert(Version::V3, 100, &["10.0.0.10"]));
    c.dst = ip("10.0.0.2");
    assert_eq!(c.run(&e), Err(Drop::UnknownPeer(ip("10.0.0.1"))));
    c.src = ip("10.0.0.3");
    c.ttl = Some(64);
    assert_eq!(
        c.run(&e),
        Err(Drop::PeerTtl {
            ttl: 64,
            min: 250,
            max: 255
        })
    );
    c.ttl = Some(255);
    assert!(c.run(&e).is_ok());
}

#[test]
fn garbage_is_a_decode_drop_and_never_a_panic() {
    let vips = [ip("10.0.0.10")];
    for bytes in [&[][..], &[0x31], &[0x31, 51, 100, 1, 0, 1, 0xff, 0xff]] {
        let r = check(
            &Received {
                src: ip("10.0.0.1"),
                dst: IpAddr::V4(GROUP_V4),
                ttl: Some(255),
                vrrp: bytes,
            },
            &expect(Version::V3, &vips),
        );
        assert!(matches!(r, Err(Drop::Decode(_))), "{bytes:?}: {r:?}");
    }
    assert_eq!(vrid_of(&[0x31, 51]), Some(51));
    assert_eq!(vrid_of(&[0x31]), None);
}
