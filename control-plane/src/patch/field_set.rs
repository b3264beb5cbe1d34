//! Sets of field paths, the unit of ownership in server-side apply, and their
//! conversion to and from the `fieldsV1` JSON stored in
//! `metadata.managedFields[].fieldsV1`.
//!
//! Guarantees:
//! - A [`FieldSet`] is a plain set of paths ("members"); every operation is
//!   deterministic and the sets iterate in a stable order (object fields
//!   before keyed items before set values before indices, each sorted).
//! - [`FieldSet::to_fields_v1`] and [`FieldSet::from_fields_v1`] round-trip:
//!   `f:name` is an object field, `k:{"name":"c"}` a keyed list item (the JSON
//!   of its key fields, keys sorted), `v:"x"` an element of a list of scalars,
//!   `i:3` an element by position, and `".": {}` marks a node that is itself a
//!   member while also having members below it. An empty object `{}` is a
//!   member leaf.
//! - Decoding never panics: malformed input (wrong types, unknown prefixes,
//!   invalid JSON in keys, nesting deeper than [`MAX_DEPTH`]) is a
//!   [`FieldSetError`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;

use serde_json::{Map, Value};

/// The deepest nesting [`FieldSet::from_fields_v1`] accepts.
pub const MAX_DEPTH: usize = 256;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// An object field (`f:name`).
    Field(String),
    /// An element of a keyed list, named by its key fields: `(field, canonical
    /// JSON of the value)` pairs sorted by field (`k:{"name":"c"}`).
    Key(Vec<(String, String)>),
    /// An element of a list of scalars, as canonical JSON text (`v:"x"`).
    Value(String),
    /// An element of a list addressed by position (`i:0`).
    Index(usize),
}

impl PathElement {
    /// The element naming the item of a keyed list whose key fields are
    /// `fields` (field name, key value); `None` when a value is not a scalar
    /// (keys must be strings, numbers or booleans).
    pub fn key<'a>(fields: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Option<PathElement> {
        let mut pairs = Vec::new();
        for (name, value) in fields {
            if !is_key_scalar(value) {
                return None;
            }
            pairs.push((name.to_string(), json_text(value)));
        }
        pairs.sort();
        Some(PathElement::Key(pairs))
    }

    /// The element naming a scalar in a list of scalars; `None` when `value`
    /// is an object or an array.
    pub fn value(value: &Value) -> Option<PathElement> {
        match value {
            Value::Object(_) | Value::Array(_) => None,
            scalar => Some(PathElement::Value(json_text(scalar))),
        }
    }

    /// Whether `item` (an element of a list) is the one this element names.
    pub fn matches_item(&self, index: usize, item: &Value) -> bool {
        match self {
            PathElement::Field(_) => false,
            PathElement::Key(pairs) => {
                let Value::Object(map) = item else { return false };
                !pairs.is_empty()
                    && pairs
                        .iter()
                        .all(|(name, text)| map.get(name).is_some_and(|v| is_key_scalar(v) && json_text(v) == *text))
            }
            PathElement::Value(text) => !item.is_object() && !item.is_array() && json_text(item) == *text,
            PathElement::Index(i) => *i == index,
        }
    }

    /// The `fieldsV1` object key of this element (`f:spec`, `k:{"name":"c"}`, `v:"x"`, `i:0`).
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(pairs) => {
                let inner: Vec<String> =
                    pairs.iter().map(|(name, text)| format!("{}:{text}", Value::String(name.clone()))).collect();
                format!("k:{{{}}}", inner.join(","))
            }
            PathElement::Value(text) => format!("v:{text}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a `fieldsV1` object key (anything but the member marker `.`).
    pub fn from_fields_v1_key(key: &str) -> Result<PathElement, String> {
        if let Some(name) = key.strip_prefix("f:") {
            return Ok(PathElement::Field(name.to_string()));
        }
        if let Some(json) = key.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(json).map_err(|e| format!("the key is not valid JSON: {e}"))?;
            let Value::Object(map) = parsed else { return Err("the key is not a JSON object".to_string()) };
            if map.is_empty() {
                return Err("the key has no fields".to_string());
            }
            return PathElement::key(map.iter().map(|(k, v)| (k.as_str(), v)))
                .ok_or_else(|| "a key field is not a string, number or boolean".to_string());
        }
        if let Some(json) = key.strip_prefix("v:") {
            let parsed: Value = serde_json::from_str(json).map_err(|e| format!("the value is not valid JSON: {e}"))?;
            return PathElement::value(&parsed).ok_or_else(|| "the value is not a scalar".to_string());
        }
        if let Some(index) = key.strip_prefix("i:") {
            return index.parse().map(PathElement::Index).map_err(|_| "the index is not a number".to_string());
        }
        Err("expected a key starting with \"f:\", \"k:\", \"v:\", \"i:\" or the member marker \".\"".to_string())
    }
}

