//! The Raft peer transport (client and server) over tonic gRPC, plus the
//! member-to-member calls that let any member serve any request: write
//! forwarding, read index, leader-only lease calls and membership changes.
//! Payloads are bincode inside a protobuf `Blob`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, PayloadTooLarge, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use parking_lot::Mutex;
use proto::raftpeer::raft_peer_client::RaftPeerClient;
use proto::raftpeer::raft_peer_server::RaftPeer;
use proto::raftpeer::Blob;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request as TRequest, Response as TResponse, Status};

use crate::command::{Request, WriteResult};
use crate::error::StoreError;
use crate::types::{MemberNode, NodeId, TypeConfig};

/// Largest message on the peer transport.
pub const PEER_MAX_MESSAGE: usize = 64 << 20;

/// Which client method a peer call uses.
type PeerMethod =
    fn(RaftPeerClient<Channel>, TRequest<Blob>) -> futures::future::BoxFuture<'static, Result<TResponse<Blob>, Status>>;

/// Reply of a call that only the leader can serve.
#[derive(Debug, Serialize, Deserialize)]
pub enum LeaderReply<T> {
    /// Served.
    Done(Result<T, StoreError>),
    /// This member is not the leader (nothing was done); retry elsewhere.
    NotLeader,
}

/// Leader-only lease calls.
#[derive(Debug, Serialize, Deserialize)]
pub enum LeaseCall {
    /// Refresh a lease; returns its TTL.
    KeepAlive(i64),
    /// Remaining and granted TTL (remaining -1 = not found).
    TimeToLive(i64),
}

/// Membership calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum MembershipCall {
    /// Add a member (as learner, or voter when `learner` is false).
    Add {
        /// Member id.
        id: NodeId,
        /// Peer URL.
        peer_url: String,
        /// Whether it stays a learner.
        learner: bool,
    },
    /// Remove a member.
    Remove(NodeId),
    /// Promote a learner to voter.
    Promote(NodeId),
    /// Is this member still in the committed membership? (`MemberNotFound`
    /// when it was removed.) Asked by members that may have missed their
    /// own removal.
    IsMember(NodeId),
}

/// What a member serving peer calls must provide.
pub trait PeerHandler: Send + Sync + 'static {
    /// The local Raft.
    fn raft(&self) -> &crate::types::Raft;
    /// Propose a forwarded write if leader.
    fn forwarded_write(&self, req: Request) -> impl std::future::Future<Output = LeaderReply<WriteResult>> + Send;
    /// Read index if leader.
    fn read_index(&self) -> impl std::future::Future<Output = LeaderReply<u64>> + Send;
    /// Lease call if leader.
    fn lease_call(&self, call: LeaseCall) -> impl std::future::Future<Output = LeaderReply<(i64, i64)>> + Send;
    /// Membership call if leader.
    fn membership_call(&self, call: MembershipCall) -> impl std::future::Future<Output = LeaderReply<()>> + Send;
}

fn enc<T: Serialize>(v: &T) -> Result<Blob, Status> {
    bincode::serialize(v).map(|data| Blob { data }).map_err(|e| Status::internal(e.to_string()))
}

fn dec<T: DeserializeOwned>(b: &Blob) -> Result<T, Status> {
    bincode::deserialize(&b.data).map_err(|e| Status::invalid_argument(format!("undecodable peer message: {e}")))
}

/// The gRPC server side of the peer transport.
pub struct PeerServer<H> {
    handler: Arc<H>,
}

impl<H> PeerServer<H> {
    /// Serve peer calls with `handler`.
    pub fn new(handler: Arc<H>) -> Self {
        PeerServer { handler }
    }
}

#[tonic::async_trait]
impl<H: PeerHandler> RaftPeer for PeerServer<H> {
    async fn append_entries(&self, req: TRequest<Blob>) -> Result<TResponse<Blob>, Status> {
        let r: AppendEntriesRequest<TypeConfig> = dec(req.get_ref())?;
        let res = self.handler.raft().append_entries(r).await;
        Ok(TResponse::new(enc(&res)?))
    }

    async fn vote(&self, req: TRequest<Blob>) -> Result<TResponse<Blob>, Status> {
        let r: VoteRequest<NodeId> = dec(req.get_ref())?;
        let res = self.handler.raft().vote(r).await;
        Ok(TResponse::new(enc(&res)?))
    }

