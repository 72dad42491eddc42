//! `vrrp_sync_group NAME { group { I1 I2 ... } notify_* track_* }`:
//! instances that change state together (keepalived's vrrp_parser.c
//! vrrp_sync_group and vrrp_group handlers, vrrp_sync.c
//! `vrrp_sync_set_group`, vrrp.c `sync_group_tracking_init`).

#[cfg(test)]
mod tests;

use super::parse::{ConfigError, Location, Statement, Word};
use super::track::{self, Def, TrackFile, TrackInterface, TrackNode, TrackScript, Tracking};
use super::vrrp_instance::draft::NotifyDraft;
use super::vrrp_instance::{InitialState, Notify, VrrpInstance};
use super::words;

#[derive(Debug, Clone, PartialEq)]
pub struct VrrpSyncGroup {
    /// The `vrrp_sync_group` keyword.
    pub loc: Location,
    pub name: String,
    /// The instances, in the order of `group { }` (each exists, and is in
    /// no other group). A group goes MASTER only when every member can.
    pub members: Vec<String>,
    /// Run on the group's state changes (`notify` with "GROUP").
    pub notify: Notify,
    /// Tracked by every member, with these weights.
    pub track_interfaces: Vec<TrackInterface>,
    pub track_scripts: Vec<TrackScript>,
    pub track_files: Vec<TrackFile>,
    pub track_nodes: Vec<TrackNode>,
    /// `sync_group_tracking_weight` (or the deprecated `global_tracking`):
    /// the members may track with weights; without it their weights must
    /// be 0.
    pub tracking_weight: bool,
}

/// A sync group as written.
pub(crate) struct Draft<'a> {
    pub st: &'a Statement,
    pub name: &'a str,
    pub order: usize,
    pub group: Option<&'a Statement>,
    pub members: Vec<&'a Word>,
    pub notify: NotifyDraft,
    pub tracking: Tracking<'a>,
    pub tracking_weight: bool,
    /// The block had errors (reported): the group is not made.
    pub had_errors: bool,
}

/// Reads a top-level `vrrp_sync_group`.
pub(crate) fn read<'a>(
    st: &'a Statement,
    order: usize,
    earlier: &[Draft],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<Draft<'a>> {
    let (name, b) =
        match super::vrrp::named_block(st, earlier.iter().map(|g| (g.name, &g.st.keyword.loc))) {
            Ok(x) => x,
            Err(e) => {
                errors.push(e);
                return None;
            }
        };
    let mut d = Draft {
        st,
        name,
        order,
        group: None,
        members: Vec::new(),
        notify: NotifyDraft::default(),
        tracking: Tracking::default(),
        tracking_weight: false,
        had_errors: false,
    };
    let n_errors = errors.len();
    for s in &b.statements {
        if let Err(e) = d.keyword(s, errors, warnings) {
            errors.push(e);
        }
    }
    if d.group.is_none() {
        errors.push(ConfigError::at(
            &st.keyword.loc,
            format!(
                "vrrp_sync_group {name} needs a group {{ INSTANCE... }} (keepalived would drop it)"
            ),
        ));
    }
    d.had_errors = errors.len() > n_errors;
    Some(d)
}

