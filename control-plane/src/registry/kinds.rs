//! The kinds Helmsman serves: their API names, scope, discovery data and the
//! typed (k8s-openapi) shape every stored object is checked against.
//!
//! Guarantee: this table is the single source of what the REST gateway,
//! discovery, the gRPC `Resources` service and the storage mapping serve; a
//! resource not listed here is answered with `NotFound`.

use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, coordination::v1 as coordination, core::v1 as core};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// One served resource.
#[derive(Debug)]
pub struct Kind {
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Kind name (`Deployment`).
    pub kind: &'static str,
    /// Plural resource name (`deployments`).
    pub resource: &'static str,
    /// Singular resource name (`deployment`).
    pub singular: &'static str,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
    /// Short names (`deploy`).
    pub short_names: &'static [&'static str],
    /// Categories (`all`).
    pub categories: &'static [&'static str],
    /// Has a `/status` subresource (the main resource then ignores status).
    pub status: bool,
    /// Has a `/scale` subresource (`spec.replicas`).
    pub scale: bool,
    /// `metadata.generation` is kept (bumped on spec changes).
    pub generation: bool,
    /// Decode into the typed model and encode back: checks field types and
    /// drops fields the type does not have.
    pub canonical: fn(Value) -> Result<Value, serde_json::Error>,
}

impl Kind {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `FooList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// `deployments.apps` / `pods` — how Kubernetes names the resource in
    /// error messages.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// `Deployment.apps` / `Pod` — how Kubernetes names the kind in
    /// validation messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The group segment of storage keys (`core` for the core group).
    pub fn storage_group(&self) -> &'static str {
        if self.group.is_empty() {
            "core"
        } else {
            self.group
        }
    }
}

fn typed<T: DeserializeOwned + Serialize>(v: Value) -> Result<Value, serde_json::Error> {
    let t: T = serde_json::from_value(v)?;
    serde_json::to_value(t)
}

const NONE: &[&str] = &[];
const ALL: &[&str] = &["all"];

macro_rules! kind {
    ($group:expr, $kind:ident, $ty:ty, $resource:expr, $singular:expr, $ns:expr, $short:expr, $cat:expr, status: $st:expr, scale: $sc:expr, generation: $gen:expr) => {
        Kind {
            group: $group,
            version: "v1",
            kind: stringify!($kind),
            resource: $resource,
            singular: $singular,
            namespaced: $ns,
            short_names: $short,
            categories: $cat,
            status: $st,
            scale: $sc,
            generation: $gen,
            canonical: typed::<$ty>,
        }
    };
}

/// Every served kind, in discovery order.
pub static KINDS: &[Kind] = &[
    kind!("", Namespace, core::Namespace, "namespaces", "namespace", false, &["ns"], NONE, status: true, scale: false, generation: false),
    kind!("", Node, core::Node, "nodes", "node", false, &["no"], NONE, status: true, scale: false, generation: false),
    kind!("", Pod, core::Pod, "pods", "pod", true, &["po"], ALL, status: true, scale: false, generation: false),
    kind!("", Service, core::Service, "services", "service", true, &["svc"], ALL, status: true, scale: false, generation: false),
    kind!("", Endpoints, core::Endpoints, "endpoints", "endpoints", true, &["ep"], NONE, status: false, scale: false, generation: false),
    kind!("", ConfigMap, core::ConfigMap, "configmaps", "configmap", true, &["cm"], NONE, status: false, scale: false, generation: false),
    kind!("", Secret, core::Secret, "secrets", "secret", true, NONE, NONE, status: false, scale: false, generation: false),
    kind!("", Event, core::Event, "events", "event", true, &["ev"], NONE, status: false, scale: false, generation: false),
    kind!("", ServiceAccount, core::ServiceAccount, "serviceaccounts", "serviceaccount", true, &["sa"], NONE, status: false, scale: false, generation: false),
    kind!("apps", Deployment, apps::Deployment, "deployments", "deployment", true, &["deploy"], ALL, status: true, scale: true, generation: true),
    kind!("apps", ReplicaSet, apps::ReplicaSet, "replicasets", "replicaset", true, &["rs"], ALL, status: true, scale: true, generation: true),
    kind!("batch", Job, batch::Job, "jobs", "job", true, NONE, ALL, status: true, scale: false, generation: true),
    kind!("batch", CronJob, batch::CronJob, "cronjobs", "cronjob", true, &["cj"], ALL, status: true, scale: false, generation: true),
    kind!("coordination.k8s.io", Lease, coordination::Lease, "leases", "lease", true, NONE, NONE, status: false, scale: false, generation: false),
];

/// The served groups, core first, each with its (single) version.
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for k in KINDS {
        if !out.iter().any(|(g, _)| *g == k.group) {
            out.push((k.group, k.version));
        }
    }
    out
}

/// The kind served at `group/version/resource`.
pub fn by_resource(group: &str, version: &str, resource: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.group == group && k.version == version && k.resource == resource)
}

/// The kind of an `apiVersion` + `kind` pair.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static Kind> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    KINDS.iter().find(|k| k.group == group && k.version == version && k.kind == kind)
}
