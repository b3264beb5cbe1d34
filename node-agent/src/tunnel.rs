//! The agent's end of the log/exec tunnel: the agent has no inbound port,
//! so it keeps one `Dispatcher.Tunnel` stream open to a control-plane
//! replica (call [`run`] once per replica) and serves the sessions the API
//! server opens over it.
//!
//! Guarantees:
//! - The first frame is `hello` with the node name. The stream is reopened
//!   after any end or failure, waiting 1 s, doubling up to 10 s (reset
//!   once a stream is open), until `shutdown` is cancelled.
//! - Sessions run concurrently. Each answers with an empty STDOUT frame
//!   once it started (the *ready* frame), or with a failure Status on the
//!   ERROR channel (code 400 for a container that cannot be found, 500 for
//!   runtime errors) and `SessionClose` carrying the message.
//! - Logs: the runtime's chunks on STDOUT (at most `limit_bytes` bytes),
//!   then `SessionClose`. Exec: stdin, CLOSE_STDIN and RESIZE from the
//!   server; output on STDOUT/STDERR; then the exit code as remotecommand's
//!   Status on ERROR, then `SessionClose`.
//! - A `SessionClose` from the server, or the end of the stream, stops the
//!   session's work (the log stream or exec session is dropped).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use proto::agent::dispatcher_client::DispatcherClient;
use proto::agent::{
    session_open, tunnel_down, tunnel_up, Channel, ExecRequest, LogRequest, SessionClose, SessionData, SessionOpen,
    TunnelUp,
};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use crate::runtime::{LogOptions, Output, Runtime, RuntimeError};

/// Finds the engine id of a pod's container for a session.
pub trait ContainerLookup: Send + Sync + 'static {
    /// The id of `container` in `namespace/pod` (of its previous, exited
    /// instance when `previous`). The error is shown to the user as is,
    /// e.g. `previous terminated container "c" in pod "p" not found`.
    fn container_id<'a>(
        &'a self,
        namespace: &'a str,
        pod: &'a str,
        container: &'a str,
        previous: bool,
    ) -> crate::runtime::BoxFut<'a, Result<String, String>>;
}

/// Frames buffered toward the server.
const UP_BUFFER: usize = 128;
/// Frames buffered toward one session's input.
const SESSION_BUFFER: usize = 64;
/// Largest data frame sent (bigger chunks are split).
const MAX_FRAME: usize = 64 * 1024;
/// How long a session's input may stay unconsumed before it is cut (so it
/// cannot stall the other sessions of the stream).
const INPUT_PATIENCE: Duration = Duration::from_secs(30);

