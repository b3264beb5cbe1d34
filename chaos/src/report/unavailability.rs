//! How long the cluster stopped serving clients after each fault.
//!
//! Definitions (all times on the history's clock):
//! - **Unavailability** of a fault: from its `start` to the completion of the
//!   first `Ok` operation (any workload, any process) that was *invoked* at or
//!   after `start`. "First" means earliest-completing, so an op that was sent
//!   during the outage and eventually succeeded ends the outage when it
//!   succeeds. [`Delay::Never`] when no such op exists (the run ended first).
//! - **Failing at heal**: looking only at ops that overlap the fault (invoked
//!   at or before `end`, completed at or after `start`), the one that completed
//!   last at or before `end` was not `Ok` (ties prefer a non-`Ok` op), or none of
//!   them had completed by `end` (every client was stuck). `false` when no op
//!   overlaps the fault or it was never healed.
//! - **Recovery**: `0` when the fault healed and ops were not failing at heal;
//!   otherwise from `end` to the completion of the first `Ok` op invoked at or
//!   after `end` ([`Delay::Never`] if none). `None` for a fault never healed.
//!
//! Percentiles are nearest-rank ([`nearest_rank`]) with `Never` ranked above
//! every finite delay, so a `Never` shows in `max` (and in p50/p99 once it
//! reaches that rank). Guarantees: pure functions, deterministic output,
//! `O((ops + faults) · log ops + faults · ops)` time.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::history::{History, Nanos, Outcome};

/// A measured delay: finite, or never ended before the run did.
///
/// Ordered with every finite delay below [`Delay::Never`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delay {
    /// Ended after this many nanoseconds.
    After(Nanos),
    /// No ok op followed before the run ended.
    Never,
}

impl Delay {
    /// The finite delay, or `None` for [`Delay::Never`].
    pub fn nanos(self) -> Option<Nanos> {
        match self {
            Delay::After(n) => Some(n),
            Delay::Never => None,
        }
    }
}

impl fmt::Display for Delay {
    /// Seconds with three decimals (`1.250`), or `never (run ended)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delay::After(n) => f.write_str(&super::secs(*n)),
            Delay::Never => f.write_str("never (run ended)"),
        }
    }
}

/// Availability around one fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultAvailability {
    /// Nemesis kind.
    pub kind: String,
    /// Human description of the fault.
    pub detail: String,
    /// When it was injected.
    pub start: Nanos,
    /// When it was healed (`None` = never).
    pub end: Option<Nanos>,
    /// From `start` to the first ok op invoked at or after `start` completing.
    pub unavailable: Delay,
    /// Whether ops were failing when the fault healed (see module docs).
    pub failing_at_heal: bool,
    /// From `end` to recovery (`After(0)` if not failing at heal); `None` if
    /// the fault was never healed.
    pub recovery: Option<Delay>,
}

/// Count and nearest-rank percentiles of a set of delays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelayStats {
    /// How many delays were measured.
    pub samples: usize,
    /// How many of them were [`Delay::Never`].
    pub never: usize,
    /// Median (nearest rank); `None` with no samples.
    pub p50: Option<Delay>,
    /// 99th percentile (nearest rank); `None` with no samples.
    pub p99: Option<Delay>,
    /// Largest; `None` with no samples.
    pub max: Option<Delay>,
}

/// Availability aggregated over every fault of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindStats {
    /// Nemesis kind.
    pub kind: String,
    /// Faults of this kind injected.
    pub count: usize,
    /// How many of them were healed.
    pub healed: usize,
    /// Unavailability after fault, over all `count` faults.
    pub unavailable: DelayStats,
    /// Recovery after heal, over the `healed` faults.
    pub recovery: DelayStats,
}

/// The nearest-rank `pct`-th percentile of an ascending slice: the element at
/// 1-based rank `ceil(pct / 100 · len)` (at least 1, at most `len`).
/// `None` for an empty slice.
pub fn nearest_rank<T: Clone>(sorted: &[T], pct: u32) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(pct) * n).div_ceil(100).clamp(1, n);
    sorted.get((rank - 1) as usize).cloned()
}

/// Count, `never` count, p50, p99 and max of `values` (any order).
pub fn delay_stats(values: &[Delay]) -> DelayStats {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    DelayStats {
        samples: sorted.len(),
        never: sorted.iter().filter(|d| **d == Delay::Never).count(),
        p50: nearest_rank(&sorted, 50),
        p99: nearest_rank(&sorted, 99),
        max: sorted.last().copied(),
    }
}

/// Answers "when did the first ok op invoked at or after `t` complete?".
struct OkIndex {
    /// Invoke times of ok ops, ascending.
    invokes: Vec<Nanos>,
    /// `suffix_min[i]` = earliest completion among ok ops `i..`.
    suffix_min: Vec<Nanos>,
}

