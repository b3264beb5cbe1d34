//! Controller invariants of the objects workload:
//!
//! - the live pods of a Deployment never exceed its allowed size plus
//!   `maxSurge`, where the allowed size at time `t` is the largest
//!   `replicas` among the scale that was in effect [`GRACE`] before `t` and
//!   every scale (acknowledged or indeterminate) invoked since — the
//!   controllers need a moment to act on a scale-down, more during a fault;
//! - no pod is ever bound to a second node;
//! - after the faults heal, every Deployment converges to `spec.replicas`
//!   ready pods of its latest template.

use std::collections::BTreeMap;

use crate::history::{History, ObjectsObs, OpKind, Outcome, Record};
use crate::verdict::{Status, Verdict};

/// How long an older, larger size still bounds the pod count.
pub const GRACE: u64 = 15_000_000_000;
/// Replicas every Deployment is created with.
pub const INITIAL_REPLICAS: i32 = 2;

/// Scale operations of one Deployment: (invoke, complete, replicas, outcome).
type Scales = Vec<(u64, u64, i32, Outcome)>;

fn allowed(scales: &Scales, at: u64) -> i32 {
    // The scale in effect GRACE before `at`: the last acknowledged one
    // completed by then (or the initial size).
    let cutoff = at.saturating_sub(GRACE);
    let base = scales
        .iter()
        .filter(|s| s.3 == Outcome::Ok && s.1 <= cutoff)
        .max_by_key(|s| s.1)
        .map(|s| s.2)
        .unwrap_or(INITIAL_REPLICAS);
    // Anything that may have applied since.
    let later =
        scales.iter().filter(|s| s.3 != Outcome::Fail && s.1 > cutoff && s.0 <= at).map(|s| s.2).max().unwrap_or(base);
    base.max(later)
}

/// Checks the objects workload's observations.
pub fn check(h: &History) -> Verdict {
    const NAME: &str = "controllers";
    let mut scales: BTreeMap<String, Scales> = BTreeMap::new();
    for o in h.ops().filter(|o| o.workload == "objects") {
        if let (Some(d), OpKind::Write { value }) = (o.key.strip_prefix("scale/"), &o.kind) {
            scales.entry(d.to_string()).or_default().push((o.invoke, o.complete, *value as i32, o.outcome));
        }
    }
    let mut problems = Vec::new();
    let (mut counts, mut converged) = (0usize, 0usize);
    for r in &h.records {
        let Record::Objects(obs) = r else { continue };
        match obs {
            ObjectsObs::PodCount { at, name, max_surge, pods, .. } => {
                counts += 1;
                let limit = allowed(scales.get(name).unwrap_or(&Vec::new()), *at) + max_surge;
                if *pods > limit {
                    problems.push(format!(
                        "deployment {name} had {pods} live pods at {:.3} s, more than replicas + maxSurge = {limit}",
                        *at as f64 / 1e9
                    ));
                }
            }
            ObjectsObs::Rebound { at, pod, from, to } => problems
                .push(format!("pod {pod} was bound to {from} and then to {to} (seen at {:.3} s)", *at as f64 / 1e9)),
            ObjectsObs::Converged { name, replicas, ready, ok, .. } => {
                converged += 1;
                if !ok {
                    problems.push(format!(
                        "deployment {name} did not converge after the faults healed: {ready} of {replicas} pods ready \
                         on its latest template"
                    ));
                }
            }
        }
    }
    let checked = format!("{counts} pod counts, {converged} deployments checked for convergence");
    if converged == 0 && problems.is_empty() {
        return Verdict {
            checker: NAME.into(),
            status: Status::Unknown,
            checked,
            problems: vec!["no convergence check was recorded (did the run reach its end?)".into()],
        };
    }
    Verdict::from_problems(NAME, checked, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Op;

    const S: u64 = 1_000_000_000;

    fn scale(d: &str, n: i64, invoke: u64, complete: u64, outcome: Outcome) -> Record {
        Record::Op(Op {
            process: 1,
            workload: "objects".into(),
            key: format!("scale/{d}"),
            kind: OpKind::Write { value: n },
            invoke,
            complete,
            outcome,
            replica: "r0".into(),
            error: None,
        })
    }

    fn count(at: u64, pods: i32) -> Record {
        Record::Objects(ObjectsObs::PodCount { at, name: "d0".into(), replicas: 0, max_surge: 1, pods })
    }

    fn converged(ok: bool) -> Record {
        Record::Objects(ObjectsObs::Converged { at: 100 * S, name: "d0".into(), replicas: 3, ready: 3, ok })
    }

    #[test]
    fn counts_within_the_bound_pass() {
        let h = History {
            records: vec![scale("d0", 5, S, 2 * S, Outcome::Ok), count(3 * S, 6), count(4 * S, 3), converged(true)],
        };
        assert_eq!(check(&h).status, Status::Pass);
    }

    #[test]
    fn a_scale_down_still_allows_the_old_size_for_a_while() {
        let h = History {
            records: vec![
                scale("d0", 5, S, 2 * S, Outcome::Ok),
                scale("d0", 1, 20 * S, 21 * S, Outcome::Ok),
                count(25 * S, 6),
                converged(true),
            ],
        };
        assert_eq!(check(&h).status, Status::Pass);
        // ...but not forever.
        let h = History {
            records: vec![
                scale("d0", 5, S, 2 * S, Outcome::Ok),
                scale("d0", 1, 20 * S, 21 * S, Outcome::Ok),
                count(40 * S, 3),
                converged(true),
            ],
        };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.problems[0].contains("3 live pods at 40.000 s, more than replicas + maxSurge = 2"),
            "{:?}",
            v.problems
        );
    }

    #[test]
    fn overshoot_fails() {
        let h = History { records: vec![count(3 * S, 4), converged(true)] };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert!(v.problems[0].contains("deployment d0 had 4 live pods"), "{:?}", v.problems);
    }

    #[test]
    fn failed_scales_do_not_raise_the_bound_but_indeterminate_ones_do() {
        let fail = History { records: vec![scale("d0", 9, S, 2 * S, Outcome::Fail), count(3 * S, 9), converged(true)] };
        assert_eq!(check(&fail).status, Status::Fail);
        let info = History { records: vec![scale("d0", 9, S, 2 * S, Outcome::Info), count(3 * S, 9), converged(true)] };
        assert_eq!(check(&info).status, Status::Pass);
    }

    #[test]
    fn rebinding_and_non_convergence_fail() {
        let h = History {
            records: vec![
                Record::Objects(ObjectsObs::Rebound { at: S, pod: "ns/p".into(), from: "n1".into(), to: "n2".into() }),
                converged(false),
            ],
        };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.problems.len(), 2);
        assert!(v.problems[0].contains("bound to n1 and then to n2"));
        assert!(v.problems[1].contains("did not converge"));
    }

    #[test]
    fn nothing_recorded_is_unknown() {
        assert_eq!(check(&History::default()).status, Status::Unknown);
    }
}
