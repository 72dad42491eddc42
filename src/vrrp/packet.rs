//! The VRRP advertisement on the wire: RFC 3768 §5 (version 2, IPv4 only)
//! and RFC 5798 §5 (version 3, IPv4 and IPv6), with keepalived 2.2.7's
//! choices where the RFCs leave room.
//!
//! ```text
//! byte 0     version (high nibble: 2 or 3) | type (low nibble: 1)
//! byte 1     virtual router id
//! byte 2     priority
//! byte 3     Count IP Addrs
//! bytes 4-5  v2: auth type, advert interval (s)
//!            v3: 4 reserved bits (0), max advert interval (12 bits, cs)
//! bytes 6-7  checksum
//! then       Count IP Addrs addresses (4 or 16 bytes each)
//! then       v2 only: 8 bytes of authentication data
//! ```
//!
//! [`encode`] builds the VRRP part (the socket, or the caller with
//! `IP_HDRINCL`, adds the IP header); [`decode`] checks and reads it;
//! [`split_ipv4`] takes apart what an IPv4 raw socket delivers. Nothing
//! here does I/O or keeps state, and no input makes the decoder panic.
//!
//! The checksum is the Internet checksum (RFC 1071) over:
//! - v2: the VRRP message (header, addresses, authentication data), no
//!   pseudo-header (RFC 3768 §5.3.8);
//! - v3 over IPv4: the IPv4 pseudo-header (source, destination, zero,
//!   protocol 112, VRRP length as u16) and the message (RFC 5798 §5.2.8),
//!   as keepalived 2.2.7 always does; [`Checksum::V3_AS_V2`] leaves the
//!   pseudo-header out (keepalived ≥ 2.2.8 `v3_checksum_as_v2`, the
//!   Cisco/Juniper reading; acassen/keepalived#2324);
//! - v3 over IPv6: the IPv6 pseudo-header (source, destination, length as
//!   u32, three zero bytes, next header 112) and the message. keepalived
//!   leaves this one to the kernel (`IPV6_CHECKSUM` at offset 6); [`encode`]
//!   still fills it in and [`decode`] checks it, so both are testable.
//!
//! Lengths are exact (keepalived 2.2.7 `vrrp_check_packet`): the message
//! must be 8 bytes + Count IP Addrs addresses (+ 8 bytes of authentication
//! data for v2), nothing more and nothing less. Bytes after the IPv4 total
//! length (Ethernet padding some NICs pass up; keepalived ≥ 2.3.2 accepts
//! it) are cut off by [`split_ipv4`], never handed to [`decode`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IP protocol number of VRRP (RFC 3768 §5.2.4, RFC 5798 §5.1.1.3).
pub const IPPROTO_VRRP: u8 = 112;

/// The IPv4 multicast group adverts are sent to (RFC 3768 §5.2.2).
pub const GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The IPv6 multicast group adverts are sent to (RFC 5798 §5.1.2.2).
pub const GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// The IPv4 TTL / IPv6 hop limit adverts are sent with, and (multicast)
/// must arrive with.
pub const TTL: u8 = 255;

/// The fixed header: version/type, VRID, priority, count, two bytes
/// (v2 auth type + interval, v3 interval), checksum.
pub const HEADER_LEN: usize = 8;

/// The v2 authentication data after the addresses (present whatever the
/// auth type; zeros without authentication).
pub const AUTH_LEN: usize = 8;

/// Count IP Addrs is one byte.
pub const MAX_ADDRS: usize = 255;

/// The largest v3 interval: 12 bits of centiseconds (40.95 s).
pub const MAX_INTERVAL_V3_CS: u16 = 0x0fff;

/// The largest v2 interval: 255 whole seconds, in centiseconds.
pub const MAX_INTERVAL_V2_CS: u16 = 255 * 100;

