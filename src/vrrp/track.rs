//! What a tracked object does to an instance: keepalived's rule for
//! track_script, track_file and track_interface weights
//! (vrrp/vrrp_track.c, `process_script_update_priority`), which afclusterd
//! applies to track_node too, with "ok" meaning the node is `up`.

use super::script::Health;

/// One tracked object's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Weight 0 and failed (ok, if reversed): the instance goes to FAULT.
    Fault,
    /// Added to the instance's priority (possibly 0 or negative).
    Add(i32),
}

/// A positive weight is added while the object is ok, a negative one
/// while it is not; `reverse` inverts the sense (the weight is subtracted
/// instead). Weight 0 makes the object's failure a FAULT.
pub fn effect(weight: i32, reverse: bool, ok: bool) -> Effect {
    let m = if reverse { -1 } else { 1 };
    if weight == 0 {
        return if ok != reverse {
            Effect::Add(0)
        } else {
            Effect::Fault
        };
    }
    Effect::Add(match (weight > 0, ok) {
        (true, true) | (false, false) => weight * m,
        _ => 0,
    })
}

/// A tracked script's effect: as [`effect`] once it has run; before,
/// nothing (a weight-0 tracker holds a starting instance in INIT instead,
/// which is the daemon's to do).
pub fn script_effect(weight: i32, reverse: bool, health: Health) -> Effect {
    match health {
        Health::Unknown => Effect::Add(0),
        Health::Good => effect(weight, reverse, true),
        Health::Failed => effect(weight, reverse, false),
    }
}

/// A tracked file's effect (trackers/track_file.c,
/// `update_track_file_status`): weight 0 is FAULT while the number is not
/// 0 (while it is 0, if reversed); otherwise the priority moves by number
/// × weight (negated if reversed), at most +253, and −254 or less is FAULT.
pub fn file_effect(value: i64, weight: i32, reverse: bool) -> Effect {
    if weight == 0 {
        return if (value != 0) != reverse {
            Effect::Fault
        } else {
            Effect::Add(0)
        };
    }
    let m = if reverse { -1 } else { 1 };
    let moved = value.saturating_mul(i64::from(weight) * m).clamp(-254, 253);
    if moved == -254 {
        Effect::Fault
    } else {
        Effect::Add(moved as i32)
    }
}

/// The number a tracked file holds, read as keepalived reads it (C's
/// `strtol(buf, NULL, 0)` over its first 127 bytes): leading blanks, a
/// sign, then hex after `0x`, octal after `0`, else decimal, up to the
/// first other character; nothing numeric is 0. None: a number out of
/// keepalived's range, which it ignores (the last value stands).
pub fn file_value(content: &[u8]) -> Option<i64> {
    let s = &content[..content.len().min(127)];
    // C's isspace: Rust's ASCII whitespace leaves out the vertical tab.
    let mut i = s
        .iter()
        .take_while(|c| c.is_ascii_whitespace() || **c == 0x0b)
        .count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let hex_digit = |k: usize| s.get(k).is_some_and(|c| c.is_ascii_hexdigit());
    let radix =
        if s.get(i) == Some(&b'0') && matches!(s.get(i + 1), Some(b'x' | b'X')) && hex_digit(i + 2)
        {
            i += 2;
            16
        } else if s.get(i) == Some(&b'0') {
            8
        } else {
            10
        };
    let mut n: i64 = 0;
    for &c in &s[i..] {
        let Some(d) = char::from(c).to_digit(radix) else {
            break;
        };
        // strtol's ERANGE: keepalived logs the number and ignores it.
        n = n.checked_mul(i64::from(radix))?.checked_add(i64::from(d))?;
    }
    let n = if negative { -n } else { n };
    (i64::from(i32::MIN)..=i64::from(i32::MAX) + 1)
        .contains(&n)
        .then_some(n)
}

