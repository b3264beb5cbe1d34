//! Range reads: at the current revision from the `kv` family, at an older
//! revision from `hist`.

use std::collections::BTreeMap;

use prost::Message;
use proto::etcdserverpb::range_request::{SortOrder, SortTarget};
use proto::etcdserverpb::{RangeRequest, RangeResponse};
use proto::mvccpb::KeyValue;
use rocksdb::{DBRawIteratorWithThreadMode, ReadOptions, SnapshotWithThreadMode, DB};

use super::{decode_version, Version};
use crate::error::StoreError;
use crate::keys::{esc, split_hist_key, KeyRange, CF_HIST, CF_KV};

/// Pending writes of the entry being applied, seen by later operations of
/// the same entry. `None` = deleted.
pub type Overlay = BTreeMap<Vec<u8>, Option<KeyValue>>;

fn internal<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// A consistent view of the database: the latest state, or a RocksDB
/// snapshot so that a read's data and its revision agree.
pub struct View<'a> {
    /// The database.
    pub db: &'a DB,
    snap: Option<SnapshotWithThreadMode<'a, DB>>,
}

impl<'a> View<'a> {
    /// The latest state (used while applying).
    pub fn latest(db: &'a DB) -> Self {
        View { db, snap: None }
    }

    /// A point-in-time snapshot.
    pub fn snapshot(db: &'a DB) -> Self {
        View { db, snap: Some(db.snapshot()) }
    }

    fn opts(&self) -> ReadOptions {
        let mut o = ReadOptions::default();
        if let Some(s) = &self.snap {
            o.set_snapshot(s);
        }
        o
    }

    /// A raw iterator over `cf`.
    pub fn iter(&self, cf: &str) -> DBRawIteratorWithThreadMode<'a, DB> {
        let h = self.db.cf_handle(cf).expect("known cf");
        self.db.raw_iterator_cf_opt(h, self.opts())
    }

    /// A point read.
    pub fn get(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let h = self.db.cf_handle(cf).expect("known cf");
        self.db.get_cf_opt(h, key, &self.opts()).map_err(internal)
    }

    /// The store's (revision, compact revision) as of this view.
    pub fn revisions(&self) -> Result<(i64, i64), StoreError> {
        Ok((self.meta_i64(crate::keys::META_REVISION)?, self.meta_i64(crate::keys::META_COMPACT)?))
    }

    /// A bincode i64 from the meta family (0 when absent).
    pub fn meta_i64(&self, key: &[u8]) -> Result<i64, StoreError> {
        match self.get(crate::keys::CF_META, key)? {
            None => Ok(0),
            Some(b) => bincode::deserialize(&b).map_err(internal),
        }
    }
}

/// The live keys in `range` at the current revision, merged with `overlay`.
pub fn current_kvs(
    view: &View<'_>,
    range: &KeyRange,
    overlay: &Overlay,
    limit: usize,
) -> Result<Vec<KeyValue>, StoreError> {
    let mut out = Vec::new();
    if range.is_single() {
        if let Some(o) = overlay.get(&range.start) {
            if let Some(kv) = o {
                out.push(kv.clone());
            }
            return Ok(out);
        }
        if let Some(v) = view.get(CF_KV, &range.start)? {
            out.push(KeyValue::decode(v.as_slice()).map_err(internal)?);
        }
        return Ok(out);
    }
    let mut it = view.iter(CF_KV);
    it.seek(&range.start);
    let ov_end = range.end.clone();
    let mut ov = overlay
        .range(range.start.clone()..)
        .take_while(|(k, _)| ov_end.as_ref().is_none_or(|e| k.as_slice() < e.as_slice()))
        .peekable();
    loop {
        if limit > 0 && out.len() >= limit {
            break;
        }
        let db_key: Option<&[u8]> = if it.valid() {
            let k = it.key().expect("valid");
            if range.end.as_ref().is_some_and(|e| k >= e.as_slice()) {
                None
            } else {
                Some(k)
            }
        } else {
            None
        };
        let next_ov = ov.peek().map(|(k, _)| k.as_slice());
        match (db_key, next_ov) {
            (None, None) => break,
            (Some(dk), Some(ok)) if ok <= dk => {
                let same = ok == dk;
                let (_, v) = ov.next().expect("peeked");
                if let Some(kv) = v {
                    out.push(kv.clone());
                }
                if same {
                    it.next();
                }
            }
            (None, Some(_)) => {
                let (_, v) = ov.next().expect("peeked");
                if let Some(kv) = v {
                    out.push(kv.clone());
                }
            }
            (Some(_), _) => {
                out.push(KeyValue::decode(it.value().expect("valid")).map_err(internal)?);
                it.next();
            }
        }
    }
    it.status().map_err(internal)?;
    Ok(out)
}

/// The latest version of the key whose escaped prefix is `prefix` at or below
/// `rev`, positioned by `it`.
fn version_at(
    it: &mut DBRawIteratorWithThreadMode<'_, DB>,
    prefix: &[u8],
    rev: i64,
) -> Result<Option<Version>, StoreError> {
    let mut probe = prefix.to_vec();
    probe.extend_from_slice(&(rev as u64).to_be_bytes());
    probe.extend_from_slice(&u32::MAX.to_be_bytes());
    it.seek_for_prev(&probe);
    if !it.valid() {
        return Ok(None);
    }
    let k = it.key().expect("valid");
    if k.len() < 12 || split_hist_key(k).0 != prefix {
        return Ok(None);
    }
    decode_version(it.value().expect("valid")).map(Some).map_err(internal)
}

