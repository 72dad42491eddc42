//! keepalived's VMAC: a macvlan in private mode on the instance's
//! interface, carrying the VRRP MAC (vrrp/vrrp_vmac.c). The messages are
//! built here without I/O; `Rtnl` sends them.

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};
use netlink_packet_route::RouteNetlinkMessage;

use super::{Result, Rtnl};
use crate::netlink::{transact, NlError};

/// RTM_NEWLINK for a private-mode macvlan `name` on `parent` with `mac`.
pub fn create(name: &str, parent: u32, mac: [u8; 6]) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_string()));
    m.attributes.push(LinkAttribute::Link(parent));
    m.attributes.push(LinkAttribute::Address(mac.to_vec()));
    m.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::MacVlan),
        // Private: frames between macvlans of one base are not passed, so
        // the VMAC hears the wire only.
        LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
            MacVlanMode::Private,
        )])),
    ]));
    m
}

/// Bring `index` up; with `no_ipv6_ll`, first stop the kernel making an
/// IPv6 link-local address from the VRRP MAC (RFC 5798 7.4: adverts must
/// not come from an address other routers could have).
pub fn up(index: u32) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    m
}

/// IFLA_INET6_ADDR_GEN_MODE none: no automatic link-local address.
pub fn no_addr_gen(index: u32) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m.attributes
        .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
            vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
        )]));
    m
}

impl Rtnl {
    /// Create the macvlan (see [`create`]); its index.
    pub fn add_macvlan(&mut self, name: &str, parent: u32, mac: [u8; 6]) -> Result<u32> {
        transact::<_, RouteNetlinkMessage>(
            &mut self.sock,
            RouteNetlinkMessage::NewLink(create(name, parent, mac)),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        match self.link(name)? {
            Some(l) => Ok(l.index),
            None => Err(NlError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{name} was created but is gone"),
            ))),
        }
    }

    /// No automatic IPv6 link-local address, then up.
    pub fn vmac_up(&mut self, index: u32) -> Result<()> {
        for m in [no_addr_gen(index), up(index)] {
            transact::<_, RouteNetlinkMessage>(&mut self.sock, RouteNetlinkMessage::SetLink(m), 0)?;
        }
        Ok(())
    }

    /// Remove interface `index`. Ok(false): it was not there.
    pub fn del_link(&mut self, index: u32) -> Result<bool> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        match transact::<_, RouteNetlinkMessage>(&mut self.sock, RouteNetlinkMessage::DelLink(m), 0)
        {
            Ok(_) => Ok(true),
            Err(NlError::Kernel(e)) if e.errno == libc::ENODEV => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, Parseable};

    fn round_trip(m: &LinkMessage) -> LinkMessage {
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        LinkMessage::parse(buf.as_slice()).expect("parses")
    }

    #[test]
    fn a_vmac_is_a_private_macvlan_on_its_base_with_the_vrrp_mac() {
        let mac = [0, 0, 0x5e, 0, 1, 51];
        let back = round_trip(&create("vrrp.51", 2, mac));
        let l = super::super::link_of(&back);
        assert_eq!(l.name, "vrrp.51");
        assert_eq!(l.parent, Some(2));
        assert_eq!(l.mac, Some(mac));
        assert_eq!(l.kind.as_deref(), Some("macvlan"));
        assert!(back.attributes.iter().any(|a| matches!(a,
            LinkAttribute::LinkInfo(i) if i.iter().any(|x| matches!(x,
                LinkInfo::Data(InfoData::MacVlan(d)) if d.contains(&InfoMacVlan::Mode(MacVlanMode::Private)))))));
    }

    #[test]
    fn up_and_no_addr_gen_touch_only_what_they_say() {
        let u = round_trip(&up(7));
        assert_eq!(
            (u.header.index, u.header.flags, u.header.change_mask),
            (7, LinkFlags::Up, LinkFlags::Up)
        );
        let n = round_trip(&no_addr_gen(7));
        assert_eq!(n.header.change_mask, LinkFlags::empty());
        assert_eq!(n.attributes.len(), 1);
    }
}
