//! Sends what a new master announces its addresses with: gratuitous ARPs
//! through a packet socket, unsolicited neighbour advertisements through a
//! raw ICMPv6 socket (the kernel fills in the checksum; neighbour discovery
//! requires hop limit 255). Used from the VRRP network thread.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

use afcluster::vrrp::announce::{self, ALL_NODES, ETH_P_ARP};
use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};

pub struct Announcer {
    arp: Socket,
    na: Socket,
}

impl Announcer {
    pub fn open() -> io::Result<Announcer> {
        let arp = Socket::new(
            Domain::PACKET,
            Type::RAW,
            Some(Protocol::from(i32::from(ETH_P_ARP.to_be()))),
        )?;
        let na = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        na.set_multicast_hops_v6(255)?;
        na.set_unicast_hops_v6(255)?;
        na.set_multicast_loop_v6(false)?;
        Ok(Announcer { arp, na })
    }

    pub fn garp(&self, ifindex: u32, mac: [u8; 6], ip: Ipv4Addr) -> io::Result<()> {
        let frame = announce::gratuitous_arp(mac, ip);
        self.arp.send_to(&frame, &link_addr(ifindex)?).map(|_| ())
    }

    pub fn na(&self, ifindex: u32, mac: [u8; 6], ip: Ipv6Addr, router: bool) -> io::Result<()> {
        let msg = announce::unsolicited_na(ip, mac, router);
        self.na.set_multicast_if_v6(ifindex)?;
        let to = SockAddr::from(SocketAddrV6::new(ALL_NODES, 0, 0, ifindex));
        self.na.send_to(&msg, &to).map(|_| ())
    }
}

/// The sockaddr_ll of interface `ifindex` (the frame carries its own
/// Ethernet header: only the interface matters).
fn link_addr(ifindex: u32) -> io::Result<SockAddr> {
    let index = i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index out of range"))?;
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: sockaddr_storage is larger and more aligned than sockaddr_ll,
    // and every bit pattern is a valid sockaddr_ll.
    let ll: &mut libc::sockaddr_ll = unsafe { storage.view_as() };
    ll.sll_family = libc::AF_PACKET as libc::sa_family_t;
    ll.sll_protocol = ETH_P_ARP.to_be();
    ll.sll_ifindex = index;
    ll.sll_halen = 6;
    ll.sll_addr[..6].fill(0xff);
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::sockaddr_ll>())
        .map_err(|_| io::Error::other("sockaddr_ll size"))?;
    // SAFETY: the storage holds an initialised sockaddr_ll of that length.
    Ok(unsafe { SockAddr::new(storage, len) })
}
