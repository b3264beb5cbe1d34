//! At most one leader per term (Raft's election safety), from every
//! member's answers to "who leads, in which term".

use std::collections::{BTreeMap, BTreeSet};

use crate::history::History;
use crate::verdict::Verdict;

/// Checks the history's leader observations.
pub fn check(h: &History) -> Verdict {
    let mut by_term: BTreeMap<u64, BTreeMap<&str, (&str, u64)>> = BTreeMap::new();
    let mut n = 0usize;
    for l in h.leaders() {
        n += 1;
        if let Some(leader) = &l.leader {
            by_term.entry(l.term).or_default().entry(leader.as_str()).or_insert((l.observer.as_str(), l.at));
        }
    }
    let mut problems = Vec::new();
    for (term, leaders) in &by_term {
        if leaders.len() > 1 {
            let who: Vec<String> = leaders
                .iter()
                .map(|(l, (obs, at))| format!("{l} (reported by {obs} at {:.3} s)", *at as f64 / 1e9))
                .collect();
            problems.push(format!("term {term} had {} leaders: {}", leaders.len(), who.join(", ")));
        }
    }
    let terms: BTreeSet<u64> = by_term.keys().copied().collect();
    Verdict::from_problems("one-leader-per-term", format!("{n} observations over {} terms", terms.len()), problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{LeaderObs, Record};
    use crate::verdict::Status;

    fn obs(at: u64, observer: &str, term: u64, leader: Option<&str>) -> Record {
        Record::Leader(LeaderObs { at, observer: observer.into(), term, leader: leader.map(Into::into) })
    }

    #[test]
    fn one_leader_per_term_passes() {
        let h = History {
            records: vec![
                obs(1, "r0", 1, Some("r0")),
                obs(1, "r1", 1, Some("r0")),
                obs(5, "r1", 2, None),
                obs(6, "r1", 2, Some("r1")),
            ],
        };
        assert_eq!(check(&h).status, Status::Pass);
    }

    #[test]
    fn two_leaders_in_one_term_fail() {
        let h = History { records: vec![obs(1, "r0", 3, Some("r0")), obs(2_000_000_000, "r2", 3, Some("r2"))] };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert!(v.problems[0].contains("term 3 had 2 leaders"), "{:?}", v.problems);
        assert!(v.problems[0].contains("r2 (reported by r2 at 2.000 s)"), "{:?}", v.problems);
    }
}
