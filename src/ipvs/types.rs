//! The IPVS table as values: services, their keys and their destinations;
//! and the connection-sync daemons.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use super::uapi;

/// A virtual service's transport protocol (the IPPROTO_* numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub fn to_raw(self) -> u16 {
        (match self {
            Protocol::Tcp => libc::IPPROTO_TCP,
            Protocol::Udp => libc::IPPROTO_UDP,
            Protocol::Sctp => libc::IPPROTO_SCTP,
        }) as u16
    }

    /// None for a protocol IPVS has no handler for.
    pub fn from_raw(raw: u16) -> Option<Protocol> {
        match i32::from(raw) {
            libc::IPPROTO_TCP => Some(Protocol::Tcp),
            libc::IPPROTO_UDP => Some(Protocol::Udp),
            libc::IPPROTO_SCTP => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// As ipvsadm prints it: "TCP", "UDP", "SCTP".
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = String;
    /// "tcp", "udp", "sctp", in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "sctp" => Ok(Protocol::Sctp),
            _ => Err(format!("unknown protocol {s:?} (tcp, udp or sctp)")),
        }
    }
}

/// An address family (AF_INET, AF_INET6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }

    pub fn to_raw(self) -> u16 {
        (match self {
            Family::Inet => libc::AF_INET,
            Family::Inet6 => libc::AF_INET6,
        }) as u16
    }

    pub fn from_raw(raw: u16) -> Option<Family> {
        match i32::from(raw) {
            libc::AF_INET => Some(Family::Inet),
            libc::AF_INET6 => Some(Family::Inet6),
            _ => None,
        }
    }

    /// The longest prefix: the persistence granularity of one client.
    pub fn max_prefix(self) -> u32 {
        match self {
            Family::Inet => 32,
            Family::Inet6 => 128,
        }
    }
}

impl fmt::Display for Family {
    /// "IPv4", "IPv6", as in ipvsadm's "FWM 5 IPv6".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Inet => "IPv4",
            Family::Inet6 => "IPv6",
        })
    }
}

impl FromStr for Family {
    type Err = String;
    /// "inet"/"ipv4"/"4" or "inet6"/"ipv6"/"6".
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "inet" | "ipv4" | "4" => Ok(Family::Inet),
            "inet6" | "ipv6" | "6" => Ok(Family::Inet6),
            _ => Err(format!("unknown address family {s:?} (inet or inet6)")),
        }
    }
}

/// What identifies a virtual service in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// protocol + address + port (port 0: every port, with persistence).
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    /// A firewall mark set by netfilter, per address family.
    Fwmark { family: Family, mark: u32 },
}

impl ServiceKey {
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Addr { addr, .. } => Family::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    pub fn tcp(addr: IpAddr, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr,
            port,
        }
    }

    pub fn udp(addr: IpAddr, port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr,
            port,
        }
    }

    pub fn fwmark(family: Family, mark: u32) -> ServiceKey {
        ServiceKey::Fwmark { family, mark }
    }
}

impl fmt::Display for ServiceKey {
    /// Like ipvsadm -Ln: `TCP 10.0.0.1:80`, `TCP [fd00::1]:80`, `FWM 5 IPv4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V4(a),
                port,
            } => write!(f, "{protocol} {a}:{port}"),
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V6(a),
                port,
            } => write!(f, "{protocol} [{a}]:{port}"),
            ServiceKey::Fwmark { family, mark } => write!(f, "FWM {mark} {family}"),
        }
    }
}

/// Persistence: a client keeps its destination for `timeout_s` after its
/// last connection (ipvsadm -p, keepalived persistence_timeout).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Persistence {
    pub timeout_s: u32,
    /// The granularity (ipvsadm -M, keepalived persistence_granularity):
    /// clients in one network share a destination. IPv4: a prefix length
    /// 0..=32, or a mask as a number (0xffff_ff00 = 255.255.255.0); IPv6:
    /// a prefix length 1..=128. None: each client on its own (/32, /128).
    pub netmask: Option<u32>,
    /// A persistence engine (`sip`: module ip_vs_pe_sip), None for none.
    pub engine: Option<String>,
}

impl Persistence {
    pub fn new(timeout_s: u32) -> Persistence {
        Persistence {
            timeout_s,
            netmask: None,
            engine: None,
        }
    }

    pub fn with_netmask(mut self, netmask: u32) -> Persistence {
        self.netmask = Some(netmask);
        self
    }
}

/// The scheduler-specific service flags (IP_VS_SVC_F_SCHED1..3); their
/// meaning depends on the scheduler (`sh`, `mh`: fallback, port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct SchedFlags(u32);

