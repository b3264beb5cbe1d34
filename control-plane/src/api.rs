//! The HTTP API of a replica: `/version` (kubectl's dispatcher picks its
//! kubectl 1.32 from it), `/healthz`, `/livez`, `/readyz`, API discovery
//! (aggregated v2 and legacy), OpenAPI v3, and the resources ([`crate::rest`]).
//!
//! Guarantees: `/readyz` answers 200 only when this replica can serve a
//! linearizable read right now (a read index confirmed by a quorum) and the
//! bootstrap objects (namespace `default`) are in its store, and 503
//! within two seconds when it cannot (no leader, no quorum) — it never hangs.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;

use crate::error::ApiError;
use crate::rest::{self, discovery, respond};
use crate::server::ApiServer;

/// The Kubernetes version this API server reports.
pub const KUBE_MINOR: &str = "32";

/// The router of a replica's API.
pub fn router(api: ApiServer) -> Router {
    let rest = Router::new()
        .route("/version", get(version))
        .route("/healthz", get(live))
        .route("/livez", get(live))
        .route("/readyz", get(ready))
        .route("/api", get(api_core))
        .route("/apis", get(api_groups))
        .route("/api/v1/namespaces/{ns}/pods/{name}/log", get(rest::pod_io::log))
        .route("/api/v1/namespaces/{ns}/pods/{name}/exec", any(rest::pod_io::exec))
        .route("/api/{*rest}", any(rest::handle))
        .route("/apis/{*rest}", any(rest::handle))
        .route("/openapi/v3", get(openapi_index))
        .route("/openapi/v3/{*path}", get(openapi_group))
        .layer(DefaultBodyLimit::disable())
        .with_state(api.clone());
    grpc_routes(api).merge(rest).fallback(not_served)
}

/// The gRPC services, routed by their `/package.Service/Method` paths.
fn grpc_routes(api: ApiServer) -> Router {
    let store = api.objects.store().clone();
    tonic::service::Routes::new(proto::api::resources_server::ResourcesServer::new(
        crate::grpc::resources::ResourcesService::new(api.clone()),
    ))
    .add_service(proto::api::cluster_server::ClusterServer::new(crate::grpc::cluster::ClusterService::new(store)))
    .add_service(
        proto::agent::dispatcher_server::DispatcherServer::new(crate::dispatcher::DispatcherService::new(api))
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20),
    )
    .into_axum_router()
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

fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("as=APIGroupDiscoveryList"))
}

fn aggregated(body: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, discovery::AGGREGATED_V2)], Json(body)).into_response()
}

/// Core-group discovery.
async fn api_core(headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(discovery::aggregated(true));
    }
    Json(discovery::api_versions()).into_response()
}

/// Named-group discovery.
async fn api_groups(headers: HeaderMap) -> Response {
    if wants_aggregated(&headers) {
        return aggregated(discovery::aggregated(false));
    }
    Json(discovery::api_group_list()).into_response()
}

/// The OpenAPI documents, built once (they depend only on the kinds table).
fn openapi_docs() -> &'static (serde_json::Value, std::collections::HashMap<String, serde_json::Value>) {
    static DOCS: std::sync::OnceLock<(serde_json::Value, std::collections::HashMap<String, serde_json::Value>)> =
        std::sync::OnceLock::new();
    DOCS.get_or_init(|| {
        let res = rest::openapi::builtin_resources();
        let index = rest::openapi::index(res);
        let docs = index["paths"]
            .as_object()
            .map(|m| m.keys().filter_map(|p| Some((p.clone(), rest::openapi::group_document(res, p)?))).collect())
            .unwrap_or_default();
        (index, docs)
    })
}

async fn openapi_index() -> Response {
    Json(openapi_docs().0.clone()).into_response()
}

async fn openapi_group(Path(path): Path<String>) -> Response {
    match openapi_docs().1.get(path.trim_matches('/')) {
        Some(doc) => Json(doc).into_response(),
        None => respond::error(&ApiError::new(
            404,
            "NotFound",
            format!("no OpenAPI document for {path}; see /openapi/v3 for the list"),
        )),
    }
}

async fn live() -> &'static str {
    "ok"
}

async fn ready(State(api): State<ApiServer>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), api.objects.store().linearizable_barrier()).await {
        Ok(Ok(())) => {
            // Ready also means the bootstrap objects exist (as Kubernetes'
            // post-start hooks): clients may rely on namespace `default`.
            let ns = crate::registry::kinds::by_kind("v1", "Namespace").expect("the Namespace kind is registered");
            match api.get(ns, None, "default", Some("0")).await {
                Ok(_) => "ok".into_response(),
                Err(_) => {
                    respond::error(&ApiError::unavailable("bootstrap objects (namespace default) not created yet"))
                }
            }
        }
        Ok(Err(e)) => respond::error(&ApiError::unavailable(format!("store not ready: {e}"))),
        Err(_) => respond::error(&ApiError::unavailable("store not ready: no quorum within 2s")),
    }
}

async fn not_served(uri: Uri) -> Response {
    respond::error(&ApiError::new(
        404,
        "NotFound",
        format!("the server could not find the requested resource ({})", uri.path()),
    ))
}
