//! The agent dispatcher (`helmsman.agent.v1.Dispatcher`), served by every
//! replica from its local store: node registration, Lease heartbeats, the
//! resumable assignment stream, batched pod status, agent Events, and the
//! log/exec tunnel.
//!
//! Guarantees: an agent may talk to any replica and switch at any time.
//! Its assignment stream starts with a COMPLETE set of the node's pods (or,
//! when resuming from a revision this replica still covers, with the
//! changes after it) and continues with INCREMENTAL changes; every message
//! names the revision it brings the agent's set to, so resuming from it on
//! any replica misses nothing (see [`router`]).

pub mod node;
pub mod router;
pub mod status;

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use proto::agent::dispatcher_server::Dispatcher;
use proto::agent::{
    assignments, Assignments, AssignmentsRequest, EventBatch, EventBatchResponse, HeartbeatRequest, HeartbeatResponse,
    PodChange, RegisterRequest, RegisterResponse, StatusBatch, StatusBatchResponse, TunnelDown, TunnelUp,
};
use serde_json::Value;
use tokio::sync::{mpsc, OnceCell};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use self::router::{PodEntry, PodRouter, Routed};
use crate::error::ApiError;
use crate::grpc::status as grpc_status;
use crate::server::ApiServer;

/// The service.
pub struct DispatcherService {
    api: ApiServer,
    router: OnceCell<Arc<PodRouter>>,
}

impl DispatcherService {
    /// Serve agents from `api`'s store.
    pub fn new(api: ApiServer) -> Self {
        DispatcherService { api, router: OnceCell::new() }
    }

    /// The pod router, started on first use (replicas without agents keep
    /// no pod index).
    async fn router(&self) -> Arc<PodRouter> {
        self.router
            .get_or_init(|| async { PodRouter::start(self.api.clone(), self.api.objects.store().stop.clone()) })
            .await
            .clone()
    }
}

fn bad(msg: impl Into<String>) -> Status {
    grpc_status(&ApiError::bad_request(msg))
}

fn changes(entries: Vec<PodEntry>) -> Vec<PodChange> {
    entries
        .into_iter()
        .map(|e| PodChange {
            namespace: e.namespace,
            name: e.name,
            uid: e.uid,
            removed: e.json.is_none(),
            pod: e.json.map(|b| b.to_vec()).unwrap_or_default(),
        })
        .collect()
}

fn to_message(r: Routed) -> Assignments {
    match r {
        Routed::Complete(revision, pods) => {
            Assignments { kind: assignments::Kind::Complete as i32, revision, pods: changes(pods) }
        }
        Routed::Changes(revision, pods) => {
            Assignments { kind: assignments::Kind::Incremental as i32, revision, pods: changes(pods) }
        }
        Routed::Progress(revision) => {
            Assignments { kind: assignments::Kind::Progress as i32, revision, pods: Vec::new() }
        }
    }
}

