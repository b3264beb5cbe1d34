//! Get and list.
//!
//! `resourceVersion` semantics as in Kubernetes: unset = the latest state,
//! read linearizably; `"0"` = any state this replica has (a local read); `N`
//! = not older than N (local when this replica has applied N, else
//! linearizable); `resourceVersionMatch=Exact` and `continue` tokens read at
//! exactly that revision, which fails with 410 Expired once compacted.
//! Pages are consistent: every page of one list is read at the revision of
//! the first.

use base64::Engine;
use proto::mvccpb::KeyValue;
use serde_json::{json, Value};

use super::{ApiServer, ListOptions};
use crate::error::ApiError;
use crate::registry::Kind;
use crate::storage::{self, Stored};

/// Keys read from the store per round while filtering a list.
const SCAN_CHUNK: i64 = 1000;

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    /// Matching objects as stored.
    pub items: Vec<KeyValue>,
    /// The list's resourceVersion.
    pub revision: i64,
    /// Token for the next page.
    pub continue_token: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_token(rv: i64, start: &str) -> String {
    let t = ContinueToken { v: "meta.k8s.io/v1".into(), rv, start: start.into() };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&t).unwrap_or_default())
}

fn decode_token(s: &str) -> Result<ContinueToken, ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid: start the list again without `continue`");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let t: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if t.v != "meta.k8s.io/v1" || t.rv <= 0 || t.start.contains("..") {
        return Err(bad());
    }
    Ok(t)
}

/// Parse a `resourceVersion` parameter.
pub fn parse_rv(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
        ApiError::bad_request(format!("resourceVersion: Invalid value: \"{s}\": must be a non-negative integer"))
    })
}

impl ApiServer {
    /// Get one object.
    pub async fn get(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<Stored, ApiError> {
        let any = match resource_version {
            None | Some("") => false,
            Some(rv) => {
                let want = parse_rv(rv)?;
                want == 0 || self.objects.revisions().0 >= want
            }
        };
        let key = storage::key(kind, ns, name);
        self.objects.get(&key, !any).await?.ok_or_else(|| ApiError::not_found(kind, name))
    }

    /// List objects of `kind` (in `ns` when given, else in all namespaces).
    pub async fn list(&self, kind: &Kind, ns: Option<&str>, opts: &ListOptions) -> Result<Page, ApiError> {
        let prefix = storage::prefix(kind, ns);
        let (mut revision, mut consistent, mut start) = (0i64, true, None::<Vec<u8>>);
        if let Some(tok) = opts.continue_token.as_deref().filter(|t| !t.is_empty()) {
            let t = decode_token(tok)?;
            revision = t.rv;
            let mut s = prefix.clone();
            s.extend_from_slice(t.start.as_bytes());
            start = Some(s);
        } else {
            match (opts.resource_version.as_deref(), opts.resource_version_match.as_deref()) {
                (None | Some(""), None | Some("")) => {}
                (None | Some(""), Some(m)) => {
                    return Err(ApiError::bad_request(format!(
                        "resourceVersionMatch: Forbidden: resourceVersionMatch \"{m}\" is forbidden unless resourceVersion is provided"
                    )))
                }
                (Some(rv), m) => {
                    let want = parse_rv(rv)?;
                    match m {
                        Some("Exact") if want > 0 => revision = want,
                        Some("Exact") => return Err(ApiError::bad_request(
                            "resourceVersionMatch: Forbidden: resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
                        )),
                        None | Some("") | Some("NotOlderThan") => {
                            consistent = !(want == 0 || self.objects.revisions().0 >= want);
                        }
                        Some(other) => {
                            return Err(ApiError::bad_request(format!(
                                "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\""
                            )))
                        }
                    }
                }
            }
        }
        let limit = opts.limit.max(0);
        let mut items = Vec::new();
        let mut last_key: Option<Vec<u8>> = None;
        let mut more = false;
        'scan: loop {
            let chunk = if limit > 0 { SCAN_CHUNK.max(limit) } else { 0 };
            let listing = self.objects.list(&prefix, start.as_deref(), revision, consistent, chunk).await.map_err(|e| {
                if e.code == 410 && opts.continue_token.is_some() {
                    ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
                } else {
                    e
                }
            })?;
            revision = listing.revision;
            consistent = false;
            for kv in listing.kvs {
                if opts.labels.is_some() || opts.fields.is_some() {
                    let s = storage::decode_kv(&kv)?;
                    if !self.matches(kind, &s.object, opts) {
                        continue;
                    }
                }
                if limit > 0 && items.len() as i64 >= limit {
                    more = true;
                    break 'scan;
                }
                last_key = Some(kv.key.clone());
                items.push(kv);
            }
            match listing.more_after {
                Some(mut next) if limit > 0 => {
                    next.push(0);
                    start = Some(next);
                }
                _ => break,
            }
        }
        let continue_token = match (more, last_key) {
            (true, Some(k)) => {
                let mut after = k[prefix.len()..].to_vec();
                after.push(0);
                Some(encode_token(revision, &String::from_utf8_lossy(&after)))
            }
            _ => None,
        };
        Ok(Page { items, revision, continue_token })
    }

    /// Whether an object passes the list's selectors.
    pub fn matches(&self, _kind: &Kind, obj: &Value, opts: &ListOptions) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        opts.labels.as_ref().is_none_or(|s| s.matches(labels)) && opts.fields.as_ref().is_none_or(|s| s.matches(obj))
    }
}

impl Page {
    /// The objects, decoded.
    pub fn objects(&self) -> Result<Vec<Value>, ApiError> {
        self.items.iter().map(|kv| storage::decode_kv(kv).map(|s| s.object)).collect()
    }

    /// Each object's JSON, without parsing it.
    pub fn json_items(&self) -> Result<Vec<Vec<u8>>, ApiError> {
        self.items.iter().map(storage::json_with_rv).collect()
    }
}

/// The JSON of a `FooList`, assembled from the stored bytes.
pub fn list_json(kind: &Kind, page: &Page) -> Result<Vec<u8>, ApiError> {
    let mut meta = json!({"resourceVersion": page.revision.to_string()});
    if let Some(c) = &page.continue_token {
        meta["continue"] = json!(c);
    }
    let head = format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
        kind.list_kind(),
        kind.api_version(),
        meta
    );
    let items = page.json_items()?;
    let mut out = Vec::with_capacity(head.len() + items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    out.extend_from_slice(head.as_bytes());
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}
