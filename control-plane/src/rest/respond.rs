//! Responses: objects, lists and watch events as JSON or as server-side
//! Tables, and `Status` errors.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::registry::{table, Kind};
use crate::server::read::{list_json, Page};
use crate::server::watch::WatchEvent;

/// How the client wants objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain Kubernetes JSON.
    Json,
    /// `meta.k8s.io/v1` Tables.
    Table,
}

impl Format {
    /// From the Accept header.
    pub fn from_headers(h: &HeaderMap) -> Format {
        let accept = h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        if accept.split(',').next().is_some_and(|first| first.contains("as=Table")) {
            Format::Table
        } else {
            Format::Json
        }
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A JSON response with `Warning` headers.
pub fn json(code: u16, v: &Value, warnings: &[String]) -> Response {
    let mut r = (StatusCode::from_u16(code).unwrap_or(StatusCode::OK), axum::Json(v)).into_response();
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(hv) = HeaderValue::from_str(&text) {
            r.headers_mut().append("Warning", hv);
        }
    }
    r
}

/// A `Status` error response.
pub fn error(e: &ApiError) -> Response {
    json(e.code, &e.status(), &[])
}

/// One object (a one-row Table when asked).
pub fn object(kind: &Kind, code: u16, obj: Value, format: Format, warnings: &[String]) -> Response {
    match format {
        Format::Json => json(code, &obj, warnings),
        Format::Table => {
            let rv = obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("").to_string();
            json(code, &table::table(kind.kind, &[obj], &rv, None, true, now()), warnings)
        }
    }
}

/// A list (or Table).
pub fn list(kind: &Kind, page: Page, format: Format) -> Result<Response, ApiError> {
    Ok(match format {
        Format::Json => {
            let body = list_json(kind, &page)?;
            let mut r = Response::new(Body::from(body));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Format::Table => {
            let objects = page.objects()?;
            let t = table::table(
                kind.kind,
                &objects,
                &page.revision.to_string(),
                page.continue_token.as_deref(),
                true,
                now(),
            );
            json(200, &t, &[])
        }
    })
}

/// A list of objects that are not a store page (e.g. what deletecollection removed).
pub fn values(kind: &Kind, items: Vec<Value>, revision: i64, format: Format) -> Response {
    match format {
        Format::Json => json(
            200,
            &json!({"kind": kind.list_kind(), "apiVersion": kind.api_version(), "metadata": {"resourceVersion": revision.to_string()}, "items": items}),
            &[],
        ),
        Format::Table => json(200, &table::table(kind.kind, &items, &revision.to_string(), None, true, now()), &[]),
    }
}

/// A chunked watch stream: one JSON event per line.
pub fn watch_stream(kind: &'static Kind, rx: mpsc::Receiver<WatchEvent>, format: Format) -> Response {
    let mut first = true;
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(move |ev| {
        let object = match &ev {
            WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => match format {
                // The shared encoding: no per-watcher serialization.
                Format::Json => {
                    let mut line = Vec::with_capacity(o.json.len() + 32);
                    line.extend_from_slice(b"{\"type\":\"");
                    line.extend_from_slice(ev.type_name().as_bytes());
                    line.extend_from_slice(b"\",\"object\":");
                    line.extend_from_slice(&o.json);
                    line.extend_from_slice(b"}\n");
                    return Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line));
                }
                Format::Table => {
                    let rv = o.object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("").to_string();
                    let t = table::table(kind.kind, std::slice::from_ref(&o.object), &rv, None, first, now());
                    first = false;
                    t
                }
            },
            WatchEvent::Bookmark(rev) => match format {
                Format::Json => json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": {"resourceVersion": rev.to_string()}}),
                Format::Table => table::table(kind.kind, &[], &rev.to_string(), None, false, now()),
            },
            WatchEvent::Error(e) => e.status(),
        };
        let mut line = serde_json::to_vec(&json!({"type": ev.type_name(), "object": object})).unwrap_or_default();
        line.push(b'\n');
        Ok(bytes::Bytes::from(line))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    r
}
