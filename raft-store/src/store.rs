//! A running raft-store member: the Raft node, its state machine, and the
//! operations every client-facing API (etcd gRPC, the control plane) uses.
//!
//! Guarantees:
//! - Any member serves any request: writes received by a follower are
//!   forwarded to the leader; a client never has to find the leader.
//! - Writes are acknowledged only after they are committed by a majority
//!   (and so fsynced on a majority) and applied locally.
//! - Reads are linearizable unless the caller asks for a serializable read:
//!   the member obtains a read index from the leader (a quorum-confirmed
//!   commit index) and waits until it has applied it. Concurrent reads share
//!   one read-index round.
//! - Requests that cannot complete (no leader, no quorum) fail within the
//!   request timeout with `Unavailable`, never hang.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::{CheckIsLeaderError, ClientWriteError, RaftError};
use openraft::{ChangeMembers, Config, SnapshotPolicy};
use prost::Message;
use proto::etcdserverpb::{
    DeleteRangeRequest, DeleteRangeResponse, Member, PutRequest, PutResponse, RangeRequest, RangeResponse,
    ResponseHeader, TxnRequest, TxnResponse,
};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::command::{Op, Outcome, Request, WriteResult};
use crate::engine::{self, EngineError};
use crate::error::StoreError;
use crate::lessor::Lessor;
use crate::log_store::LogStore;
use crate::mvcc::apply::{txn_is_read_only, validate_put, validate_txn, Applier};
use crate::mvcc::read::{self, Overlay, View};
use crate::peer::{LeaderReply, LeaseCall, MembershipCall, Network, PeerClients, PeerError, PeerHandler};
use crate::state_machine::{SmShared, StateMachine};
use crate::types::{cluster_id_for, member_id_for, MemberNode, NodeId, Raft, StorageError};

/// Static configuration of a member.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Human-readable name (`--name`).
    pub name: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Advertised peer URL.
    pub peer_url: String,
    /// Advertised client URLs.
    pub client_urls: Vec<String>,
    /// `name=peer_url` of the initial members.
    pub initial_cluster: Vec<(String, String)>,
    /// `--initial-cluster-state new` (bootstrap) or `existing` (join).
    pub new_cluster: bool,
    /// Cluster token; the cluster id derives from it.
    pub cluster_token: String,
    /// Raft heartbeat interval.
    pub heartbeat: Duration,
    /// Raft election timeout: a follower campaigns after `[t, 1.2 t)` without
    /// hearing from a leader.
    pub election_timeout: Duration,
    /// Largest request accepted.
    pub max_request_bytes: usize,
    /// How long a request may wait for a leader or quorum.
    pub request_timeout: Duration,
    /// Entries between snapshots.
    pub snapshot_count: u64,
    /// Entries kept in the log behind a snapshot.
    pub snapshot_catchup_entries: u64,
    /// Peers dialled at another URL than the one they advertise
    /// (advertised -> dial), e.g. through a proxy.
    pub peer_dial_overrides: std::collections::HashMap<String, String>,
}

impl StoreConfig {
    /// Defaults matching etcd's where etcd has one.
    pub fn new(name: &str, data_dir: PathBuf, peer_url: &str, client_url: &str) -> Self {
        StoreConfig {
            name: name.to_string(),
            data_dir,
            peer_url: peer_url.to_string(),
            client_urls: vec![client_url.to_string()],
            initial_cluster: vec![(name.to_string(), peer_url.to_string())],
            new_cluster: true,
            cluster_token: "etcd-cluster".into(),
            heartbeat: Duration::from_millis(100),
            election_timeout: Duration::from_millis(1000),
            max_request_bytes: 1536 * 1024,
            request_timeout: Duration::from_secs(5),
            snapshot_count: 10_000,
            snapshot_catchup_entries: 5_000,
            peer_dial_overrides: Default::default(),
        }
    }
}

