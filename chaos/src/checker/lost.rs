//! No lost acknowledged write: every register write or CAS that was
//! acknowledged (`ok`) has its write-log entry at the end of the run, and
//! no write that definitely failed (`fail`) has one.

use std::collections::{BTreeMap, BTreeSet};

use crate::history::{History, OpKind, Outcome, Record};
use crate::verdict::{Status, Verdict};

/// Checks the history's [`crate::history::FinalState`] against its ops.
pub fn check(h: &History) -> Verdict {
    const NAME: &str = "no-lost-writes";
    let Some(fin) = h.records.iter().rev().find_map(|r| match r {
        Record::Final(f) => Some(f),
        _ => None,
    }) else {
        return Verdict {
            checker: NAME.into(),
            status: Status::Unknown,
            checked: "nothing".into(),
            problems: vec!["the history has no final state (the run did not reach its final reads)".into()],
        };
    };
    let logged: BTreeMap<&str, BTreeSet<i64>> =
        fin.logged.iter().map(|(k, v)| (k.as_str(), v.iter().copied().collect())).collect();
    let mut problems = Vec::new();
    let (mut acked, mut failed) = (0usize, 0usize);
    for op in h.ops().filter(|o| o.workload == "register") {
        let value = match op.kind {
            OpKind::Write { value } => value,
            OpKind::Cas { to, .. } => to,
            OpKind::Read { .. } => continue,
        };
        let present = logged.get(op.key.as_str()).is_some_and(|s| s.contains(&value));
        match op.outcome {
            Outcome::Ok => {
                acked += 1;
                if !present {
                    problems.push(format!(
                        "key {}: acknowledged write of {value} (process {}, completed {:.3} s on {}) is gone at the end",
                        op.key,
                        op.process,
                        op.complete as f64 / 1e9,
                        op.replica
                    ));
                }
            }
            Outcome::Fail => {
                failed += 1;
                if present {
                    problems.push(format!(
                        "key {}: write of {value} was reported as definitely failed ({}) but took effect",
                        op.key,
                        op.error.as_deref().unwrap_or("no error text")
                    ));
                }
            }
            Outcome::Info => {}
        }
    }
    Verdict::from_problems(NAME, format!("{acked} acknowledged and {failed} failed writes"), problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{FinalState, Op};

    fn w(key: &str, value: i64, outcome: Outcome) -> Record {
        Record::Op(Op {
            process: 1,
            workload: "register".into(),
            key: key.into(),
            kind: OpKind::Write { value },
            invoke: 1,
            complete: 2,
            outcome,
            replica: "r0".into(),
            error: None,
        })
    }

    fn fin(entries: &[(&str, &[i64])]) -> Record {
        Record::Final(FinalState { at: 9, logged: entries.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect() })
    }

    #[test]
    fn all_acknowledged_present_passes() {
        let h = History { records: vec![w("a", 1, Outcome::Ok), w("a", 2, Outcome::Info), fin(&[("a", &[1])])] };
        assert_eq!(check(&h).status, Status::Pass);
    }

    #[test]
    fn missing_acknowledged_write_fails_naming_it() {
        let h = History { records: vec![w("a", 1, Outcome::Ok), w("b", 7, Outcome::Ok), fin(&[("a", &[1])])] };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.problems.len(), 1);
        assert!(v.problems[0].contains("key b") && v.problems[0].contains("write of 7"), "{:?}", v.problems);
    }

    #[test]
    fn failed_write_that_applied_fails() {
        let h = History { records: vec![w("a", 3, Outcome::Fail), fin(&[("a", &[3])])] };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert!(v.problems[0].contains("definitely failed"));
    }

    #[test]
    fn no_final_state_is_unknown_not_pass() {
        let h = History { records: vec![w("a", 1, Outcome::Ok)] };
        assert_eq!(check(&h).status, Status::Unknown);
    }
}
