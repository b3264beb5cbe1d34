//! The API server's end of the agents' tunnels: node agents have no inbound
//! port, so each agent opens a `Dispatcher.Tunnel` stream to every replica
//! it knows, and `kubectl logs` / `kubectl exec` on any replica become
//! sessions multiplexed over the pod's node's tunnel.
//!
//! Protocol (on top of `agent.proto`):
//! - The agent's first frame is `hello` with its node name; anything else
//!   ends the stream with `InvalidArgument`.
//! - [`Tunnels::open`] sends `SessionOpen` with an id unique on that tunnel.
//!   The agent answers with an empty STDOUT frame once the session started
//!   (the *ready* frame), or with a failure `Status` on the ERROR channel
//!   (its `code` is 400 for "container not found"-like errors, 500
//!   otherwise) followed by `SessionClose` with the message.
//! - Output arrives on STDOUT/STDERR, the final Status on ERROR; either side
//!   ends the session with `SessionClose`.
//!
//! Guarantees:
//! - A node may have several tunnels here (an agent reconnecting before its
//!   old stream is noticed dead); sessions go to the newest one that
//!   accepts the open. A tunnel is removed when its stream ends either way,
//!   and its sessions end with [`TunnelError::Lost`].
//! - No lock is held across an `.await`.

mod error;
pub mod http;
mod link;
pub mod remotecommand;
mod session;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::{Stream, StreamExt};
use parking_lot::Mutex;
use proto::agent::{tunnel_down, tunnel_up, SessionOpen, TunnelDown, TunnelUp};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

pub use error::{reason_for, TunnelError};
use link::Link;
pub use link::READER_PATIENCE;
pub use session::{Session, SessionReader, SessionWriter};

/// Frames buffered toward one agent.
const DOWN_BUFFER: usize = 128;

/// The registry of live agent tunnels on this replica, by node name.
/// Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Tunnels {
    inner: Arc<Registry>,
}

#[derive(Default)]
struct Registry {
    /// Node name → its live links, newest first.
    nodes: Mutex<HashMap<String, Vec<Arc<Link>>>>,
    next_link: AtomicU64,
}

impl Tunnels {
    /// An empty registry.
    pub fn new() -> Tunnels {
        Tunnels::default()
    }

    /// Serves one agent's Tunnel stream: returns the stream of frames toward
    /// the agent (what the Dispatcher's `Tunnel` RPC responds with) and
    /// registers the tunnel once the agent said hello. The tunnel is
    /// removed when `inbound` ends or fails, or when the response stream is
    /// dropped (the agent went away).
    pub fn serve(
        &self,
        inbound: impl Stream<Item = Result<TunnelUp, tonic::Status>> + Send + Unpin + 'static,
    ) -> ReceiverStream<Result<TunnelDown, tonic::Status>> {
        let (tx, rx) = mpsc::channel(DOWN_BUFFER);
        let tunnels = self.clone();
        tokio::spawn(async move { tunnels.run_link(inbound, tx).await });
        ReceiverStream::new(rx)
    }

    async fn run_link(
        self,
        mut inbound: impl Stream<Item = Result<TunnelUp, tonic::Status>> + Send + Unpin + 'static,
        down: mpsc::Sender<Result<TunnelDown, tonic::Status>>,
    ) {
        let node = match inbound.next().await {
            Some(Ok(TunnelUp { frame: Some(tunnel_up::Frame::Hello(node)) })) if !node.is_empty() => node,
            Some(Err(status)) => {
                tracing::debug!(error = %status, "tunnel stream failed before hello");
                return;
            }
            _ => {
                let status = tonic::Status::invalid_argument("the first Tunnel frame must be hello with the node name");
                let _ = down.send(Err(status)).await;
                return;
            }
        };
        let id = self.inner.next_link.fetch_add(1, Ordering::Relaxed);
        let link = Arc::new(Link::new(id, node.clone(), down.clone()));
        self.inner.nodes.lock().entry(node.clone()).or_default().insert(0, link.clone());
        tracing::info!(node = %node, tunnel = id, "agent tunnel opened");
        let reason = loop {
            tokio::select! {
                _ = down.closed() => break "the agent went away".to_string(),
                frame = inbound.next() => match frame {
                    Some(Ok(up)) => link.deliver(up).await,
                    Some(Err(status)) => break format!("the agent's tunnel failed: {}", status.message()),
                    None => break "the agent closed its tunnel".to_string(),
                },
            }
        };
        self.remove(&link);
        link.end_all(&format!("the tunnel of node {node}'s agent closed during the session: {reason}"));
        tracing::info!(node = %node, tunnel = id, reason = %reason, "agent tunnel closed");
    }