/// Reconnection delays: 1 s, doubling, at most 10 s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    /// First delay.
    pub const MIN: Duration = Duration::from_secs(1);
    /// Largest delay.
    pub const MAX: Duration = Duration::from_secs(10);

    /// Starts at [`Backoff::MIN`].
    pub fn new() -> Backoff {
        Backoff { next: Self::MIN }
    }

    /// The delay to wait now; the following one is doubled (capped).
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        d
    }

    /// Back to [`Backoff::MIN`] (a stream was opened).
    pub fn reset(&mut self) {
        self.next = Self::MIN;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// Keeps a Tunnel stream open to the server behind `channel` and serves its
/// sessions, until `shutdown` is cancelled.
pub async fn run(
    channel: tonic::transport::Channel,
    node: String,
    runtime: Arc<dyn Runtime>,
    containers: Arc<dyn ContainerLookup>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::new();
    let ctx = Ctx { node, runtime, containers };
    loop {
        let ended = tokio::select! {
            _ = shutdown.cancelled() => return,
            ended = serve_stream(&channel, &ctx, &mut backoff, &shutdown) => ended,
        };
        if shutdown.is_cancelled() {
            return;
        }
        let delay = backoff.next_delay();
        tracing::warn!(node = %ctx.node, reason = %ended, delay_ms = delay.as_millis() as u64, "tunnel stream ended; reconnecting");
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// What sessions need from the agent.
#[derive(Clone)]
struct Ctx {
    node: String,
    runtime: Arc<dyn Runtime>,
    containers: Arc<dyn ContainerLookup>,
}

/// The input of one running session.
struct SessionEntry {
    input: mpsc::Sender<SessionData>,
    cancel: CancellationToken,
    /// Tells this session apart from a later one reusing its id.
    seq: u64,
}

type Sessions = Arc<Mutex<HashMap<u64, SessionEntry>>>;

/// One stream's life; returns why it ended.
async fn serve_stream(
    channel: &tonic::transport::Channel,
    ctx: &Ctx,
    backoff: &mut Backoff,
    shutdown: &CancellationToken,
) -> String {
    let (up, up_rx) = mpsc::channel(UP_BUFFER);
    if up.send(TunnelUp { frame: Some(tunnel_up::Frame::Hello(ctx.node.clone())) }).await.is_err() {
        return "internal: hello not queued".to_string();
    }
    let mut client = DispatcherClient::new(channel.clone());
    let mut down = match client.tunnel(ReceiverStream::new(up_rx)).await {
        Ok(response) => response.into_inner(),
        Err(status) => return format!("open failed: {}", status.message()),
    };
    backoff.reset();
    tracing::info!(node = %ctx.node, "tunnel stream open");
    // Cancels every session of this stream when it ends.
    let stream_token = shutdown.child_token();
    let _cancel_sessions = stream_token.clone().drop_guard();
    let sessions: Sessions = Arc::default();
    let mut seq = 0u64;
    loop {
        let frame = match down.message().await {
            Ok(Some(frame)) => frame,
            Ok(None) => return "the server closed the stream".to_string(),
            Err(status) => return format!("stream failed: {}", status.message()),
        };
        match frame.frame {
            Some(tunnel_down::Frame::Open(open)) => {
                let (input, input_rx) = mpsc::channel(SESSION_BUFFER);
                let cancel = stream_token.child_token();
                let id = open.session;
                seq += 1;
                let entry = SessionEntry { input, cancel: cancel.clone(), seq };
                let previous = sessions.lock().insert(id, entry);
                if let Some(previous) = previous {
                    tracing::warn!(node = %ctx.node, session = id, "session id reused; the old session is stopped");
                    previous.cancel.cancel();
                }
                let (ctx, up, sessions, mine) = (ctx.clone(), up.clone(), sessions.clone(), seq);
                tokio::spawn(async move {
                    serve_session(&ctx, open, input_rx, &up, &cancel).await;
                    let mut sessions = sessions.lock();
                    if sessions.get(&id).is_some_and(|e| e.seq == mine) {
                        sessions.remove(&id);
                    }
                });
            }
            Some(tunnel_down::Frame::Data(data)) => {
                let id = data.session;
                let Some(input) = sessions.lock().get(&id).map(|e| e.input.clone()) else {
                    continue;
                };
                if tokio::time::timeout(INPUT_PATIENCE, input.send(data)).await.is_err() {
                    tracing::warn!(node = %ctx.node, session = id, "session input not consumed; session stopped");
                    if let Some(entry) = sessions.lock().remove(&id) {
                        entry.cancel.cancel();
                    }
                    let close = SessionClose { session: id, error: "session input not consumed in time".to_string() };
                    let _ = up.send(TunnelUp { frame: Some(tunnel_up::Frame::Close(close)) }).await;
                }
            }
            Some(tunnel_down::Frame::Close(close)) => {
                if let Some(entry) = sessions.lock().remove(&close.session) {
                    tracing::debug!(node = %ctx.node, session = close.session, "session closed by the server");
                    entry.cancel.cancel();
                }
            }
            None => {}
        }
    }
}

/// How a session ended.
enum End {
    /// Finished; any final Status was sent.
    Done,
    /// Stopped by the server or the stream's end: nothing more to send.
    Cancelled,
    /// Failed with an HTTP code and message.
    Failed(u16, String),
}

/// Maps a runtime error to a session failure: an unknown container is the
/// client's error (400), anything else the node's (500).
fn runtime_failure(e: RuntimeError) -> End {
    match e {
        RuntimeError::NotFound(_) => End::Failed(400, e.to_string()),
        other => End::Failed(500, other.to_string()),
    }
}

async fn serve_session(
    ctx: &Ctx,
    open: SessionOpen,
    input: mpsc::Receiver<SessionData>,
    up: &mpsc::Sender<TunnelUp>,
    cancel: &CancellationToken,
) {
    let id = open.session;
    let out = Out { up, id };
    let end = match &open.request {
        Some(session_open::Request::Logs(req)) => serve_logs(ctx, &open, req, &out, cancel).await,
        Some(session_open::Request::Exec(req)) => serve_exec(ctx, &open, req, input, &out, cancel).await,
        None => End::Failed(400, "session open without a log or exec request".to_string()),
    };
    match end {
        End::Done => out.close(String::new()).await,
        End::Cancelled => {}
        End::Failed(code, message) => {
            tracing::info!(node = %ctx.node, session = id, pod = %open.pod, container = %open.container, code, error = %message, "session failed");
            out.data(Channel::Error, failure_status(code, &message)).await;
            out.close(message).await;
        }
    }
}

/// Sends a session's frames up the stream.
struct Out<'a> {
    up: &'a mpsc::Sender<TunnelUp>,
    id: u64,
}

impl Out<'_> {
    /// Sends `data` (split into frames of at most [`MAX_FRAME`]); false when
    /// the stream is gone.
    async fn data(&self, channel: Channel, data: Vec<u8>) -> bool {
        if data.len() <= MAX_FRAME {
            return self.frame(channel, data).await;
        }
        for chunk in data.chunks(MAX_FRAME) {
            if !self.frame(channel, chunk.to_vec()).await {
                return false;
            }
        }
        true
    }

    async fn frame(&self, channel: Channel, data: Vec<u8>) -> bool {
        let frame = SessionData { session: self.id, channel: channel as i32, data };
        self.up.send(TunnelUp { frame: Some(tunnel_up::Frame::Data(frame)) }).await.is_ok()
    }

    async fn close(&self, error: String) {
        let close = SessionClose { session: self.id, error };
        let _ = self.up.send(TunnelUp { frame: Some(tunnel_up::Frame::Close(close)) }).await;
    }
}

/// The runtime's log options for a request.
pub fn log_options(req: &LogRequest) -> LogOptions {
    LogOptions {
        follow: req.follow,
        tail_lines: u64::try_from(req.tail_lines).ok(),
        timestamps: req.timestamps,
        since_seconds: u64::try_from(req.since_seconds).ok().filter(|s| *s > 0),
    }
}

async fn serve_logs(ctx: &Ctx, open: &SessionOpen, req: &LogRequest, out: &Out<'_>, cancel: &CancellationToken) -> End {
    let id = match ctx.containers.container_id(&open.namespace, &open.pod, &open.container, req.previous).await {
        Ok(id) => id,
        Err(message) => return End::Failed(400, message),
    };
    let opts = log_options(req);
    let mut stream = tokio::select! {
        _ = cancel.cancelled() => return End::Cancelled,
        r = ctx.runtime.logs(&id, &opts) => match r {
            Ok(stream) => stream,
            Err(e) => return runtime_failure(e),
        },
    };
    if !out.data(Channel::Stdout, Vec::new()).await {
        return End::Cancelled;
    }
    let mut remaining = u64::try_from(req.limit_bytes).ok().filter(|l| *l > 0);
    loop {
        let chunk = tokio::select! {
            _ = cancel.cancelled() => return End::Cancelled,
            chunk = stream.next() => chunk,
        };
        let mut bytes = match chunk {
            None => return End::Done,
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => return End::Failed(500, format!("reading logs: {e}")),
        };
        if let Some(left) = remaining.as_mut() {
            let take = usize::try_from(*left).unwrap_or(usize::MAX).min(bytes.len());
            bytes.truncate(take);
            *left -= take as u64;
        }
        if !bytes.is_empty() && !out.data(Channel::Stdout, bytes.to_vec()).await {
            return End::Cancelled;
        }
        if remaining == Some(0) {
            return End::Done;
        }
    }
}

async fn serve_exec(
    ctx: &Ctx,
    open: &SessionOpen,
    req: &ExecRequest,
    input: mpsc::Receiver<SessionData>,
    out: &Out<'_>,
    cancel: &CancellationToken,
) -> End {
    let id = match ctx.containers.container_id(&open.namespace, &open.pod, &open.container, false).await {
        Ok(id) => id,
        Err(message) => return End::Failed(400, message),
    };
    let session = tokio::select! {
        _ = cancel.cancelled() => return End::Cancelled,
        r = ctx.runtime.exec_session(&id, &req.command, req.stdin, req.tty) => match r {
            Ok(session) => session,
            Err(e) => return runtime_failure(e),
        },
    };
    if !out.data(Channel::Stdout, Vec::new()).await {
        return End::Cancelled;
    }
    let mut output = session.output;
    let pump = tokio::spawn(pump_input(input, session.stdin, session.resize));
    let _stop_pump = AbortOnDrop(pump);
    loop {
        let chunk = tokio::select! {
            _ = cancel.cancelled() => return End::Cancelled,
            chunk = output.recv() => chunk,
        };
        let (stream, bytes) = match chunk {
            Some(chunk) => chunk,
            None => break,
        };
        let (channel, wanted) = match stream {
            Output::Stdout => (Channel::Stdout, req.stdout),
            Output::Stderr => (Channel::Stderr, req.stderr),
        };
        if wanted && !bytes.is_empty() && !out.data(channel, bytes.to_vec()).await {
            return End::Cancelled;
        }
    }
    let exit = tokio::select! {
        _ = cancel.cancelled() => return End::Cancelled,
        exit = session.exit => exit,
    };
    match exit {
        Ok(Ok(code)) => {
            if !out.data(Channel::Error, exit_status(&req.command, code)).await {
                return End::Cancelled;
            }
            End::Done
        }
        Ok(Err(e)) => runtime_failure(e),
        Err(_) => End::Failed(500, "the exec session ended without an exit code".to_string()),
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Feeds the server's STDIN, CLOSE_STDIN and RESIZE frames to the process.
async fn pump_input(
    mut input: mpsc::Receiver<SessionData>,
    mut stdin: Option<mpsc::Sender<Bytes>>,
    resize: Option<mpsc::Sender<(u16, u16)>>,
) {
    while let Some(data) = input.recv().await {
        match Channel::try_from(data.channel) {
            Ok(Channel::Stdin) => {
                if let Some(tx) = &stdin {
                    if tx.send(Bytes::from(data.data)).await.is_err() {
                        stdin = None;
                    }
                }
            }
            Ok(Channel::CloseStdin) => stdin = None,
            Ok(Channel::Resize) => {
                if let (Some(tx), Some(size)) = (&resize, parse_resize(&data.data)) {
                    let _ = tx.send(size).await;
                }
            }
            _ => {}
        }
    }
}

/// Reads `{"Width":80,"Height":24}`.
pub fn parse_resize(data: &[u8]) -> Option<(u16, u16)> {
    let v: serde_json::Value = serde_json::from_slice(data).ok()?;
    let dim = |k: &str| v.get(k)?.as_u64().and_then(|n| u16::try_from(n).ok());
    Some((dim("Width")?, dim("Height")?))
}

/// The Status the kubelet reports for an exit code (remotecommand v4).
pub fn exit_status(command: &[String], code: i64) -> Vec<u8> {
    let status = if code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
                command.join(" ")
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        })
    };
    status.to_string().into_bytes()
}

