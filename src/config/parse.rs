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
//! - A line (or the piece of one after a brace) starting `@ID` followed by
//!   a blank is read without the prefix when ID is the configuration id
//!   (`-i/--config-id`, by default the host name up to its first dot), and
//!   dropped otherwise; `@^ID` is the reverse, read unless ID is the id. A
//!   prefix with nothing after it drops the line. With no id, every `@ID`
//!   line is dropped and every `@^ID` line read. keepalived 2.2.7 checks
//!   the prefix once, before `include` (lib/parser.c `read_line`).
//!
//! keepalived's `$NAME=value` definitions, `~SEQ`/`~LST`
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

/// Reads the configuration file `path` and every file it includes, with
/// no configuration id (`@ID` lines dropped, `@^ID` lines read).
pub fn parse_file(path: &Path) -> Result<Vec<Statement>, ConfigError> {
    parse_file_as(path, None)
}

/// Reads the configuration file `path` and every file it includes, for
/// the configuration id `config_id` (the `@ID` line prefixes).
pub fn parse_file_as(path: &Path, config_id: Option<&str>) -> Result<Vec<Statement>, ConfigError> {
    let file: Arc<Path> = Arc::from(path);
    let text = read_config(&file, None)?;
    let identity = fs::canonicalize(path).map_err(|e| ConfigError {
        loc: None,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    Parser::run(&text, file, identity, config_id)
}

/// Parses `text` as the contents of `file`; includes are resolved relative to
/// `file`'s directory. No configuration id.
pub fn parse_str(text: &str, file: &Path) -> Result<Vec<Statement>, ConfigError> {
    parse_str_as(text, file, None)
}

/// [`parse_str`] for the configuration id `config_id`.
pub fn parse_str_as(
    text: &str,
    file: &Path,
    config_id: Option<&str>,
) -> Result<Vec<Statement>, ConfigError> {
    // The text need not be on disk; when it is, including it again is a cycle.
    let identity = fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    Parser::run(text, Arc::from(file), identity, config_id)
}

/// keepalived's default configuration id (core/main.c): this machine's
/// node name (uname's, which the kernel also shows in
/// /proc/sys/kernel/hostname) up to its first dot; None if it cannot be
/// read.
pub fn default_config_id() -> Option<String> {
    let name = fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim_end_matches('\n');
    Some(name.split('.').next().unwrap_or_default().to_owned())
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
    /// What `@ID` prefixes are compared with.
    config_id: Option<String>,
}

/// A line after comment removal: each char with its 1-based column.
type Chars = [(u32, char)];

impl Parser {
    fn run(
        text: &str,
        file: Arc<Path>,
        identity: PathBuf,
        config_id: Option<&str>,
    ) -> Result<Vec<Statement>, ConfigError> {
        let mut parser = Parser {
            top: Vec::new(),
            open: Vec::new(),
            files: vec![identity],
            config_id: config_id.map(str::to_owned),
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
                '@' => match conditional(rest, self.config_id.as_deref()) {
                    Some(kept) => rest = kept,
                    None => return Ok(()),
                },
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

/// An `@ID` or `@^ID` piece of line (keepalived's `read_line`): the rest
/// after the prefix and its blanks when it is to be read, None when it is
/// dropped. The id runs to the first space or tab; a prefix with nothing
/// after it drops the line.
fn conditional<'c>(rest: &'c Chars, config_id: Option<&str>) -> Option<&'c Chars> {
    let (reverse, after) = match rest.get(1) {
        Some((_, '^')) => (true, &rest[2..]),
        _ => (false, &rest[1..]),
    };
    let len = after.iter().position(|&(_, c)| c == ' ' || c == '\t')?;
    let matches = config_id.is_some_and(|id| after[..len].iter().map(|&(_, c)| c).eq(id.chars()));
    (matches != reverse).then(|| trim_start(&after[len..]))
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

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/nonexistent/test.conf";

    fn parse(text: &str) -> Vec<Statement> {
        parse_str(text, Path::new(FILE)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> ConfigError {
        match parse_str(text, Path::new(FILE)) {
            Ok(tree) => panic!("parsed, but should fail: {}", render(&tree)),
            Err(e) => e,
        }
    }

    /// The tree on one line: statements joined by "; ", words needing quotes
    /// quoted, blocks in braces.
    fn render(statements: &[Statement]) -> String {
        let word = |w: &Word| {
            if w.text.is_empty() || w.text.contains(is_blank) {
                format!("{:?}", w.text)
            } else {
                w.text.clone()
            }
        };
        let statement = |st: &Statement| {
            let mut s = std::iter::once(&st.keyword)
                .chain(&st.args)
                .map(word)
                .collect::<Vec<_>>()
                .join(" ");
            match &st.block {
                Some(b) if b.statements.is_empty() => s.push_str(" { }"),
                Some(b) => s.push_str(&format!(" {{ {} }}", render(&b.statements))),
                None => {}
            }
            s
        };
        statements
            .iter()
            .map(statement)
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn pos(loc: &Location) -> (u32, u32) {
        (loc.line, loc.column)
    }

    fn args(st: &Statement) -> Vec<&str> {
        st.args.iter().map(|w| w.text.as_str()).collect()
    }

    fn block(st: &Statement) -> &[Statement] {
        match &st.block {
            Some(b) => &b.statements,
            None => panic!("{} has no block", st.keyword.text),
        }
    }

    fn named<'a>(statements: &'a [Statement], keyword: &str) -> Vec<&'a Statement> {
        statements
            .iter()
            .filter(|st| st.keyword.text == keyword)
            .collect()
    }

    fn assert_error(e: &ConfigError, file: &Path, at: (u32, u32), message: &str) {
        let loc = e.loc.as_ref().unwrap_or_else(|| panic!("no location: {e}"));
        assert_eq!((&*loc.file, pos(loc)), (file, at), "{e}");
        assert!(e.message.contains(message), "{e}");
    }

    /// A scratch directory under the system's temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            let path = std::env::temp_dir().join(format!(
                "afcluster-config-parse-{}-{test}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
            let path = self.0.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn nested_blocks() {
        let tree = parse(
            "global_defs {\n   notification_email {\n     acassen\n   }\n   router_id LVS\n}\n\
             virtual_server 10.0.0.1 80 {\n  delay_loop 6\n  real_server 10.0.0.2 80 {\n    weight 1\n  }\n}\n",
        );
        assert_eq!(
            render(&tree),
            "global_defs { notification_email { acassen }; router_id LVS }; \
             virtual_server 10.0.0.1 80 { delay_loop 6; real_server 10.0.0.2 80 { weight 1 } }"
        );
        let rs = &block(&tree[1])[1];
        assert_eq!(args(rs), ["10.0.0.2", "80"]);
        assert_eq!(pos(&rs.keyword.loc), (9, 3));
        assert_eq!(pos(&rs.block.as_ref().unwrap().open), (9, 27));
    }

    #[test]
    fn brace_on_a_later_line() {
        let tree =
            parse("virtual_server 10.0.0.1 80\n\n! comment\n   {\n  delay_loop 6\n}\nnext\n");
        assert_eq!(
            render(&tree),
            "virtual_server 10.0.0.1 80 { delay_loop 6 }; next"
        );
        assert_eq!(pos(&tree[0].block.as_ref().unwrap().open), (4, 4));
    }

    #[test]
    fn one_line_blocks_hold_one_statement_per_piece() {
        let tree =
            parse("real_server 10.0.0.2 80 { weight 1 }\na { b 1 c 2 }\nx { } y { z { w } }\n");
        assert_eq!(
            render(&tree),
            "real_server 10.0.0.2 80 { weight 1 }; a { b 1 c 2 }; x { }; y { z { w } }"
        );
        // keepalived reads `b 1 c 2` as one line: one statement, three arguments.
        let a = block(&tree[1]);
        assert_eq!(a.len(), 1);
        assert_eq!(args(&a[0]), ["1", "c", "2"]);
        assert_eq!(pos(&a[0].args[1].loc), (2, 9));
    }

    #[test]
    fn braces_glued_to_words_stand_alone() {
        let tree = parse("a{b}c\nd{\n}e f\ng {\n  h 1 }\n");
        assert_eq!(render(&tree), "a { b }; c; d { }; e f; g { h 1 }");
        assert_eq!(pos(&tree[0].block.as_ref().unwrap().open), (1, 2));
        assert_eq!(pos(&tree[1].keyword.loc), (1, 5));
        assert_eq!(pos(&tree[3].keyword.loc), (3, 2));
    }

    #[test]
    fn comments_in_every_position() {
        let tree = parse(
            "! leading\n# hash\na 1 # trailing\nb { ! after a brace\n  # alone in a block\n  c 2!glued\n\
             } # after a close\n   ! indented\nd \"x # not ! a comment\" e\nf \\#literal g\\!h\n{#\n}!\n",
        );
        assert_eq!(
            render(&tree),
            "a 1; b { c 2 }; d \"x # not ! a comment\" e; f #literal g!h { }"
        );
        let f = &tree[3];
        assert_eq!(pos(&f.args[0].loc), (10, 3));
        assert_eq!(pos(&f.args[1].loc), (10, 13));
    }

    #[test]
    fn quoted_words() {
        let tree = parse(
            "misc_path \"/usr/bin/check arg1  arg2\"\na \"\" b\nc\"d e\"f\nk \"x{y} } {\" {\n z\n}\nq \"a\\b\"\n",
        );
        assert_eq!(
            render(&tree),
            "misc_path \"/usr/bin/check arg1  arg2\"; a \"\" b; c \"d e\" f; k \"x{y} } {\" { z }; q a\\b"
        );
        assert_eq!(pos(&tree[0].args[0].loc), (1, 11));
        assert_eq!(pos(&tree[2].args[0].loc), (3, 2));
        assert_eq!(pos(&tree[2].args[1].loc), (3, 7));
        assert_eq!(pos(&tree[3].block.as_ref().unwrap().open), (4, 14));
    }

    #[test]
    fn locations_count_chars_through_bom_tabs_and_crlf() {
        let tree = parse("\u{feff}a 1\r\n\tb  \"c d\" {\r\n  ключ é x\r\n}");
        assert_eq!(render(&tree), "a 1; b \"c d\" { ключ é x }");
        assert_eq!(&*tree[0].keyword.loc.file, Path::new(FILE));
        assert_eq!(pos(&tree[0].keyword.loc), (1, 1));
        assert_eq!(pos(&tree[0].args[0].loc), (1, 3));
        assert_eq!(pos(&tree[1].keyword.loc), (2, 2));
        assert_eq!(pos(&tree[1].args[0].loc), (2, 5));
        assert_eq!(pos(&tree[1].block.as_ref().unwrap().open), (2, 11));
        let inner = &block(&tree[1])[0];
        assert_eq!(pos(&inner.args[0].loc), (3, 8));
        assert_eq!(pos(&inner.args[1].loc), (3, 10));
    }

    #[test]
    fn display() {
        let loc = Location {
            file: Arc::from(Path::new("/etc/k.conf")),
            line: 3,
            column: 7,
        };
        assert_eq!(loc.to_string(), "/etc/k.conf:3:7");
        assert_eq!(
            ConfigError::at(&loc, "boom").to_string(),
            "/etc/k.conf:3:7: boom"
        );
        let bare = ConfigError {
            loc: None,
            message: "boom".into(),
        };
        assert_eq!(bare.to_string(), "boom");
    }

    #[test]
    fn unterminated_quotes() {
        let file = Path::new(FILE);
        assert_error(
            &parse_err("a 1\nb \"c d\n"),
            file,
            (2, 3),
            "unterminated quote",
        );
        // The comment char is quoted, so the quote runs to the end of the line.
        assert_error(
            &parse_err("a \"b # c\n"),
            file,
            (1, 3),
            "unterminated quote",
        );
        // keepalived's comment stripper skips `\"`, its word splitter does not:
        // the words are `b\` and `c`, then a lone quote.
        assert_error(
            &parse_err("a \"b\\\" c\"\n"),
            file,
            (1, 9),
            "unterminated quote",
        );
    }

    #[test]
    fn unbalanced_braces() {
        let file = Path::new(FILE);
        assert_error(&parse_err("a {\n}\n  }\n"), file, (3, 3), "unexpected '}'");
        assert_error(
            &parse_err("a {\n  b {\n  }\n  c {\n"),
            file,
            (4, 5),
            "never closed",
        );
        assert_error(&parse_err("x {"), file, (1, 3), "never closed");
        assert_error(
            &parse_err("{ a }\n"),
            file,
            (1, 1),
            "no statement before it",
        );
        assert_error(
            &parse_err("a {\n{ b }\n}\n"),
            file,
            (2, 1),
            "no statement before it",
        );
        assert_error(
            &parse_err("a { }\n{\n}\n"),
            file,
            (2, 1),
            "already has a block",
        );
    }

    #[test]
    fn include_glob_in_sorted_order_spliced_in_place() {
        let dir = TempDir::new("glob");
        let main = dir.write(
            "main.conf",
            "first\ninclude conf.d/*.conf # comment\nlast\n",
        );
        let a = dir.write("conf.d/a.conf", "a 1\n");
        dir.write("conf.d/b.conf", "b 2");
        dir.write("conf.d/B.conf", "B 3");
        dir.write("conf.d/c.txt", "c 3\n");
        dir.write("conf.d/.hidden.conf", "hidden\n");
        let tree = parse_file(&main).unwrap();
        assert_eq!(render(&tree), "first; B 3; a 1; b 2; last");
        assert_eq!(&*tree[2].keyword.loc.file, a.as_path());
        assert_eq!(pos(&tree[2].args[0].loc), (1, 3));
        assert_eq!(&*tree[4].keyword.loc.file, main.as_path());
        assert_eq!(pos(&tree[4].keyword.loc), (3, 1));
    }

    #[test]
    fn include_inside_blocks_and_after_a_brace() {
        let dir = TempDir::new("nested");
        let main = dir.write(
            "main.conf",
            "vs {\n  include rs.conf\n}\nother { include more.conf\n}\n",
        );
        dir.write("rs.conf", "real_server 1 {\n  weight 1\n}\n");
        dir.write("more.conf", "x 1\n");
        assert_eq!(
            render(&parse_file(&main).unwrap()),
            "vs { real_server 1 { weight 1 } }; other { x 1 }"
        );
    }

    #[test]
    fn include_paths_are_relative_to_the_including_file() {
        let dir = TempDir::new("relative");
        dir.write("leaf.conf", "wrong\n");
        dir.write("sub/inner.conf", "inner\ninclude leaf.conf\n");
        dir.write("sub/leaf.conf", "leaf\n");
        let absolute = dir.write("elsewhere/abs.conf", "abs\n");
        let text = format!("include sub/inner.conf\ninclude {}\n", absolute.display());
        let tree = parse_str(&text, &dir.0.join("main.conf")).unwrap();
        assert_eq!(render(&tree), "inner; leaf; abs");
    }

    #[test]
    fn include_takes_the_rest_of_the_line() {
        // As in keepalived, braces after the pattern belong to it.
        let dir = TempDir::new("rest");
        let main = dir.write("main.conf", "a { include x.conf }\n");
        dir.write("x.conf", "x\n");
        assert_error(&parse_file(&main).unwrap_err(), &main, (1, 5), "x.conf }");
    }

    #[test]
    fn include_without_pattern_is_an_error() {
        let file = Path::new(FILE);
        assert_error(
            &parse_err("a\n  include\n"),
            file,
            (2, 3),
            "needs a file name",
        );
        assert_error(
            &parse_err("include   # nothing\n"),
            file,
            (1, 1),
            "needs a file name",
        );
        // Only the word `include` is special.
        assert_eq!(
            render(&parse("includes x\n\"include\" y\n")),
            "includes x; include y"
        );
    }

    #[test]
    fn missing_named_include_is_an_error_but_empty_wildcard_is_not() {
        let dir = TempDir::new("missing");
        let main = dir.write(
            "main.conf",
            "a\ninclude none/*.conf\ninclude [x]y.conf\n  include nothere.conf\n",
        );
        let e = parse_file(&main).unwrap_err();
        assert_error(&e, &main, (4, 3), "nothere.conf");
        assert!(e.message.contains("No such file or directory"), "{e}");
    }

    #[test]
    fn include_brace_alternatives_in_written_order() {
        let dir = TempDir::new("braces");
        let main = dir.write("main.conf", "include {b,a}.conf\ninclude x{1,{3,2}}.conf\n");
        for name in ["a", "b", "x1", "x2", "x3"] {
            dir.write(&format!("{name}.conf"), name);
        }
        assert_eq!(render(&parse_file(&main).unwrap()), "b; a; x1; x3; x2");
        assert_eq!(expand_braces("a{b,c{d,e}}f"), ["abf", "acdf", "acef"]);
        assert_eq!(expand_braces("{x}"), ["x"]);
        assert_eq!(expand_braces("no{brace"), ["no{brace"]);
    }

    #[test]
    fn wildcards_skip_directories_and_executables_names_do_not() {
        let dir = TempDir::new("skip");
        dir.write("conf.d/a.conf", "a\n");
        fs::create_dir_all(dir.0.join("conf.d/sub.conf")).unwrap();
        let script = dir.write("conf.d/run.conf", "run\n");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let main = dir.write("main.conf", "include conf.d/*.conf\n");
        assert_eq!(render(&parse_file(&main).unwrap()), "a");

        let main = dir.write("main.conf", "include conf.d/run.conf\n");
        assert_error(
            &parse_file(&main).unwrap_err(),
            &main,
            (1, 1),
            "not a regular non-executable file",
        );
        let main = dir.write("main.conf", "include conf.d/sub.conf\n");
        assert_error(
            &parse_file(&main).unwrap_err(),
            &main,
            (1, 1),
            "not a regular non-executable file",
        );
    }

    #[test]
    fn include_dir_with_glob_chars_in_its_name() {
        let dir = TempDir::new("meta");
        let main = dir.write("x[1]*/main.cfg", "include *.conf\n");
        dir.write("x[1]*/other.conf", "other\n");
        assert_eq!(render(&parse_file(&main).unwrap()), "other");
    }

    #[test]
    fn files_are_one_stream() {
        // keepalived reads includes as part of one stream: a block may close
        // in another file than the one that opened it.
        let dir = TempDir::new("stream");
        let main = dir.write("main.conf", "a {\n  include inner.conf\nc 2\n");
        dir.write("inner.conf", "b 1\n}\n");
        assert_eq!(render(&parse_file(&main).unwrap()), "a { b 1 }; c 2");

        let inner = dir.write("inner.conf", "b {\n");
        let main = dir.write("main.conf", "include inner.conf\n");
        assert_error(
            &parse_file(&main).unwrap_err(),
            &inner,
            (1, 3),
            "never closed",
        );
    }

    #[test]
    fn include_cycles_are_errors() {
        let dir = TempDir::new("cycle");
        let a = dir.write("a.conf", "x\ninclude b.conf\n");
        let b = dir.write("b.conf", "y\n\ninclude ./a.conf\n");
        let e = parse_file(&a).unwrap_err();
        assert_error(&e, &b, (3, 1), "include cycle");

        // parse_str knows the text is that of a file on disk.
        let e = parse_str("include a.conf\n", &a).unwrap_err();
        assert_error(&e, &a, (1, 1), "include cycle");
    }

    #[test]
    fn includes_nest_at_most_16_deep() {
        let dir = TempDir::new("depth");
        let chain = |depth: usize| {
            for n in 0..depth {
                dir.write(&format!("f{n}.conf"), format!("include f{}.conf\n", n + 1));
            }
            dir.write(&format!("f{depth}.conf"), "leaf\n");
            parse_file(&dir.0.join("f0.conf"))
        };
        assert_eq!(render(&chain(MAX_INCLUDE_DEPTH).unwrap()), "leaf");
        let e = chain(MAX_INCLUDE_DEPTH + 1).unwrap_err();
        let last = dir.0.join(format!("f{MAX_INCLUDE_DEPTH}.conf"));
        assert_error(&e, &last, (1, 1), "more than 16 deep");
    }

    #[test]
    fn file_errors() {
        let dir = TempDir::new("files");
        let missing = dir.0.join("missing.conf");
        let e = parse_file(&missing).unwrap_err();
        assert_eq!(e.loc, None);
        assert!(
            e.message.contains("missing.conf") && e.message.contains("No such file"),
            "{e}"
        );

        let bad = dir.write("bad.conf", b"a 1\nb \xc3\xa9 \xff\n");
        assert_error(
            &parse_file(&bad).unwrap_err(),
            &bad,
            (2, 5),
            "invalid UTF-8",
        );
        let main = dir.write("main.conf", "\n include bad.conf\n");
        assert_error(
            &parse_file(&main).unwrap_err(),
            &bad,
            (2, 5),
            "invalid UTF-8",
        );
    }

    #[test]
    fn config_id_prefixes() {
        let text = "@high a 1\n@low a 2\n  @^high b 3\n@^low b 4\n@high\n@high # only a comment\n\
                    z {\n@low w 2\n}\n@highest c 5\n@high\tinclude_not 6\n";
        let as_id = |id| render(&parse_str_as(text, Path::new(FILE), id).unwrap());
        assert_eq!(as_id(Some("high")), "a 1; b 4; z { }; include_not 6");
        assert_eq!(as_id(Some("low")), "a 2; b 3; z { w 2 }");
        // No id: every @ID line is dropped, every @^ID line read.
        assert_eq!(as_id(None), "b 3; b 4; z { }");
        // The prefix goes before the keyword's location is taken.
        let tree = parse_str_as("@high   a 1\n", Path::new(FILE), Some("high")).unwrap();
        assert_eq!(pos(&tree[0].keyword.loc), (1, 9));
        // An @ inside a line is an ordinary character.
        assert_eq!(render(&parse("a @high 1\n")), "a @high 1");
    }

    #[test]
    fn a_dropped_config_id_piece_takes_the_rest_of_its_line() {
        // As keepalived: after a brace the rest of the line is a line of
        // its own, and dropping it drops the braces in it too.
        let text = "x { @high y 1 }\n";
        let tree = parse_str_as(text, Path::new(FILE), Some("high")).unwrap();
        assert_eq!(render(&tree), "x { y 1 }");
        let e = parse_str_as(text, Path::new(FILE), Some("low")).unwrap_err();
        assert_error(&e, Path::new(FILE), (1, 3), "never closed");
    }

    #[test]
    fn config_id_prefix_before_include() {
        let dir = TempDir::new("condinc");
        dir.write("a.conf", "from_a\n");
        let main = dir.write("main.conf", "@one include a.conf\n@^one include a.conf\n");
        assert_eq!(
            render(&parse_file_as(&main, Some("one")).unwrap()),
            "from_a"
        );
        assert_eq!(
            render(&parse_file_as(&main, Some("two")).unwrap()),
            "from_a"
        );
        assert_eq!(render(&parse_file(&main).unwrap()), "from_a");
    }

    #[test]
    fn the_default_config_id_is_the_host_name_to_its_first_dot() {
        let host = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        let id = default_config_id().unwrap();
        assert!(
            host.starts_with(&id) && !id.contains('.') && !id.contains('\n'),
            "{id}"
        );
    }

    /// keepalived's own samples, from Debian's keepalived package
    /// (scripts/install-deps installs it).
    fn sample(name: &str) -> Vec<Statement> {
        let path = Path::new("/usr/share/doc/keepalived/samples").join(name);
        parse_file(&path).unwrap_or_else(|e| panic!("{e} (is keepalived installed?)"))
    }

    #[test]
    fn keepalived_sample() {
        let tree = sample("keepalived.conf.sample");
        let keywords: Vec<_> = tree.iter().map(|st| st.keyword.text.as_str()).collect();
        assert_eq!(keywords, ["global_defs", "vrrp_instance", "virtual_server"]);
        let email = &named(block(&tree[0]), "notification_email")[0];
        assert_eq!(render(block(email)), "acassen");
        let vips = named(block(&tree[1]), "virtual_ipaddress");
        assert_eq!(block(vips[0]).len(), 3);

        let vs = &tree[2];
        assert_eq!(args(vs), ["10.10.10.2", "1358"]);
        assert_eq!(pos(&vs.keyword.loc), (26, 1));
        assert_eq!(block(vs).len(), 7);
        let real = named(block(vs), "real_server");
        assert_eq!(real.len(), 1);
        assert_eq!(args(real[0]), ["192.168.200.2", "1358"]);
        let http = named(block(real[0]), "HTTP_GET");
        let url = named(block(http[0]), "url");
        assert_eq!(
            render(block(url[0])),
            "path /testurl3/test.jsp; digest 640205b7b0fc66c1ea91c463fac6334d"
        );
    }

    #[test]
    fn keepalived_quorum_sample() {
        let tree = sample("keepalived.conf.quorum");
        assert_eq!(tree.len(), 1);
        let vs = &tree[0];
        assert_eq!(args(vs), ["10.0.1.1", "80"]);
        assert_eq!(
            args(named(block(vs), "quorum_up")[0]),
            ["/usr/local/sbin/quorum-up.sh"]
        );
        let real = named(block(vs), "real_server");
        assert_eq!(real.len(), 10);
        for (n, rs) in real.iter().enumerate() {
            let ip = format!("10.0.0.{}", n + 1);
            assert_eq!(args(rs), [ip.as_str(), "8080"]);
            assert_eq!(
                render(block(rs)),
                "weight 1; TCP_CHECK { connect_port 80; connect_timeout 3 }"
            );
        }
    }

    #[test]
    fn keepalived_virtualhost_and_misc_check_arg_samples() {
        let tree = sample("keepalived.conf.virtualhost");
        let vs = &named(&tree, "virtual_server")[0];
        let vhost = named(block(vs), "virtualhost")[0];
        assert_eq!(args(vhost), ["www.firewall.loc"]);
        let real = named(block(vs), "real_server");
        assert_eq!(real.len(), 1);
        let ssl = named(block(real[0]), "SSL_GET")[0];
        assert_eq!(named(block(ssl), "url").len(), 2);

        let tree = sample("keepalived.conf.misc_check_arg");
        let vs = &named(&tree, "virtual_server")[0];
        let real = named(block(vs), "real_server")[0];
        let misc = named(block(real), "MISC_CHECK")[0];
        let path = &named(block(misc), "misc_path")[0];
        assert_eq!(args(path), ["/usr/local/bin/script.sh arg1 arg2"]);
        assert_eq!(pos(&path.args[0].loc), (23, 21));
    }
}