/// Merge everything already queued into one message: a COMPLETE replaces
/// what came before it; changes append; the last revision wins.
fn coalesce(first: Routed, rx: &mut mpsc::Receiver<Routed>) -> Routed {
    let mut acc = first;
    for _ in 0..256 {
        let Ok(next) = rx.try_recv() else { break };
        acc = match (acc, next) {
            (_, Routed::Complete(r, p)) => Routed::Complete(r, p),
            (Routed::Complete(_, mut p), Routed::Changes(r, more)) => {
                for e in more {
                    p.retain(|x| x.uid != e.uid);
                    if e.json.is_some() {
                        p.push(e);
                    }
                }
                Routed::Complete(r, p)
            }
            (Routed::Complete(r0, p), Routed::Progress(r)) => Routed::Complete(r.max(r0), p),
            (Routed::Changes(_, mut p), Routed::Changes(r, more)) => {
                p.extend(more);
                Routed::Changes(r, p)
            }
            (Routed::Changes(r0, p), Routed::Progress(r)) => Routed::Changes(r.max(r0), p),
            (Routed::Progress(_), Routed::Changes(r, p)) => Routed::Changes(r, p),
            (Routed::Progress(r0), Routed::Progress(r)) => Routed::Progress(r.max(r0)),
        };
    }
    acc
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl Dispatcher for DispatcherService {
    async fn register(&self, req: Request<RegisterRequest>) -> Result<Response<RegisterResponse>, Status> {
        let node: Value = serde_json::from_slice(&req.into_inner().node)
            .map_err(|e| bad(format!("register: node is not a JSON object: {e}")))?;
        if !node.is_object() {
            return Err(bad("register: node must be a JSON object (a v1 Node)"));
        }
        let stored = node::register(&self.api, node).await.map_err(|e| grpc_status(&e))?;
        Ok(Response::new(RegisterResponse {
            node: serde_json::to_vec(&stored).unwrap_or_default(),
            lease_duration_seconds: node::LEASE_DURATION_SECONDS,
            renew_interval_ms: node::RENEW_INTERVAL_MS,
        }))
    }

    async fn heartbeat(&self, req: Request<HeartbeatRequest>) -> Result<Response<HeartbeatResponse>, Status> {
        let r = req.into_inner();
        let conditions = if r.conditions.is_empty() {
            None
        } else {
            let v: Value =
                serde_json::from_slice(&r.conditions).map_err(|e| bad(format!("heartbeat: conditions: {e}")))?;
            if !v.is_array() {
                return Err(bad("heartbeat: conditions must be a JSON array of NodeConditions"));
            }
            Some(v)
        };
        node::heartbeat(&self.api, &r.node_name, conditions).await.map_err(|e| grpc_status(&e))?;
        Ok(Response::new(HeartbeatResponse {}))
    }

    type AssignmentsStream = BoxStream<Assignments>;

    async fn assignments(&self, req: Request<AssignmentsRequest>) -> Result<Response<Self::AssignmentsStream>, Status> {
        let r = req.into_inner();
        if r.node_name.is_empty() {
            return Err(bad("assignments: node_name is required"));
        }
        if r.revision < 0 {
            return Err(bad("assignments: revision must be 0 (start over) or the last revision applied"));
        }
        let router = self.router().await;
        let sub = router.subscribe(&r.node_name, r.revision).await.map_err(|e| grpc_status(&e))?;
        let (tx, out) = mpsc::channel::<Result<Assignments, Status>>(4);
        let node = r.node_name.clone();
        tokio::spawn(async move {
            let mut rx = sub.rx;
            let first = coalesce(sub.first, &mut rx);
            if tx.send(Ok(to_message(first))).await.is_err() {
                return;
            }
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(m) => {
                            let m = coalesce(m, &mut rx);
                            if tx.send(Ok(to_message(m))).await.is_err() {
                                return;
                            }
                        }
                        None => {
                            tracing::debug!(node, "assignment stream ended by the router; the agent resumes");
                            let _ = tx.send(Err(Status::unavailable("assignment stream interrupted; resume from the last revision"))).await;
                            return;
                        }
                    },
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(out))))
    }

    async fn report_status(&self, req: Request<StatusBatch>) -> Result<Response<StatusBatchResponse>, Status> {
        let r = req.into_inner();
        let results = status::apply_batch(&self.api, r.updates).await;
        Ok(Response::new(StatusBatchResponse { results }))
    }

    async fn report_events(&self, req: Request<EventBatch>) -> Result<Response<EventBatchResponse>, Status> {
        status::create_events(&self.api, req.into_inner().events).await.map_err(|e| grpc_status(&e))?;
        Ok(Response::new(EventBatchResponse {}))
    }

    type TunnelStream = ReceiverStream<Result<TunnelDown, Status>>;

    async fn tunnel(&self, req: Request<Streaming<TunnelUp>>) -> Result<Response<Self::TunnelStream>, Status> {
        Ok(Response::new(self.api.tunnels.serve(req.into_inner())))
    }
}
