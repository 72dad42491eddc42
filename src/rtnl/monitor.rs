//! Link state as it changes: a non-blocking socket in the RTNLGRP_LINK
//! group (for a mio loop), its messages turned into [`LinkNews`]. VRRP
//! puts an instance in FAULT when its interface goes down, without
//! polling: the kernel tells.

use std::io;

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;

use super::{link_of, Link};
use crate::netlink::NlSocket;

/// RTNLGRP_LINK (linux/rtnetlink.h).
const RTNLGRP_LINK: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkNews {
    /// A link appeared or changed (RTM_NEWLINK).
    Link(Link),
    /// A link went away (RTM_DELLINK).
    Removed(Link),
    /// The kernel dropped messages for this socket: dump the links again.
    Overrun,
}

pub struct LinkMonitor {
    sock: NlSocket,
}

impl LinkMonitor {
    pub fn open() -> io::Result<LinkMonitor> {
        let sock = NlSocket::new(NETLINK_ROUTE)?;
        sock.socket().add_membership(RTNLGRP_LINK)?;
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

/// The link messages of one datagram; anything else, or anything that
/// does not parse, is skipped (the next dump puts it right).
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
    use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};

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
                LinkNews::Overrun => (String::new(), false, false),
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
