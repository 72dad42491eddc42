//! static_ipaddress, static_routes and static_rules: as keepalived 2.2.7
//! (vrrp_daemon.c), added when the daemon starts, not moved by any
//! instance, removed when it stops (the network thread's Stop); a reload
//! applies the difference. The network thread does the work.

use afcluster::config::Config;
use afcluster::rtnl::{Addr, Rtnl};
use log::warn;

use super::netops::Job;
use super::router::vip_addr;
use super::Vrrp;

/// Whether `config` has static entries, or ones sent before must go.
pub(super) fn wanted(config: &Config, sent_before: bool) -> bool {
    sent_before
        || !config.static_addresses.is_empty()
        || !config.static_routes.is_empty()
        || !config.static_rules.is_empty()
}

impl Vrrp {
    /// Send the static entries of `config` (none: remove those sent).
    pub(super) fn want_statics(&mut self, config: &Config) {
        if !wanted(config, self.statics) {
            return;
        }
        let addrs = static_addrs(config);
        self.send(Job::Static {
            present: true,
            addrs,
            routes: config
                .static_routes
                .iter()
                .map(|r| r.route.clone())
                .collect(),
            rules: config.static_rules.iter().map(|r| r.rule.clone()).collect(),
        });
        self.statics = true;
    }
}

/// The static addresses, on their interfaces (looked up now, as the VIPs'
/// are at start and reload; one that does not exist is left out, said).
fn static_addrs(config: &Config) -> Vec<Addr> {
    if config.static_addresses.is_empty() {
        return Vec::new();
    }
    let mut rt = match Rtnl::connect() {
        Ok(r) => r,
        Err(e) => {
            warn!("VRRP: cannot look up the interfaces of the static addresses: {e}");
            return Vec::new();
        }
    };
    config
        .static_addresses
        .iter()
        .filter_map(|v| {
            let dev = v.dev.as_deref()?;
            let index = match rt.link(dev) {
                Ok(Some(l)) => l.index,
                Ok(None) => {
                    warn!("VRRP: static address {v}: no interface {dev}: not added (reload once it exists)");
                    return None;
                }
                Err(e) => {
                    warn!("VRRP: static address {v}: looking up {dev}: {e}");
                    return None;
                }
            };
            Some(vip_addr(v, index))
        })
        .collect()
}