    fn remove(&self, link: &Arc<Link>) {
        let mut nodes = self.inner.nodes.lock();
        if let Some(links) = nodes.get_mut(&link.node) {
            links.retain(|l| l.id != link.id);
            if links.is_empty() {
                nodes.remove(&link.node);
            }
        }
    }

    /// Opens a session to `node`'s agent. `open.session` is ignored: the id
    /// is assigned here. Fails with [`TunnelError::NoAgent`] when no tunnel
    /// of that node accepts the open.
    pub async fn open(&self, node: &str, mut open: SessionOpen) -> Result<Session, TunnelError> {
        let links: Vec<Arc<Link>> = self.inner.nodes.lock().get(node).cloned().unwrap_or_default();
        for link in links {
            let (id, rx, fate) = link.add_session();
            open.session = id;
            // Built first so that a failed send below closes the slot again.
            let session = Session::new(link.clone(), id, rx, fate);
            let frame = TunnelDown { frame: Some(tunnel_down::Frame::Open(open.clone())) };
            if link.send(frame).await.is_ok() {
                tracing::debug!(node = %node, tunnel = link.id, session = id, "session opened");
                return Ok(session);
            }
        }
        Err(TunnelError::NoAgent(node.to_string()))
    }

    /// Whether `node` has at least one tunnel here.
    pub fn has_agent(&self, node: &str) -> bool {
        self.tunnel_count(node) > 0
    }

    /// How many live tunnels `node` has here.
    pub fn tunnel_count(&self, node: &str) -> usize {
        self.inner.nodes.lock().get(node).map_or(0, Vec::len)
    }

