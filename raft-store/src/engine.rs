//! Opening the one RocksDB that holds a member's Raft log and state machine.

use std::path::Path;
use std::sync::Arc;

use rocksdb::{ColumnFamilyDescriptor, Options, DB};

use crate::keys::ALL_CFS;

/// The shared database handle.
pub type Db = Arc<DB>;

/// Errors opening the database.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// RocksDB refused to open the directory.
    #[error("cannot open RocksDB at {path}: {source}; is another member using this --data-dir?")]
    Open {
        /// The directory.
        path: String,
        /// RocksDB's error.
        #[source]
        source: rocksdb::Error,
    },
}

fn db_options() -> Options {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_max_background_jobs(2);
    opts.set_bytes_per_sync(1 << 20);
    opts
}

/// Open (or create) the database under `dir` with every column family.
pub fn open(dir: &Path) -> Result<Db, EngineError> {
    let cfs = ALL_CFS.iter().map(|n| ColumnFamilyDescriptor::new(*n, Options::default()));
    DB::open_cf_descriptors(&db_options(), dir, cfs)
        .map(Arc::new)
        .map_err(|source| EngineError::Open { path: dir.display().to_string(), source })
}

/// Open a checkpoint read-only (used when installing a snapshot).
pub fn open_read_only(dir: &Path) -> Result<DB, EngineError> {
    DB::open_cf_for_read_only(&db_options(), dir, ALL_CFS.iter().copied(), false)
        .map_err(|source| EngineError::Open { path: dir.display().to_string(), source })
}

/// Convert any displayable error into an openraft storage error.
pub fn sto_err<E: std::fmt::Display>(
    subject: openraft::ErrorSubject<crate::types::NodeId>,
    verb: openraft::ErrorVerb,
) -> impl FnOnce(E) -> crate::types::StorageError {
    move |e| openraft::StorageIOError::new(subject, verb, openraft::AnyError::error(e.to_string())).into()
}
