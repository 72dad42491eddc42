//! The VRRP sections of a configuration read together: `vrrp_script`,
//! `track_file`, `vrrp_instance`, `vrrp_sync_group`, and what ties them
//! (tracked names, sync group members, VRID conflicts, lvs_sync_daemon).
//!
//! Definitions are found wherever they are in the file (keepalived needs
//! them before their use: a warning says so), then the instances are
//! read, their sync groups known, then completed with global_defs.

use std::collections::HashMap;

use crate::ipvs::Family;

use super::global_defs::GlobalDefs;
use super::parse::{Block, ConfigError, Location, Statement};
use super::track::Def;
use super::track_file::{self, TrackedFile};
use super::vrrp_globals::LvsSyncDaemon;
use super::vrrp_instance::{self, validate::Context, VrrpInstance};
use super::vrrp_script::{self, VrrpScript};
use super::vrrp_sync_group::{self, VrrpSyncGroup};

/// The VRRP part of a configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Vrrp {
    pub instances: Vec<VrrpInstance>,
    pub scripts: Vec<VrrpScript>,
    pub track_files: Vec<TrackedFile>,
    pub sync_groups: Vec<VrrpSyncGroup>,
}

/// The top-level keywords read here.
pub(crate) fn is_vrrp_section(kw: &str) -> bool {
    matches!(
        kw,
        "vrrp_instance" | "vrrp_script" | "vrrp_sync_group" | "track_file" | "vrrp_track_file"
    )
}

/// `KEYWORD NAME { ... }`: the name and the block, the name not among
/// `earlier`.
pub(crate) fn named_block<'s, 'n>(
    st: &'s Statement,
    mut earlier: impl Iterator<Item = (&'n str, &'n Location)>,
) -> Result<(&'s str, &'s Block), ConfigError> {
    let kw = st.keyword.text.as_str();
    let name = match st.args.as_slice() {
        [] => {
            return Err(ConfigError::at(
                &st.keyword.loc,
                format!("{kw} needs a name"),
            ))
        }
        [n] => n,
        [_, extra, ..] => {
            return Err(ConfigError::at(
                &extra.loc,
                format!("{kw} takes one name; unexpected '{}'", extra.text),
            ))
        }
    };
    if let Some((_, first)) = earlier.find(|(n, _)| *n == name.text) {
        return Err(ConfigError::at(
            &name.loc,
            format!("{kw} {} is already defined at {first}", name.text),
        ));
    }
    let Some(b) = &st.block else {
        return Err(ConfigError::at(
            &st.keyword.loc,
            format!("{kw} {} needs a {{ block }}", name.text),
        ));
    };
    Ok((&name.text, b))
}

