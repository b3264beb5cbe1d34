//! The `deployment.kubernetes.io/*` annotations a Deployment keeps on its
//! ReplicaSets (revision, revision history, desired / max replicas) and the
//! copy of the Deployment's own annotations.
//!
//! Guarantees: all functions mutate only the given annotation map and report
//! whether they changed it; malformed revisions read as 0 where upstream does
//! and are otherwise left alone; the revision history never exceeds
//! [`REVISION_HISTORY_LIMIT_CHARS`] characters (oldest entries drop first).

use std::collections::BTreeMap;

/// Revision number of a ReplicaSet (and of the Deployment).
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Comma-separated former revisions of a ReplicaSet reused by a rollback.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// Deployment replicas when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// Deployment replicas + maxSurge when the ReplicaSet was last scaled.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// Label added to a ReplicaSet's selector and template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// Upper bound on the length of the revision history annotation.
pub const REVISION_HISTORY_LIMIT_CHARS: usize = 2000;

const NOT_COPIED: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// The revision in `annotations` (0 when absent or malformed).
pub fn revision_of(annotations: &BTreeMap<String, String>) -> i64 {
    annotations.get(REVISION).and_then(|r| r.parse().ok()).unwrap_or(0)
}

/// An integer annotation, if present and well formed.
pub fn int_annotation(annotations: &BTreeMap<String, String>, key: &str) -> Option<i32> {
    annotations.get(key)?.parse().ok()
}

/// Copy the Deployment's annotations onto a ReplicaSet's, except the
/// controller-managed and kubectl ones.
pub fn copy_deployment_annotations(from: &BTreeMap<String, String>, to: &mut BTreeMap<String, String>) -> bool {
    let mut changed = false;
    for (k, v) in from.iter().filter(|(k, _)| !NOT_COPIED.contains(&k.as_str())) {
        if to.get(k) != Some(v) {
            to.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    changed
}

/// Raise the revision to `new_revision` when it is lower; when a previous
/// revision existed, append it to the revision history (rollback).
pub fn bump_revision(annotations: &mut BTreeMap<String, String>, new_revision: i64) -> bool {
    let old = annotations.get(REVISION).cloned();
    let old_int = match old.as_deref().map(str::parse::<i64>) {
        None => 0,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    if old_int >= new_revision {
        return false;
    }
    annotations.insert(REVISION.to_string(), new_revision.to_string());
    if let Some(old) = old {
        append_history(annotations, &old);
    }
    true
}

fn append_history(annotations: &mut BTreeMap<String, String>, old: &str) {
    let history = annotations.get(REVISION_HISTORY).cloned().unwrap_or_default();
    if history.is_empty() {
        annotations.insert(REVISION_HISTORY.to_string(), old.to_string());
        return;
    }
    let mut entries: Vec<&str> = history.split(',').collect();
    let mut total = history.len() + old.len() + 1;
    while total > REVISION_HISTORY_LIMIT_CHARS && !entries.is_empty() {
        total -= entries.remove(0).len() + 1;
    }
    if total <= REVISION_HISTORY_LIMIT_CHARS {
        entries.push(old);
        annotations.insert(REVISION_HISTORY.to_string(), entries.join(","));
    }
}

/// True when the desired/max replicas annotations differ from the values.
pub fn replicas_annotations_need_update(annotations: &BTreeMap<String, String>, desired: i32, max: i32) -> bool {
    annotations.get(DESIRED_REPLICAS) != Some(&desired.to_string())
        || annotations.get(MAX_REPLICAS) != Some(&max.to_string())
}

/// Set the desired/max replicas annotations.
pub fn set_replicas_annotations(annotations: &mut BTreeMap<String, String>, desired: i32, max: i32) -> bool {
    let changed = replicas_annotations_need_update(annotations, desired, max);
    annotations.insert(DESIRED_REPLICAS.to_string(), desired.to_string());
    annotations.insert(MAX_REPLICAS.to_string(), max.to_string());
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn revision_bump_records_history_on_rollback() {
        let mut a = ann(&[]);
        assert!(bump_revision(&mut a, 1));
        assert_eq!(a.get(REVISION_HISTORY), None, "first revision has no history");
        assert!(!bump_revision(&mut a, 1));
        assert!(bump_revision(&mut a, 3));
        assert_eq!((a[REVISION].as_str(), a[REVISION_HISTORY].as_str()), ("3", "1"));
        assert!(bump_revision(&mut a, 5));
        assert_eq!(a[REVISION_HISTORY], "1,3");
        let mut bad = ann(&[(REVISION, "x")]);
        assert!(!bump_revision(&mut bad, 9));
        assert_eq!(revision_of(&bad), 0);
    }

    #[test]
    fn history_is_bounded() {
        let long = vec!["123456789"; 200].join(",");
        let mut a = ann(&[(REVISION, "7"), (REVISION_HISTORY, &long)]);
        assert!(bump_revision(&mut a, 8));
        assert!(a[REVISION_HISTORY].len() <= REVISION_HISTORY_LIMIT_CHARS);
        assert!(a[REVISION_HISTORY].ends_with(",7"));
    }

    #[test]
    fn copies_user_annotations_only() {
        let from = ann(&[("team", "a"), (REVISION, "4"), ("kubectl.kubernetes.io/last-applied-configuration", "{}")]);
        let mut to = ann(&[(REVISION, "2")]);
        assert!(copy_deployment_annotations(&from, &mut to));
        assert_eq!(to, ann(&[("team", "a"), (REVISION, "2")]));
        assert!(!copy_deployment_annotations(&from, &mut to));
    }

    #[test]
    fn replicas_annotations() {
        let mut a = ann(&[]);
        assert!(set_replicas_annotations(&mut a, 6, 7));
        assert!(!replicas_annotations_need_update(&a, 6, 7));
        assert!(replicas_annotations_need_update(&a, 6, 8));
        assert_eq!(int_annotation(&a, DESIRED_REPLICAS), Some(6));
    }
}
