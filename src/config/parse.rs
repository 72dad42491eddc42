//! keepalived's configuration grammar (`keepalived.conf`), read into a generic
//! tree of [`Statement`]s with exact source locations.
//!
//! No keyword means anything here except `include`; a later layer interprets
//! the tree. The rules are those of keepalived's `lib/parser.c` (`read_line`,
//! `decomment`, `alloc_strvec_r`, `check_include`):
//!
//! - A statement is a keyword and its arguments, separated by blanks, on one line.
//! - `!` and `#` outside double quotes start a comment running to the end of
//!   the line, even glued to a word; outside quotes `\!` and `\#` stand for
//!   the character itself.
//! - `"..."` is one word, without its quotes; nothing is escaped inside. A `"`
//!   also ends an unquoted word: `a"b c"` is the words `a` and `b c`.
//! - keepalived cuts a line at every `{` and `}` outside quotes, glued to a
//!   word or not, and reads each piece as a line of its own. So
//!   `real_server 10.0.0.2 80 { weight 1 }` is a statement whose block holds
//!   `weight 1`, and `a { b 1 c 2 }` gives `a` a block holding the *one*
//!   statement `b 1 c 2`: a line never holds two statements.
//! - A `{` opens the block of the statement just before it, whether on the
//!   same line or on a later one.
//! - `include PATTERN` takes the rest of the line, braces and blanks included,
//!   as a glob(3) pattern with `{a,b}` alternatives, relative to the including
//!   file's directory. Like keepalived, it works at any depth and after a brace
//!   on the same line, and reads the files as one stream with the including
//!   file: a block opened in one file may be closed in another.
//!
//! keepalived's `$NAME=value` definitions, `@id` line prefixes, `~SEQ`/`~LST`
//! and the `include[rmwba]` variants are not supported: such lines come out as
//! ordinary statements, for the later layer to reject.

use std::fmt;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How deep includes may nest; the top-level file is at depth 0.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Where something is in the configuration: file, 1-based line and column
/// (column in chars).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<Path>,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A word of a statement, without the quotes it may have had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub loc: Location,
}

/// One line of configuration: a keyword, its arguments, and the block that
/// follows it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub keyword: Word,
    pub args: Vec<Word>,
    pub block: Option<Block>,
}

/// The statements between a `{` and its `}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Where the `{` is.
    pub open: Location,
    pub statements: Vec<Statement>,
}

/// A configuration error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub loc: Option<Location>,
    pub message: String,
}

