//! The configuration as this daemon can run it: the library reads and
//! checks keepalived's language; what the daemon does not do yet is
//! refused here, by name, so that `afclusterd -t` never accepts a file
//! whose meaning would be silently dropped.

use std::path::Path;

use afcluster::config::{Config, ConfigError, ConfigErrors, Vip};

pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let c = Config::load(path)?;
    let errors = not_yet(&c);
    if errors.is_empty() {
        Ok(c)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// What the configuration asks for that afclusterd does not do yet.
pub fn not_yet(c: &Config) -> Vec<ConfigError> {
    let mut out = Vec::new();
    let mut no = |loc: &afcluster::config::Location, what: &str| {
        out.push(ConfigError::at(
            loc,
            format!("{what}: afclusterd does not run it yet"),
        ));
    };
    for i in &c.vrrp_instances {
        for t in &i.track_interfaces {
            no(&t.loc, "track_interface");
        }
        for t in &i.track_scripts {
            no(&t.loc, "track_script");
        }
        for t in &i.track_files {
            no(&t.loc, "track_file");
        }
        if i.track_src_ip {
            no(&i.loc, "track_src_ip");
        }
        for v in i.vips.iter().chain(&i.excluded_vips) {
            vip(v, &mut no);
        }
    }
    for g in &c.vrrp_sync_groups {
        no(&g.loc, "vrrp_sync_group");
    }
    if let Some(s) = &c.global.vrrp.lvs_sync_daemon {
        no(&s.loc, "lvs_sync_daemon");
    }
    out
}

fn vip(v: &Vip, no: &mut impl FnMut(&afcluster::config::Location, &str)) {
    if v.peer.is_some() {
        no(&v.loc, "a virtual address with `peer`");
    }
    if v.preferred_lft.is_some() {
        no(&v.loc, "a virtual address with `preferred_lft`");
    }
    let f = &v.flags;
    if f.home || f.mngtmpaddr || f.noprefixroute || f.autojoin {
        no(
            &v.loc,
            "a virtual address with home, mngtmpaddr, noprefixroute or autojoin",
        );
    }
    if v.addr.is_ipv6() && !f.nodad {
        no(&v.loc, "an IPv6 virtual address with -nodad");
    }
}
