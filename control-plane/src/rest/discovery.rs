//! API discovery, generated from the kinds table: aggregated (`apidiscovery.k8s.io/v2`,
//! what kubectl 1.32 asks for) and legacy (`APIVersions`, `APIGroupList`,
//! `APIResourceList`).

use serde_json::{json, Value};

use crate::registry::kinds::{groups, KINDS};
use crate::registry::Kind;

/// Content type of aggregated discovery (kubectl rejects anything else).
pub const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Verbs of every served resource.
pub const VERBS: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

fn scope(k: &Kind) -> &'static str {
    if k.namespaced {
        "Namespaced"
    } else {
        "Cluster"
    }
}

fn aggregated_resource(k: &Kind) -> Value {
    let mut subs = Vec::new();
    if k.status {
        subs.push(json!({"subresource": "status", "responseKind": {"group": k.group, "version": k.version, "kind": k.kind}, "verbs": ["get", "patch", "update"]}));
    }
    if k.scale {
        subs.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}));
    }
    if k.kind == "Pod" {
        subs.push(json!({"subresource": "log", "responseKind": {"group": "", "version": "v1", "kind": "Pod"}, "verbs": ["get"]}));
        subs.push(json!({"subresource": "exec", "responseKind": {"group": "", "version": "v1", "kind": "PodExecOptions"}, "verbs": ["create", "get"]}));
    }
    let mut r = json!({
        "resource": k.resource,
        "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
        "scope": scope(k),
        "singularResource": k.singular,
        "verbs": VERBS,
    });
    if !k.short_names.is_empty() {
        r["shortNames"] = json!(k.short_names);
    }
    if !k.categories.is_empty() {
        r["categories"] = json!(k.categories);
    }
    if !subs.is_empty() {
        r["subresources"] = Value::Array(subs);
    }
    r
}

/// Aggregated discovery of the core group (`core = true`) or the named groups.
pub fn aggregated(core: bool) -> Value {
    let items: Vec<Value> = groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, v)| {
            let resources: Vec<Value> =
                KINDS.iter().filter(|k| k.group == g && k.version == v).map(aggregated_resource).collect();
            json!({"metadata": {"name": g}, "versions": [{"version": v, "freshness": "Current", "resources": resources}]})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// Legacy `/api`.
pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]})
}

/// Legacy `/apis`.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> =
        groups().into_iter().filter(|(g, _)| !g.is_empty()).map(|(g, v)| group_object(g, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Legacy `/apis/<group>`; None for unknown groups.
pub fn api_group(group: &str) -> Option<Value> {
    let (g, v) = groups().into_iter().find(|(g, _)| *g == group && !g.is_empty())?;
    let mut o = group_object(g, v);
    o["kind"] = json!("APIGroup");
    o["apiVersion"] = json!("v1");
    Some(o)
}

fn group_object(g: &str, v: &str) -> Value {
    let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
}

/// Legacy `APIResourceList` of one group version; None if not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let kinds: Vec<&Kind> = KINDS.iter().filter(|k| k.group == group && k.version == version).collect();
    if kinds.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for k in kinds {
        let mut r = json!({"name": k.resource, "singularName": k.singular, "namespaced": k.namespaced, "kind": k.kind, "verbs": VERBS});
        if !k.short_names.is_empty() {
            r["shortNames"] = json!(k.short_names);
        }
        if !k.categories.is_empty() {
            r["categories"] = json!(k.categories);
        }
        resources.push(r);
        let sub = |name: &str, kind: &str, group: Option<&str>| {
            let mut s = json!({"name": format!("{}/{name}", k.resource), "singularName": "", "namespaced": k.namespaced, "kind": kind, "verbs": ["get", "patch", "update"]});
            if let Some(g) = group {
                s["group"] = json!(g);
                s["version"] = json!("v1");
            }
            s
        };
        if k.status {
            resources.push(sub("status", k.kind, None));
        }
        if k.scale {
            resources.push(sub("scale", "Scale", Some("autoscaling")));
        }
        if k.kind == "Pod" {
            let mut log = sub("log", "Pod", None);
            log["verbs"] = json!(["get"]);
            resources.push(log);
            let mut exec = sub("exec", "PodExecOptions", None);
            exec["verbs"] = json!(["create", "get"]);
            resources.push(exec);
        }
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}
