//! Request bodies: size limit, content types (JSON, YAML, Kubernetes
//! protobuf for the kinds kubectl's imperative commands send) and query
//! strings.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;

/// Largest request body accepted (Kubernetes' limit is 3 MiB as well).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Read the whole body, failing with 413 above [`MAX_BODY`].
pub async fn read(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| ApiError::too_large(MAX_BODY))
}

/// The Content-Type header (empty when absent).
pub fn content_type(headers: &HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Parse YAML (a superset of JSON) into JSON. One document only.
pub fn parse_yaml_or_json(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let v: serde_yaml::Value = serde_yaml::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid YAML or JSON: {e}")))?;
    serde_json::to_value(v).map_err(|e| ApiError::bad_request(format!("the YAML body has no JSON form: {e}")))
}

/// Decode a create/update body by its Content-Type: JSON (also when no
/// Content-Type is sent, as the Python client does), YAML, or Kubernetes
/// protobuf.
pub fn decode_object(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let ct = content_type(headers);
    let base = ct.split(';').next().unwrap_or("").trim();
    match base {
        "" | "application/json" | "*/*" => {
            serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
        }
        "application/yaml" | "application/x-yaml" | "text/yaml" => parse_yaml_or_json(body),
        "application/vnd.kubernetes.protobuf" => crate::rest::protobuf::decode(body).map_err(|e| {
            ApiError::unsupported_media_type(
                ct,
                &format!("application/json, application/yaml ({e}; send the object as JSON with Content-Type: application/json)"),
            )
        }),
        _ => Err(ApiError::unsupported_media_type(ct, "application/json, application/yaml, application/vnd.kubernetes.protobuf")),
    }
}

/// Query parameters (last value wins).
pub fn query(q: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes()).into_owned().collect()
}
