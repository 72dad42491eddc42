//! The configuration as this daemon can run it: the library reads and
//! checks keepalived's language; what the daemon does not do yet is
//! refused here, by name, so that `afclusterd -t` never accepts a file
//! whose meaning would be silently dropped.

use std::path::Path;

use afcluster::config::{Config, ConfigError, ConfigErrors};

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
        if i.track_src_ip {
            no(&i.loc, "track_src_ip");
        }
    }
    out
}
