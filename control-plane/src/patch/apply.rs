//! Server-side apply (`PATCH` with `application/apply-patch+yaml`) and
//! `metadata.managedFields` tracking for every other write, following the
//! semantics of Kubernetes 1.32 (structured-merge-diff).
//!
//! Guarantees:
//! - [`apply`] merges the applied configuration into the live object: objects
//!   merge field by field, lists merge per [`list_strategy`] (keyed lists by
//!   their key, lists of scalars as sets, everything else replaced whole), and
//!   scalars take the applied value. Fields the manager applied last time but
//!   left out now are removed unless another manager owns them (or something
//!   below them; then only the unowned fields the manager had applied go, and
//!   a keyed element always keeps its key). Objects and lists left empty by
//!   such a removal go too. An applied `null` removes the field and claims it.
//! - An apply that would change the value of a field another manager owns
//!   (`Apply` or `Update` managers alike) fails with [`ApplyError::Conflicts`]
//!   unless `force` is set, in which case the field moves to the applier.
//!   Setting a field to the value it already has shares ownership.
//! - [`track_update`] gives the writer of a create/update/patch ownership of
//!   every field it set or changed and takes those fields away from everyone
//!   else, as upstream does for `Update` operations.
//! - Ownership never covers `apiVersion`, `kind`, `status` (reset by the main
//!   resource's strategy), `metadata.name`/`namespace` or the metadata fields
//!   the server owns (`managedFields`, `resourceVersion`, `uid`, ...).
//! - `metadata.managedFields` is written deterministically: managers are
//!   identified like upstream (manager, operation, subresource, and the
//!   apiVersion for `Update` entries), empty entries are dropped, entries are
//!   sorted by operation, time, manager, apiVersion and subresource, and at
//!   most ten `Update` entries are kept (the oldest are folded into
//!   `ancient-changes`).
//! - Nothing panics on any input: wrong types, missing keys, deep nesting and
//!   malformed stored `managedFields` are errors or are tolerated.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::field_set::{path_string, FieldSet, PathElement};
use super::merge_keys::{list_strategy, ListStrategy};

/// The deepest nesting accepted in an applied configuration; deeper stored
/// data is tracked as a whole below this depth.
const MAX_DEPTH: usize = 200;
/// Upstream's cap on the number of `Update` entries.
const MAX_UPDATE_MANAGERS: usize = 10;
/// The manager older `Update` entries are folded into past the cap.
const ANCIENT_CHANGES_MANAGER: &str = "ancient-changes";
/// The manager that owns everything when an object without managedFields is
/// first applied to.
const BEFORE_FIRST_APPLY_MANAGER: &str = "before-first-apply";
const OPERATION_APPLY: &str = "Apply";
const OPERATION_UPDATE: &str = "Update";
/// Upstream's limit on the length of a field manager name.
const MAX_MANAGER_LEN: usize = 128;
/// Root fields nobody owns.
const UNOWNED_ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "status"];
/// `metadata` fields the server owns: ignored in applied configurations and
/// never owned.
const SERVER_METADATA_FIELDS: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];
/// `metadata` fields that identify the object: merged but never owned.
const IDENTITY_METADATA_FIELDS: &[&str] = &["name", "namespace"];

/// A field conflict: another manager owns a field this apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's name (`fieldManager`).
    pub manager: String,
    /// The other manager's operation, `Apply` or `Update`.
    pub operation: String,
    /// The apiVersion the other manager wrote with (shown for `Update` managers).
    pub api_version: String,
    /// The subresource the other manager wrote through (`""` for the main resource).
    pub subresource: String,
    /// The field, in upstream path notation, e.g. `.spec.replicas`.
    pub field: String,
}

impl Conflict {
    /// The manager as upstream prints it: `"kubectl"`, or `"kube-controller-manager" using apps/v1`
    /// for `Update` managers (with ` with subresource "status"` when there is one).
    pub fn manager_description(&self) -> String {
        let mut out = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            out.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == OPERATION_UPDATE {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conflict with {}: {}", self.manager_description(), self.field)
    }
}

/// Why an apply was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Other managers own fields the apply would change (HTTP 409); retry
    /// with `force=true` to take them over, drop them from the
    /// configuration, or set them to their live values to share ownership.
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The request cannot be applied (HTTP 400/422); the message says what to fix.
    #[error("{0}")]
    Invalid(String),
}

/// Upstream's conflict message: one line for a single conflict, otherwise
/// the fields grouped by manager.
fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!("Apply failed with 1 conflict: {only}");
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for conflict in conflicts {
        let who = conflict.manager_description();
        if current.as_deref() != Some(who.as_str()) {
            lines.push(format!("conflicts with {who}:"));
            current = Some(who);
        }
        lines.push(format!("- {}", conflict.field));
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

/// Applies `applied` (the user's whole intended config, already JSON) as
/// `manager` onto `live` (`None` = create).
///
/// Returns the new object: `live` merged with `applied`, with the fields this
/// manager applied before but left out now removed unless another manager
/// also owns them, `status` and server-owned metadata kept as `live` has
/// them, and `metadata.managedFields` updated (this manager's `Apply` entry
/// holds exactly the applied fields; its `time` becomes `now` when the object
/// changed or the entry is new). `force` takes conflicting fields from other
/// managers instead of failing. The caller checks preconditions such as an
/// applied `metadata.resourceVersion` before calling; it is ignored here.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    api_version: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    check_manager(manager)?;
    if live.is_some_and(|l| !l.is_object()) {
        return Err(ApplyError::Invalid(
            "the stored object is not a JSON object, so nothing can be applied to it".into(),
        ));
    }
    let config = prepare_config(applied, api_version, live)?;
    let live_obj = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let mut managers = decode_managers(&live_obj).map_err(|e| {
        ApplyError::Invalid(format!(
            "the stored object's {e}; reset it with an update that sets `metadata.managedFields: [{{}}]`, then \
             apply again"
        ))
    })?;
    if live.is_some() && managers.is_empty() {
        // Upstream attributes everything an untracked object holds to a
        // synthetic updater, so the first apply cannot silently take it over.
        let set = field_set_of(&live_obj);
        if !set.is_empty() {
            let owner = Managed { api_version: api_version.to_string(), time: Some(now.to_string()), set };
            managers.insert(ManagerId::update(BEFORE_FIRST_APPLY_MANAGER, api_version), owner);
        }
    }

    let me = ManagerId::apply(manager);
    let new_set = field_set_of(&config);
    let previous = managers.remove(&me);
    let mut merged = merge(&live_obj, &config, &mut Vec::new());

    let mut keep = new_set.clone();
    for other in managers.values() {
        keep.extend_from(&other.set);
    }
    if let Some(previous) = &previous {
        prune(&mut merged, &previous.set.difference(&keep), &keep, &config);
    }

    strip_applied_nulls(&mut merged, &config, &mut Vec::new());

    let mut diff = Diff { changed: FieldSet::new(), removed: FieldSet::new(), replaced_counts_as_changed: true };
    diff.compare(Some(&live_obj), Some(&merged), &mut Vec::new(), &mut Vec::new(), false, 0);
    // Fields removed by an applied `null` are changes made by the applier
    // (a live `null` counts as no value).
    let nulled: FieldSet = new_set.iter().filter(|p| node(&config, p).is_some_and(Value::is_null)).cloned().collect();
    if !nulled.is_empty() {
        let by_null: Vec<Vec<PathElement>> = diff
            .removed
            .iter()
            .filter(|p| {
                (1..=p.len()).any(|n| nulled.contains(&p[..n])) && !node(&live_obj, p).is_some_and(Value::is_null)
            })
            .cloned()
            .collect();
        for path in by_null {
            diff.removed.remove(&path);
            diff.changed.insert(path);
        }
    }
    let mut conflicts = Vec::new();
    for (id, other) in &managers {
        for path in other.set.intersection(&diff.changed).iter() {
            conflicts.push(Conflict {
                manager: id.manager.clone(),
                operation: id.operation.clone(),
                api_version: other.api_version.clone(),
                subresource: id.subresource.clone(),
                field: path_string(path),
            });
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(ApplyError::Conflicts(conflicts));
    }
    for other in managers.values_mut() {
        other.set.remove_all(&diff.changed);
        other.set.remove_all(&diff.removed);
    }

    let object_changed = without_managed_fields(&live_obj) != without_managed_fields(&merged);
    let time = match previous {
        Some(previous) if live.is_some() && !object_changed => previous.time.or_else(|| Some(now.to_string())),
        _ => Some(now.to_string()),
    };
    managers.insert(me, Managed { api_version: api_version.to_string(), time, set: new_set });
    finish_managers(&mut managers);
    write_managed_fields(&mut merged, &managers);
    Ok(merged)
}

/// Records a non-apply write (create/update/patch by `manager`, operation
/// `Update`) in `new`'s `metadata.managedFields`.
///
/// The fields that differ between `old` and `new` (on create, every field
/// `new` sets) become owned by `manager` and are removed from every other
/// manager; fields `new` dropped are removed from everyone; entries left
/// empty are dropped. Ownership comes from `new`'s own `managedFields` when
/// the writer sent a non-empty, well-formed list (so `[{}]` resets
/// ownership), otherwise from `old`'s. The entry's `time` becomes `now` when
/// the write changed anything. Malformed stored ownership is discarded.
pub fn track_update(old: Option<&Value>, new: &mut Value, manager: &str, api_version: &str, now: &str) {
    if !new.is_object() {
        return;
    }
    let mut managers = match decode_managers(new) {
        Ok(managers) if !managers.is_empty() => managers,
        _ => old.and_then(|o| decode_managers(o).ok()).unwrap_or_default(),
    };
    let empty = Value::Object(Map::new());
    let old_obj = old.filter(|o| o.is_object()).unwrap_or(&empty);
    let mut diff = Diff { changed: FieldSet::new(), removed: FieldSet::new(), replaced_counts_as_changed: false };
    diff.compare(Some(old_obj), Some(&*new), &mut Vec::new(), &mut Vec::new(), false, 0);

    let me = ManagerId::update(manager, api_version);
    let previous = managers.remove(&me);
    for other in managers.values_mut() {
        other.set.remove_all(&diff.changed);
        other.set.remove_all(&diff.removed);
    }
    let mut mine =
        previous.unwrap_or(Managed { api_version: api_version.to_string(), time: None, set: FieldSet::new() });
    mine.set.remove_all(&diff.removed);
    if !diff.changed.is_empty() {
        mine.set.extend_from(&diff.changed);
        mine.time = Some(now.to_string());
        mine.api_version = api_version.to_string();
    }
    managers.insert(me, mine);
    finish_managers(&mut managers);
    write_managed_fields(new, &managers);
}

// ---------------------------------------------------------------------------
// Managers

/// How upstream tells managers apart: `Apply` entries ignore the apiVersion
/// (an applier keeps its entry across versions), `Update` entries do not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ManagerId {
    manager: String,
    operation: String,
    /// Empty for `Apply` entries.
    api_version: String,
    subresource: String,
}

