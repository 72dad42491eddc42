//! The sockets an instance speaks VRRP through, as keepalived opens them
//! (vrrp.c `open_vrrp_send_socket`, `open_vrrp_read_socket`): raw IP
//! protocol 112 tied to the interface, one to receive and one to send.
//!
//! Two sockets, because a raw socket bound to an address receives only
//! packets *to* that address, and the sender must be bound to its source
//! address: the v3 checksum covers it and peers elect by it. Sending never
//! blocks (a full socket buffer drops the advert, as a lost packet would).

use std::io::{self, Read};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, RawFd};

use afcluster::vrrp::packet::{IPPROTO_VRRP, TTL};
use nix::sys::socket::{self as nixsock, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn6};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

/// DSCP class 6 (network control), as keepalived marks its adverts.
const TOS_NETWORK_CONTROL: u32 = 0xc0;

/// What arrived, before any check.
pub enum Frame<'a> {
    /// The whole IPv4 packet: raw IPv4 sockets deliver the header.
    V4(&'a [u8]),
    V6 {
        src: Ipv6Addr,
        /// From IPV6_PKTINFO: multicast or unicast.
        dst: Option<Ipv6Addr>,
        /// From IPV6_HOPLIMIT: must be 255 for multicast.
        hop_limit: Option<u8>,
        vrrp: &'a [u8],
    },
}

pub struct VrrpSocket {
    recv: Socket,
    send: Socket,
    buf: Vec<u8>,
}

impl VrrpSocket {
    /// Sockets on interface `ifname` (index `ifindex`) sending from
    /// `source`; `group`: the multicast group to join (none for unicast
    /// peers).
    pub fn open(
        ifname: &str,
        ifindex: u32,
        source: IpAddr,
        group: Option<IpAddr>,
    ) -> io::Result<VrrpSocket> {
        let domain = match source {
            IpAddr::V4(_) => Domain::IPV4,
            IpAddr::V6(_) => Domain::IPV6,
        };
        let proto = Some(Protocol::from(i32::from(IPPROTO_VRRP)));
        let recv = Socket::new(domain, Type::RAW, proto)?;
        let send = Socket::new(domain, Type::RAW, proto)?;
        for s in [&recv, &send] {
            s.bind_device(Some(ifname.as_bytes()))?;
            s.set_nonblocking(true)?;
        }
        match source {
            IpAddr::V4(src) => {
                // Only the groups this socket joined, not every socket's.
                recv.set_multicast_all_v4(false)?;
                if let Some(IpAddr::V4(g)) = group {
                    recv.join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(ifindex))?;
                }
                send.set_multicast_ttl_v4(u32::from(TTL))?;
                send.set_ttl_v4(u32::from(TTL))?;
                send.set_tos_v4(TOS_NETWORK_CONTROL)?;
                send.set_multicast_loop_v4(false)?;
                // No IP_MULTICAST_IF by address: the socket is bound to its
                // device, which the kernel sends multicast out of, and on a
                // VMAC the source address is the base's, not its own.
                send.bind(&SockAddr::from(SocketAddr::new(IpAddr::V4(src), 0)))?;
            }
            IpAddr::V6(src) => {
                recv.set_multicast_all_v6(false)?;
                if let Some(IpAddr::V6(g)) = group {
                    recv.join_multicast_v6(&g, ifindex)?;
                }
                nixsock::setsockopt(&recv, sockopt::Ipv6RecvHopLimit, &true)
                    .map_err(io::Error::from)?;
                nixsock::setsockopt(&recv, sockopt::Ipv6RecvPacketInfo, &true)
                    .map_err(io::Error::from)?;
                send.set_multicast_hops_v6(u32::from(TTL))?;
                send.set_unicast_hops_v6(u32::from(TTL))?;
                send.set_tclass_v6(TOS_NETWORK_CONTROL)?;
                send.set_multicast_loop_v6(false)?;
                send.set_multicast_if_v6(ifindex)?;
                let scope = if is_link_local(&src) { ifindex } else { 0 };
                send.bind(&SockAddr::from(SocketAddrV6::new(src, 0, 0, scope)))?;
            }
        }
        Ok(VrrpSocket {
            recv,
            send,
            buf: vec![0; 65536],
        })
    }

    /// For the loop's poll.
    pub fn fd(&self) -> RawFd {
        self.recv.as_raw_fd()
    }

    /// The next packet, or None once the socket is drained.
    pub fn recv(&mut self) -> io::Result<Option<Frame<'_>>> {
        let ipv6 = self.recv.domain()? == Domain::IPV6;
        if !ipv6 {
            return match (&self.recv).read(&mut self.buf) {
                Ok(n) => Ok(Some(Frame::V4(&self.buf[..n]))),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                Err(e) => Err(e),
            };
        }
        let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int);
        let mut iov = [io::IoSliceMut::new(&mut self.buf)];
        let msg = match nixsock::recvmsg::<SockaddrIn6>(
            self.recv.as_fd().as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        ) {
            Ok(m) => m,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (mut dst, mut hop_limit) = (None, None);
        for c in msg.cmsgs().map_err(io::Error::from)? {
            match c {
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                }
                ControlMessageOwned::Ipv6HopLimit(h) => hop_limit = u8::try_from(h).ok(),
                _ => {}
            }
        }
        let Some(src) = msg.address.map(|a| a.ip()) else {
            return Ok(None);
        };
        let n = msg.bytes;
        Ok(Some(Frame::V6 {
            src,
            dst,
            hop_limit,
            vrrp: &self.buf[..n],
        }))
    }

    /// Send one advertisement (the VRRP part) to `dst`.
    pub fn send(&self, vrrp: &[u8], dst: IpAddr) -> io::Result<()> {
        let to = match dst {
            IpAddr::V4(a) => SockAddr::from(SocketAddr::new(IpAddr::V4(a), 0)),
            IpAddr::V6(a) => {
                let scope = self
                    .send
                    .local_addr()?
                    .as_socket_ipv6()
                    .map_or(0, |l| l.scope_id());
                SockAddr::from(SocketAddrV6::new(
                    a,
                    0,
                    0,
                    if a.is_multicast() || is_link_local(&a) {
                        scope
                    } else {
                        0
                    },
                ))
            }
        };
        self.send.send_to(vrrp, &to).map(|_| ())
    }
}

pub fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}
