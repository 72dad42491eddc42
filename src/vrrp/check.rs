//! Whether a received packet is an advertisement an instance may act on:
//! keepalived 2.2.7's `vrrp_check_packet` (vrrp/vrrp.c) on top of the
//! decoder. Everything it rejects is dropped and counted by reason; only
//! what passes reaches the state machine, so no bad packet moves a timer.

use std::net::IpAddr;

use super::packet::{self, Advert, Auth, Checksum, DecodeError, Version, TTL};

/// A unicast peer and the TTL range its packets may arrive with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub addr: IpAddr,
    pub min_ttl: u8,
    pub max_ttl: u8,
}

/// What the instance expects.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub version: Version,
    /// v2 only: the interval must be ours.
    pub interval_cs: u16,
    /// v2 only: the authentication must be ours.
    pub auth: &'a Auth,
    /// The instance's VIPs (not the excluded ones).
    pub vips: &'a [IpAddr],
    /// Check the count and the list of VIPs (keepalived skips it with
    /// `vrrp_skip_check_adv_addr` for a master it already heard from).
    pub check_vips: bool,
    /// Unicast peers; empty: multicast.
    pub peers: &'a [Peer],
    /// `vrrp_check_unicast_src`: a unicast sender must be a peer.
    pub check_unicast_src: bool,
    pub checksum: Checksum,
}

/// A packet as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The TTL or hop limit, if the socket told.
    pub ttl: Option<u8>,
    /// The VRRP message (after the IPv4 header).
    pub vrrp: &'a [u8],
}

/// Why a packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Drop {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("TTL/hop limit {0}, must be 255")]
    Ttl(u8),
    #[error("version {got}, this instance speaks {want}")]
    Version { got: u8, want: u8 },
    #[error("authentication type or password differs from ours")]
    Auth,
    #[error("advertisement interval {got_s} s, ours is {want_s} s (VRRPv2 requires the same)")]
    Interval { got_s: u16, want_s: u16 },
    #[error("{got} virtual addresses, we have {want}")]
    AddrCount { got: usize, want: usize },
    #[error("our virtual address {0} is not in the advertisement")]
    VipMissing(IpAddr),
    #[error("a {got}cast packet, this instance expects {want}cast")]
    Cast {
        got: &'static str,
        want: &'static str,
    },
    #[error("unicast sender {0} is not one of our unicast_peers")]
    UnknownPeer(IpAddr),
    #[error("TTL {ttl} from peer outside its range {min}..={max}")]
    PeerTtl { ttl: u8, min: u8, max: u8 },
}

impl Drop {
    /// A short fixed name, for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Drop::Decode(e) => e.kind(),
            Drop::Ttl(_) => "ttl",
            Drop::Version { .. } => "version",
            Drop::Auth => "auth",
            Drop::Interval { .. } => "interval",
            Drop::AddrCount { .. } | Drop::VipMissing(_) => "addr_list",
            Drop::Cast { .. } => "cast",
            Drop::UnknownPeer(_) | Drop::PeerTtl { .. } => "unicast_peer",
        }
    }
}

/// The VRID of a message, to find its instance before anything else is
/// looked at (None: too short to have one).
pub fn vrid_of(vrrp: &[u8]) -> Option<u8> {
    vrrp.get(1).copied()
}

/// keepalived's checks, in its order where the order decides the counter.
pub fn check(r: &Received<'_>, e: &Expect<'_>) -> Result<Advert, Drop> {
    let unicast = !e.peers.is_empty();
    if !unicast {
        if let Some(ttl) = r.ttl.filter(|t| *t != TTL) {
            return Err(Drop::Ttl(ttl));
        }
    }
    let a = packet::decode(r.vrrp, r.src, r.dst, e.checksum)?;
    if a.version != e.version {
        return Err(Drop::Version {
            got: a.version.number(),
            want: e.version.number(),
        });
    }
    if e.version == Version::V2 {
        if a.auth != *e.auth {
            return Err(Drop::Auth);
        }
        if a.interval_cs != e.interval_cs {
            return Err(Drop::Interval {
                got_s: a.interval_cs / 100,
                want_s: e.interval_cs / 100,
            });
        }
    }
    if e.check_vips && a.addrs.len() != e.vips.len() {
        return Err(Drop::AddrCount {
            got: a.addrs.len(),
            want: e.vips.len(),
        });
    }
    if r.dst.is_multicast() == unicast {
        let name = |u: bool| if u { "uni" } else { "multi" };
        return Err(Drop::Cast {
            got: name(!r.dst.is_multicast()),
            want: name(unicast),
        });
    }
    if e.check_vips {
        if let Some(v) = e.vips.iter().find(|v| !a.addrs.contains(v)) {
            return Err(Drop::VipMissing(*v));
        }
        if unicast && e.check_unicast_src {
            let Some(p) = e.peers.iter().find(|p| p.addr == r.src) else {
                return Err(Drop::UnknownPeer(r.src));
            };
            if let Some(ttl) = r.ttl.filter(|t| *t < p.min_ttl || *t > p.max_ttl) {
                return Err(Drop::PeerTtl {
                    ttl,
                    min: p.min_ttl,
                    max: p.max_ttl,
                });
            }
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests;
