//! The VRRP virtual MAC (RFC 3768 7.3, RFC 5798 7.3) and the IPv6
//! link-local address keepalived makes for a VMAC when its interface has
//! none (vrrp/vrrp_vmac.c make_link_local_address).

use std::net::Ipv6Addr;

/// 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6).
pub fn vrrp_mac(vrid: u8, ipv6: bool) -> [u8; 6] {
    [0, 0, 0x5e, 0, if ipv6 { 2 } else { 1 }, vrid]
}

/// fe80::/64 with the modified EUI-64 of `mac` (RFC 4291 appendix A).
pub fn link_local_of(mac: [u8; 6]) -> Ipv6Addr {
    let [a, b, c, d, e, f] = mac;
    Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        a ^ 0x02,
        b,
        c,
        0xff,
        0xfe,
        d,
        e,
        f,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_macs() {
        assert_eq!(vrrp_mac(51, false), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(vrrp_mac(255, true), [0, 0, 0x5e, 0, 2, 255]);
    }

    #[test]
    fn eui64_flips_the_universal_bit() {
        let ll = link_local_of([0x02, 0, 0, 0, 0, 0x01]);
        assert_eq!(ll, "fe80::ff:fe00:1".parse::<Ipv6Addr>().unwrap());
        let ll = link_local_of([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(ll, "fe80::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap());
    }
}
