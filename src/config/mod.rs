//! afclusterd's configuration, in keepalived's language: `parse` reads the
//! grammar into a tree of statements, the other modules give it meaning.

pub mod checker;
pub mod global_defs;
pub mod parse;
pub mod route;
pub mod rule;
#[cfg(test)]
mod samples_tests;
mod script_check;
#[cfg(test)]
pub(crate) mod testing;
pub mod track;
pub mod track_file;
pub mod vip;
pub mod virtual_server;
pub mod virtual_server_group;
mod vrrp;
pub mod vrrp_globals;
pub mod vrrp_instance;
pub mod vrrp_script;
pub mod vrrp_sync_group;
mod words;

use std::path::{Path, PathBuf};

pub use checker::{
    Checker, CiLinuxCheck, DnsCheck, FileCheck, HttpCheck, HttpProtocol, MiscCheck, PingCheck,
    Probe, ReplyPattern, SmtpCheck, TcpCheck, UdpCheck, Url,
};
pub use global_defs::{GlobalDefs, Script};
pub use parse::{ConfigError, Location, Statement, Word};
pub use route::Route;
pub use rule::Rule;
pub use track::{NodeRef, TrackFile, TrackInterface, TrackNode, TrackScript};
pub use track_file::{TrackFileInit, TrackedFile};
pub use vip::{Vip, VipFlags};
pub use virtual_server::{RealServer, SorryServer, VirtualServer, VsAddress};
pub use virtual_server_group::{GroupEntry, VirtualServerGroup};
pub use vrrp_globals::{LvsSyncDaemon, VrrpGlobals};
pub use vrrp_instance::{Garp, InitialState, Notify, UnicastPeer, Vmac, VrrpInstance, VrrpVersion};
pub use vrrp_script::{ScriptUser, VrrpScript};
pub use vrrp_sync_group::VrrpSyncGroup;

/// Where afclusterd looks for its configuration unless told (-f).
pub const DEFAULT_PATH: &str = "/etc/afclusterd/afclusterd.conf";

/// A whole, checked configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from (shown in status and logs).
    pub path: PathBuf,
    /// The configuration id its `@ID` lines were read for (`-i`; a reload
    /// reads the file again for the same one). None: no id.
    pub config_id: Option<String>,
    pub global: GlobalDefs,
    /// The IPVS services, in the order of the file.
    pub virtual_servers: Vec<VirtualServer>,
    /// The VRRP instances, in the order of the file (the daemon does not
    /// run them yet).
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `vrrp_script` definitions, tracked by instances and sync groups.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `track_file` (and `vrrp_track_file`) definitions.
    pub track_files: Vec<TrackedFile>,
    pub vrrp_sync_groups: Vec<VrrpSyncGroup>,
    /// `static_ipaddress { }`, `static_routes { }`, `static_rules { }`:
    /// added at start, not moved by VRRP, removed at stop (keepalived
    /// 2.2.7's vrrp_daemon.c); a reload applies the difference.
    pub static_addresses: Vec<Vip>,
    pub static_routes: Vec<Route>,
    pub static_rules: Vec<Rule>,
    /// Things that do not stop the configuration from working but that an
    /// operator should know about (keepalived keywords with no meaning here).
    pub warnings: Vec<ConfigError>,
}

/// Every error found, so that `afclusterd -t` lists them all at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// keepalived's other top-level sections (2.2.7), which afclusterd does
/// not implement yet, and why: a clear message beats "unknown keyword"
/// for configurations pasted from keepalived.
fn keepalived_only(kw: &str) -> Option<&'static str> {
    Some(match kw {
        "track_group" => {
            "afclusterd has no track groups: no instance follows static addresses, routes or rules"
        }
        "vrrp_track_process" => "afclusterd does not track processes yet (a vrrp_script can)",
        "garp_group" => "afclusterd does not space gratuitous ARPs per interface group yet",
        "linkbeat_interfaces" | "interface_up_down_delays" => {
            "afclusterd follows link state over netlink, without polling or delays yet"
        }
        "bfd_instance" => "afclusterd has no BFD",
        "SSL" => {
            "SSL_GET presents no client certificate; like keepalived, it verifies no \
             server certificate, so no CA is needed"
        }
        "net_namespace" | "net_namespace_ipvs" => {
            "afclusterd runs in the network namespace it is started in (start it with ip netns exec)"
        }

        _ => return None,
    })
}

