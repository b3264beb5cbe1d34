//! etcd `Cluster` service: membership through Raft joint consensus.

use std::sync::Arc;

use proto::etcdserverpb::cluster_server;
use proto::etcdserverpb::{
    Member, MemberAddRequest, MemberAddResponse, MemberListRequest, MemberListResponse, MemberPromoteRequest,
    MemberPromoteResponse, MemberRemoveRequest, MemberRemoveResponse, MemberUpdateRequest, MemberUpdateResponse,
};
use tonic::{Request, Response, Status};

use crate::error::StoreError;
use crate::peer::MembershipCall;
use crate::store::Store;
use crate::types::member_id_for;

pub struct Cluster(pub Arc<Store>);

impl Cluster {
    fn rev(&self) -> i64 {
        self.0.sm.revision.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tonic::async_trait]
impl cluster_server::Cluster for Cluster {
    async fn member_add(&self, req: Request<MemberAddRequest>) -> Result<Response<MemberAddResponse>, Status> {
        let r = req.into_inner();
        let Some(url) = r.peer_ur_ls.first().cloned() else {
            return Err(StoreError::InvalidArgument("member peer URLs are not provided".into()).into());
        };
        if url::Url::parse(&url).is_err() {
            return Err(StoreError::InvalidArgument(format!("invalid peer URL {url:?}")).into());
        }
        let id = member_id_for(&url);
        if self.0.members().iter().any(|m| m.id == id) {
            return Err(StoreError::PeerUrlExists.into());
        }
        self.0.membership_call(MembershipCall::Add { id, peer_url: url.clone(), learner: r.is_learner }).await?;
        let member =
            Member { id, name: String::new(), peer_ur_ls: vec![url], client_ur_ls: vec![], is_learner: r.is_learner };
        Ok(Response::new(MemberAddResponse {
            header: Some(self.0.header(self.rev())),
            member: Some(member),
            members: self.0.members(),
        }))
    }

    async fn member_remove(&self, req: Request<MemberRemoveRequest>) -> Result<Response<MemberRemoveResponse>, Status> {
        let id = req.into_inner().id;
        self.0.membership_call(MembershipCall::Remove(id)).await?;
        Ok(Response::new(MemberRemoveResponse { header: Some(self.0.header(self.rev())), members: self.0.members() }))
    }

    async fn member_update(
        &self,
        _req: Request<MemberUpdateRequest>,
    ) -> Result<Response<MemberUpdateResponse>, Status> {
        Err(Status::unimplemented(
            "raft-store derives member ids from peer URLs, so a member's peer URL cannot change: remove the member and add it with the new URL",
        ))
    }

    async fn member_list(&self, req: Request<MemberListRequest>) -> Result<Response<MemberListResponse>, Status> {
        if req.into_inner().linearizable {
            self.0.linearizable_barrier().await?;
        }
        Ok(Response::new(MemberListResponse { header: Some(self.0.header(self.rev())), members: self.0.members() }))
    }

    async fn member_promote(
        &self,
        req: Request<MemberPromoteRequest>,
    ) -> Result<Response<MemberPromoteResponse>, Status> {
        let id = req.into_inner().id;
        self.0.membership_call(MembershipCall::Promote(id)).await?;
        Ok(Response::new(MemberPromoteResponse { header: Some(self.0.header(self.rev())), members: self.0.members() }))
    }
}