/// The instance's total priority and whether it is held in FAULT, from
/// its base priority and its tracked objects' effects.
pub fn total(base: u8, effects: impl IntoIterator<Item = Effect>) -> (i32, bool) {
    let mut total = i32::from(base);
    let mut fault = false;
    for e in effects {
        match e {
            Effect::Fault => fault = true,
            Effect::Add(w) => total += w,
        }
    }
    (total, fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_weights() {
        // weight 20: +20 while ok.
        assert_eq!(effect(20, false, true), Effect::Add(20));
        assert_eq!(effect(20, false, false), Effect::Add(0));
        // weight -20: -20 while failed.
        assert_eq!(effect(-20, false, true), Effect::Add(0));
        assert_eq!(effect(-20, false, false), Effect::Add(-20));
        // reverse: the weight counts the other way.
        assert_eq!(effect(20, true, true), Effect::Add(-20));
        assert_eq!(effect(20, true, false), Effect::Add(0));
        assert_eq!(effect(-20, true, false), Effect::Add(20));
        assert_eq!(effect(-20, true, true), Effect::Add(0));
        // weight 0: FAULT while failed (while ok, if reversed).
        assert_eq!(effect(0, false, false), Effect::Fault);
        assert_eq!(effect(0, false, true), Effect::Add(0));
        assert_eq!(effect(0, true, true), Effect::Fault);
        assert_eq!(effect(0, true, false), Effect::Add(0));
    }

    #[test]
    fn a_script_counts_once_it_has_run() {
        assert_eq!(script_effect(0, false, Health::Unknown), Effect::Add(0));
        assert_eq!(script_effect(0, true, Health::Unknown), Effect::Add(0));
        assert_eq!(script_effect(-20, false, Health::Unknown), Effect::Add(0));
        assert_eq!(script_effect(20, false, Health::Unknown), Effect::Add(0));
        assert_eq!(script_effect(-20, false, Health::Failed), Effect::Add(-20));
        assert_eq!(script_effect(20, false, Health::Good), Effect::Add(20));
        assert_eq!(script_effect(0, false, Health::Failed), Effect::Fault);
        assert_eq!(script_effect(0, true, Health::Good), Effect::Fault);
    }

    #[test]
    fn a_file_moves_the_priority_by_its_number() {
        assert_eq!(file_effect(0, 0, false), Effect::Add(0));
        assert_eq!(file_effect(3, 0, false), Effect::Fault);
        assert_eq!(file_effect(0, 0, true), Effect::Fault);
        assert_eq!(file_effect(-1, 0, true), Effect::Add(0));
        assert_eq!(file_effect(5, 2, false), Effect::Add(10));
        assert_eq!(file_effect(5, 2, true), Effect::Add(-10));
        assert_eq!(file_effect(-5, 10, false), Effect::Add(-50));
        assert_eq!(file_effect(1000, 1, false), Effect::Add(253));
        assert_eq!(file_effect(-253, 1, false), Effect::Add(-253));
        assert_eq!(file_effect(-254, 1, false), Effect::Fault);
        assert_eq!(file_effect(i64::MIN, 254, false), Effect::Fault);
    }

    #[test]
    fn a_file_is_read_as_strtol_reads_it() {
        for (text, v) in [
            ("", Some(0)),
            ("12\n", Some(12)),
            ("  -7 apples", Some(-7)),
            ("\x0b\x0c\r 4", Some(4)),
            ("+3", Some(3)),
            ("0x1F", Some(31)),
            ("0X1f\n", Some(31)),
            ("010", Some(8)),
            ("09", Some(0)),
            ("0x", Some(0)),
            ("0xg", Some(0)),
            ("abc", Some(0)),
            ("2147483648", Some(2147483648)),
            ("2147483649", None),
            ("-2147483648", Some(-2147483648)),
            ("-2147483649", None),
            ("99999999999999999999999", None),
        ] {
            assert_eq!(file_value(text.as_bytes()), v, "{text:?}");
        }
        // Only the first 127 bytes count.
        let long = format!("{}5", " ".repeat(127));
        assert_eq!(file_value(long.as_bytes()), Some(0));
    }

    #[test]
    fn the_total_adds_up_and_any_fault_holds() {
        assert_eq!(
            total(100, [Effect::Add(-20), Effect::Add(-10)]),
            (70, false)
        );
        assert_eq!(total(100, [Effect::Add(5), Effect::Fault]), (105, true));
        assert_eq!(total(100, []), (100, false));
    }
}