impl Config {
    /// Read and check `path` for keepalived's default configuration id,
    /// the host name up to its first dot ([`parse::default_config_id`]).
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        Config::load_as(path, parse::default_config_id().as_deref())
    }

    /// Read and check `path` for the configuration id `config_id` (the
    /// `@ID` and `@^ID` line prefixes; `-i/--config-id`).
    pub fn load_as(path: &Path, config_id: Option<&str>) -> Result<Config, ConfigErrors> {
        let tree = parse::parse_file_as(path, config_id).map_err(|e| ConfigErrors(vec![e]))?;
        let mut c = Config::from_tree(path, &tree)?;
        c.config_id = config_id.map(str::to_owned);
        Ok(c)
    }

    /// Read and check a configuration given as text, with no configuration
    /// id; `path` names it in errors and anchors relative includes.
    pub fn from_text(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
        Config::from_text_as(text, path, None)
    }

    /// [`Config::from_text`] for the configuration id `config_id`.
    pub fn from_text_as(
        text: &str,
        path: &Path,
        config_id: Option<&str>,
    ) -> Result<Config, ConfigErrors> {
        let tree = parse::parse_str_as(text, path, config_id).map_err(|e| ConfigErrors(vec![e]))?;
        let mut c = Config::from_tree(path, &tree)?;
        c.config_id = config_id.map(str::to_owned);
        Ok(c)
    }

    /// The configuration used when the default file does not exist.
    pub fn defaults(path: &Path) -> Config {
        Config {
            path: path.to_path_buf(),
            config_id: None,
            global: GlobalDefs::default(),
            virtual_servers: Vec::new(),
            vrrp_instances: Vec::new(),
            vrrp_scripts: Vec::new(),
            track_files: Vec::new(),
            vrrp_sync_groups: Vec::new(),
            static_addresses: Vec::new(),
            static_routes: Vec::new(),
            static_rules: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn from_tree(path: &Path, tree: &[Statement]) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut global = GlobalDefs::default();
        let mut virtual_servers = Vec::new();
        let mut vs_order = Vec::new();
        let mut groups: Vec<VirtualServerGroup> = Vec::new();
        let mut broken_groups = Vec::new();
        let mut seen_global: Option<&Location> = None;
        let mut vrrp_sections = Vec::new();
        let mut statics = Statics::default();
        for (order, st) in tree.iter().enumerate() {
            let kw = st.keyword.text.as_str();
            match kw {
                "global_defs" => {
                    if let Some(first) = seen_global {
                        warnings.push(ConfigError::at(
                            &st.keyword.loc,
                            format!("a second global_defs (the first is at {first}): both apply, later keywords win"),
                        ));
                    }
                    seen_global = Some(&st.keyword.loc);
                    match words::block(st) {
                        Ok(b) => global.read(b, &mut errors, &mut warnings),
                        Err(e) => errors.push(e),
                    }
                }
                "virtual_server" => {
                    if let Some(vs) =
                        virtual_server::read(st, &virtual_servers, &mut errors, &mut warnings)
                    {
                        virtual_servers.push(vs);
                        vs_order.push(order);
                    }
                }
                "virtual_server_group" => {
                    match virtual_server_group::read(st, &groups, &mut errors) {
                        Some(g) => groups.push(g),
                        None => broken_groups.extend(st.args.first().map(|w| w.text.as_str())),
                    }
                }
                "static_ipaddress" | "static_routes" | "static_rules" => {
                    statics.read(st, &mut errors, &mut warnings)
                }
                _ if vrrp::is_vrrp_section(kw) => vrrp_sections.push((order, st)),
                _ if kw.starts_with('$') || kw.starts_with('~') => errors.push(ConfigError::at(
                    &st.keyword.loc,
                    format!(
                        "'{kw}': keepalived's $NAME=value definitions and ~SEQ/~LST \
                         repetitions are not supported by afclusterd"
                    ),
                )),
                _ => match keepalived_only(kw) {
                    Some(why) => errors.push(ConfigError::at(
                        &st.keyword.loc,
                        format!("'{kw}' is a keepalived section that afclusterd does not support: {why}"),
                    )),
                    None => errors.push(ConfigError::at(
                        &st.keyword.loc,
                        format!(
                            "unknown keyword '{kw}' (expected global_defs, virtual_server, \
                             vrrp_instance, vrrp_sync_group, vrrp_script or track_file)"
                        ),
                    )),
                },
            }
        }
        // A group may be defined after its use, as in keepalived.
        virtual_server_group::resolve(&mut virtual_servers, &groups, &broken_groups, &mut errors);
        // After the whole tree: global_defs may come last.
        let mut vrrp = vrrp::read(&vrrp_sections, &mut global, &mut errors, &mut warnings);
        file_checks(
            tree,
            &mut virtual_servers,
            &vs_order,
            &vrrp.track_files,
            &mut errors,
            &mut warnings,
        );
        script_check::disable_unusable(&mut global, &mut virtual_servers, &mut vrrp, &mut warnings);
        rule::assign_priorities(
            statics
                .rules
                .iter_mut()
                .chain(vrrp.instances.iter_mut().flat_map(|i| i.rules.iter_mut())),
            &mut warnings,
        );
        if errors.is_empty() {
            Ok(Config {
                path: path.to_path_buf(),
                config_id: None,
                global,
                virtual_servers,
                vrrp_instances: vrrp.instances,
                vrrp_scripts: vrrp.scripts,
                track_files: vrrp.track_files,
                vrrp_sync_groups: vrrp.sync_groups,
                static_addresses: statics.addresses,
                static_routes: statics.routes,
                static_rules: statics.rules,
                warnings,
            })
        } else {
            Err(ConfigErrors(errors))
        }
    }
}