/// The only VRRP packet type (RFC 3768 §5.3.2, RFC 5798 §5.2.2).
const TYPE_ADVERTISEMENT: u8 = 1;
/// v2 auth types (RFC 2338 §5.3.6; keepalived's `VRRP_AUTH_*`).
const AUTH_TYPE_NONE: u8 = 0;
const AUTH_TYPE_PASS: u8 = 1;
const AUTH_TYPE_AH: u8 = 2;
/// Where the checksum sits in the header.
const CHECKSUM_AT: usize = 6;
/// The fixed IPv4 header, without options.
const IPV4_MIN_HEADER: usize = 20;

/// The VRRP version of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// RFC 3768: IPv4 only, interval in whole seconds, auth data.
    V2,
    /// RFC 5798: IPv4 and IPv6, interval in centiseconds, no auth.
    V3,
}

impl Version {
    /// The number in the packet's high nibble.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// The v2 authentication (v3 has none: always [`Auth::None`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Auth type 0; the 8 bytes of auth data are sent as zeros and
    /// ignored on receipt (as keepalived does).
    None,
    /// Auth type 1, keepalived's `auth_type PASS`: the password in clear,
    /// zero-padded to 8 bytes. Comparing it with the configured one is
    /// the instance's business.
    Pass([u8; 8]),
}

/// One advertisement, as sent or received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// The packet's version.
    pub version: Version,
    /// The virtual router id (keepalived's configuration allows 1..=255;
    /// the wire carries any byte).
    pub vrid: u8,
    /// The sender's priority: 255 = address owner, 0 = stepping down.
    pub priority: u8,
    /// The advertisement interval in centiseconds. v3 carries 12 bits of
    /// it (at most [`MAX_INTERVAL_V3_CS`]); v2 carries whole seconds, so
    /// [`encode`] refuses a v2 interval that is not a multiple of 100 or
    /// is above [`MAX_INTERVAL_V2_CS`] (rounding is the configuration's
    /// job, as in keepalived's `vrrp_complete_instance`), and [`decode`]
    /// gives seconds × 100. Zero is carried as it is.
    pub interval_cs: u16,
    /// The virtual addresses, all of the packet's family (zero of them is
    /// allowed: keepalived accepts instances without VIPs unless
    /// `vrrp_strict`), at most [`MAX_ADDRS`].
    pub addrs: Vec<IpAddr>,
    /// v2 authentication; [`Auth::None`] for v3.
    pub auth: Auth,
}

impl Advert {
    /// The length of the encoded VRRP message for addresses of `family`
    /// (`true` = IPv6), whether or not the advert is valid.
    pub fn encoded_len(&self, ipv6: bool) -> usize {
        message_len(self.version, ipv6, self.addrs.len())
    }
}

/// How the checksum of v3 over IPv4 is computed (v2 and IPv6 have one
/// way each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    /// Include the IPv4 pseudo-header (RFC 5798, keepalived 2.2.7 always,
    /// ≥ 2.2.8 unless `v3_checksum_as_v2`).
    pub v3_ipv4_pseudo_header: bool,
}

impl Checksum {
    /// RFC 5798, keepalived 2.2.7: the pseudo-header is included.
    pub const RFC: Checksum = Checksum {
        v3_ipv4_pseudo_header: true,
    };
    /// keepalived ≥ 2.2.8 `v3_checksum_as_v2`: v3 over IPv4 is
    /// checksummed like v2, without the pseudo-header.
    pub const V3_AS_V2: Checksum = Checksum {
        v3_ipv4_pseudo_header: false,
    };
}

impl Default for Checksum {
    /// [`Checksum::RFC`], keepalived 2.2.7's only behaviour.
    fn default() -> Checksum {
        Checksum::RFC
    }
}

