//! Latency distributions for the status: timer lateness, reaction times.

use std::time::Duration;

use afcluster::control::LatencySummary;
use hdrhistogram::Histogram;

/// Microseconds from 1 µs to an hour, 2 significant digits: a few KiB.
pub struct Latency(Option<Histogram<u64>>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, 3_600_000_000, 2).ok())
    }
}

impl Latency {
    pub fn record(&mut self, d: Duration) {
        if let Some(h) = &mut self.0 {
            let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
            h.saturating_record(us.max(1));
        }
    }

    pub fn summary(&self) -> LatencySummary {
        match &self.0 {
            Some(h) if !h.is_empty() => LatencySummary {
                count: h.len(),
                p50_us: h.value_at_quantile(0.5),
                p99_us: h.value_at_quantile(0.99),
                max_us: h.max(),
            },
            _ => LatencySummary::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_what_it_recorded() {
        let mut l = Latency::default();
        assert_eq!(l.summary(), LatencySummary::default());
        for us in 1..=100 {
            l.record(Duration::from_micros(us));
        }
        let s = l.summary();
        assert_eq!((s.count, s.p50_us, s.max_us), (100, 50, 100));
        assert!((98..=100).contains(&s.p99_us), "{s:?}");
    }
}
