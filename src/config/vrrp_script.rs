//! `vrrp_script NAME { script, interval, timeout, weight [reverse], rise,
//! fall, user, init_fail }`: a command run every interval whose exit
//! status instances track (keepalived's vrrp/vrrp_parser.c
//! vrrp_vscript_* handlers, defaults from vrrp_data.c `alloc_vrrp_script`).

use std::time::Duration;

use super::global_defs::{script, Script};
use super::parse::{ConfigError, Location, Statement, Word};
use super::track::MAX_WEIGHT;
use super::words;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpScript {
    /// The `vrrp_script` keyword.
    pub loc: Location,
    pub name: String,
    /// `script`: keepalived's quoted command line (required).
    pub script: Script,
    /// Whole seconds, default 1 (VRRP_SCRIPT_DI); 0 is read as 1 with a
    /// warning, as keepalived.
    pub interval: Duration,
    /// A run still going after this has failed. Whole seconds; unset or 0:
    /// the interval (keepalived's VRRP_SCRIPT_DT 0, vrrp_scheduler.c).
    pub timeout: Duration,
    /// −253..253, default 0 (FAULT while failing): the default of the
    /// track_script lines naming it.
    pub weight: i32,
    /// `weight N reverse`.
    pub reverse: bool,
    /// Successes in a row before a failed script is good; 1 and up, default 1.
    pub rise: u32,
    /// Failures in a row before a good script has failed; default 1.
    pub fall: u32,
    /// `user USER [GROUP]`: run as that user (and group; default the
    /// user's). Names are checked when the daemon runs the script.
    pub user: Option<ScriptUser>,
    /// `init_fail`: the script counts as failed until its first run
    /// succeeds (keepalived's SCRIPT_INIT_STATE_FAILED).
    pub init_fail: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUser {
    pub user: String,
    pub group: Option<String>,
}

/// UINT_MAX / TIMER_HZ: the longest interval and timeout keepalived reads.
const MAX_SECONDS: u64 = 4294;

/// Reads a top-level `vrrp_script NAME { ... }`; `earlier`: the scripts
/// already read (a name is defined once). None when it cannot be made.
pub(crate) fn read(
    st: &Statement,
    earlier: &[VrrpScript],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<VrrpScript> {
    let n_errors = errors.len();
    let (name, b) = match super::vrrp::named_block(st, earlier.iter().map(|s| (&*s.name, &s.loc))) {
        Ok(x) => x,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let mut cmd: Option<Script> = None;
    let mut cmd_given = false;
    let mut interval = Duration::from_secs(1);
    let mut timeout = Duration::ZERO;
    let mut weight = 0;
    let mut reverse = false;
    let mut rise = 1;
    let mut fall = 1;
    let mut user = None;
    let mut init_fail = false;
    for s in &b.statements {
        let kw = s.keyword.text.as_str();
        let r = (|| -> Result<(), ConfigError> {
            match kw {
                "script" => {
                    cmd_given = true;
                    cmd = Some(script(one_command(s)?)?);
                }
                "interval" | "timeout" => {
                    let w = words::one(s)?;
                    let mut n = words::ranged(w, kw, 0, MAX_SECONDS)?;
                    if n == 0 {
                        warnings.push(ConfigError::at(
                            &w.loc,
                            format!("{kw} 0 is read as 1 s, as keepalived does"),
                        ));
                        n = 1;
                    }
                    let d = Duration::from_secs(n);
                    if kw == "interval" {
                        interval = d;
                    } else {
                        timeout = d;
                    }
                }
                "weight" => {
                    words::no_block(s)?;
                    let Some((w, rest)) = s.args.split_first() else {
                        return Err(ConfigError::at(&s.keyword.loc, "weight needs a value"));
                    };
                    weight = words::ranged(w, "weight", -MAX_WEIGHT, MAX_WEIGHT)?;
                    reverse = match rest {
                        [] => false,
                        [r] if r.text == "reverse" => true,
                        [r, ..] => {
                            return Err(ConfigError::at(
                                &r.loc,
                                format!("unknown weight option '{}' (expected reverse)", r.text),
                            ))
                        }
                    };
                }
                "rise" | "fall" => {
                    let n = words::ranged(words::one(s)?, kw, 1, i32::MAX as u32)?;
                    if kw == "rise" {
                        rise = n;
                    } else {
                        fall = n;
                    }
                }
                "user" => user = Some(script_user(s)?),
                "init_fail" => {
                    words::bare(s)?;
                    init_fail = true;
                }
                _ => {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!(
                            "unknown keyword '{kw}' in vrrp_script (expected script, interval, \
                             timeout, weight, rise, fall, user or init_fail)"
                        ),
                    ))
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
        }
    }
    let Some(cmd) = cmd else {
        if !cmd_given {
            errors.push(ConfigError::at(
                &st.keyword.loc,
                format!("vrrp_script {name} needs a script (keepalived would drop it)"),
            ));
        }
        return None;
    };
    if errors.len() > n_errors {
        return None;
    }
    Some(VrrpScript {
        loc: st.keyword.loc.clone(),
        name: name.to_string(),
        script: cmd,
        interval,
        timeout: if timeout.is_zero() { interval } else { timeout },
        weight,
        reverse,
        rise,
        fall,
        user,
        init_fail,
    })
}

/// The command word of `script`: keepalived takes the first word only and
/// drops the rest; here the rest is an error.
fn one_command(s: &Statement) -> Result<&Word, ConfigError> {
    words::no_block(s)?;
    match s.args.as_slice() {
        [_, extra, ..] => Err(ConfigError::at(
            &extra.loc,
            format!(
                "script: unexpected '{}': quote the whole command line (\"/path arg...\"); \
                 keepalived would drop it",
                extra.text
            ),
        )),
        _ => words::one(s),
    }
}

/// `user USER [GROUP]`.
fn script_user(s: &Statement) -> Result<ScriptUser, ConfigError> {
    words::no_block(s)?;
    match s.args.as_slice() {
        [] => Err(ConfigError::at(&s.keyword.loc, "user needs a user name")),
        [u] => Ok(ScriptUser {
            user: u.text.clone(),
            group: None,
        }),
        [u, g] => Ok(ScriptUser {
            user: u.text.clone(),
            group: Some(g.text.clone()),
        }),
        [_, _, extra, ..] => Err(ConfigError::at(
            &extra.loc,
            format!("user takes a user and a group; unexpected '{}'", extra.text),
        )),
    }
}
