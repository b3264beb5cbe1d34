//! Applying one committed entry's key-value operations. Every write of the
//! entry goes into one RocksDB `WriteBatch` (committed by the caller together
//! with the applied log id); later operations of the same entry see earlier
//! ones through an overlay. On error nothing of the entry is written.

use std::collections::{BTreeSet, HashMap};

use prost::Message;
use proto::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use proto::etcdserverpb::request_op::Request as ReqOp;
use proto::etcdserverpb::response_op::Response as RespOp;
use proto::etcdserverpb::{
    Compare, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RangeRequest, RangeResponse, RequestOp,
    ResponseHeader, ResponseOp, TxnRequest, TxnResponse,
};
use proto::mvccpb::{event::EventType, Event, KeyValue};
use rocksdb::{WriteBatch, DB};

use super::read::{self, Overlay, View};
use super::{encode_version, Version};
use crate::error::StoreError;
use crate::keys::{hist_key, lkey, rev_key, KeyRange, CF_HIST, CF_KV, CF_LEASE, CF_LKEYS, CF_REVS};

/// etcd's default limit of operations per txn branch.
pub const MAX_TXN_OPS: usize = 128;

fn internal<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// A write of the item being applied, replayed into the entry's batch only
/// if the item succeeds.
type Pending = (&'static str, Vec<u8>, Option<Vec<u8>>);

/// Applies the key-value operations of one entry. An entry carries one
/// request or a batch of them; each request ("item") that changes a key gets
/// the next store revision, and a failed item leaves no trace.
pub struct Applier<'a> {
    db: &'a DB,
    view: View<'a>,
    /// Revision of the writes of the current item.
    pub rev: i64,
    /// Number of key changes made by the current item.
    pub sub: u32,
    /// Store revision before this entry.
    pub base_rev: i64,
    /// Store revision after the items committed so far.
    cur_rev: i64,
    /// Compact revision.
    pub compact: i64,
    /// Writes of the committed items.
    pub batch: WriteBatch,
    pending: Vec<Pending>,
    /// Keys written by this entry so far (current item included).
    pub overlay: Overlay,
    undo: Vec<(Vec<u8>, Option<Option<KeyValue>>)>,
    /// Watch events produced, in order, with their revisions.
    pub events: Vec<(i64, Event)>,
    events_mark: usize,
    leases: HashMap<i64, bool>,
}

impl<'a> Applier<'a> {
    /// An applier for an entry applied on top of store revision `base_rev`.
    pub fn new(db: &'a DB, base_rev: i64, compact: i64) -> Self {
        Applier {
            db,
            view: View::latest(db),
            rev: base_rev + 1,
            sub: 0,
            base_rev,
            cur_rev: base_rev,
            compact,
            batch: WriteBatch::default(),
            pending: Vec::new(),
            overlay: Overlay::new(),
            undo: Vec::new(),
            events: Vec::new(),
            events_mark: 0,
            leases: HashMap::new(),
        }
    }

    /// An applier over a given view (used to serve read-only txns from a
    /// snapshot without a Raft round; it never writes).
    pub fn with_view(db: &'a DB, view: View<'a>, base_rev: i64, compact: i64) -> Self {
        let mut a = Applier::new(db, base_rev, compact);
        a.view = view;
        a
    }

    /// Start the next item.
    pub fn begin_item(&mut self) {
        self.rev = self.cur_rev + 1;
        self.sub = 0;
        self.pending.clear();
        self.undo.clear();
        self.events_mark = self.events.len();
    }

    /// Keep the current item's writes.
    pub fn commit_item(&mut self) {
        for (cf, k, v) in self.pending.drain(..) {
            let h = self.db.cf_handle(cf).expect("known cf");
            match v {
                Some(v) => self.batch.put_cf(h, k, v),
                None => self.batch.delete_cf(h, k),
            }
        }
        if self.sub > 0 {
            self.cur_rev = self.rev;
        }
        self.undo.clear();
    }

    /// Drop the current item's writes.
    pub fn rollback_item(&mut self) {
        self.pending.clear();
        while let Some((k, prev)) = self.undo.pop() {
            match prev {
                Some(v) => self.overlay.insert(k, v),
                None => self.overlay.remove(&k),
            };
        }
        self.events.truncate(self.events_mark);
        self.sub = 0;
    }