/// Reads the VRRP sections `sections` (each with its place among the
/// top-level statements), `global` already read; sets
/// `global.vrrp.lvs_sync_daemon`'s defaults that depend on instances.
pub(crate) fn read(
    sections: &[(usize, &Statement)],
    global: &mut GlobalDefs,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Vrrp {
    let of = |kws: &[&str]| {
        sections
            .iter()
            .filter(|(_, st)| kws.contains(&st.keyword.text.as_str()))
            .copied()
            .collect::<Vec<_>>()
    };
    let mut v = Vrrp::default();
    let mut script_order = Vec::new();
    let mut broken = Vec::new();
    for (order, st) in of(&["vrrp_script"]) {
        match vrrp_script::read(st, &v.scripts, errors, warnings) {
            Some(s) => {
                v.scripts.push(s);
                script_order.push(order);
            }
            None => broken.extend(broken_name(st, "vrrp_script")),
        }
    }
    let mut file_order = Vec::new();
    for (order, st) in of(&["track_file", "vrrp_track_file"]) {
        match track_file::read(st, &v.track_files, errors, warnings) {
            Some(f) => {
                v.track_files.push(f);
                file_order.push(order);
            }
            None => broken.extend(broken_name(st, "track_file")),
        }
    }

    // The instances as written: their names are what groups refer to.
    let mut drafts = Vec::new();
    for (order, st) in of(&["vrrp_instance"]) {
        let taken: Vec<(&str, &Location)> = drafts
            .iter()
            .map(|(_, d): &(usize, vrrp_instance::Draft)| (d.name, &d.st.keyword.loc))
            .collect();
        if let Some(d) = vrrp_instance::read(st, &taken, errors, warnings) {
            drafts.push((order, d));
        }
    }
    let names: Vec<&str> = drafts.iter().map(|(_, d)| d.name).collect();

    let mut group_drafts: Vec<vrrp_sync_group::Draft> = Vec::new();
    // Instance name → its group's name and sync_group_tracking_weight.
    let mut group_of: HashMap<&str, (&str, bool, &Location)> = HashMap::new();
    for (order, st) in of(&["vrrp_sync_group"]) {
        let Some(g) = vrrp_sync_group::read(st, order, &group_drafts, errors, warnings) else {
            continue;
        };
        for m in &g.members {
            if !names.contains(&m.text.as_str()) {
                errors.push(ConfigError::at(
                    &m.loc,
                    format!(
                        "sync group {}: there is no vrrp_instance '{}'",
                        g.name, m.text
                    ),
                ));
            } else if let Some((other, _, at)) = group_of.get(m.text.as_str()) {
                errors.push(ConfigError::at(
                    &m.loc,
                    format!(
                        "{} is already in sync group {other} (at {at}): an instance is in one group at most",
                        m.text
                    ),
                ));
            } else {
                group_of.insert(&m.text, (g.name, g.tracking_weight, &m.loc));
            }
        }
        group_drafts.push(g);
    }

    let script_defs: Vec<Def> = v
        .scripts
        .iter()
        .zip(&script_order)
        .map(|(s, &order)| Def {
            name: &s.name,
            weight: s.weight,
            reverse: s.reverse,
            order,
            broken: false,
        })
        .chain(broken_defs(&broken, "vrrp_script"))
        .collect();
    let file_defs: Vec<Def> = v
        .track_files
        .iter()
        .zip(&file_order)
        .map(|(f, &order)| Def {
            name: &f.name,
            weight: f.weight,
            reverse: f.reverse,
            order,
            broken: false,
        })
        .chain(broken_defs(&broken, "track_file"))
        .collect();

    let mut legacy_syncd = Vec::new();
    for (order, d) in drafts {
        let name = d.name;
        let syncd = d.lvs_sync_daemon_interface;
        let cx = Context {
            globals: &global.vrrp,
            scripts: &script_defs,
            files: &file_defs,
            sync_group: group_of.get(name).map(|(g, w, _)| (*g, *w)),
            order,
        };
        if let Some(i) = vrrp_instance::complete(d, &cx, errors, warnings) {
            if let Some(w) = syncd {
                legacy_syncd.push((w, i.name.clone()));
            }
            v.instances.push(i);
        }
    }
    for g in group_drafts {
        if let Some(g) =
            vrrp_sync_group::complete(g, &v.instances, &script_defs, &file_defs, errors, warnings)
        {
            v.sync_groups.push(g);
        }
    }
    vrid_conflicts(&v.instances, errors);
    vmac_names(&mut v.instances, errors);
    lvs_sync_daemon(
        &mut global.vrrp.lvs_sync_daemon,
        legacy_syncd,
        &v.instances,
        errors,
    );
    unused(&v, warnings);
    v
}

/// The name of a definition that could not be read, if it has one.
fn broken_name<'s>(st: &'s Statement, what: &'static str) -> Option<(&'static str, &'s str)> {
    match st.args.as_slice() {
        [n] => Some((what, n.text.as_str())),
        _ => None,
    }
}

fn broken_defs<'b>(
    broken: &'b [(&'static str, &'b str)],
    what: &'static str,
) -> impl Iterator<Item = Def<'b>> + 'b {
    broken
        .iter()
        .filter(move |(w, _)| *w == what)
        .map(|(_, name)| Def {
            name,
            weight: 0,
            reverse: false,
            order: 0,
            broken: true,
        })
}