/// Why an advert cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The source and destination are of different families.
    #[error("source {src} and destination {dst} are of different address families")]
    MixedFamilies {
        /// The source given.
        src: IpAddr,
        /// The destination given.
        dst: IpAddr,
    },
    /// Version 2 over IPv6 (RFC 3768 is IPv4-only).
    #[error("VRRP version 2 is IPv4-only (RFC 3768); use version 3 for IPv6")]
    V2Ipv6,
    /// Authentication asked for on a v3 advert (RFC 5798 removed it).
    #[error("VRRP version 3 has no authentication")]
    V3Auth,
    /// More addresses than Count IP Addrs can say.
    #[error("{0} addresses, but an advert carries at most 255")]
    TooManyAddrs(usize),
    /// An address of the other family than the packet's.
    #[error("address {0} is not of the packet's address family")]
    AddrFamily(IpAddr),
    /// An interval the version cannot carry.
    #[error("{}", interval_message(*version, *interval_cs))]
    Interval {
        /// The advert's version.
        version: Version,
        /// The interval asked for.
        interval_cs: u16,
    },
}

fn interval_message(version: Version, interval_cs: u16) -> String {
    match version {
        Version::V2 => format!(
            "advert interval {interval_cs} cs: VRRP version 2 carries whole seconds, 0..=255"
        ),
        Version::V3 => format!(
            "advert interval {interval_cs} cs: VRRP version 3 carries at most 4095 cs (40.95 s)"
        ),
    }
}

/// Why a received packet was dropped: one variant per reason, so that the
/// daemon can count drops by reason ([`DecodeError::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than the fixed 8-byte header.
    #[error("VRRP packet too short: {len} bytes, the header alone is 8")]
    Short {
        /// The bytes received.
        len: usize,
    },
    /// A version other than 2 or 3.
    #[error("VRRP version {0}, expected 2 or 3")]
    Version(u8),
    /// A type other than 1 (advertisement).
    #[error("VRRP packet type {0}, expected 1 (advertisement)")]
    Type(u8),
    /// A version 2 packet over IPv6.
    #[error("VRRP version 2 packet over IPv6 (RFC 3768 is IPv4-only)")]
    V2Ipv6,
    /// The source and destination given are of different families (the
    /// caller's mistake; no packet is like that).
    #[error("source {src} and destination {dst} are of different address families")]
    MixedFamilies {
        /// The source given.
        src: IpAddr,
        /// The destination given.
        dst: IpAddr,
    },
    /// The length is not what Count IP Addrs says: too short, or bytes
    /// after the last field.
    #[error("VRRP packet of {len} bytes, but {naddr} addresses make {expected}")]
    AddrCount {
        /// Count IP Addrs.
        naddr: u8,
        /// The length it implies.
        expected: usize,
        /// The length received.
        len: usize,
    },
    /// The checksum does not match.
    #[error("VRRP checksum {got:#06x}, computed {want:#06x}")]
    Checksum {
        /// The packet's checksum field.
        got: u16,
        /// What it should have been.
        want: u16,
    },
    /// A v2 auth type keepalived does not know (not 0, 1 or 2).
    #[error("VRRP auth type {0}, expected 0 (none) or 1 (PASS)")]
    AuthType(u8),
    /// v2 auth type 2 (IPsec AH, RFC 2338), which is not supported.
    #[error("VRRP auth type 2 (IPsec AH) is not supported")]
    AuthAh,
    /// An IPv4 buffer shorter than the fixed IPv4 header.
    #[error("IPv4 packet too short: {len} bytes, the header alone is 20")]
    Ipv4Short {
        /// The bytes received.
        len: usize,
    },
    /// An IP version other than 4 in an IPv4 buffer.
    #[error("IP version {0} in an IPv4 packet")]
    Ipv4Version(u8),
    /// An IHL below 5 or beyond the bytes received.
    #[error("IPv4 header length {} bytes (IHL {ihl}) in a packet of {len} bytes", *ihl as usize * 4)]
    Ipv4HeaderLen {
        /// The IHL field (32-bit words).
        ihl: u8,
        /// The bytes received.
        len: usize,
    },
    /// A total length shorter than the header or longer than what was
    /// received.
    #[error("IPv4 total length {total}, but {len} bytes received and a header of {header}")]
    Ipv4TotalLen {
        /// The total length field.
        total: u16,
        /// The header's length in bytes.
        header: usize,
        /// The bytes received.
        len: usize,
    },
    /// A fragment (MF set or a non-zero offset); the kernel reassembles
    /// before raw delivery, so this is never a real advert.
    #[error("IPv4 fragment (flags/offset {0:#06x})")]
    Ipv4Fragment(u16),
}