    async fn install_snapshot(&self, req: TRequest<Blob>) -> Result<TResponse<Blob>, Status> {
        let r: InstallSnapshotRequest<TypeConfig> = dec(req.get_ref())?;
        let res = self.handler.raft().install_snapshot(r).await;
        Ok(TResponse::new(enc(&res)?))
    }

    async fn forward(&self, req: TRequest<Blob>) -> Result<TResponse<Blob>, Status> {
        let r: Request = dec(req.get_ref())?;
        Ok(TResponse::new(enc(&self.handler.forwarded_write(r).await)?))
    }

    async fn read_index(&self, _req: TRequest<Blob>) -> Result<TResponse<Blob>, Status> {
        Ok(TResponse::new(enc(&self.handler.read_index().await)?))
    }

    async fn lease_op(&self, req: TRequest<Blob>) -> Result<TResponse<Blob>, Status> {
        let c: LeaseCall = dec(req.get_ref())?;
        Ok(TResponse::new(enc(&self.handler.lease_call(c).await)?))
    }

    async fn membership(&self, req: TRequest<Blob>) -> Result<TResponse<Blob>, Status> {
        let c: MembershipCall = dec(req.get_ref())?;
        Ok(TResponse::new(enc(&self.handler.membership_call(c).await)?))
    }
}

/// Why a peer call failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The connection could not be made: the call was certainly not delivered.
    #[error("peer {0} unreachable: {1}")]
    Unreachable(String, String),
    /// The call may or may not have been delivered.
    #[error("peer {0} call failed: {1}")]
    Failed(String, String),
}

/// Cached gRPC channels to peers, by URL.
#[derive(Clone, Default)]
pub struct PeerClients {
    chans: Arc<Mutex<HashMap<String, Channel>>>,
    /// Advertised URL -> URL actually dialled.
    overrides: Arc<HashMap<String, String>>,
}

impl PeerClients {
    /// Clients that dial the peers named in `overrides` (advertised URL ->
    /// dial URL) at the overriding URL.
    pub fn with_overrides(overrides: HashMap<String, String>) -> Self {
        PeerClients { chans: Default::default(), overrides: Arc::new(overrides) }
    }

    /// A client for the peer advertising `url` (connects lazily, reconnects
    /// on its own).
    pub fn client(&self, url: &str) -> Result<RaftPeerClient<Channel>, PeerError> {
        let mut g = self.chans.lock();
        if let Some(c) = g.get(url) {
            return Ok(Self::wrap(c.clone()));
        }
        let dial = self.overrides.get(url).map(String::as_str).unwrap_or(url);
        let ep = Endpoint::from_shared(dial.to_string())
            .map_err(|e| PeerError::Unreachable(url.into(), e.to_string()))?
            .connect_timeout(Duration::from_millis(500))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(5))
            .keep_alive_timeout(Duration::from_secs(3));
        let ch = ep.connect_lazy();
        g.insert(url.to_string(), ch.clone());
        Ok(Self::wrap(ch))
    }

    fn wrap(ch: Channel) -> RaftPeerClient<Channel> {
        RaftPeerClient::new(ch).max_decoding_message_size(PEER_MAX_MESSAGE).max_encoding_message_size(PEER_MAX_MESSAGE)
    }

    fn classify(url: &str, s: Status) -> PeerError {
        let mut text = format!("{s}");
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&s);
        while let Some(e) = src {
            text.push_str(&format!(": {e}"));
            src = e.source();
        }
        let t = text.to_lowercase();
        if t.contains("connection refused") || t.contains("tcp connect") || t.contains("connect error") {
            PeerError::Unreachable(url.into(), text)
        } else {
            PeerError::Failed(url.into(), text)
        }
    }

    async fn call<Q: Serialize, A: DeserializeOwned>(
        &self,
        url: &str,
        timeout: Duration,
        q: &Q,
        which: PeerMethod,
    ) -> Result<A, PeerError> {
        let c = self.client(url)?;
        let blob = enc(q).map_err(|s| PeerError::Failed(url.into(), s.to_string()))?;
        let mut req = TRequest::new(blob);
        req.set_timeout(timeout);
        match tokio::time::timeout(timeout, which(c, req)).await {
            Err(_) => Err(PeerError::Failed(url.into(), "timed out".into())),
            Ok(Err(s)) => Err(Self::classify(url, s)),
            Ok(Ok(r)) => dec(r.get_ref()).map_err(|s| PeerError::Failed(url.into(), s.to_string())),
        }
    }

    /// Forward a write to the member at `url`.
    pub async fn forward(
        &self,
        url: &str,
        timeout: Duration,
        req: &Request,
    ) -> Result<LeaderReply<WriteResult>, PeerError> {
        self.call(url, timeout, req, |mut c, r| Box::pin(async move { c.forward(r).await })).await
    }

    /// Ask the member at `url` for a read index.
    pub async fn read_index(&self, url: &str, timeout: Duration) -> Result<LeaderReply<u64>, PeerError> {
        self.call(url, timeout, &(), |mut c, r| Box::pin(async move { c.read_index(r).await })).await
    }

    /// A lease call on the member at `url`.
    pub async fn lease(
        &self,
        url: &str,
        timeout: Duration,
        call: &LeaseCall,
    ) -> Result<LeaderReply<(i64, i64)>, PeerError> {
        self.call(url, timeout, call, |mut c, r| Box::pin(async move { c.lease_op(r).await })).await
    }

    /// A membership call on the member at `url`.
    pub async fn membership(
        &self,
        url: &str,
        timeout: Duration,
        call: &MembershipCall,
    ) -> Result<LeaderReply<()>, PeerError> {
        self.call(url, timeout, call, |mut c, r| Box::pin(async move { c.membership(r).await })).await
    }
}

