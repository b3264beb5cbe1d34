//! How each list field of the served kinds merges in a strategic merge patch
//! and how server-side apply identifies its elements (Kubernetes'
//! `patchStrategy` / `patchMergeKey` / `listType` tags, for the kinds
//! Helmsman serves).
//!
//! A path is the sequence of object field names from the object's root to the
//! list field, list indices left out: `["spec", "template", "spec",
//! "containers"]`.

/// How a list merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// The patch's list replaces the whole list.
    Atomic,
    /// Elements are objects identified by this field (`name`, `port`, ...).
    MergeByKey(&'static str),
    /// Elements are scalars merged as a set (`metadata.finalizers`).
    MergePrimitives,
}

/// The strategy of the list at `path`.
pub fn list_strategy(path: &[&str]) -> ListStrategy {
    use ListStrategy::*;
    let Some((&last, parent)) = path.split_last() else { return Atomic };
    let parent_last = parent.last().copied().unwrap_or("");
    match last {
        "containers" | "initContainers" | "ephemeralContainers" => MergeByKey("name"),
        "env" if is_container(parent_last) => MergeByKey("name"),
        "ports" if is_container(parent_last) => MergeByKey("containerPort"),
        // Service spec.ports (a Service's spec has no containers).
        "ports" if parent_last == "spec" && path.len() == 2 => MergeByKey("port"),
        "volumeMounts" if is_container(parent_last) => MergeByKey("mountPath"),
        "volumeDevices" if is_container(parent_last) => MergeByKey("devicePath"),
        "volumes" if parent_last == "spec" => MergeByKey("name"),
        "imagePullSecrets" => MergeByKey("name"),
        "hostAliases" => MergeByKey("ip"),
        "resourceClaims" if parent_last == "spec" => MergeByKey("name"),
        "schedulingGates" if parent_last == "spec" => MergeByKey("name"),
        "resourceClaimStatuses" if parent_last == "status" => MergeByKey("name"),
        "topologySpreadConstraints" => MergeByKey("topologyKey"),
        "conditions" if parent_last == "status" => MergeByKey("type"),
        "addresses" if parent_last == "status" && path.len() == 2 => MergeByKey("type"),
        "podIPs" | "hostIPs" if parent_last == "status" => MergeByKey("ip"),
        "podCIDRs" if parent_last == "spec" => MergePrimitives,
        "ownerReferences" if parent_last == "metadata" => MergeByKey("uid"),
        "finalizers" if parent_last == "metadata" => MergePrimitives,
        _ => Atomic,
    }
}

/// Whether a path element names a container list (the elements of which are
/// containers).
fn is_container(field: &str) -> bool {
    matches!(field, "containers" | "initContainers" | "ephemeralContainers")
}
