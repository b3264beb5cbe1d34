//! etcd `KV` service.

use std::sync::Arc;

use prost::Message;
use proto::etcdserverpb::kv_server;
use proto::etcdserverpb::{
    CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse,
    RangeRequest, RangeResponse, TxnRequest, TxnResponse,
};
use tonic::{Request, Response, Status};

use crate::store::Store;

pub struct Kv(pub Arc<Store>);

#[tonic::async_trait]
impl kv_server::Kv for Kv {
    async fn range(&self, req: Request<RangeRequest>) -> Result<Response<RangeResponse>, Status> {
        let r = req.into_inner();
        self.0.check_size(r.encoded_len())?;
        Ok(Response::new(self.0.range(r).await?))
    }

    async fn put(&self, req: Request<PutRequest>) -> Result<Response<PutResponse>, Status> {
        Ok(Response::new(self.0.put(req.into_inner()).await?))
    }

    async fn delete_range(&self, req: Request<DeleteRangeRequest>) -> Result<Response<DeleteRangeResponse>, Status> {
        Ok(Response::new(self.0.delete_range(req.into_inner()).await?))
    }

    async fn txn(&self, req: Request<TxnRequest>) -> Result<Response<TxnResponse>, Status> {
        Ok(Response::new(self.0.txn(req.into_inner()).await?))
    }

    async fn compact(&self, req: Request<CompactionRequest>) -> Result<Response<CompactionResponse>, Status> {
        let h = self.0.compact(req.into_inner().revision).await?;
        Ok(Response::new(CompactionResponse { header: Some(h) }))
    }
}
