//! Kubernetes strategic merge patch (`application/strategic-merge-patch+json`)
//! over `serde_json::Value`, with the semantics of apimachinery's
//! `strategicpatch` package as the API server applies it.
//!
//! Guarantees:
//! - Maps merge recursively; a `null` patch value deletes the key; any other
//!   non-object patch value (or a value of a different type) replaces the old one.
//! - Lists merge by the strategy [`list_strategy`] gives for their field path:
//!   atomic lists are replaced, keyed lists merge element by element on their
//!   merge key, primitive lists merge as ordered sets. Like Kubernetes, the
//!   result puts the elements the patch names in the patch's order, keeps the
//!   others in their old relative order and interleaves the two lists by the old
//!   order, so an element the patch adds to a non-empty list comes *before* the
//!   untouched ones (`kubectl patch` adding a container puts it first).
//! - Directives: `$patch` in a map (`merge`, the default; `replace`: the map
//!   becomes the rest of the patch map; `delete`), `$patch` in a keyed-list
//!   element (`delete`: drop the elements with its key; `replace`: the list
//!   becomes the patch's other elements), `$retainKeys`,
//!   `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` (applied
//!   after the list's merge). No directive key is left in the result, also not
//!   inside values the patch adds.
//! - Like Kubernetes: `$patch: delete` on a map that exists leaves an empty map
//!   `{}` (a map the original lacks is not added); `$patch: delete` on the whole
//!   patch is refused, as it would empty the object.
//! - Any input gives `Ok` or a [`StrategicPatchError`], never a panic: wrong
//!   types, missing merge keys, unknown directives and patches nested deeper than
//!   [`MAX_PATCH_DEPTH`] levels are errors. The original is never modified.
//! - Lookups are hashed, so a list of `n` elements merges in `O(n log n)`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use thiserror::Error;

use super::merge_keys::{list_strategy, ListStrategy};

/// How deep a patch may nest objects and lists (the patch object itself is
/// level 1). Deeper patches are refused with [`StrategicPatchError::TooDeep`].
pub const MAX_PATCH_DEPTH: usize = 100;

const PATCH_DIRECTIVE: &str = "$patch";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";

/// Why a strategic merge patch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StrategicPatchError {
    /// The patch is not a JSON object.
    #[error(
        "a strategic merge patch must be a JSON object holding the fields to change from the object's root \
         (e.g. {{\"spec\":{{\"replicas\":3}}}}), but it is a {found}"
    )]
    PatchNotObject {
        /// The JSON type the patch has.
        found: &'static str,
    },
    /// The object being patched is not a JSON object.
    #[error("the object to patch must be a JSON object, but it is a {found}")]
    OriginalNotObject {
        /// The JSON type the original has.
        found: &'static str,
    },
    /// The patch nests objects and lists deeper than [`MAX_PATCH_DEPTH`].
    #[error("the patch nests objects and lists more than {max} levels deep; send a shallower patch")]
    TooDeep {
        /// The deepest nesting allowed.
        max: usize,
    },
    /// An element of a keyed list in the patch lacks the list's merge key.
    #[error(
        "element {index} of the list at {path} has no \"{key}\" field; the elements of this list are matched \
         by \"{key}\", so each element in the patch must name the element it changes"
    )]
    MissingMergeKey {
        /// Where the list is.
        path: String,
        /// The element's position in the patch list.
        index: usize,
        /// The merge key of the list.
        key: &'static str,
    },
    /// An element of a keyed list in the patch is not an object.
    #[error(
        "element {index} of the list at {path} is a {found}, but this list holds objects matched by \"{key}\"; \
         send objects such as {{\"{key}\": ...}}"
    )]
    ElementNotObject {
        /// Where the list is.
        path: String,
        /// The element's position in the patch list.
        index: usize,
        /// The merge key of the list.
        key: &'static str,
        /// The JSON type the element has.
        found: &'static str,
    },
    /// An element of a primitive (set-like) list in the patch is an object or list.
    #[error(
        "element {index} of the list at {path} is a {found}, but this list is a set of strings or numbers; \
         send only such values"
    )]
    ElementNotScalar {
        /// Where the list is.
        path: String,
        /// The element's position in the patch list.
        index: usize,
        /// The JSON type the element has.
        found: &'static str,
    },
    /// A `$patch` directive has a value other than `merge`, `replace` or `delete`.
    #[error("unknown \"$patch\" value {value} at {path}; use \"merge\", \"replace\" or \"delete\"")]
    UnknownPatchDirective {
        /// Where the directive is.
        path: String,
        /// The value found, as JSON.
        value: String,
    },
    /// A directive's value has the wrong JSON type.
    #[error("\"{directive}\" at {path} must be {expected}, but it is a {found}")]
    InvalidDirective {
        /// Where the directive is.
        path: String,
        /// The directive key.
        directive: String,
        /// What the directive's value must be.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A `$setElementOrder` or `$deleteFromPrimitiveList` key names no list field.
    #[error("directive key \"{directive}\" at {path} names no list field; write it as \"{prefix}/<list field>\"")]
    MalformedDirectiveKey {
        /// Where the directive is.
        path: String,
        /// The directive key as sent.
        directive: String,
        /// The directive's prefix.
        prefix: &'static str,
    },
    /// The patch sets a key that its map's `$retainKeys` list leaves out.
    #[error(
        "the patch sets \"{key}\" at {path}, but the \"$retainKeys\" list there does not name it; \
         add \"{key}\" to \"$retainKeys\" or drop it from the patch"
    )]
    NotInRetainKeys {
        /// Where the map is.
        path: String,
        /// The key the patch sets.
        key: String,
    },
    /// The patch list names elements that its `$setElementOrder` list lacks, or
    /// names them in another order.
    #[error(
        "the list at {path} in the patch names elements that \"$setElementOrder/{field}\" lacks or orders \
         differently; list every patched element in \"$setElementOrder/{field}\", in the same order"
    )]
    ElementOrderMismatch {
        /// Where the list is.
        path: String,
        /// The list field.
        field: String,
    },
    /// `$patch: delete` at the root of the patch.
    #[error(
        "\"$patch\": \"delete\" at the root of a patch would empty the whole object; send a DELETE request instead"
    )]
    DeleteWholeObject,
}

type Result<T> = std::result::Result<T, StrategicPatchError>;

/// Apply a strategic merge patch to `original` (a whole object, from its root).
///
/// List fields merge by [`list_strategy`] of their field path. The original is
/// not modified; the merged object is returned.
pub fn strategic_merge(original: &Value, patch: &Value) -> Result<Value> {
    let Value::Object(patch_map) = patch else {
        return Err(StrategicPatchError::PatchNotObject { found: type_name(patch) });
    };
    let Value::Object(original_map) = original else {
        return Err(StrategicPatchError::OriginalNotObject { found: type_name(original) });
    };
    check_depth(patch)?;
    let mut path = Path::default();
    match merge_map(original_map.clone(), patch_map, &mut path)? {
        MapOutcome::Merged(merged) => Ok(Value::Object(merged)),
        MapOutcome::Deleted => Err(StrategicPatchError::DeleteWholeObject),
    }
}

