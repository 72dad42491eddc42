//! What a VRRP instance or sync group tracks: `track_interface`,
//! `track_script`, `track_file` (keepalived's, vrrp/vrrp_track.c
//! `alloc_track_if`, `alloc_track_script`; trackers/track_file.c
//! `vrrp_alloc_track_file`) and afclusterd's own `track_node`.
//!
//! Each is a block of lines `NAME [weight N [reverse]]`. A weight moves
//! the instance's priority (effective priority clamped to 1..254, an
//! address owner's 255 untouched); weight 0 puts the instance in FAULT
//! while the tracked thing is down. `reverse` inverts the sense.
//!
//! keepalived resolves a tracked script or file when it reads the line,
//! so a `vrrp_script` written after the instance is "not found" and
//! silently not tracked; here the whole file is read first, and such an
//! order only gets a warning.
//!
//! `track_node { ENTRY... }` is not keepalived's: an entry is `local`, a
//! node id (a number) or a node name, then `[weight N [reverse]]` as for
//! interfaces. keepalived's grammar puts one entry on a line; since the
//! whole of `a { b c }` on one line is *one* statement (see parse.rs),
//! entries written on one line are separated by `;`
//! (`track_node { local weight 0 ; 3 weight -20 }`). A `;` has no other
//! meaning anywhere in the grammar.

use super::parse::{ConfigError, Location, Statement, Word};
use super::words;

/// `track_interface { IF [weight N [reverse]] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInterface {
    pub loc: Location,
    pub interface: String,
    /// −253..253; default 0: FAULT while the interface is down. A
    /// positive weight is added while it is up, a negative one
    /// subtracted while it is down.
    pub weight: i32,
    pub reverse: bool,
}

/// `track_script { NAME [weight N [reverse|noreverse]] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackScript {
    pub loc: Location,
    /// A `vrrp_script`'s name (checked to exist).
    pub script: String,
    /// −253..253; default the vrrp_script's weight. 0: FAULT while the
    /// script fails; positive: added while it succeeds; negative:
    /// subtracted while it fails.
    pub weight: i32,
    /// Default the vrrp_script's.
    pub reverse: bool,
}

/// `track_file { NAME [weight N [reverse|noreverse]] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFile {
    pub loc: Location,
    /// A `track_file` (or `vrrp_track_file`) definition's name.
    pub file: String,
    /// −254..254; default the definition's (itself default 1). The file
    /// holds a number; the priority moves by number × weight, and a
    /// result of −254 or less is FAULT; weight 0: FAULT while the number
    /// is not 0.
    pub weight: i32,
    pub reverse: bool,
}

/// `track_node { local | ID | NAME [weight N [reverse]] }`: a node of the
/// cluster table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackNode {
    pub loc: Location,
    pub node: NodeRef,
    /// −253..253; default 0: FAULT while the node is not up. Positive:
    /// added while it is up; negative: subtracted while it is not.
    pub weight: i32,
    pub reverse: bool,
}

/// A node as `track_node` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeRef {
    /// `local`: this machine's node (the table's local node), whatever its id.
    Local,
    /// A node id: 1 and up (0 is "no node" in the table).
    Id(u32),
    /// A node name (1 to 64 bytes, not all digits): the node of that name
    /// when the daemon looks, whatever its id.
    Name(String),
}

impl std::fmt::Display for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeRef::Local => f.write_str("local"),
            NodeRef::Id(n) => write!(f, "{n}"),
            NodeRef::Name(s) => f.write_str(s),
        }
    }
}

/// keepalived's weight limit for interfaces and scripts; ±254 is read and
/// refused ("cannot be +/-254").
pub const MAX_WEIGHT: i32 = 253;
/// track_file's limit.
pub const MAX_FILE_WEIGHT: i32 = 254;
/// AFCLUSTER_NODE_NAME_MAX (include/uapi/linux/afcluster.h).
const NODE_NAME_MAX: usize = 64;

/// Every tracked entry with its place, weight, keyword and what it names,
/// for the checks that concern weights whatever is tracked.
pub(crate) fn weighted<'a>(
    interfaces: &'a [TrackInterface],
    scripts: &'a [TrackScript],
    files: &'a [TrackFile],
    nodes: &'a [TrackNode],
) -> impl Iterator<Item = (&'a Location, i32, &'static str, String)> + 'a {
    interfaces
        .iter()
        .map(|t| (&t.loc, t.weight, "track_interface", t.interface.clone()))
        .chain(
            scripts
                .iter()
                .map(|t| (&t.loc, t.weight, "track_script", t.script.clone())),
        )
        .chain(
            files
                .iter()
                .map(|t| (&t.loc, t.weight, "track_file", t.file.clone())),
        )
        .chain(
            nodes
                .iter()
                .map(|t| (&t.loc, t.weight, "track_node", t.node.to_string())),
        )
}

