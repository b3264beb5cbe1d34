//! The defaults the Kubernetes API server (1.32) fills in on create and
//! update: what `kubectl get -o yaml` shows that the client did not send.
//!
//! [`apply_defaults`] mutates an object in place. It only fills fields that
//! are absent or null (or, where upstream does so, zero/empty); it never
//! overwrites a value the client set, so applying it twice changes nothing
//! more. It covers upstream's `SetDefaults_*` functions for the served kinds
//! plus the few fields the registry strategies set on create and that
//! clients see in the stored object:
//! - Job: the generated selector and `controller-uid` / `job-name` labels
//!   (from `metadata.uid`, which must already be set), unless
//!   `spec.manualSelector` is true;
//! - Namespace: `status.phase: Active` and the `kubernetes` finalizer (added
//!   only while `status.phase` is unset, i.e. on create, so that removing it
//!   during namespace deletion sticks);
//! - Pod: `status.phase: Pending` and `status.qosClass`;
//! - Secret: `stringData` merged into `data`;
//! - Service: `clusterIP` and `clusterIPs` kept in step, IP families.
//!
//! Not covered: cluster IP and node port allocation, and what admission
//! plugins add (service account token volumes, default tolerations,
//! priority).
//!
//! Nothing here panics: fields of unexpected JSON types are left alone.

use serde_json::{json, Map, Value};

use super::validation::{Quantity, VOLUME_SOURCES};

