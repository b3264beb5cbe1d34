//! The Kubernetes REST gateway: `/api/v1/...` and `/apis/<group>/<version>/...`
//! onto the [`ApiServer`](crate::server::ApiServer) operations, with
//! discovery, OpenAPI, Tables, chunked watch streams and `Status` errors.
//!
//! Guarantee: every answer is either the object/list/table asked for or a
//! Kubernetes `Status` with a code and reason; bodies above 3 MiB are
//! refused with 413 before they are parsed.

pub mod body;
pub mod discovery;
pub mod openapi;
pub mod pod_io;
pub mod protobuf;
pub mod respond;
pub mod target;

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use serde_json::Value;

use crate::error::ApiError;
use crate::patch::PatchType;
use crate::registry::selector::{FieldSelector, LabelSelector};
use crate::server::delete::DeleteOptions;
use crate::server::{ApiServer, FieldValidation, ListOptions, Part, WriteOptions};
use respond::Format;
use target::Target;

/// The handler of every `/api/...` and `/apis/...` request.
pub async fn handle(
    State(api): State<ApiServer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let format = Format::from_headers(&headers);
    match dispatch(&api, &method, &uri, &headers, body, format).await {
        Ok(r) => r,
        Err(e) => respond::error(&e),
    }
}

fn list_options(kind: &crate::registry::Kind, q: &HashMap<String, String>) -> Result<ListOptions, ApiError> {
    let labels =
        match q.get("labelSelector").filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(LabelSelector::parse(s).map_err(|e| {
                ApiError::bad_request(format!("unable to parse requirement: labelSelector \"{s}\": {e}"))
            })?),
            None => None,
        };
    let fields = match q.get("fieldSelector").filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(
            FieldSelector::parse(kind.kind, s)
                .map_err(|e| ApiError::bad_request(format!("fieldSelector \"{s}\": {e}")))?,
        ),
        None => None,
    };
    let limit = match q.get("limit").filter(|s| !s.is_empty()) {
        Some(l) => l.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request(format!("limit: Invalid value: \"{l}\": must be a non-negative integer"))
        })?,
        None => 0,
    };
    let timeout_seconds = match q.get("timeoutSeconds").filter(|s| !s.is_empty()) {
        Some(t) => Some(t.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("timeoutSeconds: Invalid value: \"{t}\": must be a non-negative integer"))
        })?),
        None => None,
    };
    Ok(ListOptions {
        labels,
        fields,
        limit,
        continue_token: q.get("continue").cloned(),
        resource_version: q.get("resourceVersion").cloned(),
        resource_version_match: q.get("resourceVersionMatch").cloned(),
        bookmarks: q.get("allowWatchBookmarks").is_some_and(|v| v == "true" || v == "1"),
        timeout_seconds,
    })
}

fn write_options(q: &HashMap<String, String>, headers: &HeaderMap) -> Result<WriteOptions, ApiError> {
    let manager = match q.get("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) if m.len() > 128 => {
            return Err(ApiError::bad_request("fieldManager: Too long: must have at most 128 bytes"))
        }
        Some(m) => Some(m.clone()),
        None => headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.split('/').next().unwrap_or(ua).to_string())
            .filter(|s| !s.is_empty()),
    };
    let dry_run = match q.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            )))
        }
    };
    let force = match q.get("force").map(String::as_str) {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!("force: Invalid value: \"{other}\": must be true or false")))
        }
    };
    Ok(WriteOptions {
        field_validation: FieldValidation::parse(q.get("fieldValidation").map(String::as_str))?,
        field_manager: manager,
        dry_run,
        force,
    })
}

