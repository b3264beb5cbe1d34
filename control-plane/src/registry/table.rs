//! Server-side `meta.k8s.io/v1` Tables, as `kubectl get` asks for them with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! For Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret, Event, ServiceAccount,
//! Deployment, ReplicaSet, Job, CronJob and Lease the columns (names, order, types, wide
//! priorities) and the cell strings follow the Kubernetes 1.32 printers, including the pod
//! STATUS reason logic (init containers, sidecars, waiting/terminated reasons, `Completed`,
//! `Terminating`), node roles and `SchedulingDisabled`, service ports and external IPs, and event
//! sources. Any other kind gets `Name` and `Age`.
//!
//! Guarantees:
//! - Every row has exactly one cell per column of its kind; like the API server, wide
//!   (priority 1) cells are always present and kubectl decides whether to show them.
//! - Cells are JSON strings or integers. Missing, `null` or wrongly typed fields never panic;
//!   they print as Kubernetes prints an unset field (`""`, `0`, `<none>`, `<unknown>`).
//! - Ages are computed against the caller's `now_unix`, so output is deterministic. Timestamps
//!   are RFC 3339 strings (fractional seconds and offsets allowed); a missing or unparseable
//!   timestamp prints as `<unknown>`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::selector::LabelSelector;

const NONE: &str = "<none>";
const UNKNOWN: &str = "<unknown>";
const NANOS_PER_SEC: i128 = 1_000_000_000;

/// One column definition before it is rendered as JSON.
struct Column {
    name: &'static str,
    kind: &'static str,
    format: &'static str,
    description: &'static str,
    priority: u8,
}

const fn col(name: &'static str, kind: &'static str, description: &'static str) -> Column {
    Column { name, kind, format: "", description, priority: 0 }
}

const fn wide(name: &'static str, kind: &'static str, description: &'static str) -> Column {
    Column { name, kind, format: "", description, priority: 1 }
}

const NAME: Column =
    Column { name: "Name", kind: "string", format: "name", description: "Name of the object.", priority: 0 };
const AGE: Column = col("Age", "string", "Time elapsed since the object was created.");
const CONTAINERS: Column = wide("Containers", "string", "Names of the containers in the pod template.");
const IMAGES: Column = wide("Images", "string", "Images of the containers in the pod template.");
const SELECTOR: Column = wide("Selector", "string", "Label selector for the pods this object manages.");

