//! The replicated state machine: applies committed entries to the MVCC
//! store in RocksDB and publishes their events to the watch hub.
//!
//! Guarantees:
//! - Each entry's data, the applied log id and (for membership entries) the
//!   membership are written in one RocksDB write batch.
//! - State-machine writes are not synced on their own; they share the WAL
//!   with the log, whose synced appends make them durable, and openraft
//!   re-applies `(applied, committed]` after a crash.
//! - A fenced request is applied only if its entry was proposed by the
//!   leader of the fence term.
//! - A request that fails writes nothing but its applied log id.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder, Snapshot, SnapshotMeta};
use parking_lot::RwLock;
use prost::Message;
use proto::etcdserverpb::{DeleteRangeRequest, PutRequest, TxnRequest};
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use crate::command::{Op, Outcome, Request, WriteResult};
use crate::engine::{sto_err, Db};
use crate::error::StoreError;
use crate::keys::{rev_key, split_rev_key, CF_HIST, CF_LEASE, CF_META, CF_REVS};
use crate::mvcc::apply::Applier;
use crate::mvcc::{decode_version, Version};
use crate::snapshot;
use crate::types::{Entry, LogId, StorageError, StoredMembership, TypeConfig};
use crate::watch_hub::WatchHub;

use crate::keys::{
    META_APPLIED as KEY_APPLIED, META_COMPACT as KEY_COMPACT, META_MEMBERSHIP as KEY_MEMBERSHIP,
    META_MEMBER_PREFIX as MEMBER_PREFIX, META_REVISION as KEY_REVISION,
};

/// Published attributes of a member.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MemberAttrs {
    /// Name (`--name`).
    pub name: String,
    /// Client URLs.
    pub client_urls: Vec<String>,
}

/// A lease as stored.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// Id.
    pub id: i64,
    /// Granted TTL in seconds.
    pub ttl: i64,
}

/// State-machine state shared with the serving side of the member.
pub struct SmShared {
    /// The database.
    pub db: Db,
    /// Watch hub fed by apply.
    pub hub: WatchHub,
    /// Current store revision.
    pub revision: AtomicI64,
    /// Compact revision.
    pub compact: AtomicI64,
    /// Index of the last applied entry.
    pub applied_index: AtomicU64,
    /// Published member attributes by id.
    pub members: RwLock<BTreeMap<u64, MemberAttrs>>,
    /// Live leases: id → granted TTL.
    pub leases: RwLock<BTreeMap<i64, i64>>,
    /// Held shared by readers outside the apply path (ranges, read-only
    /// txns, watch history) and exclusively while a snapshot replaces the
    /// state, so nobody reads a half-loaded database.
    pub install_lock: Arc<RwLock<()>>,
    /// Set while a snapshot is being received or installed (shared with the
    /// log store, which defers purges past the applied index meanwhile).
    pub installing: Arc<std::sync::atomic::AtomicBool>,
}

fn meta_get<T: serde::de::DeserializeOwned>(db: &Db, key: &[u8]) -> Result<Option<T>, StorageError> {
    let cf = db.cf_handle(CF_META).expect("cf meta");
    match db.get_cf(cf, key).map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Read))? {
        None => Ok(None),
        Some(b) => bincode::deserialize(&b).map(Some).map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Read)),
    }
}

/// (revision, compact revision, applied log id) as stored.
fn read_counters(db: &Db) -> Result<(i64, i64, Option<LogId>), StorageError> {
    Ok((
        meta_get(db, KEY_REVISION)?.unwrap_or(0),
        meta_get(db, KEY_COMPACT)?.unwrap_or(0),
        meta_get::<Option<LogId>>(db, KEY_APPLIED)?.flatten(),
    ))
}

fn ser<T: Serialize>(v: &T) -> Vec<u8> {
    bincode::serialize(v).expect("bincode of plain data")
}

