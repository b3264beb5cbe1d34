//! One directed link `from -> to`: a TCP proxy that can be blocked and reopened at runtime.
//!
//! Guarantees:
//! * While [`LinkState::Blocked`], no byte is read from either side of any connection and
//!   no byte is written to either side; data stays queued (in the proxy's buffer or in the
//!   kernel) and is delivered in order, without loss or duplication, once the link is open.
//!   Paused connections await a state change on a `watch` channel; they never poll.
//! * A connection accepted while blocked is held: the target is dialed only once the link
//!   opens (or never, if the connection is severed or the proxy shut down first).
//! * If dialing the target fails, the accepted socket is closed.
//! * A half-close (EOF) in one direction is propagated as a write shutdown to the other
//!   side; an I/O error on either side closes both sockets.
//! * [`LinkProxy::sever`] closes every current connection (held ones included); the proxy
//!   keeps accepting new ones.
//! * [`LinkProxy::shutdown`] stops accepting, closes every connection and returns once all
//!   tasks have ended, so the listening port is released. Dropping the proxy also stops
//!   every task, without waiting for them.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use super::ProxyError;

/// Size of the copy buffer used for each direction of each connection.
const BUF_SIZE: usize = 16 * 1024;

/// Back-off after a failed `accept` (e.g. out of file descriptors) so the loop cannot spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Whether a link lets bytes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkState {
    /// Bytes flow in both directions; new connections are dialed immediately.
    Open,
    /// Nothing moves; new connections are held until the link opens.
    Blocked,
}

/// Snapshot of a link's counters (monotonic except `active`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Connections accepted on the proxy listener.
    pub accepted: u64,
    /// Accepted connections for which the target was successfully dialed.
    pub dialed: u64,
    /// Accepted connections closed because dialing the target failed.
    pub dial_failures: u64,
    /// Connections currently alive (held or forwarding).
    pub active: u64,
    /// Bytes written to the target (client -> target direction).
    pub bytes_to_target: u64,
    /// Bytes written back to the client (target -> client direction).
    pub bytes_from_target: u64,
}

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    dialed: AtomicU64,
    dial_failures: AtomicU64,
    active: AtomicU64,
    bytes_to_target: AtomicU64,
    bytes_from_target: AtomicU64,
}

/// Decrements the active-connection gauge when a connection task ends, however it ends.
struct ActiveGuard(Arc<Counters>);

impl ActiveGuard {
    fn new(counters: Arc<Counters>) -> Self {
        counters.active.fetch_add(1, Ordering::Relaxed);
        ActiveGuard(counters)
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Shared between the proxy handle and its accept task.
struct Shared {
    target: SocketAddr,
    counters: Arc<Counters>,
    /// Cancelled on shutdown; parent of every sever generation.
    shutdown: CancellationToken,
    /// Current sever generation: each connection holds the token current when it was accepted.
    sever: Mutex<CancellationToken>,
}

impl Shared {
    fn sever_slot(&self) -> MutexGuard<'_, CancellationToken> {
        // A poisoned lock only means a panic elsewhere; the token inside is still valid.
        self.sever.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A TCP proxy for one directed link, forwarding every accepted connection to a fixed target.
pub struct LinkProxy {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    state: watch::Sender<LinkState>,
    tracker: TaskTracker,
}

impl std::fmt::Debug for LinkProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkProxy")
            .field("local_addr", &self.local_addr)
            .field("target", &self.shared.target)
            .field("state", &*self.state.borrow())
            .finish()
    }
}

impl LinkProxy {
    /// Binds a listener on `bind` (port 0 picks an ephemeral port) and starts forwarding
    /// every accepted connection to `target`. The link starts [`LinkState::Open`].
    ///
    /// Must be called within a tokio runtime.
    pub async fn start(bind: SocketAddr, target: SocketAddr) -> Result<LinkProxy, ProxyError> {
        let listener = TcpListener::bind(bind).await.map_err(|source| ProxyError::Bind { addr: bind, source })?;
        let local_addr = listener.local_addr().map_err(|source| ProxyError::Bind { addr: bind, source })?;
        let shutdown = CancellationToken::new();
        let shared = Arc::new(Shared {
            target,
            counters: Arc::new(Counters::default()),
            sever: Mutex::new(shutdown.child_token()),
            shutdown,
        });
        let (state, state_rx) = watch::channel(LinkState::Open);
        let tracker = TaskTracker::new();
        tracker.spawn(accept_loop(listener, Arc::clone(&shared), state_rx, tracker.clone()));
        debug!(%local_addr, %target, "link proxy started");
        Ok(LinkProxy { local_addr, shared, state, tracker })
    }