impl ManagerId {
    fn apply(manager: &str) -> ManagerId {
        ManagerId {
            manager: manager.to_string(),
            operation: OPERATION_APPLY.to_string(),
            api_version: String::new(),
            subresource: String::new(),
        }
    }

    fn update(manager: &str, api_version: &str) -> ManagerId {
        ManagerId {
            manager: manager.to_string(),
            operation: OPERATION_UPDATE.to_string(),
            api_version: api_version.to_string(),
            subresource: String::new(),
        }
    }
}

/// What one managedFields entry records besides its identity.
#[derive(Debug, Clone)]
struct Managed {
    api_version: String,
    time: Option<String>,
    set: FieldSet,
}

type Managers = BTreeMap<ManagerId, Managed>;

/// Reads `metadata.managedFields`; entries with the same identity are merged.
fn decode_managers(obj: &Value) -> Result<Managers, String> {
    let mut managers = Managers::new();
    let list = match obj.get("metadata").and_then(|m| m.get("managedFields")) {
        None | Some(Value::Null) => return Ok(managers),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("metadata.managedFields is not a list".to_string()),
    };
    for (i, entry) in list.iter().enumerate() {
        let Value::Object(entry) = entry else {
            return Err(format!("metadata.managedFields[{i}] is not an object"));
        };
        let text = |key: &str| -> Result<String, String> {
            match entry.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("metadata.managedFields[{i}].{key} is not a string")),
            }
        };
        let manager = text("manager")?;
        let operation = text("operation")?;
        let api_version = text("apiVersion")?;
        let subresource = text("subresource")?;
        let time = Some(text("time")?).filter(|t| !t.is_empty());
        let fields_type = text("fieldsType")?;
        let set = match entry.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(tree) => {
                if !fields_type.is_empty() && fields_type != "FieldsV1" {
                    return Err(format!(
                        "metadata.managedFields[{i}].fieldsType is {fields_type:?}; only \"FieldsV1\" is supported"
                    ));
                }
                FieldSet::from_fields_v1(tree).map_err(|e| format!("metadata.managedFields[{i}]: {e}"))?
            }
        };
        let id = ManagerId {
            manager,
            api_version: if operation == OPERATION_APPLY { String::new() } else { api_version.clone() },
            operation,
            subresource,
        };
        match managers.get_mut(&id) {
            Some(existing) => {
                existing.set.extend_from(&set);
                existing.time = existing.time.clone().max(time);
            }
            None => {
                managers.insert(id, Managed { api_version, time, set });
            }
        }
    }
    Ok(managers)
}

/// Drops empty entries and caps the number of `Update` entries.
fn finish_managers(managers: &mut Managers) {
    managers.retain(|_, m| !m.set.is_empty());
    loop {
        let updaters = managers.keys().filter(|id| id.operation != OPERATION_APPLY).count();
        if updaters <= MAX_UPDATE_MANAGERS {
            return;
        }
        let oldest = managers
            .iter()
            .filter(|(id, _)| id.operation != OPERATION_APPLY && id.manager != ANCIENT_CHANGES_MANAGER)
            .min_by(|(a_id, a), (b_id, b)| (&a.time, *a_id).cmp(&(&b.time, *b_id)))
            .map(|(id, _)| id.clone());
        let Some(oldest) = oldest else { return };
        let Some(entry) = managers.remove(&oldest) else { return };
        let bucket = ManagerId::update(ANCIENT_CHANGES_MANAGER, &entry.api_version);
        match managers.get_mut(&bucket) {
            Some(existing) => {
                existing.set.extend_from(&entry.set);
                existing.time = existing.time.clone().max(entry.time);
            }
            None => {
                managers.insert(bucket, entry);
            }
        }
    }
}

