//! The HTTP API of a replica: `/version` (kubectl's dispatcher picks its
//! kubectl 1.32 from it), `/healthz`, `/livez`, `/readyz`, API discovery
//! (aggregated v2 and legacy; no resources yet), and Kubernetes `Status`
//! errors for everything not served yet.
//!
//! Guarantees: `/readyz` answers 200 only when this replica can serve a
//! linearizable read right now (a read index confirmed by a quorum), and 503
//! within two seconds when it cannot (no leader, no quorum) — it never hangs.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use raft_store::Store;
use serde_json::json;

/// The Kubernetes version this API server reports.
pub const KUBE_MINOR: &str = "32";

/// A Kubernetes `Status` error response.
pub fn status_error(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    (code, Json(body)).into_response()
}

/// The router of a replica's API.
pub fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/healthz", get(live))
        .route("/livez", get(live))
        .route("/readyz", get(ready))
        .route("/api", get(api_core))
        .route("/apis", get(api_groups))
        .route("/api/v1", get(api_v1))
        .fallback(not_served)
        .with_state(store)
}

async fn version() -> Json<serde_json::Value> {
    Json(json!({
        "major": "1",
        "minor": KUBE_MINOR,
        "gitVersion": format!("v1.{KUBE_MINOR}.0-helmsman"),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2026-11-24T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
    }))
}

/// Content type of aggregated discovery (kubectl rejects anything else).
pub const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("as=APIGroupDiscoveryList"))
}

fn aggregated(body: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, AGGREGATED_V2)], Json(body)).into_response()
}

/// Core-group discovery. No resources are served yet, so kubectl reports
/// `the server doesn't have a resource type ...` instead of failing discovery.
async fn api_core(headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": [{"metadata": {"name": ""}, "versions": [{"version": "v1", "freshness": "Current", "resources": []}]}],
        }));
    }
    Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }))
    .into_response()
}

/// Named-group discovery (none yet).
async fn api_groups(headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": [],
        }));
    }
    Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})).into_response()
}

/// Legacy core resource list (empty yet).
async fn api_v1() -> Json<serde_json::Value> {
    Json(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": []}))
}

async fn live() -> &'static str {
    "ok"
}

async fn ready(State(store): State<Arc<Store>>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), store.linearizable_barrier()).await {
        Ok(Ok(())) => "ok".into_response(),
        Ok(Err(e)) => {
            status_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", &format!("store not ready: {e}"))
        }
        Err(_) => {
            status_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "store not ready: no quorum within 2s")
        }
    }
}

async fn not_served(uri: Uri) -> Response {
    status_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!(
            "the server could not find the requested resource ({}); Helmsman serves no Kubernetes resources yet",
            uri.path()
        ),
    )
}