    /// Address the proxy listens on (what the dialing replica must connect to).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Address every accepted connection is forwarded to.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// Current state of the link.
    pub fn state(&self) -> LinkState {
        *self.state.borrow()
    }

    /// Whether the link is currently blocked.
    pub fn is_blocked(&self) -> bool {
        self.state() == LinkState::Blocked
    }

    /// Blocks (`true`) or opens (`false`) the link. Takes effect on every current and future
    /// connection; setting the state it already has wakes nobody.
    pub fn set_blocked(&self, blocked: bool) {
        let new = if blocked { LinkState::Blocked } else { LinkState::Open };
        let changed = self.state.send_if_modified(|s| {
            let differs = *s != new;
            *s = new;
            differs
        });
        if changed {
            debug!(local_addr = %self.local_addr, target = %self.shared.target, state = ?new, "link state changed");
        }
    }

    /// Closes every current connection (held or forwarding) immediately. The proxy keeps
    /// accepting; connections accepted afterwards are unaffected. A connection still waiting in
    /// the kernel's accept backlog when this is called is not affected.
    pub fn sever(&self) {
        let fresh = self.shared.shutdown.child_token();
        let old = std::mem::replace(&mut *self.shared.sever_slot(), fresh);
        old.cancel();
        debug!(local_addr = %self.local_addr, target = %self.shared.target, "link severed");
    }

