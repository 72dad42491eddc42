//! use_vmac, as keepalived 2.2.7 makes it (vrrp/vrrp_vmac.c,
//! vrrp_if_config.c): a private-mode macvlan on the instance's interface
//! with the VRRP MAC, up, without an automatic IPv6 link-local address;
//! for IPv4 the sysctls that make a macvlan answer for its addresses only
//! (on it: arp_ignore 1, accept_local 1, rp_filter 0, promote_secondaries
//! 1, no IPv6 unless an address needs it; on the base: arp_ignore 1 and
//! arp_filter 1, put back when its last VMAC goes); for IPv6 the
//! link-local address adverts come from. One left by a daemon that died
//! is adopted; a wrong one made again. Made at start and on reload (a few
//! rtnetlink requests, as resolving interfaces is), removed at stop.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use afcluster::config::VrrpInstance;
use afcluster::rtnl::{Addr, Link, Rtnl, Scope, IFA_F_NODAD};
use afcluster::vrrp::vmac::{link_local_of, vrrp_mac};
use log::{info, warn};

/// A VMAC this daemon runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    pub link: Link,
    pub base: String,
    ipv4: bool,
}

/// The base interfaces' arp_ignore and arp_filter before the first VMAC
/// on them, by name.
#[derive(Default)]
pub struct Vmacs {
    pub made: HashMap<String, Vmac>,
    saved: HashMap<String, (String, String)>,
}

impl Vmacs {
    /// The VMAC of `cfg` on `base`, made (or adopted) and set up; for
    /// IPv6 with `link_local`, the link-local address put on it.
    pub fn ensure(
        &mut self,
        rt: &mut Rtnl,
        cfg: &VrrpInstance,
        base: &Link,
        link_local: bool,
    ) -> Result<(Link, Option<Ipv6Addr>), String> {
        let Some(v) = &cfg.vmac else {
            return Err("no use_vmac".into());
        };
        let ipv6 = cfg.family == afcluster::ipvs::Family::Inet6;
        let mac = vrrp_mac(cfg.vrid, ipv6);
        let found = rt
            .link(&v.name)
            .map_err(|e| format!("looking up {}: {e}", v.name))?;
        let link = match found {
            Some(l)
                if l.kind.as_deref() == Some("macvlan")
                    && l.parent == Some(base.index)
                    && l.mac == Some(mac) =>
            {
                l
            }
            Some(l) if l.kind.as_deref() == Some("macvlan") => {
                info!(
                    "VRRP ({}): {} is a macvlan of another kind: made again",
                    cfg.name, v.name
                );
                rt.del_link(l.index)
                    .map_err(|e| format!("removing the old {}: {e}", v.name))?;
                self.create(rt, &v.name, base, mac)?
            }
            Some(_) => {
                return Err(format!(
                    "{} exists and is not a macvlan: name another VMAC (use_vmac NAME)",
                    v.name
                ))
            }
            None => self.create(rt, &v.name, base, mac)?,
        };
        let ipv4 = !ipv6;
        if ipv4 {
            self.sysctls_v4(&link.name, &base.name, cfg);
        }
        rt.vmac_up(link.index)
            .map_err(|e| format!("bringing {} up: {e}", v.name))?;
        let mut put = None;
        if ipv6 && link_local {
            let ll = self.link_local(rt, cfg, base)?;
            put = Some(ll);
            let a = Addr {
                index: link.index,
                addr: IpAddr::V6(ll),
                prefix_len: 64,
                broadcast: None,
                label: None,
                scope: Scope::Link,
                flags: IFA_F_NODAD,
                peer: None,
                preferred_lft: None,
            };
            rt.add_addr(&a)
                .map_err(|e| format!("adding {ll} to {}: {e}", v.name))?;
        }
        self.made.insert(
            v.name.clone(),
            Vmac {
                link: link.clone(),
                base: base.name.clone(),
                ipv4,
            },
        );
        Ok((link, put))
    }

    fn create(
        &mut self,
        rt: &mut Rtnl,
        name: &str,
        base: &Link,
        mac: [u8; 6],
    ) -> Result<Link, String> {
        rt.add_macvlan(name, base.index, mac)
            .map_err(|e| format!("creating the VMAC {name} on {}: {e}", base.name))?;
        rt.link(name)
            .map_err(|e| format!("looking up {name}: {e}"))?
            .ok_or_else(|| format!("{name} was created and is gone"))
    }

