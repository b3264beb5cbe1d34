//! The per-member watch hub: every applied event is published here, in
//! revision order, to the watchers whose key range it touches.
//!
//! Guarantees:
//! - A subscriber from revision `r` receives every event with revision >= `r`
//!   exactly once and in order: older events come from RocksDB history, recent
//!   ones from an in-memory ring, and registration happens under the same lock
//!   that publishing takes, so nothing falls between the two.
//! - A watcher that cannot keep up (its channel is full) is dropped from the
//!   hub instead of blocking apply; its stream notices and re-subscribes from
//!   the next revision it has not delivered, catching up from history.
//! - Subscribing below the compact revision fails with the compact revision.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use proto::mvccpb::{event::EventType, Event, KeyValue};
use tokio::sync::mpsc;

use crate::engine::Db;
use crate::error::StoreError;
use crate::keys::{hist_key, rev_key, split_rev_key, KeyRange, CF_HIST, CF_REVS};
use crate::mvcc::{decode_version, read::prev_version, Version};

/// Events kept in memory for catching up new watchers.
const RING_EVENTS: usize = 65_536;
/// Batches a watcher may have queued before it is considered slow.
const WATCHER_QUEUE: usize = 1024;

/// What a watcher receives.
#[derive(Debug, Clone)]
pub enum HubMsg {
    /// Events of one revision, already filtered to the watcher's range.
    Events(i64, Arc<Vec<Event>>),
    /// Everything up to this revision has been delivered.
    Progress(i64),
}

/// A registered watcher.
pub struct Subscription {
    /// Hub id of the watcher (for unsubscribe and progress requests).
    pub id: u64,
    /// The first revision this subscription covers (backlog included).
    pub from: i64,
    /// The hub's last published revision at registration.
    pub registered_at: i64,
    /// Events from the requested start revision up to registration.
    pub backlog: Vec<(i64, Vec<Event>)>,
    /// Later events. Closed when the watcher lagged or the hub was reset:
    /// re-subscribe from the next undelivered revision.
    pub rx: mpsc::Receiver<HubMsg>,
}

struct Slot {
    range: KeyRange,
    tx: mpsc::Sender<HubMsg>,
}

struct Inner {
    ring: VecDeque<(i64, Arc<Vec<Event>>)>,
    ring_events: usize,
    /// The ring holds every event with revision > `ring_floor`.
    ring_floor: i64,
    last_rev: i64,
    compact: i64,
    watchers: HashMap<u64, Slot>,
    next_id: u64,
}

/// The hub. One per member, shared by the state machine (publisher) and the
/// watch servers (subscribers).
pub struct WatchHub {
    db: Db,
    inner: Mutex<Inner>,
    install_lock: Arc<parking_lot::RwLock<()>>,
}

impl WatchHub {
    /// A hub whose store is at `rev` with compact revision `compact`.
    pub fn new(db: Db, rev: i64, compact: i64, install_lock: Arc<parking_lot::RwLock<()>>) -> Self {
        WatchHub {
            db,
            install_lock,
            inner: Mutex::new(Inner {
                ring: VecDeque::new(),
                ring_events: 0,
                ring_floor: rev,
                last_rev: rev,
                compact,
                watchers: HashMap::new(),
                next_id: 1,
            }),
        }
    }

    /// The last published revision.
    pub fn last_rev(&self) -> i64 {
        self.inner.lock().last_rev
    }

    /// Publish the events of one applied revision. Called by the state
    /// machine after the revision is written to RocksDB.
    pub fn publish(&self, rev: i64, events: Vec<Event>) {
        let events = Arc::new(events);
        let mut g = self.inner.lock();
        g.last_rev = rev;
        g.ring_events += events.len();
        g.ring.push_back((rev, events.clone()));
        while g.ring_events > RING_EVENTS {
            let (r, e) = g.ring.pop_front().expect("non-empty ring");
            g.ring_events -= e.len();
            g.ring_floor = r;
        }
        let mut lagged = Vec::new();
        for (id, slot) in g.watchers.iter() {
            let inside = |e: &Event| slot.range.contains(&e.kv.as_ref().expect("event kv").key);
            // The common case (every event in the watcher's range) shares
            // the batch instead of copying it per watcher.
            let mine = if events.iter().all(inside) {
                events.clone()
            } else {
                let v: Vec<Event> = events.iter().filter(|e| inside(e)).cloned().collect();
                if v.is_empty() {
                    continue;
                }
                Arc::new(v)
            };
            if slot.tx.try_send(HubMsg::Events(rev, mine)).is_err() {
                lagged.push(*id);
            }
        }
        for id in lagged {
            g.watchers.remove(&id);
        }
    }

