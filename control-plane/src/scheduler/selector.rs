//! Compiled label selectors and node selectors.
//!
//! Guarantees: a `LabelSelector` is compiled once and then matched without allocation; `matchLabels` and
//! `matchExpressions` are ANDed; an absent selector matches nothing and an empty one matches everything
//! (upstream semantics for affinity terms and spread constraints); an unknown operator makes the selector
//! match nothing. Node selector terms are ORed, the requirements inside a term ANDed, a term without any
//! requirement matches nothing, `Gt`/`Lt` compare integers, and `matchFields` supports `metadata.name`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// The operator of one requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
    /// Malformed requirement: never matches.
    Never,
}

/// One `key <op> values` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    /// `key In [value]`.
    pub fn equals(key: &str, value: &str) -> Requirement {
        Requirement { key: key.to_string(), op: Op::In(vec![value.to_string()]) }
    }

    /// `key NotIn [value]`.
    pub fn not_equals(key: &str, value: &str) -> Requirement {
        Requirement { key: key.to_string(), op: Op::NotIn(vec![value.to_string()]) }
    }

    /// Compiles an operator string; `numeric` allows `Gt`/`Lt` (node selectors only).
    fn compile(key: &str, operator: &str, values: Option<&Vec<String>>, numeric: bool) -> Requirement {
        let values = values.cloned().unwrap_or_default();
        let single_int = || match values.as_slice() {
            [v] => v.parse::<i64>().ok(),
            _ => None,
        };
        let op = match operator {
            "In" if !values.is_empty() => Op::In(values),
            "NotIn" if !values.is_empty() => Op::NotIn(values),
            "Exists" => Op::Exists,
            "DoesNotExist" => Op::DoesNotExist,
            "Gt" if numeric => single_int().map_or(Op::Never, Op::Gt),
            "Lt" if numeric => single_int().map_or(Op::Never, Op::Lt),
            _ => Op::Never,
        };
        Requirement { key: key.to_string(), op }
    }

    /// Whether a label value (None when the key is absent) satisfies the requirement.
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (Op::In(values), Some(v)) => values.iter().any(|x| x == v),
            (Op::NotIn(values), Some(v)) => !values.iter().any(|x| x == v),
            (Op::NotIn(_), None) | (Op::DoesNotExist, None) | (Op::Exists, Some(_)) => true,
            (Op::Gt(bound), Some(v)) => v.parse::<i64>().is_ok_and(|n| n > *bound),
            (Op::Lt(bound), Some(v)) => v.parse::<i64>().is_ok_and(|n| n < *bound),
            _ => false,
        }
    }

    /// Whether a label set satisfies the requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_value(labels.get(&self.key).map(String::as_str))
    }
}

/// A compiled `metav1.LabelSelector`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// Matches every label set.
    pub fn everything() -> Selector {
        Selector { requirements: Vec::new(), nothing: false }
    }

    /// Matches no label set.
    pub fn nothing() -> Selector {
        Selector { requirements: Vec::new(), nothing: true }
    }

    /// Compiles an optional selector: `None` matches nothing.
    pub fn from_optional(selector: Option<&LabelSelector>) -> Selector {
        selector.map_or_else(Selector::nothing, Selector::new)
    }

    /// Compiles a selector (`{}` matches everything).
    pub fn new(selector: &LabelSelector) -> Selector {
        let labels = selector.match_labels.iter().flatten().map(|(k, v)| Requirement::equals(k, v));
        let expressions = selector.match_expressions.iter().flatten().map(compile_label_requirement);
        Selector { requirements: labels.chain(expressions).collect(), nothing: false }
    }

    /// Adds one more ANDed requirement (used for `matchLabelKeys` / `mismatchLabelKeys`).
    pub fn and(&mut self, requirement: Requirement) {
        self.requirements.push(requirement);
    }

    /// Whether `labels` satisfy the selector.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }
}

fn compile_label_requirement(r: &LabelSelectorRequirement) -> Requirement {
    Requirement::compile(&r.key, &r.operator, r.values.as_ref(), false)
}

/// One compiled node selector term: label expressions and field requirements, ANDed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTerm {
    expressions: Vec<Requirement>,
    fields: Vec<Requirement>,
}

impl NodeTerm {
    /// Compiles a term.
    pub fn new(term: &NodeSelectorTerm) -> NodeTerm {
        let expressions = term.match_expressions.iter().flatten().map(compile_node_requirement).collect();
        let fields = term.match_fields.iter().flatten().map(compile_field_requirement).collect();
        NodeTerm { expressions, fields }
    }