impl SmShared {
    /// Load the shared state from the database.
    pub fn load(db: Db) -> Result<Arc<Self>, StorageError> {
        let (rev, compact, applied) = read_counters(&db)?;
        let install_lock = Arc::new(RwLock::new(()));
        let hub = WatchHub::new(db.clone(), rev, compact, install_lock.clone());
        let s = Arc::new(SmShared {
            db: db.clone(),
            hub,
            revision: AtomicI64::new(rev),
            compact: AtomicI64::new(compact),
            applied_index: AtomicU64::new(applied.map_or(0, |l| l.index)),
            members: RwLock::new(BTreeMap::new()),
            leases: RwLock::new(BTreeMap::new()),
            install_lock,
            installing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        });
        s.reload_tables()?;
        Ok(s)
    }

    fn reload_tables(&self) -> Result<(), StorageError> {
        let meta = self.db.cf_handle(CF_META).expect("cf meta");
        let mut members = BTreeMap::new();
        for r in self.db.prefix_iterator_cf(meta, MEMBER_PREFIX) {
            let (k, v) = r.map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Read))?;
            if !k.starts_with(MEMBER_PREFIX) {
                break;
            }
            let id = u64::from_be_bytes(k[MEMBER_PREFIX.len()..].try_into().unwrap_or([0; 8]));
            if let Ok(a) = bincode::deserialize::<MemberAttrs>(&v) {
                members.insert(id, a);
            }
        }
        *self.members.write() = members;
        let lcf = self.db.cf_handle(CF_LEASE).expect("cf lease");
        let mut leases = BTreeMap::new();
        for r in self.db.iterator_cf(lcf, rocksdb::IteratorMode::Start) {
            let (_, v) = r.map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Read))?;
            if let Ok(l) = bincode::deserialize::<LeaseRecord>(&v) {
                leases.insert(l.id, l.ttl);
            }
        }
        *self.leases.write() = leases;
        Ok(())
    }

    /// Re-read everything after a snapshot was installed.
    pub fn reload_after_install(&self) -> Result<(), StorageError> {
        let (rev, compact, applied) = read_counters(&self.db)?;
        self.revision.store(rev, Ordering::SeqCst);
        self.compact.store(compact, Ordering::SeqCst);
        self.applied_index.store(applied.map_or(0, |l| l.index), Ordering::SeqCst);
        self.reload_tables()?;
        self.hub.reset(rev, compact);
        Ok(())
    }
}

/// The openraft state machine.
pub struct StateMachine {
    shared: Arc<SmShared>,
    snap_dir: PathBuf,
    receiving: Option<PathBuf>,
}

impl StateMachine {
    /// A state machine over the shared state, keeping snapshots in `snap_dir`.
    pub fn new(shared: Arc<SmShared>, snap_dir: PathBuf) -> Self {
        StateMachine { shared, snap_dir, receiving: None }
    }

