//! Compiled inter-pod affinity terms of one pod.
//!
//! Guarantees: each `PodAffinityTerm` is compiled once (label selector, namespaces, `matchLabelKeys` /
//! `mismatchLabelKeys` folded into the selector using the owning pod's labels); a term applies to the owning
//! pod's namespace when it names no namespaces and has no namespace selector; an empty namespace selector
//! selects every namespace. A pod without any term compiles to `None` so callers can skip it cheaply.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, WeightedPodAffinityTerm};

use crate::scheduler::cluster::ClusterView;
use crate::scheduler::selector::{Requirement, Selector};

/// Which namespaces a term looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceMatcher {
    names: Vec<String>,
    selector: Option<Selector>,
}

impl NamespaceMatcher {
    fn new(term: &PodAffinityTerm, own_namespace: &str) -> NamespaceMatcher {
        let mut names = term.namespaces.clone().unwrap_or_default();
        let selector = term.namespace_selector.as_ref().map(Selector::new);
        if names.is_empty() && selector.is_none() {
            names.push(own_namespace.to_string());
        }
        NamespaceMatcher { names, selector }
    }

    /// Whether pods of `namespace` are considered (namespace labels come from the view).
    pub fn matches(&self, namespace: &str, view: &ClusterView) -> bool {
        self.names.iter().any(|n| n == namespace)
            || self.selector.as_ref().is_some_and(|s| s.matches(view.namespace_labels(namespace)))
    }
}

/// One compiled pod affinity or anti-affinity term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffinityTerm {
    /// The node label whose value defines the topology domain.
    pub topology_key: String,
    /// Pods whose labels match are "the pods the term is about".
    pub selector: Selector,
    /// Namespaces the term looks at.
    pub namespaces: NamespaceMatcher,
    /// The weight of a preferred term (1 for a required term).
    pub weight: i64,
}

impl AffinityTerm {
    fn new(term: &PodAffinityTerm, weight: i64, namespace: &str, labels: &BTreeMap<String, String>) -> AffinityTerm {
        let mut selector = Selector::from_optional(term.label_selector.as_ref());
        for key in term.match_label_keys.iter().flatten() {
            if let Some(value) = labels.get(key) {
                selector.and(Requirement::equals(key, value));
            }
        }
        for key in term.mismatch_label_keys.iter().flatten() {
            if let Some(value) = labels.get(key) {
                selector.and(Requirement::not_equals(key, value));
            }
        }
        AffinityTerm {
            topology_key: term.topology_key.clone(),
            selector,
            namespaces: NamespaceMatcher::new(term, namespace),
            weight,
        }
    }

    /// Whether a pod with this namespace and labels is selected by the term.
    pub fn matches_pod(&self, namespace: &str, labels: &BTreeMap<String, String>, view: &ClusterView) -> bool {
        self.namespaces.matches(namespace, view) && self.selector.matches(labels)
    }
}

/// All compiled inter-pod affinity terms of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodAffinity {
    /// requiredDuringSchedulingIgnoredDuringExecution of podAffinity.
    pub required_affinity: Vec<AffinityTerm>,
    /// requiredDuringSchedulingIgnoredDuringExecution of podAntiAffinity.
    pub required_anti_affinity: Vec<AffinityTerm>,
    /// preferredDuringSchedulingIgnoredDuringExecution of podAffinity.
    pub preferred_affinity: Vec<AffinityTerm>,
    /// preferredDuringSchedulingIgnoredDuringExecution of podAntiAffinity.
    pub preferred_anti_affinity: Vec<AffinityTerm>,
}

