//! `track_file NAME { file PATH, weight N [reverse], init_file [VALUE]
//! [overwrite] }` (and its deprecated synonym `vrrp_track_file`): a file
//! holding a number that instances track (keepalived's
//! trackers/track_file.c).

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use super::parse::{ConfigError, Location, Statement};
use super::track::MAX_FILE_WEIGHT;
use super::words;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    /// The `track_file` keyword.
    pub loc: Location,
    pub name: String,
    /// `file`: an absolute path (required). A missing or empty file, or
    /// one that does not start with a number, counts as 0 (keepalived's
    /// process_track_file).
    pub path: PathBuf,
    /// −254..254, default 1: the default of the track_file lines naming it.
    pub weight: i32,
    pub reverse: bool,
    /// `init_file`: create the file at start-up.
    pub init: Option<TrackFileInit>,
}

/// `init_file [VALUE] [overwrite]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackFileInit {
    /// Written to the file; default 0.
    pub value: i32,
    /// Write it even if the file exists (not on reload); without
    /// `overwrite` an existing file is left alone.
    pub overwrite: bool,
}

/// Reads a top-level `track_file` or `vrrp_track_file` statement.
pub(crate) fn read(
    st: &Statement,
    earlier: &[TrackedFile],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<TrackedFile> {
    let n_errors = errors.len();
    let (name, b) = match super::vrrp::named_block(st, earlier.iter().map(|f| (&*f.name, &f.loc))) {
        Ok(x) => x,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    if st.keyword.text == "vrrp_track_file" {
        warnings.push(ConfigError::at(
            &st.keyword.loc,
            "vrrp_track_file is deprecated (keepalived 2.0.21): write track_file",
        ));
    }
    let mut path: Option<(PathBuf, Location)> = None;
    let mut weight: Option<(i32, Location)> = None;
    let mut reverse = false;
    let mut init = None;
    for s in &b.statements {
        let kw = s.keyword.text.as_str();
        let r = (|| -> Result<(), ConfigError> {
            match kw {
                "file" => {
                    let w = words::one(s)?;
                    if let Some((_, first)) = &path {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            format!("file is already set at {first}"),
                        ));
                    }
                    let p = PathBuf::from(&w.text);
                    if !p.is_absolute() {
                        return Err(ConfigError::at(
                            &w.loc,
                            format!("'{}' must be an absolute path", w.text),
                        ));
                    }
                    path = Some((p, s.keyword.loc.clone()));
                }
                "weight" => {
                    words::no_block(s)?;
                    if let Some((_, first)) = &weight {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            format!("weight is already set at {first}"),
                        ));
                    }
                    let Some((w, rest)) = s.args.split_first() else {
                        return Err(ConfigError::at(&s.keyword.loc, "weight needs a value"));
                    };
                    let n = words::ranged(w, "weight", -MAX_FILE_WEIGHT, MAX_FILE_WEIGHT)?;
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
                    weight = Some((n, s.keyword.loc.clone()));
                }
                "init_file" => init = Some(init_file(s, warnings)?),
                _ => {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!(
                            "unknown keyword '{kw}' in {} (expected file, weight or init_file)",
                            st.keyword.text
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
    let Some((path, _)) = path else {
        errors.push(ConfigError::at(
            &st.keyword.loc,
            format!(
                "{} {name} needs a file (keepalived would drop it)",
                st.keyword.text
            ),
        ));
        return None;
    };
    if errors.len() > n_errors {
        return None;
    }
    Some(TrackedFile {
        loc: st.keyword.loc.clone(),
        name: name.to_string(),
        path,
        weight: weight.map_or(1, |(n, _)| n),
        reverse,
        init,
    })
}

/// `init_file [VALUE] [overwrite]`, in either order.
fn init_file(s: &Statement, warnings: &mut Vec<ConfigError>) -> Result<TrackFileInit, ConfigError> {
    words::no_block(s)?;
    let mut init = TrackFileInit {
        value: 0,
        overwrite: false,
    };
    for w in &s.args {
        if w.text == "overwrite" {
            init.overwrite = true;
        } else if w.text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            let v: i32 = words::number(w, "init_file value")?;
            if !(-MAX_FILE_WEIGHT..=MAX_FILE_WEIGHT).contains(&v) {
                warnings.push(ConfigError::at(
                    &w.loc,
                    format!("init_file value {v} is outside the sensible range -254 to 254"),
                ));
            }
            init.value = v;
        } else {
            return Err(ConfigError::at(
                &w.loc,
                format!(
                    "unknown init_file option '{}' (expected a number or overwrite)",
                    w.text
                ),
            ));
        }
    }
    Ok(init)
}