/// Refuses patches nested deeper than [`MAX_PATCH_DEPTH`], without recursion,
/// so that the recursive merge below is bounded.
fn check_depth(patch: &Value) -> Result<()> {
    let mut stack = vec![(patch, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if !(value.is_object() || value.is_array()) {
            continue;
        }
        if depth > MAX_PATCH_DEPTH {
            return Err(StrategicPatchError::TooDeep { max: MAX_PATCH_DEPTH });
        }
        match value {
            Value::Object(map) => stack.extend(map.values().map(|child| (child, depth + 1))),
            Value::Array(list) => stack.extend(list.iter().map(|child| (child, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

/// The JSON type of a value, for messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// One step of the path from the patch root, for list strategies and messages.
#[derive(Debug, Clone, Copy)]
enum Segment<'p> {
    Field(&'p str),
    Index(usize),
}

/// The path from the patch root to the value being merged.
#[derive(Debug, Default)]
struct Path<'p> {
    segments: Vec<Segment<'p>>,
}

impl<'p> Path<'p> {
    fn push_field(&mut self, field: &'p str) {
        self.segments.push(Segment::Field(field));
    }

    fn push_index(&mut self, index: usize) {
        self.segments.push(Segment::Index(index));
    }

    fn pop(&mut self) {
        self.segments.pop();
    }

    /// The strategy of the list at this path (list indices left out).
    fn list_strategy(&self) -> ListStrategy {
        let fields: Vec<&str> = self
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::Field(f) => Some(*f),
                Segment::Index(_) => None,
            })
            .collect();
        list_strategy(&fields)
    }

    /// `spec.template.spec.containers[0].env`, or `the object root`.
    fn display(&self) -> String {
        if self.segments.is_empty() {
            return "the object root".to_owned();
        }
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Field(f) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(f);
                }
                Segment::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// What a `$patch` directive asks of its map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MapDirective {
    Merge,
    Replace,
    Delete,
}

/// Parses a `$patch` value.
fn parse_patch_directive(value: &Value, path: &Path<'_>) -> Result<MapDirective> {
    match value.as_str() {
        Some("merge") => Ok(MapDirective::Merge),
        Some("replace") => Ok(MapDirective::Replace),
        Some("delete") => Ok(MapDirective::Delete),
        _ => Err(StrategicPatchError::UnknownPatchDirective { path: path.display(), value: value.to_string() }),
    }
}

/// The `$patch` directive of a list element, if it has one.
fn element_directive(element: &Map<String, Value>, path: &Path<'_>) -> Result<Option<MapDirective>> {
    element.get(PATCH_DIRECTIVE).map(|d| parse_patch_directive(d, path)).transpose()
}

/// Whether a map key is a directive rather than a field.
fn is_directive_key(key: &str) -> bool {
    key == PATCH_DIRECTIVE
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

/// The directives of one patch map, checked for type.
struct Directives<'p> {
    patch: MapDirective,
    retain_keys: Option<HashSet<&'p str>>,
    /// `(list field, full directive key, order)`.
    set_order: Vec<(&'p str, &'p str, &'p [Value])>,
    /// `(list field, values to delete)`.
    delete_from: Vec<(&'p str, &'p [Value])>,
}

impl<'p> Directives<'p> {
    fn parse(patch: &'p Map<String, Value>, path: &Path<'_>) -> Result<Self> {
        let mut directives = Directives {
            patch: MapDirective::Merge,
            retain_keys: None,
            set_order: Vec::new(),
            delete_from: Vec::new(),
        };
        for (key, value) in patch {
            if key == PATCH_DIRECTIVE {
                directives.patch = parse_patch_directive(value, path)?;
            } else if key == RETAIN_KEYS_DIRECTIVE {
                directives.retain_keys = Some(parse_retain_keys(key, value, path)?);
            } else if let Some(rest) = key.strip_prefix(SET_ELEMENT_ORDER_PREFIX) {
                let field = directive_field(key, rest, SET_ELEMENT_ORDER_PREFIX, path)?;
                directives.set_order.push((field, key, directive_list(key, value, path)?));
            } else if let Some(rest) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
                let field = directive_field(key, rest, DELETE_FROM_PRIMITIVE_LIST_PREFIX, path)?;
                directives.delete_from.push((field, directive_list(key, value, path)?));
            }
        }
        Ok(directives)
    }
}

/// The list field a prefixed directive key names (`$setElementOrder/<field>`).
fn directive_field<'p>(key: &str, rest: &'p str, prefix: &'static str, path: &Path<'_>) -> Result<&'p str> {
    match rest.strip_prefix('/') {
        Some(field) if !field.is_empty() => Ok(field),
        _ => {
            Err(StrategicPatchError::MalformedDirectiveKey { path: path.display(), directive: key.to_owned(), prefix })
        }
    }
}

/// The list a list-valued directive holds.
fn directive_list<'p>(key: &str, value: &'p Value, path: &Path<'_>) -> Result<&'p [Value]> {
    match value {
        Value::Array(list) => Ok(list),
        other => Err(StrategicPatchError::InvalidDirective {
            path: path.display(),
            directive: key.to_owned(),
            expected: "a list",
            found: type_name(other),
        }),
    }
}

/// The field names a `$retainKeys` directive lists.
fn parse_retain_keys<'p>(key: &str, value: &'p Value, path: &Path<'_>) -> Result<HashSet<&'p str>> {
    let invalid = |found: &Value| StrategicPatchError::InvalidDirective {
        path: path.display(),
        directive: key.to_owned(),
        expected: "a list of field names",
        found: type_name(found),
    };
    let Value::Array(list) = value else { return Err(invalid(value)) };
    list.iter().map(|name| name.as_str().ok_or_else(|| invalid(name))).collect()
}

/// The result of merging a patch map.
enum MapOutcome {
    Merged(Map<String, Value>),
    /// The patch map said `$patch: delete`.
    Deleted,
}

/// Merges `patch` into `original` (both maps at `path`).
fn merge_map<'p>(
    mut original: Map<String, Value>,
    patch: &'p Map<String, Value>,
    path: &mut Path<'p>,
) -> Result<MapOutcome> {
    let directives = Directives::parse(patch, path)?;
    match directives.patch {
        MapDirective::Delete => return Ok(MapOutcome::Deleted),
        MapDirective::Replace => original = Map::new(),
        MapDirective::Merge => {}
    }

    if let Some(retain) = &directives.retain_keys {
        if let Some((key, _)) =
            patch.iter().find(|(k, v)| !v.is_null() && !is_directive_key(k) && !retain.contains(k.as_str()))
        {
            return Err(StrategicPatchError::NotInRetainKeys { path: path.display(), key: key.clone() });
        }
        original.retain(|k, _| retain.contains(k.as_str()));
    }

    // The lists `$setElementOrder` reorders, as they were before the merge.
    let old_lists: Vec<Vec<Value>> = directives
        .set_order
        .iter()
        .map(|(field, _, _)| match original.get(*field) {
            Some(Value::Array(list)) => list.clone(),
            _ => Vec::new(),
        })
        .collect();

    // Keys to delete are removed in one pass (a removal that keeps the order
    // of the other keys costs a pass over the map).
    let mut removed = HashSet::new();
    for (key, patch_value) in patch {
        if is_directive_key(key) {
            continue;
        }
        path.push_field(key);
        let old = original.get_mut(key).map(Value::take);
        match merge_field(old, patch_value, path)? {
            Some(value) => {
                original.insert(key.clone(), value);
            }
            None => {
                removed.insert(key.as_str());
            }
        }
        path.pop();
    }
    if !removed.is_empty() {
        original.retain(|k, _| !removed.contains(k.as_str()));
    }

    for ((field, directive_key, order), old_list) in directives.set_order.iter().zip(&old_lists) {
        apply_element_order(&mut original, field, directive_key, order, old_list, patch.get(*field), path)?;
    }

    for (field, to_delete) in &directives.delete_from {
        if let Some(Value::Array(list)) = original.get_mut(*field) {
            let doomed: HashSet<Ident> = to_delete.iter().map(ident_of_value).collect();
            list.retain(|v| !doomed.contains(&ident_of_value(v)));
        }
    }
    Ok(MapOutcome::Merged(original))
}

/// The new value of a field from its old value and its patch value; `None`
/// when the field is to be removed.
fn merge_field<'p>(old: Option<Value>, patch_value: &'p Value, path: &mut Path<'p>) -> Result<Option<Value>> {
    Ok(match (old, patch_value) {
        (_, Value::Null) => None,
        (Some(Value::Object(old)), Value::Object(patch_map)) => match merge_map(old, patch_map, path)? {
            MapOutcome::Merged(merged) => Some(Value::Object(merged)),
            // apimachinery leaves an empty map where an existing one is deleted.
            MapOutcome::Deleted => Some(Value::Object(Map::new())),
        },
        (Some(Value::Array(old)), Value::Array(patch_list)) => Some(Value::Array(merge_list(old, patch_list, path)?)),
        (_, value) => new_value(value, path)?,
    })
}