/// A failure Status with `code` (400 BadRequest or 500 InternalError).
pub fn failure_status(code: u16, message: &str) -> Vec<u8> {
    let reason = if code == 400 { "BadRequest" } else { "InternalError" };
    json!({"metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_ten_seconds_and_resets() {
        let mut b = Backoff::new();
        let delays: Vec<u64> = (0..6).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 10, 10]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn log_options_from_request() {
        let req = LogRequest {
            follow: true,
            tail_lines: -1,
            timestamps: true,
            previous: false,
            since_seconds: 0,
            limit_bytes: 0,
        };
        assert_eq!(
            log_options(&req),
            LogOptions { follow: true, tail_lines: None, timestamps: true, since_seconds: None }
        );
        let req = LogRequest { tail_lines: 0, since_seconds: 30, ..req };
        assert_eq!(log_options(&req).tail_lines, Some(0));
        assert_eq!(log_options(&req).since_seconds, Some(30));
    }

    #[test]
    fn resize_json() {
        assert_eq!(parse_resize(br#"{"Width":80,"Height":24}"#), Some((80, 24)));
        assert_eq!(parse_resize(br#"{"Width":80}"#), None);
        assert_eq!(parse_resize(b"junk"), None);
    }

    #[test]
    fn statuses_are_remotecommand_v4() {
        let cmd: Vec<String> = vec!["sh".into(), "-c".into(), "exit 3".into()];
        let json = |b: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&b).unwrap();
        assert_eq!(
            json(exit_status(&cmd, 3)),
            json!({"metadata": {}, "status": "Failure",
                "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
                "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}})
        );
        assert_eq!(String::from_utf8(exit_status(&cmd, 0)).unwrap(), r#"{"metadata":{},"status":"Success"}"#);
        assert_eq!(
            json(failure_status(400, "no")),
            json!({"metadata": {}, "status": "Failure", "message": "no", "reason": "BadRequest", "code": 400})
        );
        assert_eq!(json(failure_status(500, "x"))["reason"], "InternalError");
    }
}