/// Fills in the defaults the Kubernetes API server sets on an object of
/// `kind` (Pod, Deployment, ReplicaSet, Job, CronJob, Service, Namespace,
/// Secret, Node, Endpoints; other kinds have none and are left unchanged).
pub fn apply_defaults(kind: &str, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else { return };
    match kind {
        "Pod" => default_pod(root),
        "Deployment" => default_deployment(root),
        "ReplicaSet" => {
            if let Some(spec) = ensure_obj(root, "spec") {
                set_default(spec, "replicas", json!(1));
                default_template(spec);
            }
        }
        "Job" => default_job(root),
        "CronJob" => default_cronjob(root),
        "Service" => default_service(root),
        "Namespace" => default_namespace(root),
        "Secret" => default_secret(root),
        "Node" => default_node(root),
        "Endpoints" => {
            for subset in array_mut(root, "subsets") {
                if let Some(subset) = subset.as_object_mut() {
                    for port in array_mut(subset, "ports") {
                        if let Some(port) = port.as_object_mut() {
                            set_default(port, "protocol", json!("TCP"));
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn is_unset(m: &Map<String, Value>, k: &str) -> bool {
    m.get(k).is_none_or(Value::is_null)
}

/// Sets `k` to `v` if it is absent or null.
fn set_default(m: &mut Map<String, Value>, k: &str, v: Value) {
    if is_unset(m, k) {
        m.insert(k.to_string(), v);
    }
}

/// Sets `k` to `v` if it is absent, null, 0 or "".
fn set_default_if_zero(m: &mut Map<String, Value>, k: &str, v: Value) {
    let zero = match m.get(k) {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n.as_i64() == Some(0),
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if zero {
        m.insert(k.to_string(), v);
    }
}

/// The object at `k`, created empty if absent or null; `None` if `k` holds
/// something else.
fn ensure_obj<'a>(m: &'a mut Map<String, Value>, k: &str) -> Option<&'a mut Map<String, Value>> {
    if is_unset(m, k) {
        m.insert(k.to_string(), Value::Object(Map::new()));
    }
    m.get_mut(k).and_then(Value::as_object_mut)
}

/// The existing object at `k`, if any.
fn obj_mut<'a>(m: &'a mut Map<String, Value>, k: &str) -> Option<&'a mut Map<String, Value>> {
    m.get_mut(k).and_then(Value::as_object_mut)
}

/// The elements of the array at `k` (none if absent or not an array).
fn array_mut<'a>(m: &'a mut Map<String, Value>, k: &str) -> std::slice::IterMut<'a, Value> {
    match m.get_mut(k).and_then(Value::as_array_mut) {
        Some(a) => a.iter_mut(),
        None => [].iter_mut(),
    }
}

fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

fn metadata_str(root: &Map<String, Value>, k: &str) -> String {
    root.get("metadata").and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or("").to_string()
}

// ---------------------------------------------------------------------------
// Pod specs
// ---------------------------------------------------------------------------

/// Defaults of a pod template inside `spec.template`.
fn default_template(spec: &mut Map<String, Value>) {
    if let Some(pod_spec) = ensure_obj(spec, "template").and_then(|t| ensure_obj(t, "spec")) {
        default_pod_spec(pod_spec);
    }
}

/// Upstream `SetDefaults_PodSpec` and everything nested in a pod spec.
fn default_pod_spec(spec: &mut Map<String, Value>) {
    set_default_if_zero(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default_if_zero(spec, "restartPolicy", json!("Always"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default_if_zero(spec, "schedulerName", json!("default-scheduler"));
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for c in array_mut(spec, list) {
            if let Some(c) = c.as_object_mut() {
                default_container(c);
            }
        }
    }
    for v in array_mut(spec, "volumes") {
        if let Some(v) = v.as_object_mut() {
            default_volume(v);
        }
    }
}

fn default_container(c: &mut Map<String, Value>) {
    if str_of(c, "imagePullPolicy").is_empty() {
        let policy = pull_policy_for(str_of(c, "image"));
        c.insert("imagePullPolicy".to_string(), json!(policy));
    }
    set_default_if_zero(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default_if_zero(c, "terminationMessagePolicy", json!("File"));
    for p in array_mut(c, "ports") {
        if let Some(p) = p.as_object_mut() {
            set_default_if_zero(p, "protocol", json!("TCP"));
        }
    }
    for env in array_mut(c, "env") {
        if let Some(fr) = env.as_object_mut().and_then(|e| obj_mut(e, "valueFrom")).and_then(|f| obj_mut(f, "fieldRef"))
        {
            set_default_if_zero(fr, "apiVersion", json!("v1"));
        }
    }
    if let Some(res) = ensure_obj(c, "resources") {
        for list in ["limits", "requests"] {
            if let Some(l) = obj_mut(res, list) {
                canonicalize_resource_list(l);
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = obj_mut(c, probe) {
            set_default_if_zero(p, "timeoutSeconds", json!(1));
            set_default_if_zero(p, "periodSeconds", json!(10));
            set_default_if_zero(p, "successThreshold", json!(1));
            set_default_if_zero(p, "failureThreshold", json!(3));
            default_http_get(p);
        }
    }
    if let Some(l) = obj_mut(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = obj_mut(l, hook) {
                default_http_get(h);
            }
        }
    }
}

fn default_http_get(handler: &mut Map<String, Value>) {
    if let Some(h) = obj_mut(handler, "httpGet") {
        set_default_if_zero(h, "path", json!("/"));
        set_default_if_zero(h, "scheme", json!("HTTP"));
    }
}

/// Rounds every quantity up to milli-units and writes it in canonical form
/// (`0.5` -> `500m`, `1024Mi` -> `1Gi`); unparsable values are left for
/// validation to report.
fn canonicalize_resource_list(list: &mut Map<String, Value>) {
    for v in list.values_mut() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        if let Ok(q) = Quantity::parse(&text) {
            *v = Value::String(q.round_up_milli().canonical());
        }
    }
}

fn default_volume(v: &mut Map<String, Value>) {
    if VOLUME_SOURCES.iter().all(|src| is_unset(v, src)) {
        v.insert("emptyDir".to_string(), json!({}));
    }
    for src in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = obj_mut(v, src) {
            set_default(s, "defaultMode", json!(420));
        }
    }
    if let Some(d) = obj_mut(v, "downwardAPI") {
        default_field_refs(d);
    }
    if let Some(p) = obj_mut(v, "projected") {
        for source in array_mut(p, "sources") {
            let Some(source) = source.as_object_mut() else { continue };
            if let Some(d) = obj_mut(source, "downwardAPI") {
                default_field_refs(d);
            }
            if let Some(t) = obj_mut(source, "serviceAccountToken") {
                set_default(t, "expirationSeconds", json!(3600));
            }
        }
    }
    if let Some(h) = obj_mut(v, "hostPath") {
        set_default(h, "type", json!(""));
    }
    if let Some(i) = obj_mut(v, "iscsi") {
        set_default_if_zero(i, "iscsiInterface", json!("default"));
    }
    if let Some(r) = obj_mut(v, "rbd") {
        set_default_if_zero(r, "pool", json!("rbd"));
        set_default_if_zero(r, "user", json!("admin"));
        set_default_if_zero(r, "keyring", json!("/etc/ceph/keyring"));
    }
    if let Some(a) = obj_mut(v, "azureDisk") {
        set_default(a, "cachingMode", json!("ReadWrite"));
        set_default(a, "kind", json!("Shared"));
        set_default(a, "fsType", json!("ext4"));
        set_default(a, "readOnly", json!(false));
    }
    if let Some(s) = obj_mut(v, "scaleIO") {
        set_default_if_zero(s, "storageMode", json!("ThinProvisioned"));
        set_default_if_zero(s, "fsType", json!("xfs"));
    }
}

fn default_field_refs(downward: &mut Map<String, Value>) {
    for item in array_mut(downward, "items") {
        if let Some(fr) = item.as_object_mut().and_then(|i| obj_mut(i, "fieldRef")) {
            set_default_if_zero(fr, "apiVersion", json!("v1"));
        }
    }
}

/// `Always` for `:latest` or untagged images, `IfNotPresent` otherwise
/// (including digests and references that do not parse).
fn pull_policy_for(image: &str) -> &'static str {
    match image_tag(image) {
        Some((Some("latest"), _)) | Some((None, false)) => "Always",
        _ => "IfNotPresent",
    }
}

/// The tag of an image reference and whether it has a digest, or `None` if
/// the reference does not parse (docker reference grammar).
fn image_tag(image: &str) -> Option<(Option<&str>, bool)> {
    if image.len() == 64 && image.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return None;
    }
    let (name_tag, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let (alg, hex) = d.split_once(':')?;
        let alg_ok = alg.split(['-', '_', '+', '.']).all(|c| {
            c.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && c.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !alg_ok || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
    }
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (&name_tag[..last_slash + i], Some(&name_tag[last_slash + i + 1..])),
        None => (name_tag, None),
    };
    if let Some(t) = tag {
        let b = t.as_bytes();
        let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
        if b.is_empty() || b.len() > 128 || !word(&b[0]) || !b.iter().all(|c| word(c) || matches!(c, b'.' | b'-')) {
            return None;
        }
    }
    if name.is_empty() || name.len() > 255 {
        return None;
    }
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 {
        let first = components[0];
        if first.contains(['.', ':']) || first == "localhost" || first.bytes().any(|c| c.is_ascii_uppercase()) {
            if !valid_domain(first) {
                return None;
            }
            components.remove(0);
        }
    }
    if !components.iter().all(|c| valid_path_component(c)) {
        return None;
    }
    Some((tag, digest.is_some()))
}

/// A registry host (`registry.example.com`, `localhost:5000`, `[::1]:5000`).
fn valid_domain(d: &str) -> bool {
    let valid_port = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
    if let Some(rest) = d.strip_prefix('[') {
        let Some((ip6, after)) = rest.split_once(']') else { return false };
        let ip_ok = !ip6.is_empty() && ip6.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
        return ip_ok && (after.is_empty() || after.strip_prefix(':').is_some_and(valid_port));
    }
    let (host, port) = match d.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    port.is_none_or(valid_port)
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            match (b.first(), b.last()) {
                (Some(f), Some(l)) => {
                    f.is_ascii_alphanumeric()
                        && l.is_ascii_alphanumeric()
                        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                }
                _ => false,
            }
        })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: &u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(&b[0]) || !alnum(&b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(&b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(&b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------

fn default_pod(root: &mut Map<String, Value>) {
    let Some(spec) = ensure_obj(root, "spec") else { return };
    default_pod_spec(spec);
    set_default(spec, "enableServiceLinks", json!(true));
    for list in ["containers", "initContainers"] {
        for c in array_mut(spec, list) {
            if let Some(res) = c.as_object_mut().and_then(|c| obj_mut(c, "resources")) {
                requests_from_limits(res);
            }
        }
    }
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            for c in array_mut(spec, list) {
                let Some(c) = c.as_object_mut() else { continue };
                for p in array_mut(c, "ports") {
                    let Some(p) = p.as_object_mut() else { continue };
                    if let Some(cp) = p.get("containerPort").cloned() {
                        set_default_if_zero(p, "hostPort", cp);
                    }
                }
            }
        }
    }
    let qos = qos_class(spec);
    if let Some(status) = ensure_obj(root, "status") {
        set_default_if_zero(status, "phase", json!("Pending"));
        set_default_if_zero(status, "qosClass", json!(qos));
    }
}

/// A Pod's container requests default to its limits.
fn requests_from_limits(res: &mut Map<String, Value>) {
    let Some(limits) = res.get("limits").and_then(Value::as_object).cloned() else { return };
    if let Some(requests) = ensure_obj(res, "requests") {
        for (k, v) in limits {
            requests.entry(k).or_insert(v);
        }
    }
}

/// Upstream `ComputePodQOS` over containers and init containers.
fn qos_class(spec: &Map<String, Value>) -> &'static str {
    use std::collections::BTreeMap;
    let mut requests: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut limits: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut guaranteed = true;
    let containers =
        ["containers", "initContainers"].into_iter().filter_map(|l| spec.get(l).and_then(Value::as_array)).flatten();
    let positive = |v: &Value| {
        let q = match v {
            Value::String(s) => Quantity::parse(s).ok()?,
            Value::Number(n) => Quantity::parse(&n.to_string()).ok()?,
            _ => return None,
        };
        (!q.is_negative() && q != Quantity::parse("0").ok()?).then_some(q)
    };
    for c in containers {
        let res = c.get("resources");
        let list = |k: &str| res.and_then(|r| r.get(k)).and_then(Value::as_object);
        for (name, v) in list("requests").into_iter().flatten() {
            if !matches!(name.as_str(), "cpu" | "memory") {
                continue;
            }
            if let Some(q) = positive(v) {
                let sum = requests.get(name).map_or(q, |prev| prev.add(&q));
                requests.insert(name.clone(), sum);
            }
        }
        let mut found = (false, false);
        for (name, v) in list("limits").into_iter().flatten() {
            if !matches!(name.as_str(), "cpu" | "memory") {
                continue;
            }
            if let Some(q) = positive(v) {
                if name == "cpu" {
                    found.0 = true;
                } else {
                    found.1 = true;
                }
                let sum = limits.get(name).map_or(q, |prev| prev.add(&q));
                limits.insert(name.clone(), sum);
            }
        }
        if found != (true, true) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed {
        guaranteed = requests.iter().all(|(name, req)| {
            limits.get(name).is_some_and(|lim| lim.partial_cmp(req) == Some(std::cmp::Ordering::Equal))
        });
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

fn default_deployment(root: &mut Map<String, Value>) {
    let Some(spec) = ensure_obj(root, "spec") else { return };
    set_default(spec, "replicas", json!(1));
    if let Some(strategy) = ensure_obj(spec, "strategy") {
        set_default_if_zero(strategy, "type", json!("RollingUpdate"));
        if str_of(strategy, "type") == "RollingUpdate" {
            if let Some(ru) = ensure_obj(strategy, "rollingUpdate") {
                set_default(ru, "maxUnavailable", json!("25%"));
                set_default(ru, "maxSurge", json!("25%"));
            }
        }
    }
    set_default(spec, "revisionHistoryLimit", json!(10));
    set_default(spec, "progressDeadlineSeconds", json!(600));
    default_template(spec);
}

const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";

fn default_job(root: &mut Map<String, Value>) {
    let name = metadata_str(root, "name");
    let uid = metadata_str(root, "uid");
    let Some(spec) = ensure_obj(root, "spec") else { return };
    if is_unset(spec, "completions") && is_unset(spec, "parallelism") {
        spec.insert("completions".to_string(), json!(1));
    }
    set_default(spec, "parallelism", json!(1));
    let backoff = if is_unset(spec, "backoffLimitPerIndex") { json!(6) } else { json!(i32::MAX) };
    set_default(spec, "backoffLimit", backoff);
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    let has_failure_policy = !is_unset(spec, "podFailurePolicy");
    if let Some(pfp) = obj_mut(spec, "podFailurePolicy") {
        for rule in array_mut(pfp, "rules") {
            let Some(rule) = rule.as_object_mut() else { continue };
            for pattern in array_mut(rule, "onPodConditions") {
                if let Some(p) = pattern.as_object_mut() {
                    set_default_if_zero(p, "status", json!("True"));
                }
            }
        }
    }
    let replacement = if has_failure_policy { "Failed" } else { "TerminatingOrFailed" };
    set_default(spec, "podReplacementPolicy", json!(replacement));
    default_template(spec);
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual && !uid.is_empty() {
        generate_job_selector(spec, &name, &uid);
    }
    let template_labels = spec.get("template").and_then(|t| t.get("metadata")).and_then(|m| m.get("labels")).cloned();
    if let Some(labels) = template_labels.filter(Value::is_object) {
        if let Some(meta) = ensure_obj(root, "metadata") {
            let empty = meta.get("labels").and_then(Value::as_object).is_none_or(Map::is_empty);
            if empty {
                meta.insert("labels".to_string(), labels);
            }
        }
    }
}

/// Upstream Job `generateSelector`: template labels naming the Job and its
/// uid, and a selector on the uid.
fn generate_job_selector(spec: &mut Map<String, Value>, name: &str, uid: &str) {
    let labels =
        ensure_obj(spec, "template").and_then(|t| ensure_obj(t, "metadata")).and_then(|m| ensure_obj(m, "labels"));
    if let Some(labels) = labels {
        for (k, v) in [(LEGACY_JOB_NAME, name), (JOB_NAME, name), (LEGACY_CONTROLLER_UID, uid), (CONTROLLER_UID, uid)] {
            labels.entry(k).or_insert_with(|| json!(v));
        }
    }
    if let Some(ml) = ensure_obj(spec, "selector").and_then(|s| ensure_obj(s, "matchLabels")) {
        ml.entry(CONTROLLER_UID).or_insert_with(|| json!(uid));
    }
}

fn default_cronjob(root: &mut Map<String, Value>) {
    let Some(spec) = ensure_obj(root, "spec") else { return };
    set_default_if_zero(spec, "concurrencyPolicy", json!("Allow"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "successfulJobsHistoryLimit", json!(3));
    set_default(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(job_spec) = ensure_obj(spec, "jobTemplate").and_then(|t| ensure_obj(t, "spec")) {
        default_template(job_spec);
    }
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------

fn default_service(root: &mut Map<String, Value>) {
    let Some(spec) = ensure_obj(root, "spec") else { return };
    set_default_if_zero(spec, "sessionAffinity", json!("None"));
    match str_of(spec, "sessionAffinity") {
        "None" => {
            spec.remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert("sessionAffinityConfig".to_string(), json!({"clientIP": {"timeoutSeconds": 10800}}));
            }
        }
        _ => {}
    }
    set_default_if_zero(spec, "type", json!("ClusterIP"));
    for p in array_mut(spec, "ports") {
        let Some(p) = p.as_object_mut() else { continue };
        set_default_if_zero(p, "protocol", json!("TCP"));
        if let Some(port) = p.get("port").filter(|v| v.is_number()).cloned() {
            set_default_if_zero(p, "targetPort", port);
        }
    }
    let ty = str_of(spec, "type").to_string();
    let has_external_ips = spec.get("externalIPs").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    let external = matches!(ty.as_str(), "LoadBalancer" | "NodePort") || (ty == "ClusterIP" && has_external_ips);
    if external {
        set_default_if_zero(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if matches!(ty.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if ty != "ExternalName" {
        default_service_ips(spec);
    }
    if let Some(status) = ensure_obj(root, "status") {
        set_default(status, "loadBalancer", json!({}));
    }
}

/// Keeps `clusterIP` and `clusterIPs` in step and fills the IP families and
/// family policy of a single-stack (IPv4) cluster.
fn default_service_ips(spec: &mut Map<String, Value>) {
    let ip = str_of(spec, "clusterIP").to_string();
    let ips: Vec<String> = spec
        .get("clusterIPs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    if ips.is_empty() && !ip.is_empty() {
        spec.insert("clusterIPs".to_string(), json!([ip]));
    } else if ip.is_empty() {
        if let Some(first) = ips.first() {
            spec.insert("clusterIP".to_string(), json!(first));
        }
    }
    let ips: Vec<String> = if ips.is_empty() && !ip.is_empty() { vec![ip] } else { ips };
    let headless = ips.first().is_some_and(|i| i == "None");
    let has_selector = spec.get("selector").and_then(Value::as_object).is_some_and(|m| !m.is_empty());
    let families_unset = spec.get("ipFamilies").and_then(Value::as_array).is_none_or(Vec::is_empty);
    if is_unset(spec, "ipFamilyPolicy") {
        let family_count = spec.get("ipFamilies").and_then(Value::as_array).map_or(0, Vec::len);
        let policy = if (headless && !has_selector) || ips.len() == 2 || family_count == 2 {
            "RequireDualStack"
        } else {
            "SingleStack"
        };
        spec.insert("ipFamilyPolicy".to_string(), json!(policy));
    }
    if families_unset {
        let mut families: Vec<&str> = ips
            .iter()
            .filter(|i| *i != "None" && !i.is_empty())
            .map(|i| if i.contains(':') { "IPv6" } else { "IPv4" })
            .collect();
        families.dedup();
        if families.is_empty() {
            families.push("IPv4");
        }
        spec.insert("ipFamilies".to_string(), json!(families));
    }
}

// ---------------------------------------------------------------------------
// Namespaces, Secrets, Nodes
// ---------------------------------------------------------------------------

fn default_namespace(root: &mut Map<String, Value>) {
    let name = metadata_str(root, "name");
    if !name.is_empty() {
        if let Some(labels) = ensure_obj(root, "metadata").and_then(|m| ensure_obj(m, "labels")) {
            labels.insert("kubernetes.io/metadata.name".to_string(), json!(name));
        }
    }
    let creating = root.get("status").and_then(|s| s.get("phase")).and_then(Value::as_str).is_none_or(str::is_empty);
    if creating {
        if let Some(spec) = ensure_obj(root, "spec") {
            if is_unset(spec, "finalizers") {
                spec.insert("finalizers".to_string(), json!([]));
            }
            if let Some(f) = spec.get_mut("finalizers").and_then(Value::as_array_mut) {
                if !f.iter().any(|x| x.as_str() == Some("kubernetes")) {
                    f.push(json!("kubernetes"));
                }
            }
        }
    }
    if let Some(status) = ensure_obj(root, "status") {
        set_default_if_zero(status, "phase", json!("Active"));
    }
}

fn default_secret(root: &mut Map<String, Value>) {
    set_default_if_zero(root, "type", json!("Opaque"));
    let Some(Value::Object(string_data)) = root.remove("stringData") else { return };
    if let Some(data) = ensure_obj(root, "data") {
        for (k, v) in string_data {
            if let Some(text) = v.as_str() {
                data.insert(k, Value::String(base64_encode(text.as_bytes())));
            }
        }
    }
}

/// Standard base64 with padding.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn default_node(root: &mut Map<String, Value>) {
    let Some(status) = obj_mut(root, "status") else { return };
    for list in ["capacity", "allocatable"] {
        if let Some(l) = obj_mut(status, list) {
            canonicalize_resource_list(l);
        }
    }
    if is_unset(status, "allocatable") {
        if let Some(capacity) = status.get("capacity").filter(|c| c.is_object()).cloned() {
            status.insert("allocatable".to_string(), capacity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaulted(kind: &str, mut obj: Value) -> Value {
        apply_defaults(kind, &mut obj);
        let mut again = obj.clone();
        apply_defaults(kind, &mut again);
        assert_eq!(again, obj, "defaulting {kind} twice changed it");
        obj
    }

    fn expected_container(image: &str, policy: &str) -> Value {
        json!({"name": "app", "image": image, "imagePullPolicy": policy, "resources": {},
               "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"})
    }

    #[test]
    fn minimal_pod() {
        let pod = defaulted(
            "Pod",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
        );
        assert_eq!(
            pod,
            json!({"metadata": {"name": "p"},
                   "spec": {"containers": [expected_container("nginx", "Always")],
                            "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "restartPolicy": "Always",
                            "schedulerName": "default-scheduler", "securityContext": {},
                            "terminationGracePeriodSeconds": 30},
                   "status": {"phase": "Pending", "qosClass": "BestEffort"}})
        );
    }

    #[test]
    fn minimal_deployment() {
        let d = defaulted(
            "Deployment",
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}),
        );
        assert_eq!(
            d,
            json!({"metadata": {"name": "web"},
                   "spec": {"replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                            "selector": {"matchLabels": {"app": "web"}},
                            "strategy": {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [expected_container("nginx:1.25", "IfNotPresent")],
                                                  "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                                                  "schedulerName": "default-scheduler", "securityContext": {},
                                                  "terminationGracePeriodSeconds": 30}}}})
        );
        // Templates get no Pod-only defaults.
        assert!(d["spec"]["template"]["spec"].get("enableServiceLinks").is_none());
        let recreate = defaulted("Deployment", json!({"spec": {"strategy": {"type": "Recreate"}, "replicas": 3}}));
        assert_eq!(recreate["spec"]["strategy"], json!({"type": "Recreate"}));
        assert_eq!(recreate["spec"]["replicas"], json!(3));
        let rs = defaulted("ReplicaSet", json!({"spec": {}}));
        assert_eq!(rs["spec"]["replicas"], json!(1));
        assert_eq!(rs["spec"]["template"]["spec"]["restartPolicy"], json!("Always"));
    }

    #[test]
    fn minimal_service() {
        let s = defaulted(
            "Service",
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
                "ports": [{"port": 80}, {"name": "x", "port": 81, "targetPort": "http"}]}}),
        );
        assert_eq!(
            s,
            json!({"metadata": {"name": "web"},
                   "spec": {"selector": {"app": "web"}, "type": "ClusterIP", "sessionAffinity": "None",
                            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80},
                                      {"name": "x", "port": 81, "protocol": "TCP", "targetPort": "http"}],
                            "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"],
                            "internalTrafficPolicy": "Cluster"},
                   "status": {"loadBalancer": {}}})
        );
        let lb = defaulted(
            "Service",
            json!({"spec": {"type": "LoadBalancer", "clusterIP": "fd00::10",
                                                       "sessionAffinity": "ClientIP", "ports": [{"port": 443}]}}),
        );
        assert_eq!(lb["spec"]["externalTrafficPolicy"], json!("Cluster"));
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], json!(true));
        assert_eq!(lb["spec"]["sessionAffinityConfig"], json!({"clientIP": {"timeoutSeconds": 10800}}));
        assert_eq!(lb["spec"]["clusterIPs"], json!(["fd00::10"]));
        assert_eq!(lb["spec"]["ipFamilies"], json!(["IPv6"]));
        let headless = defaulted("Service", json!({"spec": {"clusterIP": "None"}}));
        assert_eq!(headless["spec"]["ipFamilyPolicy"], json!("RequireDualStack"));
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        let ext = defaulted("Service", json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}}));
        for absent in ["ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy", "clusterIPs"] {
            assert!(ext["spec"].get(absent).is_none(), "{absent} set on ExternalName");
        }
    }

    #[test]
    fn minimal_job() {
        let j = defaulted(
            "Job",
            json!({"metadata": {"name": "pi", "uid": "u-1"},
                   "spec": {"template": {"spec": {"restartPolicy": "Never",
                                                  "containers": [{"name": "app", "image": "perl:5.34"}]}}}}),
        );
        let labels = json!({"batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
                            "controller-uid": "u-1", "job-name": "pi"});
        assert_eq!(
            j,
            json!({"metadata": {"name": "pi", "uid": "u-1", "labels": labels},
                   "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
                            "suspend": false, "podReplacementPolicy": "TerminatingOrFailed",
                            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
                            "template": {"metadata": {"labels": labels},
                                         "spec": {"containers": [expected_container("perl:5.34", "IfNotPresent")],
                                                  "dnsPolicy": "ClusterFirst", "restartPolicy": "Never",
                                                  "schedulerName": "default-scheduler", "securityContext": {},
                                                  "terminationGracePeriodSeconds": 30}}}})
        );
        let parallel = defaulted("Job", json!({"metadata": {"uid": "u"}, "spec": {"parallelism": 3}}));
        assert!(parallel["spec"].get("completions").is_none());
        let manual = defaulted(
            "Job",
            json!({"metadata": {"name": "m", "uid": "u", "labels": {"team": "a"}},
                   "spec": {"manualSelector": true,
                            "podFailurePolicy": {"rules": [{"onPodConditions": [{"type": "X"}]}]},
                            "backoffLimitPerIndex": 1}}),
        );
        assert!(manual["spec"].get("selector").is_none());
        assert_eq!(manual["metadata"]["labels"], json!({"team": "a"}));
        assert_eq!(manual["spec"]["backoffLimit"], json!(i32::MAX));
        assert_eq!(manual["spec"]["podReplacementPolicy"], json!("Failed"));
        assert_eq!(manual["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"], json!("True"));
        let no_uid = defaulted("Job", json!({"metadata": {"name": "x"}, "spec": {}}));
        assert!(no_uid["spec"].get("selector").is_none());
    }

    #[test]
    fn cronjob_namespace_secret_node_endpoints() {
        let cj =
            defaulted("CronJob", json!({"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {}}}}}));
        assert_eq!(cj["spec"]["concurrencyPolicy"], json!("Allow"));
        assert_eq!(cj["spec"]["suspend"], json!(false));
        assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], json!(3));
        assert_eq!(cj["spec"]["failedJobsHistoryLimit"], json!(1));
        assert_eq!(cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"], json!("ClusterFirst"));
        assert!(cj["spec"]["jobTemplate"]["spec"].get("backoffLimit").is_none());

        let ns = defaulted("Namespace", json!({"metadata": {"name": "team-a"}}));
        assert_eq!(
            ns,
            json!({"metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        );
        // Once stored (phase set), a removed finalizer stays removed.
        let finalized = defaulted(
            "Namespace",
            json!({"metadata": {"name": "t"}, "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}),
        );
        assert_eq!(finalized["spec"]["finalizers"], json!([]));
        assert_eq!(finalized["status"]["phase"], json!("Terminating"));

        let secret =
            defaulted("Secret", json!({"stringData": {"user": "admin", "pw": "hunter2"}, "data": {"x": "eA=="}}));
        assert_eq!(secret, json!({"type": "Opaque", "data": {"x": "eA==", "user": "YWRtaW4=", "pw": "aHVudGVyMg=="}}));
        assert_eq!(defaulted("Secret", json!({"type": "kubernetes.io/tls"}))["type"], json!("kubernetes.io/tls"));

        let node = defaulted("Node", json!({"status": {"capacity": {"cpu": "4", "memory": "8388608Ki"}}}));
        assert_eq!(node["status"]["allocatable"], json!({"cpu": "4", "memory": "8Gi"}));
        let ep =
            defaulted("Endpoints", json!({"subsets": [{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]}));
        assert_eq!(
            ep["subsets"][0]["ports"],
            json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
        );
        let cm = json!({"data": {"a": "b"}});
        assert_eq!(defaulted("ConfigMap", cm.clone()), cm);
    }

    #[test]
    fn image_pull_policy() {
        let cases = [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("registry.example.com:5000/team/app", "Always"),
            ("localhost:5000/app:latest", "Always"),
            ("nginx:1.25", "IfNotPresent"),
            ("registry.example.com:5000/team/app:v2", "IfNotPresent"),
            ("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent"),
            ("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Always"),
            ("Nginx", "IfNotPresent"),
            ("", "IfNotPresent"),
            ("a::b", "IfNotPresent"),
            ("[::1]:5000/app", "Always"),
        ];
        for (image, policy) in cases {
            assert_eq!(pull_policy_for(image), policy, "{image}");
        }
        let pod = defaulted(
            "Pod",
            json!({"spec": {"containers": [{"name": "a", "image": "x", "imagePullPolicy": "Never"}]}}),
        );
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], json!("Never"));
    }

    #[test]
    fn container_and_volume_details() {
        let pod = defaulted(
            "Pod",
            json!({"spec": {"hostNetwork": true,
                "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 8080}],
                    "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "livenessProbe": {"httpGet": {"port": 8080}},
                    "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}, "requests": {"cpu": "100m"}}}],
                "volumes": [{"name": "a"}, {"name": "b", "configMap": {"name": "c"}},
                            {"name": "c", "secret": {"secretName": "s", "defaultMode": 256}},
                            {"name": "d", "hostPath": {"path": "/x"}},
                            {"name": "e", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}]}}),
        );
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["ports"][0], json!({"containerPort": 8080, "protocol": "TCP", "hostPort": 8080}));
        assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], json!("v1"));
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10,
                   "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(
            c["resources"],
            json!({"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "1Gi"}})
        );
        assert_eq!(pod["status"]["qosClass"], json!("Burstable"));
        let v = &pod["spec"]["volumes"];
        assert_eq!(v[0], json!({"name": "a", "emptyDir": {}}));
        assert_eq!(v[1]["configMap"]["defaultMode"], json!(420));
        assert_eq!(v[2]["secret"]["defaultMode"], json!(256));
        assert_eq!(v[3]["hostPath"]["type"], json!(""));
        assert_eq!(v[4]["projected"]["defaultMode"], json!(420));
        assert_eq!(v[4]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"], json!(3600));
    }

    #[test]
    fn qos_classes() {
        let qos = |res: Value| {
            let pod =
                defaulted("Pod", json!({"spec": {"containers": [{"name": "a", "image": "x", "resources": res}]}}));
            pod["status"]["qosClass"].as_str().unwrap_or("").to_string()
        };
        assert_eq!(qos(json!({})), "BestEffort");
        assert_eq!(qos(json!({"limits": {"cpu": "1", "memory": "1Gi"}})), "Guaranteed");
        assert_eq!(qos(json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m"}})), "Guaranteed");
        assert_eq!(qos(json!({"limits": {"cpu": "1"}})), "Burstable");
        assert_eq!(qos(json!({"requests": {"memory": "1Gi"}})), "Burstable");
        assert_eq!(qos(json!({"requests": {"example.com/gpu": "1"}})), "BestEffort");
    }

    #[test]
    fn never_overwrites_and_tolerates_junk() {
        let pod = defaulted(
            "Pod",
            json!({"spec": {"dnsPolicy": "Default", "restartPolicy": "Never", "terminationGracePeriodSeconds": 5,
                            "enableServiceLinks": false, "containers": [{"name": "a", "image": "x",
                            "terminationMessagePolicy": "FallbackToLogsOnError"}]}, "status": {"phase": "Running"}}),
        );
        assert_eq!(pod["spec"]["dnsPolicy"], json!("Default"));
        assert_eq!(pod["spec"]["restartPolicy"], json!("Never"));
        assert_eq!(pod["spec"]["terminationGracePeriodSeconds"], json!(5));
        assert_eq!(pod["spec"]["enableServiceLinks"], json!(false));
        assert_eq!(pod["spec"]["containers"][0]["terminationMessagePolicy"], json!("FallbackToLogsOnError"));
        assert_eq!(pod["status"]["phase"], json!("Running"));
        for junk in
            [json!(null), json!(3), json!("x"), json!([1]), json!({"spec": 7}), json!({"spec": {"containers": "x"}})]
        {
            for kind in [
                "Pod",
                "Deployment",
                "ReplicaSet",
                "Job",
                "CronJob",
                "Service",
                "Namespace",
                "Secret",
                "Node",
                "Endpoints",
            ] {
                let mut v = junk.clone();
                apply_defaults(kind, &mut v);
            }
        }
        let mut spec_junk = json!({"spec": 7});
        apply_defaults("Pod", &mut spec_junk);
        assert_eq!(spec_junk, json!({"spec": 7}));
    }

    #[test]
    fn base64_encodes() {
        for (raw, enc) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("\u{ff}", "w78=")]
        {
            assert_eq!(base64_encode(raw.as_bytes()), enc, "{raw:?}");
        }
    }
}