    /// Record a new compact revision.
    pub fn set_compact(&self, compact: i64) {
        self.inner.lock().compact = compact;
    }

    /// Forget everything in memory after a snapshot was installed; every
    /// watcher is dropped and catches up from history.
    pub fn reset(&self, rev: i64, compact: i64) {
        let mut g = self.inner.lock();
        g.ring.clear();
        g.ring_events = 0;
        g.ring_floor = rev;
        g.last_rev = rev;
        g.compact = compact;
        g.watchers.clear();
    }

    /// Remove a watcher.
    pub fn unsubscribe(&self, id: u64) {
        self.inner.lock().watchers.remove(&id);
    }

    /// Ask for a progress marker on watcher `id`'s channel, ordered after
    /// every event already sent to it.
    pub fn request_progress(&self, id: u64) {
        let g = self.inner.lock();
        if let Some(slot) = g.watchers.get(&id) {
            let _ = slot.tx.try_send(HubMsg::Progress(g.last_rev));
        }
    }

    /// Subscribe to `range` from `start_rev` (0 = from the next revision).
    pub fn subscribe(&self, range: KeyRange, start_rev: i64) -> Result<Subscription, StoreError> {
        let mut backlog: Vec<(i64, Vec<Event>)> = Vec::new();
        let mut from = start_rev;
        loop {
            let upto = {
                let mut g = self.inner.lock();
                if from > 0 && from < g.compact {
                    return Err(StoreError::Compacted { compact_revision: g.compact });
                }
                if from <= 0 || from > g.ring_floor {
                    for (rev, evs) in g.ring.iter() {
                        if from > 0 && *rev >= from {
                            let mine: Vec<Event> = evs
                                .iter()
                                .filter(|e| range.contains(&e.kv.as_ref().expect("kv").key))
                                .cloned()
                                .collect();
                            if !mine.is_empty() {
                                backlog.push((*rev, mine));
                            }
                        }
                    }
                    let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
                    let id = g.next_id;
                    g.next_id += 1;
                    g.watchers.insert(id, Slot { range, tx });
                    let from = if start_rev > 0 { start_rev } else { g.last_rev + 1 };
                    return Ok(Subscription { id, from, registered_at: g.last_rev, backlog, rx });
                }
                g.ring_floor
            };
            // Older than the ring: read history up to the ring's floor
            // without holding the lock, then look again.
            self.read_history(&range, from, upto, &mut backlog)?;
            from = upto + 1;
        }
    }

    fn read_history(
        &self,
        range: &KeyRange,
        from: i64,
        upto: i64,
        out: &mut Vec<(i64, Vec<Event>)>,
    ) -> Result<(), StoreError> {
        let internal = |e: String| StoreError::Internal(e);
        let readers = self.install_lock.read();
        let revs = self.db.cf_handle(CF_REVS).expect("cf revs");
        let hist = self.db.cf_handle(CF_HIST).expect("cf hist");
        let mut it = self.db.raw_iterator_cf(revs);
        it.seek(rev_key(from, 0));
        while it.valid() {
            let (rev, sub) = split_rev_key(it.key().expect("valid"));
            if rev > upto {
                break;
            }
            let key = it.value().expect("valid").to_vec();
            it.next();
            if !range.contains(&key) {
                continue;
            }
            let Some(raw) =
                self.db.get_pinned_cf(hist, hist_key(&key, rev, sub)).map_err(|e| internal(e.to_string()))?
            else {
                continue;
            };
            let version = decode_version(&raw).map_err(|e| internal(e.to_string()))?;
            let prev = prev_version(&self.db, &key, rev, sub)?;
            let ev = match version {
                Version::Put(kv) => Event { r#type: EventType::Put as i32, kv: Some(kv), prev_kv: prev },
                Version::Deleted { key, rev } => Event {
                    r#type: EventType::Delete as i32,
                    kv: Some(KeyValue { key, mod_revision: rev, ..Default::default() }),
                    prev_kv: prev,
                },
            };
            match out.last_mut() {
                Some((r, evs)) if *r == rev => evs.push(ev),
                _ => out.push((rev, vec![ev])),
            }
        }
        it.status().map_err(|e| internal(e.to_string()))?;
        drop(it);
        drop(readers);
        // A compaction may have run while we read: then what we read may
        // have holes, and the caller must learn it.
        let compact = self.inner.lock().compact;
        if from < compact {
            return Err(StoreError::Compacted { compact_revision: compact });
        }
        Ok(())
    }
}