/// A tracked script or file line as written, resolved once the
/// definitions are known.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    pub name: &'a Word,
    pub weight: Option<(i32, &'a Word)>,
    pub reverse: Option<bool>,
}

/// The track_* blocks of an instance or sync group, as written.
#[derive(Debug, Default)]
pub(crate) struct Tracking<'a> {
    pub interfaces: Vec<TrackInterface>,
    pub scripts: Vec<Entry<'a>>,
    pub files: Vec<Entry<'a>>,
    pub nodes: Vec<TrackNode>,
}

impl<'a> Tracking<'a> {
    /// Reads a track_interface, track_script, track_file or track_node
    /// block; false if `st` is none of them.
    pub fn keyword(&mut self, st: &'a Statement, errors: &mut Vec<ConfigError>) -> bool {
        let kw = st.keyword.text.as_str();
        if !matches!(
            kw,
            "track_interface" | "track_script" | "track_file" | "track_node"
        ) {
            return false;
        }
        let b = match words::block(st) {
            Ok(b) => b,
            Err(e) => {
                errors.push(e);
                return true;
            }
        };
        for s in &b.statements {
            let r = match kw {
                "track_interface" => self.interface(s),
                "track_script" => self.script_or_file(s, "track_script", MAX_WEIGHT),
                "track_file" => self.script_or_file(s, "track_file", MAX_FILE_WEIGHT),
                _ => self.node(s, errors),
            };
            if let Err(e) = r {
                errors.push(e);
            }
        }
        true
    }

    fn interface(&mut self, s: &'a Statement) -> Result<(), ConfigError> {
        words::no_block(s)?;
        let name = words::ifname(&s.keyword)?.to_string();
        if let Some(first) = self.interfaces.iter().find(|t| t.interface == name) {
            return Err(ConfigError::at(
                &s.keyword.loc,
                format!("track_interface {name} is already listed at {}", first.loc),
            ));
        }
        let (weight, reverse) = weight_option(&s.args, "track_interface", MAX_WEIGHT, false)?;
        self.interfaces.push(TrackInterface {
            loc: s.keyword.loc.clone(),
            interface: name,
            weight: weight.map_or(0, |(n, _)| n),
            reverse: reverse.unwrap_or(false),
        });
        Ok(())
    }

    fn script_or_file(&mut self, s: &'a Statement, kw: &str, max: i32) -> Result<(), ConfigError> {
        words::no_block(s)?;
        let list = if kw == "track_script" {
            &mut self.scripts
        } else {
            &mut self.files
        };
        if let Some(first) = list.iter().find(|e| e.name.text == s.keyword.text) {
            return Err(ConfigError::at(
                &s.keyword.loc,
                format!(
                    "{kw} {} is already listed at {}",
                    s.keyword.text, first.name.loc
                ),
            ));
        }
        let (weight, reverse) = weight_option(&s.args, kw, max, true)?;
        list.push(Entry {
            name: &s.keyword,
            weight,
            reverse,
        });
        Ok(())
    }

    /// One line of track_node: one entry, or several separated by `;`.
    fn node(&mut self, s: &'a Statement, errors: &mut Vec<ConfigError>) -> Result<(), ConfigError> {
        words::no_block(s)?;
        let all: Vec<&Word> = std::iter::once(&s.keyword).chain(&s.args).collect();
        let pieces = split_semicolons(&all);
        for entry in pieces.split(|p| p.is_none()) {
            let entry: Vec<&Word> = entry.iter().flatten().collect();
            if let Err(e) = self.node_entry(&entry) {
                errors.push(e);
            }
        }
        Ok(())
    }

    fn node_entry(&mut self, entry: &[&Word]) -> Result<(), ConfigError> {
        let Some((name, rest)) = entry.split_first() else {
            return Ok(());
        };
        let node = node_ref(name)?;
        if let Some(first) = self.nodes.iter().find(|t| t.node == node) {
            return Err(ConfigError::at(
                &name.loc,
                format!("track_node {node} is already listed at {}", first.loc),
            ));
        }
        let rest: Vec<Word> = rest.iter().map(|w| (*w).clone()).collect();
        let (weight, reverse) = weight_option(&rest, "track_node", MAX_WEIGHT, false)?;
        self.nodes.push(TrackNode {
            loc: name.loc.clone(),
            node,
            weight: weight.map_or(0, |(n, _)| n),
            reverse: reverse.unwrap_or(false),
        });
        Ok(())
    }
}

/// The words of a line cut at `;` (alone or glued to a word): None marks a
/// cut. Pieces keep their column.
fn split_semicolons(all: &[&Word]) -> Vec<Option<Word>> {
    let mut out = Vec::new();
    for w in all {
        let mut column = w.loc.column;
        let mut first = true;
        for piece in w.text.split(';') {
            if !first {
                out.push(None);
                column += 1;
            }
            first = false;
            if !piece.is_empty() {
                let mut loc = w.loc.clone();
                loc.column = column;
                out.push(Some(Word {
                    text: piece.to_string(),
                    loc,
                }));
            }
            column += u32::try_from(piece.chars().count()).unwrap_or(0);
        }
    }
    out
}