impl fmt::Display for PathElement {
    /// Upstream's path notation: `.name`, `[name="c"]`, `[="x"]`, `[0]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(pairs) => {
                let inner: Vec<String> = pairs.iter().map(|(name, text)| format!("{name}={text}")).collect();
                write!(f, "[{}]", inner.join(","))
            }
            PathElement::Value(text) => write!(f, "[={text}]"),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// The JSON text of a scalar, the form keys and set values are stored in.
fn json_text(value: &Value) -> String {
    value.to_string()
}

/// Whether a value can be (part of) a list item's key.
fn is_key_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// A path in upstream's notation, e.g. `.spec.template.spec.containers[name="c"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// Why a `fieldsV1` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldSetError {
    /// A node of the tree is not a JSON object.
    #[error("fieldsV1 at `{path}` must be a JSON object; reset metadata.managedFields if it was edited by hand")]
    NotAnObject {
        /// Where, in path notation.
        path: String,
    },
    /// A key of the tree is not a valid path element.
    #[error("fieldsV1 at `{path}` has an invalid key {key:?}: {reason}")]
    BadKey {
        /// Where, in path notation.
        path: String,
        /// The offending key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The tree nests deeper than [`MAX_DEPTH`].
    #[error("fieldsV1 nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// A set of field paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    paths: BTreeSet<Vec<PathElement>>,
}

impl FieldSet {
    /// An empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Adds `path`; returns whether it was new.
    pub fn insert(&mut self, path: Vec<PathElement>) -> bool {
        self.paths.insert(path)
    }

    /// Removes `path`; returns whether it was present.
    pub fn remove(&mut self, path: &[PathElement]) -> bool {
        self.paths.remove(path)
    }

    /// Whether `path` itself is a member.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        self.paths.contains(path)
    }

    /// Whether `prefix` or any path below it is a member.
    pub fn has_prefix(&self, prefix: &[PathElement]) -> bool {
        self.paths
            .range::<[PathElement], _>((Bound::Included(prefix), Bound::Unbounded))
            .next()
            .is_some_and(|p| p.starts_with(prefix))
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// The members in order.
    pub fn iter(&self) -> impl Iterator<Item = &Vec<PathElement>> {
        self.paths.iter()
    }

    /// Members of either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet { paths: self.paths.union(&other.paths).cloned().collect() }
    }

    /// Members of `self` that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet { paths: self.paths.difference(&other.paths).cloned().collect() }
    }

    /// Members of both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet { paths: self.paths.intersection(&other.paths).cloned().collect() }
    }

    /// Adds every member of `other`.
    pub fn extend_from(&mut self, other: &FieldSet) {
        self.paths.extend(other.paths.iter().cloned());
    }

    /// Removes every member of `other`.
    pub fn remove_all(&mut self, other: &FieldSet) {
        if other.paths.len() < self.paths.len() {
            for path in &other.paths {
                self.paths.remove(path);
            }
        } else {
            self.paths.retain(|p| !other.paths.contains(p));
        }
    }

    /// The upstream `fieldsV1` JSON tree of this set.
    pub fn to_fields_v1(&self) -> Value {
        #[derive(Default)]
        struct Node {
            member: bool,
            children: BTreeMap<PathElement, Node>,
        }
        fn render(node: &Node) -> Value {
            let mut out = Map::new();
            if node.member && !node.children.is_empty() {
                out.insert(".".to_string(), Value::Object(Map::new()));
            }
            for (element, child) in &node.children {
                out.insert(element.to_fields_v1_key(), render(child));
            }
            Value::Object(out)
        }
        let mut root = Node::default();
        for path in &self.paths {
            let mut node = &mut root;
            for element in path {
                node = node.children.entry(element.clone()).or_default();
            }
            node.member = true;
        }
        let mut value = render(&root);
        if root.member && root.children.is_empty() {
            value = serde_json::json!({".": {}});
        }
        value
    }

    /// Reads an upstream `fieldsV1` JSON tree.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, FieldSetError> {
        fn walk(
            value: &Value,
            path: &mut Vec<PathElement>,
            set: &mut FieldSet,
            depth: usize,
        ) -> Result<(), FieldSetError> {
            if depth > MAX_DEPTH {
                return Err(FieldSetError::TooDeep);
            }
            let Value::Object(map) = value else {
                return Err(FieldSetError::NotAnObject { path: path_string(path) });
            };
            for (key, child) in map {
                if key == "." {
                    if !child.is_object() {
                        return Err(FieldSetError::NotAnObject { path: format!("{}.", path_string(path)) });
                    }
                    set.insert(path.clone());
                    continue;
                }
                let element = PathElement::from_fields_v1_key(key).map_err(|reason| FieldSetError::BadKey {
                    path: path_string(path),
                    key: key.clone(),
                    reason,
                })?;
                path.push(element);
                match child {
                    Value::Object(inner) if inner.is_empty() => {
                        set.insert(path.clone());
                    }
                    _ => walk(child, path, set, depth + 1)?,
                }
                path.pop();
            }
            Ok(())
        }
        let mut set = FieldSet::new();
        walk(value, &mut Vec::new(), &mut set, 0)?;
        Ok(set)
    }
}

