//! raft-store integration tests: real member processes (or in-process
//! members), real RocksDB in temp dirs, real gRPC on 127.0.0.1, and the real
//! `etcdctl`.

mod harness;
mod t10_etcdctl;
mod t20_failover;
mod t30_snapshot_catchup;
mod t40_watch_resume;
mod t50_bad_input;
mod t60_fencing;
mod t70_mvcc;