/// `local`, a node id, or a node name.
fn node_ref(w: &Word) -> Result<NodeRef, ConfigError> {
    let t = w.text.as_str();
    if t == "local" {
        return Ok(NodeRef::Local);
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return words::ranged(w, "node id", 1, u32::MAX).map(NodeRef::Id);
    }
    if t.len() > NODE_NAME_MAX {
        return Err(ConfigError::at(
            &w.loc,
            format!("node name '{t}' is longer than {NODE_NAME_MAX} bytes"),
        ));
    }
    Ok(NodeRef::Name(t.to_string()))
}

/// `[weight N [reverse|noreverse]]` after a tracked name (noreverse only
/// for scripts and files, as keepalived).
#[allow(clippy::type_complexity)]
fn weight_option<'w>(
    args: &'w [Word],
    kw: &str,
    max: i32,
    noreverse: bool,
) -> Result<(Option<(i32, &'w Word)>, Option<bool>), ConfigError> {
    let Some((first, rest)) = args.split_first() else {
        return Ok((None, None));
    };
    if first.text != "weight" {
        return Err(ConfigError::at(
            &first.loc,
            format!("unknown {kw} option '{}' (expected weight N)", first.text),
        ));
    }
    let Some((n, rest)) = rest.split_first() else {
        return Err(ConfigError::at(
            &first.loc,
            format!("{kw}: weight needs a value"),
        ));
    };
    let weight = words::ranged(n, "weight", -max, max)?;
    let reverse = match rest {
        [] => None,
        [r] if r.text == "reverse" => Some(true),
        [r] if r.text == "noreverse" && noreverse => Some(false),
        [r, ..] if !matches!(r.text.as_str(), "reverse" | "noreverse") => {
            return Err(ConfigError::at(
                &r.loc,
                format!(
                    "unknown {kw} weight option '{}' (expected reverse{})",
                    r.text,
                    if noreverse { " or noreverse" } else { "" }
                ),
            ))
        }
        [r] => {
            return Err(ConfigError::at(
                &r.loc,
                format!("{kw} has no {} option (expected reverse)", r.text),
            ))
        }
        [_, extra, ..] => {
            return Err(ConfigError::at(
                &extra.loc,
                format!("{kw}: unexpected '{}' after the weight", extra.text),
            ))
        }
    };
    Ok((Some((weight, n)), reverse))
}

/// A vrrp_script or track_file definition as track lines see it: its
/// default weight and sense, and its place among the top-level statements.
pub(crate) struct Def<'d> {
    pub name: &'d str,
    pub weight: i32,
    pub reverse: bool,
    pub order: usize,
    /// Defined with errors (reported): lines naming it are left out
    /// without a second error.
    pub broken: bool,
}

/// The tracked scripts or files of `entries` (`what`: "vrrp_script" or
/// "track_file"), their defaults taken from `defs`; `order`: the place of
/// the instance or group among the top-level statements. A name not
/// defined is an error; one defined after it, a warning.
/// An instance's or a sync group's track_script and track_file lines,
/// resolved against the vrrp_script and track_file definitions.
pub(crate) fn resolve_scripts_and_files(
    tracking: &Tracking,
    scripts: &[Def],
    files: &[Def],
    order: usize,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> (Vec<TrackScript>, Vec<TrackFile>) {
    let track_scripts = resolve(
        &tracking.scripts,
        scripts,
        "vrrp_script",
        order,
        |loc, script, weight, reverse| TrackScript {
            loc,
            script,
            weight,
            reverse,
        },
        errors,
        warnings,
    );
    let track_files = resolve(
        &tracking.files,
        files,
        "track_file",
        order,
        |loc, file, weight, reverse| TrackFile {
            loc,
            file,
            weight,
            reverse,
        },
        errors,
        warnings,
    );
    (track_scripts, track_files)
}

pub(crate) fn resolve<T>(
    entries: &[Entry],
    defs: &[Def],
    what: &str,
    order: usize,
    make: impl Fn(Location, String, i32, bool) -> T,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Vec<T> {
    let mut out = Vec::new();
    for e in entries {
        let Some(d) = defs.iter().find(|d| d.name == e.name.text) else {
            errors.push(ConfigError::at(
                &e.name.loc,
                format!("there is no {what} '{}'", e.name.text),
            ));
            continue;
        };
        if d.broken {
            continue;
        }
        if d.order > order {
            warnings.push(ConfigError::at(
                &e.name.loc,
                format!(
                    "{what} {} is defined further down: keepalived would not find it and would \
                     not track it (define it first)",
                    d.name
                ),
            ));
        }
        out.push(make(
            e.name.loc.clone(),
            e.name.text.clone(),
            e.weight.map_or(d.weight, |(w, _)| w),
            e.reverse.unwrap_or(d.reverse),
        ));
    }
    out
}
