//! The OpenAPI v3 documents served at `/openapi/v3` and `/openapi/v3/<group-path>`.
//!
//! What this module guarantees:
//!
//! * [`index`] lists one entry per served group-version (`api/v1`, `apis/apps/v1`, ...) whose
//!   `serverRelativeURL` carries the [`document_hash`] of exactly the document [`group_document`]
//!   returns for that path, so clients (kubectl's disk cache) refetch a document only when it changes.
//! * [`group_document`] returns an OpenAPI 3.0.0 document for one group-version: the collection,
//!   item, `status` and `scale` paths of every kind in it, with one operation per verb the kind
//!   serves. Each operation carries `x-kubernetes-action` and `x-kubernetes-group-version-kind`;
//!   every write (POST/PUT/PATCH) declares the `dryRun`, `fieldManager` and `fieldValidation`
//!   query parameters, which is what makes kubectl leave validation to the server and send
//!   `fieldValidation=Strict`; PATCH accepts the JSON, merge, strategic-merge and apply patch types.
//! * `components.schemas` is keyed by the upstream definition names
//!   (`io.k8s.api.apps.v1.Deployment`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`, ...). The
//!   schemas come from the kinds' `schemars` JSON Schemas (draft-07) converted to OpenAPI 3.0
//!   schema objects: refs point at `#/components/schemas/<name>` and every ref resolves inside the
//!   document; a ref with sibling keywords is wrapped in `allOf`; `null` types become
//!   `nullable: true`; `IntOrString` and `Quantity` get upstream's `oneOf` shapes; boolean schemas
//!   become objects. Top-level kinds and their lists carry
//!   `x-kubernetes-group-version-kind: [{group, kind, version}]`, and the list fields that merge by
//!   key carry `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`, which kubectl's
//!   client-side apply reads to compute strategic merge patches.
//! * Output is deterministic: the same resource table gives byte-identical JSON.
//!
//! The generator takes the served kinds as a `&[ResourceDoc]` so that it can be fed from the
//! server's registry; [`builtin_resources`] is the table of the kinds Helmsman serves today.

use std::collections::BTreeSet;

use k8s_openapi::api::{apps, autoscaling, batch, coordination, core};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

