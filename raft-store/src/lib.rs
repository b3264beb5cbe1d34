//! raft-store: a durable, linearizable MVCC key-value store on openraft and
//! RocksDB that speaks etcd's v3 gRPC API.
//!
//! - One revision for the whole keyspace: a write's revision is the Raft log
//!   index of its entry. Every version is kept until compacted; ranges can be
//!   read at any revision at or above the compact revision.
//! - Nothing acknowledged is lost: log appends are fsynced (group commit)
//!   before openraft counts them, and a write is acknowledged only once a
//!   majority has it.
//! - Any member serves any request (followers forward writes and obtain read
//!   indexes from the leader).
//! - Leader-only tasks can fence their writes to the term they started in
//!   ([`command::Request::fence_term`]).
//!
//! Layout: [`types`] (openraft config), [`command`] (what the log carries),
//! [`keys`] (RocksDB layout), [`log_store`], [`state_machine`], [`mvcc`],
//! [`watch_hub`], [`snapshot`], [`lessor`], [`peer`] (transport),
//! [`store`] (the member's API), [`etcd_api`], [`server`], [`cli`].

// openraft's `StorageError` (our storage functions' error) is large by
// design; boxing it at every call would fight openraft's own signatures.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod command;
pub mod engine;
pub mod error;
pub mod etcd_api;
pub mod keys;
pub mod lessor;
pub mod log_store;
pub mod mvcc;
pub mod peer;
pub mod server;
pub mod snapshot;
pub mod state_machine;
pub mod store;
pub mod types;
pub mod watch_hub;

/// The etcd version raft-store reports in `Status` (the API level it serves).
pub const ETCD_VERSION: &str = "3.4.0";

pub use error::StoreError;
pub use store::{Store, StoreConfig};
