//! Helpers for the configuration's tests.

use std::path::Path;

use super::{Config, ConfigError, ConfigErrors};

pub const FILE: &str = "/etc/afclusterd/t.conf";

/// The lines joined: line n of the text is `lines[n - 1]`.
pub fn text(lines: &[&str]) -> String {
    lines.join("\n") + "\n"
}

pub fn load(lines: &[&str]) -> Result<Config, ConfigErrors> {
    Config::from_text(&text(lines), Path::new(FILE))
}

pub fn ok(lines: &[&str]) -> Config {
    load(lines).unwrap_or_else(|e| panic!("{e}"))
}

/// Every `want` ("L:C: message start") is in the errors, and there are
/// exactly as many errors.
pub fn assert_errors(lines: &[&str], want: &[&str]) {
    let e = load(lines).expect_err("the configuration should be refused");
    assert_messages(&e.0, want);
}

/// Every `want` ("L:C: message start") is among `got`, and there are
/// exactly as many.
pub fn assert_messages(got: &[ConfigError], want: &[&str]) {
    let text: Vec<String> = got.iter().map(|e| e.to_string()).collect();
    let all = text.join("\n");
    for w in want {
        let w = format!("{FILE}:{w}");
        assert!(
            text.iter().any(|t| t.starts_with(&w)),
            "missing {w:?} in:\n{all}"
        );
    }
    assert_eq!(got.len(), want.len(), "{all}");
}