impl DecodeError {
    /// A short fixed name of the reason, for counters and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Short { .. } => "short",
            DecodeError::Version(_) => "version",
            DecodeError::Type(_) => "type",
            DecodeError::V2Ipv6 => "v2_ipv6",
            DecodeError::MixedFamilies { .. } => "mixed_families",
            DecodeError::AddrCount { .. } => "addr_count",
            DecodeError::Checksum { .. } => "checksum",
            DecodeError::AuthType(_) => "auth_type",
            DecodeError::AuthAh => "auth_ah",
            DecodeError::Ipv4Short { .. } => "ipv4_short",
            DecodeError::Ipv4Version(_) => "ipv4_version",
            DecodeError::Ipv4HeaderLen { .. } => "ipv4_header_len",
            DecodeError::Ipv4TotalLen { .. } => "ipv4_total_len",
            DecodeError::Ipv4Fragment(_) => "ipv4_fragment",
        }
    }
}

/// `true` for IPv6, if `src` and `dst` agree.
fn family(src: IpAddr, dst: IpAddr) -> Option<bool> {
    match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => Some(false),
        (IpAddr::V6(_), IpAddr::V6(_)) => Some(true),
        _ => None,
    }
}

fn message_len(version: Version, ipv6: bool, naddr: usize) -> usize {
    let addr_len = if ipv6 { 16 } else { 4 };
    let auth = match version {
        Version::V2 => AUTH_LEN,
        Version::V3 => 0,
    };
    HEADER_LEN + naddr * addr_len + auth
}

