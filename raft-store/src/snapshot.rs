//! Snapshots: a RocksDB checkpoint packed into one file, streamed to
//! followers in chunks by openraft (the file is the `SnapshotData`, so no
//! snapshot is ever held whole in memory).
//!
//! Files under the snapshot directory:
//! - `snapshot-<id>.data`: the packed checkpoint (see [`pack`]).
//! - `snapshot.meta`: bincode `SnapshotMeta` of the current snapshot, written
//!   last and renamed into place, so it always names a complete data file.
//! - `restore.pending`: present while a received snapshot is being loaded
//!   into the live database; a restart finishes the load.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use openraft::{ErrorSubject, ErrorVerb, Snapshot, SnapshotMeta};
use rocksdb::checkpoint::Checkpoint;
use rocksdb::{IteratorMode, WriteBatch};

use crate::engine::{open_read_only, sto_err, Db};
use crate::keys::SM_CFS;
use crate::state_machine::read_applied;
use crate::types::{MemberNode, NodeId, StorageError, TypeConfig};

const MAGIC: &[u8; 8] = b"HMSNAP01";
const META_FILE: &str = "snapshot.meta";
const PENDING_FILE: &str = "restore.pending";
static SEQ: AtomicU64 = AtomicU64::new(0);
/// Serialises publishing and reading `snapshot.meta` (a build runs
/// concurrently with installs and reads).
static PUBLISH: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

type Meta = SnapshotMeta<NodeId, MemberNode>;

fn io_err(verb: ErrorVerb) -> impl FnOnce(std::io::Error) -> StorageError {
    sto_err(ErrorSubject::Snapshot(None), verb)
}

/// Path of the data file of snapshot `id`.
pub fn data_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("snapshot-{id}.data"))
}

/// Builds snapshots of a member's state machine.
#[derive(Clone)]
pub struct Builder {
    db: Db,
    /// Snapshot directory.
    pub dir: PathBuf,
}

impl Builder {
    /// A builder for `db` writing into `dir`.
    pub fn new(db: Db, dir: PathBuf) -> Self {
        Builder { db, dir }
    }

    /// Checkpoint, pack, publish. Blocking. Returns the current snapshot
    /// (ours, or a newer one an install published meanwhile), opened.
    pub fn build_blocking(&self) -> Result<(Meta, File), StorageError> {
        fs::create_dir_all(&self.dir).map_err(io_err(ErrorVerb::Write))?;
        let ckpt = self.dir.join(format!("ckpt-{}", std::process::id()));
        let _ = fs::remove_dir_all(&ckpt);
        Checkpoint::new(&self.db)
            .and_then(|c| c.create_checkpoint(&ckpt))
            .map_err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Write))?;
        let (applied, membership) = {
            let ro = open_read_only(&ckpt).map_err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Read))?;
            read_applied(&ro)?
        };
        let id = format!(
            "{}-{}-{}",
            applied.map_or(0, |l| l.leader_id.term),
            applied.map_or(0, |l| l.index),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let meta = Meta { last_log_id: applied, last_membership: membership, snapshot_id: id.clone() };
        pack(&ckpt, &data_path(&self.dir, &id)).map_err(io_err(ErrorVerb::Write))?;
        let _ = fs::remove_dir_all(&ckpt);
        let _g = PUBLISH.lock();
        // An install may have published a newer snapshot meanwhile: keep it.
        if let Some(cur) = read_meta(&self.dir)? {
            if cur.last_log_id >= meta.last_log_id {
                let _ = fs::remove_file(data_path(&self.dir, &id));
                let f = File::open(data_path(&self.dir, &cur.snapshot_id)).map_err(io_err(ErrorVerb::Read))?;
                return Ok((cur, f));
            }
        }
        publish_meta(&self.dir, &meta)?;
        let f = File::open(data_path(&self.dir, &meta.snapshot_id)).map_err(io_err(ErrorVerb::Read))?;
        Ok((meta, f))
    }
}

fn read_meta(dir: &Path) -> Result<Option<Meta>, StorageError> {
    match fs::read(dir.join(META_FILE)) {
        Ok(b) => bincode::deserialize(&b).map(Some).map_err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Read)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(ErrorVerb::Read)(e)),
    }
}

