//! IPVS messages on the wire: the attributes of `<linux/ip_vs.h>`, encoded
//! with `netlink-packet-core`'s NLA machinery like [`crate::message`], and
//! the requests the client sends, built here so tests can check their bytes.
//!
//! Byte-order rules (net/netfilter/ipvs/ip_vs_ctl.c):
//! - PORT, and a destination's TUN_PORT, are `__be16` (nla_get_be16).
//! - NETMASK is read with nla_get_be32 and stored as is. For IPv4 it is a
//!   mask in network order (255.255.255.0 = ff ff ff 00); for IPv6 the
//!   kernel uses the same 32 bits as a host-order prefix length 1..=128
//!   (`plen = (__force u32) netmask`, else EINVAL), as ipvsadm sends it.
//! - FLAGS is `struct ip_vs_flags { __u32 flags; __u32 mask; }`, host
//!   order: the kernel keeps the bits outside `mask` (ip_vs_genl_parse_service).
//! - ADDR is up to 16 bytes (a `union nf_inet_addr`); the kernel copies
//!   what it gets into a zeroed union and always answers 16 bytes.
//! - The sync daemon's MCAST_PORT, unlike PORT, is host order (nla_get_u16,
//!   htons'd by ip_vs_sync.c); MCAST_GROUP is an IPv4 address in network
//!   order (nla_get_in_addr), MCAST_GROUP6 the 16 bytes of an in6_addr.
//!
//! What each command needs: NEW_SERVICE and SET_SERVICE the identity (AF
//! plus FWMARK, or PROTOCOL + ADDR + PORT) and SCHED_NAME, FLAGS, TIMEOUT,
//! NETMASK, else EINVAL; other service commands the identity only; dest
//! commands the SERVICE nest (identity) and the DEST nest (ADDR + PORT, and
//! for NEW/SET also FWD_METHOD, WEIGHT, U_THRESH, L_THRESH). ADDR_FAMILY
//! (3.18+) lets a destination's family differ from its service's (tunnels
//! only); without it the kernel takes the service's.
//!
//! Sync daemons (ip_vs_genl_set_daemon): NEW_DAEMON and DEL_DAEMON need the
//! DAEMON nest, else EINVAL. NEW_DAEMON needs STATE, MCAST_IFN and SYNC_ID
//! in it (ip_vs_genl_new_daemon), the rest is optional (4.3+; absent or 0
//! is the default); DEL_DAEMON reads STATE only (ip_vs_genl_del_daemon).
//! GET_DAEMON is a dump: one NEW_DAEMON message per running daemon, master
//! first, each with every setting (ip_vs_genl_dump_daemons).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, NetlinkHeader, NetlinkMessage, NetlinkPayload, Nla,
    NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};

use super::error::IpvsError;
use super::types::{
    canonical_ipv4_mask, canonical_netmask, ipv4_mask, Dest, DestEntry, Family, Forward, Info,
    Persistence, Protocol, SchedFlags, Service, ServiceKey, SyncDaemon, SyncState, Tunnel,
    TunnelKind,
};
use super::uapi;
use crate::netlink::genl;
use crate::netlink::{split_messages, NlError, Reply};

/// Command numbers, as u8, named after the header's IPVS_CMD_*.
pub mod cmd {
    use super::uapi;
    pub const NEW_SERVICE: u8 = uapi::IPVS_CMD_NEW_SERVICE as u8;
    pub const SET_SERVICE: u8 = uapi::IPVS_CMD_SET_SERVICE as u8;
    pub const DEL_SERVICE: u8 = uapi::IPVS_CMD_DEL_SERVICE as u8;
    pub const GET_SERVICE: u8 = uapi::IPVS_CMD_GET_SERVICE as u8;
    pub const NEW_DEST: u8 = uapi::IPVS_CMD_NEW_DEST as u8;
    pub const SET_DEST: u8 = uapi::IPVS_CMD_SET_DEST as u8;
    pub const DEL_DEST: u8 = uapi::IPVS_CMD_DEL_DEST as u8;
    pub const GET_DEST: u8 = uapi::IPVS_CMD_GET_DEST as u8;
    pub const SET_INFO: u8 = uapi::IPVS_CMD_SET_INFO as u8;
    pub const GET_INFO: u8 = uapi::IPVS_CMD_GET_INFO as u8;
    pub const FLUSH: u8 = uapi::IPVS_CMD_FLUSH as u8;
    pub const NEW_DAEMON: u8 = uapi::IPVS_CMD_NEW_DAEMON as u8;
    pub const DEL_DAEMON: u8 = uapi::IPVS_CMD_DEL_DAEMON as u8;
    pub const GET_DAEMON: u8 = uapi::IPVS_CMD_GET_DAEMON as u8;
}

/// Attribute numbers, as u16, named after the header's IPVS_*_ATTR_*.
pub mod attr {
    use super::uapi;
    pub const CMD_SERVICE: u16 = uapi::IPVS_CMD_ATTR_SERVICE as u16;
    pub const CMD_DEST: u16 = uapi::IPVS_CMD_ATTR_DEST as u16;
    pub const CMD_DAEMON: u16 = uapi::IPVS_CMD_ATTR_DAEMON as u16;

    pub const SVC_AF: u16 = uapi::IPVS_SVC_ATTR_AF as u16;
    pub const SVC_PROTOCOL: u16 = uapi::IPVS_SVC_ATTR_PROTOCOL as u16;
    pub const SVC_ADDR: u16 = uapi::IPVS_SVC_ATTR_ADDR as u16;
    pub const SVC_PORT: u16 = uapi::IPVS_SVC_ATTR_PORT as u16;
    pub const SVC_FWMARK: u16 = uapi::IPVS_SVC_ATTR_FWMARK as u16;
    pub const SVC_SCHED_NAME: u16 = uapi::IPVS_SVC_ATTR_SCHED_NAME as u16;
    pub const SVC_FLAGS: u16 = uapi::IPVS_SVC_ATTR_FLAGS as u16;
    pub const SVC_TIMEOUT: u16 = uapi::IPVS_SVC_ATTR_TIMEOUT as u16;
    pub const SVC_NETMASK: u16 = uapi::IPVS_SVC_ATTR_NETMASK as u16;
    pub const SVC_PE_NAME: u16 = uapi::IPVS_SVC_ATTR_PE_NAME as u16;