/// One served kind, as the OpenAPI generator needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct ResourceDoc {
    /// API group; `""` for the core group served under `/api`.
    pub group: &'static str,
    /// API version, e.g. `v1`.
    pub version: &'static str,
    /// Kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// Plural resource name used in URLs, e.g. `deployments`.
    pub resource: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Verbs served on the resource (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`); each one becomes an operation on the matching path.
    pub verbs: &'static [&'static str],
    /// Subresources served; `status` (same kind as the resource) and `scale` (`autoscaling/v1`
    /// `Scale`) are documented, any other name is left out of the document.
    pub subresources: &'static [&'static str],
    /// Adds the kind's JSON Schema to the generator and returns it, normally a `$ref` to the
    /// definition (see [`schema_of`]). An inline schema is stored under a name derived from the
    /// group, version and kind (`io.k8s.api.core.v1.Kind` for the core group, the reversed group
    /// otherwise, as for custom resources).
    pub schema: fn(&mut SchemaGenerator) -> Schema,
}

/// The schema-generating function for a `schemars` type, for [`ResourceDoc::schema`].
pub fn schema_of<T: JsonSchema>(gen: &mut SchemaGenerator) -> Schema {
    gen.subschema_for::<T>()
}

/// The verbs of an ordinary read-write resource.
const ALL_VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
/// Namespaces are not deleted by collection.
const NAMESPACE_VERBS: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];

/// The kinds Helmsman serves.
static BUILTIN: &[ResourceDoc] = &[
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "Namespace",
        resource: "namespaces",
        namespaced: false,
        verbs: NAMESPACE_VERBS,
        subresources: &["status"],
        schema: schema_of::<core::v1::Namespace>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "Node",
        resource: "nodes",
        namespaced: false,
        verbs: ALL_VERBS,
        subresources: &["status"],
        schema: schema_of::<core::v1::Node>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "Pod",
        resource: "pods",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &["status"],
        schema: schema_of::<core::v1::Pod>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "Service",
        resource: "services",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &["status"],
        schema: schema_of::<core::v1::Service>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "Endpoints",
        resource: "endpoints",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &[],
        schema: schema_of::<core::v1::Endpoints>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        resource: "configmaps",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &[],
        schema: schema_of::<core::v1::ConfigMap>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "Secret",
        resource: "secrets",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &[],
        schema: schema_of::<core::v1::Secret>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "Event",
        resource: "events",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &[],
        schema: schema_of::<core::v1::Event>,
    },
    ResourceDoc {
        group: "",
        version: "v1",
        kind: "ServiceAccount",
        resource: "serviceaccounts",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &[],
        schema: schema_of::<core::v1::ServiceAccount>,
    },
    ResourceDoc {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        resource: "deployments",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &["status", "scale"],
        schema: schema_of::<apps::v1::Deployment>,
    },
    ResourceDoc {
        group: "apps",
        version: "v1",
        kind: "ReplicaSet",
        resource: "replicasets",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &["status", "scale"],
        schema: schema_of::<apps::v1::ReplicaSet>,
    },
    ResourceDoc {
        group: "batch",
        version: "v1",
        kind: "Job",
        resource: "jobs",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &["status"],
        schema: schema_of::<batch::v1::Job>,
    },
    ResourceDoc {
        group: "batch",
        version: "v1",
        kind: "CronJob",
        resource: "cronjobs",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &["status"],
        schema: schema_of::<batch::v1::CronJob>,
    },
    ResourceDoc {
        group: "coordination.k8s.io",
        version: "v1",
        kind: "Lease",
        resource: "leases",
        namespaced: true,
        verbs: ALL_VERBS,
        subresources: &[],
        schema: schema_of::<coordination::v1::Lease>,
    },
];

/// The kinds Helmsman serves, for callers that have no registry to feed [`index`] and
/// [`group_document`] from.
pub fn builtin_resources() -> &'static [ResourceDoc] {
    BUILTIN
}

/// `/openapi/v3`: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=<HASH>"}, ...}}`
/// with one entry per group-version in `resources`.
pub fn index(resources: &[ResourceDoc]) -> Value {
    let mut paths = Map::new();
    for path in group_paths(resources) {
        if let Some(doc) = group_document(resources, &path) {
            let url = format!("/openapi/v3/{path}?hash={}", document_hash(&doc));
            paths.insert(path, json!({ "serverRelativeURL": url }));
        }
    }
    json!({ "paths": paths })
}

/// The document for `api/v1`, `apis/apps/v1`, ... (a leading or trailing `/` is ignored); `None`
/// when no kind in `resources` belongs to that group-version or the path is malformed.
pub fn group_document(resources: &[ResourceDoc], group_path: &str) -> Option<Value> {
    let (group, version) = parse_group_path(group_path)?;
    let members: Vec<&ResourceDoc> = resources.iter().filter(|r| r.group == group && r.version == version).collect();
    if members.is_empty() {
        return None;
    }
    Some(build_document(group, version, &members, resources))
}

/// The hash that [`index`] puts into a document's URL: 128-bit FNV-1a over the document's compact
/// JSON, as 32 uppercase hex digits. It changes whenever the document's content changes; servers
/// can also use it as the document's ETag.
pub fn document_hash(doc: &Value) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let hash = bytes.iter().fold(OFFSET, |h, &b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    format!("{hash:032X}")
}

/// The document path of a group-version: `api/v1` for the core group, `apis/<group>/<version>`.
fn group_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// Every document path in `resources`, sorted and without duplicates.
fn group_paths(resources: &[ResourceDoc]) -> BTreeSet<String> {
    resources.iter().map(|r| group_path(r.group, r.version)).collect()
}

/// `api/v1` → `("", "v1")`, `apis/apps/v1` → `("apps", "v1")`.
fn parse_group_path(path: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", version] if !version.is_empty() => Some(("", version)),
        ["apis", group, version] if !group.is_empty() && !version.is_empty() => Some((group, version)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Document assembly
// ---------------------------------------------------------------------------------------------

const SCHEMA_PREFIX: &str = "#/components/schemas/";
const GVK_EXT: &str = "x-kubernetes-group-version-kind";
/// Content types the server answers with.
const RESPONSE_TYPES: &[&str] = &["application/json", "application/yaml"];
/// Content types a list answers with (plain or as a watch stream).
const LIST_RESPONSE_TYPES: &[&str] = &["application/json", "application/json;stream=watch", "application/yaml"];
/// The request body types of PATCH.
const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

/// A kind of the document together with the names of its schemas.
struct KindEntry<'a> {
    doc: &'a ResourceDoc,
    schema: String,
    list_schema: String,
}

/// The component names of the shared meta schemas.
struct MetaNames {
    status: String,
    delete_options: String,
    patch: String,
    scale: Option<String>,
}

/// The document of one group-version: `members` are its kinds, `all` every served kind (for the
/// group-versions `Status` and `DeleteOptions` are declared in).
fn build_document(group: &str, version: &str, members: &[&ResourceDoc], all: &[ResourceDoc]) -> Value {
    let mut gen = SchemaSettings::draft07().into_generator();
    let mut kinds = Vec::new();
    let mut gvks: Vec<(String, Value)> = Vec::new();
    for doc in members {
        let schema = (doc.schema)(&mut gen);
        let name = match ref_name(&schema) {
            Some(name) => name,
            None => {
                let name = inline_schema_name(doc);
                gen.definitions_mut().insert(name.clone(), schema);
                name
            }
        };
        gvks.push((name.clone(), gvk(doc.group, doc.version, doc.kind)));
        kinds.push(KindEntry { doc, list_schema: format!("{name}List"), schema: name });
    }
    let list_meta = ref_name(&gen.subschema_for::<meta::ListMeta>()).unwrap_or_default();
    let status = ref_name(&gen.subschema_for::<meta::Status>()).unwrap_or_default();
    let delete_options = ref_name(&gen.subschema_for::<meta::DeleteOptions>()).unwrap_or_default();
    let patch = ref_name(&gen.subschema_for::<meta::Patch>()).unwrap_or_default();
    let resource_list = ref_name(&gen.subschema_for::<meta::APIResourceList>()).unwrap_or_default();
    let scale = if members.iter().any(|d| d.subresources.contains(&"scale")) {
        let name = ref_name(&gen.subschema_for::<autoscaling::v1::Scale>());
        if let Some(name) = &name {
            gvks.push((name.clone(), gvk("autoscaling", "v1", "Scale")));
        }
        name
    } else {
        None
    };
    let names = MetaNames { status, delete_options, patch, scale };

    let mut schemas = Map::new();
    for (name, schema) in gen.take_definitions() {
        let value = serde_json::to_value(&schema).unwrap_or_else(|_| json!({}));
        schemas.insert(name, to_openapi(&value, 0));
    }
    for entry in &kinds {
        if !schemas.contains_key(&entry.list_schema) {
            let list = list_schema(entry, &schemas, &list_meta);
            schemas.insert(entry.list_schema.clone(), list);
        }
        gvks.push((
            entry.list_schema.clone(),
            gvk(entry.doc.group, entry.doc.version, &format!("{}List", entry.doc.kind)),
        ));
    }
    // Status and DeleteOptions are shared by every group-version the server serves.
    let mut served: BTreeSet<(&str, &str)> = all.iter().map(|r| (r.group, r.version)).collect();
    served.insert(("", "v1"));
    for (g, v) in &served {
        gvks.push((names.status.clone(), gvk(g, v, "Status")));
        gvks.push((names.delete_options.clone(), gvk(g, v, "DeleteOptions")));
    }
    for (name, value) in gvks {
        if let Some(Value::Object(schema)) = schemas.get_mut(&name) {
            let list = schema.entry(GVK_EXT).or_insert_with(|| json!([]));
            if let Value::Array(list) = list {
                if !list.contains(&value) {
                    list.push(value);
                }
            }
        }
    }
    for (name, schema) in schemas.iter_mut() {
        fix_up_definition(name, schema);
    }

    let tag = format!("{}_{version}", tag_group(group));
    let prefix = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
    let mut paths = Map::new();
    paths.insert(
        format!("{prefix}/"),
        json!({ "get": {
            "description": "Discovery: the resources served in this group-version.",
            "operationId": format!("get{}APIResources", op_group(group, version)),
            "responses": responses(&[("200", "OK", &resource_list)], RESPONSE_TYPES),
            "tags": [tag],
        }}),
    );
    for entry in &kinds {
        add_kind_paths(&mut paths, &prefix, &tag, entry, &names);
    }

    json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": "unversioned" },
        "paths": paths,
        "components": { "schemas": schemas },
    })
}

/// The `{group, kind, version}` object of the GVK extension.
fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "kind": kind, "version": version })
}

/// The definition name a `$ref` schema points at.
fn ref_name(schema: &Schema) -> Option<String> {
    let Schema::Object(object) = schema else { return None };
    let reference = object.reference.as_deref()?;
    let name = reference.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// The component name of a kind whose schema function returned an inline schema.
fn inline_schema_name(doc: &ResourceDoc) -> String {
    if doc.group.is_empty() {
        format!("io.k8s.api.core.{}.{}", doc.version, doc.kind)
    } else {
        let reversed: Vec<&str> = doc.group.split('.').rev().collect();
        format!("{}.{}.{}", reversed.join("."), doc.version, doc.kind)
    }
}

/// The schema of `<Kind>List`, built from the kind's own `apiVersion` / `kind` property docs.
fn list_schema(entry: &KindEntry<'_>, schemas: &Map<String, Value>, list_meta: &str) -> Value {
    let kind = entry.doc.kind;
    let own = schemas.get(&entry.schema).and_then(|s| s.get("properties"));
    let prop = |name: &str| own.and_then(|p| p.get(name)).cloned().unwrap_or_else(|| json!({ "type": "string" }));
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": prop("apiVersion"),
            "kind": prop("kind"),
            "items": {
                "description": format!("The {kind} objects of the list."),
                "type": "array",
                "items": { "$ref": format!("{SCHEMA_PREFIX}{}", entry.schema) },
            },
            "metadata": {
                "description": "Standard list metadata: resource version and continue token.",
                "allOf": [{ "$ref": format!("{SCHEMA_PREFIX}{list_meta}") }],
            },
        },
    })
}