/// Writes the entries, sorted like upstream, into `metadata.managedFields`
/// (removing the field when there are none).
fn write_managed_fields(obj: &mut Value, managers: &Managers) {
    let mut entries: Vec<(&ManagerId, &Managed)> = managers.iter().collect();
    entries.sort_by(|(a_id, a), (b_id, b)| {
        (&a_id.operation, &a.time, &a_id.manager, &a.api_version, &a_id.subresource).cmp(&(
            &b_id.operation,
            &b.time,
            &b_id.manager,
            &b.api_version,
            &b_id.subresource,
        ))
    });
    let list: Vec<Value> = entries
        .into_iter()
        .map(|(id, managed)| {
            let mut entry = Map::new();
            entry.insert("manager".into(), Value::String(id.manager.clone()));
            entry.insert("operation".into(), Value::String(id.operation.clone()));
            entry.insert("apiVersion".into(), Value::String(managed.api_version.clone()));
            if let Some(time) = &managed.time {
                entry.insert("time".into(), Value::String(time.clone()));
            }
            entry.insert("fieldsType".into(), Value::String("FieldsV1".into()));
            entry.insert("fieldsV1".into(), managed.set.to_fields_v1());
            if !id.subresource.is_empty() {
                entry.insert("subresource".into(), Value::String(id.subresource.clone()));
            }
            Value::Object(entry)
        })
        .collect();
    let Value::Object(root) = obj else { return };
    if list.is_empty() {
        if let Some(Value::Object(meta)) = root.get_mut("metadata") {
            meta.remove("managedFields");
        }
        return;
    }
    let meta = root.entry("metadata").or_insert(Value::Null);
    if meta.is_null() {
        *meta = Value::Object(Map::new());
    }
    if let Value::Object(meta) = meta {
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

/// A copy of `obj` without `metadata.managedFields`, for change detection.
fn without_managed_fields(obj: &Value) -> Value {
    let mut copy = obj.clone();
    if let Some(Value::Object(meta)) = copy.get_mut("metadata") {
        meta.remove("managedFields");
    }
    copy
}

// ---------------------------------------------------------------------------
// Validation of the request

fn check_manager(manager: &str) -> Result<(), ApplyError> {
    if manager.is_empty() {
        return Err(ApplyError::Invalid(
            "fieldManager is required for apply requests; set the fieldManager query parameter (kubectl uses \
             \"kubectl\")"
                .into(),
        ));
    }
    if manager.len() > MAX_MANAGER_LEN {
        return Err(ApplyError::Invalid(format!(
            "fieldManager must be at most {MAX_MANAGER_LEN} bytes long; choose a shorter name"
        )));
    }
    if manager.chars().any(char::is_control) {
        return Err(ApplyError::Invalid("fieldManager must not contain control characters".into()));
    }
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Checks the applied configuration and returns it without the parts apply
/// ignores (`status`, server-owned metadata).
fn prepare_config(applied: &Value, api_version: &str, live: Option<&Value>) -> Result<Value, ApplyError> {
    let invalid = |msg: String| Err(ApplyError::Invalid(msg));
    let Value::Object(body) = applied else {
        return invalid(format!(
            "the applied configuration must be an object (a partial {api_version} object with apiVersion, kind and \
             metadata), not {}",
            type_name(applied)
        ));
    };
    if exceeds_depth(applied, MAX_DEPTH) {
        return invalid(format!("the applied configuration nests deeper than {MAX_DEPTH} levels"));
    }
    match body.get("apiVersion") {
        Some(Value::String(v)) if v == api_version => {}
        Some(Value::String(v)) => {
            return invalid(format!(
                "the applied configuration has apiVersion {v:?} but this endpoint serves {api_version:?}; send it to \
                 the matching endpoint or fix apiVersion"
            ))
        }
        _ => return invalid(format!("the applied configuration must set apiVersion (here {api_version:?})")),
    }
    let kind = match body.get("kind") {
        Some(Value::String(k)) if !k.is_empty() => k,
        _ => return invalid("the applied configuration must set kind".into()),
    };
    if let Some(live_kind) = live.and_then(|l| l.get("kind")).and_then(Value::as_str) {
        if live_kind != kind {
            return invalid(format!("the applied configuration has kind {kind:?} but the object is a {live_kind:?}"));
        }
    }
    match body.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(meta)) => {
            match meta.get("managedFields") {
                None | Some(Value::Null) => {}
                Some(Value::Array(list)) if list.is_empty() => {}
                Some(_) => {
                    return invalid(
                        "metadata.managedFields must not be set in an apply request; remove it from the applied \
                         configuration"
                            .into(),
                    )
                }
            }
            for field in IDENTITY_METADATA_FIELDS {
                let live_value = live.and_then(|l| l.get("metadata")).and_then(|m| m.get(*field));
                if let (Some(Value::String(mine)), Some(Value::String(theirs))) = (meta.get(*field), live_value) {
                    if mine != theirs {
                        return invalid(format!(
                            "the applied configuration has metadata.{field} {mine:?} but the object's is {theirs:?}"
                        ));
                    }
                }
            }
        }
        Some(other) => return invalid(format!("metadata must be an object, not {}", type_name(other))),
    }

    let mut config = applied.clone();
    if let Value::Object(body) = &mut config {
        body.remove("status");
        if body.get("metadata").is_some_and(Value::is_null) {
            body.remove("metadata");
        }
        if let Some(Value::Object(meta)) = body.get_mut("metadata") {
            for field in SERVER_METADATA_FIELDS {
                meta.remove(*field);
            }
        }
    }
    validate_lists(&config, &mut Vec::new(), &mut Vec::new()).map_err(ApplyError::Invalid)?;
    Ok(config)
}

/// Whether `value` nests deeper than `limit` (iterative, so it cannot overflow).
fn exceeds_depth(value: &Value, limit: usize) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        if depth > limit {
            return true;
        }
        match value {
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    false
}

/// Checks that every merged list of the applied configuration can be merged:
/// keyed lists hold objects with a unique scalar key, sets hold unique scalars.
fn validate_lists(value: &Value, path: &mut Vec<PathElement>, names: &mut Vec<String>) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(PathElement::Field(key.clone()));
                names.push(key.clone());
                let result = validate_lists(child, path, names);
                path.pop();
                names.pop();
                result?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let strategy = strategy_at(names);
            let mut seen = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                let at = format!("{}[{i}]", path_string(path));
                let element = match strategy {
                    ListStrategy::Atomic => return Ok(()),
                    ListStrategy::MergeByKey(key) => {
                        let Value::Object(fields) = item else {
                            return Err(format!(
                                "{at}: elements of this list are merged by {key:?} and must be objects, not {}",
                                type_name(item)
                            ));
                        };
                        let Some(key_value) = fields.get(key).filter(|v| !v.is_null()) else {
                            return Err(format!(
                                "{at}: the element has no {key:?}; elements of this list are merged by {key:?}, add it"
                            ));
                        };
                        PathElement::key([(key, key_value)]).ok_or_else(|| {
                            format!("{at}.{key}: must be a string, number or boolean, not {}", type_name(key_value))
                        })?
                    }
                    ListStrategy::MergePrimitives => match item {
                        Value::Null | Value::Object(_) | Value::Array(_) => {
                            return Err(format!(
                                "{at}: this list is a set of strings, numbers or booleans; {} is not allowed",
                                type_name(item)
                            ))
                        }
                        _ => PathElement::value(item).ok_or_else(|| format!("{at}: not a scalar"))?,
                    },
                };
                if !seen.insert(element.clone()) {
                    return Err(format!(
                        "{}: duplicate element {element}; each element of this list must be unique",
                        path_string(path)
                    ));
                }
                path.push(element);
                let result = validate_lists(item, path, names);
                path.pop();
                result?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// Field sets, merging, pruning, comparison

/// The list strategy at a path of field names.
fn strategy_at(names: &[String]) -> ListStrategy {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    list_strategy(&names)
}

/// The path element naming `item` in a list merged with `strategy`; `None`
/// for atomic lists and for elements that cannot be identified.
fn item_element(strategy: ListStrategy, item: &Value) -> Option<PathElement> {
    match strategy {
        ListStrategy::Atomic => None,
        ListStrategy::MergeByKey(key) => {
            let value = item.as_object()?.get(key)?;
            PathElement::key([(key, value)])
        }
        ListStrategy::MergePrimitives => PathElement::value(item).filter(|_| !item.is_null()),
    }
}

/// Whether `path` is the object's own `metadata` (never owned itself).
fn is_root_metadata(path: &[PathElement]) -> bool {
    matches!(path, [PathElement::Field(name)] if name == "metadata")
}

/// Whether a field under `path` is never owned.
fn untracked(path: &[PathElement], key: &str) -> bool {
    match path {
        [] => UNOWNED_ROOT_FIELDS.contains(&key),
        path if is_root_metadata(path) => {
            SERVER_METADATA_FIELDS.contains(&key) || IDENTITY_METADATA_FIELDS.contains(&key)
        }
        _ => false,
    }
}

/// The fields of a whole object.
fn field_set_of(obj: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    collect(obj, &mut Vec::new(), &mut Vec::new(), &mut set, false, 0);
    set
}

/// Adds the fields of `value`, found at `path`, to `out`: scalars, empty
/// objects and atomic lists are members; list items are members and so are
/// their fields; non-empty objects contribute only their fields.
fn collect(
    value: &Value,
    path: &mut Vec<PathElement>,
    names: &mut Vec<String>,
    out: &mut FieldSet,
    is_item: bool,
    depth: usize,
) {
    if is_item || (depth > MAX_DEPTH && !path.is_empty()) {
        out.insert(path.clone());
    }
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) if !map.is_empty() || path.is_empty() || is_root_metadata(path) => {
            for (key, child) in map {
                if untracked(path, key) {
                    continue;
                }
                path.push(PathElement::Field(key.clone()));
                names.push(key.clone());
                collect(child, path, names, out, false, depth + 1);
                path.pop();
                names.pop();
            }
        }
        Value::Array(items) => match strategy_at(names) {
            ListStrategy::Atomic => {
                if !is_item {
                    out.insert(path.clone());
                }
            }
            strategy => {
                for item in items {
                    if let Some(element) = item_element(strategy, item) {
                        path.push(element);
                        collect(item, path, names, out, true, depth + 1);
                        path.pop();
                    }
                }
            }
        },
        _ => {
            if !is_item && !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
}

/// `live` with `config` merged in (the applied value wins; objects and
/// non-atomic lists merge).
fn merge(live: &Value, config: &Value, names: &mut Vec<String>) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) => {
            let mut out = l.clone();
            for (key, c_value) in c {
                let merged = match l.get(key) {
                    Some(l_value) => {
                        names.push(key.clone());
                        let merged = merge(l_value, c_value, names);
                        names.pop();
                        merged
                    }
                    None => c_value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match strategy_at(names) {
            ListStrategy::Atomic => config.clone(),
            strategy => Value::Array(merge_list(l, c, strategy, names)),
        },
        _ => config.clone(),
    }
}

/// Merges two lists of identifiable elements. Applied elements keep the
/// applied order among themselves; live-only elements keep the live order and
/// are placed as early as that allows: each applied element comes after the
/// live-only elements that precede its live counterpart (or, for new
/// elements, those preceding the next shared element).
fn merge_list(l: &[Value], c: &[Value], strategy: ListStrategy, names: &mut Vec<String>) -> Vec<Value> {
    let l_elements: Vec<Option<PathElement>> = l.iter().map(|item| item_element(strategy, item)).collect();
    let c_elements: Vec<Option<PathElement>> = c.iter().map(|item| item_element(strategy, item)).collect();
    let in_config: BTreeSet<&PathElement> = c_elements.iter().flatten().collect();
    let mut first_in_live: BTreeMap<&PathElement, usize> = BTreeMap::new();
    for (i, element) in l_elements.iter().enumerate() {
        if let Some(element) = element {
            first_in_live.entry(element).or_insert(i);
        }
    }
    // Shared elements in applied order; `next_shared` indexes the first one not yet emitted.
    let shared: Vec<&PathElement> = c_elements.iter().flatten().filter(|e| first_in_live.contains_key(e)).collect();
    let mut next_shared = 0;
    let mut emitted: BTreeSet<&PathElement> = BTreeSet::new();

    let mut out = Vec::with_capacity(l.len().max(c.len()));
    let (mut li, mut ci) = (0, 0);
    while li < l.len() || ci < c.len() {
        if li < l.len() {
            match l_elements[li].as_ref().filter(|e| in_config.contains(e)) {
                None => {
                    out.push(l[li].clone());
                    li += 1;
                    continue;
                }
                Some(element) if emitted.contains(element) || shared.get(next_shared) != Some(&element) => {
                    // Emitted already, or emitted later at its applied position.
                    li += 1;
                    continue;
                }
                Some(_) => {} // The next shared element: emit applied ones up to it.
            }
        }
        let Some(c_item) = c.get(ci) else {
            li += 1;
            continue;
        };
        let c_element = c_elements[ci].as_ref();
        match c_element.and_then(|e| first_in_live.get(e)) {
            Some(&j) => out.push(merge(&l[j], c_item, names)),
            None => out.push(c_item.clone()),
        }
        if let Some(element) = c_element {
            if shared.get(next_shared) == Some(&element) {
                next_shared += 1;
            }
            emitted.insert(element);
        }
        ci += 1;
    }
    out
}

/// The node at `path`, if it exists.
fn node<'a>(root: &'a Value, path: &[PathElement]) -> Option<&'a Value> {
    let mut node = root;
    for element in path {
        node = match (element, node) {
            (PathElement::Field(name), Value::Object(map)) => map.get(name)?,
            (element, Value::Array(items)) => {
                items.iter().enumerate().find(|(i, item)| element.matches_item(*i, item)).map(|(_, item)| item)?
            }
            _ => return None,
        };
    }
    Some(node)
}