/// Adds `bytes` to a ones'-complement sum as big-endian 16-bit words, an
/// odd last byte padded with zero (RFC 1071).
fn sum_words(mut sum: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Folds the carries back in: the 16-bit ones'-complement sum.
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The sum of the pseudo-header this packet's checksum covers (0 when
/// none: v2, or v3 over IPv4 with `V3_AS_V2`).
fn pseudo_header_sum(version: Version, src: IpAddr, dst: IpAddr, len: usize, ck: Checksum) -> u64 {
    match (version, src, dst) {
        (Version::V3, IpAddr::V4(s), IpAddr::V4(d)) if ck.v3_ipv4_pseudo_header => {
            let mut sum = sum_words(0, &s.octets());
            sum = sum_words(sum, &d.octets());
            // zero, protocol; the length as u16 (a message is < 64 KiB).
            sum = sum_words(sum, &[0, IPPROTO_VRRP]);
            sum_words(sum, &(len as u16).to_be_bytes())
        }
        (Version::V3, IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut sum = sum_words(0, &s.octets());
            sum = sum_words(sum, &d.octets());
            sum = sum_words(sum, &(len as u32).to_be_bytes());
            sum_words(sum, &[0, 0, 0, IPPROTO_VRRP])
        }
        _ => 0,
    }
}

/// Builds the VRRP message of `a` as sent from `src` to `dst` (both of
/// the packet's family; they enter the checksum of v3). The IP header is
/// not included.
pub fn encode(a: &Advert, src: IpAddr, dst: IpAddr, ck: Checksum) -> Result<Vec<u8>, EncodeError> {
    let ipv6 = family(src, dst).ok_or(EncodeError::MixedFamilies { src, dst })?;
    if ipv6 && a.version == Version::V2 {
        return Err(EncodeError::V2Ipv6);
    }
    if a.version == Version::V3 && a.auth != Auth::None {
        return Err(EncodeError::V3Auth);
    }
    if a.addrs.len() > MAX_ADDRS {
        return Err(EncodeError::TooManyAddrs(a.addrs.len()));
    }
    if let Some(&bad) = a.addrs.iter().find(|addr| addr.is_ipv6() != ipv6) {
        return Err(EncodeError::AddrFamily(bad));
    }
    let interval = match a.version {
        Version::V2 if a.interval_cs % 100 == 0 && a.interval_cs <= MAX_INTERVAL_V2_CS => {
            [AUTH_TYPE_NONE, (a.interval_cs / 100) as u8]
        }
        // The 4 reserved bits stay 0.
        Version::V3 if a.interval_cs <= MAX_INTERVAL_V3_CS => a.interval_cs.to_be_bytes(),
        version => {
            return Err(EncodeError::Interval {
                version,
                interval_cs: a.interval_cs,
            })
        }
    };

    let len = message_len(a.version, ipv6, a.addrs.len());
    let mut buf = Vec::with_capacity(len);
    buf.push(a.version.number() << 4 | TYPE_ADVERTISEMENT);
    buf.extend_from_slice(&[a.vrid, a.priority, a.addrs.len() as u8]);
    buf.extend_from_slice(&interval);
    buf.extend_from_slice(&[0, 0]);
    for addr in &a.addrs {
        match addr {
            IpAddr::V4(v4) => buf.extend_from_slice(&v4.octets()),
            IpAddr::V6(v6) => buf.extend_from_slice(&v6.octets()),
        }
    }
    if a.version == Version::V2 {
        match &a.auth {
            Auth::None => buf.extend_from_slice(&[0; AUTH_LEN]),
            Auth::Pass(pw) => {
                buf[4] = AUTH_TYPE_PASS;
                buf.extend_from_slice(pw);
            }
        }
    }
    debug_assert_eq!(buf.len(), len);

    let sum = sum_words(pseudo_header_sum(a.version, src, dst, len, ck), &buf);
    let checksum = !fold(sum);
    buf[CHECKSUM_AT..CHECKSUM_AT + 2].copy_from_slice(&checksum.to_be_bytes());
    Ok(buf)
}

/// Checks and reads a received VRRP message (for IPv4, the payload
/// [`split_ipv4`] gives) that came from `src` to `dst`.
///
/// The checks, in this order (the first that fails is the error):
/// header length, version, type, the families of `src` and `dst`, v2
/// over IPv6, the length Count IP Addrs implies, the checksum, then the
/// v2 auth type. Everything after the
/// checksum is about an intact packet; keepalived checks the auth type
/// and type before the checksum, so it counts a corrupted byte there as a
/// bad auth type or type.
///
/// Not checked here, because they belong to the instance (keepalived's
/// `vrrp_check_packet` does them against its configuration): the TTL /
/// hop limit, the VRID, the v2 interval and password against the
/// configured ones, the address list. The v3 reserved bits are ignored
/// (sent as zero, RFC 5798 §5.2.6; keepalived masks them off on receipt,
/// `& 0x0FFF`). For a unicast peer of
/// keepalived ≤ 1.3.6, which put the group in the pseudo-header, the
/// caller may try again with [`GROUP_V4`] as `dst`.
pub fn decode(vrrp: &[u8], src: IpAddr, dst: IpAddr, ck: Checksum) -> Result<Advert, DecodeError> {
    let len = vrrp.len();
    if len < HEADER_LEN {
        return Err(DecodeError::Short { len });
    }
    let version = match vrrp[0] >> 4 {
        2 => Version::V2,
        3 => Version::V3,
        other => return Err(DecodeError::Version(other)),
    };
    let kind = vrrp[0] & 0x0f;
    if kind != TYPE_ADVERTISEMENT {
        return Err(DecodeError::Type(kind));
    }
    let ipv6 = family(src, dst).ok_or(DecodeError::MixedFamilies { src, dst })?;
    if ipv6 && version == Version::V2 {
        return Err(DecodeError::V2Ipv6);
    }
    let naddr = vrrp[3];
    let expected = message_len(version, ipv6, usize::from(naddr));
    if len != expected {
        return Err(DecodeError::AddrCount {
            naddr,
            expected,
            len,
        });
    }

    let pseudo = pseudo_header_sum(version, src, dst, len, ck);
    if fold(sum_words(pseudo, vrrp)) != 0xffff {
        let got = u16::from_be_bytes([vrrp[CHECKSUM_AT], vrrp[CHECKSUM_AT + 1]]);
        // The sum without the field is the sum with it, less the field.
        let without = sum_words(
            sum_words(pseudo, &vrrp[..CHECKSUM_AT]),
            &vrrp[CHECKSUM_AT + 2..],
        );
        return Err(DecodeError::Checksum {
            got,
            want: !fold(without),
        });
    }

    let (interval_cs, auth) = match version {
        Version::V2 => {
            let auth = match vrrp[4] {
                AUTH_TYPE_NONE => Auth::None,
                AUTH_TYPE_PASS => {
                    let mut pw = [0; AUTH_LEN];
                    pw.copy_from_slice(&vrrp[len - AUTH_LEN..]);
                    Auth::Pass(pw)
                }
                AUTH_TYPE_AH => return Err(DecodeError::AuthAh),
                other => return Err(DecodeError::AuthType(other)),
            };
            (u16::from(vrrp[5]) * 100, auth)
        }
        Version::V3 => (
            u16::from_be_bytes([vrrp[4], vrrp[5]]) & MAX_INTERVAL_V3_CS,
            Auth::None,
        ),
    };

    let addrs_end = HEADER_LEN + usize::from(naddr) * if ipv6 { 16 } else { 4 };
    let addr_bytes = &vrrp[HEADER_LEN..addrs_end];
    let addrs = if ipv6 {
        addr_bytes
            .chunks_exact(16)
            .map(|c| {
                let mut o = [0; 16];
                o.copy_from_slice(c);
                IpAddr::V6(Ipv6Addr::from(o))
            })
            .collect()
    } else {
        addr_bytes
            .chunks_exact(4)
            .map(|c| IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3])))
            .collect()
    };

    Ok(Advert {
        version,
        vrid: vrrp[1],
        priority: vrrp[2],
        interval_cs,
        addrs,
        auth,
    })
}

