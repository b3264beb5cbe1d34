//! A rate-limited, deduplicating work queue for tokio controllers (modelled on client-go's workqueue).
//!
//! Guarantees:
//! - A key is queued at most once, however often it is added before a worker takes it.
//! - A key handed out by [`WorkQueue::next`] is never handed out again until [`WorkQueue::done`] is called
//!   for it; if it was added meanwhile, `done` puts it back in the queue (once).
//! - Delayed adds ([`WorkQueue::add_after`], [`WorkQueue::add_rate_limited`]) are kept in one map of
//!   deadlines; no task is spawned: the waiting `next()` calls compute the earliest deadline and sleep
//!   until it (or until woken by an add). For the same key an earlier deadline wins over a later one.
//! - Rate limiting is the maximum of a per-key exponential back-off (`base × 2^failures`, capped) and an
//!   overall token bucket (client-go defaults: 5 ms, 1000 s, 10 qps, burst 100).
//! - Shutdown: after [`WorkQueue::shut_down`] adds are ignored and pending delayed adds are dropped;
//!   `next()` keeps handing out the keys already queued and returns `None` once the queue is empty
//!   (drain semantics). Keys in flight may still be passed to `done` (they are not re-queued).
//!
//! No lock is held across an `.await`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Configuration of the rate limiter used by [`WorkQueue::add_rate_limited`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimiterConfig {
    /// Per-key back-off after the first failure (doubles with each further failure).
    pub base_delay: Duration,
    /// Upper bound of the per-key back-off.
    pub max_delay: Duration,
    /// Sustained rate of the overall token bucket, in adds per second (must be > 0 to limit; ≤ 0 disables).
    pub qps: f64,
    /// Capacity of the overall token bucket.
    pub burst: u32,
}

impl Default for RateLimiterConfig {
    /// client-go's `DefaultControllerRateLimiter`: 5 ms × 2^n capped at 1000 s, and 10 qps with burst 100.
    fn default() -> Self {
        Self { base_delay: Duration::from_millis(5), max_delay: Duration::from_secs(1000), qps: 10.0, burst: 100 }
    }
}

/// A token bucket that hands out reservations: the returned delay is how long the caller must wait.
#[derive(Debug)]
struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(qps: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst);
        Self { qps, burst, tokens: burst, last: now }
    }

    /// Takes one token (possibly going into debt) and returns the wait until that token exists.
    fn reserve(&mut self, now: Instant) -> Duration {
        if self.qps <= 0.0 {
            return Duration::ZERO;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.qps).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }
}

/// Mutable state, only touched under the mutex.
struct State<K> {
    /// Keys ready to hand out, in FIFO order.
    queue: VecDeque<K>,
    /// Keys that need processing (queued, or added while in flight).
    dirty: HashSet<K>,
    /// Keys handed out and not yet `done`.
    processing: HashSet<K>,
    /// Delayed adds: key → deadline.
    waiting: HashMap<K, Instant>,
    /// Per-key failure counts for the exponential back-off.
    failures: HashMap<K, u32>,
    bucket: TokenBucket,
    shutting_down: bool,
}

impl<K: Clone + Eq + Hash> State<K> {
    /// Returns true when the key was newly put into the ready queue.
    fn add(&mut self, key: K) -> bool {
        if self.shutting_down || !self.dirty.insert(key.clone()) || self.processing.contains(&key) {
            return false;
        }
        self.queue.push_back(key);
        true
    }

    /// Moves every delayed key whose deadline has passed into the queue; returns true if any was queued.
    fn promote_due(&mut self, now: Instant) -> bool {
        let due: Vec<K> = self.waiting.iter().filter(|(_, at)| **at <= now).map(|(k, _)| k.clone()).collect();
        let mut queued = false;
        for key in due {
            self.waiting.remove(&key);
            queued |= self.add(key);
        }
        queued
    }

    fn earliest_deadline(&self) -> Option<Instant> {
        self.waiting.values().min().copied()
    }

    fn add_at(&mut self, key: K, at: Instant) {
        if self.shutting_down {
            return;
        }
        let entry = self.waiting.entry(key).or_insert(at);
        if at < *entry {
            *entry = at;
        }
    }
}

struct Inner<K> {
    state: Mutex<State<K>>,
    notify: Notify,
    config: RateLimiterConfig,
}

/// A cheaply cloneable handle to a shared rate-limited work queue.
pub struct WorkQueue<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<K: Clone + Eq + Hash + Send + Sync + 'static> Default for WorkQueue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone + Eq + Hash + Send + Sync + 'static> WorkQueue<K> {
    /// A queue with client-go's default rate limiter ([`RateLimiterConfig::default`]).
    pub fn new() -> Self {
        Self::with_rate_limiter(RateLimiterConfig::default())
    }

