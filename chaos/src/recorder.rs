//! Collects a run's records on one monotonic clock. Cheap to clone; every
//! workload, nemesis and observer task holds one.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::history::{History, Nanos, Record};

/// Shared history being written.
#[derive(Clone)]
pub struct Recorder {
    start: Instant,
    records: Arc<Mutex<Vec<Record>>>,
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub fn new() -> Self {
        Recorder { start: Instant::now(), records: Arc::new(Mutex::new(Vec::new())) }
    }

    /// Nanoseconds since the start.
    pub fn now(&self) -> Nanos {
        self.start.elapsed().as_nanos() as Nanos
    }

    /// Appends a record.
    pub fn push(&self, r: Record) {
        self.records.lock().push(r);
    }

    /// Number of records so far.
    pub fn len(&self) -> usize {
        self.records.lock().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies `f` to the records so far (for progress counters).
    pub fn with<T>(&self, f: impl FnOnce(&[Record]) -> T) -> T {
        f(&self.records.lock())
    }

    /// The history so far, ordered by the time each record happened
    /// (ops by completion, faults by start).
    pub fn snapshot(&self) -> History {
        History { records: self.records.lock().clone() }
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}