/// openraft's network factory over [`PeerClients`].
#[derive(Clone, Default)]
pub struct Network {
    clients: PeerClients,
}

impl Network {
    /// A factory sharing `clients`.
    pub fn new(clients: PeerClients) -> Self {
        Network { clients }
    }
}

/// A connection to one peer.
pub struct PeerConn {
    target: NodeId,
    url: String,
    clients: PeerClients,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerConn;

    async fn new_client(&mut self, target: NodeId, node: &MemberNode) -> PeerConn {
        PeerConn { target, url: node.peer_url.clone(), clients: self.clients.clone() }
    }
}

type RpcErr<E = openraft::error::Infallible> = RPCError<NodeId, MemberNode, RaftError<NodeId, E>>;

impl PeerConn {
    async fn rpc<Q: Serialize, A: DeserializeOwned, E: std::error::Error + DeserializeOwned>(
        &self,
        q: &Q,
        ttl: Duration,
        which: PeerMethod,
    ) -> Result<A, RpcErr<E>> {
        let r: Result<Result<A, RaftError<NodeId, E>>, PeerError> = self.clients.call(&self.url, ttl, q, which).await;
        match r {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(e)) => Err(RPCError::RemoteError(RemoteError::new(self.target, e))),
            Err(e @ PeerError::Unreachable(..)) => Err(RPCError::Unreachable(Unreachable::new(&e))),
            Err(e) => Err(RPCError::Network(NetworkError::new(&e))),
        }
    }
}

impl RaftNetwork<TypeConfig> for PeerConn {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RpcErr> {
        // Too many large entries for one message: let openraft send fewer.
        let size = bincode::serialized_size(&rpc).unwrap_or(0) as usize;
        if size > PEER_MAX_MESSAGE - 4096 && rpc.entries.len() > 1 {
            let fit = (rpc.entries.len() * (PEER_MAX_MESSAGE / 2) / size).max(1);
            return Err(RPCError::PayloadTooLarge(PayloadTooLarge::new_entries_hint(fit as u64)));
        }
        self.rpc(&rpc, option.hard_ttl(), |mut c, r| Box::pin(async move { c.append_entries(r).await })).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RpcErr<InstallSnapshotError>> {
        self.rpc(&rpc, option.hard_ttl(), |mut c, r| Box::pin(async move { c.install_snapshot(r).await })).await
    }

    async fn vote(&mut self, rpc: VoteRequest<NodeId>, option: RPCOption) -> Result<VoteResponse<NodeId>, RpcErr> {
        self.rpc(&rpc, option.hard_ttl(), |mut c, r| Box::pin(async move { c.vote(r).await })).await
    }

    fn backoff(&self) -> openraft::network::Backoff {
        openraft::network::Backoff::new(std::iter::repeat(Duration::from_millis(200)))
    }
}