impl ConfigError {
    pub fn at(loc: &Location, message: impl Into<String>) -> ConfigError {
        ConfigError {
            loc: Some(loc.clone()),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.loc {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Reads the configuration file `path` and every file it includes.
pub fn parse_file(path: &Path) -> Result<Vec<Statement>, ConfigError> {
    let file: Arc<Path> = Arc::from(path);
    let text = read_config(&file, None)?;
    let identity = fs::canonicalize(path).map_err(|e| ConfigError {
        loc: None,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    Parser::run(&text, file, identity)
}

/// Parses `text` as the contents of `file`; includes are resolved relative to
/// `file`'s directory.
pub fn parse_str(text: &str, file: &Path) -> Result<Vec<Statement>, ConfigError> {
    // The text need not be on disk; when it is, including it again is a cycle.
    let identity = fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    Parser::run(text, Arc::from(file), identity)
}

/// A block whose `{` has been read but not yet its `}`.
struct OpenBlock {
    owner: Statement,
    open: Location,
    statements: Vec<Statement>,
}

struct Parser {
    top: Vec<Statement>,
    /// Innermost last.
    open: Vec<OpenBlock>,
    /// Canonical paths of the files being read, outermost first.
    files: Vec<PathBuf>,
}

/// A line after comment removal: each char with its 1-based column.
type Chars = [(u32, char)];

impl Parser {
    fn run(text: &str, file: Arc<Path>, identity: PathBuf) -> Result<Vec<Statement>, ConfigError> {
        let mut parser = Parser {
            top: Vec::new(),
            open: Vec::new(),
            files: vec![identity],
        };
        parser.read_text(text, &file)?;
        // The innermost is nearest to the missing `}`.
        if let Some(block) = parser.open.last() {
            return Err(ConfigError::at(&block.open, "this '{' is never closed"));
        }
        Ok(parser.top)
    }

    /// The statement list that new statements go to.
    fn current(&mut self) -> &mut Vec<Statement> {
        match self.open.last_mut() {
            Some(block) => &mut block.statements,
            None => &mut self.top,
        }
    }

    fn read_text(&mut self, text: &str, file: &Arc<Path>) -> Result<(), ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.split('\n').enumerate() {
            let line_no = to_u32(index + 1);
            let at = |column| Location {
                file: Arc::clone(file),
                line: line_no,
                column,
            };
            // keepalived strips every trailing '\r', not only one.
            let chars = decomment(line.trim_end_matches('\r'), &at)?;
            self.read_line(&chars, &at)?;
        }
        Ok(())
    }

    /// Cuts the line at braces, as keepalived's `read_line` does, and feeds
    /// the pieces to the tree.
    fn read_line(
        &mut self,
        chars: &Chars,
        at: &impl Fn(u32) -> Location,
    ) -> Result<(), ConfigError> {
        let mut rest = chars;
        loop {
            rest = trim_start(rest);
            let Some(&(column, c)) = rest.first() else {
                return Ok(());
            };
            match c {
                '{' => {
                    self.open_block(at(column))?;
                    rest = &rest[1..];
                }
                '}' => {
                    self.close_block(at(column))?;
                    rest = &rest[1..];
                }
                _ => {
                    if let Some(pattern) = include_pattern(rest) {
                        return self.include(&pattern, &at(column));
                    }
                    let end = brace_position(rest);
                    let mut words = split_words(&rest[..end], at)?.into_iter();
                    if let Some(keyword) = words.next() {
                        self.current().push(Statement {
                            keyword,
                            args: words.collect(),
                            block: None,
                        });
                    }
                    rest = &rest[end..];
                }
            }
        }
    }

    fn open_block(&mut self, open: Location) -> Result<(), ConfigError> {
        match self.current().pop() {
            Some(owner) if owner.block.is_none() => {
                self.open.push(OpenBlock {
                    owner,
                    open,
                    statements: Vec::new(),
                });
                Ok(())
            }
            Some(_) => Err(ConfigError::at(
                &open,
                "unexpected '{': the statement before it already has a block",
            )),
            None => Err(ConfigError::at(
                &open,
                "unexpected '{': there is no statement before it to own the block",
            )),
        }
    }

    fn close_block(&mut self, close: Location) -> Result<(), ConfigError> {
        let Some(OpenBlock {
            mut owner,
            open,
            statements,
        }) = self.open.pop()
        else {
            return Err(ConfigError::at(&close, "unexpected '}': no block is open"));
        };
        owner.block = Some(Block { open, statements });
        self.current().push(owner);
        Ok(())
    }

    /// Reads the files `pattern` names, in glob(3) order, at this point of the
    /// stream. A name without wildcards must exist; a wildcard may match nothing.
    fn include(&mut self, pattern: &str, at: &Location) -> Result<(), ConfigError> {
        if pattern.is_empty() {
            return Err(ConfigError::at(at, "include needs a file name or pattern"));
        }
        let dir = at.file.parent().unwrap_or(Path::new(""));
        for alternative in expand_braces(pattern) {
            if alternative.contains(['*', '?', '[']) {
                for path in glob_files(dir, &alternative, at)? {
                    // keepalived skips, rather than reads or fails on, what a
                    // wildcard matches that is not a regular non-executable file.
                    if fs::metadata(&path).is_ok_and(|m| is_config_file(&m)) {
                        self.include_file(path, at)?;
                    }
                }
            } else {
                self.include_file(dir.join(&alternative), at)?;
            }
        }
        Ok(())
    }

    fn include_file(&mut self, path: PathBuf, at: &Location) -> Result<(), ConfigError> {
        let identity = fs::canonicalize(&path)
            .map_err(|e| ConfigError::at(at, format!("cannot read {}: {e}", path.display())))?;
        if self.files.contains(&identity) {
            return Err(ConfigError::at(
                at,
                format!("include cycle: {} is already being read", path.display()),
            ));
        }
        if self.files.len() > MAX_INCLUDE_DEPTH {
            return Err(ConfigError::at(
                at,
                format!("includes nest more than {MAX_INCLUDE_DEPTH} deep"),
            ));
        }
        let file: Arc<Path> = Arc::from(path);
        let text = read_config(&file, Some(at))?;
        self.files.push(identity);
        self.read_text(&text, &file)?;
        self.files.pop();
        Ok(())
    }
}

/// keepalived's `WHITE_SPACE_STR`: what separates words.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

fn trim_start(chars: &Chars) -> &Chars {
    let start = chars
        .iter()
        .position(|&(_, c)| !is_blank(c))
        .unwrap_or(chars.len());
    &chars[start..]
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Drops the comment ending `line`, as keepalived's `decomment` does: a
/// backslash protects the next char from starting a comment or a quote, and
/// is dropped before `!` and `#` outside quotes.
fn decomment(line: &str, at: &impl Fn(u32) -> Location) -> Result<Vec<(u32, char)>, ConfigError> {
    let mut out = Vec::with_capacity(line.len());
    let mut chars = line.chars().enumerate().map(|(i, c)| (to_u32(i + 1), c));
    // Column of the `"` that opened the quote we are in, if any.
    let mut quote: Option<u32> = None;
    while let Some((column, c)) = chars.next() {
        match c {
            '"' => quote = if quote.is_some() { None } else { Some(column) },
            '\\' => {
                if let Some((next_column, next)) = chars.next() {
                    if quote.is_none() && matches!(next, '!' | '#') {
                        // A word starting here starts at the backslash.
                        out.push((column, next));
                    } else {
                        out.push((column, c));
                        out.push((next_column, next));
                    }
                    continue;
                }
            }
            '!' | '#' if quote.is_none() => break,
            _ => {}
        }
        out.push((column, c));
    }
    match quote {
        Some(column) => Err(ConfigError::at(&at(column), "unterminated quote")),
        None => Ok(out),
    }
}

/// The pattern of an `include` line (keepalived's `check_include`): the rest
/// of the line after `include` and blanks, braces and all.
fn include_pattern(rest: &Chars) -> Option<String> {
    const INCLUDE: &str = "include";
    let (word, after) = rest.split_at_checked(INCLUDE.len())?;
    let is_include = word.iter().map(|&(_, c)| c).eq(INCLUDE.chars())
        && after.first().is_none_or(|&(_, c)| is_blank(c));
    is_include.then(|| {
        let pattern: String = trim_start(after).iter().map(|&(_, c)| c).collect();
        pattern.trim_end_matches(is_blank).to_owned()
    })
}

/// Index of the first brace outside quotes, or the length: where keepalived's
/// `read_line` cuts the line. Its quotes know no backslash.
fn brace_position(chars: &Chars) -> usize {
    let mut i = 0;
    while let Some(&(_, c)) = chars.get(i) {
        match c {
            '{' | '}' => return i,
            '"' => match chars[i + 1..].iter().position(|&(_, c)| c == '"') {
                Some(len) => i += len + 2,
                // `split_words` reports the unterminated quote.
                None => return chars.len(),
            },
            _ => i += 1,
        }
    }
    chars.len()
}

/// Splits a brace-free piece of line into words, as keepalived's
/// `alloc_strvec_r` does.
fn split_words(chars: &Chars, at: &impl Fn(u32) -> Location) -> Result<Vec<Word>, ConfigError> {
    let text = |chars: &Chars| chars.iter().map(|&(_, c)| c).collect::<String>();
    let mut words = Vec::new();
    let mut rest = trim_start(chars);
    while let Some(&(column, c)) = rest.first() {
        let word = if c == '"' {
            let Some(len) = rest[1..].iter().position(|&(_, c)| c == '"') else {
                return Err(ConfigError::at(&at(column), "unterminated quote"));
            };
            let word = text(&rest[1..1 + len]);
            rest = &rest[len + 2..];
            word
        } else {
            let len = rest
                .iter()
                .position(|&(_, c)| is_blank(c) || c == '"')
                .unwrap_or(rest.len());
            let word = text(&rest[..len]);
            rest = &rest[len..];
            word
        };
        words.push(Word {
            text: word,
            loc: at(column),
        });
        rest = trim_start(rest);
    }
    Ok(words)
}

/// Expands `{a,b}` alternatives as glob(3) with `GLOB_BRACE` does (keepalived
/// passes it): in the order written, nested braces allowed; a `{` without its
/// `}` is an ordinary char.
fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_owned()];
    };
    let mut depth = 0;
    let mut cuts = vec![open];
    for (i, c) in pattern.char_indices().skip_while(|&(i, _)| i < open) {
        match c {
            '{' => depth += 1,
            ',' if depth == 1 => cuts.push(i),
            '}' => {
                depth -= 1;
                if depth == 0 {
                    cuts.push(i);
                    let (prefix, suffix) = (&pattern[..open], &pattern[i + 1..]);
                    return cuts
                        .windows(2)
                        .flat_map(|w| {
                            expand_braces(&format!("{prefix}{}{suffix}", &pattern[w[0] + 1..w[1]]))
                        })
                        .collect();
                }
            }
            _ => {}
        }
    }
    vec![pattern.to_owned()]
}

/// The paths matching `pattern`, relative to `dir` unless absolute, sorted as
/// glob(3) sorts them in keepalived's C locale: whole paths, bytewise.
fn glob_files(dir: &Path, pattern: &str, at: &Location) -> Result<Vec<PathBuf>, ConfigError> {
    let full = if Path::new(pattern).is_absolute() || dir.as_os_str().is_empty() {
        pattern.to_owned()
    } else {
        let dir = dir.to_str().ok_or_else(|| {
            ConfigError::at(
                at,
                format!(
                    "cannot match '{pattern}' in {}: the path is not UTF-8",
                    dir.display()
                ),
            )
        })?;
        // The directory is a name, not a pattern.
        format!("{}/{pattern}", glob::Pattern::escape(dir))
    };
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        // glob(3) without GLOB_PERIOD: wildcards do not match hidden files.
        require_literal_leading_dot: true,
    };
    let paths = glob::glob_with(&full, options)
        .map_err(|e| ConfigError::at(at, format!("invalid include pattern '{pattern}': {e}")))?;
    let mut files = paths.collect::<Result<Vec<_>, _>>().map_err(|e| {
        ConfigError::at(
            at,
            format!("cannot read {}: {}", e.path().display(), e.error()),
        )
    })?;
    files.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(files)
}

/// keepalived reads only regular files without execute permission
/// (`check_glob_file`).
fn is_config_file(meta: &fs::Metadata) -> bool {
    meta.is_file() && meta.permissions().mode() & 0o111 == 0
}

/// The text of a configuration file; I/O errors are reported at `at` (the
/// include that names it), encoding errors in the file itself.
fn read_config(file: &Arc<Path>, at: Option<&Location>) -> Result<String, ConfigError> {
    let fail = |message: String| ConfigError {
        loc: at.cloned(),
        message,
    };
    let meta =
        fs::metadata(file).map_err(|e| fail(format!("cannot read {}: {e}", file.display())))?;
    if !is_config_file(&meta) {
        return Err(fail(format!(
            "{} is not a regular non-executable file",
            file.display()
        )));
    }
    let bytes = fs::read(file).map_err(|e| fail(format!("cannot read {}: {e}", file.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        // Everything before the bad byte is valid, so lossy conversion is exact.
        let valid = String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        let valid = valid.strip_prefix('\u{feff}').unwrap_or(&valid);
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        let loc = Location {
            file: Arc::clone(file),
            line: to_u32(valid.matches('\n').count() + 1),
            column: to_u32(valid[line_start..].chars().count() + 1),
        };
        ConfigError::at(&loc, "invalid UTF-8")
    })
}