    fn apply_one(&self, entry: &Entry) -> Result<WriteResult, StorageError> {
        let db = &self.shared.db;
        let meta = db.cf_handle(CF_META).expect("cf meta");
        let base_rev = self.shared.revision.load(Ordering::SeqCst);
        let compact = self.shared.compact.load(Ordering::SeqCst);
        let index = entry.log_id.index;
        let mut applier = Applier::new(db, base_rev, compact);
        let mut extra: ExtraWrites = Vec::new();
        let mut after: AfterApply = Vec::new();

        let outcome: Result<Outcome, StoreError> = match &entry.payload {
            EntryPayload::Blank => Ok(Outcome::Done),
            EntryPayload::Membership(m) => {
                let sm = StoredMembership::new(Some(entry.log_id), m.clone());
                extra.push((CF_META, KEY_MEMBERSHIP.to_vec(), Some(ser(&sm))));
                Ok(Outcome::Done)
            }
            EntryPayload::Normal(Request { op: Op::Batch(items), .. }) => {
                let mut results = Vec::with_capacity(items.len());
                for item in items {
                    applier.begin_item();
                    let r = if item.op.batchable() {
                        self.execute(entry, item, &mut applier, &mut extra, &mut after)
                    } else {
                        Err(StoreError::Malformed("only Put, DeleteRange and Txn may be batched".into()))
                    };
                    if r.is_ok() {
                        applier.commit_item();
                    } else {
                        applier.rollback_item();
                    }
                    results.push(WriteResult { revision: applier.committed_rev(), index, outcome: r });
                }
                Ok(Outcome::Batch(results))
            }
            EntryPayload::Normal(req) => {
                applier.begin_item();
                let r = self.execute(entry, req, &mut applier, &mut extra, &mut after);
                if r.is_ok() {
                    applier.commit_item();
                } else {
                    applier.rollback_item();
                }
                r
            }
        };
        let mut batch = std::mem::take(&mut applier.batch);
        if outcome.is_ok() {
            for (cf_name, k, v) in batch_items(&extra) {
                let cf = db.cf_handle(cf_name).expect("known cf");
                match v {
                    Some(v) => batch.put_cf(cf, k, v),
                    None => batch.delete_cf(cf, k),
                }
            }
        }
        let mutated = applier.mutated();
        let rev = applier.committed_rev();
        batch.put_cf(meta, KEY_APPLIED, ser(&Some(entry.log_id)));
        if mutated {
            batch.put_cf(meta, KEY_REVISION, ser(&rev));
        }
        db.write(batch).map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Write))?;
        self.shared.applied_index.store(index, Ordering::SeqCst);
        if mutated {
            self.shared.revision.store(rev, Ordering::SeqCst);
            // one publish per revision, in order
            let mut events = std::mem::take(&mut applier.events).into_iter().peekable();
            while let Some((r, first)) = events.next() {
                let mut group = vec![first];
                while let Some((_, e)) = events.next_if(|(r2, _)| *r2 == r) {
                    group.push(e);
                }
                self.shared.hub.publish(r, group);
            }
        }
        if outcome.is_ok() {
            for f in after {
                f(&self.shared);
            }
        }
        Ok(WriteResult { revision: self.shared.revision.load(Ordering::SeqCst), index, outcome })
    }

    fn execute(
        &self,
        entry: &Entry,
        req: &Request,
        applier: &mut Applier<'_>,
        extra: &mut ExtraWrites,
        after: &mut AfterApply,
    ) -> Result<Outcome, StoreError> {
        if let Some(fence) = req.fence_term {
            let term = entry.log_id.leader_id.term;
            if fence != term {
                return Err(StoreError::Fenced { fence_term: fence, entry_term: term });
            }
        }
        let malformed = |e: prost::DecodeError| StoreError::Malformed(e.to_string());
        match &req.op {
            Op::Put(b) => {
                let r = PutRequest::decode(b.as_slice()).map_err(malformed)?;
                Ok(Outcome::Encoded(applier.put(&r)?.encode_to_vec()))
            }
            Op::DeleteRange(b) => {
                let r = DeleteRangeRequest::decode(b.as_slice()).map_err(malformed)?;
                Ok(Outcome::Encoded(applier.delete_range(&r)?.encode_to_vec()))
            }
            Op::Txn(b) => {
                let r = TxnRequest::decode(b.as_slice()).map_err(malformed)?;
                Ok(Outcome::Encoded(applier.txn(&r)?.encode_to_vec()))
            }
            Op::Compact { revision } => {
                let revision = *revision;
                if revision > applier.base_rev {
                    return Err(StoreError::FutureRevision);
                }
                let old = self.shared.compact.load(Ordering::SeqCst);
                if revision < old {
                    return Err(StoreError::Compacted { compact_revision: old });
                }
                let db = &self.shared.db;
                if revision > old {
                    // Publish the new compact revision before deleting anything,
                    // so no reader can see history with holes.
                    let meta = db.cf_handle(CF_META).expect("cf meta");
                    db.put_cf(meta, KEY_COMPACT, ser(&revision)).map_err(|e| StoreError::Internal(e.to_string()))?;
                    self.shared.compact.store(revision, Ordering::SeqCst);
                    self.shared.hub.set_compact(revision);
                }
                // Idempotent: a re-applied compaction (after a crash) finishes
                // the work and answers as a repeated one would.
                compact_history(db, revision).map_err(|e| StoreError::Internal(e.to_string()))?;
                if revision == old {
                    return Err(StoreError::Compacted { compact_revision: old });
                }
                Ok(Outcome::Done)
            }
            Op::LeaseGrant { id, ttl } => {
                let (id, ttl) = (*id, *ttl);
                if id <= 0 {
                    return Err(StoreError::InvalidArgument("lease id must be positive".into()));
                }
                if self.shared.leases.read().contains_key(&id) {
                    return Err(StoreError::LeaseExists);
                }
                extra.push((CF_LEASE, (id as u64).to_be_bytes().to_vec(), Some(ser(&LeaseRecord { id, ttl }))));
                after.push(Box::new(move |s: &SmShared| {
                    s.leases.write().insert(id, ttl);
                }));
                Ok(Outcome::LeaseGranted { id, ttl })
            }
            Op::LeaseRevoke { ids, expired } => {
                for id in ids {
                    let found = applier.revoke_lease(*id)?;
                    if !found && !expired {
                        return Err(StoreError::LeaseNotFound);
                    }
                }
                let ids = ids.clone();
                after.push(Box::new(move |s: &SmShared| {
                    let mut l = s.leases.write();
                    for id in ids {
                        l.remove(&id);
                    }
                }));
                Ok(Outcome::Done)
            }
            Op::PublishMember { id, name, client_urls } => {
                let attrs = MemberAttrs { name: name.clone(), client_urls: client_urls.clone() };
                let mut k = MEMBER_PREFIX.to_vec();
                k.extend_from_slice(&id.to_be_bytes());
                extra.push((CF_META, k, Some(ser(&attrs))));
                let id = *id;
                after.push(Box::new(move |s: &SmShared| {
                    s.members.write().insert(id, attrs);
                }));
                Ok(Outcome::Done)
            }
            Op::Noop => Ok(Outcome::Done),
            Op::Batch(_) => Err(StoreError::Malformed("nested batch".into())),
        }
    }
}