    pub const DEST_ADDR: u16 = uapi::IPVS_DEST_ATTR_ADDR as u16;
    pub const DEST_PORT: u16 = uapi::IPVS_DEST_ATTR_PORT as u16;
    pub const DEST_FWD_METHOD: u16 = uapi::IPVS_DEST_ATTR_FWD_METHOD as u16;
    pub const DEST_WEIGHT: u16 = uapi::IPVS_DEST_ATTR_WEIGHT as u16;
    pub const DEST_U_THRESH: u16 = uapi::IPVS_DEST_ATTR_U_THRESH as u16;
    pub const DEST_L_THRESH: u16 = uapi::IPVS_DEST_ATTR_L_THRESH as u16;
    pub const DEST_ACTIVE_CONNS: u16 = uapi::IPVS_DEST_ATTR_ACTIVE_CONNS as u16;
    pub const DEST_INACT_CONNS: u16 = uapi::IPVS_DEST_ATTR_INACT_CONNS as u16;
    pub const DEST_PERSIST_CONNS: u16 = uapi::IPVS_DEST_ATTR_PERSIST_CONNS as u16;
    pub const DEST_ADDR_FAMILY: u16 = uapi::IPVS_DEST_ATTR_ADDR_FAMILY as u16;
    pub const DEST_TUN_TYPE: u16 = uapi::IPVS_DEST_ATTR_TUN_TYPE as u16;
    pub const DEST_TUN_PORT: u16 = uapi::IPVS_DEST_ATTR_TUN_PORT as u16;
    pub const DEST_TUN_FLAGS: u16 = uapi::IPVS_DEST_ATTR_TUN_FLAGS as u16;

    pub const DAEMON_STATE: u16 = uapi::IPVS_DAEMON_ATTR_STATE as u16;
    pub const DAEMON_MCAST_IFN: u16 = uapi::IPVS_DAEMON_ATTR_MCAST_IFN as u16;
    pub const DAEMON_SYNC_ID: u16 = uapi::IPVS_DAEMON_ATTR_SYNC_ID as u16;
    pub const DAEMON_SYNC_MAXLEN: u16 = uapi::IPVS_DAEMON_ATTR_SYNC_MAXLEN as u16;
    pub const DAEMON_MCAST_GROUP: u16 = uapi::IPVS_DAEMON_ATTR_MCAST_GROUP as u16;
    pub const DAEMON_MCAST_GROUP6: u16 = uapi::IPVS_DAEMON_ATTR_MCAST_GROUP6 as u16;
    pub const DAEMON_MCAST_PORT: u16 = uapi::IPVS_DAEMON_ATTR_MCAST_PORT as u16;
    pub const DAEMON_MCAST_TTL: u16 = uapi::IPVS_DAEMON_ATTR_MCAST_TTL as u16;

    pub const INFO_VERSION: u16 = uapi::IPVS_INFO_ATTR_VERSION as u16;
    pub const INFO_CONN_TAB_SIZE: u16 = uapi::IPVS_INFO_ATTR_CONN_TAB_SIZE as u16;
}

/// The family name, from the header's `IPVS_GENL_NAME`.
pub fn family_name() -> &'static str {
    std::ffi::CStr::from_bytes_with_nul(uapi::IPVS_GENL_NAME)
        .ok()
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default()
}

/// The longest scheduler name the kernel takes (its NUL excluded).
pub const SCHED_NAME_MAX: usize = uapi::IP_VS_SCHEDNAME_MAXLEN as usize - 1;
/// The longest persistence engine name this library sends (the kernel's
/// own names are far shorter; the policy allows one byte more).
pub const PE_NAME_MAX: usize = uapi::IP_VS_PENAME_MAXLEN as usize - 1;
/// The service flags the library owns; FLAGS' mask carries only these, so
/// the kernel's own bits (HASHED) and unknown ones are left alone.
pub const OWNED_FLAGS: u32 = uapi::IP_VS_SVC_F_PERSISTENT
    | uapi::IP_VS_SVC_F_ONEPACKET
    | uapi::IP_VS_SVC_F_SCHED1
    | uapi::IP_VS_SVC_F_SCHED2
    | uapi::IP_VS_SVC_F_SCHED3;
const FLAGS_LEN: usize = std::mem::size_of::<uapi::ip_vs_flags>();
/// The longest interface name the kernel takes for a sync daemon (its
/// NUL excluded: the policy's NLA_NUL_STRING of IP_VS_IFNAME_MAXLEN - 1).
pub const IFNAME_MAX: usize = uapi::IP_VS_IFNAME_MAXLEN as usize - 1;
/// The largest sync id that reaches the wire: sync messages carry a u8.
pub const SYNC_ID_MAX: u32 = u8::MAX as u32;

/// One attribute inside IPVS_CMD_ATTR_SERVICE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcAttr {
    Af(u16),
    Protocol(u16),
    /// 4 or 16 bytes sent; 16 received (see the module notes).
    Addr(Vec<u8>),
    /// The port as a number; big-endian on the wire.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    Flags {
        flags: u32,
        mask: u32,
    },
    Timeout(u32),
    /// The four bytes as on the wire (see the module notes for their
    /// meaning per family).
    Netmask([u8; 4]),
    PeName(String),
    /// STATS, STATS64 and anything newer.
    Other(DefaultNla),
}

/// One attribute inside IPVS_CMD_ATTR_DEST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    Addr(Vec<u8>),
    Port(u16),
    FwdMethod(u32),
    Weight(i32),
    UThresh(u32),
    LThresh(u32),
    ActiveConns(u32),
    InactConns(u32),
    PersistConns(u32),
    AddrFamily(u16),
    TunType(u8),
    /// Big-endian on the wire, like PORT.
    TunPort(u16),
    TunFlags(u16),
    Other(DefaultNla),
}