    /// Whether a node with this name and these labels satisfies the term (an empty term matches nothing).
    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        if self.expressions.is_empty() && self.fields.is_empty() {
            return false;
        }
        self.expressions.iter().all(|r| r.matches(labels))
            && self.fields.iter().all(|r| r.matches_value(Some(node_name)))
    }
}

fn compile_node_requirement(r: &NodeSelectorRequirement) -> Requirement {
    Requirement::compile(&r.key, &r.operator, r.values.as_ref(), true)
}

fn compile_field_requirement(r: &NodeSelectorRequirement) -> Requirement {
    let supported = r.key == "metadata.name" && matches!(r.operator.as_str(), "In" | "NotIn");
    let operator = if supported { r.operator.as_str() } else { "" };
    Requirement::compile(&r.key, operator, r.values.as_ref(), false)
}

/// A compiled `NodeSelector`: terms ORed (no term → matches nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSelectorMatcher {
    terms: Vec<NodeTerm>,
}

impl NodeSelectorMatcher {
    /// Compiles a node selector.
    pub fn new(selector: &NodeSelector) -> NodeSelectorMatcher {
        NodeSelectorMatcher { terms: selector.node_selector_terms.iter().map(NodeTerm::new).collect() }
    }

    /// Whether any term matches the node.
    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.terms.iter().any(|t| t.matches(node_name, labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn label_selector(match_labels: &[(&str, &str)], exprs: &[(&str, &str, &[&str])]) -> LabelSelector {
        LabelSelector {
            match_labels: Some(labels(match_labels)),
            match_expressions: Some(
                exprs
                    .iter()
                    .map(|(k, op, vs)| LabelSelectorRequirement {
                        key: k.to_string(),
                        operator: op.to_string(),
                        values: Some(vs.iter().map(|v| v.to_string()).collect()),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn label_selector_semantics() {
        let sel = Selector::new(&label_selector(&[("app", "web")], &[("tier", "NotIn", &["db"])]));
        assert!(sel.matches(&labels(&[("app", "web")])));
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!sel.matches(&labels(&[("app", "api")])));
        assert!(Selector::new(&LabelSelector::default()).matches(&labels(&[])));
        assert!(!Selector::from_optional(None).matches(&labels(&[("app", "web")])));
        let bad = Selector::new(&label_selector(&[], &[("a", "Gt", &["1"])]));
        assert!(!bad.matches(&labels(&[("a", "5")])), "Gt is not a label selector operator");
    }

    #[test]
    fn node_requirements() {
        let node = labels(&[("zone", "a"), ("cores", "16")]);
        let term = |r: NodeSelectorRequirement| {
            NodeTerm::new(&NodeSelectorTerm { match_expressions: Some(vec![r]), match_fields: None })
        };
        assert!(term(req("zone", "In", &["a", "b"])).matches("n", &node));
        assert!(!term(req("zone", "NotIn", &["a"])).matches("n", &node));
        assert!(term(req("gpu", "NotIn", &["x"])).matches("n", &node));
        assert!(term(req("zone", "Exists", &[])).matches("n", &node));
        assert!(term(req("gpu", "DoesNotExist", &[])).matches("n", &node));
        assert!(term(req("cores", "Gt", &["8"])).matches("n", &node));
        assert!(!term(req("cores", "Lt", &["8"])).matches("n", &node));
        assert!(!term(req("zone", "Gt", &["8"])).matches("n", &node), "non-numeric label never matches Gt");
        assert!(!term(req("zone", "Bogus", &["a"])).matches("n", &node));
    }

    #[test]
    fn node_terms_are_ored_and_fields_match_names() {
        let by_name =
            NodeSelectorTerm { match_expressions: None, match_fields: Some(vec![req("metadata.name", "In", &["n1"])]) };
        let by_zone = NodeSelectorTerm { match_expressions: Some(vec![req("zone", "In", &["b"])]), match_fields: None };
        let sel = NodeSelectorMatcher::new(&NodeSelector { node_selector_terms: vec![by_name, by_zone] });
        assert!(sel.matches("n1", &labels(&[("zone", "a")])));
        assert!(sel.matches("n2", &labels(&[("zone", "b")])));
        assert!(!sel.matches("n2", &labels(&[("zone", "a")])));
        assert!(!NodeSelectorMatcher::new(&NodeSelector::default()).matches("n1", &labels(&[])));
        assert!(!NodeTerm::new(&NodeSelectorTerm::default()).matches("n1", &labels(&[])));
    }
}
