//! RocksDB layout: column families and key encodings.
//!
//! One RocksDB (one WAL) holds both the Raft log and the state machine, so a
//! synced log append also makes every earlier state-machine write durable.
//!
//! | CF        | key                                  | value                          |
//! |-----------|--------------------------------------|--------------------------------|
//! | `log`     | index (u64 BE)                       | bincode `Entry`                |
//! | `raft`    | `vote`, `committed`, `last_purged`   | bincode                        |
//! | `meta`    | `applied`, `membership`, `revision`, `compact`, `members` | bincode   |
//! | `kv`      | user key                             | `KeyValue` (latest, live only) |
//! | `hist`    | esc(key) ‖ rev BE ‖ sub BE           | tag byte ‖ `KeyValue`          |
//! | `revs`    | rev BE ‖ sub BE                      | user key                       |
//! | `lease`   | id (i64 BE)                          | bincode `LeaseRecord`          |
//! | `lkeys`   | id BE ‖ user key                     | empty                          |
//!
//! `esc` escapes 0x00 as 0x00 0xFF and ends with 0x00 0x01, which keeps the
//! byte order of user keys and delimits the key from the revision.

/// Raft log entries.
pub const CF_LOG: &str = "log";
/// Raft vote, committed and purge markers.
pub const CF_RAFT: &str = "raft";
/// State machine metadata.
pub const CF_META: &str = "meta";
/// Latest live version of each key.
pub const CF_KV: &str = "kv";
/// Every version of every key since the compact revision.
pub const CF_HIST: &str = "hist";
/// Revision index: which key changed at (rev, sub).
pub const CF_REVS: &str = "revs";
/// Leases.
pub const CF_LEASE: &str = "lease";
/// Keys attached to each lease.
pub const CF_LKEYS: &str = "lkeys";

/// Every column family.
pub const ALL_CFS: &[&str] = &[CF_LOG, CF_RAFT, CF_META, CF_KV, CF_HIST, CF_REVS, CF_LEASE, CF_LKEYS];
/// The column families that make up the state machine (snapshotted).
pub const SM_CFS: &[&str] = &[CF_META, CF_KV, CF_HIST, CF_REVS, CF_LEASE, CF_LKEYS];

/// History tag: a put.
pub const TAG_PUT: u8 = 0;
/// History tag: a delete (tombstone).
pub const TAG_DEL: u8 = 1;

/// Escape a user key so it sorts like the key and is self-delimiting.
pub fn esc(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 20);
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.push(0);
    out.push(1);
    out
}

/// History key of `key` at (rev, sub).
pub fn hist_key(key: &[u8], rev: i64, sub: u32) -> Vec<u8> {
    let mut k = esc(key);
    k.extend_from_slice(&(rev as u64).to_be_bytes());
    k.extend_from_slice(&sub.to_be_bytes());
    k
}

/// Split a history key into (escaped key prefix incl. terminator, rev, sub).
pub fn split_hist_key(k: &[u8]) -> (&[u8], i64, u32) {
    let n = k.len();
    let rev = u64::from_be_bytes(k[n - 12..n - 4].try_into().expect("8 bytes")) as i64;
    let sub = u32::from_be_bytes(k[n - 4..].try_into().expect("4 bytes"));
    (&k[..n - 12], rev, sub)
}

/// Undo [`esc`] on an escaped prefix that includes the terminator.
pub fn unesc(e: &[u8]) -> Vec<u8> {
    let body = &e[..e.len() - 2];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        out.push(body[i]);
        if body[i] == 0 {
            i += 1;
        }
        i += 1;
    }
    out
}

/// Revision-index key.
pub fn rev_key(rev: i64, sub: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&(rev as u64).to_be_bytes());
    k[8..].copy_from_slice(&sub.to_be_bytes());
    k
}

/// Decode a revision-index key.
pub fn split_rev_key(k: &[u8]) -> (i64, u32) {
    let rev = u64::from_be_bytes(k[..8].try_into().expect("8 bytes")) as i64;
    let sub = u32::from_be_bytes(k[8..12].try_into().expect("4 bytes"));
    (rev, sub)
}