/// `apps` → `Apps`, `""` → `Core`, `coordination.k8s.io` → `Coordination`,
/// `rbac.authorization.k8s.io` → `RbacAuthorization`, `example.com` → `ExampleCom`.
fn pascal_group(group: &str) -> String {
    if group.is_empty() {
        return "Core".to_string();
    }
    group.trim_end_matches(".k8s.io").split(['.', '-']).map(capitalize).collect()
}

/// The group part of an operation tag: `core`, `apps`, `coordination`, `rbacAuthorization`.
fn tag_group(group: &str) -> String {
    let pascal = pascal_group(group);
    let mut chars = pascal.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// `CoreV1`, `AppsV1`, `CoordinationV1` as in operation ids.
fn op_group(group: &str, version: &str) -> String {
    format!("{}{}", pascal_group(group), capitalize(version))
}

/// `v1` → `V1`.
fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Paths and operations
// ---------------------------------------------------------------------------------------------

/// A query or path parameter.
fn param(name: &str, location: &str, description: &str, ty: &str) -> Value {
    let mut p = json!({
        "name": name,
        "in": location,
        "description": description,
        "schema": { "type": ty, "uniqueItems": true },
    });
    if location == "path" {
        p["required"] = Value::Bool(true);
    }
    p
}

/// The documented query parameters named in `names`, in that order.
fn params(names: &[&str]) -> Vec<Value> {
    names.iter().filter_map(|n| query_param(n)).collect()
}

/// The query parameters the operations use, with their documentation.
fn query_param(name: &str) -> Option<Value> {
    let (ty, description) = match name {
        "allowWatchBookmarks" => ("boolean", "Ask a watch to send BOOKMARK events; ignored unless watching."),
        "continue" => ("string", "The continue token of a previous chunked list call, to fetch the next chunk."),
        "dryRun" => ("string", "If set to All, the request is processed fully but nothing is persisted."),
        "fieldManager" => (
            "string",
            "Name of the actor making the change, recorded in managedFields. Required for apply patches; \
             at most 128 printable characters.",
        ),
        "fieldSelector" => ("string", "Only objects whose fields match this selector. Defaults to everything."),
        "fieldValidation" => (
            "string",
            "How the server treats unknown or duplicate fields in the request body: Ignore drops them \
             silently, Warn drops them with a warning header (the default), Strict rejects the request \
             with a BadRequest error listing them.",
        ),
        "force" => ("boolean", "Take over fields owned by other managers on an apply patch; only for apply."),
        "gracePeriodSeconds" => (
            "integer",
            "Seconds to wait before the object is deleted; 0 deletes immediately, unset uses the \
             kind's default.",
        ),
        "ignoreStoreReadErrorWithClusterBreakingPotential" => (
            "boolean",
            "Delete an object that can no longer be read from storage, skipping finalizers and \
             preconditions. Unsafe; off by default.",
        ),
        "labelSelector" => ("string", "Only objects whose labels match this selector. Defaults to everything."),
        "limit" => ("integer", "Return at most this many objects and a continue token for the rest."),
        "orphanDependents" => ("boolean", "Deprecated: use propagationPolicy. Whether dependents are orphaned."),
        "propagationPolicy" => ("string", "How dependents are garbage collected: Orphan, Background or Foreground."),
        "resourceVersion" => ("string", "Serve the request at or after this resource version."),
        "resourceVersionMatch" => ("string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
        "sendInitialEvents" => {
            ("boolean", "Start a watch with synthetic ADDED events for the current objects, ended by a BOOKMARK.")
        }
        "timeoutSeconds" => ("integer", "Stop a list or watch call after this many seconds."),
        "watch" => ("boolean", "Watch for changes instead of listing: a stream of ADDED, MODIFIED and DELETED events."),
        _ => return None,
    };
    Some(param(name, "query", description, ty))
}

/// A `responses` object whose entries each answer with `schema`.
fn responses(codes: &[(&str, &str, &str)], types: &[&str]) -> Value {
    let mut out = Map::new();
    for (code, description, schema) in codes {
        let content: Map<String, Value> = types
            .iter()
            .map(|t| (t.to_string(), json!({ "schema": { "$ref": format!("{SCHEMA_PREFIX}{schema}") } })))
            .collect();
        out.insert(code.to_string(), json!({ "description": description, "content": content }));
    }
    out.insert("401".to_string(), json!({ "description": "Unauthorized" }));
    Value::Object(out)
}

/// A request body of `schema` for each of `types`.
fn request_body(schema: &str, types: &[&str], required: bool) -> Value {
    let content: Map<String, Value> = types
        .iter()
        .map(|t| (t.to_string(), json!({ "schema": { "$ref": format!("{SCHEMA_PREFIX}{schema}") } })))
        .collect();
    let mut body = json!({ "content": content });
    if required {
        body["required"] = Value::Bool(true);
    }
    body
}

/// What the operations of one path act on.
#[derive(Clone)]
struct Target<'a> {
    /// `Pod`, `Pod status`, `Deployment scale` for descriptions.
    noun: String,
    /// Operation id suffix: `NamespacedPod`, `NamespacedPodStatus`, `Node`.
    id: String,
    /// `CoreV1`.
    op_group: String,
    tag: &'a str,
    gvk: Value,
    /// Component name of the body and response.
    schema: &'a str,
}

impl Target<'_> {
    fn op(&self, verb: &str, action: &str, description: String, extra: Map<String, Value>) -> Value {
        let mut op = Map::new();
        op.insert("description".into(), Value::String(description));
        op.insert("operationId".into(), Value::String(format!("{verb}{}{}", self.op_group, self.id)));
        op.insert("tags".into(), json!([self.tag]));
        op.insert("x-kubernetes-action".into(), Value::String(action.into()));
        op.insert(GVK_EXT.into(), self.gvk.clone());
        op.extend(extra);
        Value::Object(op)
    }
}

