//! Label selector matching (`metav1.LabelSelector`) for every controller.
//!
//! Guarantees: `matchLabels` and every `matchExpressions` entry must all hold (AND). Operators
//! `In`, `NotIn`, `Exists`, `DoesNotExist` behave as in Kubernetes; an unknown operator, or `In` /
//! `NotIn` without values, matches nothing, so a malformed selector never adopts objects. An empty selector (no labels, no
//! expressions) matches everything, as in Kubernetes; callers that must not adopt everything
//! check [`is_empty`] first.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// Whether `labels` satisfy `selector`.
pub fn matches(selector: &LabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    let empty = BTreeMap::new();
    let labels = labels.unwrap_or(&empty);
    let labels_ok =
        selector.match_labels.iter().flatten().all(|(k, v)| labels.get(k).map(|have| have == v).unwrap_or(false));
    labels_ok && selector.match_expressions.iter().flatten().all(|req| requirement_holds(req, labels))
}

/// Whether the selector has neither labels nor expressions (and so would match everything).
pub fn is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().map(|m| m.is_empty()).unwrap_or(true)
        && selector.match_expressions.as_ref().map(|e| e.is_empty()).unwrap_or(true)
}

fn requirement_holds(req: &LabelSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let value = labels.get(&req.key);
    let values = req.values.as_deref().unwrap_or_default();
    let listed = |v: &String| values.contains(v);
    match req.operator.as_str() {
        "In" => !values.is_empty() && value.is_some_and(listed),
        "NotIn" => !values.is_empty() && !value.is_some_and(listed),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn match_labels_must_all_equal() {
        let sel = LabelSelector { match_labels: Some(labels(&[("a", "1"), ("b", "2")])), match_expressions: None };
        assert!(matches(&sel, Some(&labels(&[("a", "1"), ("b", "2"), ("c", "3")]))));
        assert!(!matches(&sel, Some(&labels(&[("a", "1")]))));
        assert!(!matches(&sel, Some(&labels(&[("a", "1"), ("b", "3")]))));
        assert!(!matches(&sel, None));
    }

    #[test]
    fn expressions() {
        let sel = |e| LabelSelector { match_labels: None, match_expressions: Some(vec![e]) };
        let l = labels(&[("env", "prod")]);
        assert!(matches(&sel(expr("env", "In", &["prod", "dev"])), Some(&l)));
        assert!(!matches(&sel(expr("env", "NotIn", &["prod"])), Some(&l)));
        assert!(matches(&sel(expr("tier", "NotIn", &["web"])), Some(&l)));
        assert!(matches(&sel(expr("env", "Exists", &[])), Some(&l)));
        assert!(!matches(&sel(expr("env", "DoesNotExist", &[])), Some(&l)));
        assert!(!matches(&sel(expr("env", "Bogus", &[])), Some(&l)));
    }

    #[test]
    fn emptiness() {
        assert!(is_empty(&LabelSelector::default()));
        assert!(!is_empty(&LabelSelector { match_labels: Some(labels(&[("a", "1")])), match_expressions: None }));
    }
}