/// A patch value for a field the original lacks (or holds with another type):
/// the value with directives applied and removed and `null`s dropped from maps;
/// `None` when the value deletes itself.
fn new_value<'p>(value: &'p Value, path: &mut Path<'p>) -> Result<Option<Value>> {
    Ok(match value {
        Value::Object(map) => match merge_map(Map::new(), map, path)? {
            MapOutcome::Merged(merged) => Some(Value::Object(merged)),
            MapOutcome::Deleted => None,
        },
        Value::Array(list) => Some(Value::Array(new_list(list, path)?)),
        scalar => Some(scalar.clone()),
    })
}

/// A patch list taken as a whole: elements that are only directives
/// (`{"$patch": "replace"}`, `{"name": "x", "$patch": "delete"}`) are dropped,
/// the others cleaned by [`new_value`].
fn new_list<'p>(list: &'p [Value], path: &mut Path<'p>) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        path.push_index(index);
        let skip = match element {
            Value::Object(map) => {
                matches!(element_directive(map, path)?, Some(MapDirective::Replace | MapDirective::Delete))
            }
            _ => false,
        };
        if !skip {
            out.extend(new_value(element, path)?);
        }
        path.pop();
    }
    Ok(out)
}

/// Merges two lists at `path` by the field's strategy.
fn merge_list<'p>(original: Vec<Value>, patch: &'p [Value], path: &mut Path<'p>) -> Result<Vec<Value>> {
    match path.list_strategy() {
        ListStrategy::Atomic => new_list(patch, path),
        ListStrategy::MergePrimitives => merge_primitive_list(original, patch, path),
        ListStrategy::MergeByKey(key) => merge_keyed_list(original, patch, key, path),
    }
}

/// A hashable identity of a JSON value: numbers compare by value (`1` equals
/// `1.0`), composite values by their JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Ident {
    Null,
    Bool(bool),
    Int(i128),
    Float(u64),
    Str(String),
    Composite(String),
    /// A keyed-list element without its merge key, identified by its JSON text.
    Whole(String),
}

fn ident_of_value(value: &Value) -> Ident {
    match value {
        Value::Null => Ident::Null,
        Value::Bool(b) => Ident::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ident::Int(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Ident::Int(i128::from(u))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.abs() < 1e38 {
                    Ident::Int(f as i128)
                } else {
                    Ident::Float(f.to_bits())
                }
            }
        }
        Value::String(s) => Ident::Str(s.clone()),
        composite => Ident::Composite(composite.to_string()),
    }
}

/// The identity of a list element: its merge key's value for keyed lists, the
/// value itself for primitive lists.
fn ident(element: &Value, key: Option<&str>) -> Ident {
    match key {
        None => ident_of_value(element),
        Some(key) => match element.get(key) {
            Some(key_value) => ident_of_value(key_value),
            None => Ident::Whole(element.to_string()),
        },
    }
}

/// First position of each identity in a list.
fn positions(idents: impl Iterator<Item = Ident>) -> HashMap<Ident, usize> {
    let mut map = HashMap::new();
    for (position, id) in idents.enumerate() {
        map.entry(id).or_insert(position);
    }
    map
}

/// Orders a merged list as apimachinery does: `in_patch` (the elements the
/// patch, or `$setElementOrder`, names) in `patch_order`, `server_only` in the
/// old list's order, then the two interleaved: an old element goes before a
/// named element only if both were in the old list and it came first there.
fn order_elements(
    in_patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &HashMap<Ident, usize>,
    old_order: &HashMap<Ident, usize>,
    key: Option<&str>,
) -> Vec<Value> {
    let rank = |v: Value, order: &HashMap<Ident, usize>| {
        let id = ident(&v, key);
        (order.get(&id).copied().unwrap_or(usize::MAX), old_order.get(&id).copied(), v)
    };
    let mut right: Vec<_> = in_patch.into_iter().map(|v| rank(v, patch_order)).collect();
    let mut left: Vec<_> = server_only.into_iter().map(|v| rank(v, old_order)).collect();
    right.sort_by_key(|e| e.0);
    left.sort_by_key(|e| e.0);

    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!((l.1, r.1), (Some(a), Some(b)) if a < b),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next.map(|e| e.2));
    }
    out
}