    /// Whether the entry changed any key (in committed items).
    pub fn mutated(&self) -> bool {
        self.cur_rev > self.base_rev
    }

    /// The store revision after the committed items.
    pub fn committed_rev(&self) -> i64 {
        self.cur_rev
    }

    /// The store revision as seen by the current item.
    pub fn visible_rev(&self) -> i64 {
        if self.sub > 0 {
            self.rev
        } else {
            self.cur_rev
        }
    }

    fn header(&self) -> Option<ResponseHeader> {
        Some(ResponseHeader { revision: self.visible_rev(), ..Default::default() })
    }

    fn set_overlay(&mut self, key: &[u8], v: Option<KeyValue>) {
        let prev = self.overlay.insert(key.to_vec(), v);
        self.undo.push((key.to_vec(), prev));
    }

    fn lease_exists(&mut self, id: i64) -> Result<bool, StoreError> {
        if let Some(b) = self.leases.get(&id) {
            return Ok(*b);
        }
        let cf = self.db.cf_handle(CF_LEASE).expect("cf lease");
        let b = self.db.get_pinned_cf(cf, (id as u64).to_be_bytes()).map_err(internal)?.is_some();
        self.leases.insert(id, b);
        Ok(b)
    }

    fn current(&self, key: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        Ok(read::current_kvs(&self.view, &KeyRange::new(key, b""), &self.overlay, 0)?.pop())
    }

