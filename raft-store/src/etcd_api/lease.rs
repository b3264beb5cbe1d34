//! etcd `Lease` service. Keep-alive and time-to-live are answered by the
//! leader (the only member counting TTLs); grant and revoke go through Raft.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use proto::etcdserverpb::lease_server;
use proto::etcdserverpb::{
    LeaseGrantRequest, LeaseGrantResponse, LeaseKeepAliveRequest, LeaseKeepAliveResponse, LeaseLeasesRequest,
    LeaseLeasesResponse, LeaseRevokeRequest, LeaseRevokeResponse, LeaseStatus, LeaseTimeToLiveRequest,
    LeaseTimeToLiveResponse,
};
use tokio_stream::StreamExt;

use tonic::{Request, Response, Status, Streaming};

use super::async_stream_like;
use crate::error::StoreError;
use crate::peer::LeaseCall;
use crate::store::Store;

pub struct Lease(pub Arc<Store>);

type KeepAliveStream = Pin<Box<dyn Stream<Item = Result<LeaseKeepAliveResponse, Status>> + Send>>;

#[tonic::async_trait]
impl lease_server::Lease for Lease {
    async fn lease_grant(&self, req: Request<LeaseGrantRequest>) -> Result<Response<LeaseGrantResponse>, Status> {
        let r = req.into_inner();
        let (id, ttl, header) = self.0.lease_grant(r.id, r.ttl).await?;
        Ok(Response::new(LeaseGrantResponse { header: Some(header), id, ttl, error: String::new() }))
    }

    async fn lease_revoke(&self, req: Request<LeaseRevokeRequest>) -> Result<Response<LeaseRevokeResponse>, Status> {
        let h = self.0.lease_revoke(req.into_inner().id).await?;
        Ok(Response::new(LeaseRevokeResponse { header: Some(h) }))
    }

    type LeaseKeepAliveStream = KeepAliveStream;

    async fn lease_keep_alive(
        &self,
        req: Request<Streaming<LeaseKeepAliveRequest>>,
    ) -> Result<Response<Self::LeaseKeepAliveStream>, Status> {
        let store = self.0.clone();
        let mut input = req.into_inner();
        let out = async_stream_like(move |tx| async move {
            while let Some(m) = input.next().await {
                let Ok(m) = m else { return };
                let ttl = match store.lease_call(LeaseCall::KeepAlive(m.id)).await {
                    Ok((ttl, _)) => ttl,
                    Err(StoreError::LeaseNotFound) => 0,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        return;
                    }
                };
                let resp = LeaseKeepAliveResponse {
                    header: Some(store.header(store.sm.revision.load(std::sync::atomic::Ordering::SeqCst))),
                    id: m.id,
                    ttl,
                };
                if tx.send(Ok(resp)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(out))
    }

    async fn lease_time_to_live(
        &self,
        req: Request<LeaseTimeToLiveRequest>,
    ) -> Result<Response<LeaseTimeToLiveResponse>, Status> {
        let r = req.into_inner();
        let (ttl, granted) = self.0.lease_call(LeaseCall::TimeToLive(r.id)).await?;
        let keys = if r.keys && ttl >= 0 {
            self.0.linearizable_barrier().await?;
            self.0.lease_keys(r.id)
        } else {
            Vec::new()
        };
        let rev = self.0.sm.revision.load(std::sync::atomic::Ordering::SeqCst);
        Ok(Response::new(LeaseTimeToLiveResponse {
            header: Some(self.0.header(rev)),
            id: r.id,
            ttl,
            granted_ttl: granted,
            keys,
        }))
    }

    async fn lease_leases(&self, _req: Request<LeaseLeasesRequest>) -> Result<Response<LeaseLeasesResponse>, Status> {
        self.0.linearizable_barrier().await?;
        let leases = self.0.sm.leases.read().keys().map(|id| LeaseStatus { id: *id }).collect();
        let rev = self.0.sm.revision.load(std::sync::atomic::Ordering::SeqCst);
        Ok(Response::new(LeaseLeasesResponse { header: Some(self.0.header(rev)), leases }))
    }
}
