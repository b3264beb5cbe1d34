//! `pods/{name}/log` and `pods/{name}/exec`: resolve the pod and its
//! container here, then stream through the tunnel of the pod's node agent
//! ([`crate::tunnel`]).
//!
//! Guarantees: the pod and container are checked before anything reaches
//! an agent, so a WebSocket exec and kubectl's SPDY fallback get the same
//! error (a Kubernetes `Status`); nothing runs for a rejected request.

use std::collections::HashMap;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::respond;
use crate::error::ApiError;
use crate::registry::kinds;
use crate::server::ApiServer;
use crate::tunnel::http::{self, PodTarget};
use crate::tunnel::TunnelError;

fn api_error(e: TunnelError) -> ApiError {
    ApiError::new(e.code(), e.reason(), e.to_string())
}

async fn target(api: &ApiServer, ns: &str, name: &str, container: Option<&str>) -> Result<PodTarget, ApiError> {
    let pods = kinds::by_kind("v1", "Pod").expect("the Pod kind is registered");
    let pod = api.get(pods, Some(ns), name, None).await?;
    PodTarget::from_pod(&pod.object, container).map_err(api_error)
}

/// `GET /api/v1/namespaces/{ns}/pods/{name}/log`.
pub async fn log(
    State(api): State<ApiServer>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let t = match target(&api, &ns, &name, q.get("container").map(String::as_str)).await {
        Ok(t) => t,
        Err(e) => return respond::error(&e),
    };
    match http::logs(&api.tunnels, t, &q).await {
        Ok(r) => r,
        Err(e) => respond::error(&api_error(e)),
    }
}

/// `GET` (WebSocket) or `POST` (SPDY, refused) `/api/v1/namespaces/{ns}/pods/{name}/exec`.
pub async fn exec(
    State(api): State<ApiServer>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let container = q.iter().find(|(k, _)| k == "container").map(|(_, v)| v.as_str());
    let t = match target(&api, &ns, &name, container).await {
        Ok(t) => t,
        Err(e) => return respond::error(&e),
    };
    match http::exec(&api.tunnels, t, &q, ws.ok()).await {
        Ok(r) => r,
        Err(e) => respond::error(&api_error(e)),
    }
}