/// FILE_CHECKs take their track_file's weight: once every definition is
/// known, wherever it is (the place of each is its top-level statement's).
fn file_checks(
    tree: &[Statement],
    virtual_servers: &mut [VirtualServer],
    vs_order: &[usize],
    defs: &[TrackedFile],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) {
    let is_def =
        |st: &Statement| matches!(st.keyword.text.as_str(), "track_file" | "vrrp_track_file");
    let order = |d: &TrackedFile| {
        tree.iter()
            .position(|st| st.keyword.loc == d.loc)
            .unwrap_or(usize::MAX)
    };
    // Definitions with errors (already reported) are not missing.
    let broken: Vec<&str> = tree
        .iter()
        .filter(|st| is_def(st))
        .filter_map(|st| st.args.first())
        .map(|w| w.text.as_str())
        .filter(|name| !defs.iter().any(|d| d.name == *name))
        .collect();
    checker::resolve_file_checks(
        virtual_servers,
        vs_order,
        defs,
        order,
        &broken,
        errors,
        warnings,
    );
}

/// The top-level static sections, as read so far (they may repeat).
#[derive(Default)]
struct Statics {
    addresses: Vec<Vip>,
    routes: Vec<Route>,
    rules: Vec<Rule>,
}

impl Statics {
    fn read(
        &mut self,
        st: &Statement,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigError>,
    ) {
        match st.keyword.text.as_str() {
            "static_ipaddress" => {
                for v in vip::read_block(st, errors) {
                    // keepalived would use global_defs' default_interface
                    // (eth0 unless set), which afclusterd does not have.
                    if v.dev.is_none() {
                        errors.push(ConfigError::at(
                            &v.loc,
                            format!(
                                "static address {v} needs dev IF (keepalived would put it on \
                                 default_interface, eth0 unless set)"
                            ),
                        ));
                    } else if let Some(first) = self
                        .addresses
                        .iter()
                        .find(|w| w.addr == v.addr && w.dev == v.dev)
                    {
                        errors.push(ConfigError::at(
                            &v.loc,
                            format!("{} is already a static address at {}", v.addr, first.loc),
                        ));
                    } else {
                        self.addresses.push(v);
                    }
                }
            }
            "static_routes" => self
                .routes
                .append(&mut route::read_block(st, errors, warnings)),
            _ => self
                .rules
                .append(&mut rule::read_block(st, errors, warnings)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigErrors> {
        Config::from_text(text, Path::new("/etc/afclusterd/test.conf"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = load("! nothing here\n").unwrap();
        assert_eq!(c.global, GlobalDefs::default());
    }

    #[test]
    fn unknown_and_keepalived_only_sections_are_located_errors() {
        let e = load("global_defs {\n}\ntrack_group {\n}\n  bogus 1\n").unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("test.conf:3:1: 'track_group' is a keepalived section that afclusterd does not support: afclusterd has no track groups"),
            "{text}"
        );
        assert!(
            text.contains("test.conf:5:3: unknown keyword 'bogus'"),
            "{text}"
        );
    }

    #[test]
    fn virtual_servers_are_read() {
        let c = load(
            "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.0.2 80 {\n }\n}\n",
        )
        .unwrap();
        assert_eq!(c.virtual_servers.len(), 1);
        assert!(Config::defaults(Path::new("/x")).virtual_servers.is_empty());
    }

    #[test]
    fn static_sections_are_read_and_addresses_need_a_dev() {
        let c = load(
            "static_ipaddress {\n 10.0.0.1/24 dev lo\n}\nstatic_routes {\n 10.1.0.0/16 dev lo no_track\n}\n\
             static_rules {\n from 10.1.0.0/16 table 5 priority 9 no_track\n}\n",
        )
        .unwrap();
        assert_eq!(c.static_addresses[0].to_string(), "10.0.0.1/24");
        assert_eq!(c.static_routes[0].route.to_string(), "10.1.0.0/16 dev lo");
        assert_eq!(
            c.static_rules[0].rule.to_string(),
            "9: from 10.1.0.0/16 lookup 5"
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let e = load("static_ipaddress {\n 10.0.0.1\n 10.0.0.2 dev lo\n 10.0.0.2 dev lo\n}\n")
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("test.conf:2:2: static address 10.0.0.1/32 needs dev IF"),
            "{text}"
        );
        assert!(
            text.contains("test.conf:4:2: 10.0.0.2 is already a static address at"),
            "{text}"
        );
        assert_eq!(e.0.len(), 2, "{text}");
    }

    #[test]
    fn global_defs_without_a_block_is_an_error() {
        let e = load("global_defs\n").unwrap_err();
        assert!(
            e.to_string().contains("global_defs needs a { block }"),
            "{e}"
        );
    }
}
