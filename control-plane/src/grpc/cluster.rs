//! `helmsman.api.v1.Cluster`: the replicas of the control plane, the
//! leader, membership changes and snapshots (the admin face of the store).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use proto::api::cluster_server::Cluster;
use proto::api::{
    AddReplicaRequest, AddReplicaResponse, MembersRequest, MembersResponse, PromoteReplicaRequest,
    RemoveReplicaRequest, Replica, SnapshotRequest, SnapshotResponse,
};
use raft_store::peer::MembershipCall;
use raft_store::types::member_id_for;
use raft_store::Store;
use tonic::{Request, Response, Status};

/// The service.
pub struct ClusterService {
    store: Arc<Store>,
}

impl ClusterService {
    /// Serve `store`'s membership.
    pub fn new(store: Arc<Store>) -> Self {
        ClusterService { store }
    }

    fn members(&self) -> MembersResponse {
        let leader = self.store.leader().map(|(id, _)| id).unwrap_or(0);
        let replicas = self
            .store
            .members()
            .into_iter()
            .map(|m| Replica {
                id: m.id,
                name: m.name,
                peer_urls: m.peer_ur_ls,
                client_urls: m.client_ur_ls,
                is_learner: m.is_learner,
                is_leader: m.id == leader,
            })
            .collect();
        MembersResponse {
            replicas,
            leader_id: leader,
            term: self.store.term(),
            revision: self.store.sm.revision.load(Ordering::SeqCst),
        }
    }
}

fn store_status(e: raft_store::StoreError) -> Status {
    super::status(&e.into())
}

#[tonic::async_trait]
impl Cluster for ClusterService {
    async fn members(&self, _req: Request<MembersRequest>) -> Result<Response<MembersResponse>, Status> {
        self.store.linearizable_barrier().await.map_err(store_status)?;
        Ok(Response::new(ClusterService::members(self)))
    }

    async fn add_replica(&self, req: Request<AddReplicaRequest>) -> Result<Response<AddReplicaResponse>, Status> {
        let req = req.into_inner();
        if !(req.peer_url.starts_with("http://") || req.peer_url.starts_with("https://")) {
            return Err(Status::invalid_argument(format!(
                "peer_url {:?} must be a URL like http://127.0.0.1:2380",
                req.peer_url
            )));
        }
        let id = member_id_for(&req.peer_url);
        self.store
            .membership_call(MembershipCall::Add { id, peer_url: req.peer_url, learner: req.learner })
            .await
            .map_err(store_status)?;
        Ok(Response::new(AddReplicaResponse { id, replicas: ClusterService::members(self).replicas }))
    }

    async fn promote_replica(&self, req: Request<PromoteReplicaRequest>) -> Result<Response<MembersResponse>, Status> {
        self.store.membership_call(MembershipCall::Promote(req.into_inner().id)).await.map_err(store_status)?;
        Ok(Response::new(ClusterService::members(self)))
    }

    async fn remove_replica(&self, req: Request<RemoveReplicaRequest>) -> Result<Response<MembersResponse>, Status> {
        self.store.membership_call(MembershipCall::Remove(req.into_inner().id)).await.map_err(store_status)?;
        Ok(Response::new(ClusterService::members(self)))
    }

    async fn snapshot(&self, req: Request<SnapshotRequest>) -> Result<Response<SnapshotResponse>, Status> {
        let target = std::path::PathBuf::from(req.into_inner().path);
        if target.as_os_str().is_empty() || target.is_dir() {
            return Err(Status::invalid_argument("path must name a file to write the snapshot to"));
        }
        let db = self.store.sm.db.clone();
        let tmp_dir = self.store.cfg.data_dir.join("tmp");
        let revision = self.store.sm.revision.load(Ordering::SeqCst);
        let t = target.clone();
        let bytes = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            let made = raft_store::snapshot::export(&db, &tmp_dir)?;
            let partial = t.with_extension("partial");
            let n = std::fs::copy(&made, &partial)?;
            std::fs::File::open(&partial)?.sync_all()?;
            std::fs::rename(&partial, &t)?;
            let _ = std::fs::remove_file(&made);
            Ok(n)
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| Status::failed_precondition(format!("cannot write the snapshot to {}: {e}", target.display())))?;
        Ok(Response::new(SnapshotResponse { path: target.display().to_string(), bytes, revision }))
    }
}