    /// Snapshot of the link's counters.
    pub fn stats(&self) -> LinkStats {
        let c = &self.shared.counters;
        LinkStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            dialed: c.dialed.load(Ordering::Relaxed),
            dial_failures: c.dial_failures.load(Ordering::Relaxed),
            active: c.active.load(Ordering::Relaxed),
            bytes_to_target: c.bytes_to_target.load(Ordering::Relaxed),
            bytes_from_target: c.bytes_from_target.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, closes every connection and waits until every task of this proxy has
    /// ended (the listening port is released when this returns). Idempotent.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        debug!(local_addr = %self.local_addr, "link proxy shut down");
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        // Tasks must not outlive their handle; they observe this and end on their own.
        self.shared.shutdown.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    state: watch::Receiver<LinkState>,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((inbound, peer)) => {
                shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
                let sever = shared.sever_slot().clone();
                let guard = ActiveGuard::new(Arc::clone(&shared.counters));
                debug!(%peer, target = %shared.target, "connection accepted");
                tracker.spawn(run_connection(inbound, Arc::clone(&shared), state.clone(), sever, guard));
            }
            Err(e) => {
                warn!(target = %shared.target, error = %e, "accept failed; backing off");
                tokio::select! {
                    _ = shared.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
    // `listener` is dropped here, releasing the port.
}

/// Runs one accepted connection until it ends or `sever` (a child of the shutdown token) fires.
async fn run_connection(
    inbound: TcpStream,
    shared: Arc<Shared>,
    state: watch::Receiver<LinkState>,
    sever: CancellationToken,
    _guard: ActiveGuard,
) {
    tokio::select! {
        _ = sever.cancelled() => debug!(target = %shared.target, "connection closed by sever/shutdown"),
        r = hold_dial_forward(inbound, &shared, state) => {
            if let Err(e) = r {
                debug!(target = %shared.target, error = %e, "connection ended with error");
            }
        }
    }
    // Both sockets are dropped (closed) when this returns.
}

async fn hold_dial_forward(
    mut inbound: TcpStream,
    shared: &Shared,
    mut state: watch::Receiver<LinkState>,
) -> io::Result<()> {
    // Hold the connection while the link is blocked: do not dial the target yet.
    wait_open(&mut state).await?;
    let mut outbound = match TcpStream::connect(shared.target).await {
        Ok(s) => s,
        Err(e) => {
            shared.counters.dial_failures.fetch_add(1, Ordering::Relaxed);
            // Returning drops `inbound`, closing the accepted socket.
            return Err(e);
        }
    };
    shared.counters.dialed.fetch_add(1, Ordering::Relaxed);
    inbound.set_nodelay(true)?;
    outbound.set_nodelay(true)?;

    let (in_read, in_write) = inbound.split();
    let (out_read, out_write) = outbound.split();
    let to_target = pump(in_read, out_write, state.clone(), &shared.counters.bytes_to_target);
    let from_target = pump(out_read, in_write, state, &shared.counters.bytes_from_target);
    // An error in either direction ends both (the other future is dropped, sockets close);
    // an EOF in one direction lets the other run to its own end.
    futures::future::try_join(to_target, from_target).await.map(|_| ())
}

/// Copies `reader` to `writer` until EOF, pausing (without polling) while the link is blocked.
async fn pump<R, W>(
    mut reader: R,
    mut writer: W,
    mut state: watch::Receiver<LinkState>,
    counter: &AtomicU64,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        wait_open(&mut state).await?;
        // `read` is cancel-safe: if the link blocks first, no byte has been consumed.
        let n = tokio::select! {
            r = reader.read(&mut buf) => r?,
            r = wait_blocked(&mut state) => { r?; continue; }
        };
        if n == 0 {
            writer.shutdown().await?;
            return Ok(());
        }
        let mut off = 0;
        while off < n {
            wait_open(&mut state).await?;
            // `write` is cancel-safe: if the link blocks first, nothing was written.
            let written = tokio::select! {
                r = writer.write(&buf[off..n]) => r?,
                r = wait_blocked(&mut state) => { r?; continue; }
            };
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            off += written;
            counter.fetch_add(written as u64, Ordering::Relaxed);
        }
    }
}

/// Resolves once the link is open (immediately if it already is).
async fn wait_open(state: &mut watch::Receiver<LinkState>) -> io::Result<()> {
    wait_state(state, LinkState::Open).await
}

/// Resolves once the link is blocked (immediately if it already is).
async fn wait_blocked(state: &mut watch::Receiver<LinkState>) -> io::Result<()> {
    wait_state(state, LinkState::Blocked).await
}

async fn wait_state(state: &mut watch::Receiver<LinkState>, wanted: LinkState) -> io::Result<()> {
    // The returned `Ref` holds the channel's read lock: drop it before returning.
    match state.wait_for(|s| *s == wanted).await {
        Ok(_) => Ok(()),
        Err(_) => Err(io::Error::other("link proxy dropped")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::test_support::{
        assert_closed, assert_silent, echo_server, eventually, loopback, read_exact_within, WAIT,
    };

    async fn start(target: SocketAddr) -> LinkProxy {
        LinkProxy::start(loopback(), target).await.expect("start proxy")
    }

    async fn connect(p: &LinkProxy) -> TcpStream {
        let s = TcpStream::connect(p.local_addr()).await.expect("connect to proxy");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    #[tokio::test]
    async fn open_link_forwards_both_ways_and_counts() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        assert_eq!(p.state(), LinkState::Open);
        assert_ne!(p.local_addr(), echo.addr);
        let mut c = connect(&p).await;
        c.write_all(b"hello").await.unwrap();
        assert_eq!(read_exact_within(&mut c, 5).await, b"hello");
        eventually(|| {
            let s = p.stats();
            s.accepted == 1 && s.dialed == 1 && s.active == 1 && s.bytes_to_target == 5 && s.bytes_from_target == 5
        })
        .await;
        p.shutdown().await;
    }

    #[tokio::test]
    async fn blocked_link_pauses_and_resumes_without_loss() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        let mut c = connect(&p).await;
        c.write_all(b"a").await.unwrap();
        assert_eq!(read_exact_within(&mut c, 1).await, b"a");

        p.set_blocked(true);
        assert!(p.is_blocked());
        // Several writes plus a larger payload, all queued while blocked.
        let big: Vec<u8> = (0..32 * 1024u32).map(|i| (i % 251) as u8).collect();
        let mut expected = b"bcd".to_vec();
        expected.extend_from_slice(&big);
        c.write_all(b"b").await.unwrap();
        c.write_all(b"c").await.unwrap();
        c.write_all(b"d").await.unwrap();
        let (mut rd, mut wr) = c.into_split();
        let writer = tokio::spawn(async move {
            wr.write_all(&big).await.unwrap();
            wr
        });
        assert_silent(&mut rd).await;
        let before = p.stats();

        p.set_blocked(false);
        let mut got = vec![0u8; expected.len()];
        tokio::time::timeout(WAIT, rd.read_exact(&mut got)).await.expect("echo after unblock").unwrap();
        assert_eq!(got, expected, "data lost or reordered across the block");
        assert_eq!((before.bytes_to_target, before.bytes_from_target), (1, 1), "bytes moved while blocked");
        let _wr = writer.await.unwrap();
        p.shutdown().await;
    }

    #[tokio::test]
    async fn blocked_link_pauses_target_to_client_direction() {
        let target = TcpListener::bind(loopback()).await.unwrap();
        let p = start(target.local_addr().unwrap()).await;
        let mut c = connect(&p).await;
        let (mut server, _) = tokio::time::timeout(WAIT, target.accept()).await.unwrap().unwrap();
        server.write_all(b"1").await.unwrap();
        assert_eq!(read_exact_within(&mut c, 1).await, b"1");

        p.set_blocked(true);
        server.write_all(b"pong").await.unwrap();
        assert_silent(&mut c).await;
        p.set_blocked(false);
        assert_eq!(read_exact_within(&mut c, 4).await, b"pong");
        p.shutdown().await;
    }

    #[tokio::test]
    async fn connection_accepted_while_blocked_is_dialed_only_after_unblock() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        p.set_blocked(true);
        let mut c = connect(&p).await;
        c.write_all(b"hi").await.unwrap();
        eventually(|| p.stats().accepted == 1).await;
        assert_silent(&mut c).await;
        assert_eq!(echo.accepts(), 0, "target dialed while blocked");
        assert_eq!(p.stats().dialed, 0);

        p.set_blocked(false);
        assert_eq!(read_exact_within(&mut c, 2).await, b"hi");
        assert_eq!(echo.accepts(), 1);
        p.shutdown().await;
    }

    /// CPU time (user + system, in clock ticks) consumed so far by the calling thread.
    #[cfg(target_os = "linux")]
    fn thread_cpu_ticks() -> u64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("read /proc/thread-self/stat");
        let after_comm = &stat[stat.rfind(')').expect("stat format") + 1..];
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }

    /// A blocked link with data pending in both directions must sleep, not spin. The test
    /// runtime is single-threaded, so every proxy task runs on this thread.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn blocked_link_does_not_busy_loop() {
        let target = TcpListener::bind(loopback()).await.unwrap();
        let p = start(target.local_addr().unwrap()).await;
        let mut c = connect(&p).await;
        let (mut server, _) = tokio::time::timeout(WAIT, target.accept()).await.unwrap().unwrap();
        p.set_blocked(true);
        let mut held = connect(&p).await;
        held.write_all(b"held").await.unwrap();
        c.write_all(b"to target").await.unwrap();
        server.write_all(b"to client").await.unwrap();
        let before = thread_cpu_ticks();
        tokio::time::sleep(Duration::from_millis(800)).await;
        let used = thread_cpu_ticks() - before;
        // 800 ms of spinning is ~80 ticks at the usual 100 Hz (~40 on a loaded box); idling is ~0.
        assert!(used < 10, "blocked link burned {used} CPU ticks in 800 ms");
        p.set_blocked(false);
        assert_eq!(read_exact_within(&mut c, 9).await, b"to client");
        assert_eq!(read_exact_within(&mut server, 9).await, b"to target");
        p.shutdown().await;
    }