impl OkIndex {
    fn new(h: &History) -> OkIndex {
        let mut ok: Vec<(Nanos, Nanos)> =
            h.ops().filter(|o| o.outcome == Outcome::Ok).map(|o| (o.invoke, o.complete)).collect();
        ok.sort_unstable();
        let mut suffix_min = vec![0; ok.len()];
        let mut min = Nanos::MAX;
        for (i, (_, complete)) in ok.iter().enumerate().rev() {
            min = min.min(*complete);
            suffix_min[i] = min;
        }
        OkIndex { invokes: ok.into_iter().map(|(i, _)| i).collect(), suffix_min }
    }

    /// Delay from `t` to the completion of the first ok op invoked at or after `t`.
    fn delay_from(&self, t: Nanos) -> Delay {
        let i = self.invokes.partition_point(|&x| x < t);
        match self.suffix_min.get(i) {
            Some(&c) => Delay::After(c.saturating_sub(t)),
            None => Delay::Never,
        }
    }
}

/// Whether ops were failing at `end` for a fault that started at `start`.
fn failing_at(h: &History, start: Nanos, end: Nanos) -> bool {
    let mut overlapping = false;
    // (completion time, was ok) of the op that completed last by `end`.
    let mut last: Option<(Nanos, bool)> = None;
    for o in h.ops().filter(|o| o.invoke <= end && o.complete >= start) {
        overlapping = true;
        if o.complete > end {
            continue;
        }
        let ok = o.outcome == Outcome::Ok;
        last = match last {
            Some((c, was_ok)) if c > o.complete || (c == o.complete && !was_ok) => Some((c, was_ok)),
            _ => Some((o.complete, ok)),
        };
    }
    match last {
        Some((_, ok)) => !ok,
        None => overlapping,
    }
}

/// Availability around every fault, in history order.
pub fn per_fault(h: &History) -> Vec<FaultAvailability> {
    let index = OkIndex::new(h);
    h.faults()
        .map(|f| {
            let failing_at_heal = f.end.is_some_and(|end| failing_at(h, f.start, end));
            let recovery = f.end.map(|end| if failing_at_heal { index.delay_from(end) } else { Delay::After(0) });
            FaultAvailability {
                kind: f.kind.clone(),
                detail: f.detail.clone(),
                start: f.start,
                end: f.end,
                unavailable: index.delay_from(f.start),
                failing_at_heal,
                recovery,
            }
        })
        .collect()
}

