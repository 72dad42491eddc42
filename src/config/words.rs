//! Reading a statement's arguments, with errors that point at the word.

use std::net::IpAddr;
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

/// A statement that is a bare flag: no value, no block.
pub fn bare(st: &Statement) -> Result<(), ConfigError> {
    no_block(st)?;
    match st.args.first() {
        None => Ok(()),
        Some(w) => Err(ConfigError::at(
            &w.loc,
            format!(
                "{} takes no value; unexpected '{}'",
                st.keyword.text, w.text
            ),
        )),
    }
}

/// keepalived's optional `<BOOL>` after a flag (`check_true_false` in
/// lib/parser.c): alone it means true, else true|on|yes or false|off|no.
pub fn flag(st: &Statement) -> Result<bool, ConfigError> {
    no_block(st)?;
    match st.args.as_slice() {
        [] => Ok(true),
        [w] => match w.text.as_str() {
            "true" | "on" | "yes" => Ok(true),
            "false" | "off" | "no" => Ok(false),
            _ => Err(ConfigError::at(
                &w.loc,
                format!(
                    "'{}' is not a boolean (true, on, yes, false, off or no)",
                    w.text
                ),
            )),
        },
        [_, extra, ..] => Err(ConfigError::at(
            &extra.loc,
            format!(
                "{} takes at most one value; unexpected '{}'",
                st.keyword.text, extra.text
            ),
        )),
    }
}

/// The smallest duration [`seconds`] reads other than 0 (keepalived's
/// TIMER_HZ is 1,000,000): as `min`, "more than 0".
pub const MICROSECOND: Duration = Duration::from_micros(1);

/// keepalived's decimal seconds (lib/parser.c: `read_timer` and
/// `read_decimal_unsigned_strvec`, both read_decimal_unsigned_long_func,
/// here with six decimals): digits with an optional decimal point, at
/// most six decimals, no sign, from `min` to `max`; a `min` of
/// [`MICROSECOND`] refuses only 0. keepalived rounds extra decimals with
/// a warning; here they are an error. Every keyword in seconds uses it.
pub fn seconds(w: &Word, min: Duration, max: Duration) -> Result<Duration, ConfigError> {
    let bad = || {
        ConfigError::at(
            &w.loc,
            format!(
                "'{}' is not a number of seconds (e.g. 3 or 0.5, at most six decimals)",
                w.text
            ),
        )
    };
    let (whole, frac) = w.text.split_once('.').unwrap_or((&w.text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || frac.len() > 6 {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let micros: u32 = format!("{frac:0<6}").parse().map_err(|_| bad())?;
    let d = Duration::new(secs, micros * 1000);
    if d < min {
        let msg = if min <= MICROSECOND {
            format!("{} s: must be more than 0", w.text)
        } else {
            format!(
                "{} s is too short: at least {} s",
                w.text,
                min.as_secs_f64()
            )
        };
        return Err(ConfigError::at(&w.loc, msg));
    }
    if d > max {
        return Err(ConfigError::at(
            &w.loc,
            format!("{} s is too long: at most {} s", w.text, max.as_secs_f64()),
        ));
    }
    Ok(d)
}

/// A whole number from `min` to `max`; `what` names it in the message.
pub fn ranged<T>(w: &Word, what: &str, min: T, max: T) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let n: T = w.text.parse().map_err(|_| {
        ConfigError::at(
            &w.loc,
            format!("'{}' is not a valid {what} ({min} to {max})", w.text),
        )
    })?;
    if n < min || n > max {
        return Err(ConfigError::at(
            &w.loc,
            format!("{what} {} is out of range: {min} to {max}", w.text),
        ));
    }
    Ok(n)
}

/// An IPv4 or IPv6 address, without port, prefix or scope.
pub fn ip(w: &Word) -> Result<IpAddr, ConfigError> {
    w.text.parse().map_err(|_| {
        ConfigError::at(
            &w.loc,
            format!("'{}' is not an IPv4 or IPv6 address", w.text),
        )
    })
}

/// A port, 0 to 65535.
pub fn port(w: &Word) -> Result<u16, ConfigError> {
    w.text
        .parse()
        .map_err(|_| ConfigError::at(&w.loc, format!("'{}' is not a port (0 to 65535)", w.text)))
}

/// An interface name as the kernel takes it (net/core/dev.c
/// dev_valid_name, which keepalived copies): 1 to 15 bytes, not `.` or
/// `..`, no `/`, `:` or blank. Whether it exists is for the daemon to see:
/// interfaces come and go, a configuration test should not depend on them.
pub fn ifname(w: &Word) -> Result<&str, ConfigError> {
    let name = w.text.as_str();
    let bad = |why: &str| {
        Err(ConfigError::at(
            &w.loc,
            format!("'{name}' is not an interface name: {why}"),
        ))
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() >= IFNAMSIZ {
        return bad("longer than 15 bytes");
    }
    if name == "." || name == ".." {
        return bad("'.' and '..' are not allowed");
    }
    if name.contains(|c: char| c == '/' || c == ':' || c.is_whitespace()) {
        return bad("'/', ':' and blanks are not allowed");
    }
    Ok(name)
}

/// IFNAMSIZ (linux/if.h): names are shorter.
pub const IFNAMSIZ: usize = 16;
