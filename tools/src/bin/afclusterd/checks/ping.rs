//! PING_CHECK: one ICMP or ICMPv6 echo request per attempt, as keepalived
//! 2.2.7's check_ping.c sends it (8-octet header, 128 octets of
//! "keepalived check - " filler, a sequence number shared by every check),
//! passing when the echo reply comes within connect_timeout.
//!
//! The socket is an unprivileged datagram ICMP socket (SOCK_DGRAM,
//! IPPROTO_ICMP/ICMPV6: the kernel picks the identifier, fills the
//! checksum and hands this socket only its own replies) where
//! net.ipv4.ping_group_range admits afclusterd's group; else a raw socket
//! (CAP_NET_RAW), connected to the target, whose replies are matched by
//! identifier and sequence. keepalived instead rewrites ping_group_range
//! to admit every group; afclusterd leaves the sysctl alone.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};

use afcluster::config::PingCheck;
use log::{info, warn};
use socket2::{Protocol, SockAddr, Socket, Type};

use super::probe::{self, Progress};

/// keepalived's ICMP_BUFSIZE: the payload's size.
const PAYLOAD: usize = 128;
const FILLER: &[u8] = b"keepalived check - ";

/// keepalived's seq_no: one sequence for every check.
static SEQ: AtomicU16 = AtomicU16::new(0);
/// The datagram socket was refused once (logged once).
static DGRAM_REFUSED: AtomicBool = AtomicBool::new(false);
static NO_SOCKET_WARNED: AtomicBool = AtomicBool::new(false);

/// How replies reach the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A ping socket: ICMP header first, identifier the kernel's.
    Dgram,
    /// A raw IPv4 socket: the IPv4 header comes first.
    RawV4,
    /// A raw ICMPv6 socket: ICMPv6 header first.
    RawV6,
}

/// An echo request: type, code 0, checksum, identifier, sequence, then
/// keepalived's filler. The checksum is computed for IPv4 (the kernel does
/// it for ICMPv6, and for ping sockets).
pub fn echo_request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    p.extend(id.to_be_bytes());
    p.extend(seq.to_be_bytes());
    p.extend(FILLER.iter().cycle().take(PAYLOAD));
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// The Internet checksum (RFC 1071).
pub fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// What a received packet is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    EchoReply {
        id: u16,
        seq: u16,
    },
    /// Another ICMP message (keepalived: "Got ICMP packet with type").
    Other {
        icmp_type: u8,
    },
    /// Too short or not ICMP.
    Malformed,
}

/// Decodes what a socket of `framing` received.
pub fn decode(buf: &[u8], framing: Framing, v6: bool) -> Packet {
    let icmp = match framing {
        Framing::Dgram | Framing::RawV6 => buf,
        Framing::RawV4 => {
            let Some(&vihl) = buf.first() else {
                return Packet::Malformed;
            };
            let ihl = usize::from(vihl & 0x0f) * 4;
            if vihl >> 4 != 4 || ihl < 20 || buf.len() < ihl || buf.get(9) != Some(&1) {
                return Packet::Malformed;
            }
            &buf[ihl..]
        }
    };
    if icmp.len() < 8 {
        return Packet::Malformed;
    }
    let reply_type = if v6 { 129 } else { 0 };
    if icmp[0] != reply_type {
        return Packet::Other { icmp_type: icmp[0] };
    }
    Packet::EchoReply {
        id: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
    }
}

/// An echo request sent, waiting for its reply.
pub struct Attempt {
    framing: Framing,
    v6: bool,
    /// The identifier to match (raw sockets; the kernel's otherwise).
    id: u16,
    seq: u16,
}

/// Opens the socket and sends the request.
pub fn start(p: &PingCheck) -> Result<(Socket, Attempt), String> {
    let target = p.probe.target;
    let v6 = target.is_ipv6();
    let (socket, framing) = open(target, p.probe.bind_to)?;
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    // A raw socket's identifier: this process's, varied per target.
    let id = match target.ip() {
        IpAddr::V4(a) => (std::process::id() as u16) ^ (u32::from(a) as u16),
        IpAddr::V6(a) => (std::process::id() as u16) ^ a.segments()[7],
    };
    // Connected: a raw socket then gets only the target's packets.
    socket
        .connect(&SockAddr::from(SocketAddr::new(target.ip(), 0)))
        .map_err(|e| format!("cannot reach {}: {e}", target.ip()))?;
    socket
        .send(&echo_request(v6, id, seq))
        .map_err(|e| format!("cannot send an echo request to {}: {e}", target.ip()))?;
    Ok((
        socket,
        Attempt {
            framing,
            v6,
            id,
            seq,
        },
    ))
}

/// A ping socket if ping_group_range allows it, else a raw one.
fn open(target: SocketAddr, bind_to: Option<IpAddr>) -> Result<(Socket, Framing), String> {
    let proto = if target.is_ipv6() {
        Protocol::ICMPV6
    } else {
        Protocol::ICMPV4
    };
    let dgram = match probe::socket(target, bind_to, Type::DGRAM, proto) {
        Ok(s) => return Ok((s, Framing::Dgram)),
        Err(e) => e,
    };
    if !DGRAM_REFUSED.swap(true, Ordering::Relaxed) {
        info!(
            "PING_CHECK: no unprivileged ICMP socket ({dgram}: net.ipv4.ping_group_range does \
             not include afclusterd's group); using raw ICMP sockets"
        );
    }
    let framing = if target.is_ipv6() {
        Framing::RawV6
    } else {
        Framing::RawV4
    };
    match probe::socket(target, bind_to, Type::RAW, proto) {
        Ok(s) => Ok((s, framing)),
        Err(raw) => {
            let why = format!(
                "cannot open an ICMP socket: datagram ({dgram}) refused by \
                 net.ipv4.ping_group_range, raw ({raw}) needs CAP_NET_RAW; widen the range \
                 (sysctl -w net.ipv4.ping_group_range=\"0 2147483647\") or give afclusterd \
                 CAP_NET_RAW"
            );
            if !NO_SOCKET_WARNED.swap(true, Ordering::Relaxed) {
                warn!("PING_CHECK to {}: {why}", target.ip());
            }
            Err(why)
        }
    }
}

impl Attempt {
    /// Reads what came; the echo reply passes.
    pub fn ready(&mut self, s: &Socket) -> Progress {
        let mut buf = [0u8; 8 + PAYLOAD + 60];
        loop {
            let n = match (&*s).read(&mut buf) {
                Ok(n) => n,
                Err(e) if probe::would_block(&e) => return Progress::Wait,
                Err(e) => return Progress::Done(false, format!("echo failed: {e}")),
            };
            let packet = decode(&buf[..n], self.framing, self.v6);
            log::trace!(
                "PING_CHECK: {packet:?} (waiting for id {} seq {})",
                self.id,
                self.seq
            );
            match packet {
                Packet::EchoReply { id, seq } if self.matches(id, seq) => {
                    return Progress::Done(true, "echo reply".into())
                }
                // A ping socket gets only its own: anything else fails, as
                // keepalived's recv_it says.
                Packet::Other { icmp_type } if self.framing == Framing::Dgram => {
                    return Progress::Done(false, format!("ICMP type {icmp_type} received"))
                }
                // A raw socket sees every ICMP message from the target.
                _ => continue,
            }
        }
    }

    fn matches(&self, id: u16, seq: u16) -> bool {
        seq == self.seq && (self.framing == Framing::Dgram || id == self.id)
    }
}

#[cfg(test)]
mod tests;