/// Publish `meta` as the current snapshot. Caller holds [`PUBLISH`].
fn publish_meta(dir: &Path, meta: &Meta) -> Result<(), StorageError> {
    let tmp = dir.join(format!("snapshot.meta.{}.tmp", SEQ.fetch_add(1, Ordering::SeqCst)));
    let b = bincode::serialize(meta).map_err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Write))?;
    let mut f = File::create(&tmp).map_err(io_err(ErrorVerb::Write))?;
    f.write_all(&b).and_then(|_| f.sync_all()).map_err(io_err(ErrorVerb::Write))?;
    fs::rename(&tmp, dir.join(META_FILE)).map_err(io_err(ErrorVerb::Write))?;
    sync_dir(dir);
    // Older data files are no longer referenced.
    let keep = format!("snapshot-{}.data", meta.snapshot_id);
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("snapshot-") && n.ends_with(".data") && n != keep {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Pack every file of a checkpoint directory into one file:
/// `MAGIC, { u16 name_len, name, u64 len, bytes }*, u16 0`, fsynced.
pub fn pack(src: &Path, dst: &Path) -> std::io::Result<()> {
    let tmp = dst.with_extension("tmp");
    let mut w = BufWriter::new(File::create(&tmp)?);
    w.write_all(MAGIC)?;
    let mut names: Vec<_> = fs::read_dir(src)?.flatten().filter(|e| e.path().is_file()).collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let name = e.file_name().to_string_lossy().to_string();
        let len = e.metadata()?.len();
        w.write_all(&(name.len() as u16).to_be_bytes())?;
        w.write_all(name.as_bytes())?;
        w.write_all(&len.to_be_bytes())?;
        let mut f = File::open(e.path())?;
        let copied = std::io::copy(&mut (&mut f).take(len), &mut w)?;
        if copied != len {
            return Err(std::io::Error::other(format!("{name} changed while packing")));
        }
    }
    w.write_all(&0u16.to_be_bytes())?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    fs::rename(&tmp, dst)
}

/// Unpack a file made by [`pack`] into `dst` (created).
pub fn unpack(src: &Path, dst: &Path) -> std::io::Result<()> {
    let bad =
        |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("snapshot file {}: {m}", src.display()));
    let _ = fs::remove_dir_all(dst);
    fs::create_dir_all(dst)?;
    let mut r = BufReader::new(File::open(src)?);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(bad("not a raft-store snapshot"));
    }
    loop {
        let mut n = [0u8; 2];
        r.read_exact(&mut n)?;
        let n = u16::from_be_bytes(n) as usize;
        if n == 0 {
            return Ok(());
        }
        let mut name = vec![0u8; n];
        r.read_exact(&mut name)?;
        let name = String::from_utf8(name).map_err(|_| bad("file name is not UTF-8"))?;
        if name.contains('/') || name.contains("..") {
            return Err(bad("file name escapes the directory"));
        }
        let mut l = [0u8; 8];
        r.read_exact(&mut l)?;
        let len = u64::from_be_bytes(l);
        let mut out = File::create(dst.join(&name))?;
        let copied = std::io::copy(&mut (&mut r).take(len), &mut out)?;
        if copied != len {
            return Err(bad("truncated"));
        }
    }
}

/// Create the file a snapshot is received into.
pub async fn incoming_file(dir: &Path) -> Result<(PathBuf, tokio::fs::File), StorageError> {
    tokio::fs::create_dir_all(dir).await.map_err(io_err(ErrorVerb::Write))?;
    let path = dir.join(format!("incoming-{}.tmp", SEQ.fetch_add(1, Ordering::SeqCst)));
    let f = tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await
        .map_err(io_err(ErrorVerb::Write))?;
    Ok((path, f))
}

/// Install a received snapshot: keep it as the current snapshot, replace
/// the state-machine column families of `db` with its contents, and mark the
/// log purged up to it. Blocking; the caller keeps readers out meanwhile.
pub fn install(db: &Db, dir: &Path, received: &Path, meta: &Meta) -> Result<(), StorageError> {
    let data = data_path(dir, &meta.snapshot_id);
    fs::rename(received, &data).map_err(io_err(ErrorVerb::Write))?;
    {
        let _g = PUBLISH.lock();
        publish_meta(dir, meta)?;
        // The pending marker names the snapshot to finish loading after a crash.
        let mut f = File::create(dir.join(PENDING_FILE)).map_err(io_err(ErrorVerb::Write))?;
        f.write_all(meta.snapshot_id.as_bytes()).and_then(|_| f.sync_all()).map_err(io_err(ErrorVerb::Write))?;
        sync_dir(dir);
    }
    load_into(db, dir, &data)?;
    if let Some(last) = meta.last_log_id {
        crate::log_store::mark_purged(db, last)?;
    }
    let _ = fs::remove_file(dir.join(PENDING_FILE));
    tracing::info!(snapshot = %meta.snapshot_id, last_log = ?meta.last_log_id, "installed snapshot from the leader");
    Ok(())
}

