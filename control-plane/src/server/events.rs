//! Decoded watch events shared by every watcher of a replica.
//!
//! A write seen by a thousand watchers is parsed and serialized once: the
//! first watcher to convert a (revision, key) stores the decoded object and
//! its JSON here, the others reuse them. Bounded: the cache keeps the most
//! recent [`PER_SHARD`] × [`SHARDS`] entries.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;

/// Shards of the cache (independent locks).
const SHARDS: usize = 16;
/// Entries kept per shard.
const PER_SHARD: usize = 1024;

/// An object as a watch event carries it.
#[derive(Debug)]
pub struct Decoded {
    /// The object, `metadata.resourceVersion` set.
    pub object: Value,
    /// Its JSON encoding.
    pub json: Bytes,
}

impl Decoded {
    /// Wrap an object, encoding it once.
    pub fn new(object: Value) -> Arc<Decoded> {
        let json = Bytes::from(serde_json::to_vec(&object).unwrap_or_default());
        Arc::new(Decoded { object, json })
    }
}

type Shard = Mutex<(HashMap<(i64, Vec<u8>), Arc<Decoded>>, VecDeque<(i64, Vec<u8>)>)>;

/// The cache.
pub struct EventCache {
    shards: Vec<Shard>,
}

impl Default for EventCache {
    fn default() -> Self {
        EventCache { shards: (0..SHARDS).map(|_| Mutex::new((HashMap::new(), VecDeque::new()))).collect() }
    }
}

impl EventCache {
    /// The decoded object for (`rev`, `key`), made by `make` on a miss.
    /// `make` runs outside the lock.
    pub fn get_or(&self, rev: i64, key: &[u8], make: impl FnOnce() -> Option<Value>) -> Option<Arc<Decoded>> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (rev, key).hash(&mut h);
        let shard = &self.shards[(h.finish() as usize) % SHARDS];
        if let Some(d) = shard.lock().0.get(&(rev, key.to_vec())) {
            return Some(d.clone());
        }
        let d = Decoded::new(make()?);
        let mut g = shard.lock();
        let id = (rev, key.to_vec());
        if let Some(existing) = g.0.get(&id) {
            return Some(existing.clone());
        }
        g.0.insert(id.clone(), d.clone());
        g.1.push_back(id);
        while g.1.len() > PER_SHARD {
            if let Some(old) = g.1.pop_front() {
                g.0.remove(&old);
            }
        }
        Some(d)
    }
}
