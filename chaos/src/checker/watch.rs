//! Watches: per watcher, revisions strictly increase, and from its start to
//! the last revision it saw it delivered exactly the reference sequence —
//! no gap, no duplicate, no event that never happened, right key and kind.

use std::collections::{BTreeMap, BTreeSet};

use crate::history::{History, Record, WatchObs, WatchReference, WatchSource};
use crate::verdict::{Status, Verdict};

fn kind_of(source: WatchSource, event: &str) -> &'static str {
    match (source, event) {
        (WatchSource::Api, "DELETED") | (WatchSource::Store, "delete") => "delete",
        _ => "put",
    }
}

/// Checks every watcher against the reference for its source.
pub fn check(h: &History) -> Verdict {
    const NAME: &str = "watch";
    let refs: BTreeMap<WatchSource, &WatchReference> = h
        .records
        .iter()
        .filter_map(|r| match r {
            Record::WatchReference(w) => Some((w.source, w)),
            _ => None,
        })
        .collect();
    let mut watchers: BTreeMap<(WatchSource, u32), Vec<&WatchObs>> = BTreeMap::new();
    for r in &h.records {
        if let Record::Watch(w) = r {
            watchers.entry((w.source, w.watcher)).or_default().push(w);
        }
    }
    if watchers.is_empty() {
        return Verdict {
            checker: NAME.into(),
            status: Status::Unknown,
            checked: "no watch events".into(),
            problems: vec!["no watcher delivered any event; was the watch workload run?".into()],
        };
    }
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let mut total = 0usize;
    for ((source, id), seen) in &watchers {
        total += seen.len();
        let label = format!("watcher {id} ({})", if *source == WatchSource::Store { "store" } else { "api" });
        let mut mine = Vec::new();
        // 1. Strictly increasing revisions.
        for pair in seen.windows(2) {
            if pair[1].revision <= pair[0].revision {
                mine.push(format!(
                    "{label}: revision {} (from {}) came after {} — revisions must strictly increase",
                    pair[1].revision, pair[1].replica, pair[0].revision
                ));
            }
        }
        // 2. Exactly the reference between its start and its last event.
        let Some(reference) = refs.get(source) else {
            unknown.push(format!("{label}: no reference sequence was recorded for this source"));
            continue;
        };
        let last = seen.iter().map(|w| w.revision).max().unwrap_or(0).min(reference.to_revision);
        let expected: BTreeSet<(i64, &str, &str)> = reference
            .events
            .iter()
            .filter(|(rev, _, _)| *rev <= last)
            .map(|(rev, k, t)| (*rev, k.as_str(), t.as_str()))
            .collect();
        let got: BTreeSet<(i64, &str, &str)> = seen
            .iter()
            .filter(|w| w.revision <= reference.to_revision)
            .map(|w| (w.revision, w.key.as_str(), kind_of(*source, &w.event)))
            .collect();
        for (rev, key, kind) in expected.difference(&got) {
            let before = seen.iter().map(|w| w.revision).filter(|r| r < rev).max();
            let after = seen.iter().filter(|w| w.revision > *rev).min_by_key(|w| w.revision);
            mine.push(format!(
                "{label}: missed revision {rev} ({kind} {key}); it saw {} then {}",
                before.map_or("nothing".into(), |b| b.to_string()),
                after.map_or("nothing".into(), |a| format!("{} from {}", a.revision, a.replica))
            ));
        }
        for (rev, key, kind) in got.difference(&expected) {
            mine.push(format!(
                "{label}: delivered revision {rev} ({kind} {key}), which is not in the store's history under {}",
                reference.prefix
            ));
        }
        problems.extend(mine);
    }
    let checked = format!("{total} events from {} watchers", watchers.len());
    if problems.is_empty() && !unknown.is_empty() {
        return Verdict { checker: NAME.into(), status: Status::Unknown, checked, problems: unknown };
    }
    Verdict::from_problems(NAME, checked, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(watcher: u32, revision: i64, key: &str) -> Record {
        Record::Watch(WatchObs {
            watcher,
            source: WatchSource::Store,
            replica: "r1".into(),
            at: revision as u64,
            revision,
            key: key.into(),
            event: "put".into(),
        })
    }

    fn reference(events: &[(i64, &str)]) -> Record {
        Record::WatchReference(WatchReference {
            source: WatchSource::Store,
            prefix: "/p/".into(),
            from_revision: 1,
            to_revision: 100,
            events: events.iter().map(|(r, k)| (*r, k.to_string(), "put".to_string())).collect(),
        })
    }

    #[test]
    fn exact_prefix_of_reference_passes() {
        let h = History { records: vec![ev(0, 3, "a"), ev(0, 5, "b"), reference(&[(3, "a"), (5, "b"), (9, "c")])] };
        assert_eq!(check(&h).status, Status::Pass);
    }

    #[test]
    fn gap_is_flagged_with_neighbours() {
        let h = History { records: vec![ev(0, 3, "a"), ev(0, 9, "c"), reference(&[(3, "a"), (5, "b"), (9, "c")])] };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert!(v.problems[0].contains("missed revision 5 (put b); it saw 3 then 9 from r1"), "{:?}", v.problems);
    }

    #[test]
    fn duplicate_and_reorder_are_flagged() {
        let h = History { records: vec![ev(0, 3, "a"), ev(0, 3, "a"), reference(&[(3, "a")])] };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert!(v.problems[0].contains("must strictly increase"));
    }

    #[test]
    fn invented_event_is_flagged() {
        let h = History { records: vec![ev(0, 3, "a"), ev(0, 4, "zz"), reference(&[(3, "a")])] };
        let v = check(&h);
        assert_eq!(v.status, Status::Fail);
        assert!(v.problems[0].contains("not in the store's history"), "{:?}", v.problems);
    }

    #[test]
    fn missing_reference_is_unknown() {
        let h = History { records: vec![ev(0, 3, "a")] };
        assert_eq!(check(&h).status, Status::Unknown);
    }
}