impl SchedFlags {
    pub const NONE: SchedFlags = SchedFlags(0);
    pub const FLAG1: SchedFlags = SchedFlags(uapi::IP_VS_SVC_F_SCHED1);
    pub const FLAG2: SchedFlags = SchedFlags(uapi::IP_VS_SVC_F_SCHED2);
    pub const FLAG3: SchedFlags = SchedFlags(uapi::IP_VS_SVC_F_SCHED3);
    /// sh: when the chosen destination is unavailable, try another.
    pub const SH_FALLBACK: SchedFlags = SchedFlags(uapi::IP_VS_SVC_F_SCHED_SH_FALLBACK);
    /// sh: hash the source port too.
    pub const SH_PORT: SchedFlags = SchedFlags(uapi::IP_VS_SVC_F_SCHED_SH_PORT);
    /// mh: the same bits as sh's (ip_vs_mh.c defines them as SCHED1/2; the
    /// uapi header does not name them).
    pub const MH_FALLBACK: SchedFlags = SchedFlags(uapi::IP_VS_SVC_F_SCHED1);
    pub const MH_PORT: SchedFlags = SchedFlags(uapi::IP_VS_SVC_F_SCHED2);
    pub const ALL: SchedFlags =
        SchedFlags(uapi::IP_VS_SVC_F_SCHED1 | uapi::IP_VS_SVC_F_SCHED2 | uapi::IP_VS_SVC_F_SCHED3);

    /// The bits as in the service flags word.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Keeps only the scheduler bits.
    pub fn from_bits_truncate(bits: u32) -> SchedFlags {
        SchedFlags(bits & Self::ALL.0)
    }

    pub fn contains(self, other: SchedFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for SchedFlags {
    type Output = SchedFlags;
    fn bitor(self, rhs: SchedFlags) -> SchedFlags {
        SchedFlags(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for SchedFlags {
    fn bitor_assign(&mut self, rhs: SchedFlags) {
        self.0 |= rhs.0;
    }
}

/// A virtual service and its settings.
///
/// Equality and hashing are by meaning, on the [`Service::canonical`] form:
/// an IPv4 netmask of 24 equals 0xffff_ff00, and `None` equals the whole
/// address (/32, /128), so a desired table compares right with what
/// [`Ipvs::services`](super::Ipvs::services) read back.
#[derive(Debug, Clone)]
pub struct Service {
    pub key: ServiceKey,
    /// rr, wlc, sh, mh... (module `ip_vs_<name>`, autoloaded); "none" for no
    /// scheduler. At most 15 bytes.
    pub scheduler: String,
    pub persistence: Option<Persistence>,
    /// One-packet scheduling (ipvsadm -o, keepalived ops): each UDP
    /// datagram is scheduled on its own.
    pub ops: bool,
    pub sched_flags: SchedFlags,
}

impl Service {
    pub fn new(key: ServiceKey, scheduler: &str) -> Service {
        Service {
            key,
            scheduler: scheduler.to_owned(),
            persistence: None,
            ops: false,
            sched_flags: SchedFlags::NONE,
        }
    }

    pub fn with_persistence(mut self, p: Persistence) -> Service {
        self.persistence = Some(p);
        self
    }

    /// The same service in the one form the kernel's answer decodes to:
    /// IPv4 netmasks as prefix lengths when contiguous, the full-length
    /// netmask as None.
    pub fn canonical(&self) -> Service {
        let family = self.key.family();
        let mut s = self.clone();
        if let Some(p) = &mut s.persistence {
            p.netmask = canonical_netmask(family, p.netmask);
        }
        s
    }
}

/// See [`Service::canonical`].
pub(crate) fn canonical_netmask(family: Family, netmask: Option<u32>) -> Option<u32> {
    match family {
        Family::Inet => canonical_ipv4_mask(ipv4_mask(netmask)),
        Family::Inet6 => netmask.filter(|&n| n != 128),
    }
}

/// An IPv4 mask as a netmask field: None for /32, a prefix length when
/// contiguous, else the mask itself.
pub(crate) fn canonical_ipv4_mask(mask: u32) -> Option<u32> {
    if mask == u32::MAX {
        None
    } else if mask.leading_ones() + mask.trailing_zeros() == 32 {
        Some(mask.leading_ones())
    } else {
        Some(mask)
    }
}

/// The IPv4 mask a netmask field means (a prefix length up to 32, else a
/// mask).
pub(crate) fn ipv4_mask(netmask: Option<u32>) -> u32 {
    match netmask {
        None => u32::MAX,
        Some(0) => 0,
        Some(n) if n <= 32 => u32::MAX << (32 - n),
        Some(mask) => mask,
    }
}

impl PartialEq for Service {
    fn eq(&self, other: &Service) -> bool {
        let (a, b) = (self.canonical(), other.canonical());
        a.key == b.key
            && a.scheduler == b.scheduler
            && a.persistence == b.persistence
            && a.ops == b.ops
            && a.sched_flags == b.sched_flags
    }
}

impl Eq for Service {}

impl Hash for Service {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let c = self.canonical();
        c.key.hash(state);
        c.scheduler.hash(state);
        c.persistence.hash(state);
        c.ops.hash(state);
        c.sched_flags.hash(state);
    }
}

/// How packets reach a destination (keepalived's lvs_method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Forward {
    /// NAT (ipvsadm -m, "Masq").
    Masq,
    /// The director itself ("Local").
    Local,
    /// IP-in-IP, GUE or GRE tunnel (ipvsadm -i, TUN; see [`Tunnel`]).
    Tunnel,
    /// Direct routing (ipvsadm -g, DR, "Route").
    Route,
}

impl Forward {
    pub fn to_raw(self) -> u32 {
        match self {
            Forward::Masq => uapi::IP_VS_CONN_F_MASQ,
            Forward::Local => uapi::IP_VS_CONN_F_LOCALNODE,
            Forward::Tunnel => uapi::IP_VS_CONN_F_TUNNEL,
            Forward::Route => uapi::IP_VS_CONN_F_DROUTE,
        }
    }

    /// From the low bits of the connection flags (IP_VS_CONN_F_FWD_MASK).
    pub fn from_raw(raw: u32) -> Option<Forward> {
        match raw & uapi::IP_VS_CONN_F_FWD_MASK {
            uapi::IP_VS_CONN_F_MASQ => Some(Forward::Masq),
            uapi::IP_VS_CONN_F_LOCALNODE => Some(Forward::Local),
            uapi::IP_VS_CONN_F_TUNNEL => Some(Forward::Tunnel),
            uapi::IP_VS_CONN_F_DROUTE => Some(Forward::Route),
            _ => None,
        }
    }

    /// As ipvsadm -Ln prints it.
    pub fn name(self) -> &'static str {
        match self {
            Forward::Masq => "Masq",
            Forward::Local => "Local",
            Forward::Tunnel => "Tunnel",
            Forward::Route => "Route",
        }
    }
}

impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Forward {
    type Err = String;
    /// keepalived's and ipvsadm's words: nat/masq, dr/route/gate,
    /// tun/tunnel/ipip, local.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "nat" | "masq" => Ok(Forward::Masq),
            "dr" | "route" | "gate" | "droute" => Ok(Forward::Route),
            "tun" | "tunnel" | "ipip" => Ok(Forward::Tunnel),
            "local" | "localnode" => Ok(Forward::Local),
            _ => Err(format!(
                "unknown forwarding method {s:?} (nat, dr, tun or local)"
            )),
        }
    }
}