/// An IPv4 packet as a raw socket delivers it, header taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<'a> {
    /// The source address (the sender; keepalived's `pkt_saddr`).
    pub src: Ipv4Addr,
    /// The destination address (the group, or us for unicast).
    pub dst: Ipv4Addr,
    /// The TTL as received (255 for multicast adverts).
    pub ttl: u8,
    /// The protocol (112; 51 for AH).
    pub protocol: u8,
    /// What follows the header (options skipped), up to the total length.
    pub payload: &'a [u8],
}

/// Splits what an IPv4 raw socket delivers into header fields and
/// payload: the header length from IHL (options skipped), the payload cut
/// at the total length (bytes past it, such as Ethernet padding, are
/// ignored). Fragments are refused. The header checksum is not checked:
/// the kernel did before delivering.
pub fn split_ipv4(buf: &[u8]) -> Result<Ipv4Packet<'_>, DecodeError> {
    let len = buf.len();
    if len < IPV4_MIN_HEADER {
        return Err(DecodeError::Ipv4Short { len });
    }
    let version = buf[0] >> 4;
    if version != 4 {
        return Err(DecodeError::Ipv4Version(version));
    }
    let ihl = buf[0] & 0x0f;
    let header = usize::from(ihl) * 4;
    if header < IPV4_MIN_HEADER || header > len {
        return Err(DecodeError::Ipv4HeaderLen { ihl, len });
    }
    let total = u16::from_be_bytes([buf[2], buf[3]]);
    if usize::from(total) < header || usize::from(total) > len {
        return Err(DecodeError::Ipv4TotalLen { total, header, len });
    }
    // MF and the fragment offset; DF (0x4000) and the reserved bit are fine.
    let frag = u16::from_be_bytes([buf[6], buf[7]]);
    if frag & 0x3fff != 0 {
        return Err(DecodeError::Ipv4Fragment(frag));
    }
    Ok(Ipv4Packet {
        src: Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]),
        dst: Ipv4Addr::new(buf[16], buf[17], buf[18], buf[19]),
        ttl: buf[8],
        protocol: buf[9],
        payload: &buf[header..usize::from(total)],
    })
}

#[cfg(test)]
mod tests;