/// Merges a list of scalars as an ordered set.
fn merge_primitive_list(original: Vec<Value>, patch: &[Value], path: &Path<'_>) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    check_scalars(patch, path)?;
    let old_order = positions(original.iter().map(ident_of_value));
    let patch_order = positions(patch.iter().map(ident_of_value));
    let mut seen = HashSet::new();
    let (in_patch, server_only): (Vec<Value>, Vec<Value>) = original
        .into_iter()
        .chain(patch.iter().cloned())
        .filter(|v| seen.insert(ident_of_value(v)))
        .partition(|v| patch_order.contains_key(&ident_of_value(v)));
    Ok(order_elements(in_patch, server_only, &patch_order, &old_order, None))
}

/// Refuses objects and lists in a primitive list of the patch.
fn check_scalars(list: &[Value], path: &Path<'_>) -> Result<()> {
    match list.iter().position(|v| v.is_object() || v.is_array()) {
        Some(index) => {
            Err(StrategicPatchError::ElementNotScalar { path: path.display(), index, found: type_name(&list[index]) })
        }
        None => Ok(()),
    }
}

/// The patch element at `index` of a keyed list as a map holding the merge key.
fn keyed_element<'p>(
    element: &'p Value,
    index: usize,
    key: &'static str,
    path: &Path<'_>,
) -> Result<&'p Map<String, Value>> {
    let Value::Object(map) = element else {
        return Err(StrategicPatchError::ElementNotObject {
            path: path.display(),
            index,
            key,
            found: type_name(element),
        });
    };
    if !map.contains_key(key) {
        return Err(StrategicPatchError::MissingMergeKey { path: path.display(), index, key });
    }
    Ok(map)
}

/// Merges a list of objects identified by `key`.
fn merge_keyed_list<'p>(
    mut original: Vec<Value>,
    patch: &'p [Value],
    key: &'static str,
    path: &mut Path<'p>,
) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let mut replace = false;
    let mut deleted = HashSet::new();
    let mut regular = Vec::with_capacity(patch.len());
    for (index, element) in patch.iter().enumerate() {
        let Value::Object(map) = element else {
            return Err(StrategicPatchError::ElementNotObject {
                path: path.display(),
                index,
                key,
                found: type_name(element),
            });
        };
        path.push_index(index);
        let directive = element_directive(map, path)?;
        path.pop();
        match directive {
            Some(MapDirective::Delete) => {
                let map = keyed_element(element, index, key, path)?;
                deleted.insert(map.get(key).map(ident_of_value).unwrap_or(Ident::Null));
            }
            Some(MapDirective::Replace) => replace = true,
            Some(MapDirective::Merge) | None => regular.push((index, keyed_element(element, index, key, path)?)),
        }
    }

    if replace {
        // The list becomes the patch's other elements.
        let mut out = Vec::with_capacity(regular.len());
        for (index, map) in regular {
            path.push_index(index);
            if let MapOutcome::Merged(merged) = merge_map(Map::new(), map, path)? {
                out.push(Value::Object(merged));
            }
            path.pop();
        }
        return Ok(out);
    }

    if !deleted.is_empty() {
        original.retain(|element| !deleted.contains(&ident(element, Some(key))));
    }
    let old_order = positions(original.iter().map(|e| ident(e, Some(key))));
    // Where each identity is in the growing merged list (objects holding the key only).
    let mut at: HashMap<Ident, usize> = HashMap::new();
    for (position, element) in original.iter().enumerate() {
        if element.get(key).is_some() {
            at.entry(ident(element, Some(key))).or_insert(position);
        }
    }
    let mut patch_idents = Vec::with_capacity(regular.len());
    for (index, map) in regular {
        let id = map.get(key).map(ident_of_value).unwrap_or(Ident::Null);
        patch_idents.push(id.clone());
        path.push_index(index);
        match at.get(&id).copied() {
            Some(position) => {
                let old = match original[position].take() {
                    Value::Object(old) => old,
                    _ => Map::new(),
                };
                original[position] = match merge_map(old, map, path)? {
                    MapOutcome::Merged(merged) => Value::Object(merged),
                    MapOutcome::Deleted => Value::Object(Map::new()),
                };
            }
            None => {
                if let MapOutcome::Merged(merged) = merge_map(Map::new(), map, path)? {
                    at.insert(id, original.len());
                    original.push(Value::Object(merged));
                }
            }
        }
        path.pop();
    }

    let patch_order = positions(patch_idents.into_iter());
    let (in_patch, server_only): (Vec<Value>, Vec<Value>) =
        original.into_iter().partition(|e| patch_order.contains_key(&ident(e, Some(key))));
    Ok(order_elements(in_patch, server_only, &patch_order, &old_order, Some(key)))
}

/// Applies `$setElementOrder/<field>` to the merged map: the elements it names
/// come in its order, the others keep their old relative order among them.
fn apply_element_order<'p>(
    merged: &mut Map<String, Value>,
    field: &'p str,
    directive_key: &'p str,
    order: &'p [Value],
    old_list: &[Value],
    patch_list: Option<&'p Value>,
    path: &mut Path<'p>,
) -> Result<()> {
    path.push_field(field);
    let strategy = path.list_strategy();
    path.pop();
    let key = match strategy {
        // The patch list already is the whole list.
        ListStrategy::Atomic => return Ok(()),
        ListStrategy::MergePrimitives => None,
        ListStrategy::MergeByKey(key) => Some(key),
    };

    path.push_field(directive_key);
    let checked = match key {
        Some(key) => order.iter().enumerate().try_for_each(|(i, e)| keyed_element(e, i, key, path).map(|_| ())),
        None => check_scalars(order, path),
    };
    path.pop();
    checked?;

    path.push_field(field);
    let consistent = match patch_list {
        Some(Value::Array(list)) => check_patch_order(list, order, key, path),
        _ => Ok(()),
    };
    path.pop();
    consistent?;

    let Some(Value::Array(list)) = merged.get_mut(field) else { return Ok(()) };
    let order_positions = positions(order.iter().map(|e| ident(e, key)));
    let old_order = positions(old_list.iter().map(|e| ident(e, key)));
    let (in_order, server_only): (Vec<Value>, Vec<Value>) =
        std::mem::take(list).into_iter().partition(|e| order_positions.contains_key(&ident(e, key)));
    *list = order_elements(in_order, server_only, &order_positions, &old_order, key);
    Ok(())
}

