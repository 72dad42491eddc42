//! FILE_CHECK (keepalived 2.2.7, check/check_file.c): a real server
//! follows the number in a `track_file`.
//!
//! ```text
//! FILE_CHECK {
//!     track_file NAME           # a track_file definition (required)
//!     weight N [reverse|noreverse]   # default: the track_file's own
//! }
//! ```
//!
//! With weight 0 the server is down while the number is not 0 (while it
//! is 0, with reverse); otherwise its weight moves by number × weight
//! (negated with reverse), and a result of −2147483648 or less takes it
//! down. The rule itself is in `crate::balancer::file_check`.

use super::super::parse::{ConfigError, Location, Statement};
use super::super::track_file::TrackedFile;
use super::super::virtual_server::VirtualServer;
use super::super::words;
use super::{Checker, Draft};

/// keepalived's IPVS_WEIGHT_LIMIT: FILE_CHECK's own weight is in
/// −2147483647..=2147483647 (a track_file definition's is −254..=254).
const MAX_WEIGHT: i32 = i32::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// The FILE_CHECK keyword.
    pub loc: Location,
    /// The `track_file` definition's name.
    pub file: String,
    /// Where the name is written.
    pub file_loc: Location,
    /// The FILE_CHECK's `weight`, else the track_file's.
    pub weight: i32,
    pub reverse: bool,
    /// Whether `weight` was written in the FILE_CHECK.
    pub own_weight: bool,
}

/// Reads a `FILE_CHECK { ... }` block. The weight is the track_file's
/// until [`resolve`] knows the definitions.
pub(crate) fn read(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
) -> Result<Option<Draft>, ConfigError> {
    let b = words::block(st)?;
    let mut file: Option<(String, Location)> = None;
    let mut weight: Option<(i32, bool, Location)> = None;
    let mut ok = true;
    for s in &b.statements {
        let r = (|| -> Result<(), ConfigError> {
            match s.keyword.text.as_str() {
                "track_file" => {
                    let w = words::one(s)?;
                    if let Some((_, first)) = &file {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            format!("track_file is already set at {first} (a FILE_CHECK follows one file)"),
                        ));
                    }
                    file = Some((w.text.clone(), w.loc.clone()));
                }
                "weight" => {
                    words::no_block(s)?;
                    let Some((w, rest)) = s.args.split_first() else {
                        return Err(ConfigError::at(&s.keyword.loc, "track file weight missing"));
                    };
                    let n = words::ranged(w, "weight", -MAX_WEIGHT, MAX_WEIGHT)?;
                    let reverse = match rest {
                        [] => false,
                        [r] if r.text == "reverse" => true,
                        [r] if r.text == "noreverse" => false,
                        [r, ..] => {
                            return Err(ConfigError::at(
                                &r.loc,
                                format!(
                                    "unknown track file weight option '{}' (expected reverse or noreverse)",
                                    r.text
                                ),
                            ))
                        }
                    };
                    weight = Some((n, reverse, s.keyword.loc.clone()));
                }
                other => {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!(
                        "unknown keyword '{other}' in FILE_CHECK (expected track_file or weight)"
                    ),
                    ))
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
            ok = false;
        }
    }
    let Some((name, file_loc)) = file else {
        // keepalived: "FILE_CHECK has no track_file specified - ignoring".
        errors.push(ConfigError::at(
            &st.keyword.loc,
            "FILE_CHECK needs track_file NAME (keepalived would drop it)",
        ));
        return Ok(None);
    };
    Ok(ok.then(|| {
        Draft::File(FileCheck {
            loc: st.keyword.loc.clone(),
            file: name,
            file_loc,
            weight: weight.as_ref().map_or(0, |w| w.0),
            reverse: weight.as_ref().is_some_and(|w| w.1),
            own_weight: weight.is_some(),
        })
    }))
}

/// Ties every FILE_CHECK of `vss` to its track_file among `defs`: the
/// weight it inherits. `vs_order[i]` and `def_order(d)` are the places
/// of the virtual server and of the definition among the top-level
/// statements (keepalived finds only a definition written before).
/// `broken` are the names of definitions already reported as wrong.
pub(crate) fn resolve(
    vss: &mut [VirtualServer],
    vs_order: &[usize],
    defs: &[TrackedFile],
    def_order: impl Fn(&TrackedFile) -> usize,
    broken: &[&str],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) {
    for (vs, &order) in vss.iter_mut().zip(vs_order) {
        for rs in &mut vs.real_servers {
            for c in &mut rs.checkers {
                let Checker::File(f) = c else { continue };
                let Some(d) = defs.iter().find(|d| d.name == f.file) else {
                    if !broken.contains(&f.file.as_str()) {
                        errors.push(ConfigError::at(
                            &f.file_loc,
                            format!(
                                "there is no track_file '{}' (keepalived: track_file {} not found)",
                                f.file, f.file
                            ),
                        ));
                    }
                    continue;
                };
                if def_order(d) > order {
                    warnings.push(ConfigError::at(
                        &f.file_loc,
                        format!(
                            "track_file {} is defined further down: keepalived would not find it and \
                             would drop this FILE_CHECK (define it first)",
                            d.name
                        ),
                    ));
                }
                if !f.own_weight {
                    f.weight = d.weight;
                    f.reverse = d.reverse;
                }
            }
        }
    }
}