/// The node at `path`, if it exists, for changing it.
fn node_mut<'a>(root: &'a mut Value, path: &[PathElement]) -> Option<&'a mut Value> {
    let mut node = root;
    for element in path {
        node = match (element, node) {
            (PathElement::Field(name), Value::Object(map)) => map.get_mut(name)?,
            (element, Value::Array(items)) => {
                let index = (0..items.len()).find(|&i| element.matches_item(i, &items[i]))?;
                items.get_mut(index)?
            }
            _ => return None,
        };
    }
    Some(node)
}

/// Removes the node at `path` (every matching list element); returns whether
/// anything was removed.
fn remove_at(root: &mut Value, path: &[PathElement]) -> bool {
    let Some((last, parent)) = path.split_last() else { return false };
    match (last, node_mut(root, parent)) {
        (PathElement::Field(name), Some(Value::Object(map))) => map.remove(name).is_some(),
        (element, Some(Value::Array(items))) => {
            let before = items.len();
            let mut index = 0;
            items.retain(|item| {
                let keep = !element.matches_item(index, item);
                index += 1;
                keep
            });
            items.len() != before
        }
        _ => false,
    }
}

/// Whether `path` is a key field of a keyed list element (never removed on
/// its own, or the element could no longer be identified).
fn is_key_field(path: &[PathElement]) -> bool {
    match path {
        [.., PathElement::Key(pairs), PathElement::Field(name)] => pairs.iter().any(|(key, _)| key == name),
        _ => false,
    }
}

/// Removes the fields in `to_remove` from `obj`. A field with something
/// owned (in `keep`) at or below it stays, and only its unowned descendants
/// in `to_remove` go; so does a field the applied `config` contains (say, an
/// empty keyed list, which owns nothing). Objects and lists emptied by a
/// removal go too, unless owned.
fn prune(obj: &mut Value, to_remove: &FieldSet, keep: &FieldSet, config: &Value) {
    let mut removed_prefix: Option<&[PathElement]> = None;
    for path in to_remove.iter() {
        if path.is_empty() || removed_prefix.is_some_and(|p| path.starts_with(p)) {
            continue;
        }
        if keep.has_prefix(path) || is_key_field(path) || node(config, path).is_some() {
            continue;
        }
        if remove_at(obj, path) {
            removed_prefix = Some(path.as_slice());
            drop_emptied_parents(obj, path, keep);
        }
    }
}

/// After removing `path`, removes its ancestors that are now empty objects
/// or lists reached by a field name, unless owned (root `metadata` stays).
fn drop_emptied_parents(obj: &mut Value, path: &[PathElement], keep: &FieldSet) {
    let mut end = path.len().saturating_sub(1);
    while end > 0 {
        let parent = &path[..end];
        if !matches!(parent.last(), Some(PathElement::Field(_))) || is_root_metadata(parent) || keep.contains(parent) {
            return;
        }
        let empty = match node_mut(obj, parent) {
            Some(Value::Object(map)) => map.is_empty(),
            Some(Value::Array(items)) => items.is_empty(),
            _ => false,
        };
        if !empty {
            return;
        }
        remove_at(obj, parent);
        end -= 1;
    }
}

/// Removes the fields the configuration set to `null` (merging copied the
/// `null`s in).
fn strip_applied_nulls(target: &mut Value, config: &Value, names: &mut Vec<String>) {
    match (target, config) {
        (Value::Object(t), Value::Object(c)) => {
            for (key, c_value) in c {
                if c_value.is_null() {
                    if t.get(key).is_some_and(Value::is_null) {
                        t.remove(key);
                    }
                } else if let Some(t_value) = t.get_mut(key) {
                    names.push(key.clone());
                    strip_applied_nulls(t_value, c_value, names);
                    names.pop();
                }
            }
        }
        (Value::Array(t), Value::Array(c)) => {
            let strategy = strategy_at(names);
            if !matches!(strategy, ListStrategy::MergeByKey(_)) {
                return;
            }
            for c_item in c {
                let Some(element) = item_element(strategy, c_item) else { continue };
                if let Some(t_item) = t.iter_mut().find(|item| element.matches_item(0, item)) {
                    strip_applied_nulls(t_item, c_item, names);
                }
            }
        }
        _ => {}
    }
}

/// The fields that differ between two versions of an object.
struct Diff {
    /// Fields added or given a different value.
    changed: FieldSet,
    /// Fields that disappeared.
    removed: FieldSet,
    /// Whether fields that disappear because an ancestor was replaced by a
    /// value of another type count as changed rather than removed (apply:
    /// replacing another manager's field that way is a conflict).
    replaced_counts_as_changed: bool,
}