/// Checks that the patch list's elements (other than directive elements) all
/// appear in `order`, in the same relative order.
fn check_patch_order(list: &[Value], order: &[Value], key: Option<&'static str>, path: &Path<'_>) -> Result<()> {
    let mut remaining = order.iter();
    for (index, element) in list.iter().enumerate() {
        if let Some(key) = key {
            if element.get(PATCH_DIRECTIVE).is_some() {
                continue;
            }
            keyed_element(element, index, key, path)?;
        }
        let id = ident(element, key);
        if !remaining.any(|o| ident(o, key) == id) {
            let field = match path.segments.last() {
                Some(Segment::Field(f)) => (*f).to_owned(),
                _ => String::new(),
            };
            return Err(StrategicPatchError::ElementOrderMismatch { path: path.display(), field });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merge(original: Value, patch: Value) -> Value {
        match strategic_merge(&original, &patch) {
            Ok(v) => v,
            Err(e) => panic!("patch {patch} failed: {e}"),
        }
    }

    fn merge_err(original: Value, patch: Value) -> StrategicPatchError {
        match strategic_merge(&original, &patch) {
            Ok(v) => panic!("patch {patch} should fail, gave {v}"),
            Err(e) => e,
        }
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": "nginx:1.25",
                                "ports": [
                                    {"containerPort": 80, "name": "http"},
                                    {"containerPort": 443, "name": "https"}
                                ],
                                "env": [{"name": "A", "value": "1"}]
                            },
                            {"name": "sidecar", "image": "busybox:1.36", "args": ["sleep", "inf"]}
                        ]
                    }
                }
            }
        })
    }

    fn containers(obj: &Value) -> &Vec<Value> {
        match obj.pointer("/spec/template/spec/containers") {
            Some(Value::Array(list)) => list,
            other => panic!("no containers list: {other:?}"),
        }
    }

    fn names(list: &[Value], key: &str) -> Vec<Value> {
        list.iter().map(|e| e[key].clone()).collect()
    }

    #[test]
    fn deployment_two_containers_image_env_and_port_delete() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "nginx:1.26", "env": [{"name": "B", "value": "2"}],
             "ports": [{"containerPort": 443, "$patch": "delete"}]}
        ]}}}});
        let out = merge(deployment(), patch);
        let cs = containers(&out);
        assert_eq!(names(cs, "name"), vec![json!("app"), json!("sidecar")]);
        let app = &cs[0];
        assert_eq!(app["image"], "nginx:1.26");
        assert_eq!(app["ports"], json!([{"containerPort": 80, "name": "http"}]));
        // B is new, so like Kubernetes it is placed before the untouched A.
        assert_eq!(app["env"], json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]));
        assert_eq!(cs[1], deployment()["spec"]["template"]["spec"]["containers"][1]);
        assert_eq!(out["spec"]["replicas"], 2);
        assert_eq!(out["metadata"], deployment()["metadata"]);
    }

    #[test]
    fn kubectl_set_image_on_second_container_keeps_order() {
        let patch = json!({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}}});
        let out = merge(deployment(), patch);
        let cs = containers(&out);
        assert_eq!(names(cs, "name"), vec![json!("app"), json!("sidecar")]);
        assert_eq!(cs[1]["image"], "busybox:1.37");
        assert_eq!(cs[1]["args"], json!(["sleep", "inf"]));
        assert_eq!(cs[0]["image"], "nginx:1.25");
    }

    #[test]
    fn kubectl_apply_patch_with_set_element_order() {
        let patch = json!({"spec":{"template":{"spec":{
            "$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],
            "containers":[{"image":"nginx:1.26","name":"app"}]}}}});
        let out = merge(deployment(), patch);
        let cs = containers(&out);
        assert_eq!(names(cs, "name"), vec![json!("app"), json!("sidecar")]);
        assert_eq!(cs[0]["image"], "nginx:1.26");
        assert_eq!(cs[0]["env"], json!([{"name": "A", "value": "1"}]));
        assert!(!out.to_string().contains("$setElementOrder"));
    }

    #[test]
    fn kubectl_apply_removes_container_and_sets_annotation() {
        let last = r#"{"apiVersion":"apps/v1","kind":"Deployment"}"#;
        let patch = json!({
            "metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration": last}},
            "spec":{"template":{"spec":{
                "$setElementOrder/containers":[{"name":"app"}],
                "containers":[{"$patch":"delete","name":"sidecar"}]}}}});
        let out = merge(deployment(), patch);
        assert_eq!(out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"], last);
        assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(names(containers(&out), "name"), vec![json!("app")]);
    }

    #[test]
    fn rollout_restart_adds_template_annotation() {
        let patch = json!({"spec":{"template":{"metadata":{"annotations":{
            "kubectl.kubernetes.io/restartedAt":"2025-01-01T00:00:00Z"}}}}});
        let out = merge(deployment(), patch);
        assert_eq!(
            out["spec"]["template"]["metadata"],
            json!({"labels":{"app":"web"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-01-01T00:00:00Z"}})
        );
        assert_eq!(out["spec"]["template"]["spec"], deployment()["spec"]["template"]["spec"]);
    }

    #[test]
    fn cordon_sets_unschedulable() {
        let node = json!({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{"podCIDR":"10.0.0.0/24"}});
        let out = merge(node, json!({"spec":{"unschedulable":true}}));
        assert_eq!(out["spec"], json!({"podCIDR":"10.0.0.0/24","unschedulable":true}));
        let uncordon = merge(out, json!({"spec":{"unschedulable":null}}));
        assert_eq!(uncordon["spec"], json!({"podCIDR":"10.0.0.0/24"}));
    }

    #[test]
    fn kubectl_patch_adds_container_first_like_kubernetes() {
        let patch = json!({"spec":{"template":{"spec":{"containers":[{"name":"redis","image":"redis"}]}}}});
        let out = merge(deployment(), patch);
        assert_eq!(names(containers(&out), "name"), vec![json!("redis"), json!("app"), json!("sidecar")]);
    }

    #[test]
    fn patch_order_wins_over_old_order() {
        // apimachinery's "preserve the order from the patch in a merging list" cases.
        let pod = |cs: Value| json!({"spec":{"containers": cs}});
        let original = pod(json!([{"name":"1"},{"name":"2","value":"b"},{"name":"3"}]));
        let out = merge(
            original.clone(),
            pod(json!([{"name":"3","value":"c"},{"name":"1","value":"a"},{"name":"2","other":"x"}])),
        );
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name":"3","value":"c"},{"name":"1","value":"a"},{"name":"2","value":"b","other":"x"}])
        );
        let out = merge(original, pod(json!([{"name":"3","value":"c"},{"name":"1","value":"a"}])));
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name":"2","value":"b"},{"name":"3","value":"c"},{"name":"1","value":"a"}])
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let svc = json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{
            "selector":{"app":"web"},
            "ports":[{"name":"http","port":80,"targetPort":8080},{"name":"https","port":443,"targetPort":8443}]}});
        let out = merge(svc.clone(), json!({"spec":{"ports":[{"port":80,"targetPort":9090}]}}));
        assert_eq!(
            out["spec"]["ports"],
            json!([{"name":"http","port":80,"targetPort":9090},{"name":"https","port":443,"targetPort":8443}])
        );
        let out = merge(svc.clone(), json!({"spec":{"ports":[{"port":443,"$patch":"delete"}]}}));
        assert_eq!(out["spec"]["ports"], json!([{"name":"http","port":80,"targetPort":8080}]));
        // A port number written as a float still matches.
        let out = merge(svc, json!({"spec":{"ports":[{"port":80.0,"name":"web"}]}}));
        assert_eq!(out["spec"]["ports"][0]["name"], "web");
        assert_eq!(out["spec"]["ports"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn finalizers_union_and_delete_from_primitive_list() {
        let obj = json!({"metadata":{"name":"x","finalizers":["a","b"]}});
        let out = merge(obj.clone(), json!({"metadata":{"finalizers":["b","c"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
        // A new value alone goes first, as in Kubernetes.
        let out = merge(obj.clone(), json!({"metadata":{"finalizers":["c"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let out = merge(obj.clone(), json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a","zzz"]}}));
        assert_eq!(out["metadata"], json!({"name":"x","finalizers":["b"]}));
        // Deletion of a missing list does not create it.
        let out = merge(json!({"metadata":{}}), json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}));
        assert_eq!(out, json!({"metadata":{}}));
        // kubectl apply form: order, additions and deletions together.
        let out = merge(
            obj,
            json!({"metadata":{"$setElementOrder/finalizers":["b","d"],"finalizers":["d"],
                  "$deleteFromPrimitiveList/finalizers":["a"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "d"]));
    }

    #[test]
    fn primitive_union_dedupes() {
        let out = merge(json!({"spec":{"podCIDRs":["x","x","y"]}}), json!({"spec":{"podCIDRs":["y","z","z"]}}));
        assert_eq!(out["spec"]["podCIDRs"], json!(["x", "y", "z"]));
    }

    #[test]
    fn retain_keys_drops_unlisted_keys() {
        let pod = json!({"spec":{"volumes":[{"name":"v","emptyDir":{}},{"name":"w","secret":{"secretName":"s"}}]}});
        let patch =
            json!({"spec":{"volumes":[{"name":"v","$retainKeys":["configMap","name"],"configMap":{"name":"cm"}}]}});
        let out = merge(pod, patch);
        assert_eq!(
            out["spec"]["volumes"],
            json!([{"name":"v","configMap":{"name":"cm"}},{"name":"w","secret":{"secretName":"s"}}])
        );
        let out = merge(
            json!({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}),
            json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}),
        );
        assert_eq!(out["spec"]["strategy"], json!({"type":"Recreate"}));
    }

    #[test]
    fn retain_keys_refuses_unlisted_patch_key_and_bad_types() {
        let err = merge_err(json!({"spec":{}}), json!({"spec":{"strategy":{"$retainKeys":["type"],"other":1}}}));
        assert!(matches!(err, StrategicPatchError::NotInRetainKeys { ref key, .. } if key == "other"), "{err}");
        let err = merge_err(json!({}), json!({"spec":{"$retainKeys":"type"}}));
        assert!(matches!(err, StrategicPatchError::InvalidDirective { .. }), "{err}");
        let err = merge_err(json!({}), json!({"spec":{"$retainKeys":[1]}}));
        assert!(matches!(err, StrategicPatchError::InvalidDirective { found: "number", .. }), "{err}");
    }

    #[test]
    fn set_element_order_reorders_keyed_and_primitive_lists() {
        let out = merge(
            deployment(),
            json!({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}]}}}}),
        );
        assert_eq!(names(containers(&out), "name"), vec![json!("sidecar"), json!("app")]);

        // apimachinery: an order entry missing from the list is ignored.
        let out = merge(
            json!({"metadata":{"finalizers":["1","3"]}}),
            json!({"metadata":{"$setElementOrder/finalizers":["3","2","1"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["3", "1"]));

        // Elements not named keep their old place relative to named ones.
        let pod = json!({"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}});
        let out = merge(
            pod,
            json!({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"},{"name":"d"}],
                  "containers":[{"name":"d","image":"x"}]}}),
        );
        assert_eq!(names(out["spec"]["containers"].as_array().map_or(&[][..], |v| v), "name"), ["b", "c", "a", "d"]);
    }

    #[test]
    fn set_element_order_for_list_only_in_patch() {
        let out = merge(
            json!({"spec":{}}),
            json!({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
                  "containers":[{"name":"b"},{"name":"a","$setElementOrder/env":[{"name":"y"},{"name":"x"}],
                                 "env":[{"name":"y"},{"name":"x"}]}]}}),
        );
        assert_eq!(out, json!({"spec":{"containers":[{"name":"b"},{"name":"a","env":[{"name":"y"},{"name":"x"}]}]}}));
    }

    #[test]
    fn set_element_order_errors() {
        let pod = json!({"spec":{"containers":[{"name":"a"},{"name":"b"}]}});
        let err = merge_err(pod.clone(), json!({"spec":{"$setElementOrder/containers":{"name":"a"}}}));
        assert!(matches!(err, StrategicPatchError::InvalidDirective { expected: "a list", .. }), "{err}");
        let err = merge_err(
            pod.clone(),
            json!({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
                  "containers":[{"name":"b"},{"name":"a"}]}}),
        );
        assert!(matches!(err, StrategicPatchError::ElementOrderMismatch { ref field, .. } if field == "containers"));
        let err = merge_err(
            pod.clone(),
            json!({"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"z"}]}}),
        );
        assert!(matches!(err, StrategicPatchError::ElementOrderMismatch { .. }), "{err}");
        let err = merge_err(pod.clone(), json!({"spec":{"$setElementOrder/containers":[{"image":"a"}]}}));
        assert!(matches!(err, StrategicPatchError::MissingMergeKey { key: "name", index: 0, .. }), "{err}");
        let err = merge_err(pod.clone(), json!({"spec":{"$setElementOrder":[]}}));
        assert!(matches!(err, StrategicPatchError::MalformedDirectiveKey { .. }), "{err}");
        let err = merge_err(pod, json!({"spec":{"$setElementOrder/":[]}}));
        assert!(matches!(err, StrategicPatchError::MalformedDirectiveKey { .. }), "{err}");
        let err = merge_err(json!({}), json!({"metadata":{"$setElementOrder/finalizers":[["a"]]}}));
        assert!(matches!(err, StrategicPatchError::ElementNotScalar { .. }), "{err}");
    }

    #[test]
    fn null_deletes_and_nulls_in_new_values_are_dropped() {
        let out = merge(
            json!({"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"x":1}}),
            json!({"metadata":{"labels":{"a":null,"missing":null}},"spec":null,
                   "status":{"phase":"Running","gone":null}}),
        );
        assert_eq!(out, json!({"metadata":{"labels":{"b":"2"}},"status":{"phase":"Running"}}));
    }

    #[test]
    fn non_object_patch_value_replaces_and_type_changes_replace() {
        let out = merge(
            json!({"spec":{"a":{"b":1},"c":[1,2],"d":"s"}}),
            json!({"spec":{"a":5,"c":{"k":"v","n":null},"d":[{"x":1}]}}),
        );
        assert_eq!(out, json!({"spec":{"a":5,"c":{"k":"v"},"d":[{"x":1}]}}));
    }

    #[test]
    fn atomic_lists_are_replaced() {
        let out = merge(
            json!({"spec":{"template":{"spec":{"containers":[{"name":"a","args":["x","y"],"command":["sh"]}],
                   "tolerations":[{"key":"k1"},{"key":"k2"}]}}}}),
            json!({"spec":{"template":{"spec":{"containers":[{"name":"a","args":["z"]}],
                   "tolerations":[{"key":"k3"}]}}}}),
        );
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(spec["containers"], json!([{"name":"a","args":["z"],"command":["sh"]}]));
        assert_eq!(spec["tolerations"], json!([{"key":"k3"}]));
    }

    #[test]
    fn patch_replace_on_map_and_list() {
        let out = merge(
            json!({"metadata":{"labels":{"a":"1","b":"2"}}}),
            json!({"metadata":{"labels":{"$patch":"replace","c":"3"}}}),
        );
        assert_eq!(out, json!({"metadata":{"labels":{"c":"3"}}}));
        let out = merge(
            deployment(),
            json!({"spec":{"template":{"spec":{"containers":[
            {"$patch":"replace"},{"name":"only","image":"x"}]}}}}),
        );
        assert_eq!(containers(&out), &vec![json!({"name":"only","image":"x"})]);
        let out = merge(deployment(), json!({"spec":{"template":{"spec":{"containers":[{"$patch":"replace"}]}}}}));
        assert_eq!(containers(&out), &Vec::<Value>::new());
        // A replaced root keeps only what the patch sends.
        let out = merge(json!({"a":1,"b":2}), json!({"$patch":"replace","c":3}));
        assert_eq!(out, json!({"c":3}));
    }

    #[test]
    fn patch_delete_on_map() {
        // Like apimachinery: an existing map becomes empty, a missing one is not added.
        let out = merge(
            json!({"spec":{"affinity":{"nodeAffinity":{}},"x":1}}),
            json!({"spec":{"affinity":{"$patch":"delete"},"tolerationsMap":{"$patch":"delete"}}}),
        );
        assert_eq!(out, json!({"spec":{"affinity":{},"x":1}}));
        assert_eq!(merge_err(json!({"a":1}), json!({"$patch":"delete"})), StrategicPatchError::DeleteWholeObject);
    }

    #[test]
    fn patch_merge_is_the_default() {
        let out = merge(json!({"spec":{"a":1}}), json!({"spec":{"$patch":"merge","b":2}}));
        assert_eq!(out, json!({"spec":{"a":1,"b":2}}));
        let out = merge(
            deployment(),
            json!({"spec":{"template":{"spec":{"containers":[
            {"name":"app","image":"i","$patch":"merge"}]}}}}),
        );
        assert_eq!(containers(&out)[0]["image"], "i");
        assert_eq!(containers(&out)[0]["env"], json!([{"name":"A","value":"1"}]));
    }

    #[test]
    fn delete_all_duplicates_from_keyed_list() {
        let out = merge(
            json!({"spec":{"containers":[{"name":"1"},{"name":"1"},{"name":"2","v":"a"},{"name":"3"},{"name":"3"}]}}),
            json!({"spec":{"containers":[{"name":"1","$patch":"delete"},{"name":"3","$patch":"delete"}]}}),
        );
        assert_eq!(out, json!({"spec":{"containers":[{"name":"2","v":"a"}]}}));
    }

    #[test]
    fn directives_never_reach_the_result() {
        let out = merge(
            json!({"spec":{}}),
            json!({"spec":{"template":{"spec":{
                "$setElementOrder/containers":[{"name":"a"}],
                "containers":[{"name":"a","ports":[{"containerPort":1,"$patch":"delete"},{"containerPort":2}],
                               "$retainKeys":["name","ports"]}],
                "volumes":[{"$patch":"replace"},{"name":"v","emptyDir":{"$patch":"delete"}}],
                "tolerations":[{"key":"k","$patch":"delete"},{"key":"k2"}],
                "affinity":{"$patch":"replace","nodeAffinity":{"x":1}},
                "$deleteFromPrimitiveList/x":["a"]}}}}),
        );
        assert_eq!(
            out,
            json!({"spec":{"template":{"spec":{
                "containers":[{"name":"a","ports":[{"containerPort":2}]}],
                "volumes":[{"name":"v"}],
                "tolerations":[{"key":"k2"}],
                "affinity":{"nodeAffinity":{"x":1}}}}}})
        );
        assert!(!out.to_string().contains('$'));
    }

    #[test]
    fn other_dollar_keys_are_ordinary_fields() {
        let out = merge(json!({"spec":{"$ref":"a"}}), json!({"spec":{"$schema":"b","$ref":"c"}}));
        assert_eq!(out, json!({"spec":{"$ref":"c","$schema":"b"}}));
    }

    #[test]
    fn bad_inputs_are_errors() {
        for patch in [json!([]), json!("x"), json!(null), json!(3)] {
            assert!(matches!(merge_err(json!({}), patch), StrategicPatchError::PatchNotObject { .. }));
        }
        assert!(matches!(merge_err(json!([1]), json!({})), StrategicPatchError::OriginalNotObject { found: "list" }));

        let err = merge_err(deployment(), json!({"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}));
        assert_eq!(
            err,
            StrategicPatchError::MissingMergeKey {
                path: "spec.template.spec.containers".into(),
                index: 0,
                key: "name"
            }
        );
        let err = merge_err(deployment(), json!({"spec":{"template":{"spec":{"containers":[{"$patch":"delete"}]}}}}));
        assert!(matches!(err, StrategicPatchError::MissingMergeKey { .. }), "{err}");
        let err = merge_err(deployment(), json!({"spec":{"template":{"spec":{"containers":["app"]}}}}));
        assert!(matches!(err, StrategicPatchError::ElementNotObject { found: "string", .. }), "{err}");
        let err = merge_err(json!({"metadata":{"finalizers":["a"]}}), json!({"metadata":{"finalizers":[{"a":1}]}}));
        assert!(matches!(err, StrategicPatchError::ElementNotScalar { index: 0, .. }), "{err}");

        let err = merge_err(json!({}), json!({"spec":{"$patch":"remove"}}));
        assert_eq!(err, StrategicPatchError::UnknownPatchDirective { path: "spec".into(), value: "\"remove\"".into() });
        let err = merge_err(
            deployment(),
            json!({"spec":{"template":{"spec":{"containers":[{"name":"app","$patch":true}]}}}}),
        );
        assert!(
            matches!(err, StrategicPatchError::UnknownPatchDirective { ref path, .. }
                if path == "spec.template.spec.containers[0]"),
            "{err}"
        );
        let err = merge_err(json!({}), json!({"x":[{"$patch":"nope"}]}));
        assert!(matches!(err, StrategicPatchError::UnknownPatchDirective { .. }), "{err}");

        let err = merge_err(json!({}), json!({"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}));
        assert!(matches!(err, StrategicPatchError::InvalidDirective { found: "string", .. }), "{err}");
        let err = merge_err(json!({}), json!({"metadata":{"$deleteFromPrimitiveList/finalizers":null}}));
        assert!(matches!(err, StrategicPatchError::InvalidDirective { found: "null", .. }), "{err}");
        let err = merge_err(json!({}), json!({"metadata":{"$deleteFromPrimitiveListfinalizers":[]}}));
        assert!(matches!(err, StrategicPatchError::MalformedDirectiveKey { .. }), "{err}");
        // Messages say where and what to do.
        assert!(err.to_string().contains("metadata") && err.to_string().contains("/<list field>"), "{err}");
    }

    fn nested(depth: usize) -> Value {
        let mut v = json!(1);
        for i in 0..depth {
            v = if i % 2 == 0 { json!({ "a": v }) } else { json!([v]) };
        }
        v
    }

    #[test]
    fn depth_limit() {
        // `nested(n)` has n levels when it ends in an object.
        let ok = nested(MAX_PATCH_DEPTH - 1);
        let ok = json!({ "a": ok });
        assert!(strategic_merge(&json!({}), &ok).is_ok());
        let deep = json!({ "a": nested(MAX_PATCH_DEPTH) });
        assert_eq!(strategic_merge(&json!({}), &deep), Err(StrategicPatchError::TooDeep { max: MAX_PATCH_DEPTH }));
        // Very deep input is refused without recursing through it.
        // (Built without `json!`, which would clone the value recursively.)
        let mut very_deep = Value::Null;
        for _ in 0..100_000 {
            very_deep = Value::Array(vec![very_deep]);
        }
        let patch = Value::Object(Map::from_iter([("a".to_owned(), very_deep)]));
        assert!(matches!(strategic_merge(&json!({}), &patch), Err(StrategicPatchError::TooDeep { .. })));
        // Dropping 100k nested values recursively would overflow the stack; unnest first.
        unnest(patch);
    }

    #[test]
    fn deepest_allowed_merge_fits_a_small_stack() {
        // Original and patch nested to the limit through keyed lists, merged all the way down.
        fn build() -> Value {
            let mut v = json!(1);
            for i in 0..(MAX_PATCH_DEPTH * 2 / 3 - 1) {
                v = if i % 2 == 0 { json!({ "containers": v }) } else { json!([{ "name": "x", "a": v }]) };
            }
            json!({ "containers": v })
        }
        let worker = std::thread::Builder::new().stack_size(1024 * 1024).spawn(|| {
            let patch = build();
            check_depth(&patch).map(|()| strategic_merge(&build(), &patch).map(|v| v == patch))
        });
        let joined = worker.map(|handle| handle.join().ok());
        assert!(matches!(joined, Ok(Some(Ok(Ok(true))))), "{joined:?}");
    }

    fn unnest(mut v: Value) {
        loop {
            v = match v {
                Value::Array(mut a) => match a.pop() {
                    Some(inner) => inner,
                    None => return,
                },
                Value::Object(mut m) => match m.get_mut("a").map(Value::take) {
                    Some(inner) => inner,
                    None => return,
                },
                _ => return,
            };
        }
    }

    #[test]
    fn original_is_untouched_and_empty_patch_is_identity() {
        let original = deployment();
        let copy = original.clone();
        assert_eq!(merge(original.clone(), json!({})), copy);
        let _ = strategic_merge(&original, &json!({"spec":{"replicas":5}}));
        assert_eq!(original, copy);
    }

    #[test]
    fn keyed_list_duplicates_in_patch_merge_into_one() {
        let out = merge(
            json!({"spec":{"containers":[{"name":"a"}]}}),
            json!({"spec":{"containers":[{"name":"b","x":1},{"name":"b","y":2}]}}),
        );
        assert_eq!(out["spec"]["containers"], json!([{"name":"b","x":1,"y":2},{"name":"a"}]));
    }

    #[test]
    fn empty_lists() {
        let out = merge(json!({"spec":{"containers":[]}}), json!({"spec":{"containers":[]}}));
        assert_eq!(out, json!({"spec":{"containers":[]}}));
        let out = merge(json!({"spec":{"containers":[]}}), json!({"spec":{"containers":[{"name":"a"}]}}));
        assert_eq!(out, json!({"spec":{"containers":[{"name":"a"}]}}));
        let out = merge(deployment(), json!({"spec":{"template":{"spec":{"containers":[]}}}}));
        assert_eq!(out, deployment());
    }

    #[test]
    fn large_lists_merge_quickly() {
        let n = 20_000;
        let original: Vec<Value> = (0..n).map(|i| json!({"name": format!("c{i}"), "image": "a"})).collect();
        let patch: Vec<Value> = (0..n).rev().map(|i| json!({"name": format!("c{i}"), "image": "b"})).collect();
        let out = merge(json!({"spec":{"containers": original}}), json!({"spec":{"containers": patch}}));
        let list = out["spec"]["containers"].as_array().map_or(0, Vec::len);
        assert_eq!(list, n);
        assert_eq!(out["spec"]["containers"][0], json!({"name": format!("c{}", n - 1), "image": "b"}));
    }

    #[test]
    fn status_conditions_and_owner_references() {
        let pod = json!({"metadata":{"ownerReferences":[{"uid":"u1","name":"rs"}]},
            "status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Initialized","status":"True"}]}});
        let out = merge(
            pod,
            json!({"metadata":{"ownerReferences":[{"uid":"u1","controller":true}]},
                   "status":{"conditions":[{"type":"Ready","status":"True"}]}}),
        );
        assert_eq!(out["metadata"]["ownerReferences"], json!([{"uid":"u1","name":"rs","controller":true}]));
        assert_eq!(
            out["status"]["conditions"],
            json!([{"type":"Ready","status":"True"},{"type":"Initialized","status":"True"}])
        );
    }
}
