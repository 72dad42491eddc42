//! A vrrp_script's health from its runs: keepalived's rise/fall counter
//! (vrrp/vrrp_scheduler.c: `vrrp_init_script` starts it,
//! `vrrp_script_child_thread` moves it). Until its first run a script is
//! unknown; one run then decides either way. After that it takes `rise`
//! successes in a row to become good and `fall` failures in a row to fail.

/// What the instances tracking a script see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not run yet: a weight-0 tracker holds its instance in FAULT, a
    /// weighted one moves nothing.
    Unknown,
    Good,
    Failed,
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Health::Unknown => "unknown",
            Health::Good => "good",
            Health::Failed => "failed",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptHealth {
    rise: u32,
    fall: u32,
    /// keepalived's `result`: 0..rise+fall-1, good from `rise` up.
    result: u32,
    known: bool,
}

impl ScriptHealth {
    /// `init_fail`: failed, not unknown, until `rise` runs succeed.
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> ScriptHealth {
        let (rise, fall) = (rise.max(1), fall.max(1));
        ScriptHealth {
            rise,
            fall,
            result: if init_fail { 0 } else { rise - 1 },
            known: init_fail,
        }
    }

    pub fn health(&self) -> Health {
        match (self.known, self.result >= self.rise) {
            (false, _) => Health::Unknown,
            (true, true) => Health::Good,
            (true, false) => Health::Failed,
        }
    }

    /// The health a reload hands a script of the same name with new
    /// `rise` and `fall` (keepalived's clear_diff_script): unknown stays
    /// unknown; otherwise good or failed as before, as far along its count
    /// as the new numbers allow.
    pub fn carried(&self, rise: u32, fall: u32) -> ScriptHealth {
        let mut new = ScriptHealth::new(rise, fall, false);
        if !self.known {
            return new;
        }
        new.known = true;
        let (old_top, new_top) = (self.rise + self.fall - 1, new.rise + new.fall - 1);
        new.result = if self.result < self.rise {
            // Failed: as many successes still wanted, at most all of them.
            if self.result == 0 {
                0
            } else {
                new.rise.saturating_sub(self.rise - self.result)
            }
        } else if self.result == old_top {
            new_top
        } else {
            (new.rise + (self.result - self.rise)).min(new_top)
        };
        new
    }

    /// A run ended (a timeout is a failure); the new health if it changed.
    pub fn record(&mut self, success: bool) -> Option<Health> {
        let before = self.health();
        if success {
            if self.result + 1 < self.rise {
                self.result += 1;
            } else {
                self.result = self.rise + self.fall - 1;
            }
        } else if self.result > self.rise {
            self.result -= 1;
        } else {
            self.result = 0;
        }
        self.known = true;
        let after = self.health();
        (after != before).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(h: &mut ScriptHealth, runs: &str) -> Vec<Option<Health>> {
        runs.chars().map(|c| h.record(c == '+')).collect()
    }

    #[test]
    fn the_first_run_decides_either_way() {
        for rise in 1..4 {
            let mut h = ScriptHealth::new(rise, 3, false);
            assert_eq!(h.health(), Health::Unknown);
            assert_eq!(h.record(true), Some(Health::Good));
            let mut h = ScriptHealth::new(rise, 3, false);
            assert_eq!(h.record(false), Some(Health::Failed));
        }
    }

    #[test]
    fn it_takes_fall_failures_and_rise_successes_in_a_row() {
        let mut h = ScriptHealth::new(2, 3, false);
        h.record(true);
        // Two failures, then a success: still good, and the count restarts.
        assert_eq!(run(&mut h, "--+--"), vec![None; 5]);
        assert_eq!(h.record(false), Some(Health::Failed));
        // One success, a failure, then two: good on the second in a row.
        assert_eq!(run(&mut h, "+-+"), vec![None; 3]);
        assert_eq!(h.record(true), Some(Health::Good));
        assert_eq!(h.health(), Health::Good);
    }

    #[test]
    fn init_fail_starts_failed_and_needs_rise_successes() {
        let mut h = ScriptHealth::new(3, 1, true);
        assert_eq!(h.health(), Health::Failed);
        assert_eq!(run(&mut h, "++"), vec![None, None]);
        assert_eq!(h.record(true), Some(Health::Good));
        assert_eq!(h.record(false), Some(Health::Failed));
    }

    #[test]
    fn a_reload_keeps_the_health_under_new_rise_and_fall() {
        let mut h = ScriptHealth::new(3, 3, false);
        assert_eq!(h.carried(1, 1).health(), Health::Unknown);
        h.record(true);
        // Good, at the top of its count: good and at the new top.
        let c = h.carried(2, 4);
        assert_eq!(c.health(), Health::Good);
        let mut c2 = c.clone();
        assert_eq!(run(&mut c2, "---"), vec![None; 3]);
        assert_eq!(c2.record(false), Some(Health::Failed));
        // Failed one success short of good: still one short.
        let mut f = ScriptHealth::new(3, 1, true);
        run(&mut f, "++");
        let mut c = f.carried(5, 1);
        assert_eq!(c.health(), Health::Failed);
        assert_eq!(run(&mut c, "+"), vec![Some(Health::Good)]);
        // Good but part-way to failing: no further along than the new top.
        let mut g = ScriptHealth::new(1, 5, false);
        run(&mut g, "+-");
        let mut c = g.carried(1, 2);
        assert_eq!(c.health(), Health::Good);
        assert_eq!(c.record(false), None);
        assert_eq!(c.record(false), Some(Health::Failed));
    }

    #[test]
    fn zero_rise_or_fall_counts_as_one() {
        let mut h = ScriptHealth::new(0, 0, false);
        assert_eq!(
            run(&mut h, "+-+-"),
            vec![
                Some(Health::Good),
                Some(Health::Failed),
                Some(Health::Good),
                Some(Health::Failed)
            ]
        );
    }
}