async fn dispatch(
    api: &ApiServer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    format: Format,
) -> Result<Response, ApiError> {
    let q = body::query(uri.query());
    let target = match target::parse(uri.path())? {
        target::Parsed::Discovery(v) => {
            return if *method == Method::GET {
                Ok(respond::json(200, &v, &[]))
            } else {
                Err(ApiError::method_not_allowed(uri.path()))
            }
        }
        target::Parsed::Object(t) => t,
    };
    let Target { kind, namespace, name, sub } = target;
    let ns = namespace.as_deref();
    let part = Part::parse(sub.as_deref()).ok_or_else(|| {
        ApiError::not_found(kind, &format!("{}/{}", name.as_deref().unwrap_or(""), sub.as_deref().unwrap_or("")))
    })?;
    if part == Part::Status && !kind.status || part == Part::Scale && !kind.scale {
        return Err(ApiError::new(
            404,
            "NotFound",
            format!(
                "the server could not find the requested resource: {} has no {} subresource",
                kind.qualified_resource(),
                sub.as_deref().unwrap_or("")
            ),
        ));
    }
    match (method.clone(), name) {
        (Method::GET, None) => {
            let opts = list_options(kind, &q)?;
            if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
                let rx = api.watch(kind, namespace.clone(), opts).await?;
                return Ok(respond::watch_stream(kind, rx, format));
            }
            let page = api.list(kind, ns, &opts).await?;
            respond::list(kind, page, format)
        }
        (Method::GET, Some(name)) => {
            let s = api.get(kind, ns, &name, q.get("resourceVersion").map(String::as_str)).await?;
            let obj = if part == Part::Scale { crate::server::write::to_scale(&s.object) } else { s.object };
            Ok(respond::object(kind, 200, obj, format, &[]))
        }
        (Method::POST, None) => {
            let bytes = body::read(body).await?;
            let obj = body::decode_object(headers, &bytes)?;
            let opts = write_options(&q, headers)?;
            let w = api.create(kind, ns, obj, &opts).await?;
            Ok(respond::object(kind, if w.created { 201 } else { 200 }, w.object, format, &w.warnings))
        }
        (Method::PUT, Some(name)) => {
            let bytes = body::read(body).await?;
            let obj = body::decode_object(headers, &bytes)?;
            let opts = write_options(&q, headers)?;
            let w = api.update(kind, ns, &name, part, obj, &opts).await?;
            Ok(respond::object(kind, 200, w.object, format, &w.warnings))
        }
        (Method::PATCH, Some(name)) => {
            let ct = body::content_type(headers).to_string();
            let pt = PatchType::from_content_type(&ct)
                .ok_or_else(|| ApiError::unsupported_media_type(&ct, PatchType::ACCEPTED))?;
            let bytes = body::read(body).await?;
            let opts = write_options(&q, headers)?;
            let w = api.patch(kind, ns, &name, part, pt, &bytes, &opts).await?;
            Ok(respond::object(kind, if w.created { 201 } else { 200 }, w.object, format, &w.warnings))
        }
        (Method::DELETE, _) if part != Part::Main => Err(ApiError::method_not_allowed(uri.path())),
        (Method::DELETE, None) if kind.namespaced && ns.is_none() => Err(ApiError::method_not_allowed(uri.path())),
        (Method::DELETE, name) => {
            let bytes = body::read(body).await?;
            let mut opts = DeleteOptions {
                grace_period_seconds: q.get("gracePeriodSeconds").and_then(|g| g.parse().ok()),
                propagation_policy: q.get("propagationPolicy").cloned(),
                dry_run: q.get("dryRun").is_some_and(|d| d == "All"),
                ..Default::default()
            };
            if !bytes.is_empty() {
                let v: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::bad_request(format!("the DeleteOptions body is not valid JSON: {e}")))?;
                opts.merge_body(&v)?;
            }
            match name {
                Some(name) => {
                    let o = api.delete(kind, ns, &name, &opts).await?;
                    Ok(respond::object(kind, 200, o, format, &[]))
                }
                None => {
                    let lo = list_options(kind, &q)?;
                    let items = api.delete_collection(kind, ns, &lo, &opts).await?;
                    let (rev, _) = api.objects.revisions();
                    Ok(respond::values(kind, items, rev, format))
                }
            }
        }
        _ => Err(ApiError::method_not_allowed(uri.path())),
    }
}
