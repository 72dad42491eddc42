//! What a tracked object does to an instance: keepalived's rule for
//! track_script, track_file and track_interface weights
//! (vrrp/vrrp_track.c, `process_script_update_priority`), which afclusterd
//! applies to track_node too, with "ok" meaning the node is `up`.

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
    fn the_total_adds_up_and_any_fault_holds() {
        assert_eq!(
            total(100, [Effect::Add(-20), Effect::Add(-10)]),
            (70, false)
        );
        assert_eq!(total(100, [Effect::Add(5), Effect::Fault]), (105, true));
        assert_eq!(total(100, []), (100, false));
    }
}
