//! The storage mapping: objects ⇄ raft-store keys
//! `/registry/<group>/<resource>/<namespace>/<name>` (cluster-scoped kinds
//! leave out the namespace; the core group is spelled `core`), with the
//! object's JSON as the value and its `resourceVersion` = the key's
//! `mod_revision`.
//!
//! Guarantees: creates succeed only if the key does not exist (one txn);
//! updates and deletes are compare-and-swap on the `mod_revision` the caller
//! read, so a concurrent writer makes them fail with [`WriteError::Changed`]
//! instead of being overwritten. Reads are linearizable unless the caller
//! asks for any revision. `resourceVersion` is never stored in the value; it
//! is set from the key's revision on every read.

use std::sync::Arc;

use proto::etcdserverpb::{
    compare, request_op, response_op, Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest,
};
use proto::mvccpb::KeyValue;
use raft_store::Store;
use serde_json::Value;

use crate::error::ApiError;
use crate::registry::{object, Kind};

/// Key of one object.
pub fn key(kind: &Kind, namespace: Option<&str>, name: &str) -> Vec<u8> {
    let mut k = prefix(kind, namespace);
    k.extend_from_slice(name.as_bytes());
    k
}

/// Prefix of all objects of `kind` (in `namespace` when given).
pub fn prefix(kind: &Kind, namespace: Option<&str>) -> Vec<u8> {
    let mut s = format!("/registry/{}/{}/", kind.storage_group(), kind.resource);
    if kind.namespaced {
        if let Some(ns) = namespace {
            s.push_str(ns);
            s.push('/');
        }
    }
    s.into_bytes()
}

/// The end of the range of keys starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// A stored object with its revision.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The object, `metadata.resourceVersion` set.
    pub object: Value,
    /// Its key's mod revision (= its resourceVersion).
    pub revision: i64,
}

/// Why a conditional write did not happen.
#[derive(Debug)]
pub enum WriteError {
    /// The key exists (create).
    Exists,
    /// The key is gone (update, delete).
    Missing,
    /// The key changed since the caller read it; the current object.
    Changed(Box<Stored>),
    /// A guard key (e.g. the namespace) changed.
    GuardChanged,
    /// The store failed.
    Api(ApiError),
}

impl From<raft_store::StoreError> for WriteError {
    fn from(e: raft_store::StoreError) -> Self {
        WriteError::Api(e.into())
    }
}

/// A list result.
#[derive(Debug)]
pub struct Listing {
    /// Stored key-values in key order (decode with [`decode_kv`] or
    /// [`json_with_rv`]).
    pub kvs: Vec<KeyValue>,
    /// Store revision the list was read at.
    pub revision: i64,
    /// More keys follow (when a limit was given): the last key returned.
    pub more_after: Option<Vec<u8>>,
}

/// Object storage over a raft-store member.
#[derive(Clone)]
pub struct Objects {
    store: Arc<Store>,
    /// When set, every write is fenced to this Raft term (leader-only tasks).
    fence: Option<u64>,
}

/// Decode a stored key-value into an object with its resourceVersion.
pub fn decode_kv(kv: &KeyValue) -> Result<Stored, ApiError> {
    let mut object: Value = serde_json::from_slice(&kv.value).map_err(|e| {
        ApiError::internal(format!("stored object at {} is not JSON: {e}", String::from_utf8_lossy(&kv.key)))
    })?;
    object::set_resource_version(&mut object, kv.mod_revision);
    Ok(Stored { object, revision: kv.mod_revision })
}

/// The stored bytes of an object: its JSON without `resourceVersion`.
fn encode(obj: &Value) -> Vec<u8> {
    if obj.pointer("/metadata/resourceVersion").is_none() {
        return serde_json::to_vec(obj).unwrap_or_default();
    }
    let mut obj = obj.clone();
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    serde_json::to_vec(&obj).unwrap_or_default()
}

fn cmp(key: &[u8], target: compare::CompareTarget, union: compare::TargetUnion) -> Compare {
    Compare {
        result: compare::CompareResult::Equal as i32,
        target: target as i32,
        key: key.to_vec(),
        target_union: Some(union),
        range_end: Vec::new(),
    }
}

fn get_op(key: &[u8]) -> RequestOp {
    RequestOp {
        request: Some(request_op::Request::RequestRange(RangeRequest { key: key.to_vec(), ..Default::default() })),
    }
}

fn delete_op(key: &[u8]) -> RequestOp {
    RequestOp {
        request: Some(request_op::Request::RequestDeleteRange(DeleteRangeRequest {
            key: key.to_vec(),
            ..Default::default()
        })),
    }
}

/// Delete reservation `r` only if it still names `owner` (a nested txn, so
/// a reservation taken over by another object is never freed by mistake).
fn release_op(r: &[u8], owner: &[u8]) -> RequestOp {
    RequestOp {
        request: Some(request_op::Request::RequestTxn(TxnRequest {
            compare: vec![cmp(r, compare::CompareTarget::Value, compare::TargetUnion::Value(owner.to_vec()))],
            success: vec![delete_op(r)],
            failure: Vec::new(),
        })),
    }
}