    fn record(&mut self, key: &[u8], version: Version, prev: Option<KeyValue>) {
        let (ev_type, ev_kv) = match &version {
            Version::Put(kv) => (EventType::Put, kv.clone()),
            Version::Deleted { key, rev } => {
                (EventType::Delete, KeyValue { key: key.clone(), mod_revision: *rev, ..Default::default() })
            }
        };
        self.pending.push((CF_HIST, hist_key(key, self.rev, self.sub), Some(encode_version(&version))));
        self.pending.push((CF_REVS, rev_key(self.rev, self.sub).to_vec(), Some(key.to_vec())));
        match &version {
            Version::Put(kv) => {
                self.pending.push((CF_KV, key.to_vec(), Some(kv.encode_to_vec())));
                self.set_overlay(key, Some(kv.clone()));
            }
            Version::Deleted { .. } => {
                self.pending.push((CF_KV, key.to_vec(), None));
                self.set_overlay(key, None);
            }
        }
        self.sub += 1;
        self.events.push((self.rev, Event { r#type: ev_type as i32, kv: Some(ev_kv), prev_kv: prev }));
    }

    fn attach(&mut self, key: &[u8], old: i64, new: i64) {
        if old != 0 && old != new {
            self.pending.push((CF_LKEYS, lkey(old, key), None));
        }
        if new != 0 && old != new {
            self.pending.push((CF_LKEYS, lkey(new, key), Some(Vec::new())));
        }
    }

    /// Apply a put.
    pub fn put(&mut self, req: &PutRequest) -> Result<PutResponse, StoreError> {
        validate_put(req)?;
        let prev = self.current(&req.key)?;
        if (req.ignore_value || req.ignore_lease) && prev.is_none() {
            return Err(StoreError::InvalidArgument("key not found".into()));
        }
        let lease = if req.ignore_lease { prev.as_ref().map_or(0, |p| p.lease) } else { req.lease };
        if lease != 0 && !self.lease_exists(lease)? {
            return Err(StoreError::LeaseNotFound);
        }
        let value = if req.ignore_value {
            prev.as_ref().map(|p| p.value.clone()).unwrap_or_default()
        } else {
            req.value.clone()
        };
        let kv = KeyValue {
            key: req.key.clone(),
            create_revision: prev.as_ref().map_or(self.rev, |p| p.create_revision),
            mod_revision: self.rev,
            version: prev.as_ref().map_or(1, |p| p.version + 1),
            value,
            lease,
        };
        self.attach(&req.key, prev.as_ref().map_or(0, |p| p.lease), lease);
        self.record(&req.key, Version::Put(kv), prev.clone());
        Ok(PutResponse { header: self.header(), prev_kv: if req.prev_kv { prev } else { None } })
    }

    /// Apply a delete-range.
    pub fn delete_range(&mut self, req: &DeleteRangeRequest) -> Result<DeleteRangeResponse, StoreError> {
        if req.key.is_empty() {
            return Err(StoreError::EmptyKey);
        }
        let range = KeyRange::new(&req.key, &req.range_end);
        let victims = read::current_kvs(&self.view, &range, &self.overlay, 0)?;
        for kv in &victims {
            self.attach(&kv.key, kv.lease, 0);
            let key = kv.key.clone();
            self.record(&key, Version::Deleted { key: key.clone(), rev: self.rev }, Some(kv.clone()));
        }
        Ok(DeleteRangeResponse {
            header: self.header(),
            deleted: victims.len() as i64,
            prev_kvs: if req.prev_kv { victims } else { Vec::new() },
        })
    }

    /// Serve a range inside a txn (sees this entry's earlier writes).
    pub fn range(&self, req: &RangeRequest) -> Result<RangeResponse, StoreError> {
        let mut resp = read::range(&self.view, req, self.visible_rev(), self.compact, &self.overlay)?;
        resp.header = self.header();
        Ok(resp)
    }

    fn compare(&self, c: &Compare) -> Result<bool, StoreError> {
        let kvs = read::current_kvs(&self.view, &KeyRange::new(&c.key, &c.range_end), &self.overlay, 0)?;
        let target = CompareTarget::try_from(c.target).unwrap_or(CompareTarget::Version);
        if kvs.is_empty() {
            if target == CompareTarget::Value {
                return Ok(false);
            }
            return Ok(compare_kv(c, target, &KeyValue::default()));
        }
        Ok(kvs.iter().all(|kv| compare_kv(c, target, kv)))
    }

    /// Apply a txn (validated first, so a bad txn writes nothing).
    pub fn txn(&mut self, req: &TxnRequest) -> Result<TxnResponse, StoreError> {
        validate_txn(req)?;
        self.txn_inner(req)
    }

    fn txn_inner(&mut self, req: &TxnRequest) -> Result<TxnResponse, StoreError> {
        let mut ok = true;
        for c in &req.compare {
            if !self.compare(c)? {
                ok = false;
                break;
            }
        }
        let ops = if ok { &req.success } else { &req.failure };
        let mut responses = Vec::with_capacity(ops.len());
        for op in ops {
            let r = match &op.request {
                Some(ReqOp::RequestRange(r)) => RespOp::ResponseRange(self.range(r)?),
                Some(ReqOp::RequestPut(p)) => RespOp::ResponsePut(self.put(p)?),
                Some(ReqOp::RequestDeleteRange(d)) => RespOp::ResponseDeleteRange(self.delete_range(d)?),
                Some(ReqOp::RequestTxn(t)) => RespOp::ResponseTxn(self.txn_inner(t)?),
                None => return Err(StoreError::Malformed("txn operation without a request".into())),
            };
            responses.push(ResponseOp { response: Some(r) });
        }
        Ok(TxnResponse { header: self.header(), succeeded: ok, responses })
    }

    /// Delete every key attached to `id` and the lease itself.
    pub fn revoke_lease(&mut self, id: i64) -> Result<bool, StoreError> {
        if !self.lease_exists(id)? {
            return Ok(false);
        }
        let lk = self.db.cf_handle(CF_LKEYS).expect("cf lkeys");
        let prefix = (id as u64).to_be_bytes();
        let mut keys = Vec::new();
        for r in self.db.prefix_iterator_cf(lk, prefix) {
            let (k, _) = r.map_err(internal)?;
            if !k.starts_with(&prefix) {
                break;
            }
            keys.push(k[8..].to_vec());
        }
        for key in keys {
            self.pending.push((CF_LKEYS, lkey(id, &key), None));
            if let Some(kv) = self.current(&key)? {
                if kv.lease == id {
                    self.record(&key, Version::Deleted { key: key.clone(), rev: self.rev }, Some(kv));
                }
            }
        }
        self.pending.push((CF_LEASE, prefix.to_vec(), None));
        self.leases.insert(id, false);
        Ok(true)
    }
}

fn compare_kv(c: &Compare, target: CompareTarget, kv: &KeyValue) -> bool {
    use std::cmp::Ordering;
    let ord: Ordering = match target {
        CompareTarget::Version => kv.version.cmp(&int_target(c)),
        CompareTarget::Create => kv.create_revision.cmp(&int_target(c)),
        CompareTarget::Mod => kv.mod_revision.cmp(&int_target(c)),
        CompareTarget::Lease => kv.lease.cmp(&int_target(c)),
        CompareTarget::Value => {
            let v: &[u8] = match &c.target_union {
                Some(TargetUnion::Value(v)) => v,
                _ => b"",
            };
            kv.value.as_slice().cmp(v)
        }
    };
    match CompareResult::try_from(c.result).unwrap_or(CompareResult::Equal) {
        CompareResult::Equal => ord == Ordering::Equal,
        CompareResult::NotEqual => ord != Ordering::Equal,
        CompareResult::Greater => ord == Ordering::Greater,
        CompareResult::Less => ord == Ordering::Less,
    }
}

fn int_target(c: &Compare) -> i64 {
    match c.target_union {
        Some(TargetUnion::Version(v))
        | Some(TargetUnion::CreateRevision(v))
        | Some(TargetUnion::ModRevision(v))
        | Some(TargetUnion::Lease(v)) => v,
        _ => 0,
    }
}

/// Static checks of a put (no state needed).
pub fn validate_put(req: &PutRequest) -> Result<(), StoreError> {
    if req.key.is_empty() {
        return Err(StoreError::EmptyKey);
    }
    if req.ignore_value && !req.value.is_empty() {
        return Err(StoreError::ValueProvided);
    }
    if req.ignore_lease && req.lease != 0 {
        return Err(StoreError::LeaseProvided);
    }
    Ok(())
}

/// Static checks of a txn: op counts, empty keys, and no key written twice
/// in one branch (etcd's rule).
pub fn validate_txn(req: &TxnRequest) -> Result<(), StoreError> {
    if req.compare.len() > MAX_TXN_OPS || req.success.len() > MAX_TXN_OPS || req.failure.len() > MAX_TXN_OPS {
        return Err(StoreError::TooManyOps);
    }
    for c in &req.compare {
        if c.key.is_empty() {
            return Err(StoreError::EmptyKey);
        }
    }
    for branch in [&req.success, &req.failure] {
        let mut puts = BTreeSet::new();
        let mut dels = Vec::new();
        check_branch(branch, &mut puts, &mut dels)?;
        for d in &dels {
            if puts.iter().any(|p: &Vec<u8>| d.contains(p)) {
                return Err(StoreError::DuplicateKey);
            }
        }
    }
    Ok(())
}

fn check_branch(ops: &[RequestOp], puts: &mut BTreeSet<Vec<u8>>, dels: &mut Vec<KeyRange>) -> Result<(), StoreError> {
    for op in ops {
        match &op.request {
            Some(ReqOp::RequestRange(r)) if r.key.is_empty() => return Err(StoreError::EmptyKey),
            Some(ReqOp::RequestRange(_)) => {}
            Some(ReqOp::RequestPut(p)) => {
                validate_put(p)?;
                if !puts.insert(p.key.clone()) {
                    return Err(StoreError::DuplicateKey);
                }
            }
            Some(ReqOp::RequestDeleteRange(d)) => {
                if d.key.is_empty() {
                    return Err(StoreError::EmptyKey);
                }
                dels.push(KeyRange::new(&d.key, &d.range_end));
            }
            Some(ReqOp::RequestTxn(t)) => {
                if t.success.len() > MAX_TXN_OPS || t.failure.len() > MAX_TXN_OPS {
                    return Err(StoreError::TooManyOps);
                }
                // Keys of a nested txn's branches count for the enclosing branch.
                let mut s_puts = puts.clone();
                let mut s_dels = dels.clone();
                check_branch(&t.success, &mut s_puts, &mut s_dels)?;
                let mut f_puts = puts.clone();
                let mut f_dels = dels.clone();
                check_branch(&t.failure, &mut f_puts, &mut f_dels)?;
                puts.extend(s_puts.into_iter().chain(f_puts));
                dels.extend(s_dels.into_iter().chain(f_dels));
            }
            None => return Err(StoreError::Malformed("txn operation without a request".into())),
        }
    }
    Ok(())
}

/// Whether a txn writes nothing in either branch (then it can be served as a
/// read, without a Raft round).
pub fn txn_is_read_only(req: &TxnRequest) -> bool {
    fn ro(ops: &[RequestOp]) -> bool {
        ops.iter().all(|op| match &op.request {
            Some(ReqOp::RequestRange(_)) => true,
            Some(ReqOp::RequestTxn(t)) => ro(&t.success) && ro(&t.failure),
            _ => false,
        })
    }
    ro(&req.success) && ro(&req.failure)
}
