//! Test helpers: a counting echo server and bounded-wait assertions on sockets.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Generous bound for anything that must happen.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long something that must not happen is watched for.
pub const SILENCE: Duration = Duration::from_millis(300);

pub fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// An echo server on 127.0.0.1 that counts accepted connections; aborted on drop.
pub struct Echo {
    pub addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Echo {
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn echo_server() -> Echo {
    serve(|mut s| async move {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    })
    .await
}

/// A server that writes its `id` byte on every accepted connection, then echoes.
pub async fn id_server(id: u8) -> Echo {
    serve(move |mut s| async move {
        if s.write_all(&[id]).await.is_err() {
            return;
        }
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    })
    .await
}

async fn serve<F, Fut>(handler: F) -> Echo
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind(loopback()).await.expect("bind test server");
    let addr = listener.local_addr().expect("test server addr");
    let accepts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepts);
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((s, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            conns.spawn(handler(s));
        }
    });
    Echo { addr, accepts, task }
}

/// Reads exactly `n` bytes, failing the test if they do not arrive within [`WAIT`].
pub async fn read_exact_within<R: AsyncRead + Unpin>(r: &mut R, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(WAIT, r.read_exact(&mut buf)).await.expect("timed out waiting for bytes").expect("read");
    buf
}

/// Asserts that nothing (neither data nor EOF) arrives within [`SILENCE`].
pub async fn assert_silent<R: AsyncRead + Unpin>(r: &mut R) {
    let mut buf = [0u8; 64];
    if let Ok(res) = tokio::time::timeout(SILENCE, r.read(&mut buf)).await {
        panic!("expected silence, got {res:?}");
    }
}

/// Asserts that the peer closes the connection (EOF or error) within [`WAIT`], draining any data first.
pub async fn assert_closed<R: AsyncRead + Unpin>(r: &mut R) {
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "connection still open after {WAIT:?}");
}

/// Polls `cond` until it holds, failing the test after [`WAIT`].
pub async fn eventually(mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "condition not reached within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