impl Diff {
    fn compare(
        &mut self,
        a: Option<&Value>,
        b: Option<&Value>,
        path: &mut Vec<PathElement>,
        names: &mut Vec<String>,
        is_item: bool,
        depth: usize,
    ) {
        let (a, b) = match (a, b) {
            (None, None) => return,
            (None, Some(b)) => return collect(b, path, names, &mut self.changed, is_item, depth),
            (Some(a), None) => return collect(a, path, names, &mut self.removed, is_item, depth),
            (Some(a), Some(b)) => (a, b),
        };
        if depth > MAX_DEPTH {
            if a != b {
                self.changed.insert(path.clone());
            }
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for key in keys {
                    if untracked(path, key) {
                        continue;
                    }
                    path.push(PathElement::Field(key.clone()));
                    names.push(key.clone());
                    self.compare(x.get(key), y.get(key), path, names, false, depth + 1);
                    path.pop();
                    names.pop();
                }
            }
            (Value::Array(x), Value::Array(y)) => match strategy_at(names) {
                ListStrategy::Atomic => {
                    if x != y {
                        self.changed.insert(path.clone());
                    }
                }
                strategy => {
                    let index = |items: &[Value]| {
                        let mut map: BTreeMap<PathElement, usize> = BTreeMap::new();
                        for (i, item) in items.iter().enumerate() {
                            if let Some(element) = item_element(strategy, item) {
                                map.entry(element).or_insert(i);
                            }
                        }
                        map
                    };
                    let (x_index, y_index) = (index(x.as_slice()), index(y.as_slice()));
                    let elements: BTreeSet<&PathElement> = x_index.keys().chain(y_index.keys()).collect();
                    for element in elements {
                        let x_item = x_index.get(element).and_then(|&i| x.get(i));
                        let y_item = y_index.get(element).and_then(|&i| y.get(i));
                        path.push(element.clone());
                        self.compare(x_item, y_item, path, names, true, depth + 1);
                        path.pop();
                    }
                }
            },
            _ => {
                if a == b {
                    return;
                }
                if !path.is_empty() {
                    self.changed.insert(path.clone());
                }
                let mut old = FieldSet::new();
                collect(a, path, names, &mut old, is_item, depth);
                old.remove(path);
                let mut new = FieldSet::new();
                collect(b, path, names, &mut new, is_item, depth);
                new.remove(path);
                self.changed.extend_from(&new);
                if self.replaced_counts_as_changed {
                    self.changed.extend_from(&old);
                } else {
                    self.removed.extend_from(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: &str = "2024-05-01T10:00:00Z";
    const T1: &str = "2024-05-01T11:00:00Z";
    const T2: &str = "2024-05-01T12:00:00Z";

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "replicas": replicas,
                "template": {"spec": {"containers": [{"name": "c", "image": image}]}},
            },
        })
    }

    /// The managedFields entries of `obj` as (manager, operation) pairs.
    fn managers_of(obj: &Value) -> Vec<(String, String)> {
        obj["metadata"]["managedFields"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| (e["manager"].as_str().unwrap().to_string(), e["operation"].as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> &'a Value {
        obj["metadata"]["managedFields"]
            .as_array()
            .and_then(|list| list.iter().find(|e| e["manager"] == manager && e["operation"] == operation))
            .unwrap_or(&Value::Null)
    }

    fn owned(obj: &Value, manager: &str, operation: &str) -> FieldSet {
        FieldSet::from_fields_v1(&entry(obj, manager, operation)["fieldsV1"]).unwrap()
    }

    fn p(text: &str) -> Vec<PathElement> {
        text.split('.').filter(|s| !s.is_empty()).map(|s| PathElement::Field(s.to_string())).collect()
    }

    fn container(name: &str) -> PathElement {
        PathElement::key([("name", &json!(name))]).unwrap()
    }

    fn invalid(result: Result<Value, ApplyError>) -> String {
        match result {
            Err(ApplyError::Invalid(msg)) => msg,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn conflicts(result: Result<Value, ApplyError>) -> (Vec<Conflict>, String) {
        match result {
            Err(err @ ApplyError::Conflicts(_)) => {
                let msg = err.to_string();
                let ApplyError::Conflicts(list) = err else { unreachable!() };
                (list, msg)
            }
            other => panic!("expected conflicts, got {other:?}"),
        }
    }

    #[test]
    fn create_via_apply_records_the_applied_fields() {
        let obj = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        assert_eq!(obj["spec"]["replicas"], 3);
        assert_eq!(obj["metadata"]["name"], "web");
        assert_eq!(
            obj["metadata"]["managedFields"],
            json!([{
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "apps/v1",
                "time": T0,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {
                        "f:replicas": {},
                        "f:template": {"f:spec": {"f:containers": {
                            "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}},
                        }}},
                    },
                },
            }])
        );
    }

    #[test]
    fn reapplying_the_same_config_changes_nothing() {
        let first = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        let second = apply(Some(&first), &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T1).unwrap();
        assert_eq!(second, first);
    }

    #[test]
    fn changing_own_fields_updates_the_time() {
        let first = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        let second = apply(Some(&first), &deployment(4, "nginx:1"), "kubectl", "apps/v1", false, T1).unwrap();
        assert_eq!(second["spec"]["replicas"], 4);
        assert_eq!(entry(&second, "kubectl", "Apply")["time"], T1);
    }

    #[test]
    fn second_applier_changing_a_field_conflicts() {
        let first = apply(None, &deployment(3, "nginx:1"), "alice", "apps/v1", false, T0).unwrap();
        let (list, msg) = conflicts(apply(Some(&first), &deployment(5, "nginx:1"), "bob", "apps/v1", false, T1));
        assert_eq!(msg, "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas");
        assert_eq!(list[0].manager, "alice");
        assert_eq!(list[0].operation, "Apply");
        assert_eq!(list[0].field, ".spec.replicas");
    }

    #[test]
    fn same_value_shares_ownership_without_conflict() {
        let first = apply(None, &deployment(3, "nginx:1"), "alice", "apps/v1", false, T0).unwrap();
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 3}});
        let second = apply(Some(&first), &cfg, "bob", "apps/v1", false, T1).unwrap();
        assert!(owned(&second, "alice", "Apply").contains(&p("spec.replicas")));
        assert_eq!(owned(&second, "bob", "Apply").iter().cloned().collect::<Vec<_>>(), vec![p("spec.replicas")]);
        // The object did not change, but the new entry still gets a time.
        assert_eq!(entry(&second, "bob", "Apply")["time"], T1);
        assert_eq!(without_managed_fields(&second), without_managed_fields(&first));
    }