/// Updates of in-memory state to run once an entry's batch is written.
type AfterApply = Vec<Box<dyn FnOnce(&SmShared)>>;

/// Writes outside the key-value applier: (cf, key, value or delete).
type ExtraWrites = Vec<(&'static str, Vec<u8>, Option<Vec<u8>>)>;

fn batch_items(extra: &ExtraWrites) -> impl Iterator<Item = (&'static str, &Vec<u8>, Option<&Vec<u8>>)> {
    extra.iter().map(|(c, k, v)| (*c, k, v.as_ref()))
}

/// Drop history below `to`: every revision-index entry below it and, for
/// every key changed below it, every version below it except the latest one
/// if that one is live (reads at `to` need it). Written in chunks; re-running
/// it is harmless.
fn compact_history(db: &Db, to: i64) -> Result<(), rocksdb::Error> {
    let revs = db.cf_handle(CF_REVS).expect("cf revs");
    let hist = db.cf_handle(CF_HIST).expect("cf hist");
    let mut it = db.raw_iterator_cf(revs);
    it.seek_to_first();
    loop {
        let mut batch = WriteBatch::default();
        let mut keys = std::collections::BTreeSet::new();
        let mut done = true;
        while it.valid() {
            let (rev, sub) = split_rev_key(it.key().expect("valid"));
            if rev >= to {
                break;
            }
            batch.delete_cf(revs, rev_key(rev, sub));
            keys.insert(it.value().expect("valid").to_vec());
            it.next();
            if keys.len() >= 10_000 {
                done = false;
                break;
            }
        }
        it.status()?;
        let mut hit = db.raw_iterator_cf(hist);
        for key in &keys {
            let prefix = crate::keys::esc(key);
            let mut probe = prefix.clone();
            probe.extend_from_slice(&((to - 1) as u64).to_be_bytes());
            probe.extend_from_slice(&u32::MAX.to_be_bytes());
            hit.seek_for_prev(&probe);
            let Some(latest) = hit
                .key()
                .filter(|k| k.len() >= 12 && crate::keys::split_hist_key(k).0 == prefix.as_slice())
                .map(<[u8]>::to_vec)
            else {
                continue;
            };
            let live = hit.value().and_then(|v| decode_version(v).ok()).is_some_and(|v| matches!(v, Version::Put(_)));
            batch.delete_range_cf(hist, &prefix, &latest);
            if !live {
                batch.delete_cf(hist, &latest);
            }
        }
        db.write(batch)?;
        if done {
            return Ok(());
        }
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = snapshot::Builder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let applied = meta_get::<Option<LogId>>(&self.shared.db, KEY_APPLIED)?.flatten();
        let membership = meta_get(&self.shared.db, KEY_MEMBERSHIP)?.unwrap_or_default();
        Ok((applied, membership))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<WriteResult>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut out = Vec::new();
        for e in entries {
            out.push(self.apply_one(&e)?);
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        snapshot::Builder::new(self.shared.db.clone(), self.snap_dir.clone())
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError> {
        self.shared.installing.store(true, Ordering::SeqCst);
        let (path, f) = snapshot::incoming_file(&self.snap_dir).await?;
        if let Some(old) = self.receiving.replace(path) {
            let _ = tokio::fs::remove_file(old).await;
        }
        Ok(Box::new(f))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, crate::types::MemberNode>,
        mut snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError> {
        use std::os::unix::fs::MetadataExt;
        use tokio::io::AsyncSeekExt;
        let w = || sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Write);
        // openraft's contract is the handle. Normally it is the file we handed
        // out in begin_receiving_snapshot (same inode): sync and use it as is.
        // Otherwise copy the handle's contents into a file of our own.
        let received = self.receiving.take();
        let handle_ino = snapshot.metadata().await.map_err(w())?.ino();
        let ours = match &received {
            Some(p) => tokio::fs::metadata(p).await.ok().is_some_and(|m| m.ino() == handle_ino),
            None => false,
        };
        let path = if let (true, Some(p)) = (ours, received.clone()) {
            snapshot.sync_all().await.map_err(w())?;
            p
        } else {
            let (path, mut own) = snapshot::incoming_file(&self.snap_dir).await?;
            snapshot.seek(std::io::SeekFrom::Start(0)).await.map_err(w())?;
            tokio::io::copy(&mut *snapshot, &mut own).await.map_err(w())?;
            own.sync_all().await.map_err(w())?;
            if let Some(p) = received {
                let _ = tokio::fs::remove_file(p).await;
            }
            path
        };
        drop(snapshot);
        let shared = self.shared.clone();
        let dir = self.snap_dir.clone();
        let meta = meta.clone();
        tokio::task::spawn_blocking(move || {
            let _readers_out = shared.install_lock.write();
            snapshot::install(&shared.db, &dir, &path, &meta)?;
            shared.reload_after_install()
        })
        .await
        .map_err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Write))??;
        self.shared.installing.store(false, Ordering::SeqCst);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        snapshot::current(&self.snap_dir).await
    }
}

impl RaftSnapshotBuilder<TypeConfig> for snapshot::Builder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let b = self.clone();
        let (meta, f) = tokio::task::spawn_blocking(move || b.build_blocking())
            .await
            .map_err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Write))??;
        Ok(Snapshot { meta, snapshot: Box::new(tokio::fs::File::from_std(f)) })
    }
}

/// Read the applied log id and membership of a (checkpoint) database.
pub fn read_applied(db: &rocksdb::DB) -> Result<(Option<LogId>, StoredMembership), StorageError> {
    let cf = db.cf_handle(CF_META).expect("cf meta");
    let get = |k: &[u8]| db.get_cf(cf, k).map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Read));
    let applied = match get(KEY_APPLIED)? {
        Some(b) => {
            bincode::deserialize::<Option<LogId>>(&b).map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Read))?
        }
        None => None,
    };
    let membership = match get(KEY_MEMBERSHIP)? {
        Some(b) => bincode::deserialize(&b).map_err(sto_err(ErrorSubject::StateMachine, ErrorVerb::Read))?,
        None => StoredMembership::default(),
    };
    Ok((applied, membership))
}