/// keepalived's create_vmac_name: a VMAC without a name written gets
/// `vrrp.VRID`, or when another instance has that one `vrrp6.VRID` first
/// (IPv6), then `vrrp1.VRID`, `vrrp2.VRID`… Two instances writing one name
/// is an error.
fn vmac_names(instances: &mut [VrrpInstance], errors: &mut Vec<ConfigError>) {
    let mut taken: Vec<(String, String)> = Vec::new();
    for i in instances.iter() {
        if let Some(v) = i.vmac.as_ref().filter(|v| !v.name.is_empty()) {
            if let Some((_, other)) = taken.iter().find(|(n, _)| *n == v.name) {
                errors.push(ConfigError::at(
                    &i.loc,
                    format!(
                        "use_vmac {}: instance {other} already uses that interface",
                        v.name
                    ),
                ));
            }
            taken.push((v.name.clone(), i.name.clone()));
        }
    }
    for i in instances.iter_mut() {
        let (vrid, v6, name) = (i.vrid, i.family == Family::Inet6, i.name.clone());
        let Some(v) = i.vmac.as_mut().filter(|v| v.name.is_empty()) else {
            continue;
        };
        let order: Vec<u32> = if v6 {
            vec![6, 1, 2, 3, 4, 5]
        } else {
            (1..=9).collect()
        };
        let candidates = std::iter::once(format!("vrrp.{vrid}"))
            .chain(order.into_iter().map(|n| format!("vrrp{n}.{vrid}")));
        let Some(pick) = candidates
            .into_iter()
            .find(|c| !taken.iter().any(|(n, _)| n == c))
        else {
            errors.push(ConfigError::at(
                &i.loc,
                "use_vmac: no free vrrpN.VRID name: write one".to_string(),
            ));
            continue;
        };
        taken.push((pick.clone(), name));
        v.name = pick;
    }
}

/// keepalived's check_vrid_conflicts: two multicast instances with one
/// VRID, family, interface and group; two unicast ones with one VRID,
/// family, interface and a common peer. Unicast and multicast VRIDs are
/// separate.
fn vrid_conflicts(instances: &[VrrpInstance], errors: &mut Vec<ConfigError>) {
    for (n, b) in instances.iter().enumerate() {
        for a in &instances[..n] {
            if a.vrid != b.vrid || a.family != b.family || a.interface != b.interface {
                continue;
            }
            let conflict = match (a.unicast_peers.is_empty(), b.unicast_peers.is_empty()) {
                (true, true) => a.mcast_group == b.mcast_group,
                (false, false) => {
                    (a.src_ip.is_none() || b.src_ip.is_none() || a.src_ip == b.src_ip)
                        && a.unicast_peers
                            .iter()
                            .any(|p| b.unicast_peers.iter().any(|q| q.addr == p.addr))
                }
                _ => false,
            };
            if conflict {
                errors.push(ConfigError::at(
                    &b.loc,
                    format!(
                        "vrrp_instance {} uses VRID {} with {} on {}{}, as {} at {} does",
                        b.name,
                        b.vrid,
                        b.family,
                        b.interface,
                        if b.unicast_peers.is_empty() {
                            ""
                        } else {
                            " to the same unicast peer"
                        },
                        a.name,
                        a.loc
                    ),
                ));
            }
        }
    }
}

/// lvs_sync_daemon: from an instance's deprecated lvs_sync_daemon_interface
/// when global_defs has none; its instance must exist; its sync id
/// defaults to the instance's VRID.
fn lvs_sync_daemon(
    syncd: &mut Option<LvsSyncDaemon>,
    legacy: Vec<(&super::parse::Word, String)>,
    instances: &[VrrpInstance],
    errors: &mut Vec<ConfigError>,
) {
    for (w, instance) in legacy {
        match syncd {
            Some(first) => errors.push(ConfigError::at(
                &w.loc,
                format!("lvs_sync_daemon is already set at {}", first.loc),
            )),
            None => {
                *syncd = Some(LvsSyncDaemon {
                    loc: w.loc.clone(),
                    interface: w.text.clone(),
                    instance: Some(instance),
                    sync_id: 0,
                    sync_id_written: false,
                    maxlen: None,
                    port: None,
                    ttl: None,
                    group: None,
                })
            }
        }
    }
    let Some(d) = syncd else { return };
    let Some(name) = &d.instance else { return };
    match instances.iter().find(|i| &i.name == name) {
        Some(i) if !d.sync_id_written => d.sync_id = i.vrid,
        Some(_) => {}
        None => errors.push(ConfigError::at(
            &d.loc,
            format!("lvs_sync_daemon: there is no vrrp_instance '{name}'"),
        )),
    }
}

/// keepalived removes the scripts nothing tracks, with a warning.
fn unused(v: &Vrrp, warnings: &mut Vec<ConfigError>) {
    let tracked = |name: &str| {
        v.instances
            .iter()
            .any(|i| i.track_scripts.iter().any(|t| t.script == name))
            || v.sync_groups
                .iter()
                .any(|g| g.track_scripts.iter().any(|t| t.script == name))
    };
    for s in &v.scripts {
        if !tracked(&s.name) {
            warnings.push(ConfigError::at(
                &s.loc,
                format!(
                    "vrrp_script {} is not tracked by any instance or sync group",
                    s.name
                ),
            ));
        }
    }
}
