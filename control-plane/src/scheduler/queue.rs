//! The scheduling queue: which pending pod to try next.
//!
//! Three parts, as in kube-scheduler: `active` (FIFO, ready to try),
//! `backoff` (failed recently: waits 1 s doubling to 10 s per attempt), and
//! `unschedulable` (no node fits: waits for a cluster change — a node added
//! or changed, a pod removed — or at most 60 s, then goes back to active).
//!
//! Guarantees: a pod is in at most one part at a time; `pop` never returns
//! a pod whose back-off has not elapsed; pure (time is a parameter).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::runtime::cache::ObjKey;

/// First back-off after a failed attempt.
const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Longest back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Longest stay in `unschedulable` without a cluster change.
const UNSCHEDULABLE_MAX: Duration = Duration::from_secs(60);

/// The queue.
#[derive(Debug, Default)]
pub struct SchedulingQueue {
    active: VecDeque<ObjKey>,
    in_active: HashSet<ObjKey>,
    backoff: BTreeSet<(Instant, ObjKey)>,
    backoff_until: HashMap<ObjKey, Instant>,
    unschedulable: HashMap<ObjKey, Instant>,
    attempts: HashMap<ObjKey, u32>,
}

impl SchedulingQueue {
    /// A pending pod appeared or changed: try it (unless it is backing off).
    pub fn add(&mut self, key: ObjKey) {
        if self.in_active.contains(&key) || self.backoff_until.contains_key(&key) {
            return;
        }
        self.unschedulable.remove(&key);
        self.in_active.insert(key.clone());
        self.active.push_back(key);
    }

    /// The pod is gone or bound: forget it everywhere.
    pub fn remove(&mut self, key: &ObjKey) {
        if self.in_active.remove(key) {
            self.active.retain(|k| k != key);
        }
        if let Some(t) = self.backoff_until.remove(key) {
            self.backoff.remove(&(t, key.clone()));
        }
        self.unschedulable.remove(key);
        self.attempts.remove(key);
    }

    fn backoff_for(&mut self, key: &ObjKey) -> Duration {
        let n = self.attempts.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        let d = INITIAL_BACKOFF.saturating_mul(1u32 << (*n - 1).min(8));
        d.min(MAX_BACKOFF)
    }

    /// An attempt failed for a transient reason (e.g. a binding conflict):
    /// retry after the pod's back-off.
    pub fn requeue_backoff(&mut self, key: ObjKey, now: Instant) {
        self.remove_from_parts(&key);
        let until = now + self.backoff_for(&key);
        self.backoff.insert((until, key.clone()));
        self.backoff_until.insert(key, until);
    }

    /// No node fits the pod: park it until the cluster changes.
    pub fn park_unschedulable(&mut self, key: ObjKey, now: Instant) {
        self.remove_from_parts(&key);
        self.backoff_for(&key);
        self.unschedulable.insert(key, now);
    }

    fn remove_from_parts(&mut self, key: &ObjKey) {
        if self.in_active.remove(key) {
            self.active.retain(|k| k != key);
        }
        if let Some(t) = self.backoff_until.remove(key) {
            self.backoff.remove(&(t, key.clone()));
        }
        self.unschedulable.remove(key);
    }

    /// The cluster changed in a way that may make parked pods fit: move
    /// them to active (through back-off if theirs has not elapsed).
    pub fn cluster_changed(&mut self, now: Instant) {
        let parked: Vec<(ObjKey, Instant)> = self.unschedulable.drain().collect();
        for (k, _) in parked {
            self.in_active.insert(k.clone());
            self.active.push_back(k);
        }
        self.flush_backoff(now);
    }

    fn flush_backoff(&mut self, now: Instant) {
        while let Some((t, k)) = self.backoff.first().cloned() {
            if t > now {
                break;
            }
            self.backoff.pop_first();
            self.backoff_until.remove(&k);
            if self.in_active.insert(k.clone()) {
                self.active.push_back(k);
            }
        }
        let stale: Vec<ObjKey> = self
            .unschedulable
            .iter()
            .filter(|(_, since)| now.saturating_duration_since(**since) >= UNSCHEDULABLE_MAX)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.unschedulable.remove(&k);
            if self.in_active.insert(k.clone()) {
                self.active.push_back(k);
            }
        }
    }

    /// Up to `max` pods to try now, oldest first.
    pub fn pop(&mut self, max: usize, now: Instant) -> Vec<ObjKey> {
        self.flush_backoff(now);
        let n = max.min(self.active.len());
        let out: Vec<ObjKey> = self.active.drain(..n).collect();
        for k in &out {
            self.in_active.remove(k);
        }
        out
    }

    /// When the next backed-off pod becomes due, if any.
    pub fn next_due(&self) -> Option<Instant> {
        self.backoff.first().map(|(t, _)| *t)
    }

    /// Pods in each part: (active, backoff, unschedulable).
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.active.len(), self.backoff.len(), self.unschedulable.len())
    }

    /// A successful binding: reset the pod's attempts.
    pub fn bound(&mut self, key: &ObjKey) {
        self.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: &str) -> ObjKey {
        ObjKey::new("default", n)
    }

    #[test]
    fn active_is_fifo_and_deduplicated() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        q.add(k("a"));
        q.add(k("b"));
        q.add(k("a"));
        assert_eq!(q.pop(10, now), vec![k("a"), k("b")]);
        assert!(q.pop(10, now).is_empty());
    }

    #[test]
    fn backoff_doubles_and_holds_the_pod_until_due() {
        let mut q = SchedulingQueue::default();
        let t0 = Instant::now();
        q.requeue_backoff(k("a"), t0);
        q.add(k("a"));
        assert!(q.pop(10, t0 + Duration::from_millis(900)).is_empty());
        assert_eq!(q.pop(10, t0 + Duration::from_secs(1)), vec![k("a")]);
        q.requeue_backoff(k("a"), t0);
        assert!(q.pop(10, t0 + Duration::from_millis(1900)).is_empty());
        assert_eq!(q.pop(10, t0 + Duration::from_secs(2)), vec![k("a")]);
    }

    #[test]
    fn unschedulable_waits_for_a_cluster_change_or_a_minute() {
        let mut q = SchedulingQueue::default();
        let t0 = Instant::now();
        q.park_unschedulable(k("a"), t0);
        q.park_unschedulable(k("b"), t0);
        assert!(q.pop(10, t0 + Duration::from_secs(30)).is_empty());
        q.cluster_changed(t0 + Duration::from_secs(30));
        assert_eq!(q.pop(10, t0 + Duration::from_secs(30)).len(), 2);
        q.park_unschedulable(k("c"), t0);
        assert_eq!(q.pop(10, t0 + Duration::from_secs(61)), vec![k("c")]);
    }

    #[test]
    fn removed_pods_leave_every_part() {
        let mut q = SchedulingQueue::default();
        let t0 = Instant::now();
        q.add(k("a"));
        q.requeue_backoff(k("b"), t0);
        q.park_unschedulable(k("c"), t0);
        for n in ["a", "b", "c"] {
            q.remove(&k(n));
        }
        assert_eq!(q.sizes(), (0, 0, 0));
    }
}