    #[tokio::test]
    async fn repeated_block_unblock_keeps_order() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        let mut c = connect(&p).await;
        for round in 0..20u8 {
            p.set_blocked(round % 2 == 0);
            c.write_all(&[round]).await.unwrap();
            if round % 2 == 0 {
                p.set_blocked(false);
            }
            assert_eq!(read_exact_within(&mut c, 1).await, [round]);
        }
        p.shutdown().await;
    }

    #[tokio::test]
    async fn half_close_is_propagated() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        let mut c = connect(&p).await;
        c.write_all(b"bye").await.unwrap();
        c.shutdown().await.unwrap();
        assert_eq!(read_exact_within(&mut c, 3).await, b"bye");
        assert_closed(&mut c).await;
        eventually(|| p.stats().active == 0).await;
        p.shutdown().await;
    }

    #[tokio::test]
    async fn sever_closes_current_connections_and_keeps_serving() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        let mut c = connect(&p).await;
        c.write_all(b"x").await.unwrap();
        assert_eq!(read_exact_within(&mut c, 1).await, b"x");
        // A held connection is severed too.
        p.set_blocked(true);
        let mut held = connect(&p).await;
        eventually(|| p.stats().accepted == 2).await;

        p.sever();
        assert_closed(&mut c).await;
        assert_closed(&mut held).await;
        eventually(|| p.stats().active == 0).await;

        p.set_blocked(false);
        let mut again = connect(&p).await;
        again.write_all(b"y").await.unwrap();
        assert_eq!(read_exact_within(&mut again, 1).await, b"y");
        assert_eq!(echo.accepts(), 2, "held connection must never have been dialed");
        p.shutdown().await;
    }

    #[tokio::test]
    async fn failed_dial_closes_accepted_socket() {
        let dead = {
            let l = TcpListener::bind(loopback()).await.unwrap();
            l.local_addr().unwrap()
        };
        let p = start(dead).await;
        let mut c = connect(&p).await;
        assert_closed(&mut c).await;
        eventually(|| p.stats().dial_failures == 1 && p.stats().active == 0).await;
        p.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_closes_connections_and_releases_port() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        let addr = p.local_addr();
        let mut c = connect(&p).await;
        c.write_all(b"z").await.unwrap();
        assert_eq!(read_exact_within(&mut c, 1).await, b"z");
        p.set_blocked(true);
        let mut held = connect(&p).await;
        eventually(|| p.stats().accepted == 2).await;

        p.shutdown().await;
        assert_eq!(p.stats().active, 0);
        assert_closed(&mut c).await;
        assert_closed(&mut held).await;
        let err = TcpStream::connect(addr).await.expect_err("port still listening after shutdown");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        p.shutdown().await; // idempotent
    }

    #[tokio::test]
    async fn dropping_the_proxy_stops_its_tasks() {
        let echo = echo_server().await;
        let p = start(echo.addr).await;
        let mut c = connect(&p).await;
        c.write_all(b"q").await.unwrap();
        assert_eq!(read_exact_within(&mut c, 1).await, b"q");
        drop(p);
        assert_closed(&mut c).await;
    }
}
