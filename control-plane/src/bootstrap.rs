//! Objects every cluster has: the namespaces `default`, `kube-system`,
//! `kube-public` and `kube-node-lease`, and a `default` ServiceAccount in
//! each. Every replica ensures them after start; creates are conditional,
//! so replicas racing each other (or a restart) never duplicate or
//! overwrite anything.

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::registry::kinds::by_kind;
use crate::server::{ApiServer, FieldValidation, WriteOptions};

/// The namespaces created at bootstrap.
pub const NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Ensure the bootstrap objects exist; retries until they do or `stop`.
pub async fn ensure(api: ApiServer, stop: CancellationToken) {
    let mut delay = Duration::from_millis(200);
    loop {
        match ensure_once(&api).await {
            Ok(()) => {
                tracing::info!("bootstrap objects present");
                return;
            }
            Err(e) => tracing::debug!(error = %e, "bootstrap not done yet; retrying"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

async fn ensure_once(api: &ApiServer) -> Result<(), crate::error::ApiError> {
    let ns_kind = by_kind("v1", "Namespace").ok_or_else(|| crate::error::ApiError::internal("no Namespace kind"))?;
    let sa_kind =
        by_kind("v1", "ServiceAccount").ok_or_else(|| crate::error::ApiError::internal("no ServiceAccount kind"))?;
    let opts = WriteOptions {
        field_validation: FieldValidation::Strict,
        field_manager: Some("helmsman-bootstrap".into()),
        ..Default::default()
    };
    for ns in NAMESPACES {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}});
        match api.create(ns_kind, None, body, &opts).await {
            Ok(_) => {}
            Err(e) if e.reason == "AlreadyExists" => {}
            Err(e) => return Err(e),
        }
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
        match api.create(sa_kind, Some(ns), sa, &opts).await {
            Ok(_) => {}
            Err(e) if e.reason == "AlreadyExists" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
