//! The few rtnetlink requests VRRP needs: find an interface (index, MAC,
//! up or not), list its addresses, add and remove one, and the same for
//! routes (`route`) and rules (`rule`). netlink-packet-route
//! builds and parses the messages; the library's transport carries them.
//! Blocking requests: the daemon makes them off its event loop.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use crate::netlink::{transact, NlError, NlSocket};

pub mod macvlan;
pub mod monitor;
pub mod route;
pub mod rule;

pub use route::Route;
pub use rule::Rule;

/// A request the kernel does not answer within this is reported as failed.
const TIMEOUT: Duration = Duration::from_secs(5);

/// An interface, as VRRP needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// Its hardware address (none for interfaces without one, like lo).
    pub mac: Option<[u8; 6]>,
    /// IFF_UP and IFF_RUNNING: administratively up with a carrier.
    pub running: bool,
    /// IFLA_INFO_KIND: "macvlan", "veth"…; none for a physical one.
    pub kind: Option<String>,
    /// IFLA_LINK: the interface it sits on (a macvlan's base).
    pub parent: Option<u32>,
}

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// IPv4 only.
    pub broadcast: Option<Ipv4Addr>,
    /// IPv4 only: `eth0:vip` style labels.
    pub label: Option<String>,
    pub scope: Scope,
    /// IFA_F_* (read: as the kernel reports them; written: as given, with
    /// IFA_F_NODAD for a virtual IPv6 address).
    pub flags: u32,
    /// The other end of a point-to-point address (IFA_ADDRESS).
    pub peer: Option<IpAddr>,
    /// IPv6: the preferred lifetime in seconds (0: deprecated, never
    /// chosen as a source address; u32::MAX: forever); the valid one is
    /// forever. None: the kernel's default.
    pub preferred_lft: Option<u32>,
}

/// IFA_F_SECONDARY.
pub const IFA_F_SECONDARY: u32 = 0x01;
/// IFA_F_NODAD.
pub const IFA_F_NODAD: u32 = 0x02;

impl Addr {
    /// Not the interface's primary address of its subnet.
    pub fn is_secondary(&self) -> bool {
        self.flags & IFA_F_SECONDARY != 0
    }
}

/// The address scopes `ip addr` knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    Other(u8),
}

impl Scope {
    /// From the number `ip addr` and keepalived's `scope` take (RT_SCOPE_*).
    pub fn from_raw(n: u8) -> Scope {
        match n {
            0 => Scope::Global,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            n => Scope::Other(n),
        }
    }
}

impl From<Scope> for AddressScope {
    fn from(s: Scope) -> AddressScope {
        match s {
            Scope::Global => AddressScope::Universe,
            Scope::Site => AddressScope::Site,
            Scope::Link => AddressScope::Link,
            Scope::Host => AddressScope::Host,
            Scope::Nowhere => AddressScope::Nowhere,
            Scope::Other(n) => AddressScope::Other(n),
        }
    }
}

impl From<AddressScope> for Scope {
    fn from(s: AddressScope) -> Scope {
        match s {
            AddressScope::Universe => Scope::Global,
            AddressScope::Site => Scope::Site,
            AddressScope::Link => Scope::Link,
            AddressScope::Host => Scope::Host,
            AddressScope::Nowhere => Scope::Nowhere,
            AddressScope::Other(n) => Scope::Other(n),
            _ => Scope::Other(u8::from(s)),
        }
    }
}

pub type Result<T> = std::result::Result<T, NlError>;

pub struct Rtnl {
    sock: NlSocket,
}

impl Rtnl {
    pub fn connect() -> std::io::Result<Rtnl> {
        let sock = NlSocket::new(NETLINK_ROUTE)?;
        sock.set_read_timeout(TIMEOUT)?;
        Ok(Rtnl { sock })
    }

