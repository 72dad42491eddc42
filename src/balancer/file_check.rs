//! What a FILE_CHECK's number does to its real server: keepalived 2.2.7's
//! rule (trackers/track_file.c `update_track_file_status`,
//! `process_update_checker_track_file_status`; check/check_file.c).
//!
//! With weight 0 the checker fails while the number is not 0 (while it is
//! 0, with reverse): the same rule as VRRP's ([`file_effect`]). Otherwise
//! it passes and adds number × weight (negated with reverse), clamped to
//! a 32-bit int, to the real server's weight; −2147483648 (keepalived's
//! IPVS_WEIGHT_FAULT) fails it. The server's IPVS weight is its weight
//! plus these, clamped to 0..=2147483647 (`real_weight`): a server pulled
//! below 0 stays in IPVS at weight 0.

use crate::vrrp::track::{file_effect, Effect};

pub fn effect(value: i64, weight: i32, reverse: bool) -> Effect {
    if weight == 0 {
        return file_effect(value, 0, reverse);
    }
    let m: i64 = if reverse { -1 } else { 1 };
    let moved = value.saturating_mul(i64::from(weight) * m);
    let moved = moved.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    if moved == i64::from(i32::MIN) {
        Effect::Fault
    } else {
        Effect::Add(moved as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_zero_is_up_at_zero_only() {
        assert_eq!(effect(0, 0, false), Effect::Add(0));
        assert_eq!(effect(1, 0, false), Effect::Fault);
        assert_eq!(effect(-7, 0, false), Effect::Fault);
        assert_eq!(effect(0, 0, true), Effect::Fault);
        assert_eq!(effect(3, 0, true), Effect::Add(0));
    }

    #[test]
    fn a_weight_moves_the_server_by_number_times_weight() {
        assert_eq!(effect(5, 2, false), Effect::Add(10));
        assert_eq!(effect(5, 2, true), Effect::Add(-10));
        assert_eq!(effect(-5, 2, false), Effect::Add(-10));
        assert_eq!(effect(0, 2, false), Effect::Add(0));
        // Past VRRP's −254..253: checkers keep the whole int range.
        assert_eq!(effect(1000, 1000, false), Effect::Add(1_000_000));
        assert_eq!(
            effect(i64::from(i32::MAX) + 1, i32::MAX, false),
            Effect::Add(i32::MAX)
        );
        // INT_MIN or below is the fault value.
        assert_eq!(effect(i64::from(i32::MIN), 1, false), Effect::Fault);
        assert_eq!(effect(-3, i32::MAX, false), Effect::Fault);
        assert_eq!(effect(-1, i32::MAX, false), Effect::Add(-i32::MAX));
    }
}