fn put_op(key: &[u8], value: Vec<u8>) -> RequestOp {
    RequestOp {
        request: Some(request_op::Request::RequestPut(PutRequest { key: key.to_vec(), value, ..Default::default() })),
    }
}

impl Objects {
    /// Storage over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Objects { store, fence: None }
    }

    /// The same storage with every write fenced to `term`: a write proposed
    /// in any other term (this member was deposed) fails with
    /// `StoreError::Fenced` and changes nothing.
    pub fn fenced(&self, term: u64) -> Self {
        Objects { store: self.store.clone(), fence: Some(term) }
    }

    /// The term writes are fenced to, if any.
    pub fn fence(&self) -> Option<u64> {
        self.fence
    }

    async fn write_txn(&self, req: TxnRequest) -> Result<proto::etcdserverpb::TxnResponse, raft_store::StoreError> {
        self.store.txn_fenced(req, self.fence).await
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Read one object. `consistent` = linearizable; otherwise local.
    pub async fn get(&self, key: &[u8], consistent: bool) -> Result<Option<Stored>, ApiError> {
        let resp = self
            .store
            .range(RangeRequest { key: key.to_vec(), serializable: !consistent, ..Default::default() })
            .await?;
        resp.kvs.first().map(decode_kv).transpose()
    }

    /// List keys under `prefix`, starting at `start` (inclusive) when given,
    /// at `revision` (0 = current; linearizable unless `consistent` is
    /// false), at most `limit` (0 = all).
    pub async fn list(
        &self,
        prefix: &[u8],
        start: Option<&[u8]>,
        revision: i64,
        consistent: bool,
        limit: i64,
    ) -> Result<Listing, ApiError> {
        let resp = self
            .store
            .range(RangeRequest {
                key: start.map_or_else(|| prefix.to_vec(), <[u8]>::to_vec),
                range_end: prefix_end(prefix),
                revision,
                limit,
                serializable: !consistent || revision > 0,
                ..Default::default()
            })
            .await?;
        let header_rev = resp.header.as_ref().map_or(0, |h| h.revision);
        let more_after = if resp.more { resp.kvs.last().map(|kv| kv.key.clone()) } else { None };
        Ok(Listing { kvs: resp.kvs, revision: if revision > 0 { revision } else { header_rev }, more_after })
    }

    /// Create `obj` at `key` if the key is free and, when `guard` is given,
    /// the guard key still has that mod revision; `reserve` keys are created
    /// in the same transaction (each must be free; their value is `key`).
    pub async fn create(
        &self,
        key: &[u8],
        obj: &Value,
        guard: Option<(&[u8], i64)>,
        reserve: &[Vec<u8>],
    ) -> Result<Stored, WriteError> {
        let mut compare = vec![cmp(key, compare::CompareTarget::Create, compare::TargetUnion::CreateRevision(0))];
        if let Some((gk, rev)) = guard {
            compare.push(cmp(gk, compare::CompareTarget::Mod, compare::TargetUnion::ModRevision(rev)));
        }
        let mut success = vec![put_op(key, encode(obj))];
        for r in reserve {
            compare.push(cmp(r, compare::CompareTarget::Create, compare::TargetUnion::CreateRevision(0)));
            success.push(put_op(r, key.to_vec()));
        }
        let resp = self.write_txn(TxnRequest { compare, success, failure: vec![get_op(key)] }).await?;
        if let Some(stored) = written(&resp, obj) {
            return Ok(stored);
        }
        match first_range(&resp.responses) {
            Some(_) => Err(WriteError::Exists),
            None => Err(WriteError::GuardChanged),
        }
    }

    /// Whether `key` exists (linearizable).
    pub async fn exists(&self, key: &[u8]) -> Result<bool, ApiError> {
        let r = self.store.range(RangeRequest { key: key.to_vec(), count_only: true, ..Default::default() }).await?;
        Ok(r.count > 0)
    }

    /// Replace the object at `key` if its mod revision is still `expected`;
    /// in the same transaction create the `reserve` keys (each must be free)
    /// and delete the `release` keys that still belong to `key`.
    pub async fn update(
        &self,
        key: &[u8],
        obj: &Value,
        expected: i64,
        reserve: &[Vec<u8>],
        release: &[Vec<u8>],
    ) -> Result<Stored, WriteError> {
        let mut compare = vec![cmp(key, compare::CompareTarget::Mod, compare::TargetUnion::ModRevision(expected))];
        let mut success = vec![put_op(key, encode(obj))];
        for r in reserve {
            compare.push(cmp(r, compare::CompareTarget::Create, compare::TargetUnion::CreateRevision(0)));
            success.push(put_op(r, key.to_vec()));
        }
        success.extend(release.iter().map(|r| release_op(r, key)));
        let resp = self.write_txn(TxnRequest { compare, success, failure: vec![get_op(key)] }).await?;
        if let Some(stored) = written(&resp, obj) {
            return Ok(stored);
        }
        match first_range(&resp.responses) {
            Some(kv) if kv.mod_revision == expected => Err(WriteError::GuardChanged),
            Some(kv) => Err(WriteError::Changed(Box::new(decode_kv(&kv).map_err(WriteError::Api)?))),
            None => Err(WriteError::Missing),
        }
    }

    /// Delete the object at `key` if its mod revision is still `expected`,
    /// together with the `also` keys (its reservations) that still belong
    /// to it. Returns the revision of the delete.
    pub async fn delete(&self, key: &[u8], expected: i64, also: &[Vec<u8>]) -> Result<i64, WriteError> {
        let compare = vec![cmp(key, compare::CompareTarget::Mod, compare::TargetUnion::ModRevision(expected))];
        let mut success = vec![delete_op(key)];
        success.extend(also.iter().map(|r| release_op(r, key)));
        let resp = self.write_txn(TxnRequest { compare, success, failure: vec![get_op(key)] }).await?;
        let rev = resp.header.as_ref().map_or(0, |h| h.revision);
        if resp.succeeded {
            return Ok(rev);
        }
        match first_range(&resp.responses) {
            Some(kv) => Err(WriteError::Changed(Box::new(decode_kv(&kv).map_err(WriteError::Api)?))),
            None => Err(WriteError::Missing),
        }
    }

    /// The current store revision and compact revision (local).
    pub fn revisions(&self) -> (i64, i64) {
        use std::sync::atomic::Ordering;
        (self.store.sm.revision.load(Ordering::SeqCst), self.store.sm.compact.load(Ordering::SeqCst))
    }
}