/// An object from key/value pairs, for the extra fields of an operation.
fn fields(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Adds the paths of one kind: collection(s), item, and the documented subresources.
fn add_kind_paths(paths: &mut Map<String, Value>, prefix: &str, tag: &str, entry: &KindEntry<'_>, names: &MetaNames) {
    let doc = entry.doc;
    let has = |verb: &str| doc.verbs.contains(&verb);
    let scope = if doc.namespaced { "Namespaced" } else { "" };
    let base = if doc.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", doc.resource)
    } else {
        format!("{prefix}/{}", doc.resource)
    };
    let namespace_param = param("namespace", "path", "The namespace of the objects.", "string");
    let pretty = param("pretty", "query", "Indent the JSON response when 'true'.", "string");
    let name_param = |what: &str| param("name", "path", &format!("The name of the {what}."), "string");
    let kind = doc.kind;
    let main = Target {
        noun: format!("a {kind}"),
        id: format!("{scope}{kind}"),
        op_group: op_group(doc.group, doc.version),
        tag,
        gvk: gvk(doc.group, doc.version, kind),
        schema: &entry.schema,
    };
    let list_params = [
        "allowWatchBookmarks",
        "continue",
        "fieldSelector",
        "labelSelector",
        "limit",
        "resourceVersion",
        "resourceVersionMatch",
        "sendInitialEvents",
        "timeoutSeconds",
        "watch",
    ];
    let write_params = ["dryRun", "fieldManager", "fieldValidation"];
    let list_op = |target: &Target<'_>, id_suffix: &str| {
        let mut op = target.op(
            "list",
            "list",
            format!("List the {kind} objects, or watch them with watch=true."),
            fields(vec![
                ("parameters", Value::Array(params(&list_params))),
                ("responses", responses(&[("200", "OK", &entry.list_schema)], LIST_RESPONSE_TYPES)),
            ]),
        );
        op["operationId"] = Value::String(format!("list{}{}{id_suffix}", target.op_group, target.id));
        op
    };

    // Collection.
    let mut collection = Map::new();
    if has("list") {
        collection.insert("get".into(), list_op(&main, ""));
    }
    if has("create") {
        collection.insert(
            "post".into(),
            main.op(
                "create",
                "post",
                format!("Create a {kind}."),
                fields(vec![
                    ("parameters", Value::Array(params(&write_params))),
                    ("requestBody", request_body(&entry.schema, &["*/*"], true)),
                    (
                        "responses",
                        responses(
                            &[
                                ("200", "OK", &entry.schema),
                                ("201", "Created", &entry.schema),
                                ("202", "Accepted", &entry.schema),
                            ],
                            RESPONSE_TYPES,
                        ),
                    ),
                ]),
            ),
        );
    }
    if has("deletecollection") {
        let mut op = main.op(
            "delete",
            "deletecollection",
            format!("Delete every {kind} object the selectors match."),
            fields(vec![
                (
                    "parameters",
                    Value::Array(params(&[
                        "continue",
                        "dryRun",
                        "fieldSelector",
                        "gracePeriodSeconds",
                        "ignoreStoreReadErrorWithClusterBreakingPotential",
                        "labelSelector",
                        "limit",
                        "orphanDependents",
                        "propagationPolicy",
                        "resourceVersion",
                        "resourceVersionMatch",
                        "sendInitialEvents",
                        "timeoutSeconds",
                    ])),
                ),
                ("requestBody", request_body(&names.delete_options, &["*/*"], false)),
                ("responses", responses(&[("200", "OK", &names.status)], RESPONSE_TYPES)),
            ]),
        );
        op["operationId"] = Value::String(format!("delete{}Collection{}", main.op_group, main.id));
        collection.insert("delete".into(), op);
    }
    if !collection.is_empty() {
        let mut path_params = vec![pretty.clone()];
        if doc.namespaced {
            path_params.insert(0, namespace_param.clone());
        }
        collection.insert("parameters".into(), Value::Array(path_params));
        paths.insert(base.clone(), Value::Object(collection));
    }
    // Listing across namespaces.
    if doc.namespaced && has("list") {
        let all = Target { id: kind.to_string(), ..main.clone() };
        paths.insert(
            format!("{prefix}/{}", doc.resource),
            json!({ "get": list_op(&all, "ForAllNamespaces"), "parameters": [pretty.clone()] }),
        );
    }

    // Item.
    let item_params = |what: &str| {
        let mut list = vec![name_param(what)];
        if doc.namespaced {
            list.push(namespace_param.clone());
        }
        list.push(pretty.clone());
        Value::Array(list)
    };
    let mut item = item_operations(&main, doc, names, &write_params, true);
    if !item.is_empty() {
        item.insert("parameters".into(), item_params(kind));
        paths.insert(format!("{base}/{{name}}"), Value::Object(item));
    }

    // Subresources.
    for sub in doc.subresources {
        let target = match *sub {
            "status" => {
                Target { noun: format!("the status of a {kind}"), id: format!("{scope}{kind}Status"), ..main.clone() }
            }
            "scale" => match &names.scale {
                Some(scale) => Target {
                    noun: format!("the scale of a {kind}"),
                    id: format!("{scope}{kind}Scale"),
                    gvk: gvk("autoscaling", "v1", "Scale"),
                    schema: scale,
                    ..main.clone()
                },
                None => continue,
            },
            _ => continue,
        };
        let mut ops = item_operations(&target, doc, names, &write_params, false);
        if !ops.is_empty() {
            ops.insert("parameters".into(), item_params(kind));
            paths.insert(format!("{base}/{{name}}/{sub}"), Value::Object(ops));
        }
    }
}

/// GET/PUT/PATCH (and DELETE on the object itself) of an item or subresource path.
fn item_operations(
    target: &Target<'_>,
    doc: &ResourceDoc,
    names: &MetaNames,
    write_params: &[&str],
    with_delete: bool,
) -> Map<String, Value> {
    let has = |verb: &str| doc.verbs.contains(&verb);
    let noun = &target.noun;
    let schema = target.schema;
    let mut ops = Map::new();
    if has("get") {
        ops.insert(
            "get".into(),
            target.op(
                "read",
                "get",
                format!("Get {noun} by name."),
                fields(vec![("responses", responses(&[("200", "OK", schema)], RESPONSE_TYPES))]),
            ),
        );
    }
    let ok_created = [("200", "OK", schema), ("201", "Created", schema)];
    if has("update") {
        ops.insert(
            "put".into(),
            target.op(
                "replace",
                "put",
                format!("Replace {noun} by name."),
                fields(vec![
                    ("parameters", Value::Array(params(write_params))),
                    ("requestBody", request_body(schema, &["*/*"], true)),
                    ("responses", responses(&ok_created, RESPONSE_TYPES)),
                ]),
            ),
        );
    }
    if has("patch") {
        let mut patch_params = write_params.to_vec();
        patch_params.push("force");
        ops.insert(
            "patch".into(),
            target.op(
                "patch",
                "patch",
                format!("Patch {noun} by name."),
                fields(vec![
                    ("parameters", Value::Array(params(&patch_params))),
                    ("requestBody", request_body(&names.patch, PATCH_TYPES, true)),
                    ("responses", responses(&ok_created, RESPONSE_TYPES)),
                ]),
            ),
        );
    }
    if with_delete && has("delete") {
        ops.insert(
            "delete".into(),
            target.op(
                "delete",
                "delete",
                format!("Delete {noun} by name."),
                fields(vec![
                    (
                        "parameters",
                        Value::Array(params(&[
                            "dryRun",
                            "gracePeriodSeconds",
                            "ignoreStoreReadErrorWithClusterBreakingPotential",
                            "orphanDependents",
                            "propagationPolicy",
                        ])),
                    ),
                    ("requestBody", request_body(&names.delete_options, &["*/*"], false)),
                    (
                        "responses",
                        responses(&[("200", "OK", &names.status), ("202", "Accepted", &names.status)], RESPONSE_TYPES),
                    ),
                ]),
            ),
        );
    }
    ops
}

