//! Lease timers. Only the leader counts TTLs: a leader arms a timer for each
//! lease when it takes office (so a leader change extends TTLs, as etcd
//! does), refreshes it on keep-alive, and proposes a fenced revoke when it
//! runs out. Followers keep no timers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Pure timer bookkeeping, driven by the member's lease task.
#[derive(Default)]
pub struct Lessor {
    inner: Mutex<Timers>,
}

#[derive(Default)]
struct Timers {
    term: u64,
    deadlines: HashMap<i64, Instant>,
}

impl Lessor {
    /// Bring the timers in line with the live leases (`id → ttl`) while this
    /// member leads in `term`; returns the leases that expired at `now`.
    pub fn tick(&self, term: u64, leases: &[(i64, i64)], now: Instant) -> Vec<i64> {
        let mut g = self.inner.lock();
        if g.term != term {
            g.term = term;
            g.deadlines.clear();
        }
        let live: HashMap<i64, i64> = leases.iter().copied().collect();
        g.deadlines.retain(|id, _| live.contains_key(id));
        for (id, ttl) in &live {
            g.deadlines.entry(*id).or_insert_with(|| now + Duration::from_secs((*ttl).max(1) as u64));
        }
        let mut expired: Vec<i64> = g.deadlines.iter().filter(|(_, d)| **d <= now).map(|(id, _)| *id).collect();
        expired.sort_unstable();
        expired
    }

    /// Forget all timers (this member is not the leader).
    pub fn clear(&self) {
        let mut g = self.inner.lock();
        g.term = 0;
        g.deadlines.clear();
    }

    /// Refresh a lease's timer; `ttl` is its granted TTL.
    pub fn keep_alive(&self, id: i64, ttl: i64, now: Instant) {
        self.inner.lock().deadlines.insert(id, now + Duration::from_secs(ttl.max(1) as u64));
    }

    /// Seconds left on a lease (rounded up), if a timer runs for it.
    pub fn remaining(&self, id: i64, now: Instant) -> Option<i64> {
        self.inner.lock().deadlines.get(&id).map(|d| {
            let left = d.saturating_duration_since(now);
            left.as_millis().div_ceil(1000) as i64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_expire_refresh_and_reset_on_new_term() {
        let l = Lessor::default();
        let t0 = Instant::now();
        assert!(l.tick(3, &[(1, 2), (2, 10)], t0).is_empty());
        assert_eq!(l.remaining(1, t0), Some(2));
        assert_eq!(l.tick(3, &[(1, 2), (2, 10)], t0 + Duration::from_secs(3)), vec![1]);
        l.keep_alive(1, 2, t0 + Duration::from_secs(3));
        assert!(l.tick(3, &[(1, 2), (2, 10)], t0 + Duration::from_secs(4)).is_empty());
        // A new term re-arms everything from now.
        assert!(l.tick(4, &[(1, 2), (2, 10)], t0 + Duration::from_secs(11)).is_empty());
        assert_eq!(l.remaining(2, t0 + Duration::from_secs(11)), Some(10));
        // Revoked leases lose their timers.
        l.tick(4, &[(2, 10)], t0 + Duration::from_secs(11));
        assert_eq!(l.remaining(1, t0 + Duration::from_secs(11)), None);
    }
}
