//! UDP_CHECK, as keepalived 2.2.7's check_udp.c and udp_bind_connect: a
//! connected UDP socket with IP_RECVERR (so that the kernel reports every
//! ICMP error, an unreachable host included), one datagram sent (the
//! payload, or 32 octets of "keepalived check - " filler). An ICMP
//! destination unreachable fails the attempt; without require_reply
//! silence until connect_timeout passes; with it a reply must come and
//! pass [`UdpCheck::reply_ok`].
//!
//! keepalived also counts other ICMP errors (time exceeded, parameter
//! problem) as success at once; here they are ignored and the attempt
//! goes on to its reply or its timeout.

use std::io::{IoSliceMut, Read};
use std::os::fd::AsRawFd;

use afcluster::config::UdpCheck;
use nix::sys::socket::{self as nixsock, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::{Protocol, SockAddr, Socket, Type};

use super::probe::{self, Progress};

/// keepalived's UDP_BUFSIZE: the filler's size without a payload.
const FILLER_LEN: usize = 32;
const FILLER: &[u8] = b"keepalived check - ";

/// SO_EE_ORIGIN_ICMP and SO_EE_ORIGIN_ICMP6 (linux/errqueue.h).
const ORIGIN_ICMP: u8 = 2;
const ORIGIN_ICMP6: u8 = 3;

/// What is sent: the payload or keepalived's filler.
pub fn datagram(u: &UdpCheck) -> Vec<u8> {
    match &u.payload {
        Some(p) => p.clone(),
        None => FILLER.iter().cycle().take(FILLER_LEN).copied().collect(),
    }
}

/// Whether an ICMP error from the error queue fails the check: a
/// destination unreachable (ICMP type 3, ICMPv6 type 1), as
/// udp_socket_error decides.
pub fn unreachable(origin: u8, icmp_type: u8) -> bool {
    (origin == ORIGIN_ICMP && icmp_type == 3) || (origin == ORIGIN_ICMP6 && icmp_type == 1)
}

pub struct Attempt;

pub fn start(u: &UdpCheck) -> Result<(Socket, Attempt), String> {
    let target = u.probe.target;
    let s = probe::socket(target, u.probe.bind_to, Type::DGRAM, Protocol::UDP)
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    let recverr = if target.is_ipv6() {
        nixsock::setsockopt(&s, sockopt::Ipv6RecvErr, &true)
    } else {
        nixsock::setsockopt(&s, sockopt::Ipv4RecvErr, &true)
    };
    if let Err(e) = recverr {
        log::debug!("UDP_CHECK {target}: IP_RECVERR: {e}");
    }
    s.connect(&SockAddr::from(target))
        .map_err(|e| format!("cannot reach {target}: {e}"))?;
    let d = datagram(u);
    match s.send(&d) {
        Ok(n) if n == d.len() => Ok((s, Attempt)),
        Ok(n) => Err(format!("sent {n} octets of {}", d.len())),
        Err(e) => Err(format!("cannot send to {target}: {e}")),
    }
}

/// The ICMP errors queued on `s`: Some(true) if one is a destination
/// unreachable, Some(false) if only others, None if none.
fn queued_errors(s: &Socket) -> Option<bool> {
    let mut found = None;
    loop {
        let mut data = [0u8; 64];
        let mut iov = [IoSliceMut::new(&mut data)];
        let mut cmsg = nix::cmsg_space!(libc::sock_extended_err, libc::sockaddr_in6);
        let msg = match nixsock::recvmsg::<SockaddrStorage>(
            s.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
        ) {
            Ok(m) => m,
            Err(_) => return found,
        };
        let Ok(cmsgs) = msg.cmsgs() else {
            return found;
        };
        for c in cmsgs {
            let e = match c {
                ControlMessageOwned::Ipv4RecvErr(e, _) | ControlMessageOwned::Ipv6RecvErr(e, _) => {
                    e
                }
                _ => continue,
            };
            let hit = unreachable(e.ee_origin, e.ee_type);
            found = Some(found.unwrap_or(false) || hit);
        }
    }
}

impl Attempt {
    pub fn ready(&mut self, s: &Socket, u: &UdpCheck, error: bool) -> Progress {
        if error {
            match queued_errors(s) {
                Some(true) => return Progress::Done(false, "destination unreachable".into()),
                Some(false) => {} // ignored, as said above
                None => {}
            }
        }
        // One octet more than the longest reply passing: longer ones fail.
        let mut buf = vec![0u8; usize::from(u.max_reply_length) + 1];
        loop {
            let r = if u.require_reply {
                (&*s).read(&mut buf)
            } else {
                (&*s).read(&mut buf[..1])
            };
            match r {
                Ok(n) if !u.require_reply || u.reply_ok(&buf[..n]) => {
                    return Progress::Done(true, format!("reply of {n} octets"))
                }
                Ok(n) => {
                    return Progress::Done(
                        false,
                        format!("reply of {n} octets does not match (length or data)"),
                    )
                }
                Err(e) if probe::would_block(&e) => return Progress::Wait,
                // The pending error read: decide from the queue.
                Err(e) => match queued_errors(s) {
                    Some(false) => continue,
                    _ => return Progress::Done(false, format!("{e}")),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests;