/// Finish a snapshot load that a crash interrupted. Call before starting Raft.
pub fn recover(db: &Db, dir: &Path) -> Result<(), StorageError> {
    let id = match fs::read_to_string(dir.join(PENDING_FILE)) {
        Ok(id) => id,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(ErrorVerb::Read)(e)),
    };
    let meta = read_meta(dir)?.filter(|m| m.snapshot_id == id);
    let Some(meta) = meta else {
        return Err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Read)(format!(
            "an interrupted snapshot install names snapshot {id:?}, which is not the current snapshot in {}; \
             remove this member's data dir and add it back to the cluster",
            dir.display()
        )));
    };
    tracing::warn!(snapshot = %meta.snapshot_id, "finishing an interrupted snapshot install");
    load_into(db, dir, &data_path(dir, &meta.snapshot_id))?;
    if let Some(last) = meta.last_log_id {
        crate::log_store::mark_purged(db, last)?;
    }
    let _ = fs::remove_file(dir.join(PENDING_FILE));
    Ok(())
}

fn load_into(db: &Db, dir: &Path, data: &Path) -> Result<(), StorageError> {
    let w = |e: rocksdb::Error| sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Write)(e);
    let tmp = dir.join("restore-tmp");
    unpack(data, &tmp).map_err(io_err(ErrorVerb::Read))?;
    let src = open_read_only(&tmp).map_err(sto_err(ErrorSubject::Snapshot(None), ErrorVerb::Read))?;
    for name in SM_CFS {
        let cf = db.cf_handle(name).expect("known cf");
        let mut batch = WriteBatch::default();
        for r in db.iterator_cf(cf, IteratorMode::Start) {
            let (k, _) = r.map_err(w)?;
            batch.delete_cf(cf, k);
            if batch.len() >= 10_000 {
                db.write(std::mem::take(&mut batch)).map_err(w)?;
            }
        }
        let scf = src.cf_handle(name).expect("known cf");
        for r in src.iterator_cf(scf, IteratorMode::Start) {
            let (k, v) = r.map_err(w)?;
            batch.put_cf(cf, k, v);
            if batch.len() >= 10_000 {
                db.write(std::mem::take(&mut batch)).map_err(w)?;
            }
        }
        db.write(batch).map_err(w)?;
    }
    db.flush_wal(true).map_err(w)?;
    drop(src);
    let _ = fs::remove_dir_all(&tmp);
    Ok(())
}

/// The current snapshot, if any.
pub async fn current(dir: &Path) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
    let (meta, f) = {
        let _g = PUBLISH.lock();
        let Some(meta) = read_meta(dir)? else { return Ok(None) };
        let f = File::open(data_path(dir, &meta.snapshot_id)).map_err(io_err(ErrorVerb::Read))?;
        (meta, f)
    };
    Ok(Some(Snapshot { meta, snapshot: Box::new(tokio::fs::File::from_std(f)) }))
}

/// Export a packed checkpoint of the whole database into a fresh file under
/// `dir` (for `etcdctl snapshot save`). Blocking. Returns the file's path.
pub fn export(db: &Db, dir: &Path) -> std::io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let ckpt = dir.join(format!("export-ckpt-{n}"));
    let _ = fs::remove_dir_all(&ckpt);
    Checkpoint::new(db).and_then(|c| c.create_checkpoint(&ckpt)).map_err(std::io::Error::other)?;
    let out = dir.join(format!("export-{n}.snap"));
    let r = pack(&ckpt, &out).and_then(|_| seal_for_etcdctl(&out));
    let _ = fs::remove_dir_all(&ckpt);
    r.map(|_| out)
}

/// etcd clients verify a downloaded snapshot by its length (a multiple of
/// 512 plus 32) and a trailing SHA-256 of everything before it. Pad the
/// packed file (the padding follows its end marker) and append the digest.
fn seal_for_etcdctl(path: &Path) -> std::io::Result<()> {
    use sha2::{Digest, Sha256};
    let len = fs::metadata(path)?.len();
    let pad = (512 - len % 512) % 512;
    let mut f = fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(&vec![0u8; pad as usize])?;
    drop(f);
    let mut h = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut h)?;
    let digest = h.finalize();
    let mut f = fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(&digest)?;
    f.sync_all()
}