    #[test]
    fn force_moves_ownership() {
        let first = apply(None, &deployment(3, "nginx:1"), "alice", "apps/v1", false, T0).unwrap();
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 5}});
        let second = apply(Some(&first), &cfg, "bob", "apps/v1", true, T1).unwrap();
        assert_eq!(second["spec"]["replicas"], 5);
        assert!(!owned(&second, "alice", "Apply").contains(&p("spec.replicas")));
        assert!(owned(&second, "alice", "Apply").contains(&p("metadata.labels.app")));
        assert!(owned(&second, "bob", "Apply").contains(&p("spec.replicas")));
        // Now alice re-applying her old value conflicts with bob.
        let (_, msg) = conflicts(apply(Some(&second), &deployment(3, "nginx:1"), "alice", "apps/v1", false, T2));
        assert_eq!(msg, "Apply failed with 1 conflict: conflict with \"bob\": .spec.replicas");
    }

    #[test]
    fn removing_a_field_from_the_config_removes_it() {
        let first = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        let mut cfg = deployment(3, "nginx:1");
        cfg["spec"].as_object_mut().unwrap().remove("replicas");
        cfg["metadata"].as_object_mut().unwrap().remove("labels");
        let second = apply(Some(&first), &cfg, "kubectl", "apps/v1", false, T1).unwrap();
        assert!(second["spec"].get("replicas").is_none());
        // The emptied labels map goes too; metadata stays.
        assert!(second["metadata"].get("labels").is_none());
        assert_eq!(second["metadata"]["name"], "web");
        let set = owned(&second, "kubectl", "Apply");
        assert!(!set.contains(&p("spec.replicas")));
        assert_eq!(entry(&second, "kubectl", "Apply")["time"], T1);
    }

    #[test]
    fn a_field_also_owned_by_another_manager_is_kept() {
        let first = apply(None, &deployment(3, "nginx:1"), "alice", "apps/v1", false, T0).unwrap();
        let shared = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 3}});
        let second = apply(Some(&first), &shared, "bob", "apps/v1", false, T1).unwrap();
        let mut cfg = deployment(3, "nginx:1");
        cfg["spec"].as_object_mut().unwrap().remove("replicas");
        let third = apply(Some(&second), &cfg, "alice", "apps/v1", false, T2).unwrap();
        assert_eq!(third["spec"]["replicas"], 3);
        assert!(!owned(&third, "alice", "Apply").contains(&p("spec.replicas")));
        assert!(owned(&third, "bob", "Apply").contains(&p("spec.replicas")));
        // Unchanged object: alice's time stays.
        assert_eq!(entry(&third, "alice", "Apply")["time"], T0);
    }

    #[test]
    fn client_side_apply_then_server_side_apply_conflicts_unless_forced() {
        let mut created = deployment(3, "nginx:1");
        track_update(None, &mut created, "kubectl-client-side-apply", "apps/v1", T0);
        assert_eq!(managers_of(&created), vec![("kubectl-client-side-apply".into(), "Update".into())]);
        let csa = owned(&created, "kubectl-client-side-apply", "Update");
        let image =
            [p("spec.template.spec.containers"), vec![container("c"), PathElement::Field("image".into())]].concat();
        assert!(csa.contains(&image));
        assert!(csa.contains(&p("spec.replicas")));
        assert!(!csa.has_prefix(&p("metadata.name")));
        assert!(!csa.has_prefix(&p("apiVersion")));

        let cfg = deployment(3, "nginx:2");
        let (list, msg) = conflicts(apply(Some(&created), &cfg, "kubectl", "apps/v1", false, T1));
        assert_eq!(
            msg,
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: \
             .spec.template.spec.containers[name=\"c\"].image"
        );
        assert_eq!(list.len(), 1);

        let forced = apply(Some(&created), &cfg, "kubectl", "apps/v1", true, T1).unwrap();
        assert_eq!(forced["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:2");
        assert!(!owned(&forced, "kubectl-client-side-apply", "Update").contains(&image));
        // Unchanged fields are shared.
        assert!(owned(&forced, "kubectl-client-side-apply", "Update").contains(&p("spec.replicas")));
        assert!(owned(&forced, "kubectl", "Apply").contains(&image));
        // Apply entries sort before Update entries.
        assert_eq!(
            managers_of(&forced),
            vec![("kubectl".into(), "Apply".into()), ("kubectl-client-side-apply".into(), "Update".into())]
        );
    }

    #[test]
    fn multiple_conflicts_are_grouped_by_manager() {
        let mut created = deployment(3, "nginx:1");
        track_update(None, &mut created, "ctl", "apps/v1", T0);
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "paused": true}});
        let with_alice = {
            let mut obj = created.clone();
            obj["spec"]["paused"] = json!(false);
            track_update(Some(&created), &mut obj, "alice", "apps/v1", T1);
            obj
        };
        let (list, msg) = conflicts(apply(Some(&with_alice), &cfg, "bob", "apps/v1", false, T2));
        assert_eq!(list.len(), 2);
        assert_eq!(
            msg,
            "Apply failed with 2 conflicts: conflicts with \"alice\" using apps/v1:\n- .spec.paused\n\
             conflicts with \"ctl\" using apps/v1:\n- .spec.replicas"
        );
    }

    #[test]
    fn containers_merge_by_name() {
        let live = apply(None, &deployment(3, "nginx:1"), "alice", "apps/v1", false, T0).unwrap();
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "sidecar", "image": "envoy"},
            {"name": "c", "env": [{"name": "A", "value": "1"}]},
        ]}}}});
        let merged = apply(Some(&live), &cfg, "bob", "apps/v1", false, T1).unwrap();
        let containers = &merged["spec"]["template"]["spec"]["containers"];
        assert_eq!(
            containers,
            &json!([
                {"name": "sidecar", "image": "envoy"},
                {"name": "c", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
            ])
        );
        let bob = owned(&merged, "bob", "Apply");
        let c_env =
            [p("spec.template.spec.containers"), vec![container("c"), PathElement::Field("env".into())]].concat();
        assert!(bob.contains(&[c_env, vec![PathElement::key([("name", &json!("A"))]).unwrap()]].concat()));
        // Both own the shared container item itself; only alice owns its image.
        let c = [p("spec.template.spec.containers"), vec![container("c")]].concat();
        assert!(bob.contains(&c) && owned(&merged, "alice", "Apply").contains(&c));
        assert!(!bob.contains(&[c.clone(), vec![PathElement::Field("image".into())]].concat()));
    }

    #[test]
    fn live_only_elements_keep_their_place() {
        let live = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}, {"name": "x"}, {"name": "b"}, {"name": "y"}]}});
        let cfg = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "b"}, {"name": "new"}, {"name": "a"}]}});
        let out = apply(Some(&live), &cfg, "m", "v1", false, T0).unwrap();
        let names: Vec<&str> =
            out["spec"]["containers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["x", "b", "y", "new", "a"]);
    }

    #[test]
    fn removing_a_container_removes_it_unless_someone_owns_part_of_it() {
        let two = |images: &[&str]| {
            let containers: Vec<Value> =
                images.iter().map(|name| json!({"name": name, "image": format!("{name}:1")})).collect();
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": containers}})
        };
        let live = apply(None, &two(&["a", "b"]), "m", "v1", false, T0).unwrap();
        let out = apply(Some(&live), &two(&["a"]), "m", "v1", false, T1).unwrap();
        assert_eq!(out["spec"]["containers"], json!([{"name": "a", "image": "a:1"}]));

        // Another manager changed b's resources: b stays with its key and
        // that field, m's image goes.
        let mut updated = live.clone();
        updated["spec"]["containers"][1]["resources"] = json!({"limits": {"cpu": "1"}});
        track_update(Some(&live), &mut updated, "scaler", "v1", T1);
        let out = apply(Some(&updated), &two(&["a"]), "m", "v1", false, T2).unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "a", "image": "a:1"}, {"name": "b", "resources": {"limits": {"cpu": "1"}}}])
        );
    }

    #[test]
    fn update_takes_ownership_and_next_apply_conflicts() {
        let live = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        let mut scaled = live.clone();
        scaled["spec"]["replicas"] = json!(7);
        track_update(Some(&live), &mut scaled, "hpa", "apps/v1", T1);
        assert!(!owned(&scaled, "kubectl", "Apply").contains(&p("spec.replicas")));
        assert_eq!(owned(&scaled, "hpa", "Update").iter().cloned().collect::<Vec<_>>(), vec![p("spec.replicas")]);
        assert_eq!(entry(&scaled, "hpa", "Update")["time"], T1);
        let (_, msg) = conflicts(apply(Some(&scaled), &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T2));
        assert_eq!(msg, "Apply failed with 1 conflict: conflict with \"hpa\" using apps/v1: .spec.replicas");
        // Dropping replicas from the config leaves hpa's value alone.
        let mut cfg = deployment(3, "nginx:1");
        cfg["spec"].as_object_mut().unwrap().remove("replicas");
        let out = apply(Some(&scaled), &cfg, "kubectl", "apps/v1", false, T2).unwrap();
        assert_eq!(out["spec"]["replicas"], 7);
    }

    #[test]
    fn update_without_changes_adds_no_entry() {
        let live = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        let mut same = live.clone();
        same["metadata"]["resourceVersion"] = json!("42");
        track_update(Some(&live), &mut same, "noop", "apps/v1", T1);
        assert_eq!(managers_of(&same), vec![("kubectl".into(), "Apply".into())]);
        assert_eq!(same["metadata"]["managedFields"], live["metadata"]["managedFields"]);
    }

    #[test]
    fn update_removing_fields_removes_them_from_every_owner() {
        let live = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        let mut edited = live.clone();
        edited["metadata"].as_object_mut().unwrap().remove("labels");
        track_update(Some(&live), &mut edited, "editor", "apps/v1", T1);
        assert!(!owned(&edited, "kubectl", "Apply").has_prefix(&p("metadata")));
        assert_eq!(managers_of(&edited), vec![("kubectl".into(), "Apply".into())]);
    }

    #[test]
    fn update_with_empty_entry_resets_managed_fields() {
        let live = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        let mut reset = live.clone();
        reset["metadata"]["managedFields"] = json!([{}]);
        track_update(Some(&live), &mut reset, "admin", "apps/v1", T1);
        assert!(reset["metadata"].get("managedFields").is_none());
        // An empty list is not a reset: the stored ownership is kept.
        let mut kept = live.clone();
        kept["metadata"]["managedFields"] = json!([]);
        track_update(Some(&live), &mut kept, "admin", "apps/v1", T1);
        assert_eq!(kept["metadata"]["managedFields"], live["metadata"]["managedFields"]);
        // Malformed ownership in the write falls back to the stored one.
        let mut bad = live.clone();
        bad["metadata"]["managedFields"] = json!("nope");
        track_update(Some(&live), &mut bad, "admin", "apps/v1", T1);
        assert_eq!(bad["metadata"]["managedFields"], live["metadata"]["managedFields"]);
    }

    #[test]
    fn untracked_object_is_owned_by_before_first_apply() {
        let live = deployment(3, "nginx:1");
        let (list, msg) = conflicts(apply(Some(&live), &deployment(4, "nginx:1"), "kubectl", "apps/v1", false, T0));
        assert_eq!(list.len(), 1);
        assert_eq!(
            msg,
            "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas"
        );
        let out = apply(Some(&live), &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        assert_eq!(
            managers_of(&out),
            vec![("kubectl".into(), "Apply".into()), ("before-first-apply".into(), "Update".into())]
        );
    }

    #[test]
    fn status_and_server_metadata_are_ignored() {
        let mut live = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        live["status"] = json!({"replicas": 3});
        live["metadata"]["uid"] = json!("u-1");
        live["metadata"]["resourceVersion"] = json!("7");
        let mut cfg = deployment(3, "nginx:1");
        cfg["status"] = json!({"replicas": 99});
        cfg["metadata"]["uid"] = json!("forged");
        cfg["metadata"]["resourceVersion"] = json!("1");
        let out = apply(Some(&live), &cfg, "kubectl", "apps/v1", false, T1).unwrap();
        assert_eq!(out, live);
        assert!(!owned(&out, "kubectl", "Apply").has_prefix(&p("status")));
    }

    #[test]
    fn null_removes_a_field_and_conflicts_with_its_owner() {
        let live = apply(None, &deployment(3, "nginx:1"), "alice", "apps/v1", false, T0).unwrap();
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": null}});
        let (_, msg) = conflicts(apply(Some(&live), &cfg, "bob", "apps/v1", false, T1));
        assert!(msg.ends_with(".spec.replicas"), "{msg}");
        let out = apply(Some(&live), &cfg, "bob", "apps/v1", true, T1).unwrap();
        assert!(out["spec"].get("replicas").is_none());
        assert!(owned(&out, "bob", "Apply").contains(&p("spec.replicas")));
        // Nulling a whole subtree another manager owns parts of is a conflict too.
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": null}});
        let (list, _) = conflicts(apply(Some(&live), &cfg, "bob", "apps/v1", false, T1));
        assert_eq!(list[0].field, ".metadata.labels.app");
    }

    #[test]
    fn sets_and_atomic_lists() {
        let cfg = |finalizers: Value, args: Value| {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "finalizers": finalizers},
                "spec": {"containers": [{"name": "c", "args": args}]}})
        };
        let live = apply(None, &cfg(json!(["a", "b"]), json!(["x", "y"])), "m1", "v1", false, T0).unwrap();
        let m1 = owned(&live, "m1", "Apply");
        assert!(m1.contains(&[p("metadata.finalizers"), vec![PathElement::value(&json!("a")).unwrap()]].concat()));
        let args = [p("spec.containers"), vec![container("c"), PathElement::Field("args".into())]].concat();
        assert!(m1.contains(&args));
        assert_eq!(
            entry(&live, "m1", "Apply")["fieldsV1"]["f:metadata"]["f:finalizers"],
            json!({"v:\"a\"": {}, "v:\"b\"": {}})
        );

        // m2 adds a finalizer (no conflict: sets merge) but changing the
        // atomic args list conflicts with m1.
        let out = apply(Some(&live), &cfg(json!(["c"]), json!(["x", "y"])), "m2", "v1", false, T1).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
        let (list, _) = conflicts(apply(Some(&out), &cfg(json!(["c"]), json!(["z"])), "m2", "v1", false, T2));
        assert_eq!(list[0].field, ".spec.containers[name=\"c\"].args");

        // m1 drops "a": removed, since nobody else owns it.
        let out = apply(Some(&out), &cfg(json!(["b"]), json!(["x", "y"])), "m1", "v1", false, T2).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "c"]));
    }

    #[test]
    fn bad_input_is_invalid() {
        let live = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        assert!(invalid(apply(None, &json!([1]), "m", "apps/v1", false, T0)).contains("must be an object"));
        assert!(invalid(apply(None, &json!("x"), "m", "apps/v1", false, T0)).contains("not a string"));
        let mut missing_key = deployment(3, "nginx:1");
        missing_key["spec"]["template"]["spec"]["containers"] = json!([{"image": "x"}]);
        assert_eq!(
            invalid(apply(Some(&live), &missing_key, "m", "apps/v1", false, T0)),
            ".spec.template.spec.containers[0]: the element has no \"name\"; elements of this list are merged by \
             \"name\", add it"
        );
        let mut dup = deployment(3, "nginx:1");
        dup["spec"]["template"]["spec"]["containers"] = json!([{"name": "a"}, {"name": "a"}]);
        assert!(invalid(apply(None, &dup, "m", "apps/v1", false, T0)).contains("duplicate element [name=\"a\"]"));
        let mut not_object = deployment(3, "nginx:1");
        not_object["spec"]["template"]["spec"]["containers"] = json!(["a"]);
        assert!(invalid(apply(None, &not_object, "m", "apps/v1", false, T0)).contains("must be objects"));
        let mut bad_set = deployment(3, "nginx:1");
        bad_set["metadata"]["finalizers"] = json!(["a", "a"]);
        assert!(invalid(apply(None, &bad_set, "m", "apps/v1", false, T0)).contains("duplicate"));
        bad_set["metadata"]["finalizers"] = json!([{"a": 1}]);
        assert!(invalid(apply(None, &bad_set, "m", "apps/v1", false, T0)).contains("set of strings"));
        let mut managed = deployment(3, "nginx:1");
        managed["metadata"]["managedFields"] = json!([{"manager": "x"}]);
        assert!(invalid(apply(None, &managed, "m", "apps/v1", false, T0)).contains("managedFields"));
        assert!(invalid(apply(None, &deployment(3, "x"), "m", "apps/v2", false, T0)).contains("apiVersion"));
        let mut no_kind = deployment(3, "x");
        no_kind["kind"] = json!(null);
        assert!(invalid(apply(None, &no_kind, "m", "apps/v1", false, T0)).contains("kind"));
        let mut other_kind = deployment(3, "x");
        other_kind["kind"] = json!("StatefulSet");
        assert!(invalid(apply(Some(&live), &other_kind, "m", "apps/v1", false, T0)).contains("kind"));
        let mut renamed = deployment(3, "x");
        renamed["metadata"]["name"] = json!("other");
        assert!(invalid(apply(Some(&live), &renamed, "m", "apps/v1", false, T0)).contains("metadata.name"));
        let mut bad_meta = deployment(3, "x");
        bad_meta["metadata"] = json!([]);
        assert!(invalid(apply(None, &bad_meta, "m", "apps/v1", false, T0)).contains("metadata must be an object"));
        assert!(invalid(apply(None, &deployment(3, "x"), "", "apps/v1", false, T0)).contains("fieldManager"));
        assert!(invalid(apply(None, &deployment(3, "x"), &"m".repeat(129), "apps/v1", false, T0)).contains("128"));
        assert!(invalid(apply(Some(&json!(3)), &deployment(3, "x"), "m", "apps/v1", false, T0)).contains("stored"));
        let mut deep = json!(1);
        for _ in 0..(MAX_DEPTH + 10) {
            deep = json!({ "a": deep });
        }
        let mut too_deep = deployment(3, "x");
        too_deep["spec"]["deep"] = deep;
        assert!(invalid(apply(None, &too_deep, "m", "apps/v1", false, T0)).contains("deeper"));
    }

    #[test]
    fn malformed_stored_managed_fields_are_reported_or_tolerated() {
        let mut live = apply(None, &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T0).unwrap();
        live["metadata"]["managedFields"][0]["fieldsV1"] = json!({"bogus": {}});
        let msg = invalid(apply(Some(&live), &deployment(3, "nginx:1"), "kubectl", "apps/v1", false, T1));
        assert!(msg.contains("managedFields[0]") && msg.contains("[{}]"), "{msg}");
        // track_update discards it instead of failing.
        let mut new = live.clone();
        new["spec"]["replicas"] = json!(4);
        track_update(Some(&live), &mut new, "ctl", "apps/v1", T1);
        assert_eq!(managers_of(&new), vec![("ctl".into(), "Update".into())]);
        // Non-object inputs are left alone.
        let mut scalar = json!(5);
        track_update(None, &mut scalar, "ctl", "apps/v1", T1);
        assert_eq!(scalar, json!(5));
    }

    #[test]
    fn update_managers_are_capped() {
        let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {}});
        track_update(None, &mut obj, "creator", "v1", "2024-01-01T00:00:00Z");
        for i in 0..12 {
            let old = obj.clone();
            obj["data"][format!("k{i}")] = json!("v");
            track_update(Some(&old), &mut obj, &format!("writer-{i:02}"), "v1", &format!("2024-01-01T00:{i:02}:01Z"));
        }
        let list = managers_of(&obj);
        assert_eq!(list.len(), 10, "{list:?}");
        assert!(list.contains(&("ancient-changes".into(), "Update".into())));
        assert!(list.contains(&("writer-11".into(), "Update".into())));
        assert!(!list.contains(&("writer-00".into(), "Update".into())));
        let ancient = owned(&obj, "ancient-changes", "Update");
        assert!(ancient.contains(&p("data.k0")) && ancient.contains(&p("data.k2")));
    }

    #[test]
    fn apply_entries_keep_across_api_versions_but_updates_do_not() {
        let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}});
        track_update(None, &mut obj, "ctl", "v1", T0);
        let old = obj.clone();
        obj["data"]["b"] = json!("2");
        track_update(Some(&old), &mut obj, "ctl", "v2", T1);
        assert_eq!(managers_of(&obj), vec![("ctl".into(), "Update".into()), ("ctl".into(), "Update".into())]);
        let cfg =
            |v: &str| json!({"apiVersion": v, "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"c": "3"}});
        let once = apply(Some(&obj), &cfg("v1"), "app", "v1", false, T1).unwrap();
        let twice = apply(Some(&once), &cfg("v2"), "app", "v2", false, T2).unwrap();
        let appliers: Vec<_> = managers_of(&twice).into_iter().filter(|(_, op)| op == "Apply").collect();
        assert_eq!(appliers.len(), 1);
        assert_eq!(entry(&twice, "app", "Apply")["apiVersion"], "v2");
    }

    #[test]
    fn odd_live_data_is_tolerated() {
        let live = json!({"apiVersion": "v1", "kind": "Pod", "metadata": "weird",
        "spec": {
            "containers": [{"image": "keyless"}, 7, {"name": "a", "image": "a:1"}, {"name": "a", "image": "dup"}],
            "volumes": "not-a-list",
        }});
        let cfg = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": "a:2"}, {"name": "b"}], "volumes": [{"name": "v"}]}});
        let out = apply(Some(&live), &cfg, "m", "v1", true, T0).unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"image": "keyless"}, 7, {"name": "a", "image": "a:2"}, {"name": "b"}])
        );
        assert_eq!(out["spec"]["volumes"], json!([{"name": "v"}]));
        assert_eq!(out["metadata"]["name"], "p");
        // The untracked live object was attributed to before-first-apply,
        // which lost the forced image.
        assert_eq!(
            managers_of(&out),
            vec![("m".into(), "Apply".into()), ("before-first-apply".into(), "Update".into())]
        );
        let image = [p("spec.containers"), vec![container("a"), PathElement::Field("image".into())]].concat();
        assert!(!owned(&out, "before-first-apply", "Update").contains(&image));
        assert!(owned(&out, "m", "Apply").contains(&image));
    }

    /// A tiny deterministic generator of awkward JSON built from names the
    /// list table knows.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }

        fn value(&mut self, depth: usize) -> Value {
            const KEYS: &[&str] =
                &["spec", "containers", "name", "image", "finalizers", "env", "value", "metadata", "labels", "x"];
            match if depth > 4 { self.next(4) } else { self.next(8) } {
                0 => Value::Null,
                1 => json!(self.next(3)),
                2 => json!(["a", "b", "c"][self.next(3) as usize]),
                3 => json!(self.next(2) == 0),
                4 | 5 => {
                    let mut map = Map::new();
                    for _ in 0..self.next(4) {
                        let key = KEYS[self.next(KEYS.len() as u64) as usize];
                        map.insert(key.to_string(), self.value(depth + 1));
                    }
                    Value::Object(map)
                }
                _ => Value::Array((0..self.next(4)).map(|_| self.value(depth + 1)).collect()),
            }
        }

        fn object(&mut self, api_version: &str) -> Value {
            let mut obj = match self.value(0) {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            obj.insert("apiVersion".into(), json!(api_version));
            obj.insert("kind".into(), json!("Thing"));
            Value::Object(obj)
        }
    }

    #[test]
    fn random_inputs_never_panic_and_reapply_is_idempotent() {
        let mut rng = Gen(7);
        let mut applied_ok = 0;
        for round in 0..3000 {
            let mut live = rng.object("v1");
            track_update(None, &mut live, "creator", "v1", T0);
            let mut edited = rng.object("v1");
            track_update(Some(&live), &mut edited, "editor", "v1", T1);
            let cfg = rng.object("v1");
            let force = round % 2 == 0;
            let Ok(first) = apply(Some(&edited), &cfg, "m", "v1", force, T1) else { continue };
            applied_ok += 1;
            let again = apply(Some(&first), &cfg, "m", "v1", false, T2);
            assert_eq!(again.as_ref(), Ok(&first), "round {round}: live {edited}\nconfig {cfg}");
            // Ownership always decodes and never names untracked fields.
            let managers = decode_managers(&first).unwrap();
            for managed in managers.values() {
                for path in managed.set.iter() {
                    assert!(!matches!(path.first(), Some(PathElement::Field(f)) if f == "apiVersion" || f == "kind"));
                }
            }
            let _ = apply(None, &cfg, "m", "v1", false, T0);
        }
        assert!(applied_ok > 500, "only {applied_ok} applies succeeded");
    }

    #[test]
    fn random_operation_chains_stay_consistent() {
        let mut rng = Gen(99);
        for round in 0..400 {
            let mut state = rng.object("v1");
            track_update(None, &mut state, "creator", "v1", T0);
            for step in 0..6 {
                let manager = ["m1", "m2"][rng.next(2) as usize];
                if rng.next(3) == 0 {
                    let mut new = match merge(&state, &rng.object("v1"), &mut Vec::new()) {
                        Value::Object(map) => Value::Object(map),
                        _ => continue,
                    };
                    track_update(Some(&state), &mut new, manager, "v1", T1);
                    let mut unchanged = new.clone();
                    track_update(Some(&new), &mut unchanged, manager, "v1", T2);
                    assert_eq!(unchanged, new, "round {round} step {step}: no-op update changed ownership");
                    state = new;
                } else {
                    let cfg = rng.object("v1");
                    let Ok(next) = apply(Some(&state), &cfg, manager, "v1", rng.next(2) == 0, T1) else { continue };
                    let again = apply(Some(&next), &cfg, manager, "v1", false, T2);
                    if next["metadata"].get("managedFields").is_some() {
                        assert_eq!(again.as_ref(), Ok(&next), "round {round} step {step}: state {state}\nconfig {cfg}");
                    } else {
                        // Nothing is owned any more: like upstream, the next
                        // apply attributes the object to before-first-apply.
                        let again = again.map(|v| without_managed_fields(&v));
                        assert_eq!(again, Ok(without_managed_fields(&next)), "round {round} step {step}");
                    }
                    state = next;
                }
                assert!(decode_managers(&state).is_ok());
            }
        }
    }

    #[test]
    fn replacing_an_owned_subtree_with_a_scalar_conflicts() {
        let live = apply(None, &deployment(3, "nginx:1"), "alice", "apps/v1", false, T0).unwrap();
        let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": "flat"}});
        let (list, _) = conflicts(apply(Some(&live), &cfg, "bob", "apps/v1", false, T1));
        let fields: Vec<&str> = list.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                ".spec.template.spec.containers[name=\"c\"]",
                ".spec.template.spec.containers[name=\"c\"].image",
                ".spec.template.spec.containers[name=\"c\"].name",
            ]
        );
        // An update doing the same is not refused; the fields just leave alice.
        let mut flat = live.clone();
        flat["spec"]["template"] = json!("flat");
        track_update(Some(&live), &mut flat, "ctl", "apps/v1", T1);
        assert!(!owned(&flat, "alice", "Apply").has_prefix(&p("spec.template")));
        assert!(owned(&flat, "ctl", "Update").contains(&p("spec.template")));
    }
}