impl<'a> Draft<'a> {
    fn keyword(
        &mut self,
        s: &'a Statement,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigError>,
    ) -> Result<(), ConfigError> {
        if self.tracking.keyword(s, errors) || self.notify.keyword(s)? {
            return Ok(());
        }
        let kw = s.keyword.text.as_str();
        match kw {
            "group" => {
                if let Some(first) = self.group {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!("group is already given at {}", first.keyword.loc),
                    ));
                }
                let b = words::block(s)?;
                self.group = Some(s);
                // keepalived reads the block as a list of words, any
                // number on a line.
                for line in &b.statements {
                    words::no_block(line)?;
                    for w in std::iter::once(&line.keyword).chain(&line.args) {
                        if let Some(first) = self.members.iter().find(|m| m.text == w.text) {
                            errors.push(ConfigError::at(
                                &w.loc,
                                format!("{} is already in the group at {}", w.text, first.loc),
                            ));
                        } else {
                            self.members.push(w);
                        }
                    }
                }
                if self.members.is_empty() {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!("sync group {} has an empty group (keepalived would drop it)", self.name),
                    ));
                }
            }
            "sync_group_tracking_weight" => {
                words::bare(s)?;
                self.tracking_weight = true;
            }
            "global_tracking" => {
                words::bare(s)?;
                warnings.push(ConfigError::at(
                    &s.keyword.loc,
                    "global_tracking is deprecated: write sync_group_tracking_weight (same meaning)",
                ));
                self.tracking_weight = true;
            }
            "smtp_alert" => warnings.push(ConfigError::at(
                &s.keyword.loc,
                "smtp_alert has no effect: afclusterd sends no mail",
            )),
            "notify_priority_changes" => {
                return Err(ConfigError::at(
                    &s.keyword.loc,
                    "notify_priority_changes is not supported: afclusterd does not run this notify script yet",
                ))
            }
            "track_process" | "track_bfd" => {
                return Err(ConfigError::at(
                    &s.keyword.loc,
                    format!("{kw} is not supported: afclusterd has no {}", &kw[6..]),
                ))
            }
            _ => {
                // keepalived.conf.vrrp.lvs_syncd lists the instances
                // without `group { }`: keepalived says "Unknown keyword".
                return Err(ConfigError::at(
                    &s.keyword.loc,
                    format!(
                        "unknown keyword '{kw}' in vrrp_sync_group (the instances go in group {{ }})"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The group once its members are complete: tracking resolved, and
/// keepalived's checks of the members (vrrp_sync_set_group,
/// sync_group_tracking_init). `instances`: the instances that were
/// complete; members in error are not among them.
pub(crate) fn complete(
    d: Draft,
    instances: &[VrrpInstance],
    scripts: &[Def],
    files: &[Def],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<VrrpSyncGroup> {
    let n_errors = errors.len();
    let at = &d.st.keyword.loc;
    let name = d.name;
    let members: Vec<&VrrpInstance> = d
        .members
        .iter()
        .filter_map(|m| instances.iter().find(|i| i.name == m.text))
        .collect();
    if d.members.len() == 1 {
        warnings.push(ConfigError::at(
            at,
            format!("sync group {name} has only one instance: this is probably not what you want"),
        ));
    }
    // vrrp_sync_set_group: "This won't work."
    let owner_master = members
        .iter()
        .find(|i| i.state == InitialState::Master && i.priority == 255);
    let backup = members.iter().find(|i| i.state == InitialState::Backup);
    if let (Some(o), Some(b)) = (owner_master, backup) {
        errors.push(ConfigError::at(
            at,
            format!(
                "sync group {name} mixes an address owner starting MASTER ({}) with an instance \
                 starting BACKUP ({}): they cannot change state together",
                o.name, b.name
            ),
        ));
    }
    let tracking = d.tracking;
    let (track_scripts, track_files) =
        track::resolve_scripts_and_files(&tracking, scripts, files, d.order, errors, warnings);
    if let Some(owner) = members.iter().find(|i| i.priority == 255) {
        let weighted = track::weighted(
            &tracking.interfaces,
            &track_scripts,
            &track_files,
            &tracking.nodes,
        );
        for (loc, weight, kw, what) in weighted {
            if weight != 0 {
                errors.push(ConfigError::at(
                    loc,
                    format!(
                        "{kw} {what} has weight {weight}, but member {} owns its addresses \
                         (priority 255), whose priority never moves: use weight 0 \
                         (keepalived would clear it)",
                        owner.name
                    ),
                ));
            }
        }
    }
    if d.had_errors || errors.len() > n_errors {
        return None;
    }
    Some(VrrpSyncGroup {
        loc: at.clone(),
        name: name.to_string(),
        members: d.members.iter().map(|m| m.text.clone()).collect(),
        notify: d.notify.done(),
        track_interfaces: tracking.interfaces,
        track_scripts,
        track_files,
        track_nodes: tracking.nodes,
        tracking_weight: d.tracking_weight,
    })
}