/// The encapsulation of a tunnelled destination (kernel 5.2+; older
/// kernels ignore it and use IPIP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum TunnelKind {
    #[default]
    Ipip,
    /// UDP (needs [`Tunnel::port`]).
    Gue,
    Gre,
    /// A type this library does not know (a newer kernel).
    Other(u8),
}

impl TunnelKind {
    pub fn to_raw(self) -> u8 {
        match self {
            TunnelKind::Ipip => uapi::IP_VS_CONN_F_TUNNEL_TYPE_IPIP as u8,
            TunnelKind::Gue => uapi::IP_VS_CONN_F_TUNNEL_TYPE_GUE as u8,
            TunnelKind::Gre => uapi::IP_VS_CONN_F_TUNNEL_TYPE_GRE as u8,
            TunnelKind::Other(n) => n,
        }
    }

    pub fn from_raw(raw: u8) -> TunnelKind {
        match u32::from(raw) {
            uapi::IP_VS_CONN_F_TUNNEL_TYPE_IPIP => TunnelKind::Ipip,
            uapi::IP_VS_CONN_F_TUNNEL_TYPE_GUE => TunnelKind::Gue,
            uapi::IP_VS_CONN_F_TUNNEL_TYPE_GRE => TunnelKind::Gre,
            _ => TunnelKind::Other(raw),
        }
    }
}

/// Tunnel settings of a destination; the default (IPIP, no checksums) is
/// what every kernel does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Tunnel {
    pub kind: TunnelKind,
    /// GUE's destination UDP port.
    pub port: u16,
    /// IP_VS_TUNNEL_ENCAP_FLAG_CSUM.
    pub csum: bool,
    /// IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM (GUE).
    pub remcsum: bool,
}

impl Tunnel {
    pub fn is_default(&self) -> bool {
        *self == Tunnel::default()
    }

    pub fn flags(&self) -> u16 {
        let mut f = uapi::IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
        if self.csum {
            f |= uapi::IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
        }
        if self.remcsum {
            f |= uapi::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
        }
        f as u16
    }
}