impl PodAffinity {
    /// Compiles the terms of `pod`; `None` when it has none.
    pub fn of(pod: &Pod) -> Option<PodAffinity> {
        let affinity = pod.spec.as_ref()?.affinity.as_ref()?;
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let empty = BTreeMap::new();
        let labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
        let required = |terms: Option<&Vec<PodAffinityTerm>>| -> Vec<AffinityTerm> {
            terms.into_iter().flatten().map(|t| AffinityTerm::new(t, 1, namespace, labels)).collect()
        };
        let preferred = |terms: Option<&Vec<WeightedPodAffinityTerm>>| -> Vec<AffinityTerm> {
            let weighted = terms.into_iter().flatten();
            weighted.map(|t| AffinityTerm::new(&t.pod_affinity_term, i64::from(t.weight), namespace, labels)).collect()
        };
        let aff = affinity.pod_affinity.as_ref();
        let anti = affinity.pod_anti_affinity.as_ref();
        let compiled = PodAffinity {
            required_affinity: required(
                aff.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref()),
            ),
            required_anti_affinity: required(
                anti.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref()),
            ),
            preferred_affinity: preferred(
                aff.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref()),
            ),
            preferred_anti_affinity: preferred(
                anti.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref()),
            ),
        };
        (!compiled.is_empty()).then_some(compiled)
    }

    /// Whether the pod has no term at all.
    pub fn is_empty(&self) -> bool {
        self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, PodAntiAffinity, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn anti_pod(term: PodAffinityTerm) -> Pod {
        Pod {
            metadata: ObjectMeta {
                namespace: Some("ns1".into()),
                labels: Some(labels(&[("app", "web"), ("rev", "r1")])),
                ..Default::default()
            },
            spec: Some(PodSpec {
                affinity: Some(Affinity {
                    pod_anti_affinity: Some(PodAntiAffinity {
                        required_during_scheduling_ignored_during_execution: Some(vec![term]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn term(namespaces: Option<Vec<&str>>, ns_selector: Option<LabelSelector>) -> PodAffinityTerm {
        PodAffinityTerm {
            topology_key: "kubernetes.io/hostname".into(),
            label_selector: Some(LabelSelector { match_labels: Some(labels(&[("app", "web")])), ..Default::default() }),
            namespaces: namespaces.map(|n| n.into_iter().map(String::from).collect()),
            namespace_selector: ns_selector,
            ..Default::default()
        }
    }

    #[test]
    fn no_terms_is_none() {
        assert_eq!(PodAffinity::of(&Pod::default()), None);
    }

    #[test]
    fn default_namespace_is_the_pods_own() {
        let view = ClusterView::default();
        let compiled = PodAffinity::of(&anti_pod(term(None, None))).unwrap_or_default();
        let t = &compiled.required_anti_affinity[0];
        assert!(t.matches_pod("ns1", &labels(&[("app", "web")]), &view));
        assert!(!t.matches_pod("ns2", &labels(&[("app", "web")]), &view));
        assert!(!t.matches_pod("ns1", &labels(&[("app", "db")]), &view));
    }

    #[test]
    fn namespace_list_and_selector() {
        let mut view = ClusterView::default();
        view.set_namespace_labels("team-b", labels(&[("team", "b")]));
        let sel = LabelSelector { match_labels: Some(labels(&[("team", "b")])), ..Default::default() };
        let compiled = PodAffinity::of(&anti_pod(term(Some(vec!["x"]), Some(sel)))).unwrap_or_default();
        let t = &compiled.required_anti_affinity[0];
        let web = labels(&[("app", "web")]);
        assert!(t.matches_pod("x", &web, &view));
        assert!(t.matches_pod("team-b", &web, &view));
        assert!(!t.matches_pod("ns1", &web, &view));
        let all = PodAffinity::of(&anti_pod(term(None, Some(LabelSelector::default())))).unwrap_or_default();
        assert!(all.required_anti_affinity[0].matches_pod("anything", &web, &view));
    }

    #[test]
    fn match_label_keys_fold_into_selector() {
        let mut t = term(None, None);
        t.match_label_keys = Some(vec!["rev".into()]);
        let compiled = PodAffinity::of(&anti_pod(t)).unwrap_or_default();
        let view = ClusterView::default();
        let term = &compiled.required_anti_affinity[0];
        assert!(term.matches_pod("ns1", &labels(&[("app", "web"), ("rev", "r1")]), &view));
        assert!(!term.matches_pod("ns1", &labels(&[("app", "web"), ("rev", "r2")]), &view));
    }
}
