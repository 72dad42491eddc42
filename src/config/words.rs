//! Reading a statement's arguments, with errors that point at the word.

use std::str::FromStr;
use std::time::Duration;

use super::parse::{Block, ConfigError, Statement, Word};

/// The statement's block, which it must have.
pub fn block(st: &Statement) -> Result<&Block, ConfigError> {
    match &st.block {
        Some(b) if st.args.is_empty() => Ok(b),
        Some(_) => Err(ConfigError::at(
            &st.args[0].loc,
            format!("{} takes no arguments before its block", st.keyword.text),
        )),
        None => Err(ConfigError::at(
            &st.keyword.loc,
            format!("{} needs a {{ block }}", st.keyword.text),
        )),
    }
}

/// The statement's only argument; no block allowed.
pub fn one(st: &Statement) -> Result<&Word, ConfigError> {
    no_block(st)?;
    match st.args.as_slice() {
        [w] => Ok(w),
        [] => Err(ConfigError::at(
            &st.keyword.loc,
            format!("{} needs a value", st.keyword.text),
        )),
        [_, extra, ..] => Err(ConfigError::at(
            &extra.loc,
            format!(
                "{} takes one value; unexpected '{}'",
                st.keyword.text, extra.text
            ),
        )),
    }
}

pub fn no_block(st: &Statement) -> Result<(), ConfigError> {
    match &st.block {
        Some(b) => Err(ConfigError::at(
            &b.open,
            format!("{} takes no block", st.keyword.text),
        )),
        None => Ok(()),
    }
}

/// A number of type T; `what` says what it is for the message.
pub fn number<T: FromStr>(w: &Word, what: &str) -> Result<T, ConfigError> {
    w.text
        .parse()
        .map_err(|_| ConfigError::at(&w.loc, format!("'{}' is not a valid {what}", w.text)))
}

/// Seconds, with decimals as keepalived allows ("1.5"); at least `min`.
pub fn seconds(w: &Word, min: Duration) -> Result<Duration, ConfigError> {
    let bad = || {
        ConfigError::at(
            &w.loc,
            format!("'{}' is not a number of seconds (e.g. 3 or 0.5)", w.text),
        )
    };
    let s: f64 = w.text.parse().map_err(|_| bad())?;
    let d = Duration::try_from_secs_f64(s).map_err(|_| bad())?;
    if d < min {
        return Err(ConfigError::at(
            &w.loc,
            format!(
                "{} s is too short: at least {} s",
                w.text,
                min.as_secs_f64()
            ),
        ));
    }
    Ok(d)
}

/// An octal file mode such as 0660.
pub fn mode(w: &Word) -> Result<u32, ConfigError> {
    u32::from_str_radix(&w.text, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| {
            ConfigError::at(
                &w.loc,
                format!("'{}' is not an octal file mode (e.g. 0660)", w.text),
            )
        })
}
