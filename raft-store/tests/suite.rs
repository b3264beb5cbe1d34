//! The RocksDB log store and state machine pass openraft's own storage
//! test suite.

use openraft::testing::{StoreBuilder, Suite};
use raft_store::log_store::LogStore;
use raft_store::state_machine::{SmShared, StateMachine};
use raft_store::types::{StorageError, TypeConfig};

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Builder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = raft_store::engine::open(&dir.path().join("db")).expect("open rocksdb");
        let shared = SmShared::load(db.clone())?;
        let installing = shared.installing.clone();
        let sm = StateMachine::new(shared, dir.path().join("snap"));
        Ok((dir, LogStore::new(db, installing), sm))
    }
}

#[test]
fn rocksdb_store_passes_openraft_suite() {
    Suite::test_all(Builder).expect("openraft storage suite");
}