/// Errors starting a member.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Stored state could not be read.
    #[error("reading stored state: {0}")]
    Storage(#[from] StorageError),
    /// openraft refused to start.
    #[error("starting raft: {0}")]
    Raft(String),
    /// Bad configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Shares one read-index round among concurrent readers: a reader may use
/// the result of a round that started after it arrived (its index is then at
/// least the commit index at the reader's arrival, which is what
/// linearizability needs).
#[derive(Default)]
struct ReadCoalescer {
    lock: tokio::sync::Mutex<()>,
    tickets: AtomicU64,
    last: parking_lot::Mutex<(u64, u64)>,
}

/// A running member.
pub struct Store {
    /// Member id.
    pub id: NodeId,
    /// Cluster id.
    pub cluster_id: u64,
    /// Configuration.
    pub cfg: StoreConfig,
    /// The Raft node.
    pub raft: Raft,
    /// State-machine state.
    pub sm: Arc<SmShared>,
    peers: PeerClients,
    lessor: Lessor,
    reads: ReadCoalescer,
    /// Cancelled when the member must stop (shutdown, removal, fatal error).
    pub stop: CancellationToken,
    tasks: TaskTracker,
    min_lease_ttl: i64,
    batcher: tokio::sync::mpsc::UnboundedSender<Pending>,
}

/// A key-value request waiting to be proposed, with where its result goes.
type Pending = (Request, tokio::sync::oneshot::Sender<Result<WriteResult, StoreError>>);

/// Most requests in one batch entry.
const MAX_BATCH: usize = 512;
/// Most bytes of requests in one batch entry.
const MAX_BATCH_BYTES: usize = 4 << 20;
/// Batches proposed and not yet applied at once. Small, so that requests
/// arriving meanwhile form the next (bigger) batch instead of many small
/// entries each costing an fsync.
const MAX_INFLIGHT_BATCHES: usize = 2;

impl Store {
    /// Open the data directory and start the Raft node; bootstrap a new
    /// cluster when configured to. Background tasks stop with `stop`.
    pub async fn start(cfg: StoreConfig, stop: CancellationToken) -> Result<Arc<Store>, StartError> {
        let id = member_id_for(&cfg.peer_url);
        let cluster_id = cluster_id_for(&cfg.cluster_token);
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| StartError::Config(format!("cannot create {}: {e}", cfg.data_dir.display())))?;
        let db = engine::open(&cfg.data_dir.join("db"))?;
        let snap_dir = cfg.data_dir.join("snap");
        crate::snapshot::recover(&db, &snap_dir)?;
        let sm_shared = SmShared::load(db.clone())?;
        let log = LogStore::new(db.clone(), sm_shared.installing.clone());
        let sm = StateMachine::new(sm_shared.clone(), snap_dir);
        let peers = PeerClients::with_overrides(cfg.peer_dial_overrides.clone());
        // etcd's --election-timeout E means "campaign after about E without a
        // leader". openraft 0.9 campaigns after its leader lease (which is
        // election_timeout_max) plus a random timeout in [min, max), so
        // max = 0.6 E and min = 0.4 E give [E, 1.2 E).
        let et = cfg.election_timeout.as_millis() as u64;
        let hb = cfg.heartbeat.as_millis() as u64;
        let et_min = (et * 2 / 5).max(hb + 1);
        let et_max = (et * 3 / 5).max(et_min + 1);
        let rcfg = Config {
            cluster_name: cfg.cluster_token.clone(),
            heartbeat_interval: cfg.heartbeat.as_millis() as u64,
            election_timeout_min: et_min,
            election_timeout_max: et_max,
            install_snapshot_timeout: 10_000,
            snapshot_max_chunk_size: 1 << 20,
            max_payload_entries: 256,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(cfg.snapshot_count),
            max_in_snapshot_log_to_keep: cfg.snapshot_catchup_entries,
            purge_batch_size: 256,
            ..Default::default()
        }
        .validate()
        .map_err(|e| StartError::Config(e.to_string()))?;
        let raft = Raft::new(id, Arc::new(rcfg), Network::new(peers.clone()), log, sm)
            .await
            .map_err(|e| StartError::Raft(e.to_string()))?;
        if cfg.new_cluster {
            let members: std::collections::BTreeMap<NodeId, MemberNode> = cfg
                .initial_cluster
                .iter()
                .map(|(_, url)| (member_id_for(url), MemberNode { peer_url: url.clone() }))
                .collect();
            if !members.contains_key(&id) {
                return Err(StartError::Config(format!(
                    "--initial-cluster does not contain this member's --initial-advertise-peer-urls {}",
                    cfg.peer_url
                )));
            }
            // Idempotent: refused (and ignored) once the member holds any log.
            if !raft.is_initialized().await.map_err(|e| StartError::Raft(e.to_string()))? {
                if let Err(e) = raft.initialize(members).await {
                    tracing::debug!(error = %e, "initialize skipped");
                }
            }
        }
        let min_lease_ttl = ((cfg.election_timeout.as_millis() as i64 * 3 + 1999) / 2000).max(1);
        let (batcher, batch_rx) = tokio::sync::mpsc::unbounded_channel();
        let store = Arc::new(Store {
            id,
            cluster_id,
            cfg,
            raft,
            sm: sm_shared,
            peers,
            lessor: Lessor::default(),
            reads: ReadCoalescer::default(),
            stop,
            tasks: TaskTracker::new(),
            min_lease_ttl,
            batcher,
        });
        store.spawn_background(batch_rx);
        Ok(store)
    }

    /// The peer clients (shared with the peer server's handler).
    pub fn peers(&self) -> &PeerClients {
        &self.peers
    }

    fn spawn_background(self: &Arc<Self>, batch_rx: tokio::sync::mpsc::UnboundedReceiver<Pending>) {
        let s = self.clone();
        self.tasks.spawn(async move { s.batch_loop(batch_rx).await });
        let s = self.clone();
        self.tasks.spawn(async move { s.lease_loop().await });
        let s = self.clone();
        self.tasks.spawn(async move { s.publish_loop().await });
        let s = self.clone();
        self.tasks.spawn(async move { s.removal_watch().await });
    }

    /// Stop background tasks and Raft.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.tasks.close();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.tasks.wait()).await;
        let _ = self.raft.shutdown().await;
    }

    /// The current leader's id and peer URL, if known.
    pub fn leader(&self) -> Option<(NodeId, String)> {
        let m = self.raft.metrics();
        let m = m.borrow();
        let lid = m.current_leader?;
        let node = m.membership_config.membership().get_node(&lid)?;
        Some((lid, node.peer_url.clone()))
    }

    /// Current Raft term.
    pub fn term(&self) -> u64 {
        self.raft.metrics().borrow().current_term
    }

    /// A response header at `revision`.
    pub fn header(&self, revision: i64) -> ResponseHeader {
        ResponseHeader { cluster_id: self.cluster_id, member_id: self.id, revision, raft_term: self.term() }
    }

    fn remaining(deadline: Instant) -> Duration {
        deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(50))
    }

    async fn pause(&self) {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    /// Propose `req` through Raft from this member, forwarding to the leader
    /// when needed, and wait until it is applied locally. Key-value requests
    /// are batched with concurrent ones (on every member: followers forward
    /// whole batches).
    pub async fn write(&self, req: Request) -> Result<WriteResult, StoreError> {
        if !req.op.batchable() {
            return self.write_unbatched(req).await;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.batcher.send((req, tx)).is_err() {
            return Err(StoreError::Stopped);
        }
        rx.await.unwrap_or(Err(StoreError::Stopped))
    }

    /// Run a leader-only call: locally when this member leads, else on the
    /// leader through the peer transport; retry while there is no leader or
    /// it moved, until `deadline`. A peer call that failed after it may have
    /// been delivered is retried only when `retry_failed` (idempotent calls);
    /// otherwise its outcome is unknown and the caller gets `Timeout`.
    async fn leader_call<T, L, LF, R, RF>(
        &self,
        deadline: Instant,
        retry_failed: bool,
        local: L,
        remote: R,
    ) -> Result<T, StoreError>
    where
        L: Fn() -> LF,
        LF: std::future::Future<Output = LeaderReply<T>>,
        R: Fn(String, Duration) -> RF,
        RF: std::future::Future<Output = Result<LeaderReply<T>, PeerError>>,
    {
        loop {
            if self.stop.is_cancelled() {
                return Err(StoreError::Stopped);
            }
            match self.leader() {
                Some((lid, _)) if lid == self.id => {
                    if let LeaderReply::Done(r) = local().await {
                        return r;
                    }
                }
                Some((_, url)) => match remote(url, Self::remaining(deadline)).await {
                    Ok(LeaderReply::Done(r)) => return r,
                    Ok(LeaderReply::NotLeader) | Err(PeerError::Unreachable(..)) => {}
                    Err(PeerError::Failed(_, e)) if !retry_failed => {
                        tracing::warn!(error = %e, "call to the leader failed; outcome unknown");
                        return Err(StoreError::Timeout);
                    }
                    Err(PeerError::Failed(..)) => {}
                },
                None => {}
            }
            if Instant::now() >= deadline {
                return Err(StoreError::NoLeader);
            }
            self.pause().await;
        }
    }

    /// One proposal (a single request or a batch), forwarded when needed.
    async fn write_unbatched(&self, req: Request) -> Result<WriteResult, StoreError> {
        let deadline = Instant::now() + self.cfg.request_timeout;
        let r = self
            .leader_call(
                deadline,
                false,
                || self.propose(req.clone()),
                |url, t| {
                    let req = req.clone();
                    async move { self.peers.forward(&url, t, &req).await }
                },
            )
            .await;
        self.wait_local_apply(r, deadline).await
    }

    /// Wait until this member applied a write the leader applied, so a read
    /// here right after the write sees it.
    async fn wait_local_apply(
        &self,
        r: Result<WriteResult, StoreError>,
        deadline: Instant,
    ) -> Result<WriteResult, StoreError> {
        if let Ok(w) = &r {
            self.wait_applied(w.index, deadline).await?;
        }
        r
    }

    async fn wait_applied(&self, index: u64, deadline: Instant) -> Result<(), StoreError> {
        if self.sm.applied_index.load(Ordering::SeqCst) >= index {
            return Ok(());
        }
        self.raft
            .wait(Some(Self::remaining(deadline)))
            .applied_index_at_least(Some(index), "read")
            .await
            .map(|_| ())
            .map_err(|_| StoreError::Timeout)
    }

    /// One Raft proposal.
    async fn propose(&self, req: Request) -> LeaderReply<WriteResult> {
        match self.raft.client_write(req).await {
            Ok(r) => LeaderReply::Done(Ok(r.data)),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
                // We believed we led when we proposed: the entry may have been
                // appended before we stepped down, so retrying could apply it twice.
                LeaderReply::Done(Err(StoreError::Timeout))
            }
            Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e))) => {
                LeaderReply::Done(Err(StoreError::InvalidArgument(e.to_string())))
            }
            Err(RaftError::Fatal(_)) => LeaderReply::Done(Err(StoreError::Stopped)),
        }
    }

    /// Group concurrent key-value requests into batch entries.
    async fn batch_loop(self: Arc<Self>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Pending>) {
        let inflight = Arc::new(tokio::sync::Semaphore::new(MAX_INFLIGHT_BATCHES));
        loop {
            let first = tokio::select! {
                m = rx.recv() => match m { Some(m) => m, None => return },
                _ = self.stop.cancelled() => return,
            };
            let mut items = vec![first];
            let mut bytes = 0usize;
            let permit = tokio::select! {
                p = inflight.clone().acquire_owned() => p.expect("semaphore open"),
                _ = self.stop.cancelled() => return,
            };
            // Everything that arrived meanwhile joins this batch.
            while items.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(m) => {
                        bytes += op_len(&m.0.op);
                        items.push(m);
                    }
                    Err(_) => break,
                }
            }
            let store = self.clone();
            tokio::spawn(async move {
                let _permit = permit;
                if items.len() == 1 {
                    let (req, tx) = items.pop().expect("one item");
                    let _ = tx.send(store.write_unbatched(req).await);
                    return;
                }
                let (reqs, txs): (Vec<Request>, Vec<_>) = items.into_iter().unzip();
                match store.write_unbatched(Request::new(Op::Batch(reqs))).await {
                    Ok(WriteResult { outcome: Ok(Outcome::Batch(results)), .. }) => {
                        for (tx, r) in txs.into_iter().zip(results) {
                            let _ = tx.send(Ok(r));
                        }
                    }
                    Ok(other) => {
                        let e = StoreError::Internal(format!("unexpected batch outcome {:?}", other.outcome));
                        for tx in txs {
                            let _ = tx.send(Err(e.clone()));
                        }
                    }
                    Err(e) => {
                        for tx in txs {
                            let _ = tx.send(Err(e.clone()));
                        }
                    }
                }
            });
        }
    }

    /// Obtain a read index (quorum-confirmed) and wait until it is applied
    /// here. After this returns, local reads are linearizable. Concurrent
    /// callers on one member share a round.
    pub async fn linearizable_barrier(&self) -> Result<(), StoreError> {
        let deadline = Instant::now() + self.cfg.request_timeout;
        let idx = self.coalesced_read_index(deadline).await?;
        self.wait_applied(idx, deadline).await
    }

    async fn coalesced_read_index(&self, deadline: Instant) -> Result<u64, StoreError> {
        let ticket = self.reads.tickets.fetch_add(1, Ordering::SeqCst);
        let _g = tokio::time::timeout(Self::remaining(deadline), self.reads.lock.lock())
            .await
            .map_err(|_| StoreError::NoLeader)?;
        {
            let (round, idx) = *self.reads.last.lock();
            if round > ticket {
                return Ok(idx);
            }
        }
        let round = self.reads.tickets.fetch_add(1, Ordering::SeqCst);
        let idx = self.fetch_read_index(deadline).await?;
        *self.reads.last.lock() = (round, idx);
        Ok(idx)
    }

    /// One read-index round: locally on the leader, else from the leader.
    async fn fetch_read_index(&self, deadline: Instant) -> Result<u64, StoreError> {
        self.leader_call(
            deadline,
            true,
            || self.leader_read_index(deadline),
            |url, t| async move { self.peers.read_index(&url, t).await },
        )
        .await
    }

    /// The leader's read index: confirmed by a quorum of heartbeats.
    async fn leader_read_index(&self, deadline: Instant) -> LeaderReply<u64> {
        let r = tokio::time::timeout(Self::remaining(deadline), self.raft.get_read_log_id()).await;
        match r {
            Err(_) => LeaderReply::Done(Err(StoreError::NoLeader)),
            Ok(Ok((read_log_id, _))) => LeaderReply::Done(Ok(read_log_id.map_or(0, |l| l.index))),
            Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(_)))) => LeaderReply::NotLeader,
            Ok(Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(_)))) => {
                LeaderReply::Done(Err(StoreError::NoLeader))
            }
            Ok(Err(RaftError::Fatal(_))) => LeaderReply::Done(Err(StoreError::Stopped)),
        }
    }

    /// Check a request's encoded size against the limit.
    pub fn check_size(&self, len: usize) -> Result<(), StoreError> {
        if len > self.cfg.max_request_bytes {
            Err(StoreError::RequestTooLarge)
        } else {
            Ok(())
        }
    }

    fn decode_outcome<M: Message + Default>(&self, w: WriteResult) -> Result<M, StoreError> {
        match w.outcome? {
            Outcome::Encoded(b) => M::decode(b.as_slice()).map_err(|e| StoreError::Internal(e.to_string())),
            other => Err(StoreError::Internal(format!("unexpected outcome {other:?}"))),
        }
    }

    /// Range (linearizable unless `req.serializable`).
    pub async fn range(&self, req: RangeRequest) -> Result<RangeResponse, StoreError> {
        if req.key.is_empty() {
            return Err(StoreError::EmptyKey);
        }
        if !req.serializable {
            self.linearizable_barrier().await?;
        }
        let sm = self.sm.clone();
        let single = req.range_end.is_empty() && req.revision == 0;
        let work = move || -> Result<RangeResponse, StoreError> {
            let _readers = sm.install_lock.read();
            let view = View::snapshot(&sm.db);
            let (current, compact) = view.revisions()?;
            let mut resp = read::range(&view, &req, current, compact, &Overlay::new())?;
            resp.header = Some(ResponseHeader { revision: current, ..Default::default() });
            Ok(resp)
        };
        let mut resp = if single {
            work()?
        } else {
            tokio::task::spawn_blocking(work).await.map_err(|e| StoreError::Internal(e.to_string()))??
        };
        let rev = resp.header.as_ref().map_or(0, |h| h.revision);
        resp.header = Some(self.header(rev));
        Ok(resp)
    }

    /// Put.
    pub async fn put(&self, req: PutRequest) -> Result<PutResponse, StoreError> {
        self.put_fenced(req, None).await
    }

    /// Put, fenced to `term` when given.
    pub async fn put_fenced(&self, req: PutRequest, fence_term: Option<u64>) -> Result<PutResponse, StoreError> {
        validate_put(&req)?;
        self.check_size(req.encoded_len())?;
        let w = self.write(Request { fence_term, op: Op::Put(req.encode_to_vec()) }).await?;
        let rev = w.revision;
        let mut r: PutResponse = self.decode_outcome(w)?;
        r.header = Some(self.header(rev));
        Ok(r)
    }

    /// Delete a key or range.
    pub async fn delete_range(&self, req: DeleteRangeRequest) -> Result<DeleteRangeResponse, StoreError> {
        if req.key.is_empty() {
            return Err(StoreError::EmptyKey);
        }
        self.check_size(req.encoded_len())?;
        let w = self.write(Request::new(Op::DeleteRange(req.encode_to_vec()))).await?;
        let rev = w.revision;
        let mut r: DeleteRangeResponse = self.decode_outcome(w)?;
        r.header = Some(self.header(rev));
        Ok(r)
    }

    /// Txn. Read-only txns are served locally after a read barrier.
    pub async fn txn(&self, req: TxnRequest) -> Result<TxnResponse, StoreError> {
        self.txn_fenced(req, None).await
    }

    /// Txn, fenced to `term` when given.
    pub async fn txn_fenced(&self, req: TxnRequest, fence_term: Option<u64>) -> Result<TxnResponse, StoreError> {
        validate_txn(&req)?;
        self.check_size(req.encoded_len())?;
        if fence_term.is_none() && txn_is_read_only(&req) {
            self.linearizable_barrier().await?;
            let sm = self.sm.clone();
            let mut r = tokio::task::spawn_blocking(move || {
                let _readers = sm.install_lock.read();
                let view = View::snapshot(&sm.db);
                let (current, compact) = view.revisions()?;
                Applier::with_view(&sm.db, view, current, compact).txn(&req)
            })
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))??;
            let rev = r.header.as_ref().map_or(0, |h| h.revision);
            r.header = Some(self.header(rev));
            return Ok(r);
        }
        let w = self.write(Request { fence_term, op: Op::Txn(req.encode_to_vec()) }).await?;
        let rev = w.revision;
        let mut r: TxnResponse = self.decode_outcome(w)?;
        r.header = Some(self.header(rev));
        Ok(r)
    }

    /// Compact history below `revision`.
    pub async fn compact(&self, revision: i64) -> Result<ResponseHeader, StoreError> {
        let w = self.write(Request::new(Op::Compact { revision })).await?;
        w.outcome?;
        Ok(self.header(w.revision))
    }

    /// Grant a lease (id 0 = pick one). Returns (id, ttl).
    pub async fn lease_grant(&self, id: i64, ttl: i64) -> Result<(i64, i64, ResponseHeader), StoreError> {
        if ttl > 9_000_000_000 {
            return Err(StoreError::LeaseTtlTooLarge);
        }
        let ttl = ttl.max(self.min_lease_ttl);
        let id = if id == 0 { (rand::random::<u64>() >> 1).max(1) as i64 } else { id };
        if id < 0 {
            return Err(StoreError::InvalidArgument("lease id must be positive".into()));
        }
        let w = self.write(Request::new(Op::LeaseGrant { id, ttl })).await?;
        let rev = w.revision;
        match w.outcome? {
            Outcome::LeaseGranted { id, ttl } => Ok((id, ttl, self.header(rev))),
            o => Err(StoreError::Internal(format!("unexpected outcome {o:?}"))),
        }
    }

    /// Revoke a lease, deleting its keys.
    pub async fn lease_revoke(&self, id: i64) -> Result<ResponseHeader, StoreError> {
        let w = self.write(Request::new(Op::LeaseRevoke { ids: vec![id], expired: false })).await?;
        w.outcome?;
        Ok(self.header(w.revision))
    }

    /// Leader-only lease call, forwarded when needed.
    pub async fn lease_call(&self, call: LeaseCall) -> Result<(i64, i64), StoreError> {
        let deadline = Instant::now() + self.cfg.request_timeout;
        self.leader_call(
            deadline,
            true,
            || std::future::ready(self.serve_lease_call(&call)),
            |url, t| {
                let call = &call;
                async move { self.peers.lease(&url, t, call).await }
            },
        )
        .await
    }

    fn is_leader_now(&self) -> bool {
        let m = self.raft.metrics();
        let m = m.borrow();
        m.current_leader == Some(self.id) && m.state == openraft::ServerState::Leader
    }

    fn serve_lease_call(&self, call: &LeaseCall) -> LeaderReply<(i64, i64)> {
        if !self.is_leader_now() {
            return LeaderReply::NotLeader;
        }
        let now = Instant::now();
        match call {
            LeaseCall::KeepAlive(id) => match self.sm.leases.read().get(id).copied() {
                None => LeaderReply::Done(Err(StoreError::LeaseNotFound)),
                Some(ttl) => {
                    self.lessor.keep_alive(*id, ttl, now);
                    LeaderReply::Done(Ok((ttl, ttl)))
                }
            },
            LeaseCall::TimeToLive(id) => match self.sm.leases.read().get(id).copied() {
                None => LeaderReply::Done(Ok((-1, 0))),
                Some(ttl) => LeaderReply::Done(Ok((self.lessor.remaining(*id, now).unwrap_or(ttl), ttl))),
            },
        }
    }

    /// Keys attached to a lease (local read).
    pub fn lease_keys(&self, id: i64) -> Vec<Vec<u8>> {
        let db = &self.sm.db;
        let cf = db.cf_handle(crate::keys::CF_LKEYS).expect("cf lkeys");
        let prefix = (id as u64).to_be_bytes();
        db.prefix_iterator_cf(cf, prefix)
            .flatten()
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k[8..].to_vec())
            .collect()
    }

    async fn lease_loop(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if !self.is_leader_now() {
                self.lessor.clear();
                continue;
            }
            let term = self.term();
            let leases: Vec<(i64, i64)> = self.sm.leases.read().iter().map(|(a, b)| (*a, *b)).collect();
            let expired = self.lessor.tick(term, &leases, Instant::now());
            if expired.is_empty() {
                continue;
            }
            tracing::info!(leases = ?expired, "leases expired; revoking");
            let req = Request { fence_term: Some(term), op: Op::LeaseRevoke { ids: expired, expired: true } };
            if let Err(e) = self.write(req).await {
                tracing::warn!(error = %e, "revoking expired leases failed; will retry");
            }
        }
    }

    /// Make sure our name and client URLs are published in the state machine.
    async fn publish_loop(self: Arc<Self>) {
        let started = Instant::now();
        let mut hinted = false;
        loop {
            if !hinted && !self.is_member() && started.elapsed() > Duration::from_secs(5) {
                hinted = true;
                tracing::warn!(
                    peer_url = %self.cfg.peer_url,
                    "this member is not part of the cluster yet; add it from a running member with \
                     `etcdctl member add {} --peer-urls={}`",
                    self.cfg.name,
                    self.cfg.peer_url
                );
            }
            let want = crate::state_machine::MemberAttrs {
                name: self.cfg.name.clone(),
                client_urls: self.cfg.client_urls.clone(),
            };
            let published = self.sm.members.read().get(&self.id) == Some(&want);
            if published {
                return;
            }
            if self.leader().is_some() && self.is_member() {
                let req = Request::new(Op::PublishMember {
                    id: self.id,
                    name: want.name.clone(),
                    client_urls: want.client_urls.clone(),
                });
                if let Err(e) = self.write(req).await {
                    tracing::debug!(error = %e, "publishing member attributes; will retry");
                }
            }
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
    }

    fn is_member(&self) -> bool {
        let m = self.raft.metrics();
        let m = m.borrow();
        m.membership_config.membership().get_node(&self.id).is_some()
    }

    /// Stop the member once a committed membership no longer contains it.
    async fn removal_watch(self: Arc<Self>) {
        let mut rx = self.raft.metrics();
        let mut was_member = false;
        let mut check = tokio::time::interval(Duration::from_secs(2));
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let (member, applied_membership) = {
                let m = rx.borrow_and_update();
                let member = m.membership_config.membership().get_node(&self.id).is_some();
                let applied = m.last_applied.map(|l| l.index).unwrap_or(0)
                    >= m.membership_config.log_id().map(|l| l.index).unwrap_or(0);
                (member, applied && m.membership_config.log_id().is_some())
            };
            if member {
                was_member = true;
            } else if was_member && applied_membership && self.asked_removed().await {
                // A member that was removed and then added back (with a
                // wiped log) replays the old configuration that excluded
                // it while it catches up: only the leader's word counts.
                tracing::warn!(member = self.id, "this member was removed from the cluster; stopping");
                self.stop.cancel();
                return;
            }
            tokio::select! {
                _ = self.stop.cancelled() => return,
                r = rx.changed() => if r.is_err() { return },
                _ = check.tick() => {
                    if was_member && !self.is_leader_now() && self.asked_removed().await {
                        tracing::warn!(member = self.id, "the leader says this member was removed from the cluster; stopping");
                        self.stop.cancel();
                        return;
                    }
                }
            }
        }
    }

    /// Ask the other members whether we are still a member.
    async fn asked_removed(&self) -> bool {
        let urls: Vec<String> = {
            let m = self.raft.metrics();
            let m = m.borrow();
            m.membership_config
                .membership()
                .nodes()
                .filter(|(id, _)| **id != self.id)
                .map(|(_, n)| n.peer_url.clone())
                .collect()
        };
        for url in urls {
            let r = self.peers.membership(&url, Duration::from_secs(1), &MembershipCall::IsMember(self.id)).await;
            if let Ok(LeaderReply::Done(Err(StoreError::MemberNotFound))) = r {
                return true;
            }
        }
        false
    }

    /// Every member, with published names and URLs.
    pub fn members(&self) -> Vec<Member> {
        let m = self.raft.metrics();
        let m = m.borrow();
        let mem = m.membership_config.membership();
        let voters: BTreeSet<NodeId> = mem.voter_ids().collect();
        let attrs = self.sm.members.read();
        mem.nodes()
            .map(|(id, node)| {
                let a = attrs.get(id).cloned().unwrap_or_default();
                Member {
                    id: *id,
                    name: a.name,
                    peer_ur_ls: vec![node.peer_url.clone()],
                    client_ur_ls: a.client_urls,
                    is_learner: !voters.contains(id),
                }
            })
            .collect()
    }

    /// Leader-only membership call, forwarded when needed.
    pub async fn membership_call(&self, call: MembershipCall) -> Result<(), StoreError> {
        let deadline = Instant::now() + self.cfg.request_timeout;
        self.leader_call(
            deadline,
            false,
            || self.serve_membership_call(call.clone()),
            |url, t| {
                let call = &call;
                async move { self.peers.membership(&url, t, call).await }
            },
        )
        .await
    }

    async fn serve_membership_call(&self, call: MembershipCall) -> LeaderReply<()> {
        if !self.is_leader_now() {
            return LeaderReply::NotLeader;
        }
        let (voters, learners, joint): (BTreeSet<NodeId>, BTreeSet<NodeId>, bool) = {
            let m = self.raft.metrics();
            let m = m.borrow();
            let mem = m.membership_config.membership();
            (mem.voter_ids().collect(), mem.learner_ids().collect(), mem.get_joint_config().len() > 1)
        };
        let map = |r: Result<_, RaftError<NodeId, ClientWriteError<NodeId, MemberNode>>>| match r {
            Ok(_) => LeaderReply::Done(Ok(())),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => LeaderReply::NotLeader,
            Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e))) => {
                LeaderReply::Done(Err(StoreError::InvalidArgument(e.to_string())))
            }
            Err(RaftError::Fatal(_)) => LeaderReply::Done(Err(StoreError::Stopped)),
        };
        match call {
            MembershipCall::IsMember(id) => {
                if joint || voters.contains(&id) || learners.contains(&id) {
                    LeaderReply::Done(Ok(()))
                } else {
                    LeaderReply::Done(Err(StoreError::MemberNotFound))
                }
            }
            MembershipCall::Add { id, peer_url, learner } => {
                if voters.contains(&id) || learners.contains(&id) {
                    return LeaderReply::Done(Err(StoreError::PeerUrlExists));
                }
                let r = self.raft.add_learner(id, MemberNode { peer_url }, false).await;
                if learner {
                    return map(r.map(|_| ()));
                }
                if let LeaderReply::Done(Err(e)) = map(r.map(|_| ())) {
                    return LeaderReply::Done(Err(e));
                }
                map(self.raft.change_membership(ChangeMembers::AddVoterIds([id].into()), true).await.map(|_| ()))
            }
            MembershipCall::Promote(id) => {
                if voters.contains(&id) {
                    return LeaderReply::Done(Err(StoreError::MemberNotLearner));
                }
                if !learners.contains(&id) {
                    return LeaderReply::Done(Err(StoreError::MemberNotFound));
                }
                map(self.raft.change_membership(ChangeMembers::AddVoterIds([id].into()), true).await.map(|_| ()))
            }
            MembershipCall::Remove(id) => {
                if voters.contains(&id) {
                    map(self.raft.change_membership(ChangeMembers::RemoveVoters([id].into()), false).await.map(|_| ()))
                } else if learners.contains(&id) {
                    map(self.raft.change_membership(ChangeMembers::RemoveNodes([id].into()), false).await.map(|_| ()))
                } else {
                    LeaderReply::Done(Err(StoreError::MemberNotFound))
                }
            }
        }
    }
}