    /// A queue with the given rate limiter configuration.
    pub fn with_rate_limiter(config: RateLimiterConfig) -> Self {
        let state = State {
            queue: VecDeque::new(),
            dirty: HashSet::new(),
            processing: HashSet::new(),
            waiting: HashMap::new(),
            failures: HashMap::new(),
            bucket: TokenBucket::new(config.qps, config.burst, Instant::now()),
            shutting_down: false,
        };
        Self { inner: Arc::new(Inner { state: Mutex::new(state), notify: Notify::new(), config }) }
    }

    /// Queues `key` unless it is already queued; a key in flight is re-queued by `done`. Ignored after shutdown.
    pub fn add(&self, key: K) {
        let queued = self.inner.state.lock().add(key);
        if queued {
            self.inner.notify.notify_waiters();
        }
    }

    /// Queues `key` after `delay` (immediately when zero). An earlier pending deadline for the key is kept.
    pub fn add_after(&self, key: K, delay: Duration) {
        if delay.is_zero() {
            return self.add(key);
        }
        let at = Instant::now() + delay;
        self.inner.state.lock().add_at(key, at);
        // Waiters recompute their sleep deadline.
        self.inner.notify.notify_waiters();
    }

    /// Queues `key` after its rate-limited delay (max of the key's back-off and the token bucket) and counts
    /// one more failure for it.
    pub fn add_rate_limited(&self, key: K) {
        let now = Instant::now();
        let delay = {
            let mut state = self.inner.state.lock();
            let failures = state.failures.entry(key.clone()).or_insert(0);
            let backoff = backoff_delay(&self.inner.config, *failures);
            *failures = failures.saturating_add(1);
            backoff.max(state.bucket.reserve(now))
        };
        self.add_after(key, delay);
    }

    /// Resets the failure count of `key` (call after a successful reconcile).
    pub fn forget(&self, key: &K) {
        self.inner.state.lock().failures.remove(key);
    }

    /// How many rate-limited re-queues `key` has had since it was last forgotten.
    pub fn num_requeues(&self, key: &K) -> u32 {
        self.inner.state.lock().failures.get(key).copied().unwrap_or(0)
    }

    /// Marks `key` as processed; if it was added while in flight it is queued again.
    pub fn done(&self, key: &K) {
        let requeued = {
            let mut state = self.inner.state.lock();
            state.processing.remove(key);
            if state.dirty.contains(key) && !state.shutting_down {
                state.queue.push_back(key.clone());
                true
            } else {
                false
            }
        };
        if requeued {
            self.inner.notify.notify_waiters();
        }
    }