impl FromIterator<Vec<PathElement>> for FieldSet {
    fn from_iter<I: IntoIterator<Item = Vec<PathElement>>>(iter: I) -> FieldSet {
        FieldSet { paths: iter.into_iter().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::Field(name.to_string())
    }

    #[test]
    fn round_trips_upstream_tree() {
        let tree = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}},
                }}},
            },
            "f:finalizers": {"v:\"a\"": {}},
            "f:items": {"i:2": {}},
        });
        let set = FieldSet::from_fields_v1(&tree).unwrap();
        assert_eq!(set.len(), 8);
        let item = PathElement::key([("name", &json!("c"))]).unwrap();
        let container = vec![f("spec"), f("template"), f("spec"), f("containers"), item.clone()];
        assert!(set.contains(&container));
        assert!(set.contains(&[f("metadata"), f("labels")]));
        assert!(!set.contains(&[f("spec")]));
        assert!(set.has_prefix(&[f("spec")]));
        assert!(!set.has_prefix(&[f("status")]));
        assert_eq!(set.to_fields_v1(), tree);
        assert_eq!(
            path_string(&[container, vec![f("image")]].concat()),
            ".spec.template.spec.containers[name=\"c\"].image"
        );
    }

    #[test]
    fn multi_field_keys_are_sorted_and_canonical() {
        let e = PathElement::from_fields_v1_key("k:{\"protocol\":\"TCP\", \"containerPort\":80}").unwrap();
        assert_eq!(e.to_fields_v1_key(), "k:{\"containerPort\":80,\"protocol\":\"TCP\"}");
        assert_eq!(e.to_string(), "[containerPort=80,protocol=\"TCP\"]");
        assert!(e.matches_item(0, &json!({"protocol": "TCP", "containerPort": 80, "name": "x"})));
        assert!(!e.matches_item(0, &json!({"containerPort": 80})));
        assert_eq!(PathElement::Value("\"x\"".into()).to_string(), "[=\"x\"]");
    }

    #[test]
    fn rejects_malformed_trees() {
        assert!(matches!(FieldSet::from_fields_v1(&json!([])), Err(FieldSetError::NotAnObject { .. })));
        assert!(matches!(FieldSet::from_fields_v1(&json!({"f:a": 1})), Err(FieldSetError::NotAnObject { .. })));
        assert!(matches!(FieldSet::from_fields_v1(&json!({"x:a": {}})), Err(FieldSetError::BadKey { .. })));
        assert!(matches!(FieldSet::from_fields_v1(&json!({"k:[1]": {}})), Err(FieldSetError::BadKey { .. })));
        assert!(matches!(FieldSet::from_fields_v1(&json!({"k:{\"a\":{}}": {}})), Err(FieldSetError::BadKey { .. })));
        assert!(matches!(FieldSet::from_fields_v1(&json!({"v:{": {}})), Err(FieldSetError::BadKey { .. })));
        assert!(matches!(FieldSet::from_fields_v1(&json!({"i:-1": {}})), Err(FieldSetError::BadKey { .. })));
        let mut deep = json!({});
        for _ in 0..(MAX_DEPTH + 5) {
            deep = json!({ "f:a": deep });
        }
        assert_eq!(FieldSet::from_fields_v1(&deep), Err(FieldSetError::TooDeep));
    }

    #[test]
    fn set_algebra() {
        let a: FieldSet = [vec![f("a")], vec![f("b"), f("c")]].into_iter().collect();
        let b: FieldSet = [vec![f("b"), f("c")], vec![f("d")]].into_iter().collect();
        assert_eq!(a.union(&b).len(), 3);
        assert_eq!(a.intersection(&b).iter().next(), Some(&vec![f("b"), f("c")]));
        assert_eq!(a.difference(&b).iter().next(), Some(&vec![f("a")]));
        let mut c = a.clone();
        c.remove_all(&b);
        assert_eq!(c, a.difference(&b));
        c.extend_from(&b);
        assert_eq!(c, a.union(&b));
        assert!(FieldSet::new().to_fields_v1() == json!({}));
    }
}
