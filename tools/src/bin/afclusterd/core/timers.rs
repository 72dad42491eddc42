//! One timer queue for every subsystem: a binary heap of deadlines over a
//! slab of timers. Arming, re-arming and disarming are O(log n) and never
//! search: a re-arm pushes a new heap entry and the old one is recognised
//! as dead (its serial no longer matches) when it reaches the top. VRRP
//! re-arms a timer on every advert, so dead entries are compacted away
//! once they outnumber the live ones.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// A timer, owned by whoever added it; stays valid until removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId {
    idx: u32,
    /// Which use of the slot this is: an id of a removed timer is inert.
    gen: u32,
}

struct Slot<K> {
    gen: u32,
    key: Option<K>,
    /// When armed: the deadline and the serial of its heap entry.
    armed: Option<(Instant, u64)>,
}

pub struct Timers<K> {
    slots: Vec<Slot<K>>,
    free: Vec<u32>,
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    serial: u64,
    live: usize,
}

impl<K: Copy> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            slots: Vec::new(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
            serial: 0,
            live: 0,
        }
    }
}

impl<K: Copy> Timers<K> {
    /// A new, unarmed timer that fires with `key`.
    pub fn add(&mut self, key: K) -> TimerId {
        match self.free.pop() {
            Some(idx) => {
                let s = &mut self.slots[idx as usize];
                s.key = Some(key);
                TimerId { idx, gen: s.gen }
            }
            None => {
                let idx = u32::try_from(self.slots.len()).expect("fewer than 2^32 timers");
                self.slots.push(Slot {
                    gen: 0,
                    key: Some(key),
                    armed: None,
                });
                TimerId { idx, gen: 0 }
            }
        }
    }

    fn slot(&mut self, id: TimerId) -> Option<&mut Slot<K>> {
        self.slots
            .get_mut(id.idx as usize)
            .filter(|s| s.gen == id.gen && s.key.is_some())
    }

    /// Fire at `at` (replacing any deadline it had).
    pub fn arm(&mut self, id: TimerId, at: Instant) {
        self.serial += 1;
        let serial = self.serial;
        let Some(s) = self.slot(id) else {
            return;
        };
        let was = s.armed.replace((at, serial));
        if was.is_none() {
            self.live += 1;
        }
        self.heap.push(Reverse((at, serial, id.idx)));
        self.compact();
    }

    pub fn disarm(&mut self, id: TimerId) {
        if let Some(s) = self.slot(id) {
            if s.armed.take().is_some() {
                self.live -= 1;
            }
        }
    }

    /// Disarm and forget it; its id becomes inert.
    pub fn remove(&mut self, id: TimerId) {
        self.disarm(id);
        if let Some(s) = self.slot(id) {
            s.key = None;
            s.gen = s.gen.wrapping_add(1);
            self.free.push(id.idx);
        }
    }

    #[cfg(test)]
    pub fn deadline_of(&self, id: TimerId) -> Option<Instant> {
        self.slots
            .get(id.idx as usize)
            .filter(|s| s.gen == id.gen && s.key.is_some())
            .and_then(|s| s.armed.map(|a| a.0))
    }

    /// The nearest deadline.
    pub fn next(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, serial, idx))) = self.heap.peek().copied() {
            if self.is_current(at, serial, idx) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    /// One timer due at `now`: it is disarmed, and its key and deadline
    /// returned. Call until None.
    pub fn pop_due(&mut self, now: Instant) -> Option<(K, Instant)> {
        let at = self.next()?;
        if at > now {
            return None;
        }
        let Reverse((at, _, idx)) = self.heap.pop()?;
        let s = &mut self.slots[idx as usize];
        s.armed = None;
        self.live -= 1;
        s.key.map(|k| (k, at))
    }

    #[cfg(test)]
    pub fn armed(&self) -> usize {
        self.live
    }

    fn is_current(&self, at: Instant, serial: u64, idx: u32) -> bool {
        self.slots
            .get(idx as usize)
            .is_some_and(|s| s.armed == Some((at, serial)))
    }

    /// Drop dead entries once they are the majority.
    fn compact(&mut self) {
        if self.heap.len() <= 2 * self.live + 64 {
            return;
        }
        let heap = std::mem::take(&mut self.heap);
        self.heap = heap
            .into_iter()
            .filter(|Reverse((at, serial, idx))| self.is_current(*at, *serial, *idx))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    #[test]
    fn fires_in_deadline_order_once() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        let a = t.add('a');
        let b = t.add('b');
        let c = t.add('c');
        t.arm(a, ms(t0, 30));
        t.arm(b, ms(t0, 10));
        t.arm(c, ms(t0, 20));
        assert_eq!(t.next(), Some(ms(t0, 10)));
        assert_eq!(t.pop_due(ms(t0, 5)), None);
        let mut fired = Vec::new();
        while let Some((k, _)) = t.pop_due(ms(t0, 25)) {
            fired.push(k);
        }
        assert_eq!(fired, ['b', 'c']);
        assert_eq!(t.armed(), 1);
        assert_eq!(t.pop_due(ms(t0, 100)), Some(('a', ms(t0, 30))));
        assert_eq!(t.pop_due(ms(t0, 100)), None);
        assert_eq!(t.next(), None);
    }

    #[test]
    fn rearm_moves_and_disarm_cancels() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        let a = t.add(1);
        t.arm(a, ms(t0, 10));
        t.arm(a, ms(t0, 50)); // later: the old entry is dead
        assert_eq!(t.next(), Some(ms(t0, 50)));
        assert_eq!(t.pop_due(ms(t0, 20)), None);
        t.arm(a, ms(t0, 5)); // earlier
        assert_eq!(t.pop_due(ms(t0, 6)), Some((1, ms(t0, 5))));
        t.arm(a, ms(t0, 7));
        t.disarm(a);
        assert_eq!(t.pop_due(ms(t0, 100)), None);
        assert_eq!(t.deadline_of(a), None);
    }

    #[test]
    fn a_removed_timer_is_inert_even_when_its_slot_is_reused() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        let a = t.add('a');
        t.arm(a, ms(t0, 10));
        t.remove(a);
        let b = t.add('b');
        t.arm(a, ms(t0, 1)); // the old id: nothing
        t.arm(b, ms(t0, 20));
        assert_eq!(t.pop_due(ms(t0, 100)), Some(('b', ms(t0, 20))));
        assert_eq!(t.pop_due(ms(t0, 100)), None);
    }

    #[test]
    fn rearming_often_keeps_the_heap_small() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        let ids: Vec<_> = (0..10).map(|i| t.add(i)).collect();
        for round in 0..10_000u64 {
            for id in &ids {
                t.arm(*id, ms(t0, 1000 + round));
            }
        }
        assert!(t.heap.len() <= 2 * 10 + 64 + 1, "{}", t.heap.len());
        let mut n = 0;
        while t.pop_due(ms(t0, 1_000_000)).is_some() {
            n += 1;
        }
        assert_eq!(n, 10);
    }
}