    /// keepalived's set_link_local_address: the configured source, else
    /// the base's link-local address, else one made from its MAC.
    fn link_local(
        &self,
        rt: &mut Rtnl,
        cfg: &VrrpInstance,
        base: &Link,
    ) -> Result<Ipv6Addr, String> {
        if let Some(IpAddr::V6(a)) = cfg.src_ip {
            return Ok(a);
        }
        let addrs = rt
            .addrs(base.index)
            .map_err(|e| format!("listing the addresses of {}: {e}", base.name))?;
        if let Some(a) = addrs.iter().find_map(|a| match a.addr {
            IpAddr::V6(v6) if super::socket::is_link_local(&v6) => Some(v6),
            _ => None,
        }) {
            return Ok(a);
        }
        base.mac
            .map(link_local_of)
            .ok_or_else(|| format!("{} has no MAC to make a link-local address from", base.name))
    }

    fn sysctls_v4(&mut self, vmac: &str, base: &str, cfg: &VrrpInstance) {
        let other_family = cfg
            .vips
            .iter()
            .chain(&cfg.excluded_vips)
            .any(|v| v.addr.is_ipv6());
        for (key, value) in [
            ("arp_ignore", "1"),
            ("accept_local", "1"),
            ("rp_filter", "0"),
            ("promote_secondaries", "1"),
        ] {
            set(&format!("ipv4/conf/{vmac}/{key}"), value);
        }
        set(
            &format!("ipv6/conf/{vmac}/disable_ipv6"),
            if other_family { "0" } else { "1" },
        );
        // rp_filter is the larger of all's and the interface's: all's
        // must be 0 too for the VMAC to hear (keepalived's clear_rp_filter
        // moves all's value onto each interface first).
        let all = get("ipv4/conf/all/rp_filter");
        if all.as_deref().is_some_and(|v| v != "0") {
            if let Some(v) = &all {
                for l in list_conf() {
                    if l != vmac && l != "all" && l != "default" {
                        let key = format!("ipv4/conf/{l}/rp_filter");
                        let below = |x: &str, y: &str| x.parse::<u8>().ok() < y.parse::<u8>().ok();
                        if get(&key).is_some_and(|x| below(&x, v)) {
                            set(&key, v);
                        }
                    }
                }
            }
            set("ipv4/conf/all/rp_filter", "0");
        }
        if !self.saved.contains_key(base) {
            let ignore = get(&format!("ipv4/conf/{base}/arp_ignore")).unwrap_or_else(|| "0".into());
            let filter = get(&format!("ipv4/conf/{base}/arp_filter")).unwrap_or_else(|| "0".into());
            self.saved.insert(base.to_string(), (ignore, filter));
            set(&format!("ipv4/conf/{base}/arp_ignore"), "1");
            set(&format!("ipv4/conf/{base}/arp_filter"), "1");
        }
    }

    /// Remove the VMACs not in `keep` (all, at stop); a base without
    /// VMACs gets its arp settings back.
    pub fn remove_except(&mut self, rt: Option<&mut Rtnl>, keep: &[String]) {
        let gone: Vec<String> = self
            .made
            .keys()
            .filter(|n| !keep.contains(n))
            .cloned()
            .collect();
        if gone.is_empty() {
            return;
        }
        let mut own;
        let rt = match rt {
            Some(r) => r,
            None => match Rtnl::connect() {
                Ok(r) => {
                    own = r;
                    &mut own
                }
                Err(e) => {
                    warn!("VRRP: cannot remove the VMACs {}: {e}", gone.join(", "));
                    return;
                }
            },
        };
        for name in gone {
            let Some(v) = self.made.remove(&name) else {
                continue;
            };
            match rt.del_link(v.link.index) {
                Ok(_) => info!("VRRP: removed the VMAC {name}"),
                Err(e) => warn!("VRRP: removing the VMAC {name}: {e}"),
            }
            let base_in_use = self.made.values().any(|o| o.base == v.base && o.ipv4);
            if v.ipv4 && !base_in_use {
                if let Some((ignore, filter)) = self.saved.remove(&v.base) {
                    set(&format!("ipv4/conf/{}/arp_ignore", v.base), &ignore);
                    set(&format!("ipv4/conf/{}/arp_filter", v.base), &filter);
                }
            }
        }
    }
}

const SYSCTL: &str = "/proc/sys/net";

fn set(key: &str, value: &str) {
    if let Err(e) = std::fs::write(format!("{SYSCTL}/{key}"), value) {
        warn!(
            "VRRP: setting net.{} to {value}: {e}",
            key.replace('/', ".")
        );
    }
}

fn get(key: &str) -> Option<String> {
    std::fs::read_to_string(format!("{SYSCTL}/{key}"))
        .ok()
        .map(|s| s.trim().to_string())
}

fn list_conf() -> Vec<String> {
    std::fs::read_dir(format!("{SYSCTL}/ipv4/conf"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}
