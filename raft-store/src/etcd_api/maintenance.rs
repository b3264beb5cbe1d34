//! etcd `Maintenance` service: status, alarms (none are raised), snapshot
//! download (a packed RocksDB checkpoint streamed in chunks), defragment.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures::Stream;
use proto::etcdserverpb::maintenance_server;
use proto::etcdserverpb::{
    AlarmRequest, AlarmResponse, DefragmentRequest, DefragmentResponse, HashKvRequest, HashKvResponse, HashRequest,
    HashResponse, MoveLeaderRequest, MoveLeaderResponse, SnapshotRequest, SnapshotResponse, StatusRequest,
    StatusResponse,
};
use tokio::io::AsyncReadExt;
use tonic::{Request, Response, Status};

use super::async_stream_like;
use crate::store::Store;

pub struct Maintenance(pub Arc<Store>);

/// Chunk size of a snapshot download.
const CHUNK: usize = 64 * 1024;

type SnapStream = Pin<Box<dyn Stream<Item = Result<SnapshotResponse, Status>> + Send>>;

#[tonic::async_trait]
impl maintenance_server::Maintenance for Maintenance {
    async fn alarm(&self, _req: Request<AlarmRequest>) -> Result<Response<AlarmResponse>, Status> {
        let rev = self.0.sm.revision.load(Ordering::SeqCst);
        Ok(Response::new(AlarmResponse { header: Some(self.0.header(rev)), alarms: vec![] }))
    }

    async fn status(&self, _req: Request<StatusRequest>) -> Result<Response<StatusResponse>, Status> {
        let s = &self.0;
        let m = s.raft.metrics().borrow().clone();
        let db = &s.sm.db;
        let prop = |p: &str| db.property_int_value(p).ok().flatten().unwrap_or(0) as i64;
        let size = prop("rocksdb.total-sst-files-size") + prop("rocksdb.cur-size-all-mem-tables");
        let voters: Vec<u64> = m.membership_config.membership().voter_ids().collect();
        let rev = s.sm.revision.load(Ordering::SeqCst);
        Ok(Response::new(StatusResponse {
            header: Some(s.header(rev)),
            version: crate::ETCD_VERSION.to_string(),
            db_size: size,
            leader: m.current_leader.unwrap_or(0),
            raft_index: m.last_log_index.unwrap_or(0),
            raft_term: m.current_term,
            raft_applied_index: m.last_applied.map_or(0, |l| l.index),
            errors: vec![],
            db_size_in_use: size,
            is_learner: !voters.contains(&s.id),
        }))
    }

    async fn defragment(&self, _req: Request<DefragmentRequest>) -> Result<Response<DefragmentResponse>, Status> {
        let db = self.0.sm.db.clone();
        tokio::task::spawn_blocking(move || {
            for cf in crate::keys::ALL_CFS {
                if let Some(h) = db.cf_handle(cf) {
                    db.compact_range_cf(h, None::<&[u8]>, None::<&[u8]>);
                }
            }
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        let rev = self.0.sm.revision.load(Ordering::SeqCst);
        Ok(Response::new(DefragmentResponse { header: Some(self.0.header(rev)) }))
    }

    async fn hash(&self, _req: Request<HashRequest>) -> Result<Response<HashResponse>, Status> {
        Err(Status::unimplemented("Hash is not served by raft-store; compare revisions with `endpoint status` instead"))
    }

    async fn hash_kv(&self, _req: Request<HashKvRequest>) -> Result<Response<HashKvResponse>, Status> {
        Err(Status::unimplemented(
            "HashKV is not served by raft-store; compare revisions with `endpoint status` instead",
        ))
    }

    type SnapshotStream = SnapStream;

    async fn snapshot(&self, _req: Request<SnapshotRequest>) -> Result<Response<Self::SnapshotStream>, Status> {
        let store = self.0.clone();
        let dir = store.cfg.data_dir.join("tmp");
        let path = {
            let db = store.sm.db.clone();
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || crate::snapshot::export(&db, &dir))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(|e| Status::internal(format!("creating snapshot: {e}")))?
        };
        let rev = store.sm.revision.load(Ordering::SeqCst);
        let header = store.header(rev);
        let out = async_stream_like(move |tx| async move {
            let res: std::io::Result<()> = async {
                let mut f = tokio::fs::File::open(&path).await?;
                let total = f.metadata().await?.len();
                let mut sent = 0u64;
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let n = f.read(&mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    sent += n as u64;
                    let msg = SnapshotResponse {
                        header: Some(header),
                        remaining_bytes: total - sent,
                        blob: buf[..n].to_vec(),
                    };
                    if tx.send(Ok(msg)).await.is_err() {
                        break;
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = res {
                let _ = tx.send(Err(Status::internal(format!("reading snapshot: {e}")))).await;
            }
            let _ = tokio::fs::remove_file(&path).await;
        });
        Ok(Response::new(out))
    }

    async fn move_leader(&self, _req: Request<MoveLeaderRequest>) -> Result<Response<MoveLeaderResponse>, Status> {
        Err(Status::unimplemented(
            "MoveLeader is not supported by raft-store (openraft 0.9 has no leadership transfer)",
        ))
    }
}
