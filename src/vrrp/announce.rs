//! What a new master sends so that its neighbours move their caches to it:
//! a gratuitous ARP per IPv4 address and an unsolicited neighbour
//! advertisement per IPv6 address (keepalived's vrrp_arp.c and
//! vrrp_ndisc.c). The bytes only; the daemon's sockets send them.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The all-nodes group an unsolicited NA goes to (RFC 4861 §7.2.6).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;

const BROADCAST: [u8; 6] = [0xff; 6];

/// A whole Ethernet frame (for an AF_PACKET SOCK_RAW socket): an ARP
/// request from `mac` whose sender and target are both `ip`, to the
/// broadcast address, as keepalived sends it.
pub fn gratuitous_arp(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&BROADCAST);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    // Ethernet hardware, IPv4 protocol, their lengths, a request.
    f[14..16].copy_from_slice(&1u16.to_be_bytes());
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes());
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes());
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    f[32..38].copy_from_slice(&BROADCAST);
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// The ICMPv6 part of an unsolicited neighbour advertisement for `target`
/// (for a raw ICMPv6 socket, which fills in the checksum; it must go out
/// with hop limit 255): Override set so that caches replace the old
/// master's address, Router set if this host forwards.
pub fn unsolicited_na(target: Ipv6Addr, mac: [u8; 6], router: bool) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[0] = 136; // neighbour advertisement
    m[1] = 0;
    // [2..4] checksum: the kernel's.
    m[4] = if router { 0x80 } else { 0 } | 0x20; // R, O; S stays clear
    m[8..24].copy_from_slice(&target.octets());
    // Option: target link-layer address, length in units of 8 bytes.
    m[24] = 2;
    m[25] = 1;
    m[26..32].copy_from_slice(&mac);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

    #[test]
    fn a_gratuitous_arp_is_a_broadcast_request_for_the_address_itself() {
        let f = gratuitous_arp(MAC, Ipv4Addr::new(10, 10, 0, 10));
        let want: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // to everyone
            0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // from us
            0x08, 0x06, // ARP
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet/IPv4 request
            0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 10, 0, 10, // sender
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 10, 10, 0, 10, // target
        ];
        assert_eq!(f, want);
    }

    #[test]
    fn an_unsolicited_na_overrides_and_says_router_only_when_forwarding() {
        let t: Ipv6Addr = "fd10::10".parse().unwrap();
        let m = unsolicited_na(t, MAC, false);
        assert_eq!(&m[..8], &[136, 0, 0, 0, 0x20, 0, 0, 0]);
        assert_eq!(&m[8..24], &t.octets());
        assert_eq!(&m[24..], &[2, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        assert_eq!(unsolicited_na(t, MAC, true)[4], 0xa0);
    }
}