    /// Waits for the next key and marks it in flight. Returns `None` once the queue is shut down and no key
    /// is queued (keys queued before the shutdown are still handed out).
    pub async fn next(&self) -> Option<K> {
        loop {
            // Register for wake-ups before looking at the state so no add between the check and the wait is lost.
            let mut notified = pin!(self.inner.notify.notified());
            notified.as_mut().enable();
            let deadline = match self.try_take() {
                Ok(taken) => return taken,
                Err(deadline) => deadline,
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// `Ok(Some(key))` when a key was taken, `Ok(None)` when shut down and empty, otherwise `Err(earliest
    /// delayed deadline)` to wait for.
    fn try_take(&self) -> Result<Option<K>, Option<Instant>> {
        let mut state = self.inner.state.lock();
        state.promote_due(Instant::now());
        if let Some(key) = state.queue.pop_front() {
            state.dirty.remove(&key);
            state.processing.insert(key.clone());
            return Ok(Some(key));
        }
        if state.shutting_down {
            return Ok(None);
        }
        Err(state.earliest_deadline())
    }

    /// Number of keys ready to hand out (delayed keys whose deadline has passed count as ready).
    pub fn len(&self) -> usize {
        let mut state = self.inner.state.lock();
        state.promote_due(Instant::now());
        state.queue.len()
    }

    /// True when no key is ready to hand out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops accepting adds, drops pending delayed adds and wakes every waiter.
    pub fn shut_down(&self) {
        {
            let mut state = self.inner.state.lock();
            state.shutting_down = true;
            state.waiting.clear();
        }
        self.inner.notify.notify_waiters();
    }

    /// True once [`WorkQueue::shut_down`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.state.lock().shutting_down
    }
}

/// `base × 2^failures`, capped at `max` (saturating, so huge failure counts stay at the cap).
fn backoff_delay(config: &RateLimiterConfig, failures: u32) -> Duration {
    let factor = 2u32.checked_pow(failures).unwrap_or(u32::MAX);
    config.base_delay.checked_mul(factor).map_or(config.max_delay, |d| d.min(config.max_delay))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unlimited() -> WorkQueue<&'static str> {
        WorkQueue::with_rate_limiter(RateLimiterConfig { qps: 0.0, ..RateLimiterConfig::default() })
    }

    /// Takes a key if one is ready right now.
    async fn take_now(q: &WorkQueue<&'static str>) -> Option<&'static str> {
        tokio::time::timeout(Duration::ZERO, q.next()).await.ok().flatten()
    }

    #[tokio::test]
    async fn add_deduplicates() {
        let q = unlimited();
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.len(), 2);
        assert_eq!(q.next().await, Some("a"));
        assert_eq!(q.next().await, Some("b"));
        assert_eq!(q.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_key_is_not_handed_out_twice_and_requeues_on_done() {
        let q = unlimited();
        q.add("a");
        assert_eq!(q.next().await, Some("a"));
        q.add("a");
        q.add("a");
        assert_eq!(q.len(), 0, "a key in flight stays out of the queue");
        assert_eq!(take_now(&q).await, None);
        q.done(&"a");
        assert_eq!(q.len(), 1);
        assert_eq!(q.next().await, Some("a"));
        q.done(&"a");
        assert_eq!(take_now(&q).await, None, "done without a re-add does not re-queue");
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_worker_is_woken_by_add() {
        let q = unlimited();
        let worker = tokio::spawn({
            let q = q.clone();
            async move { q.next().await }
        });
        tokio::task::yield_now().await;
        q.add("x");
        assert_eq!(worker.await.ok().flatten(), Some("x"));
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_adds_come_out_in_deadline_order() {
        let q = unlimited();
        let start = Instant::now();
        q.add_after("late", Duration::from_secs(3));
        q.add_after("early", Duration::from_secs(1));
        q.add_after("mid", Duration::from_secs(2));
        assert_eq!(q.len(), 0);
        assert_eq!(q.next().await, Some("early"));
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert_eq!(q.next().await, Some("mid"));
        assert_eq!(q.next().await, Some("late"));
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn earlier_delay_wins_for_the_same_key() {
        let q = unlimited();
        let start = Instant::now();
        q.add_after("k", Duration::from_secs(10));
        q.add_after("k", Duration::from_secs(2));
        q.add_after("k", Duration::from_secs(5));
        assert_eq!(q.next().await, Some("k"));
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        q.done(&"k");
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(q.len(), 0, "the later deadlines were merged into the earlier one");
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_worker_picks_up_a_shorter_new_delay() {
        let q = unlimited();
        let start = Instant::now();
        q.add_after("slow", Duration::from_secs(60));
        let worker = tokio::spawn({
            let q = q.clone();
            async move { q.next().await }
        });
        tokio::task::yield_now().await;
        q.add_after("fast", Duration::from_secs(1));
        assert_eq!(worker.await.ok().flatten(), Some("fast"));
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_exponentially_and_forget_resets_it() {
        let q = unlimited();
        let mut waits = Vec::new();
        for _ in 0..4 {
            let start = Instant::now();
            q.add_rate_limited("k");
            assert_eq!(q.next().await, Some("k"));
            waits.push(start.elapsed());
            q.done(&"k");
        }
        let ms = Duration::from_millis;
        assert_eq!(waits, vec![ms(5), ms(10), ms(20), ms(40)]);
        assert_eq!(q.num_requeues(&"k"), 4);
        q.forget(&"k");
        assert_eq!(q.num_requeues(&"k"), 0);
        let start = Instant::now();
        q.add_rate_limited("k");
        assert_eq!(q.next().await, Some("k"));
        assert_eq!(start.elapsed(), ms(5));
    }

    #[test]
    fn backoff_is_capped() {
        let config = RateLimiterConfig::default();
        assert_eq!(backoff_delay(&config, 0), Duration::from_millis(5));
        assert_eq!(backoff_delay(&config, 3), Duration::from_millis(40));
        assert_eq!(backoff_delay(&config, 30), Duration::from_secs(1000));
        assert_eq!(backoff_delay(&config, u32::MAX), Duration::from_secs(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn token_bucket_limits_overall_rate_after_the_burst() {
        let config = RateLimiterConfig { base_delay: Duration::ZERO, max_delay: Duration::ZERO, qps: 10.0, burst: 2 };
        let q: WorkQueue<u32> = WorkQueue::with_rate_limiter(config);
        let start = Instant::now();
        for key in 0..4 {
            q.add_rate_limited(key);
        }
        let mut seen = Vec::new();
        for _ in 0..4 {
            let key = q.next().await;
            seen.push((key, start.elapsed()));
        }
        let ms = Duration::from_millis;
        assert_eq!(seen, vec![(Some(0), ms(0)), (Some(1), ms(0)), (Some(2), ms(100)), (Some(3), ms(200))]);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_drains_then_returns_none() {
        let q = unlimited();
        q.add("a");
        q.add_after("delayed", Duration::from_secs(1));
        q.shut_down();
        q.add("ignored");
        assert!(q.is_shutting_down());
        assert_eq!(q.next().await, Some("a"));
        assert_eq!(q.next().await, None);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(q.next().await, None, "delayed adds are dropped by shutdown");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_wakes_waiting_workers() {
        let q = unlimited();
        let worker = tokio::spawn({
            let q = q.clone();
            async move { q.next().await }
        });
        tokio::task::yield_now().await;
        q.shut_down();
        assert_eq!(worker.await.ok().flatten(), None);
    }
}