// ---------------------------------------------------------------------------------------------
// JSON Schema (draft-07, as schemars writes it) → OpenAPI 3.0 schema object
// ---------------------------------------------------------------------------------------------

/// Deeper schemas than this are replaced by `{}` (accept anything) instead of being converted.
const MAX_DEPTH: usize = 64;

/// Converts one draft-07 schema into an OpenAPI 3.0 schema object.
fn to_openapi(schema: &Value, depth: usize) -> Value {
    let object = match schema {
        Value::Bool(true) => return json!({}),
        Value::Bool(false) => return json!({ "not": {} }),
        Value::Object(object) if depth < MAX_DEPTH => object,
        _ => return json!({}),
    };
    let mut out = Map::new();
    let mut nullable = false;
    for (key, value) in object {
        match key.as_str() {
            "$schema" | "$id" | "$comment" | "definitions" | "$defs" | "contains" | "propertyNames"
            | "patternProperties" | "if" | "then" | "else" | "dependencies" | "additionalItems" | "readOnly"
            | "writeOnly" => {}
            "$ref" => {
                if let Some(reference) = value.as_str() {
                    out.insert(key.clone(), Value::String(rewrite_ref(reference)));
                }
            }
            "type" => match value {
                Value::Array(types) => {
                    let mut kept: Vec<&Value> = types.iter().filter(|t| t.as_str() != Some("null")).collect();
                    nullable |= kept.len() < types.len();
                    kept.dedup();
                    match kept.as_slice() {
                        [] => {}
                        [single] => {
                            out.insert("type".into(), (*single).clone());
                        }
                        many => {
                            let alternatives = many.iter().map(|t| json!({ "type": t })).collect();
                            out.insert("oneOf".into(), Value::Array(alternatives));
                        }
                    }
                }
                Value::String(t) if t == "null" => nullable = true,
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "properties" => {
                let converted: Map<String, Value> = value
                    .as_object()
                    .map(|props| props.iter().map(|(k, v)| (k.clone(), to_openapi(v, depth + 1))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(converted));
            }
            "items" => {
                let single = match value {
                    Value::Array(tuple) if tuple.len() == 1 => to_openapi(&tuple[0], depth + 1),
                    Value::Array(_) => json!({}),
                    other => to_openapi(other, depth + 1),
                };
                out.insert(key.clone(), single);
            }
            "additionalProperties" | "not" => {
                let converted = match value {
                    Value::Bool(b) if key == "additionalProperties" => Value::Bool(*b),
                    other => to_openapi(other, depth + 1),
                };
                out.insert(key.clone(), converted);
            }
            "allOf" | "anyOf" | "oneOf" => {
                let Some(list) = value.as_array() else { continue };
                let mut converted = Vec::new();
                for alternative in list {
                    if is_null_schema(alternative) {
                        nullable = true;
                    } else {
                        converted.push(to_openapi(alternative, depth + 1));
                    }
                }
                match converted.len() {
                    0 => {}
                    // `anyOf: [X, null]` (an optional X) is X made nullable.
                    1 if key != "allOf" && list.len() > 1 => {
                        out.insert("allOf".into(), Value::Array(converted));
                    }
                    _ => {
                        out.insert(key.clone(), Value::Array(converted));
                    }
                }
            }
            "const" => {
                out.insert("enum".into(), json!([value]));
            }
            "examples" => {
                if let Some(first) = value.as_array().and_then(|a| a.first()) {
                    out.insert("example".into(), first.clone());
                }
            }
            "exclusiveMinimum" | "exclusiveMaximum" => match value {
                Value::Number(_) => {
                    let bound = if key == "exclusiveMinimum" { "minimum" } else { "maximum" };
                    out.insert(bound.into(), value.clone());
                    out.insert(key.clone(), Value::Bool(true));
                }
                other => {
                    out.insert(key.clone(), other.clone());
                }
            },
            "x-kubernetes-int-or-string" if value == &Value::Bool(true) => {
                out.insert(key.clone(), value.clone());
                if !object.contains_key("type") {
                    out.insert("format".into(), json!("int-or-string"));
                    out.insert("oneOf".into(), json!([{ "type": "integer" }, { "type": "string" }]));
                }
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if nullable {
        out.insert("nullable".into(), Value::Bool(true));
    }
    // OpenAPI 3.0 ignores the siblings of `$ref`: keep them by moving the ref into `allOf`.
    if out.len() > 1 {
        if let Some(reference) = out.remove("$ref") {
            let mut all_of = vec![json!({ "$ref": reference })];
            if let Some(Value::Array(existing)) = out.remove("allOf") {
                all_of.extend(existing);
            }
            out.insert("allOf".into(), Value::Array(all_of));
        }
    }
    Value::Object(out)
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null") && schema.as_object().is_some_and(|o| o.len() == 1)
}

/// `#/definitions/X` (or `#/$defs/X`) → `#/components/schemas/X`.
fn rewrite_ref(reference: &str) -> String {
    for old in ["#/definitions/", "#/$defs/"] {
        if let Some(name) = reference.strip_prefix(old) {
            return format!("{SCHEMA_PREFIX}{name}");
        }
    }
    reference.to_string()
}

/// Definitions whose upstream schema does require `metadata`.
const METADATA_REQUIRED: &[&str] = &["io.k8s.api.core.v1.Event", "io.k8s.api.events.v1.Event"];

/// Per-definition adjustments that make the schemas match what upstream serves.
fn fix_up_definition(name: &str, schema: &mut Value) {
    if name == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
        if let Value::Object(object) = schema {
            object.remove("type");
            object.insert("oneOf".into(), json!([{ "type": "string" }, { "type": "number" }]));
        }
    }
    // `k8s-openapi` marks `metadata` required on every top-level kind (its Rust field is not an
    // `Option`); upstream only requires it on a few kinds.
    if !METADATA_REQUIRED.contains(&name) {
        if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|r| r.as_str() != Some("metadata"));
            if required.is_empty() {
                if let Value::Object(object) = schema {
                    object.remove("required");
                }
            }
        }
    }
    for ext in PATCH_EXTENSIONS.iter().filter(|e| e.definition == name) {
        if let Some(Value::Object(property)) = schema.get_mut("properties").and_then(|p| p.get_mut(ext.property)) {
            if let Some(strategy) = ext.strategy {
                property.insert("x-kubernetes-patch-strategy".into(), json!(strategy));
            }
            if let Some(key) = ext.merge_key {
                property.insert("x-kubernetes-patch-merge-key".into(), json!(key));
            }
            if let Some(list_type) = ext.list_type {
                property.insert("x-kubernetes-list-type".into(), json!(list_type));
            }
            if !ext.map_keys.is_empty() {
                property.insert("x-kubernetes-list-map-keys".into(), json!(ext.map_keys));
            }
        }
    }
}

/// How a field merges in a strategic merge patch / server-side apply (upstream's `patchStrategy`,
/// `patchMergeKey`, `listType` and `listMapKey` markers); `k8s-openapi`'s schemas do not carry them.
struct PatchExtension {
    definition: &'static str,
    property: &'static str,
    strategy: Option<&'static str>,
    merge_key: Option<&'static str>,
    list_type: Option<&'static str>,
    map_keys: &'static [&'static str],
}

const fn merge_map(
    definition: &'static str,
    property: &'static str,
    strategy: &'static str,
    keys: &'static [&'static str],
) -> PatchExtension {
    let merge_key = match keys.first() {
        Some(key) => Some(*key),
        None => None,
    };
    PatchExtension { definition, property, strategy: Some(strategy), merge_key, list_type: Some("map"), map_keys: keys }
}