/// The stored object of a successful write txn (None if it failed).
fn written(resp: &proto::etcdserverpb::TxnResponse, obj: &Value) -> Option<Stored> {
    if !resp.succeeded {
        return None;
    }
    let revision = resp.header.as_ref().map_or(0, |h| h.revision);
    let mut object = obj.clone();
    object::set_resource_version(&mut object, revision);
    Some(Stored { object, revision })
}

fn first_range(responses: &[proto::etcdserverpb::ResponseOp]) -> Option<KeyValue> {
    responses.iter().find_map(|r| match &r.response {
        Some(response_op::Response::ResponseRange(rr)) => rr.kvs.first().cloned(),
        _ => None,
    })
}

/// The JSON of a stored object with its `resourceVersion`, without parsing
/// it: the stored bytes (serde_json output, no `resourceVersion`) with
/// `"resourceVersion":"<mod_revision>"` inserted at the start of the
/// top-level `metadata` object. Falls back to decode and encode if the bytes
/// do not have that shape.
pub fn json_with_rv(kv: &KeyValue) -> Result<Vec<u8>, ApiError> {
    let v = &kv.value;
    if let Some(at) = top_level_metadata_open(v) {
        let field = format!("\"resourceVersion\":\"{}\"", kv.mod_revision);
        let mut out = Vec::with_capacity(v.len() + field.len() + 1);
        out.extend_from_slice(&v[..at]);
        out.extend_from_slice(field.as_bytes());
        if v.get(at) != Some(&b'}') {
            out.push(b',');
        }
        out.extend_from_slice(&v[at..]);
        return Ok(out);
    }
    serde_json::to_vec(&decode_kv(kv)?.object).map_err(|e| ApiError::internal(e.to_string()))
}

/// Offset just after the `{` of the top-level `"metadata"` value.
fn top_level_metadata_open(v: &[u8]) -> Option<usize> {
    const KEY: &[u8] = b"\"metadata\":{";
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    let mut i = 0;
    while i < v.len() {
        let b = v[i];
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
        } else {
            match b {
                b'"' if depth == 1 && v[i..].starts_with(KEY) => return Some(i + KEY.len()),
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_version_is_spliced_into_the_top_level_metadata() {
        let obj = serde_json::json!({"apiVersion": "v1", "data": {"metadata": "x\"metadata\":{"}, "kind": "ConfigMap",
            "metadata": {"name": "a"}, "spec": {"template": {"metadata": {}}}});
        let kv = KeyValue { value: encode(&obj), mod_revision: 42, ..Default::default() };
        let spliced: Value = serde_json::from_slice(&json_with_rv(&kv).unwrap()).unwrap();
        let decoded = decode_kv(&kv).unwrap().object;
        assert_eq!(spliced, decoded);
        assert_eq!(spliced["metadata"]["resourceVersion"], "42");
        let empty = KeyValue { value: br#"{"metadata":{}}"#.to_vec(), mod_revision: 7, ..Default::default() };
        assert_eq!(json_with_rv(&empty).unwrap(), br#"{"metadata":{"resourceVersion":"7"}}"#.to_vec());
    }
}
