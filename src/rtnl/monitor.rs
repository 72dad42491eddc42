//! Links and addresses as they change: a non-blocking socket in the
//! RTNLGRP_LINK and RTNLGRP_IPV4/IPV6_IFADDR groups (for a mio loop), its
//! messages turned into [`LinkNews`]. VRRP puts an instance in FAULT when
//! its interface goes down or loses the address it sends from, without
//! polling: the kernel tells.

use std::io;

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;

use super::{addr_of, link_of, Addr, Link};
use crate::netlink::NlSocket;

/// linux/rtnetlink.h.
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV6_IFADDR: u32 = 9;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkNews {
    /// A link appeared or changed (RTM_NEWLINK).
    Link(Link),
    /// A link went away (RTM_DELLINK).
    Removed(Link),
    /// An address was added to a link (RTM_NEWADDR).
    AddrAdded(Addr),
    /// An address was removed (RTM_DELADDR).
    AddrRemoved(Addr),
    /// The kernel dropped messages for this socket: dump the links again.
    Overrun,
}

pub struct LinkMonitor {
    sock: NlSocket,
}

impl LinkMonitor {
    pub fn open() -> io::Result<LinkMonitor> {
        let sock = NlSocket::new(NETLINK_ROUTE)?;
        for g in [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR] {
            sock.socket().add_membership(g)?;
        }
        sock.socket().set_non_blocking(true)?;
        Ok(LinkMonitor { sock })
    }

    /// For the loop's poll.
    pub fn source(&mut self) -> &mut netlink_sys::Socket {
        self.sock.socket_mut()
    }

    /// Everything queued (mio is edge-triggered: this drains the socket).
    pub fn read(&mut self, out: &mut Vec<LinkNews>) -> io::Result<()> {
        loop {
            match self.sock.recv() {
                Ok(buf) => parse(&buf, out),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    if out.last() != Some(&LinkNews::Overrun) {
                        out.push(LinkNews::Overrun);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The link and address messages of one datagram; anything else, or
/// anything that does not parse, is skipped (the next dump puts it right).
pub fn parse(mut buf: &[u8], out: &mut Vec<LinkNews>) {
    while !buf.is_empty() {
        let Some(len) = buf
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_ne_bytes(b) as usize)
        else {
            return;
        };
        if len < 16 || len > buf.len() {
            return;
        }
        if let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[..len]) {
            match m.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                    out.push(LinkNews::Link(link_of(&l)))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(l)) => {
                    out.push(LinkNews::Removed(link_of(&l)))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a)) => {
                    out.extend(addr_of(&a).map(LinkNews::AddrAdded))
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(a)) => {
                    out.extend(addr_of(&a).map(LinkNews::AddrRemoved))
                }
                _ => {}
            }
        }
        buf = &buf[(len + 3) & !3..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::NetlinkHeader;
    use netlink_packet_route::address::{AddressAttribute, AddressMessage};
    use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
    use netlink_packet_route::AddressFamily;
    use std::net::IpAddr;

    fn datagram(msgs: Vec<RouteNetlinkMessage>) -> Vec<u8> {
        let mut out = Vec::new();
        for m in msgs {
            let mut nl =
                NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(m));
            nl.finalize();
            let mut b = vec![0u8; nl.buffer_len()];
            nl.serialize(&mut b);
            out.extend(b);
        }
        out
    }

    fn link(index: u32, name: &str, up: bool) -> LinkMessage {
        let mut l = LinkMessage::default();
        l.header.index = index;
        if up {
            l.header.flags = LinkFlags::Up | LinkFlags::Running;
        }
        l.attributes.push(LinkAttribute::IfName(name.into()));
        l.attributes
            .push(LinkAttribute::Address(vec![2, 0, 0, 0, 0, index as u8]));
        l
    }

    #[test]
    fn link_messages_become_news_and_the_rest_is_skipped() {
        let buf = datagram(vec![
            RouteNetlinkMessage::NewLink(link(2, "eth0", false)),
            // An address message without an address is skipped.
            RouteNetlinkMessage::NewAddress(Default::default()),
            RouteNetlinkMessage::DelLink(link(3, "eth1", false)),
            RouteNetlinkMessage::NewLink(link(2, "eth0", true)),
        ]);
        let mut out = Vec::new();
        parse(&buf, &mut out);
        let names: Vec<(String, bool, bool)> = out
            .iter()
            .map(|n| match n {
                LinkNews::Link(l) => (l.name.clone(), l.running, false),
                LinkNews::Removed(l) => (l.name.clone(), l.running, true),
                _ => (String::new(), false, false),
            })
            .collect();
        assert_eq!(
            names,
            [
                ("eth0".to_string(), false, false),
                ("eth1".to_string(), false, true),
                ("eth0".to_string(), true, false),
            ]
        );
    }

    #[test]
    fn address_messages_become_news() {
        let addr = |last: u8| {
            let mut a = AddressMessage::default();
            a.header.index = 2;
            a.header.family = AddressFamily::Inet;
            a.header.prefix_len = 24;
            a.attributes
                .push(AddressAttribute::Local(IpAddr::from([10, 0, 0, last])));
            a
        };
        let buf = datagram(vec![
            RouteNetlinkMessage::NewAddress(addr(1)),
            RouteNetlinkMessage::DelAddress(addr(2)),
        ]);
        let mut out = Vec::new();
        parse(&buf, &mut out);
        let got: Vec<(bool, u32, IpAddr)> = out
            .iter()
            .map(|n| match n {
                LinkNews::AddrAdded(a) => (true, a.index, a.addr),
                LinkNews::AddrRemoved(a) => (false, a.index, a.addr),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            got,
            [
                (true, 2, IpAddr::from([10, 0, 0, 1])),
                (false, 2, IpAddr::from([10, 0, 0, 2]))
            ]
        );
    }

    #[test]
    fn truncated_or_garbage_datagrams_are_skipped_without_a_panic() {
        let good = datagram(vec![RouteNetlinkMessage::NewLink(link(2, "eth0", true))]);
        let mut out = Vec::new();
        for cut in 0..good.len() {
            parse(&good[..cut], &mut out);
        }
        parse(&[0xff; 64], &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