const fn merge_by(definition: &'static str, property: &'static str, key: &'static str) -> PatchExtension {
    PatchExtension {
        definition,
        property,
        strategy: Some("merge"),
        merge_key: Some(key),
        list_type: None,
        map_keys: &[],
    }
}

const fn merge_set(definition: &'static str, property: &'static str) -> PatchExtension {
    PatchExtension {
        definition,
        property,
        strategy: Some("merge"),
        merge_key: None,
        list_type: Some("set"),
        map_keys: &[],
    }
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const POD_SPEC: &str = "io.k8s.api.core.v1.PodSpec";
const POD_STATUS: &str = "io.k8s.api.core.v1.PodStatus";
const CONTAINER: &str = "io.k8s.api.core.v1.Container";
const EPHEMERAL: &str = "io.k8s.api.core.v1.EphemeralContainer";

static PATCH_EXTENSIONS: &[PatchExtension] = &[
    merge_set(META, "finalizers"),
    merge_map(META, "ownerReferences", "merge", &["uid"]),
    merge_map(POD_SPEC, "volumes", "merge,retainKeys", &["name"]),
    merge_map(POD_SPEC, "initContainers", "merge", &["name"]),
    merge_map(POD_SPEC, "containers", "merge", &["name"]),
    merge_map(POD_SPEC, "ephemeralContainers", "merge", &["name"]),
    merge_map(POD_SPEC, "imagePullSecrets", "merge", &["name"]),
    merge_map(POD_SPEC, "hostAliases", "merge", &["ip"]),
    merge_map(POD_SPEC, "topologySpreadConstraints", "merge", &["topologyKey", "whenUnsatisfiable"]),
    merge_map(POD_SPEC, "resourceClaims", "merge,retainKeys", &["name"]),
    merge_map(POD_SPEC, "schedulingGates", "merge", &["name"]),
    merge_map(CONTAINER, "ports", "merge", &["containerPort", "protocol"]),
    merge_map(CONTAINER, "env", "merge", &["name"]),
    merge_map(CONTAINER, "volumeMounts", "merge", &["mountPath"]),
    merge_map(CONTAINER, "volumeDevices", "merge", &["devicePath"]),
    merge_map(EPHEMERAL, "ports", "merge", &["containerPort", "protocol"]),
    merge_map(EPHEMERAL, "env", "merge", &["name"]),
    merge_map(EPHEMERAL, "volumeMounts", "merge", &["mountPath"]),
    merge_map(EPHEMERAL, "volumeDevices", "merge", &["devicePath"]),
    merge_map(POD_STATUS, "conditions", "merge", &["type"]),
    merge_map(POD_STATUS, "podIPs", "merge", &["ip"]),
    merge_map(POD_STATUS, "hostIPs", "merge", &["ip"]),
    merge_map(POD_STATUS, "resourceClaimStatuses", "merge,retainKeys", &["name"]),
    merge_map("io.k8s.api.core.v1.ServiceSpec", "ports", "merge", &["port", "protocol"]),
    merge_map("io.k8s.api.core.v1.ServiceStatus", "conditions", "merge", &["type"]),
    merge_set("io.k8s.api.core.v1.NodeSpec", "podCIDRs"),
    merge_by("io.k8s.api.core.v1.NodeStatus", "conditions", "type"),
    merge_by("io.k8s.api.core.v1.NodeStatus", "addresses", "type"),
    merge_by("io.k8s.api.core.v1.NamespaceStatus", "conditions", "type"),
    merge_by("io.k8s.api.core.v1.ServiceAccount", "secrets", "name"),
    merge_map("io.k8s.api.apps.v1.DeploymentStatus", "conditions", "merge", &["type"]),
    merge_map("io.k8s.api.apps.v1.ReplicaSetStatus", "conditions", "merge", &["type"]),
    merge_by("io.k8s.api.batch.v1.JobStatus", "conditions", "type"),
    PatchExtension {
        definition: "io.k8s.api.apps.v1.DeploymentSpec",
        property: "strategy",
        strategy: Some("retainKeys"),
        merge_key: None,
        list_type: None,
        map_keys: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(path: &str) -> Value {
        group_document(builtin_resources(), path).unwrap_or_else(|| panic!("no document for {path}"))
    }

    fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
        document.pointer(&format!("/components/schemas/{name}")).unwrap_or_else(|| panic!("no schema {name}"))
    }

    fn collect_refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    if key == "$ref" {
                        if let Some(r) = child.as_str() {
                            out.push(r);
                        }
                    } else {
                        collect_refs(child, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
            _ => {}
        }
    }

    #[test]
    fn index_names_every_group() {
        let index = index(builtin_resources());
        let paths = index["paths"].as_object().expect("paths object");
        let names: Vec<&str> = paths.keys().map(String::as_str).collect();
        assert_eq!(names, ["api/v1", "apis/apps/v1", "apis/batch/v1", "apis/coordination.k8s.io/v1"]);
        for (path, entry) in paths {
            let url = entry["serverRelativeURL"].as_str().expect("url");
            let hash = document_hash(&doc(path));
            assert_eq!(url, format!("/openapi/v3/{path}?hash={hash}"));
            assert_eq!(hash.len(), 32);
            assert!(hash.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        }
    }

    #[test]
    fn documents_are_deterministic_and_hashes_differ() {
        let a = serde_json::to_string(&doc("apis/apps/v1")).expect("json");
        let b = serde_json::to_string(&doc("apis/apps/v1")).expect("json");
        assert_eq!(a, b);
        assert_ne!(document_hash(&doc("apis/apps/v1")), document_hash(&doc("apis/batch/v1")));
    }

    #[test]
    fn unknown_or_malformed_group_paths_have_no_document() {
        let resources = builtin_resources();
        for path in ["", "/", "api", "apis", "apis/apps", "apis/apps/v2", "apis/extensions/v1beta1", "api/v2", "x/y/z"]
        {
            assert!(group_document(resources, path).is_none(), "{path}");
        }
        assert!(group_document(resources, "/apis/apps/v1/").is_some());
        assert!(group_document(&[], "api/v1").is_none());
        assert_eq!(index(&[]), json!({ "paths": {} }));
    }

    #[test]
    fn every_kind_patch_carries_gvk_and_field_validation() {
        for r in builtin_resources() {
            let document = doc(&group_path(r.group, r.version));
            let base = match (r.group, r.namespaced) {
                ("", true) => format!("/api/{}/namespaces/{{namespace}}/{}", r.version, r.resource),
                ("", false) => format!("/api/{}/{}", r.version, r.resource),
                (g, true) => format!("/apis/{g}/{}/namespaces/{{namespace}}/{}", r.version, r.resource),
                (g, false) => format!("/apis/{g}/{}/{}", r.version, r.resource),
            };
            let patch = &document["paths"][format!("{base}/{{name}}")]["patch"];
            assert_eq!(patch[GVK_EXT], gvk(r.group, r.version, r.kind), "{}", r.kind);
            assert_eq!(patch["x-kubernetes-action"], "patch");
            let names: Vec<&str> =
                patch["parameters"].as_array().expect("params").iter().filter_map(|p| p["name"].as_str()).collect();
            for wanted in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                assert!(names.contains(&wanted), "{} PATCH lacks {wanted}", r.kind);
            }
            let content = patch["requestBody"]["content"].as_object().expect("content");
            let types: Vec<&str> = content.keys().map(String::as_str).collect();
            assert_eq!(types.len(), 4);
            for t in PATCH_TYPES {
                assert!(types.contains(t));
            }
            let post = &document["paths"][&base]["post"];
            assert_eq!(post[GVK_EXT], gvk(r.group, r.version, r.kind));
            assert!(post["parameters"].as_array().expect("params").iter().any(|p| p["name"] == "fieldValidation"));
            // Every PATCH operation that names this kind's GVK must offer fieldValidation: kubectl
            // checks the first one it meets, in map order.
            for (path, item) in document["paths"].as_object().expect("paths") {
                if item["patch"][GVK_EXT] == gvk(r.group, r.version, r.kind) {
                    let params = item["patch"]["parameters"].as_array().expect("params");
                    assert!(params.iter().any(|p| p["name"] == "fieldValidation"), "{path}");
                }
            }
        }
    }

    #[test]
    fn subresource_paths() {
        let apps = doc("apis/apps/v1");
        let scale = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
        assert_eq!(scale["patch"][GVK_EXT], gvk("autoscaling", "v1", "Scale"));
        assert_eq!(
            scale["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/io.k8s.api.autoscaling.v1.Scale"
        );
        assert!(scale.get("delete").is_none());
        assert_eq!(
            schema(&apps, "io.k8s.api.autoscaling.v1.Scale")[GVK_EXT],
            json!([gvk("autoscaling", "v1", "Scale")])
        );
        let status = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/replicasets/{name}/status"];
        assert_eq!(status["put"][GVK_EXT], gvk("apps", "v1", "ReplicaSet"));
        assert_eq!(status["put"]["operationId"], "replaceAppsV1NamespacedReplicaSetStatus");
        let core = doc("api/v1");
        assert!(core["paths"].get("/api/v1/nodes/{name}/status").is_some());
        assert!(core["paths"].get("/api/v1/namespaces/{name}/status").is_some());
        assert!(core["paths"].get("/api/v1/namespaces/{namespace}/configmaps/{name}/status").is_none());
        // No scale in core/v1, so no Scale schema either.
        assert!(core.pointer("/components/schemas/io.k8s.api.autoscaling.v1.Scale").is_none());
        // Namespaces are not deleted by collection.
        assert!(core["paths"]["/api/v1/namespaces"].get("delete").is_none());
        assert!(core["paths"]["/api/v1/namespaces"].get("post").is_some());
        assert_eq!(core["paths"]["/api/v1/pods"]["get"]["operationId"], "listCoreV1PodForAllNamespaces");
        assert_eq!(
            doc("apis/coordination.k8s.io/v1")["paths"]["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"]
                ["delete"]["operationId"],
            "deleteCoordinationV1CollectionNamespacedLease"
        );
    }

    #[test]
    fn every_ref_resolves_inside_the_document() {
        for path in group_paths(builtin_resources()) {
            let document = doc(&path);
            let text = serde_json::to_string(&document).expect("json");
            assert!(!text.contains("#/definitions/"), "{path}");
            assert!(!text.contains("\"$schema\""), "{path}");
            let mut refs = Vec::new();
            collect_refs(&document, &mut refs);
            assert!(refs.len() > 50, "{path}: only {} refs", refs.len());
            for r in refs {
                let name = r.strip_prefix(SCHEMA_PREFIX).unwrap_or_else(|| panic!("{path}: foreign ref {r}"));
                assert!(document["components"]["schemas"].get(name).is_some(), "{path}: {r} does not resolve");
            }
        }
    }

    #[test]
    fn deployment_schema_documents_spec_replicas() {
        let apps = doc("apis/apps/v1");
        let deployment = schema(&apps, "io.k8s.api.apps.v1.Deployment");
        assert_eq!(deployment[GVK_EXT], json!([gvk("apps", "v1", "Deployment")]));
        assert!(deployment.get("required").is_none(), "metadata must not be required");
        assert_eq!(
            deployment["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
        );
        assert!(deployment["properties"]["spec"]["description"].is_string());
        let replicas = &schema(&apps, "io.k8s.api.apps.v1.DeploymentSpec")["properties"]["replicas"];
        assert_eq!(replicas["type"], "integer");
        assert_eq!(replicas["format"], "int32");
        assert!(replicas["description"].as_str().is_some_and(|d| d.contains("desired pods")));
        let list = schema(&apps, "io.k8s.api.apps.v1.DeploymentList");
        assert_eq!(list[GVK_EXT], json!([gvk("apps", "v1", "DeploymentList")]));
        assert_eq!(list["properties"]["items"]["items"]["$ref"], "#/components/schemas/io.k8s.api.apps.v1.Deployment");
        assert!(list["properties"]["kind"]["description"].is_string());
    }

    #[test]
    fn meta_schemas_and_special_types() {
        let core = doc("api/v1");
        for name in ["Status", "Patch", "DeleteOptions", "ObjectMeta", "ListMeta", "APIResourceList"] {
            schema(&core, &format!("io.k8s.apimachinery.pkg.apis.meta.v1.{name}"));
        }
        let status = schema(&core, "io.k8s.apimachinery.pkg.apis.meta.v1.Status");
        assert!(status.get("required").is_none());
        assert!(status[GVK_EXT].as_array().expect("gvks").contains(&gvk("apps", "v1", "Status")));
        assert!(status[GVK_EXT].as_array().expect("gvks").contains(&gvk("", "v1", "Status")));
        let event = schema(&core, "io.k8s.api.core.v1.Event");
        assert!(event["required"].as_array().expect("required").contains(&json!("metadata")));
        let int_or_string = schema(&core, "io.k8s.apimachinery.pkg.util.intstr.IntOrString");
        assert_eq!(int_or_string["format"], "int-or-string");
        assert_eq!(int_or_string["oneOf"], json!([{ "type": "integer" }, { "type": "string" }]));
        let quantity = schema(&core, "io.k8s.apimachinery.pkg.api.resource.Quantity");
        assert_eq!(quantity["oneOf"], json!([{ "type": "string" }, { "type": "number" }]));
        assert!(quantity.get("type").is_none());
        assert_eq!(schema(&core, "io.k8s.apimachinery.pkg.apis.meta.v1.Time")["format"], "date-time");
    }

    #[test]
    fn list_fields_carry_patch_extensions() {
        let core = doc("api/v1");
        let containers = &schema(&core, POD_SPEC)["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["items"]["$ref"], "#/components/schemas/io.k8s.api.core.v1.Container");
        let ports = &schema(&core, CONTAINER)["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
        assert_eq!(ports["x-kubernetes-list-map-keys"], json!(["containerPort", "protocol"]));
        let finalizers = &schema(&core, META)["properties"]["finalizers"];
        assert_eq!(finalizers["x-kubernetes-patch-strategy"], "merge");
        assert!(finalizers.get("x-kubernetes-patch-merge-key").is_none());
        let volumes = &schema(&core, POD_SPEC)["properties"]["volumes"];
        assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
        let apps = doc("apis/apps/v1");
        let strategy = &schema(&apps, "io.k8s.api.apps.v1.DeploymentSpec")["properties"]["strategy"];
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
        // Lists without a merge key stay plain.
        assert!(schema(&core, CONTAINER)["properties"]["args"].get("x-kubernetes-patch-strategy").is_none());
    }

    #[test]
    fn converts_draft07_constructs() {
        let input = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": { "A": { "type": "string" } },
            "type": ["object", "null"],
            "properties": {
                "a": { "$ref": "#/definitions/A", "description": "an A" },
                "b": { "anyOf": [{ "$ref": "#/definitions/A" }, { "type": "null" }] },
                "c": { "type": ["integer", "string"] },
                "d": { "const": "x", "examples": ["x", "y"] },
                "e": { "type": "number", "exclusiveMinimum": 0 },
                "f": true,
                "g": false,
                "h": { "type": "array", "items": [{ "type": "string" }] },
                "i": { "type": "object", "additionalProperties": { "$ref": "#/$defs/A" } },
                "j": { "x-kubernetes-int-or-string": true },
                "k": { "type": "null" },
            },
        });
        let out = to_openapi(&input, 0);
        assert!(out.get("$schema").is_none());
        assert!(out.get("definitions").is_none());
        assert_eq!(out["type"], "object");
        assert_eq!(out["nullable"], true);
        let p = &out["properties"];
        assert_eq!(p["a"], json!({ "allOf": [{ "$ref": "#/components/schemas/A" }], "description": "an A" }));
        assert_eq!(p["b"], json!({ "allOf": [{ "$ref": "#/components/schemas/A" }], "nullable": true }));
        assert_eq!(p["c"], json!({ "oneOf": [{ "type": "integer" }, { "type": "string" }] }));
        assert_eq!(p["d"], json!({ "enum": ["x"], "example": "x" }));
        assert_eq!(p["e"], json!({ "type": "number", "minimum": 0, "exclusiveMinimum": true }));
        assert_eq!(p["f"], json!({}));
        assert_eq!(p["g"], json!({ "not": {} }));
        assert_eq!(p["h"]["items"], json!({ "type": "string" }));
        assert_eq!(p["i"]["additionalProperties"], json!({ "$ref": "#/components/schemas/A" }));
        assert_eq!(p["j"]["format"], "int-or-string");
        assert_eq!(p["k"], json!({ "nullable": true }));
    }

    #[test]
    fn conversion_survives_odd_input() {
        assert_eq!(to_openapi(&json!(null), 0), json!({}));
        assert_eq!(to_openapi(&json!("string"), 0), json!({}));
        assert_eq!(to_openapi(&json!({ "properties": 5, "allOf": "x", "$ref": 3 }), 0), json!({ "properties": {} }));
        let mut deep = json!({ "type": "string" });
        for _ in 0..300 {
            deep = json!({ "type": "array", "items": deep });
        }
        let out = to_openapi(&deep, 0);
        let mut depth = 0;
        let mut cursor = &out;
        while let Some(next) = cursor.get("items") {
            cursor = next;
            depth += 1;
        }
        assert!(depth <= MAX_DEPTH);
    }

    #[test]
    fn inline_schemas_get_a_name_and_gvk() {
        fn widget(_: &mut SchemaGenerator) -> Schema {
            serde_json::from_value(json!({ "type": "object", "properties": { "size": { "type": "integer" } } }))
                .unwrap_or(Schema::Bool(true))
        }
        let resources = [ResourceDoc {
            group: "example.com",
            version: "v1alpha1",
            kind: "Widget",
            resource: "widgets",
            namespaced: false,
            verbs: &["get", "list", "patch"],
            subresources: &["status", "log"],
            schema: widget,
        }];
        let document = group_document(&resources, "apis/example.com/v1alpha1").expect("document");
        let widget = schema(&document, "com.example.v1alpha1.Widget");
        assert_eq!(widget[GVK_EXT], json!([gvk("example.com", "v1alpha1", "Widget")]));
        let paths = document["paths"].as_object().expect("paths");
        let item = &paths["/apis/example.com/v1alpha1/widgets/{name}"];
        assert_eq!(item["patch"]["operationId"], "patchExampleComV1alpha1Widget");
        assert!(item.get("put").is_none() && item.get("delete").is_none());
        assert!(paths["/apis/example.com/v1alpha1/widgets"].get("post").is_none());
        assert!(paths.contains_key("/apis/example.com/v1alpha1/widgets/{name}/status"));
        assert!(!paths.contains_key("/apis/example.com/v1alpha1/widgets/{name}/log"));
        let mut refs = Vec::new();
        collect_refs(&document, &mut refs);
        for r in refs {
            let name = r.strip_prefix(SCHEMA_PREFIX).expect("local ref");
            assert!(document["components"]["schemas"].get(name).is_some(), "{r}");
        }
    }

    #[test]
    fn group_names_in_operation_ids() {
        assert_eq!(op_group("", "v1"), "CoreV1");
        assert_eq!(op_group("rbac.authorization.k8s.io", "v1"), "RbacAuthorizationV1");
        assert_eq!(tag_group("rbac.authorization.k8s.io"), "rbacAuthorization");
        assert_eq!(tag_group(""), "core");
        assert_eq!(parse_group_path("api/v1"), Some(("", "v1")));
        assert_eq!(parse_group_path("apis/batch/v1"), Some(("batch", "v1")));
    }
}
