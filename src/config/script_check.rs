//! keepalived's script security pass (lib/notify.c check_script_secure,
//! vrrp.c check_vrrp_script_security, check_misc.c
//! check_misc_script_security), for the part that decides what runs: a
//! script that is not there, or not an executable file, is disabled with
//! a warning, not refused, so that a configuration keepalived starts with
//! starts here too. What used it goes with it: a notify script is not
//! run, a MISC_CHECK is removed from its real server, a vrrp_script from
//! the instances and groups tracking it, a quorum script is not run.

use std::os::unix::fs::PermissionsExt;

use super::global_defs::{GlobalDefs, Script};
use super::parse::ConfigError;
use super::virtual_server::VirtualServer;
use super::vrrp::Vrrp;
use super::Checker;

/// Why `s` cannot run, if it cannot.
fn unusable(s: &Script) -> Option<String> {
    let program = s.argv.first()?;
    match std::fs::metadata(program) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => None,
        Ok(_) => Some(format!("'{program}' is not an executable file")),
        Err(e) => Some(format!("'{program}': {e}")),
    }
}

/// `slot`'s script, dropped (with a warning) when it cannot run.
fn check(slot: &mut Option<Script>, what: &str, warnings: &mut Vec<ConfigError>) {
    if let Some(why) = slot.as_ref().and_then(unusable) {
        if let Some(s) = slot.take() {
            warnings.push(ConfigError::at(
                &s.loc,
                format!("{what} {why}: disabled, as keepalived does (it will not run)"),
            ));
        }
    }
}

pub(crate) fn disable_unusable(
    global: &mut GlobalDefs,
    virtual_servers: &mut [VirtualServer],
    vrrp: &mut Vrrp,
    warnings: &mut Vec<ConfigError>,
) {
    check(&mut global.notify_node, "notify_node", warnings);
    for vs in virtual_servers {
        check(&mut vs.quorum_up, "quorum_up", warnings);
        check(&mut vs.quorum_down, "quorum_down", warnings);
        for rs in &mut vs.real_servers {
            check(&mut rs.notify_up, "notify_up", warnings);
            check(&mut rs.notify_down, "notify_down", warnings);
            rs.checkers.retain(|c| match c {
                Checker::Misc(m) => match unusable(&m.path) {
                    Some(why) => {
                        warnings.push(ConfigError::at(
                            &m.path.loc,
                            format!(
                                "MISC_CHECK {why}: the checker is disabled, as keepalived \
                                 disables it"
                            ),
                        ));
                        false
                    }
                    None => true,
                },
                _ => true,
            });
        }
    }
    let notifies = vrrp
        .instances
        .iter_mut()
        .map(|i| &mut i.notify)
        .chain(vrrp.sync_groups.iter_mut().map(|g| &mut g.notify));
    for n in notifies {
        check(&mut n.master, "notify_master", warnings);
        check(&mut n.backup, "notify_backup", warnings);
        check(&mut n.fault, "notify_fault", warnings);
        check(&mut n.stop, "notify_stop", warnings);
        check(&mut n.any, "notify", warnings);
    }
    let mut gone = Vec::new();
    vrrp.scripts.retain(|s| match unusable(&s.script) {
        Some(why) => {
            warnings.push(ConfigError::at(
                &s.script.loc,
                format!(
                    "vrrp_script {} {why}: disabled, and not tracked, as keepalived does",
                    s.name
                ),
            ));
            gone.push(s.name.clone());
            false
        }
        None => true,
    });
    for i in &mut vrrp.instances {
        i.track_scripts.retain(|t| !gone.contains(&t.script));
    }
    for g in &mut vrrp.sync_groups {
        g.track_scripts.retain(|t| !gone.contains(&t.script));
    }
}