fn column_specs(kind: &str) -> Vec<Column> {
    match kind {
        "Namespace" => vec![NAME, col("Status", "string", "Lifecycle phase of the namespace."), AGE],
        "Node" => vec![
            NAME,
            col("Status", "string", "Readiness of the node, and whether scheduling is disabled."),
            col("Roles", "string", "Roles of the node, from its node-role labels."),
            AGE,
            col("Version", "string", "Version of the kubelet on the node."),
            wide("Internal-IP", "string", "First internal address of the node."),
            wide("External-IP", "string", "First external address of the node."),
            wide("OS-Image", "string", "Operating system image reported by the node."),
            wide("Kernel-Version", "string", "Kernel version reported by the node."),
            wide("Container-Runtime", "string", "Container runtime and version reported by the node."),
        ],
        "Pod" => vec![
            NAME,
            col("Ready", "string", "Ready containers out of all containers of the pod."),
            col("Status", "string", "Summary of the state of the pod and its containers."),
            col("Restarts", "string", "Container restarts, and how long ago the last one happened."),
            AGE,
            wide("IP", "string", "Primary IP address of the pod."),
            wide("Node", "string", "Node the pod is bound to."),
            wide("Nominated Node", "string", "Node nominated for the pod by preemption."),
            wide("Readiness Gates", "string", "Readiness gates that are true, out of all gates."),
        ],
        "Service" => vec![
            NAME,
            col("Type", "string", "How the service is exposed."),
            col("Cluster-IP", "string", "Cluster IP address of the service."),
            col("External-IP", "string", "External addresses of the service."),
            col("Port(s)", "string", "Ports of the service, with node ports."),
            AGE,
            wide("Selector", "string", "Labels of the pods the service routes to."),
        ],
        "Endpoints" => vec![NAME, col("Endpoints", "string", "Ready addresses with their ports."), AGE],
        "ConfigMap" => vec![NAME, col("Data", "string", "Number of data and binary data entries."), AGE],
        "Secret" => vec![
            NAME,
            col("Type", "string", "Type of the secret."),
            col("Data", "string", "Number of data entries."),
            AGE,
        ],
        "ServiceAccount" => vec![NAME, col("Secrets", "string", "Number of referenced secrets."), AGE],
        "Event" => vec![
            col("Last Seen", "string", "Time since the event was last observed."),
            col("Type", "string", "Type of the event (Normal, Warning)."),
            col("Reason", "string", "Short machine-readable reason for the event."),
            col("Object", "string", "Object the event is about."),
            wide("Subobject", "string", "Part of the object the event is about."),
            wide("Source", "string", "Component that reported the event."),
            col("Message", "string", "Human-readable description of the event."),
            wide("First Seen", "string", "Time since the event was first observed."),
            wide("Count", "string", "Number of times the event occurred."),
            Column { priority: 1, ..NAME },
        ],
        "Deployment" => vec![
            NAME,
            col("Ready", "string", "Ready replicas out of desired replicas."),
            col("Up-to-date", "string", "Replicas running the current pod template."),
            col("Available", "string", "Replicas available to serve."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "ReplicaSet" => vec![
            NAME,
            col("Desired", "integer", "Desired number of replicas."),
            col("Current", "integer", "Number of replicas that exist."),
            col("Ready", "integer", "Number of ready replicas."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "Job" => vec![
            NAME,
            col("Status", "string", "Status of the job."),
            col("Completions", "string", "Succeeded pods out of the completions wanted."),
            col("Duration", "string", "Time the job took, or has been running."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "CronJob" => vec![
            NAME,
            col("Schedule", "string", "Cron schedule of the job."),
            col("Timezone", "string", "Time zone the schedule is interpreted in."),
            col("Suspend", "boolean", "Whether new runs are suspended."),
            col("Active", "integer", "Number of running jobs."),
            col("Last Schedule", "string", "Time since a job was last scheduled."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        "Lease" => vec![NAME, col("Holder", "string", "Identity of the current holder of the lease."), AGE],
        _ => vec![NAME, AGE],
    }
}

/// Column definitions of `kind` (`"Pod"`, ...), wide ones with priority 1.
///
/// Each entry is `{"name","type","format","description","priority"}`; unknown kinds get
/// `Name` and `Age`.
pub fn columns(kind: &str) -> Vec<Value> {
    column_specs(kind)
        .into_iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.kind,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect()
}

/// One row: `{"cells":[...], "object": PartialObjectMetadata of obj}`.
///
/// Succeeded and Failed pods also carry the `Completed` row condition, as Kubernetes sets it.
pub fn row(kind: &str, obj: &Value, now_unix: i64) -> Value {
    let now = i128::from(now_unix) * NANOS_PER_SEC;
    let metadata = obj.get("metadata").filter(|m| m.is_object()).cloned().unwrap_or_else(|| json!({}));
    let (cells, conditions) = match kind {
        "Pod" => pod_cells(obj, now),
        other => (cells(other, obj, now), None),
    };
    let mut row = Map::new();
    row.insert("cells".to_string(), Value::Array(cells));
    if let Some(conditions) = conditions {
        row.insert("conditions".to_string(), conditions);
    }
    row.insert(
        "object".to_string(),
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}),
    );
    Value::Object(row)
}

/// The whole Table of `objs`, all of kind `kind`.
///
/// `columnDefinitions` is an empty array when `with_columns` is false (the `includeHeaders`
/// / `noHeaders` case); `metadata.continue` is set only for a non-empty token.
pub fn table(
    kind: &str,
    objs: &[Value],
    resource_version: &str,
    continue_token: Option<&str>,
    with_columns: bool,
    now_unix: i64,
) -> Value {
    let mut metadata = Map::new();
    metadata.insert("resourceVersion".to_string(), Value::from(resource_version));
    if let Some(token) = continue_token.filter(|t| !t.is_empty()) {
        metadata.insert("continue".to_string(), Value::from(token));
    }
    let column_definitions = if with_columns { columns(kind) } else { Vec::new() };
    let rows: Vec<Value> = objs.iter().map(|obj| row(kind, obj, now_unix)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// Kubernetes' human duration for AGE (`"5s"`, `"3m20s"`, `"5h"`, `"2d3h"`, `"45d"`, `"2y"`...).
///
/// Up to one second in the future counts as `"0s"`; further in the future is `"<invalid>"`.
pub fn human_duration(secs: i64) -> String {
    human_nanos(i128::from(secs) * NANOS_PER_SEC)
}

fn human_nanos(d: i128) -> String {
    let seconds = d / NANOS_PER_SEC;
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{days}d") } else { format!("{days}d{h}h") };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        let dy = days % 365;
        return if dy == 0 { format!("{years}y") } else { format!("{years}y{dy}d") };
    }
    format!("{years}y")
}

// --- JSON access helpers -------------------------------------------------------------------

/// The value at `path`, treating `null` as absent.
fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, key| cur.as_object()?.get(*key)).filter(|v| !v.is_null())
}

/// The object at `path`, if it is one (a set `*State` pointer in Go terms).
fn object<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    at(v, path).filter(|v| v.is_object())
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    at(v, path).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn integer(v: &Value, path: &[&str]) -> Option<i64> {
    let n = at(v, path)?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.as_u64().is_some() {
        return Some(i64::MAX);
    }
    // Saturating conversion of an integral float; fractional values are not counters.
    n.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0).map(|f| f as i64)
}

fn flag(v: &Value, path: &[&str]) -> Option<bool> {
    at(v, path).and_then(Value::as_bool)
}

/// Number of entries of the object or array at `path`.
fn entries(v: &Value, path: &[&str]) -> i64 {
    let n = match at(v, path) {
        Some(Value::Object(m)) => m.len(),
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn time(v: &Value, path: &[&str]) -> Option<i128> {
    at(v, path).and_then(Value::as_str).and_then(parse_rfc3339)
}

fn since(t: Option<i128>, now: i128) -> String {
    t.map_or_else(|| UNKNOWN.to_string(), |t| human_nanos(now - t))
}

fn age(obj: &Value, now: i128) -> Value {
    Value::from(since(time(obj, &["metadata", "creationTimestamp"]), now))
}

fn name(obj: &Value) -> Value {
    Value::from(text(obj, &["metadata", "name"]))
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        NONE.to_string()
    } else {
        s.to_string()
    }
}

/// Comma-joined container names and images of a pod spec.
fn containers_and_images(spec: &Value) -> (Value, Value) {
    let containers = list(spec, &["containers"]);
    let names: Vec<&str> = containers.iter().map(|c| text(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| text(c, &["image"])).collect();
    (Value::from(names.join(",")), Value::from(images.join(",")))
}

/// A `metav1.LabelSelector` as a selector string; `<none>` when it selects everything or nothing.
fn format_label_selector(selector: Option<&Value>) -> String {
    match LabelSelector::from_object(selector.unwrap_or(&Value::Null)) {
        Ok(s) => or_none(&s.to_string()),
        Err(_) => "<error>".to_string(),
    }
}

/// A plain label map as sorted `k=v` pairs; `<none>` when empty.
fn format_labels(labels: Option<&Value>) -> String {
    let Some(Value::Object(labels)) = labels else { return NONE.to_string() };
    let mut pairs: Vec<String> =
        labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    pairs.sort();
    or_none(&pairs.join(","))
}

// --- RFC 3339 ------------------------------------------------------------------------------

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Parses an RFC 3339 timestamp into nanoseconds since the Unix epoch.
///
/// Returns `None` for malformed input and for Go's zero time (`0001-01-01T00:00:00Z`), which
/// Kubernetes treats as unset.
fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter().try_fold(0i64, |acc, d| acc.checked_mul(10)?.checked_add(i64::from(d - b'0')))
    };
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    let hour = digits(11..13)?;
    let minute = digits(14..16)?;
    let second = digits(17..19)?;
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &b[start..i];
        for pos in 0..9 {
            nanos = nanos * 10 + frac.get(pos).map_or(0, |d| i128::from(d - b'0'));
        }
    }
    let offset_secs: i64 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let oh = digits(i + 1..i + 3)?;
            let om = digits(i + 4..i + 6)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    let total = i128::from(secs) * NANOS_PER_SEC + nanos;
    let go_zero_time = i128::from(days_from_civil(1, 1, 1) * 86_400) * NANOS_PER_SEC;
    (total != go_zero_time).then_some(total)
}

// --- per-kind cells ------------------------------------------------------------------------

/// Cells of every kind but Pod (which also yields row conditions, see [`pod_cells`]).
fn cells(kind: &str, obj: &Value, now: i128) -> Vec<Value> {
    match kind {
        "Namespace" => vec![name(obj), Value::from(text(obj, &["status", "phase"])), age(obj, now)],
        "Node" => node_cells(obj, now),
        "Service" => service_cells(obj, now),
        "Endpoints" => vec![name(obj), Value::from(format_endpoints(obj)), age(obj, now)],
        "ConfigMap" => {
            let data = entries(obj, &["data"]).saturating_add(entries(obj, &["binaryData"]));
            vec![name(obj), Value::from(data), age(obj, now)]
        }
        "Secret" => {
            vec![name(obj), Value::from(text(obj, &["type"])), Value::from(entries(obj, &["data"])), age(obj, now)]
        }
        "ServiceAccount" => vec![name(obj), Value::from(entries(obj, &["secrets"])), age(obj, now)],
        "Event" => event_cells(obj, now),
        "Deployment" => deployment_cells(obj, now),
        "ReplicaSet" => {
            let template = at(obj, &["spec", "template", "spec"]).unwrap_or(&Value::Null);
            let (containers, images) = containers_and_images(template);
            vec![
                name(obj),
                Value::from(integer(obj, &["spec", "replicas"]).unwrap_or(1)),
                Value::from(integer(obj, &["status", "replicas"]).unwrap_or(0)),
                Value::from(integer(obj, &["status", "readyReplicas"]).unwrap_or(0)),
                age(obj, now),
                containers,
                images,
                Value::from(format_label_selector(at(obj, &["spec", "selector"]))),
            ]
        }
        "Job" => job_cells(obj, now),
        "CronJob" => cron_job_cells(obj, now),
        "Lease" => vec![name(obj), Value::from(text(obj, &["spec", "holderIdentity"])), age(obj, now)],
        _ => vec![name(obj), age(obj, now)],
    }
}

fn pod_cells(pod: &Value, now: i128) -> (Vec<Value>, Option<Value>) {
    let phase = text(pod, &["status", "phase"]);
    let status_reason = text(pod, &["status", "reason"]);
    let mut reason = if status_reason.is_empty() { phase.to_string() } else { status_reason.to_string() };
    let conditions = list(pod, &["status", "conditions"]);
    if conditions.iter().any(|c| text(c, &["type"]) == "PodScheduled" && text(c, &["reason"]) == "SchedulingGated") {
        reason = "SchedulingGated".to_string();
    }
    let row_conditions = match phase {
        "Succeeded" => Some(json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                                    "message": "The pod has completed successfully."}])),
        "Failed" => Some(json!([{"type": "Completed", "status": "True", "reason": "Failed",
                                 "message": "The pod failed."}])),
        _ => None,
    };

    let init_specs = list(pod, &["spec", "initContainers"]);
    let is_sidecar = |c: &Value| text(c, &["restartPolicy"]) == "Always";
    let sidecars: BTreeSet<&str> = init_specs.iter().filter(|c| is_sidecar(c)).map(|c| text(c, &["name"])).collect();
    let total = list(pod, &["spec", "containers"]).len() + init_specs.iter().filter(|c| is_sidecar(c)).count();

    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut last_restart: Option<i128> = None;
    let mut last_sidecar_restart: Option<i128> = None;
    let mut ready = 0usize;
    let mut initializing = false;
    for (i, status) in list(pod, &["status", "initContainerStatuses"]).iter().enumerate() {
        let count = integer(status, &["restartCount"]).unwrap_or(0);
        let finished = time(status, &["lastState", "terminated", "finishedAt"]);
        restarts = restarts.saturating_add(count);
        last_restart = last_restart.max(finished);
        let sidecar = sidecars.contains(text(status, &["name"]));
        if sidecar {
            sidecar_restarts = sidecar_restarts.saturating_add(count);
            last_sidecar_restart = last_sidecar_restart.max(finished);
        }
        let terminated = object(status, &["state", "terminated"]);
        if terminated.is_some_and(|t| integer(t, &["exitCode"]).unwrap_or(0) == 0) {
            continue;
        }
        if sidecar && flag(status, &["started"]) == Some(true) {
            if flag(status, &["ready"]) == Some(true) {
                ready += 1;
            }
            continue;
        }
        let waiting = text(status, &["state", "waiting", "reason"]);
        reason = if let Some(t) = terminated {
            match text(t, &["reason"]) {
                "" => match integer(t, &["signal"]).unwrap_or(0) {
                    0 => format!("Init:ExitCode:{}", integer(t, &["exitCode"]).unwrap_or(0)),
                    signal => format!("Init:Signal:{signal}"),
                },
                r => format!("Init:{r}"),
            }
        } else if !waiting.is_empty() && waiting != "PodInitializing" {
            format!("Init:{waiting}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    let initialized = conditions.iter().find(|c| text(c, &["type"]) == "Initialized").is_some_and(is_true);
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for status in list(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts = restarts.saturating_add(integer(status, &["restartCount"]).unwrap_or(0));
            last_restart = last_restart.max(time(status, &["lastState", "terminated", "finishedAt"]));
            let waiting = text(status, &["state", "waiting", "reason"]);
            let terminated = object(status, &["state", "terminated"]);
            if object(status, &["state", "waiting"]).is_some() && !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                reason = match text(t, &["reason"]) {
                    "" => match integer(t, &["signal"]).unwrap_or(0) {
                        0 => format!("ExitCode:{}", integer(t, &["exitCode"]).unwrap_or(0)),
                        signal => format!("Signal:{signal}"),
                    },
                    r => r.to_string(),
                };
            } else if flag(status, &["ready"]) == Some(true) && object(status, &["state", "running"]).is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions.iter().any(|c| text(c, &["type"]) == "Ready" && is_true(c));
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }

    if at(pod, &["metadata", "deletionTimestamp"]).is_some() {
        if status_reason == "NodeLost" {
            reason = "Unknown".to_string();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".to_string();
        }
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };

    let pod_ip = list(pod, &["status", "podIPs"])
        .first()
        .map(|ip| text(ip, &["ip"]))
        .unwrap_or_else(|| text(pod, &["status", "podIP"]));
    let gates = list(pod, &["spec", "readinessGates"]);
    let gates_cell = if gates.is_empty() {
        NONE.to_string()
    } else {
        let passed = gates
            .iter()
            .filter(|gate| {
                let wanted = text(gate, &["conditionType"]);
                conditions.iter().find(|c| text(c, &["type"]) == wanted).is_some_and(is_true)
            })
            .count();
        format!("{passed}/{}", gates.len())
    };

    let cells = vec![
        name(pod),
        Value::from(format!("{ready}/{total}")),
        Value::from(reason),
        Value::from(restarts_cell),
        age(pod, now),
        Value::from(or_none(pod_ip)),
        Value::from(or_none(text(pod, &["spec", "nodeName"]))),
        Value::from(or_none(text(pod, &["status", "nominatedNodeName"]))),
        Value::from(gates_cell),
    ];
    (cells, row_conditions)
}

fn is_true(condition: &Value) -> bool {
    text(condition, &["status"]) == "True"
}

fn node_cells(node: &Value, now: i128) -> Vec<Value> {
    // Kubernetes keys conditions by type, so a repeated type is decided by its last entry.
    let ready = list(node, &["status", "conditions"]).iter().rev().find(|c| text(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if is_true(c) => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if flag(node, &["spec", "unschedulable"]) == Some(true) {
        status.push("SchedulingDisabled");
    }

    let mut roles = BTreeSet::new();
    if let Some(Value::Object(labels)) = at(node, &["metadata", "labels"]) {
        for (key, value) in labels {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if key == "kubernetes.io/role" {
                if let Some(role) = value.as_str().filter(|r| !r.is_empty()) {
                    roles.insert(role.to_string());
                }
            }
        }
    }
    let roles = roles.into_iter().collect::<Vec<_>>().join(",");

    let address = |kind: &str| {
        list(node, &["status", "addresses"])
            .iter()
            .find(|a| text(a, &["type"]) == kind)
            .map_or_else(|| NONE.to_string(), |a| text(a, &["address"]).to_string())
    };
    let info = |field: &str| match text(node, &["status", "nodeInfo", field]) {
        "" => UNKNOWN.to_string(),
        v => v.to_string(),
    };
    vec![
        name(node),
        Value::from(status.join(",")),
        Value::from(or_none(&roles)),
        age(node, now),
        Value::from(text(node, &["status", "nodeInfo", "kubeletVersion"])),
        Value::from(address("InternalIP")),
        Value::from(address("ExternalIP")),
        Value::from(info("osImage")),
        Value::from(info("kernelVersion")),
        Value::from(info("containerRuntimeVersion")),
    ]
}

fn service_cells(svc: &Value, now: i128) -> Vec<Value> {
    // The API server defaults an unset type to ClusterIP.
    let svc_type = match text(svc, &["spec", "type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = match list(svc, &["spec", "clusterIPs"]).first() {
        Some(ip) => ip.as_str().unwrap_or("").to_string(),
        None => or_none(text(svc, &["spec", "clusterIP"])),
    };
    let external_ips: Vec<&str> = list(svc, &["spec", "externalIPs"]).iter().filter_map(Value::as_str).collect();
    let external = match svc_type {
        "ClusterIP" | "NodePort" => or_none(&external_ips.join(",")),
        "LoadBalancer" => {
            let ingress: BTreeSet<&str> = list(svc, &["status", "loadBalancer", "ingress"])
                .iter()
                .filter_map(|i| match (text(i, &["ip"]), text(i, &["hostname"])) {
                    ("", "") => None,
                    ("", host) => Some(host),
                    (ip, _) => Some(ip),
                })
                .collect();
            let mut all: Vec<&str> = ingress.into_iter().collect();
            all.extend(external_ips);
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => text(svc, &["spec", "externalName"]).to_string(),
        _ => UNKNOWN.to_string(),
    };
    let ports: Vec<String> = list(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = integer(p, &["port"]).unwrap_or(0);
            let protocol = match text(p, &["protocol"]) {
                "" => "TCP",
                proto => proto,
            };
            match integer(p, &["nodePort"]).unwrap_or(0) {
                node_port if node_port > 0 => format!("{port}:{node_port}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    vec![
        name(svc),
        Value::from(svc_type),
        Value::from(cluster_ip),
        Value::from(external),
        Value::from(or_none(&ports.join(","))),
        age(svc, now),
        Value::from(format_labels(at(svc, &["spec", "selector"]))),
    ]
}

fn format_endpoints(ep: &Value) -> String {
    const MAX: usize = 3;
    let subsets = list(ep, &["subsets"]);
    if subsets.is_empty() {
        return NONE.to_string();
    }
    let mut shown: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for subset in subsets {
        let addresses = list(subset, &["addresses"]);
        let ports = list(subset, &["ports"]);
        // A headless service may have no ports: list bare addresses.
        let port_numbers: Vec<Option<i64>> = if ports.is_empty() {
            vec![None]
        } else {
            ports.iter().map(|p| Some(integer(p, &["port"]).unwrap_or(0))).collect()
        };
        for port in port_numbers {
            count += addresses.len();
            for address in addresses {
                if shown.len() == MAX {
                    more = true;
                    break;
                }
                let ip = text(address, &["ip"]);
                shown.push(match port {
                    None => ip.to_string(),
                    Some(port) if ip.contains(':') => format!("[{ip}]:{port}"),
                    Some(port) => format!("{ip}:{port}"),
                });
            }
        }
    }
    let joined = shown.join(",");
    if more {
        format!("{joined} + {} more...", count.saturating_sub(MAX))
    } else {
        joined
    }
}

fn event_cells(ev: &Value, now: i128) -> Vec<Value> {
    let first_seen = match time(ev, &["firstTimestamp"]) {
        Some(t) => since(Some(t), now),
        None => since(time(ev, &["eventTime"]), now),
    };
    let mut last_seen = match time(ev, &["lastTimestamp"]) {
        Some(t) => since(Some(t), now),
        None => first_seen.clone(),
    };
    let mut count = integer(ev, &["count"]).unwrap_or(0);
    if let Some(series) = object(ev, &["series"]) {
        last_seen = since(time(series, &["lastObservedTime"]), now);
        count = integer(series, &["count"]).unwrap_or(0);
    } else if count == 0 {
        count = 1;
    }
    let kind = text(ev, &["involvedObject", "kind"]).to_lowercase();
    let target = match text(ev, &["involvedObject", "name"]) {
        "" => kind,
        object_name => format!("{kind}/{object_name}"),
    };
    let first_non_empty = |a: &str, b: &str| if a.is_empty() { b.to_string() } else { a.to_string() };
    let component = first_non_empty(text(ev, &["source", "component"]), text(ev, &["reportingComponent"]));
    let instance = first_non_empty(text(ev, &["source", "host"]), text(ev, &["reportingInstance"]));
    let source = if instance.is_empty() { component } else { format!("{component}, {instance}") };
    vec![
        Value::from(last_seen),
        Value::from(text(ev, &["type"])),
        Value::from(text(ev, &["reason"])),
        Value::from(target),
        Value::from(text(ev, &["involvedObject", "fieldPath"])),
        Value::from(source),
        Value::from(text(ev, &["message"]).trim()),
        Value::from(first_seen),
        Value::from(count),
        name(ev),
    ]
}

fn deployment_cells(deploy: &Value, now: i128) -> Vec<Value> {
    let desired = integer(deploy, &["spec", "replicas"]).unwrap_or(1);
    let ready = integer(deploy, &["status", "readyReplicas"]).unwrap_or(0);
    let template = at(deploy, &["spec", "template", "spec"]).unwrap_or(&Value::Null);
    let (containers, images) = containers_and_images(template);
    let selector = match LabelSelector::from_object(at(deploy, &["spec", "selector"]).unwrap_or(&Value::Null)) {
        Ok(s) => s.to_string(),
        Err(_) => "<invalid>".to_string(),
    };
    vec![
        name(deploy),
        Value::from(format!("{ready}/{desired}")),
        Value::from(integer(deploy, &["status", "updatedReplicas"]).unwrap_or(0)),
        Value::from(integer(deploy, &["status", "availableReplicas"]).unwrap_or(0)),
        age(deploy, now),
        containers,
        images,
        Value::from(selector),
    ]
}

fn job_cells(job: &Value, now: i128) -> Vec<Value> {
    let succeeded = integer(job, &["status", "succeeded"]).unwrap_or(0);
    let completions = match integer(job, &["spec", "completions"]) {
        Some(wanted) => format!("{succeeded}/{wanted}"),
        None => match integer(job, &["spec", "parallelism"]).unwrap_or(0) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (time(job, &["status", "startTime"]), time(job, &["status", "completionTime"])) {
        (None, _) => String::new(),
        (Some(start), None) => human_nanos(now - start),
        (Some(start), Some(end)) => human_nanos(end - start),
    };
    // The first condition of a type decides, as in Kubernetes.
    let has = |kind: &str| {
        list(job, &["status", "conditions"]).iter().find(|c| text(c, &["type"]) == kind).is_some_and(is_true)
    };
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if at(job, &["metadata", "deletionTimestamp"]).is_some() {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let template = at(job, &["spec", "template", "spec"]).unwrap_or(&Value::Null);
    let (containers, images) = containers_and_images(template);
    vec![
        name(job),
        Value::from(status),
        Value::from(completions),
        Value::from(duration),
        age(job, now),
        containers,
        images,
        Value::from(format_label_selector(at(job, &["spec", "selector"]))),
    ]
}

fn cron_job_cells(cj: &Value, now: i128) -> Vec<Value> {
    let last_schedule = match time(cj, &["status", "lastScheduleTime"]) {
        Some(t) => since(Some(t), now),
        None => NONE.to_string(),
    };
    let suspend = match flag(cj, &["spec", "suspend"]) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let job_spec = at(cj, &["spec", "jobTemplate", "spec"]).unwrap_or(&Value::Null);
    let template = at(job_spec, &["template", "spec"]).unwrap_or(&Value::Null);
    let (containers, images) = containers_and_images(template);
    vec![
        name(cj),
        Value::from(text(cj, &["spec", "schedule"])),
        Value::from(or_none(text(cj, &["spec", "timeZone"]))),
        Value::from(suspend),
        Value::from(entries(cj, &["status", "active"])),
        Value::from(last_schedule),
        age(cj, now),
        containers,
        images,
        Value::from(format_label_selector(at(job_spec, &["selector"]))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T19:35:00Z
    const NOW: i64 = 1_795_548_900;

    fn cells_of(kind: &str, obj: &Value) -> Vec<Value> {
        match row(kind, obj, NOW).get("cells") {
            Some(Value::Array(cells)) => cells.clone(),
            other => panic!("row without cells: {other:?}"),
        }
    }

    fn strs(values: &[Value]) -> Vec<String> {
        values.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect()
    }

    #[test]
    fn now_constant_is_the_documented_instant() {
        assert_eq!(parse_rfc3339("2026-11-24T19:35:00Z"), Some(i128::from(NOW) * NANOS_PER_SEC));
    }

    #[test]
    fn human_duration_matches_kubernetes() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (599, "9m59s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (5 * 3600 + 60 * 7, "5h7m"),
            (8 * 3600 + 59 * 60, "8h"),
            (47 * 3600, "47h"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (7 * 86400, "7d"),
            (8 * 86400, "8d"),
            (45 * 86400, "45d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (800 * 86400, "2y70d"),
            (8 * 365 * 86400, "8y"),
            (20 * 365 * 86400, "20y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
        assert_eq!(human_duration(i64::MAX), format!("{}y", i64::MAX / 86400 / 365));
    }

    #[test]
    fn rfc3339_parsing() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:00:00-01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.123456Z"), Some(123_456_000));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800 * NANOS_PER_SEC));
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00Zjunk",
            "0001-01-01T00:00:00Z",
            "２０２４-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    fn running_pod() -> Value {
        json!({
            "metadata": {"name": "web-7d4b9", "namespace": "default", "creationTimestamp": "2026-11-24T19:30:00Z",
                         "labels": {"app": "web"}, "resourceVersion": "42"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "nginx:1.27"}]},
            "status": {
                "phase": "Running",
                "podIP": "10.244.0.5",
                "podIPs": [{"ip": "10.244.0.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0,
                                       "state": {"running": {"startedAt": "2026-11-24T19:30:05Z"}}}]
            }
        })
    }

    #[test]
    fn running_pod_row() {
        let r = row("Pod", &running_pod(), NOW);
        assert_eq!(
            strs(r["cells"].as_array().map(Vec::as_slice).unwrap_or_default()),
            ["web-7d4b9", "1/1", "Running", "0", "5m", "10.244.0.5", "node-1", "<none>", "<none>"]
        );
        assert_eq!(r["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(r["object"]["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(r["object"]["metadata"]["resourceVersion"], "42");
        assert!(r.get("conditions").is_none());
    }

    #[test]
    fn terminating_pod() {
        let mut pod = running_pod();
        pod["metadata"]["deletionTimestamp"] = json!("2026-11-24T19:34:30Z");
        assert_eq!(cells_of("Pod", &pod)[2], "Terminating");
        // Terminal pods keep their phase while being deleted.
        pod["status"]["phase"] = json!("Succeeded");
        pod["status"]["containerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
        assert_eq!(cells_of("Pod", &pod)[2], "Completed");
        // Pods on a lost node show Unknown.
        pod["status"]["phase"] = json!("Running");
        pod["status"]["reason"] = json!("NodeLost");
        pod["status"]["containerStatuses"][0]["state"] = json!({"running": {}});
        assert_eq!(cells_of("Pod", &pod)[2], "Unknown");
    }

    #[test]
    fn container_creating_pod() {
        let pod = json!({
            "metadata": {"name": "db-0", "creationTimestamp": "2026-11-24T19:34:50Z"},
            "spec": {"containers": [{"name": "db"}, {"name": "exporter"}]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": "db", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}},
                {"name": "exporter", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "ContainerCreating"}}}
            ]}
        });
        assert_eq!(
            strs(&cells_of("Pod", &pod)),
            ["db-0", "0/2", "ContainerCreating", "0", "10s", "<none>", "<none>", "<none>", "<none>"]
        );
        let pending = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
                             "status": {"phase": "Pending"}});
        assert_eq!(strs(&cells_of("Pod", &pending))[..5], ["p", "0/1", "Pending", "0", "<unknown>"]);
    }

    #[test]
    fn completed_pod_has_row_condition() {
        let pod = json!({
            "metadata": {"name": "job-x", "creationTimestamp": "2026-11-24T18:35:00Z"},
            "spec": {"containers": [{"name": "main"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [
                {"name": "main", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2026-11-24T18:36:00Z"}}}
            ]}
        });
        let r = row("Pod", &pod, NOW);
        assert_eq!(
            strs(r["cells"].as_array().map(Vec::as_slice).unwrap_or_default())[..5],
            ["job-x", "0/1", "Completed", "0", "60m"]
        );
        assert_eq!(r["conditions"][0]["type"], "Completed");
        assert_eq!(r["conditions"][0]["reason"], "Succeeded");
        let mut failed = pod.clone();
        failed["status"]["phase"] = json!("Failed");
        failed["status"]["containerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 137}});
        let r = row("Pod", &failed, NOW);
        assert_eq!(r["cells"][2], "ExitCode:137");
        assert_eq!(r["conditions"][0]["reason"], "Failed");
        failed["status"]["containerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 0, "signal": 9}});
        assert_eq!(cells_of("Pod", &failed)[2], "Signal:9");
    }

    #[test]
    fn restarts_with_last_restart_time() {
        let mut pod = running_pod();
        pod["status"]["containerStatuses"][0]["restartCount"] = json!(3);
        pod["status"]["containerStatuses"][0]["lastState"] =
            json!({"terminated": {"exitCode": 1, "finishedAt": "2026-11-24T19:30:00Z"}});
        assert_eq!(cells_of("Pod", &pod)[3], "3 (5m ago)");
        // Without a termination time only the count is shown.
        pod["status"]["containerStatuses"][0]["lastState"] = json!({});
        assert_eq!(cells_of("Pod", &pod)[3], "3");
    }

    #[test]
    fn crash_loop_and_completed_with_running_sibling() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {"name": "a", "ready": false, "restartCount": 4,
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
                    {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}
                ]}
        });
        assert_eq!(strs(&cells_of("Pod", &pod))[1..4], ["1/2", "CrashLoopBackOff", "4"]);
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {"name": "a", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "b", "ready": true, "state": {"running": {}}}
                ]}
        });
        assert_eq!(cells_of("Pod", &pod)[2], "NotReady");
    }

    #[test]
    fn init_container_states() {
        let base = |statuses: Value| {
            json!({
                "metadata": {"name": "p"},
                "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "c"}]},
                "status": {"phase": "Pending", "initContainerStatuses": statuses,
                           "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "PodInitializing"}}}]}
            })
        };
        let pod = base(json!([
            {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
            {"name": "i2", "state": {"running": {}}}
        ]));
        assert_eq!(cells_of("Pod", &pod)[2], "Init:1/2");
        let pod =
            base(json!([{"name": "i1", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]));
        assert_eq!(strs(&cells_of("Pod", &pod))[1..4], ["0/1", "Init:CrashLoopBackOff", "2"]);
        let pod = base(json!([{"name": "i1", "state": {"terminated": {"exitCode": 2}}}]));
        assert_eq!(cells_of("Pod", &pod)[2], "Init:ExitCode:2");
        let pod = base(json!([{"name": "i1", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]));
        assert_eq!(cells_of("Pod", &pod)[2], "Init:Error");
        let pod = base(json!([{"name": "i1", "state": {"waiting": {"reason": "PodInitializing"}}}]));
        assert_eq!(cells_of("Pod", &pod)[2], "Init:0/2");
    }

    #[test]
    fn sidecar_init_containers_count_as_containers() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true, "restartCount": 1,
                                           "state": {"running": {}}}],
                "containerStatuses": [{"name": "c", "ready": true, "restartCount": 2, "state": {"running": {}}}]}
        });
        assert_eq!(strs(&cells_of("Pod", &pod))[1..4], ["2/2", "Running", "3"]);
    }

    #[test]
    fn scheduling_gated_and_readiness_gates() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c"}],
                     "readinessGates": [{"conditionType": "lb/ready"}, {"conditionType": "x/ok"}]},
            "status": {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"},
                {"type": "lb/ready", "status": "True"}
            ]}
        });
        let cells = strs(&cells_of("Pod", &pod));
        assert_eq!(cells[2], "SchedulingGated");
        assert_eq!(cells[8], "1/2");
    }

    #[test]
    fn deployment_row() {
        let deploy = json!({
            "metadata": {"name": "web", "creationTimestamp": "2026-11-22T16:35:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"},
                                                          {"name": "log", "image": "busybox"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        let cells = cells_of("Deployment", &deploy);
        assert_eq!(
            cells,
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("2d3h"),
                json!("web,log"),
                json!("nginx:1.27,busybox"),
                json!("app=web")
            ]
        );
        let bare = json!({"metadata": {"name": "d"}});
        assert_eq!(strs(&cells_of("Deployment", &bare)), ["d", "0/1", "0", "0", "<unknown>", "", "", ""]);
        let bad = json!({"spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Nope"}]}}});
        assert_eq!(cells_of("Deployment", &bad)[7], "<invalid>");
    }

    #[test]
    fn services() {
        let cluster_ip = json!({
            "metadata": {"name": "web", "creationTimestamp": "2026-11-24T19:35:00Z"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                     "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}],
                     "selector": {"tier": "front", "app": "web"}}
        });
        assert_eq!(
            strs(&cells_of("Service", &cluster_ip)),
            ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,443/TCP", "0s", "app=web,tier=front"]
        );
        let node_port = json!({
            "metadata": {"name": "np"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.1.1",
                     "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}
        });
        assert_eq!(
            strs(&cells_of("Service", &node_port))[1..5],
            ["NodePort", "10.96.1.1", "<none>", "80:30080/TCP,53/UDP"]
        );
        let lb = json!({
            "metadata": {"name": "lb"},
            "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.2.2"], "externalIPs": ["1.1.1.1"]},
            "status": {"loadBalancer": {"ingress": [
                {"ip": "5.6.7.8"}, {"hostname": "lb.example.com"}, {"ip": "5.6.7.8"}
            ]}}
        });
        assert_eq!(cells_of("Service", &lb)[3], "5.6.7.8,lb.example.com,1.1.1.1");
        assert_eq!(cells_of("Service", &lb)[4], "<none>");
        let pending = json!({"spec": {"type": "LoadBalancer"}});
        assert_eq!(cells_of("Service", &pending)[3], "<pending>");
        let ext = json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        assert_eq!(strs(&cells_of("Service", &ext))[1..4], ["ExternalName", "<none>", "db.example.com"]);
        let headless = json!({"spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        assert_eq!(strs(&cells_of("Service", &headless))[1..3], ["ClusterIP", "None"]);
    }

    #[test]
    fn nodes() {
        let node = json!({
            "metadata": {"name": "node-1", "creationTimestamp": "2026-10-10T19:35:00Z",
                         "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "",
                                    "kubernetes.io/role": "master", "other": "x"}},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "node-1"},
                              {"type": "InternalIP", "address": "192.168.1.10"}],
                "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0",
                             "containerRuntimeVersion": "containerd://1.7.0"}
            }
        });
        assert_eq!(
            strs(&cells_of("Node", &node)),
            [
                "node-1",
                "Ready,SchedulingDisabled",
                "control-plane,master",
                "45d",
                "v1.32.0",
                "192.168.1.10",
                "<none>",
                "Debian GNU/Linux 12",
                "6.1.0",
                "containerd://1.7.0"
            ]
        );
        let not_ready = json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        assert_eq!(strs(&cells_of("Node", &not_ready))[1..3], ["NotReady", "<none>"]);
        let bare = json!({"metadata": {"name": "n"}});
        assert_eq!(
            strs(&cells_of("Node", &bare))[1..],
            ["Unknown", "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]
        );
    }

    #[test]
    fn simple_kinds() {
        let ns = json!({"metadata": {"name": "kube-system", "creationTimestamp": "2026-11-24T14:35:00Z"},
                        "status": {"phase": "Active"}});
        assert_eq!(strs(&cells_of("Namespace", &ns)), ["kube-system", "Active", "5h"]);
        let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(cells_of("ConfigMap", &cm)[1], json!(3));
        let secret = json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"k": "dg=="}});
        assert_eq!(cells_of("Secret", &secret)[..3], [json!("s"), json!("Opaque"), json!(1)]);
        let sa = json!({"metadata": {"name": "default"}});
        assert_eq!(cells_of("ServiceAccount", &sa)[1], json!(0));
        let lease = json!({"metadata": {"name": "kube-scheduler"}, "spec": {"holderIdentity": "node-1_abc"}});
        assert_eq!(cells_of("Lease", &lease)[1], "node-1_abc");
        let other = json!({"metadata": {"name": "x", "creationTimestamp": "2026-11-24T19:34:00Z"}});
        assert_eq!(strs(&cells_of("Widget", &other)), ["x", "60s"]);
    }

    #[test]
    fn endpoints() {
        let ep = json!({"metadata": {"name": "web"}, "subsets": [{
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
            "ports": [{"port": 80}, {"port": 443}]
        }]});
        assert_eq!(cells_of("Endpoints", &ep)[1], "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...");
        let v6 = json!({"subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 53}]}]});
        assert_eq!(cells_of("Endpoints", &v6)[1], "[fd00::1]:53");
        let headless = json!({"subsets": [{"addresses": [{"ip": "10.0.0.3"}]}]});
        assert_eq!(cells_of("Endpoints", &headless)[1], "10.0.0.3");
        assert_eq!(cells_of("Endpoints", &json!({}))[1], "<none>");
    }

    #[test]
    fn events() {
        let ev = json!({
            "metadata": {"name": "web.17a"},
            "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{web}"},
            "type": "Normal", "reason": "Pulled", "message": "  Pulled image \"nginx\"\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2026-11-24T19:25:00Z", "lastTimestamp": "2026-11-24T19:34:00Z", "count": 4
        });
        assert_eq!(
            cells_of("Event", &ev),
            vec![
                json!("60s"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web"),
                json!("spec.containers{web}"),
                json!("kubelet, node-1"),
                json!("Pulled image \"nginx\""),
                json!("10m"),
                json!(4),
                json!("web.17a")
            ]
        );
        let new_api = json!({
            "metadata": {"name": "e"}, "involvedObject": {"kind": "Node"},
            "eventTime": "2026-11-24T19:34:59.123456Z", "reportingComponent": "scheduler",
            "series": {"count": 7, "lastObservedTime": "2026-11-24T19:34:30.000000Z"}
        });
        let cells = cells_of("Event", &new_api);
        assert_eq!(strs(&cells)[..8], ["30s", "", "", "node", "", "scheduler", "", "0s"]);
        assert_eq!(cells[8], json!(7));
        let singleton = json!({"metadata": {"name": "e"}});
        assert_eq!(strs(&cells_of("Event", &singleton)), ["<unknown>", "", "", "", "", "", "", "<unknown>", "1", "e"]);
    }

    #[test]
    fn replica_sets_jobs_and_cron_jobs() {
        let rs = json!({
            "metadata": {"name": "web-7d4b9"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
            "status": {"replicas": 3, "readyReplicas": 1}
        });
        assert_eq!(
            cells_of("ReplicaSet", &rs),
            vec![
                json!("web-7d4b9"),
                json!(3),
                json!(3),
                json!(1),
                json!("<unknown>"),
                json!("web"),
                json!("nginx"),
                json!("app=web,pod-template-hash=7d4b9")
            ]
        );
        let job = json!({
            "metadata": {"name": "pi", "creationTimestamp": "2026-11-24T19:00:00Z"},
            "spec": {"completions": 3, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
                     "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
            "status": {"succeeded": 3, "startTime": "2026-11-24T19:00:00Z", "completionTime": "2026-11-24T19:01:10Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}
        });
        assert_eq!(
            strs(&cells_of("Job", &job)),
            ["pi", "Complete", "3/3", "70s", "35m", "pi", "perl", "batch.kubernetes.io/controller-uid=u1"]
        );
        let running = json!({"spec": {"parallelism": 2}, "status": {"startTime": "2026-11-24T19:34:00Z"}});
        assert_eq!(strs(&cells_of("Job", &running))[1..4], ["Running", "0/1 of 2", "60s"]);
        let failed = json!({"metadata": {"deletionTimestamp": "2026-11-24T19:34:00Z"},
                            "status": {"conditions": [{"type": "Failed", "status": "True"}]}});
        assert_eq!(strs(&cells_of("Job", &failed))[1..4], ["Failed", "0/1", ""]);
        let suspended = json!({"status": {"conditions": [{"type": "Suspended", "status": "True"}]}});
        assert_eq!(cells_of("Job", &suspended)[1], "Suspended");
        assert_eq!(cells_of("Job", &json!({}))[7], "<none>");

        let cj = json!({
            "metadata": {"name": "nightly", "creationTimestamp": "2026-11-20T19:35:00Z"},
            "spec": {"schedule": "0 3 * * *", "suspend": false, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "backup", "image": "restic"}]}}}}},
            "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": "2026-11-24T19:30:00Z"}
        });
        assert_eq!(
            cells_of("CronJob", &cj),
            vec![
                json!("nightly"),
                json!("0 3 * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("5m"),
                json!("4d"),
                json!("backup"),
                json!("restic"),
                json!("<none>")
            ]
        );
        let bare = json!({"spec": {"timeZone": "Etc/UTC"}});
        assert_eq!(strs(&cells_of("CronJob", &bare))[2..6], ["Etc/UTC", "<unset>", "0", "<none>"]);
    }

    #[test]
    fn every_kind_has_one_cell_per_column() {
        let kinds = [
            "Namespace",
            "Node",
            "Pod",
            "Service",
            "Endpoints",
            "ConfigMap",
            "Secret",
            "Event",
            "ServiceAccount",
            "Deployment",
            "ReplicaSet",
            "Job",
            "CronJob",
            "Lease",
            "Unknown",
        ];
        let odd_inputs = [
            json!(null),
            json!([]),
            json!("pod"),
            json!({"metadata": null, "spec": 5, "status": []}),
            json!({"metadata": {"name": 3, "creationTimestamp": 7},
                   "spec": {"containers": "x", "replicas": "3", "ports": [null, 1, {"port": "80"}]},
                   "status": {"containerStatuses": [null, {"state": {"terminated": null}}],
                              "initContainerStatuses": [{"state": "x"}], "conditions": {}}}),
        ];
        for kind in kinds {
            let width = columns(kind).len();
            for obj in &odd_inputs {
                assert_eq!(cells_of(kind, obj).len(), width, "{kind} with {obj}");
            }
        }
    }

    #[test]
    fn column_definitions() {
        let cols = columns("Pod");
        let names: Vec<&str> = cols.iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(
            names,
            ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]
        );
        assert_eq!(cols[0]["format"], "name");
        assert_eq!(cols[0]["priority"], 0);
        assert_eq!(cols[5]["priority"], 1);
        assert!(cols.iter().all(|c| c.as_object().is_some_and(|o| o.len() == 5)));
        let wide: Vec<String> = columns("Deployment")
            .into_iter()
            .filter(|c| c["priority"] == 1)
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect();
        assert_eq!(wide, ["Containers", "Images", "Selector"]);
        let event_names: Vec<String> = columns("Event").iter().map(|c| c["name"].to_string()).collect();
        assert_eq!(event_names.first().map(String::as_str), Some("\"Last Seen\""));
        assert_eq!(columns("Event")[9]["format"], "name");
        assert_eq!(columns("Whatever").len(), 2);
    }

    #[test]
    fn whole_table() {
        let t = table("Pod", &[running_pod()], "1234", Some("tok"), true, NOW);
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"], json!({"resourceVersion": "1234", "continue": "tok"}));
        assert_eq!(t["columnDefinitions"].as_array().map(Vec::len), Some(9));
        assert_eq!(t["rows"][0]["cells"][2], "Running");
        let t = table("Pod", &[], "7", Some(""), false, NOW);
        assert_eq!(t["metadata"], json!({"resourceVersion": "7"}));
        assert_eq!(t["columnDefinitions"], json!([]));
        assert_eq!(t["rows"], json!([]));
        let t = table("Pod", &[json!(42)], "7", None, false, NOW);
        assert_eq!(t["rows"][0]["object"]["metadata"], json!({}));
    }
}
