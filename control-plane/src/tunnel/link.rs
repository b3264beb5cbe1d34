//! One agent's Tunnel stream on this replica: the sender toward the agent
//! and the table of sessions multiplexed over it.
//!
//! Guarantees:
//! - Session ids are unique per link (a counter from 1).
//! - A frame for an unknown session (one already closed on this side) is
//!   dropped; the agent is expected to send such frames during a close race.
//! - A session whose reader does not take a frame within
//!   [`READER_PATIENCE`] is cut (the reader sees [`TunnelError::Lost`], the
//!   agent gets a `SessionClose` with an error), so one stalled client
//!   cannot stall the other sessions of the node for longer than that.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use proto::agent::{tunnel_down, tunnel_up, Channel, SessionClose, TunnelDown, TunnelUp};
use tokio::sync::mpsc;

use super::session::{End, Fate};
use super::TunnelError;

/// How long the tunnel waits for a session's reader to accept a frame.
pub const READER_PATIENCE: Duration = Duration::from_secs(30);

/// Frames buffered per session toward its reader.
const SESSION_BUFFER: usize = 64;

/// The sending side of one session's frames, kept by the link.
struct Slot {
    tx: mpsc::Sender<(Channel, Bytes)>,
    fate: Fate,
}

/// One live Tunnel stream from an agent.
pub(crate) struct Link {
    /// Registry-wide id of this link.
    pub(crate) id: u64,
    /// The node the agent said hello as.
    pub(crate) node: String,
    down: mpsc::Sender<Result<TunnelDown, tonic::Status>>,
    sessions: Mutex<HashMap<u64, Slot>>,
    next_session: AtomicU64,
}

impl Link {
    pub(crate) fn new(id: u64, node: String, down: mpsc::Sender<Result<TunnelDown, tonic::Status>>) -> Link {
        Link { id, node, down, sessions: Mutex::new(HashMap::new()), next_session: AtomicU64::new(1) }
    }

    /// Registers a new session; returns its id, the receiver of its frames
    /// and its fate.
    pub(crate) fn add_session(&self) -> (u64, mpsc::Receiver<(Channel, Bytes)>, Fate) {
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SESSION_BUFFER);
        let fate = Fate::default();
        self.sessions.lock().insert(id, Slot { tx, fate: fate.clone() });
        (id, rx, fate)
    }

    /// Forgets a session; true when it was still open.
    pub(crate) fn take_session(&self, id: u64) -> bool {
        self.sessions.lock().remove(&id).is_some()
    }

    /// Open sessions on this link.
    pub(crate) fn session_count(&self) -> usize {
        self.sessions.lock().len()
    }

    /// Sends a frame to the agent, waiting for buffer space.
    pub(crate) async fn send(&self, frame: TunnelDown) -> Result<(), TunnelError> {
        self.down
            .send(Ok(frame))
            .await
            .map_err(|_| TunnelError::Lost(format!("the tunnel of node {}'s agent closed", self.node)))
    }

    /// Sends a frame without waiting (from `Drop`): queued at once when
    /// there is room, else by a spawned task.
    pub(crate) fn send_nowait(&self, frame: TunnelDown) {
        match self.down.try_send(Ok(frame)) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(frame)) => {
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    let down = self.down.clone();
                    handle.spawn(async move {
                        let _ = down.send(frame).await;
                    });
                }
            }
        }
    }

    /// Ends a session with `end` (the reader reports it after the frames
    /// already queued).
    fn end_session(&self, id: u64, end: End) -> bool {
        let Some(slot) = self.sessions.lock().remove(&id) else {
            return false;
        };
        *slot.fate.lock() = Some(end);
        true
    }

    /// Ends every session (the stream is gone).
    pub(crate) fn end_all(&self, reason: &str) {
        let slots: Vec<Slot> = self.sessions.lock().drain().map(|(_, s)| s).collect();
        for slot in slots {
            *slot.fate.lock() = Some(End::Lost(reason.to_string()));
        }
    }

    /// Routes one frame from the agent to its session.
    pub(crate) async fn deliver(&self, up: TunnelUp) {
        match up.frame {
            Some(tunnel_up::Frame::Data(data)) => {
                let Ok(channel) = Channel::try_from(data.channel) else {
                    tracing::warn!(node = %self.node, session = data.session, channel = data.channel, "unknown channel; frame dropped");
                    return;
                };
                let Some(tx) = self.sessions.lock().get(&data.session).map(|s| s.tx.clone()) else {
                    tracing::debug!(node = %self.node, session = data.session, "frame for a closed session dropped");
                    return;
                };
                match tokio::time::timeout(READER_PATIENCE, tx.send((channel, Bytes::from(data.data)))).await {
                    Ok(_) => {}
                    Err(_) => {
                        let reason = "the session's reader fell behind; session cut".to_string();
                        tracing::warn!(node = %self.node, session = data.session, "{reason}");
                        if self.end_session(data.session, End::Lost(reason.clone())) {
                            self.send_nowait(TunnelDown {
                                frame: Some(tunnel_down::Frame::Close(SessionClose {
                                    session: data.session,
                                    error: reason,
                                })),
                            });
                        }
                    }
                }
            }
            Some(tunnel_up::Frame::Close(close)) => {
                let end = if close.error.is_empty() { End::Normal } else { End::Failed(close.error) };
                self.end_session(close.session, end);
            }
            Some(tunnel_up::Frame::Hello(again)) => {
                tracing::warn!(node = %self.node, hello = %again, "repeated hello ignored");
            }
            None => {}
        }
    }
}