    /// Open sessions over all tunnels here.
    pub fn session_count(&self) -> usize {
        let links: Vec<Arc<Link>> = self.inner.nodes.lock().values().flatten().cloned().collect();
        links.iter().map(|l| l.session_count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_without_agent_is_no_agent() {
        let tunnels = Tunnels::new();
        let err = tunnels.open("ghost", SessionOpen::default()).await.err().expect("no agent");
        assert_eq!(err, TunnelError::NoAgent("ghost".into()));
        assert_eq!(err.code(), 503);
    }

    #[tokio::test]
    async fn first_frame_must_be_hello() {
        let tunnels = Tunnels::new();
        let (tx, rx) = mpsc::channel(4);
        let mut down = tunnels.serve(ReceiverStream::new(rx));
        tx.send(Ok(TunnelUp { frame: None })).await.unwrap();
        let first = down.next().await.expect("a frame");
        assert_eq!(first.expect_err("an error").code(), tonic::Code::InvalidArgument);
        assert!(down.next().await.is_none());
        assert!(!tunnels.has_agent(""));
    }

    #[tokio::test]
    async fn sessions_go_to_newest_tunnel_and_tunnels_are_removed() {
        let tunnels = Tunnels::new();
        let hello = || Ok(TunnelUp { frame: Some(tunnel_up::Frame::Hello("n1".into())) });
        let (old_tx, old_rx) = mpsc::channel(4);
        let mut old_down = tunnels.serve(ReceiverStream::new(old_rx));
        old_tx.send(hello()).await.unwrap();
        must_wait(|| tunnels.tunnel_count("n1") == 1).await;
        let (new_tx, new_rx) = mpsc::channel(4);
        let mut new_down = tunnels.serve(ReceiverStream::new(new_rx));
        new_tx.send(hello()).await.unwrap();
        must_wait(|| tunnels.tunnel_count("n1") == 2).await;

        let mut session = tunnels.open("n1", SessionOpen { session: 99, ..Default::default() }).await.unwrap();
        assert_eq!(session.id(), 1, "id assigned by the tunnel");
        let frame = new_down.next().await.unwrap().unwrap();
        assert!(matches!(frame.frame, Some(tunnel_down::Frame::Open(SessionOpen { session: 1, .. }))));
        assert_eq!(tunnels.session_count(), 1);

        // The newest tunnel ends: its session is lost, the old one serves.
        drop(new_tx);
        must_wait(|| tunnels.tunnel_count("n1") == 1).await;
        assert!(matches!(session.recv().await, Err(TunnelError::Lost(_))));
        let _second = tunnels.open("n1", SessionOpen::default()).await.unwrap();
        let frame = old_down.next().await.unwrap().unwrap();
        assert!(matches!(frame.frame, Some(tunnel_down::Frame::Open(_))));

        // The agent goes away (response stream dropped): removed too.
        drop(old_down);
        must_wait(|| !tunnels.has_agent("n1")).await;
        assert!(matches!(tunnels.open("n1", SessionOpen::default()).await, Err(TunnelError::NoAgent(_))));
        drop(old_tx);
    }

    #[tokio::test]
    async fn dropping_a_session_closes_it_at_the_agent() {
        let tunnels = Tunnels::new();
        let (tx, rx) = mpsc::channel(4);
        let mut down = tunnels.serve(ReceiverStream::new(rx));
        tx.send(Ok(TunnelUp { frame: Some(tunnel_up::Frame::Hello("n1".into())) })).await.unwrap();
        must_wait(|| tunnels.has_agent("n1")).await;
        let session = tunnels.open("n1", SessionOpen::default()).await.unwrap();
        let _open = down.next().await.unwrap().unwrap();
        drop(session);
        let frame = down.next().await.unwrap().unwrap();
        assert!(
            matches!(frame.frame, Some(tunnel_down::Frame::Close(ref c)) if c.session == 1 && c.error.is_empty()),
            "{frame:?}"
        );
        assert_eq!(tunnels.session_count(), 0);
    }

    #[tokio::test]
    async fn agent_frames_reach_the_session_in_order_then_close() {
        use proto::agent::{Channel, SessionClose, SessionData};
        let tunnels = Tunnels::new();
        let (tx, rx) = mpsc::channel(8);
        let _down = tunnels.serve(ReceiverStream::new(rx));
        tx.send(Ok(TunnelUp { frame: Some(tunnel_up::Frame::Hello("n1".into())) })).await.unwrap();
        must_wait(|| tunnels.has_agent("n1")).await;
        let mut a = tunnels.open("n1", SessionOpen::default()).await.unwrap();
        let mut b = tunnels.open("n1", SessionOpen::default()).await.unwrap();
        let data = |s, ch: Channel, d: &str| {
            Ok(TunnelUp {
                frame: Some(tunnel_up::Frame::Data(SessionData { session: s, channel: ch as i32, data: d.into() })),
            })
        };
        let close = |s, e: &str| {
            Ok(TunnelUp { frame: Some(tunnel_up::Frame::Close(SessionClose { session: s, error: e.into() })) })
        };
        tx.send(data(1, Channel::Stdout, "one")).await.unwrap();
        tx.send(data(2, Channel::Stderr, "other")).await.unwrap();
        tx.send(data(1, Channel::Stdout, "two")).await.unwrap();
        tx.send(close(1, "")).await.unwrap();
        tx.send(close(2, "boom")).await.unwrap();
        assert_eq!(a.recv().await.unwrap(), Some((Channel::Stdout, "one".into())));
        assert_eq!(a.recv().await.unwrap(), Some((Channel::Stdout, "two".into())));
        assert_eq!(a.recv().await.unwrap(), None);
        assert_eq!(b.recv().await.unwrap(), Some((Channel::Stderr, "other".into())));
        assert_eq!(b.recv().await, Err(TunnelError::Agent { code: 500, message: "boom".into() }));
    }

    async fn must_wait(cond: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while !cond() {
            assert!(tokio::time::Instant::now() < deadline, "condition not reached in time");
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}