/// The live keys in `range` as of revision `rev` (from history).
pub fn kvs_at(view: &View<'_>, range: &KeyRange, rev: i64, limit: usize) -> Result<Vec<KeyValue>, StoreError> {
    let mut it = view.iter(CF_HIST);
    let mut out = Vec::new();
    let end = range.end.as_ref().map(|e| esc(e));
    let mut cursor = esc(&range.start);
    loop {
        if limit > 0 && out.len() >= limit {
            break;
        }
        it.seek(&cursor);
        if !it.valid() {
            break;
        }
        let k = it.key().expect("valid").to_vec();
        let (prefix, _, _) = split_hist_key(&k);
        if end.as_ref().is_some_and(|e| prefix >= e.as_slice()) {
            break;
        }
        let prefix = prefix.to_vec();
        if let Some(Version::Put(kv)) = version_at(&mut it, &prefix, rev)? {
            out.push(kv);
        }
        cursor = prefix;
        cursor.push(0xFF);
    }
    it.status().map_err(internal)?;
    Ok(out)
}

/// The version of a single key right before (rev, sub), if it was live.
pub fn prev_version(db: &DB, key: &[u8], rev: i64, sub: u32) -> Result<Option<KeyValue>, StoreError> {
    let cf = db.cf_handle(CF_HIST).expect("cf hist");
    let mut it = db.raw_iterator_cf(cf);
    let prefix = esc(key);
    let probe = crate::keys::hist_key(key, rev, sub);
    it.seek_for_prev(&probe);
    if it.valid() && it.key() == Some(probe.as_slice()) {
        it.prev();
    }
    if !it.valid() {
        return Ok(None);
    }
    let k = it.key().expect("valid");
    if k.len() < 12 || split_hist_key(k).0 != prefix.as_slice() {
        return Ok(None);
    }
    match decode_version(it.value().expect("valid")).map_err(internal)? {
        Version::Put(kv) => Ok(Some(kv)),
        Version::Deleted { .. } => Ok(None),
    }
}

/// Serve a RangeRequest. `current` and `compact` are the store's revisions;
/// `overlay` carries the pending writes of an enclosing txn.
pub fn range(
    view: &View<'_>,
    req: &RangeRequest,
    current: i64,
    compact: i64,
    overlay: &Overlay,
) -> Result<RangeResponse, StoreError> {
    if req.key.is_empty() {
        return Err(StoreError::EmptyKey);
    }
    if req.revision > 0 && req.revision < compact {
        return Err(StoreError::Compacted { compact_revision: compact });
    }
    if req.revision > current {
        return Err(StoreError::FutureRevision);
    }
    let range = KeyRange::new(&req.key, &req.range_end);
    let sort_order = SortOrder::try_from(req.sort_order).unwrap_or(SortOrder::None);
    let sort_target = SortTarget::try_from(req.sort_target).unwrap_or(SortTarget::Key);
    let filtered = req.min_mod_revision > 0
        || req.max_mod_revision > 0
        || req.min_create_revision > 0
        || req.max_create_revision > 0;
    let needs_all = req.count_only
        || filtered
        || sort_order != SortOrder::None && !(sort_target == SortTarget::Key && sort_order == SortOrder::Ascend);
    // Fetch one more than the limit to know whether there is more.
    let fetch = if needs_all || req.limit <= 0 { 0 } else { req.limit as usize + 1 };
    let mut kvs = if req.revision == 0 || req.revision == current {
        current_kvs(view, &range, overlay, fetch)?
    } else {
        kvs_at(view, &range, req.revision, fetch)?
    };
    // etcd counts the keys in the range before the revision filters.
    let fetched = kvs.len();
    kvs.retain(|kv| {
        (req.min_mod_revision == 0 || kv.mod_revision >= req.min_mod_revision)
            && (req.max_mod_revision == 0 || kv.mod_revision <= req.max_mod_revision)
            && (req.min_create_revision == 0 || kv.create_revision >= req.min_create_revision)
            && (req.max_create_revision == 0 || kv.create_revision <= req.max_create_revision)
    });
    let count = if fetch > 0 && fetched == fetch {
        // There are more keys than we fetched: count them all.
        count_keys(view, &range, req.revision, current, overlay)?
    } else {
        fetched
    };
    let order =
        if sort_order == SortOrder::None && sort_target != SortTarget::Key { SortOrder::Ascend } else { sort_order };
    if order != SortOrder::None {
        match sort_target {
            SortTarget::Key => kvs.sort_by(|a, b| a.key.cmp(&b.key)),
            SortTarget::Version => kvs.sort_by_key(|kv| kv.version),
            SortTarget::Create => kvs.sort_by_key(|kv| kv.create_revision),
            SortTarget::Mod => kvs.sort_by_key(|kv| kv.mod_revision),
            SortTarget::Value => kvs.sort_by(|a, b| a.value.cmp(&b.value)),
        }
        if order == SortOrder::Descend {
            kvs.reverse();
        }
    }
    let mut more = false;
    if req.limit > 0 && kvs.len() > req.limit as usize {
        kvs.truncate(req.limit as usize);
        more = true;
    }
    if req.count_only {
        kvs.clear();
    } else if req.keys_only {
        for kv in &mut kvs {
            kv.value.clear();
        }
    }
    Ok(RangeResponse { header: None, kvs, more, count: count as i64 })
}

fn count_keys(
    view: &View<'_>,
    range: &KeyRange,
    rev: i64,
    current: i64,
    overlay: &Overlay,
) -> Result<usize, StoreError> {
    if rev == 0 || rev == current {
        Ok(current_kvs(view, range, overlay, 0)?.len())
    } else {
        Ok(kvs_at(view, range, rev, 0)?.len())
    }
}