fn op_len(op: &Op) -> usize {
    match op {
        Op::Put(b) | Op::DeleteRange(b) | Op::Txn(b) => b.len(),
        _ => 64,
    }
}

impl PeerHandler for Store {
    fn raft(&self) -> &Raft {
        &self.raft
    }

    async fn forwarded_write(&self, req: Request) -> LeaderReply<WriteResult> {
        if !self.is_leader_now() {
            return LeaderReply::NotLeader;
        }
        match req.op {
            // A follower's batch joins the leader's own batches, so that all
            // members' concurrent requests share entries (and fsyncs).
            Op::Batch(items) if items.iter().all(|i| i.op.batchable()) => {
                let results = futures::future::join_all(items.into_iter().map(|i| self.write(i))).await;
                let mut revision = 0;
                let mut index = 0;
                let results: Vec<WriteResult> = results
                    .into_iter()
                    .map(|r| match r {
                        Ok(w) => {
                            revision = revision.max(w.revision);
                            index = index.max(w.index);
                            w
                        }
                        Err(e) => WriteResult { revision: 0, index: 0, outcome: Err(e) },
                    })
                    .collect();
                LeaderReply::Done(Ok(WriteResult { revision, index, outcome: Ok(Outcome::Batch(results)) }))
            }
            _ if req.op.batchable() => LeaderReply::Done(self.write(req).await),
            _ => self.propose(req).await,
        }
    }

    async fn read_index(&self) -> LeaderReply<u64> {
        if !self.is_leader_now() {
            return LeaderReply::NotLeader;
        }
        // Shares rounds with this member's own readers and other followers.
        LeaderReply::Done(self.coalesced_read_index(Instant::now() + self.cfg.request_timeout).await)
    }

    async fn lease_call(&self, call: LeaseCall) -> LeaderReply<(i64, i64)> {
        self.serve_lease_call(&call)
    }

    async fn membership_call(&self, call: MembershipCall) -> LeaderReply<()> {
        self.serve_membership_call(call).await
    }
}