    /// The interface called `name`, or None if there is none.
    pub fn link(&mut self, name: &str) -> Result<Option<Link>> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        match transact::<_, RouteNetlinkMessage>(&mut self.sock, RouteNetlinkMessage::GetLink(m), 0)
        {
            Ok(replies) => Ok(replies.into_iter().find_map(|(_, m)| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_of(&l)),
                _ => None,
            })),
            Err(NlError::Kernel(e)) if e.errno == libc::ENODEV => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every link.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let replies = transact::<_, RouteNetlinkMessage>(
            &mut self.sock,
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|(_, m)| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_of(&l)),
                _ => None,
            })
            .collect())
    }

    /// Every address of interface `index` (0: of every interface).
    pub fn addrs(&mut self, index: u32) -> Result<Vec<Addr>> {
        let m = AddressMessage::default();
        let replies = transact::<_, RouteNetlinkMessage>(
            &mut self.sock,
            RouteNetlinkMessage::GetAddress(m),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .into_iter()
            .filter_map(|(_, m)| match m {
                RouteNetlinkMessage::NewAddress(a) => addr_of(&a),
                _ => None,
            })
            .filter(|a| index == 0 || a.index == index)
            .collect())
    }

    /// Add `a`. Ok(false): it was there already (left as it is).
    pub fn add_addr(&mut self, a: &Addr) -> Result<bool> {
        let m = RouteNetlinkMessage::NewAddress(message_of(a));
        match transact::<_, RouteNetlinkMessage>(&mut self.sock, m, NLM_F_CREATE | NLM_F_EXCL) {
            Ok(_) => Ok(true),
            Err(NlError::Kernel(e)) if e.errno == libc::EEXIST => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Remove `a`. Ok(false): it was not there.
    pub fn del_addr(&mut self, a: &Addr) -> Result<bool> {
        let m = RouteNetlinkMessage::DelAddress(message_of(a));
        match transact::<_, RouteNetlinkMessage>(&mut self.sock, m, 0) {
            Ok(_) => Ok(true),
            Err(NlError::Kernel(e))
                // ENODEV: the interface went, and its addresses with it.
                if e.errno == libc::EADDRNOTAVAIL
                    || e.errno == libc::ENOENT
                    || e.errno == libc::ENODEV =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

impl Rtnl {
    /// Add `r` (its interfaces looked up by name first). Ok(false): the
    /// same route was there already.
    pub fn add_route(&mut self, r: &Route) -> Result<bool> {
        // A route through a missing interface waits for it (the caller
        // retries).
        let m = self
            .route_message(r, route::Op::Add)?
            .map_err(|e| NlError::Io(std::io::Error::new(std::io::ErrorKind::NotFound, e)))?;
        match transact::<_, RouteNetlinkMessage>(
            &mut self.sock,
            RouteNetlinkMessage::NewRoute(m),
            r.add_flags(),
        ) {
            Ok(_) => Ok(true),
            Err(NlError::Kernel(e)) if e.errno == libc::EEXIST => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Remove `r`. Ok(false): it was not there (nor its interface).
    pub fn del_route(&mut self, r: &Route) -> Result<bool> {
        let Ok(m) = self.route_message(r, route::Op::Del)? else {
            // Its interface is gone, and the kernel removed the route with it.
            return Ok(false);
        };
        match transact::<_, RouteNetlinkMessage>(
            &mut self.sock,
            RouteNetlinkMessage::DelRoute(m),
            0,
        ) {
            Ok(_) => Ok(true),
            Err(NlError::Kernel(e)) if e.errno == libc::ESRCH || e.errno == libc::ENOENT => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn route_message(
        &mut self,
        r: &Route,
        op: route::Op,
    ) -> Result<std::result::Result<netlink_packet_route::route::RouteMessage, String>> {
        let mut found = Vec::new();
        for d in r.devs() {
            if let Some(l) = self.link(d)? {
                found.push((l.name, l.index));
            }
        }
        Ok(route::message(r, op, |n| {
            found.iter().find(|(f, _)| f == n).map(|(_, i)| *i)
        }))
    }

    /// Add `r`. Ok(false): the same rule was there already.
    pub fn add_rule(&mut self, r: &Rule) -> Result<bool> {
        let m = RouteNetlinkMessage::NewRule(rule::message(r));
        match transact::<_, RouteNetlinkMessage>(&mut self.sock, m, NLM_F_CREATE | NLM_F_EXCL) {
            Ok(_) => Ok(true),
            Err(NlError::Kernel(e)) if e.errno == libc::EEXIST => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Remove `r`. Ok(false): it was not there.
    pub fn del_rule(&mut self, r: &Rule) -> Result<bool> {
        let m = RouteNetlinkMessage::DelRule(rule::message(r));
        match transact::<_, RouteNetlinkMessage>(&mut self.sock, m, 0) {
            Ok(_) => Ok(true),
            Err(NlError::Kernel(e)) if e.errno == libc::ENOENT => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn link_of(l: &LinkMessage) -> Link {
    let mut link = Link {
        index: l.header.index,
        name: String::new(),
        mac: None,
        kind: None,
        parent: None,
        running: l.header.flags.contains(LinkFlags::Up)
            && l.header.flags.contains(LinkFlags::Running),
    };
    for a in &l.attributes {
        match a {
            LinkAttribute::IfName(n) => link.name.clone_from(n),
            LinkAttribute::Address(b) => link.mac = <[u8; 6]>::try_from(b.as_slice()).ok(),
            LinkAttribute::Link(p) => link.parent = Some(*p),
            LinkAttribute::LinkInfo(info) => {
                for i in info {
                    if let netlink_packet_route::link::LinkInfo::Kind(k) = i {
                        link.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    link
}

fn addr_of(m: &AddressMessage) -> Option<Addr> {
    let mut local = None;
    let mut address = None;
    let mut broadcast = None;
    let mut label = None;
    let mut flags = None;
    let mut preferred_lft = None;
    for a in &m.attributes {
        match a {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Broadcast(b) => broadcast = Some(*b),
            AddressAttribute::Label(l) => label = Some(l.clone()),
            AddressAttribute::Flags(f) => flags = Some(f.bits()),
            AddressAttribute::CacheInfo(c) if address.is_some_and(|a: IpAddr| a.is_ipv6()) => {
                preferred_lft = Some(c.ifa_preferred)
            }
            _ => {}
        }
    }
    // IFA_LOCAL is the address itself; IFA_ADDRESS the peer on
    // point-to-point links, and the only one IPv6 sends otherwise.
    let addr = local.or(address)?;
    let peer = address.filter(|a| local.is_some() && *a != addr);
    Some(Addr {
        index: m.header.index,
        addr,
        prefix_len: m.header.prefix_len,
        broadcast,
        label,
        scope: m.header.scope.into(),
        flags: flags.unwrap_or(u32::from(m.header.flags.bits())),
        peer,
        preferred_lft,
    })
}

fn message_of(a: &Addr) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.index = a.index;
    m.header.prefix_len = a.prefix_len;
    m.header.scope = a.scope.into();
    m.header.flags = AddressHeaderFlags::from_bits_retain((a.flags & 0xff) as u8);
    match a.addr {
        IpAddr::V4(_) => {
            m.header.family = AddressFamily::Inet;
            m.attributes.push(AddressAttribute::Local(a.addr));
            m.attributes
                .push(AddressAttribute::Address(a.peer.unwrap_or(a.addr)));
            if let Some(b) = a.broadcast {
                m.attributes.push(AddressAttribute::Broadcast(b));
            }
            if let Some(l) = &a.label {
                m.attributes.push(AddressAttribute::Label(l.clone()));
            }
        }
        IpAddr::V6(_) => {
            m.header.family = AddressFamily::Inet6;
            if let Some(p) = a.peer {
                m.attributes.push(AddressAttribute::Local(a.addr));
                m.attributes.push(AddressAttribute::Address(p));
            } else {
                m.attributes.push(AddressAttribute::Address(a.addr));
            }
            if let Some(p) = a.preferred_lft {
                let mut c = CacheInfo::default();
                c.ifa_preferred = p;
                c.ifa_valid = u32::MAX;
                m.attributes.push(AddressAttribute::CacheInfo(c));
            }
        }
    }
    if a.flags != 0 {
        m.attributes
            .push(AddressAttribute::Flags(AddressFlags::from_bits_retain(
                a.flags,
            )));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, Parseable};

    fn round_trip(a: &Addr) -> Addr {
        let m = message_of(a);
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        let back = AddressMessage::parse(buf.as_slice()).expect("parses");
        addr_of(&back).expect("an address")
    }

    #[test]
    fn an_ipv4_vip_with_brd_and_label_is_sent_as_ip_addr_would() {
        let a = Addr {
            index: 7,
            addr: "10.10.0.10".parse().unwrap(),
            prefix_len: 24,
            broadcast: Some("10.10.0.255".parse().unwrap()),
            label: Some("eth0:vip".into()),
            scope: Scope::Global,
            flags: 0,
            peer: None,
            preferred_lft: None,
        };
        assert_eq!(round_trip(&a), a);
    }

    #[test]
    fn an_ipv6_vip_goes_with_its_flags_and_preferred_lifetime() {
        let a = Addr {
            index: 3,
            addr: "fd10::10".parse().unwrap(),
            prefix_len: 128,
            broadcast: None,
            label: None,
            scope: Scope::Global,
            flags: IFA_F_NODAD,
            peer: None,
            preferred_lft: Some(0),
        };
        let m = message_of(&a);
        assert!(m.header.flags.contains(AddressHeaderFlags::Nodad));
        assert!(m
            .attributes
            .contains(&AddressAttribute::Flags(AddressFlags::Nodad)));
        assert_eq!(round_trip(&a), a);
    }

    #[test]
    fn a_point_to_point_address_names_its_peer() {
        let a = Addr {
            index: 3,
            addr: "10.1.0.1".parse().unwrap(),
            prefix_len: 32,
            broadcast: None,
            label: None,
            scope: Scope::Global,
            flags: 0,
            peer: Some("10.1.0.2".parse().unwrap()),
            preferred_lft: None,
        };
        assert_eq!(round_trip(&a), a);
    }
}