/// Per-kind aggregates of [`per_fault`]'s output, sorted by kind name.
pub fn by_kind(v: &[FaultAvailability]) -> Vec<KindStats> {
    let mut groups: BTreeMap<&str, Vec<&FaultAvailability>> = BTreeMap::new();
    for f in v {
        groups.entry(f.kind.as_str()).or_default().push(f);
    }
    groups
        .into_iter()
        .map(|(kind, faults)| {
            let unavailable: Vec<Delay> = faults.iter().map(|f| f.unavailable).collect();
            let recovery: Vec<Delay> = faults.iter().filter_map(|f| f.recovery).collect();
            KindStats {
                kind: kind.to_string(),
                count: faults.len(),
                healed: faults.iter().filter(|f| f.end.is_some()).count(),
                unavailable: delay_stats(&unavailable),
                recovery: delay_stats(&recovery),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome::{Fail, Info, Ok};
    use crate::report::testutil::{fault, ms, op};

    fn after_ms(v: u64) -> Delay {
        Delay::After(ms(v))
    }

    #[test]
    fn nearest_rank_on_known_lists() {
        let five = [15, 20, 35, 40, 50];
        assert_eq!(nearest_rank(&five, 5), Some(15));
        assert_eq!(nearest_rank(&five, 30), Some(20));
        assert_eq!(nearest_rank(&five, 40), Some(20));
        assert_eq!(nearest_rank(&five, 50), Some(35));
        assert_eq!(nearest_rank(&five, 99), Some(50));
        assert_eq!(nearest_rank(&five, 100), Some(50));
        assert_eq!(nearest_rank(&five, 0), Some(15));
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(nearest_rank(&hundred, 50), Some(50));
        assert_eq!(nearest_rank(&hundred, 99), Some(99));
        let ten: Vec<u32> = (1..=10).collect();
        assert_eq!(nearest_rank(&ten, 50), Some(5));
        assert_eq!(nearest_rank(&ten, 99), Some(10));
        assert_eq!(nearest_rank::<u32>(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 99), Some(7));
    }

    #[test]
    fn delay_stats_rank_never_last() {
        let s = delay_stats(&[after_ms(300), Delay::Never, after_ms(100), after_ms(200)]);
        assert_eq!(s.samples, 4);
        assert_eq!(s.never, 1);
        assert_eq!(s.p50, Some(after_ms(200)));
        assert_eq!(s.p99, Some(Delay::Never));
        assert_eq!(s.max, Some(Delay::Never));
        let empty = delay_stats(&[]);
        assert_eq!((empty.samples, empty.p50, empty.max), (0, None, None));
    }

    #[test]
    fn display_formats_seconds_and_never() {
        assert_eq!(after_ms(1250).to_string(), "1.250");
        assert_eq!(Delay::Never.to_string(), "never (run ended)");
    }

    /// Kill at 10 s healed at 12 s: ops fail inside it, first ok invoked after
    /// the start completes at 11.25 s, and ops succeed again before the heal.
    fn kill_history() -> History {
        History {
            records: vec![
                op(0, "register", "k", 9_000, 9_050, Ok),
                fault("kill", 10_000, Some(12_000)),
                op(0, "register", "k", 9_990, 10_600, Info), // in flight at start
                op(1, "register", "k", 10_100, 10_200, Fail),
                op(1, "register", "k", 10_300, 11_000, Info),
                op(2, "objects", "k", 11_200, 11_250, Ok),
                op(1, "register", "k", 11_100, 11_400, Ok), // invoked earlier, completes later
                op(2, "objects", "k", 11_500, 11_550, Ok),
            ],
        }
    }

    #[test]
    fn unavailability_is_time_to_first_ok_completion() {
        let v = per_fault(&kill_history());
        assert_eq!(v.len(), 1);
        let f = &v[0];
        assert_eq!(f.unavailable, after_ms(1250));
        assert_eq!(f.unavailable.to_string(), "1.250");
        assert!(!f.failing_at_heal, "last op before heal was ok");
        assert_eq!(f.recovery, Some(Delay::After(0)));
        assert_eq!((f.start, f.end), (ms(10_000), Some(ms(12_000))));
    }

    #[test]
    fn ok_op_invoked_before_the_fault_does_not_end_it() {
        let h = History {
            records: vec![
                fault("pause", 10_000, Some(11_000)),
                op(0, "register", "k", 9_900, 10_900, Ok), // invoked before start
                op(1, "register", "k", 10_500, 13_000, Ok),
            ],
        };
        assert_eq!(per_fault(&h)[0].unavailable, after_ms(3000));
    }

    #[test]
    fn recovery_counts_from_heal_when_failing_at_heal() {
        let h = History {
            records: vec![
                fault("partition", 20_000, Some(25_000)),
                op(0, "register", "k", 20_500, 20_600, Ok),
                op(0, "register", "k", 24_000, 24_500, Fail),
                op(1, "register", "k", 24_900, 26_000, Info), // still in flight at heal
                op(0, "register", "k", 25_500, 25_800, Ok),
            ],
        };
        let f = &per_fault(&h)[0];
        assert_eq!(f.unavailable, after_ms(600));
        assert!(f.failing_at_heal);
        assert_eq!(f.recovery, Some(after_ms(800)));
    }

    #[test]
    fn stuck_clients_count_as_failing_and_never_recovering() {
        let h = History {
            records: vec![
                op(0, "register", "k", 1_000, 1_010, Ok),
                fault("kill", 2_000, Some(3_000)),
                op(0, "register", "k", 1_990, 4_000, Info), // hung across the whole fault
                op(0, "register", "k", 4_000, 4_100, Fail),
            ],
        };
        let f = &per_fault(&h)[0];
        assert!(f.failing_at_heal);
        assert_eq!(f.unavailable, Delay::Never);
        assert_eq!(f.recovery, Some(Delay::Never));
    }

    #[test]
    fn unhealed_fault_has_no_recovery_and_quiet_fault_is_not_failing() {
        let h = History {
            records: vec![
                fault("kill", 5_000, None),
                fault("clock", 1_000, Some(1_100)), // no op overlaps it
                op(0, "register", "k", 1_500, 1_600, Ok),
            ],
        };
        let v = per_fault(&h);
        assert_eq!(v[0].recovery, None);
        assert!(!v[0].failing_at_heal);
        assert_eq!(v[0].unavailable, Delay::Never);
        assert!(!v[1].failing_at_heal);
        assert_eq!(v[1].recovery, Some(Delay::After(0)));
        assert_eq!(v[1].unavailable, after_ms(600));
    }

    #[test]
    fn by_kind_aggregates_sorted_by_kind() {
        let mk = |kind: &str, un: Delay, rec: Option<Delay>| FaultAvailability {
            kind: kind.into(),
            detail: String::new(),
            start: 0,
            end: rec.map(|_| 1),
            unavailable: un,
            failing_at_heal: false,
            recovery: rec,
        };
        let v = vec![
            mk("pause", after_ms(100), Some(after_ms(0))),
            mk("kill", after_ms(1250), Some(after_ms(0))),
            mk("kill", after_ms(500), Some(after_ms(700))),
            mk("kill", after_ms(2000), None),
            mk("kill", Delay::Never, Some(Delay::Never)),
        ];
        let k = by_kind(&v);
        assert_eq!(k.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(), ["kill", "pause"]);
        let kill = &k[0];
        assert_eq!((kill.count, kill.healed), (4, 3));
        assert_eq!(kill.unavailable.p50, Some(after_ms(1250)));
        assert_eq!(kill.unavailable.p99, Some(Delay::Never));
        assert_eq!(kill.unavailable.max, Some(Delay::Never));
        assert_eq!(kill.recovery.samples, 3);
        assert_eq!(kill.recovery.p50, Some(after_ms(700)));
        assert_eq!(kill.recovery.never, 1);
        assert_eq!(k[1].unavailable.max, Some(after_ms(100)));
    }
}