/// Lease-keys key.
pub fn lkey(id: i64, key: &[u8]) -> Vec<u8> {
    let mut k = (id as u64).to_be_bytes().to_vec();
    k.extend_from_slice(key);
    k
}

/// etcd key range semantics: `range_end` empty = just `key`; `[0]` = every
/// key >= `key`; otherwise `[key, range_end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// Inclusive start.
    pub start: Vec<u8>,
    /// Exclusive end; `None` = unbounded. Single-key ranges use `Some(key\0)`.
    pub end: Option<Vec<u8>>,
}

impl KeyRange {
    /// Build from an etcd (key, range_end) pair.
    pub fn new(key: &[u8], range_end: &[u8]) -> Self {
        if range_end.is_empty() {
            let mut end = key.to_vec();
            end.push(0);
            KeyRange { start: key.to_vec(), end: Some(end) }
        } else if range_end == [0] {
            KeyRange { start: key.to_vec(), end: None }
        } else {
            KeyRange { start: key.to_vec(), end: Some(range_end.to_vec()) }
        }
    }

    /// True when the range holds exactly one key.
    pub fn is_single(&self) -> bool {
        matches!(&self.end, Some(e) if e.len() == self.start.len() + 1 && e.starts_with(&self.start) && e[e.len()-1] == 0)
    }

    /// Whether `k` lies in the range.
    pub fn contains(&self, k: &[u8]) -> bool {
        k >= self.start.as_slice() && self.end.as_ref().is_none_or(|e| k < e.as_slice())
    }

    /// Whether the ranges overlap.
    pub fn overlaps(&self, o: &KeyRange) -> bool {
        let a_before_b = self.end.as_ref().is_some_and(|e| e.as_slice() <= o.start.as_slice());
        let b_before_a = o.end.as_ref().is_some_and(|e| e.as_slice() <= self.start.as_slice());
        !(a_before_b || b_before_a)
    }
}

/// Meta key: applied log id.
pub const META_APPLIED: &[u8] = b"applied";
/// Meta key: membership.
pub const META_MEMBERSHIP: &[u8] = b"membership";
/// Meta key: store revision.
pub const META_REVISION: &[u8] = b"revision";
/// Meta key: compact revision.
pub const META_COMPACT: &[u8] = b"compact";
/// Meta key prefix: published member attributes.
pub const META_MEMBER_PREFIX: &[u8] = b"member:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_order_and_roundtrips() {
        let keys: Vec<&[u8]> = vec![b"", b"\0", b"\0\0", b"\0\x01", b"a", b"a\0", b"a\0b", b"a\x01", b"ab", b"b"];
        for w in keys.windows(2) {
            assert!(esc(w[0]) < esc(w[1]), "{:?} < {:?}", w[0], w[1]);
            assert!(hist_key(w[0], i64::MAX, u32::MAX) < hist_key(w[1], 0, 0));
        }
        for k in keys {
            assert_eq!(unesc(&esc(k)), k);
            let hk = hist_key(k, 42, 7);
            let (p, r, s) = split_hist_key(&hk);
            assert_eq!((unesc(p), r, s), (k.to_vec(), 42, 7));
        }
    }

    #[test]
    fn ranges_follow_etcd_rules() {
        let single = KeyRange::new(b"foo", b"");
        assert!(single.is_single() && single.contains(b"foo") && !single.contains(b"foo0"));
        let all = KeyRange::new(b"a", b"\0");
        assert!(all.contains(b"zzz") && !all.contains(b"0"));
        let pre = KeyRange::new(b"a/", b"a0");
        assert!(pre.contains(b"a/b") && !pre.contains(b"a0"));
        assert!(pre.overlaps(&KeyRange::new(b"a/x", b"")));
        assert!(!pre.overlaps(&KeyRange::new(b"b", b"")));
    }
}
