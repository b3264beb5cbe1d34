//! One log or exec session over an agent's tunnel, as the API server sees
//! it: a writer of frames to the agent and a reader of the agent's frames.
//!
//! Guarantees:
//! - Frames from the agent arrive in the order the agent sent them.
//! - The reader ends with `Ok(None)` when the agent closed the session
//!   normally, [`TunnelError::Agent`] when it closed it with an error, and
//!   [`TunnelError::Lost`] when the tunnel went away or the reader fell
//!   behind for longer than the tunnel waits.
//! - Dropping both halves before the agent closed the session sends the
//!   agent a `SessionClose`, so a client that goes away stops the agent's
//!   work (a followed log, a running exec).

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use proto::agent::{tunnel_down, Channel, SessionClose, SessionData, TunnelDown};
use tokio::sync::mpsc;

use super::link::Link;
use super::TunnelError;

/// How a session ended, as recorded by the tunnel before it drops the
/// session's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// The agent closed it without error.
    Normal,
    /// The agent closed it with this error.
    Failed(String),
    /// The tunnel went away or cut the session.
    Lost(String),
}

/// The end of a session shared between the tunnel (which sets it) and the
/// reader (which reports it).
pub(crate) type Fate = Arc<Mutex<Option<End>>>;

/// Sends `SessionClose` to the agent when the last half is dropped, unless
/// the session already ended.
struct Guard {
    link: Arc<Link>,
    id: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.link.take_session(self.id) {
            self.link.send_nowait(TunnelDown {
                frame: Some(tunnel_down::Frame::Close(SessionClose { session: self.id, error: String::new() })),
            });
        }
    }
}

/// A live session; split it with [`Session::into_split`] to read and write
/// concurrently.
pub struct Session {
    writer: SessionWriter,
    reader: SessionReader,
}

/// Sends frames to the agent.
pub struct SessionWriter {
    guard: Arc<Guard>,
}

/// Receives the agent's frames.
pub struct SessionReader {
    rx: mpsc::Receiver<(Channel, Bytes)>,
    fate: Fate,
    _guard: Arc<Guard>,
}

impl Session {
    pub(crate) fn new(link: Arc<Link>, id: u64, rx: mpsc::Receiver<(Channel, Bytes)>, fate: Fate) -> Session {
        let guard = Arc::new(Guard { link, id });
        Session { writer: SessionWriter { guard: guard.clone() }, reader: SessionReader { rx, fate, _guard: guard } }
    }

    /// The session id on its tunnel.
    pub fn id(&self) -> u64 {
        self.writer.guard.id
    }

    /// See [`SessionWriter::send`].
    pub async fn send(&self, channel: Channel, data: impl Into<Vec<u8>>) -> Result<(), TunnelError> {
        self.writer.send(channel, data).await
    }

    /// See [`SessionReader::recv`].
    pub async fn recv(&mut self) -> Result<Option<(Channel, Bytes)>, TunnelError> {
        self.reader.recv().await
    }

    /// The two halves; the session closes when both are dropped.
    pub fn into_split(self) -> (SessionWriter, SessionReader) {
        (self.writer, self.reader)
    }
}

impl SessionWriter {
    /// Sends `data` on `channel` (STDIN, RESIZE, CLOSE_STDIN) to the agent.
    /// Waits while the tunnel's outgoing buffer is full.
    pub async fn send(&self, channel: Channel, data: impl Into<Vec<u8>>) -> Result<(), TunnelError> {
        let frame = TunnelDown {
            frame: Some(tunnel_down::Frame::Data(SessionData {
                session: self.guard.id,
                channel: channel as i32,
                data: data.into(),
            })),
        };
        self.guard.link.send(frame).await
    }
}

impl SessionReader {
    /// The next frame from the agent; `Ok(None)` once the agent closed the
    /// session normally.
    pub async fn recv(&mut self) -> Result<Option<(Channel, Bytes)>, TunnelError> {
        if let Some(frame) = self.rx.recv().await {
            return Ok(Some(frame));
        }
        match self.fate.lock().clone() {
            Some(End::Normal) => Ok(None),
            Some(End::Failed(message)) => Err(TunnelError::Agent { code: 500, message }),
            Some(End::Lost(message)) => Err(TunnelError::Lost(message)),
            None => Err(TunnelError::Lost("the node agent's tunnel closed".to_string())),
        }
    }
}
