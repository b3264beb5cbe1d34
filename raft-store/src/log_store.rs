//! The Raft log and vote in RocksDB.
//!
//! Guarantees:
//! - An append is written with `sync = true` and reported flushed only after
//!   that write returned, so the WAL holding it is on disk. (openraft 0.9
//!   waits for each append's flush before its next step, so grouping happens
//!   above, in the member's proposal batcher: one entry carries many writes.)
//! - `save_vote`, `truncate` and `purge` are synced before they return.
//! - `last_purged` is persisted before the purged entries are deleted, so a
//!   crash in between never leaves a hole.
//! - While a snapshot is being received or installed, purges past the state
//!   machine's applied index are deferred to the install (which marks the
//!   log purged itself, [`mark_purged`]) and the saved committed index is
//!   clamped to the applied index: openraft asks to purge up to a received
//!   snapshot before the state machine has installed it, and a crash in
//!   between must not leave a restart with entries to re-apply that are gone
//!   (or that diverge from the leader's).

use std::ops::RangeBounds;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, OptionalSend};
use rocksdb::{Direction, IteratorMode, WriteBatch};

use crate::engine::{sto_err, Db};
use crate::keys::{CF_LOG, CF_META, CF_RAFT, META_APPLIED};
use crate::types::{Entry, LogId, StorageError, TypeConfig, Vote};

const KEY_VOTE: &[u8] = b"vote";
const KEY_COMMITTED: &[u8] = b"committed";
const KEY_PURGED: &[u8] = b"last_purged";

/// The log store. Cheap to clone; clones share the database.
#[derive(Clone)]
pub struct LogStore {
    db: Db,
    installing: Arc<AtomicBool>,
}

impl LogStore {
    /// A log store over `db`. `installing` is the state machine's "a snapshot is being received or
    /// installed" flag ([`crate::state_machine::SmShared::installing`]).
    pub fn new(db: Db, installing: Arc<AtomicBool>) -> Self {
        LogStore { db, installing }
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StorageError> {
        let cf = self.db.cf_handle(CF_RAFT).expect("cf raft");
        let v = self.db.get_cf(cf, key).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Read))?;
        match v {
            None => Ok(None),
            Some(b) => bincode::deserialize(&b).map(Some).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Read)),
        }
    }

    fn put_meta_synced<T: serde::Serialize>(&self, key: &[u8], v: &T) -> Result<(), StorageError> {
        let cf = self.db.cf_handle(CF_RAFT).expect("cf raft");
        let b = bincode::serialize(v).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))?;
        self.db.put_cf(cf, key, b).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))?;
        self.sync()
    }

    fn sync(&self) -> Result<(), StorageError> {
        self.db.flush_wal(true).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))
    }

    fn applied(&self) -> Result<Option<LogId>, StorageError> {
        let meta = self.db.cf_handle(CF_META).expect("cf meta");
        match self.db.get_cf(meta, META_APPLIED).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Read))? {
            Some(b) => bincode::deserialize::<Option<LogId>>(&b).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Read)),
            None => Ok(None),
        }
    }

    fn last_entry_log_id(&self) -> Result<Option<LogId>, StorageError> {
        let cf = self.db.cf_handle(CF_LOG).expect("cf log");
        let mut it = self.db.iterator_cf(cf, IteratorMode::End);
        match it.next() {
            None => Ok(None),
            Some(r) => {
                let (_, v) = r.map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Read))?;
                let e: Entry = bincode::deserialize(&v).map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Read))?;
                Ok(Some(e.log_id))
            }
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + std::fmt::Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        use std::ops::Bound::*;
        let start = match range.start_bound() {
            Included(s) => *s,
            Excluded(s) => s + 1,
            Unbounded => 0,
        };
        let cf = self.db.cf_handle(CF_LOG).expect("cf log");
        let mut out = Vec::new();
        let it = self.db.iterator_cf(cf, IteratorMode::From(&start.to_be_bytes(), Direction::Forward));
        for r in it {
            let (k, v) = r.map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Read))?;
            let idx = u64::from_be_bytes(k[..8].try_into().expect("8-byte index"));
            if !range.contains(&idx) {
                break;
            }
            out.push(bincode::deserialize(&v).map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Read))?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged: Option<LogId> = self.get_meta(KEY_PURGED)?;
        let last = self.last_entry_log_id()?.or(last_purged);
        Ok(LogState { last_purged_log_id: last_purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        self.put_meta_synced(KEY_VOTE, vote)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.get_meta(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // Not synced on its own: the next synced append carries it. A lost
        // committed marker only means re-applying less on restart.
        let committed = if self.installing.load(Ordering::SeqCst) {
            let applied = self.applied()?;
            if committed > applied {
                applied
            } else {
                committed
            }
        } else {
            committed
        };
        let cf = self.db.cf_handle(CF_RAFT).expect("cf raft");
        let b = bincode::serialize(&committed).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))?;
        self.db.put_cf(cf, KEY_COMMITTED, b).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.get_meta::<Option<LogId>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let cf = self.db.cf_handle(CF_LOG).expect("cf log");
        let mut batch = WriteBatch::default();
        for e in entries {
            let b = bincode::serialize(&e).map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Write))?;
            batch.put_cf(cf, e.log_id.index.to_be_bytes(), b);
        }
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(batch, &wo).map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Write))?;
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let cf = self.db.cf_handle(CF_LOG).expect("cf log");
        self.db
            .delete_range_cf(cf, log_id.index.to_be_bytes(), u64::MAX.to_be_bytes())
            .map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Delete))?;
        self.sync()
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        if self.installing.load(Ordering::SeqCst) && self.applied()?.is_none_or(|a| a.index < log_id.index) {
            // Deferred: the snapshot install marks the log purged once the
            // state machine holds the snapshot (see the module docs).
            tracing::debug!(upto = %log_id, "purge deferred until the snapshot is installed");
            return Ok(());
        }
        self.put_meta_synced(KEY_PURGED, &log_id)?;
        let cf = self.db.cf_handle(CF_LOG).expect("cf log");
        self.db
            .delete_range_cf(cf, 0u64.to_be_bytes(), (log_id.index + 1).to_be_bytes())
            .map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Delete))?;
        Ok(())
    }
}

/// Record that the log is purged up to `log_id` and delete those entries
/// (synced). Called once a snapshot covering them is installed.
pub fn mark_purged(db: &Db, log_id: LogId) -> Result<(), StorageError> {
    let raft = db.cf_handle(CF_RAFT).expect("cf raft");
    let log = db.cf_handle(CF_LOG).expect("cf log");
    let b = bincode::serialize(&log_id).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))?;
    db.put_cf(raft, KEY_PURGED, b).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))?;
    db.delete_range_cf(log, 0u64.to_be_bytes(), (log_id.index + 1).to_be_bytes())
        .map_err(sto_err(ErrorSubject::Logs, ErrorVerb::Delete))?;
    db.flush_wal(true).map_err(sto_err(ErrorSubject::Store, ErrorVerb::Write))
}