/// A destination (real server) of a service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dest {
    /// May differ in family from the service only with [`Forward::Tunnel`]
    /// (kernel 3.18+).
    pub addr: IpAddr,
    pub port: u16,
    pub forward: Forward,
    /// 0 stops new connections (keepalived's inhibit_on_failure); the
    /// kernel refuses a negative one (ERANGE).
    pub weight: i32,
    /// Stop scheduling above this many connections; 0: no limit.
    pub upper_threshold: u32,
    /// Resume below this many; 0: no limit.
    pub lower_threshold: u32,
    pub tunnel: Tunnel,
}

impl Dest {
    pub fn new(addr: IpAddr, port: u16, forward: Forward, weight: i32) -> Dest {
        Dest {
            addr,
            port,
            forward,
            weight,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel: Tunnel::default(),
        }
    }
}

/// A destination with its connection counters, as a dump reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DestEntry {
    pub dest: Dest,
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
}

/// The kernel's IPVS version and connection table size (ipvsadm's first
/// line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Info {
    /// (major, minor, patch), e.g. (1, 2, 1).
    pub version: (u8, u8, u8),
    pub conn_tab_size: u32,
}

/// One change of the IPVS table ([`Ipvs::apply`](super::Ipvs::apply)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    AddService(Service),
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Dest),
    EditDest(ServiceKey, Dest),
    DelDest(ServiceKey, IpAddr, u16),
}

/// What a connection-sync daemon does (IP_VS_STATE_*): a master sends the
/// connection table, a backup receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SyncState {
    Master,
    Backup,
}

impl SyncState {
    pub fn to_raw(self) -> u32 {
        match self {
            SyncState::Master => uapi::IP_VS_STATE_MASTER,
            SyncState::Backup => uapi::IP_VS_STATE_BACKUP,
        }
    }

    /// None for anything but exactly one of the two (the kernel's
    /// sync_state is a bit set, but each daemon reports one bit).
    pub fn from_raw(raw: u32) -> Option<SyncState> {
        match raw {
            uapi::IP_VS_STATE_MASTER => Some(SyncState::Master),
            uapi::IP_VS_STATE_BACKUP => Some(SyncState::Backup),
            _ => None,
        }
    }

    /// As ipvsadm --start-daemon takes it: "master", "backup".
    pub fn name(self) -> &'static str {
        match self {
            SyncState::Master => "master",
            SyncState::Backup => "backup",
        }
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SyncState {
    type Err = String;
    /// "master" or "backup", in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "master" => Ok(SyncState::Master),
            "backup" => Ok(SyncState::Backup),
            _ => Err(format!(
                "unknown sync daemon state {s:?} (master or backup)"
            )),
        }
    }
}

/// An IPVS connection-sync daemon (ipvsadm --start-daemon, keepalived's
/// lvs_sync_daemon): kernel threads that multicast the connection table
/// (master) or take it in (backup) on one interface. A network namespace
/// runs at most one of each state.
///
/// The optional settings are None for the kernel's default, and are sent
/// only when set (as keepalived does); 0 also means the default to the
/// kernel. The kernel reports its settings with the defaults filled in
/// (start_sync_thread in net/netfilter/ipvs/ip_vs_sync.c), so what
/// [`Ipvs::daemons`](super::Ipvs::daemons) reads back has them all set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    pub state: SyncState,
    /// The multicast interface (1 to 15 bytes). It must exist; a master
    /// with an IPv4 group sends from the interface's primary IPv4 address
    /// (bind_mcastif_addr), so it should have one.
    pub interface: String,
    /// The sync id, 0 to 255: the sync messages carry one byte of it, and
    /// a backup drops messages of other ids (0: takes every id).
    pub sync_id: u32,
    /// The largest sync message (UDP payload), clamped by the kernel. None:
    /// an MTU minus the IP and UDP headers, the MTU being 1500 for a master
    /// and the interface's (at least 1500) for a backup: a master's is 1472
    /// over IPv4.
    pub maxlen: Option<u16>,
    /// The multicast group, IPv4 or IPv6 (a multicast address). None:
    /// [`SyncDaemon::DEFAULT_GROUP`].
    pub group: Option<IpAddr>,
    /// The first UDP port (sync thread N uses port + N). None:
    /// [`SyncDaemon::DEFAULT_PORT`].
    pub port: Option<u16>,
    /// The multicast TTL (IPv6: hop limit). None: 1.
    pub ttl: Option<u8>,
}

impl SyncDaemon {
    /// IP_VS_SYNC_GROUP of ip_vs_sync.c.
    pub const DEFAULT_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
    /// IP_VS_SYNC_PORT of ip_vs_sync.c.
    pub const DEFAULT_PORT: u16 = 8848;
    pub const DEFAULT_TTL: u8 = 1;

    /// A daemon with the kernel's defaults for everything optional.
    pub fn new(state: SyncState, interface: &str, sync_id: u32) -> SyncDaemon {
        SyncDaemon {
            state,
            interface: interface.to_owned(),
            sync_id,
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
        }
    }
}
