//! Indexed completion mode: completion indexes of pods and the `status.completedIndexes` format.
//!
//! Guarantees: a pod's index is read from the `batch.kubernetes.io/job-completion-index`
//! annotation (falling back to the label of the same name) and is only accepted when it is a
//! plain decimal in `0..completions`. [`parse_indexes`] skips malformed or out-of-range pieces
//! rather than failing; [`format_indexes`] writes sorted, compressed ranges (`"1,3-5"`), the form
//! `status.completedIndexes` uses.

use std::collections::BTreeSet;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;

/// Annotation and label carrying a pod's completion index.
pub const COMPLETION_INDEX_KEY: &str = "batch.kubernetes.io/job-completion-index";
/// Environment variable that tells the container its completion index.
pub const COMPLETION_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// Whether the job uses `completionMode: Indexed`.
pub fn is_indexed(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.completion_mode.as_deref()) == Some("Indexed")
}

/// The pod's completion index, if it has a valid one below `completions`.
pub fn pod_index(pod: &Pod, completions: i32) -> Option<i32> {
    let meta = &pod.metadata;
    let raw = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(COMPLETION_INDEX_KEY))
        .or_else(|| meta.labels.as_ref().and_then(|l| l.get(COMPLETION_INDEX_KEY)))?;
    parse_index(raw, completions)
}

fn parse_index(raw: &str, completions: i32) -> Option<i32> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<i32>().ok().filter(|i| *i < completions)
}

/// Parses `"1,3-5"` into {1,3,4,5}, keeping only indexes below `completions`.
pub fn parse_indexes(text: &str, completions: i32) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for piece in text.split(',') {
        let (lo, hi) = match piece.split_once('-') {
            Some((a, b)) => (parse_index(a, completions), parse_index(b, completions)),
            None => (parse_index(piece, completions), parse_index(piece, completions)),
        };
        if let (Some(lo), Some(hi)) = (lo, hi) {
            out.extend(lo..=hi);
        }
    }
    out
}

/// Formats indexes as sorted, compressed ranges: {1,3,4,5} → `"1,3-5"`.
pub fn format_indexes(indexes: &BTreeSet<i32>) -> String {
    let mut ranges: Vec<(i32, i32)> = Vec::new();
    for &i in indexes {
        match ranges.last_mut() {
            Some((_, hi)) if *hi + 1 == i => *hi = i,
            _ => ranges.push((i, i)),
        }
    }
    let parts: Vec<String> =
        ranges.iter().map(|(lo, hi)| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") }).collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod_with_annotation(v: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                annotations: Some([(COMPLETION_INDEX_KEY.to_string(), v.to_string())].into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn roundtrip_ranges() {
        let set = parse_indexes("0,2-4,7", 10);
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), [0, 2, 3, 4, 7]);
        assert_eq!(format_indexes(&set), "0,2-4,7");
        assert_eq!(format_indexes(&BTreeSet::new()), "");
    }

    #[test]
    fn malformed_and_out_of_range_skipped() {
        let set = parse_indexes("x,1,-3,5-2,8,9", 9);
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), [1, 8]);
    }

    #[test]
    fn pod_index_validated() {
        assert_eq!(pod_index(&pod_with_annotation("3"), 5), Some(3));
        assert_eq!(pod_index(&pod_with_annotation("5"), 5), None);
        assert_eq!(pod_index(&pod_with_annotation("-1"), 5), None);
        assert_eq!(pod_index(&Pod::default(), 5), None);
    }
}