/// One attribute inside IPVS_CMD_ATTR_DAEMON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    /// IP_VS_STATE_MASTER or IP_VS_STATE_BACKUP.
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxlen(u16),
    McastGroup(Ipv4Addr),
    McastGroup6(Ipv6Addr),
    /// Host order on the wire (see the module notes).
    McastPort(u16),
    McastTtl(u8),
    Other(DefaultNla),
}

/// A top-level attribute. Their numbers depend on the command: GET_INFO's
/// reply (SET_INFO) uses IPVS_INFO_ATTR_*, which reuse 1 and 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdAttr {
    Service(Vec<SvcAttr>),
    Dest(Vec<DestAttr>),
    Daemon(Vec<DaemonAttr>),
    InfoVersion(u32),
    InfoConnTabSize(u32),
    Other(DefaultNla),
}

fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn nested_len<T: Nla>(attrs: &[T]) -> usize {
    attrs.buffer_len()
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        use SvcAttr::*;
        match self {
            Af(_) | Protocol(_) | Port(_) => 2,
            Fwmark(_) | Timeout(_) | Netmask(_) => 4,
            Addr(a) => a.len(),
            SchedName(s) | PeName(s) => s.len() + 1,
            Flags { .. } => FLAGS_LEN,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use SvcAttr::*;
        match self {
            Af(_) => attr::SVC_AF,
            Protocol(_) => attr::SVC_PROTOCOL,
            Addr(_) => attr::SVC_ADDR,
            Port(_) => attr::SVC_PORT,
            Fwmark(_) => attr::SVC_FWMARK,
            SchedName(_) => attr::SVC_SCHED_NAME,
            Flags { .. } => attr::SVC_FLAGS,
            Timeout(_) => attr::SVC_TIMEOUT,
            Netmask(_) => attr::SVC_NETMASK,
            PeName(_) => attr::SVC_PE_NAME,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        use SvcAttr::*;
        match self {
            Af(v) | Protocol(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            Port(v) => buf[..2].copy_from_slice(&v.to_be_bytes()),
            Fwmark(v) | Timeout(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Netmask(b) => buf[..4].copy_from_slice(b),
            Addr(a) => buf[..a.len()].copy_from_slice(a),
            SchedName(s) | PeName(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Flags { flags, mask } => {
                buf[..4].copy_from_slice(&flags.to_ne_bytes());
                buf[4..8].copy_from_slice(&mask.to_ne_bytes());
            }
            Other(nla) => nla.emit_value(buf),
        }
    }
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        use DestAttr::*;
        match self {
            TunType(_) => 1,
            Port(_) | AddrFamily(_) | TunPort(_) | TunFlags(_) => 2,
            FwdMethod(_) | Weight(_) | UThresh(_) | LThresh(_) | ActiveConns(_) | InactConns(_)
            | PersistConns(_) => 4,
            Addr(a) => a.len(),
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DestAttr::*;
        match self {
            Addr(_) => attr::DEST_ADDR,
            Port(_) => attr::DEST_PORT,
            FwdMethod(_) => attr::DEST_FWD_METHOD,
            Weight(_) => attr::DEST_WEIGHT,
            UThresh(_) => attr::DEST_U_THRESH,
            LThresh(_) => attr::DEST_L_THRESH,
            ActiveConns(_) => attr::DEST_ACTIVE_CONNS,
            InactConns(_) => attr::DEST_INACT_CONNS,
            PersistConns(_) => attr::DEST_PERSIST_CONNS,
            AddrFamily(_) => attr::DEST_ADDR_FAMILY,
            TunType(_) => attr::DEST_TUN_TYPE,
            TunPort(_) => attr::DEST_TUN_PORT,
            TunFlags(_) => attr::DEST_TUN_FLAGS,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        use DestAttr::*;
        match self {
            TunType(v) => buf[0] = *v,
            Port(v) | TunPort(v) => buf[..2].copy_from_slice(&v.to_be_bytes()),
            AddrFamily(v) | TunFlags(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            FwdMethod(v) | UThresh(v) | LThresh(v) | ActiveConns(v) | InactConns(v)
            | PersistConns(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Weight(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Addr(a) => buf[..a.len()].copy_from_slice(a),
            Other(nla) => nla.emit_value(buf),
        }
    }
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        use DaemonAttr::*;
        match self {
            McastTtl(_) => 1,
            SyncMaxlen(_) | McastPort(_) => 2,
            State(_) | SyncId(_) | McastGroup(_) => 4,
            McastGroup6(_) => 16,
            McastIfn(s) => s.len() + 1,
            Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DaemonAttr::*;
        match self {
            State(_) => attr::DAEMON_STATE,
            McastIfn(_) => attr::DAEMON_MCAST_IFN,
            SyncId(_) => attr::DAEMON_SYNC_ID,
            SyncMaxlen(_) => attr::DAEMON_SYNC_MAXLEN,
            McastGroup(_) => attr::DAEMON_MCAST_GROUP,
            McastGroup6(_) => attr::DAEMON_MCAST_GROUP6,
            McastPort(_) => attr::DAEMON_MCAST_PORT,
            McastTtl(_) => attr::DAEMON_MCAST_TTL,
            Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        use DaemonAttr::*;
        match self {
            McastTtl(v) => buf[0] = *v,
            SyncMaxlen(v) | McastPort(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            State(v) | SyncId(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            McastGroup(a) => buf[..4].copy_from_slice(&a.octets()),
            McastGroup6(a) => buf[..16].copy_from_slice(&a.octets()),
            McastIfn(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Other(nla) => nla.emit_value(buf),
        }
    }
}

impl Nla for CmdAttr {
    fn value_len(&self) -> usize {
        match self {
            CmdAttr::Service(a) => nested_len(a),
            CmdAttr::Dest(a) => nested_len(a),
            CmdAttr::Daemon(a) => nested_len(a),
            CmdAttr::InfoVersion(_) | CmdAttr::InfoConnTabSize(_) => 4,
            CmdAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            CmdAttr::Service(_) => attr::CMD_SERVICE,
            CmdAttr::Dest(_) => attr::CMD_DEST,
            CmdAttr::Daemon(_) => attr::CMD_DAEMON,
            CmdAttr::InfoVersion(_) => attr::INFO_VERSION,
            CmdAttr::InfoConnTabSize(_) => attr::INFO_CONN_TAB_SIZE,
            CmdAttr::Other(nla) => nla.kind(),
        }
    }

    // Nests go without NLA_F_NESTED, as the kernel's own replies and
    // ipvsadm's requests do; the kernel's (deprecated) parser takes both.
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            CmdAttr::Service(a) => a.as_slice().emit(buf),
            CmdAttr::Dest(a) => a.as_slice().emit(buf),
            CmdAttr::Daemon(a) => a.as_slice().emit(buf),
            CmdAttr::InfoVersion(v) | CmdAttr::InfoConnTabSize(v) => {
                buf[..4].copy_from_slice(&v.to_ne_bytes())
            }
            CmdAttr::Other(nla) => nla.emit_value(buf),
        }
    }
}

fn exact<const N: usize>(kind: u16, v: &[u8]) -> Result<[u8; N], DecodeError> {
    v.try_into().map_err(|_| {
        DecodeError::from(format!("attribute {kind}: {} bytes, expected {N}", v.len()))
    })
}

fn string(kind: u16, v: &[u8]) -> Result<String, DecodeError> {
    // NUL-terminated; tolerate a missing NUL, not bytes after it.
    let s = v.strip_suffix(&[0]).unwrap_or(v);
    if s.contains(&0) {
        return Err(format!("attribute {kind}: NUL inside a string").into());
    }
    String::from_utf8(s.to_vec())
        .map_err(|_| DecodeError::from(format!("attribute {kind}: not UTF-8")))
}

fn raw_addr(kind: u16, v: &[u8]) -> Result<Vec<u8>, DecodeError> {
    match v.len() {
        4 | 16 => Ok(v.to_vec()),
        n => Err(format!("attribute {kind}: an address of {n} bytes (4 or 16 expected)").into()),
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for SvcAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let k = buf.kind();
        Ok(match k {
            attr::SVC_AF => SvcAttr::Af(u16::from_ne_bytes(exact(k, v)?)),
            attr::SVC_PROTOCOL => SvcAttr::Protocol(u16::from_ne_bytes(exact(k, v)?)),
            attr::SVC_ADDR => SvcAttr::Addr(raw_addr(k, v)?),
            attr::SVC_PORT => SvcAttr::Port(u16::from_be_bytes(exact(k, v)?)),
            attr::SVC_FWMARK => SvcAttr::Fwmark(u32::from_ne_bytes(exact(k, v)?)),
            attr::SVC_SCHED_NAME => SvcAttr::SchedName(string(k, v)?),
            attr::SVC_FLAGS => {
                let b: [u8; FLAGS_LEN] = exact(k, v)?;
                SvcAttr::Flags {
                    flags: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
                    mask: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
                }
            }
            attr::SVC_TIMEOUT => SvcAttr::Timeout(u32::from_ne_bytes(exact(k, v)?)),
            attr::SVC_NETMASK => SvcAttr::Netmask(exact(k, v)?),
            attr::SVC_PE_NAME => SvcAttr::PeName(string(k, v)?),
            _ => SvcAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let k = buf.kind();
        let u32_of = |v: &[u8]| exact(k, v).map(u32::from_ne_bytes);
        Ok(match k {
            attr::DEST_ADDR => DestAttr::Addr(raw_addr(k, v)?),
            attr::DEST_PORT => DestAttr::Port(u16::from_be_bytes(exact(k, v)?)),
            attr::DEST_FWD_METHOD => DestAttr::FwdMethod(u32_of(v)?),
            attr::DEST_WEIGHT => DestAttr::Weight(i32::from_ne_bytes(exact(k, v)?)),
            attr::DEST_U_THRESH => DestAttr::UThresh(u32_of(v)?),
            attr::DEST_L_THRESH => DestAttr::LThresh(u32_of(v)?),
            attr::DEST_ACTIVE_CONNS => DestAttr::ActiveConns(u32_of(v)?),
            attr::DEST_INACT_CONNS => DestAttr::InactConns(u32_of(v)?),
            attr::DEST_PERSIST_CONNS => DestAttr::PersistConns(u32_of(v)?),
            attr::DEST_ADDR_FAMILY => DestAttr::AddrFamily(u16::from_ne_bytes(exact(k, v)?)),
            attr::DEST_TUN_TYPE => DestAttr::TunType(exact::<1>(k, v)?[0]),
            attr::DEST_TUN_PORT => DestAttr::TunPort(u16::from_be_bytes(exact(k, v)?)),
            attr::DEST_TUN_FLAGS => DestAttr::TunFlags(u16::from_ne_bytes(exact(k, v)?)),
            _ => DestAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let k = buf.kind();
        Ok(match k {
            attr::DAEMON_STATE => DaemonAttr::State(u32::from_ne_bytes(exact(k, v)?)),
            attr::DAEMON_MCAST_IFN => DaemonAttr::McastIfn(string(k, v)?),
            attr::DAEMON_SYNC_ID => DaemonAttr::SyncId(u32::from_ne_bytes(exact(k, v)?)),
            attr::DAEMON_SYNC_MAXLEN => DaemonAttr::SyncMaxlen(u16::from_ne_bytes(exact(k, v)?)),
            attr::DAEMON_MCAST_GROUP => DaemonAttr::McastGroup(Ipv4Addr::from(exact::<4>(k, v)?)),
            attr::DAEMON_MCAST_GROUP6 => {
                DaemonAttr::McastGroup6(Ipv6Addr::from(exact::<16>(k, v)?))
            }
            attr::DAEMON_MCAST_PORT => DaemonAttr::McastPort(u16::from_ne_bytes(exact(k, v)?)),
            attr::DAEMON_MCAST_TTL => DaemonAttr::McastTtl(exact::<1>(k, v)?[0]),
            _ => DaemonAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

fn parse_nested<A>(v: &[u8]) -> Result<Vec<A>, DecodeError>
where
    for<'b> A: Parseable<NlaBuffer<&'b [u8]>>,
{
    NlasIterator::new(v)
        .map(|nla| nla.and_then(|nla| A::parse(&nla)))
        .collect()
}

impl CmdAttr {
    /// Parse one top-level attribute of a message with command `cmd`.
    pub fn parse_in(cmd: u8, buf: &NlaBuffer<&[u8]>) -> Result<CmdAttr, DecodeError> {
        let v = buf.value();
        let k = buf.kind();
        if cmd == cmd::SET_INFO {
            return Ok(match k {
                attr::INFO_VERSION => CmdAttr::InfoVersion(u32::from_ne_bytes(exact(k, v)?)),
                attr::INFO_CONN_TAB_SIZE => {
                    CmdAttr::InfoConnTabSize(u32::from_ne_bytes(exact(k, v)?))
                }
                _ => CmdAttr::Other(DefaultNla::parse(buf)?),
            });
        }
        Ok(match k {
            attr::CMD_SERVICE => CmdAttr::Service(parse_nested(v)?),
            attr::CMD_DEST => CmdAttr::Dest(parse_nested(v)?),
            attr::CMD_DAEMON => CmdAttr::Daemon(parse_nested(v)?),
            _ => CmdAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// The payload of an IPVS generic-netlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    pub cmd: u8,
    pub attrs: Vec<CmdAttr>,
}

impl IpvsMessage {
    pub fn new(cmd: u8, attrs: Vec<CmdAttr>) -> IpvsMessage {
        IpvsMessage { cmd, attrs }
    }

    fn service_nest(&self) -> Option<&[SvcAttr]> {
        self.attrs.iter().find_map(|a| match a {
            CmdAttr::Service(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    fn dest_nest(&self) -> Option<&[DestAttr]> {
        self.attrs.iter().find_map(|a| match a {
            CmdAttr::Dest(d) => Some(d.as_slice()),
            _ => None,
        })
    }

    fn daemon_nest(&self) -> Option<&[DaemonAttr]> {
        self.attrs.iter().find_map(|a| match a {
            CmdAttr::Daemon(d) => Some(d.as_slice()),
            _ => None,
        })
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        family_name()
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        uapi::IPVS_GENL_VERSION as u8
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let attrs = NlasIterator::new(buf)
            .map(|nla| nla.and_then(|nla| CmdAttr::parse_in(header.cmd, &nla)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IpvsMessage {
            cmd: header.cmd,
            attrs,
        })
    }
}

// ---- requests ----

fn check_name(what: &str, name: &str, max: usize) -> Result<(), IpvsError> {
    if name.is_empty() || name.len() > max || name.contains('\0') {
        return Err(IpvsError::Invalid(format!(
            "{what} {name:?}: 1 to {max} bytes without NUL"
        )));
    }
    Ok(())
}

/// The attributes identifying a service (all a non-full command needs).
pub fn service_identity(key: &ServiceKey) -> Result<Vec<SvcAttr>, IpvsError> {
    Ok(match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => vec![
            SvcAttr::Af(Family::of(addr).to_raw()),
            SvcAttr::Protocol(protocol.to_raw()),
            SvcAttr::Addr(addr_bytes(addr)),
            SvcAttr::Port(*port),
        ],
        // Mark 0 is how the kernel tells an address service: it would
        // look for PROTOCOL/ADDR/PORT and answer EINVAL.
        ServiceKey::Fwmark { mark: 0, .. } => {
            return Err(IpvsError::Invalid("firewall mark 0".into()))
        }
        ServiceKey::Fwmark { family, mark } => {
            vec![SvcAttr::Af(family.to_raw()), SvcAttr::Fwmark(*mark)]
        }
    })
}

/// NETMASK's four bytes for a service of `family` (see the module notes).
pub fn netmask_bytes(family: Family, netmask: Option<u32>) -> Result<[u8; 4], IpvsError> {
    match family {
        Family::Inet => Ok(ipv4_mask(netmask).to_be_bytes()),
        Family::Inet6 => match netmask.unwrap_or(128) {
            n @ 1..=128 => Ok(n.to_ne_bytes()),
            n => Err(IpvsError::Invalid(format!(
                "IPv6 persistence prefix length {n} (1 to 128)"
            ))),
        },
    }
}

/// The full service attributes NEW_SERVICE and SET_SERVICE need.
pub fn service_attrs(s: &Service) -> Result<Vec<SvcAttr>, IpvsError> {
    check_name("scheduler", &s.scheduler, SCHED_NAME_MAX)?;
    let family = s.key.family();
    let mut attrs = service_identity(&s.key)?;
    let mut flags = s.sched_flags.bits();
    if s.ops {
        flags |= uapi::IP_VS_SVC_F_ONEPACKET;
    }
    let (timeout, netmask, engine) = match &s.persistence {
        Some(p) => {
            flags |= uapi::IP_VS_SVC_F_PERSISTENT;
            (p.timeout_s, p.netmask, p.engine.as_deref())
        }
        // ipvsadm's defaults without -p: no timeout, the whole address.
        None => (0, None, None),
    };
    attrs.push(SvcAttr::SchedName(s.scheduler.clone()));
    attrs.push(SvcAttr::Flags {
        flags,
        mask: OWNED_FLAGS,
    });
    attrs.push(SvcAttr::Timeout(timeout));
    attrs.push(SvcAttr::Netmask(netmask_bytes(family, netmask)?));
    // Absent on SET_SERVICE removes an engine (ip_vs_edit_service).
    if let Some(pe) = engine {
        check_name("persistence engine", pe, PE_NAME_MAX)?;
        attrs.push(SvcAttr::PeName(pe.to_owned()));
    }
    Ok(attrs)
}

/// The DEST nest's identity: address, port and (3.18+) the family.
fn dest_identity(addr: IpAddr, port: u16) -> Vec<DestAttr> {
    vec![
        DestAttr::Addr(addr_bytes(&addr)),
        DestAttr::Port(port),
        DestAttr::AddrFamily(Family::of(&addr).to_raw()),
    ]
}

/// The full DEST nest NEW_DEST and SET_DEST need.
pub fn dest_attrs(d: &Dest) -> Vec<DestAttr> {
    let mut attrs = vec![
        DestAttr::Addr(addr_bytes(&d.addr)),
        DestAttr::Port(d.port),
        DestAttr::FwdMethod(d.forward.to_raw()),
        DestAttr::Weight(d.weight),
        DestAttr::UThresh(d.upper_threshold),
        DestAttr::LThresh(d.lower_threshold),
        DestAttr::AddrFamily(Family::of(&d.addr).to_raw()),
    ];
    // Only when set: an absent attribute means the default to the kernel
    // (the struct is zeroed), and kernels before 5.2 do not know them.
    if !d.tunnel.is_default() {
        attrs.push(DestAttr::TunType(d.tunnel.kind.to_raw()));
        attrs.push(DestAttr::TunPort(d.tunnel.port));
        attrs.push(DestAttr::TunFlags(d.tunnel.flags()));
    }
    attrs
}

pub fn new_service(s: &Service) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::NEW_SERVICE,
        vec![CmdAttr::Service(service_attrs(s)?)],
    ))
}

pub fn set_service(s: &Service) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::SET_SERVICE,
        vec![CmdAttr::Service(service_attrs(s)?)],
    ))
}

pub fn del_service(key: &ServiceKey) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::DEL_SERVICE,
        vec![CmdAttr::Service(service_identity(key)?)],
    ))
}

/// GET_SERVICE: with NLM_F_DUMP every service, without one service.
pub fn get_services() -> IpvsMessage {
    IpvsMessage::new(cmd::GET_SERVICE, vec![])
}

pub fn get_service(key: &ServiceKey) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::GET_SERVICE,
        vec![CmdAttr::Service(service_identity(key)?)],
    ))
}

/// GET_DEST (dump only).
pub fn get_dests(key: &ServiceKey) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::GET_DEST,
        vec![CmdAttr::Service(service_identity(key)?)],
    ))
}

pub fn new_dest(key: &ServiceKey, d: &Dest) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::NEW_DEST,
        vec![
            CmdAttr::Service(service_identity(key)?),
            CmdAttr::Dest(dest_attrs(d)),
        ],
    ))
}

pub fn set_dest(key: &ServiceKey, d: &Dest) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::SET_DEST,
        vec![
            CmdAttr::Service(service_identity(key)?),
            CmdAttr::Dest(dest_attrs(d)),
        ],
    ))
}

pub fn del_dest(key: &ServiceKey, addr: IpAddr, port: u16) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::DEL_DEST,
        vec![
            CmdAttr::Service(service_identity(key)?),
            CmdAttr::Dest(dest_identity(addr, port)),
        ],
    ))
}

/// The DAEMON nest NEW_DAEMON needs: STATE, MCAST_IFN and SYNC_ID, then
/// the optional settings that are set.
pub fn daemon_attrs(d: &SyncDaemon) -> Result<Vec<DaemonAttr>, IpvsError> {
    check_name("sync daemon interface", &d.interface, IFNAME_MAX)?;
    if d.sync_id > SYNC_ID_MAX {
        return Err(IpvsError::Invalid(format!(
            "sync id {}: 0 to {SYNC_ID_MAX} (sync messages carry one byte)",
            d.sync_id
        )));
    }
    let mut attrs = vec![
        DaemonAttr::State(d.state.to_raw()),
        DaemonAttr::McastIfn(d.interface.clone()),
        DaemonAttr::SyncId(d.sync_id),
    ];
    if let Some(v) = d.maxlen {
        attrs.push(DaemonAttr::SyncMaxlen(v));
    }
    match d.group {
        None => {}
        // The kernel answers EINVAL for any other address.
        Some(g) if !g.is_multicast() => {
            return Err(IpvsError::Invalid(format!(
                "sync daemon group {g}: not a multicast address"
            )))
        }
        Some(IpAddr::V4(g)) => attrs.push(DaemonAttr::McastGroup(g)),
        Some(IpAddr::V6(g)) => attrs.push(DaemonAttr::McastGroup6(g)),
    }
    if let Some(v) = d.port {
        attrs.push(DaemonAttr::McastPort(v));
    }
    if let Some(v) = d.ttl {
        attrs.push(DaemonAttr::McastTtl(v));
    }
    Ok(attrs)
}

pub fn new_daemon(d: &SyncDaemon) -> Result<IpvsMessage, IpvsError> {
    Ok(IpvsMessage::new(
        cmd::NEW_DAEMON,
        vec![CmdAttr::Daemon(daemon_attrs(d)?)],
    ))
}

/// DEL_DAEMON: STATE alone, all the kernel reads (keepalived adds SYNC_ID,
/// which it ignores: a namespace has one daemon per state).
pub fn del_daemon(state: SyncState) -> IpvsMessage {
    IpvsMessage::new(
        cmd::DEL_DAEMON,
        vec![CmdAttr::Daemon(vec![DaemonAttr::State(state.to_raw())])],
    )
}

/// GET_DAEMON (dump only).
pub fn get_daemons() -> IpvsMessage {
    IpvsMessage::new(cmd::GET_DAEMON, vec![])
}

pub fn flush() -> IpvsMessage {
    IpvsMessage::new(cmd::FLUSH, vec![])
}

pub fn get_info() -> IpvsMessage {
    IpvsMessage::new(cmd::GET_INFO, vec![])
}

/// A whole netlink request as the client sends it (NLM_F_REQUEST|ACK, and
/// DUMP for dumps).
pub fn request_bytes(msg: IpvsMessage, family_id: u16, seq: u32, dump: bool) -> Vec<u8> {
    use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
    let mut genl = GenlMessage::from_payload(msg);
    genl.set_resolved_family_id(family_id);
    let mut nl = NetlinkMessage::from(genl);
    nl.header.flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
    nl.header.sequence_number = seq;
    nl.finalize();
    let mut buf = vec![0u8; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

// ---- replies ----

/// One whole netlink message holding an IPVS payload (not an error or a
/// done message).
pub fn parse_message(bytes: &[u8]) -> Result<IpvsMessage, IpvsError> {
    let msg = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(bytes)?;
    match msg.payload {
        NetlinkPayload::InnerMessage(m) => Ok(m.payload),
        other => Err(IpvsError::Decode(format!("not an IPVS message: {other:?}"))),
    }
}

/// The messages of one datagram answering request `seq` (bytes `request`),
/// and whether the answer is complete (its ACK or NLMSG_DONE came). A
/// kernel error becomes the IpvsError it means.
pub fn read_replies(
    datagram: &[u8],
    seq: u32,
    request: &[u8],
) -> Result<(Vec<(NetlinkHeader, IpvsMessage)>, bool), IpvsError> {
    let mut out = Vec::new();
    for (header, bytes) in split_messages(datagram)? {
        match genl::decode_reply::<IpvsMessage>(&header, bytes, seq)
            .map_err(|e| classify(request, e))?
        {
            None => {}
            Some(Reply::Message(h, m)) => out.push((h, m)),
            Some(Reply::Ack) | Some(Reply::Done) => return Ok((out, true)),
        }
    }
    Ok((out, false))
}

/// The IpvsError a kernel error means for this request: ENOENT on adding
/// or editing a service is about its scheduler or persistence engine;
/// EEXIST, ESRCH and ENODEV on starting or stopping a sync daemon are
/// about the daemon (start_sync_thread, stop_sync_thread).
pub(crate) fn classify(request: &[u8], e: NlError) -> IpvsError {
    if let NlError::Kernel(k) = &e {
        if let Some(daemon) = classify_daemon(request, k.errno) {
            return daemon;
        }
    }
    if matches!(&e, NlError::Kernel(k) if k.errno == libc::ENOENT) {
        if let Ok(req) = parse_message(request) {
            if req.cmd == cmd::NEW_SERVICE || req.cmd == cmd::SET_SERVICE {
                let nest = req.service_nest().unwrap_or_default();
                let mut scheduler = String::new();
                let mut engine = None;
                for a in nest {
                    match a {
                        SvcAttr::SchedName(s) => scheduler = s.clone(),
                        SvcAttr::PeName(p) => engine = Some(p.clone()),
                        _ => {}
                    }
                }
                return IpvsError::UnknownScheduler { scheduler, engine };
            }
        }
    }
    IpvsError::from_netlink(e)
}

fn classify_daemon(request: &[u8], errno: i32) -> Option<IpvsError> {
    if !matches!(errno, libc::EEXIST | libc::ESRCH | libc::ENODEV) {
        return None;
    }
    let req = parse_message(request).ok()?;
    let nest = req.daemon_nest()?;
    let state = nest.iter().find_map(|a| match a {
        DaemonAttr::State(s) => SyncState::from_raw(*s),
        _ => None,
    })?;
    match (req.cmd, errno) {
        (cmd::NEW_DAEMON, libc::EEXIST) => Some(IpvsError::DaemonRunning(state)),
        (cmd::NEW_DAEMON, libc::ENODEV) => nest.iter().find_map(|a| match a {
            DaemonAttr::McastIfn(i) => Some(IpvsError::NoSuchInterface(i.clone())),
            _ => None,
        }),
        (cmd::DEL_DAEMON, libc::ESRCH) => Some(IpvsError::DaemonNotRunning(state)),
        _ => None,
    }
}

fn need<T>(v: Option<T>, what: &str) -> Result<T, IpvsError> {
    v.ok_or_else(|| IpvsError::Decode(format!("reply lacks {what}")))
}

fn ip_of(family: Family, raw: &[u8]) -> Result<IpAddr, IpvsError> {
    match (family, raw.len()) {
        (Family::Inet, 4 | 16) => Ok(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
        (Family::Inet6, 16) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(raw);
            Ok(IpAddr::V6(Ipv6Addr::from(o)))
        }
        (f, n) => Err(IpvsError::Decode(format!("an {f} address of {n} bytes"))),
    }
}

/// A service from a NEW_SERVICE message (a dump's or GET_SERVICE's).
pub fn decode_service(msg: &IpvsMessage) -> Result<Service, IpvsError> {
    let nest = need(msg.service_nest(), "the SERVICE attribute")?;
    let (mut af, mut proto, mut addr, mut port, mut mark) = (None, None, None, None, None);
    let (mut sched, mut flags, mut timeout, mut netmask, mut pe) = (None, None, None, None, None);
    for a in nest {
        match a {
            SvcAttr::Af(v) => af = Some(*v),
            SvcAttr::Protocol(v) => proto = Some(*v),
            SvcAttr::Addr(v) => addr = Some(v.as_slice()),
            SvcAttr::Port(v) => port = Some(*v),
            SvcAttr::Fwmark(v) => mark = Some(*v),
            SvcAttr::SchedName(v) => sched = Some(v.clone()),
            SvcAttr::Flags { flags: f, .. } => flags = Some(*f),
            SvcAttr::Timeout(v) => timeout = Some(*v),
            SvcAttr::Netmask(v) => netmask = Some(*v),
            SvcAttr::PeName(v) => pe = Some(v.clone()),
            SvcAttr::Other(_) => {}
        }
    }
    let raw_af = need(af, "the service's AF")?;
    let family = Family::from_raw(raw_af)
        .ok_or_else(|| IpvsError::Decode(format!("unknown address family {raw_af}")))?;
    let key = match mark {
        // The kernel sends FWMARK only for fwmark services (mark != 0).
        Some(mark) if mark != 0 => ServiceKey::Fwmark { family, mark },
        _ => {
            let raw_proto = need(proto, "the service's PROTOCOL")?;
            ServiceKey::Addr {
                protocol: Protocol::from_raw(raw_proto).ok_or_else(|| {
                    IpvsError::Decode(format!("unknown service protocol {raw_proto}"))
                })?,
                addr: ip_of(family, need(addr, "the service's ADDR")?)?,
                port: need(port, "the service's PORT")?,
            }
        }
    };
    let flags = need(flags, "the service's FLAGS")?;
    let persistence = if flags & uapi::IP_VS_SVC_F_PERSISTENT != 0 {
        let raw = need(netmask, "the service's NETMASK")?;
        let netmask = match family {
            Family::Inet => canonical_ipv4_mask(u32::from_be_bytes(raw)),
            Family::Inet6 => canonical_netmask(family, Some(u32::from_ne_bytes(raw))),
        };
        Some(Persistence {
            timeout_s: need(timeout, "the service's TIMEOUT")?,
            netmask,
            engine: pe,
        })
    } else {
        None
    };
    Ok(Service {
        key,
        scheduler: need(sched, "the service's SCHED_NAME")?,
        persistence,
        ops: flags & uapi::IP_VS_SVC_F_ONEPACKET != 0,
        sched_flags: SchedFlags::from_bits_truncate(flags),
    })
}

/// A destination from a NEW_DEST message of a dump; `service_family` is
/// its family when the kernel (before 3.18) does not say.
pub fn decode_dest(msg: &IpvsMessage, service_family: Family) -> Result<DestEntry, IpvsError> {
    let nest = need(msg.dest_nest(), "the DEST attribute")?;
    let (mut addr, mut port, mut fwd, mut weight, mut u, mut l) =
        (None, None, None, None, None, None);
    let (mut active, mut inact, mut persist, mut af) = (0, 0, 0, None);
    let mut tunnel = Tunnel::default();
    let mut tun_flags = 0u16;
    for a in nest {
        match a {
            DestAttr::Addr(v) => addr = Some(v.as_slice()),
            DestAttr::Port(v) => port = Some(*v),
            DestAttr::FwdMethod(v) => fwd = Some(*v),
            DestAttr::Weight(v) => weight = Some(*v),
            DestAttr::UThresh(v) => u = Some(*v),
            DestAttr::LThresh(v) => l = Some(*v),
            DestAttr::ActiveConns(v) => active = *v,
            DestAttr::InactConns(v) => inact = *v,
            DestAttr::PersistConns(v) => persist = *v,
            DestAttr::AddrFamily(v) => af = Some(*v),
            DestAttr::TunType(v) => tunnel.kind = TunnelKind::from_raw(*v),
            DestAttr::TunPort(v) => tunnel.port = *v,
            DestAttr::TunFlags(v) => tun_flags = *v,
            DestAttr::Other(_) => {}
        }
    }
    let family = match af {
        None => service_family,
        Some(raw) => Family::from_raw(raw)
            .ok_or_else(|| IpvsError::Decode(format!("unknown address family {raw}")))?,
    };
    tunnel.csum = u32::from(tun_flags) & uapi::IP_VS_TUNNEL_ENCAP_FLAG_CSUM != 0;
    tunnel.remcsum = u32::from(tun_flags) & uapi::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM != 0;
    let raw_fwd = need(fwd, "the destination's FWD_METHOD")?;
    Ok(DestEntry {
        dest: Dest {
            addr: ip_of(family, need(addr, "the destination's ADDR")?)?,
            port: need(port, "the destination's PORT")?,
            forward: Forward::from_raw(raw_fwd)
                .ok_or_else(|| IpvsError::Decode(format!("unknown forwarding method {raw_fwd}")))?,
            weight: need(weight, "the destination's WEIGHT")?,
            upper_threshold: need(u, "the destination's U_THRESH")?,
            lower_threshold: need(l, "the destination's L_THRESH")?,
            tunnel,
        },
        active_conns: active,
        inactive_conns: inact,
        persistent_conns: persist,
    })
}

/// GET_INFO's answer (a SET_INFO message).
pub fn decode_info(msg: &IpvsMessage) -> Result<Info, IpvsError> {
    let mut version = None;
    let mut size = None;
    for a in &msg.attrs {
        match a {
            CmdAttr::InfoVersion(v) => version = Some(*v),
            CmdAttr::InfoConnTabSize(v) => size = Some(*v),
            _ => {}
        }
    }
    let v = need(version, "the VERSION attribute")?;
    Ok(Info {
        version: ((v >> 16) as u8, (v >> 8) as u8, v as u8),
        conn_tab_size: need(size, "the CONN_TAB_SIZE attribute")?,
    })
}

/// A sync daemon from a NEW_DAEMON message of a GET_DAEMON dump. Kernels
/// before 4.3 send STATE, MCAST_IFN and SYNC_ID only: the rest is None.
pub fn decode_daemon(msg: &IpvsMessage) -> Result<SyncDaemon, IpvsError> {
    let nest = need(msg.daemon_nest(), "the DAEMON attribute")?;
    let (mut state, mut ifn, mut id) = (None, None, None);
    let mut d = SyncDaemon::new(SyncState::Master, "", 0);
    for a in nest {
        match a {
            DaemonAttr::State(v) => state = Some(*v),
            DaemonAttr::McastIfn(v) => ifn = Some(v.clone()),
            DaemonAttr::SyncId(v) => id = Some(*v),
            DaemonAttr::SyncMaxlen(v) => d.maxlen = Some(*v),
            DaemonAttr::McastGroup(v) => d.group = Some(IpAddr::V4(*v)),
            DaemonAttr::McastGroup6(v) => d.group = Some(IpAddr::V6(*v)),
            DaemonAttr::McastPort(v) => d.port = Some(*v),
            DaemonAttr::McastTtl(v) => d.ttl = Some(*v),
            DaemonAttr::Other(_) => {}
        }
    }
    let raw = need(state, "the daemon's STATE")?;
    d.state = SyncState::from_raw(raw)
        .ok_or_else(|| IpvsError::Decode(format!("unknown sync daemon state {raw}")))?;
    d.interface = need(ifn, "the daemon's MCAST_IFN")?;
    d.sync_id = need(id, "the daemon's SYNC_ID")?;
    Ok(d)
}
