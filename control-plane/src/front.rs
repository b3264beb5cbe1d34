//! A health-checked TCP front: kubectl accepts one server URL, so `up`
//! listens on one address and forwards each connection to a replica whose
//! `/readyz` answered 200 most recently (preferring the current pick, so
//! connections stick while it stays healthy).
//!
//! Guarantees: a connection is only sent to a replica that was ready at the
//! last check (every 300 ms); when none is, the connection is refused
//! quickly (closed) rather than left hanging. A replica that dies costs at
//! most one check interval plus the client's retry.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How often backends are checked.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(300);

/// Which backends are healthy.
#[derive(Default)]
struct Health {
    ready: Vec<bool>,
    current: Option<usize>,
}

/// `GET /readyz` on `addr`; true on HTTP 200 within the timeout.
pub async fn ready(addr: SocketAddr, timeout: Duration) -> bool {
    let probe = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET /readyz HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n").await.ok()?;
        let mut buf = [0u8; 32];
        let n = s.read(&mut buf).await.ok()?;
        Some(buf[..n].starts_with(b"HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(timeout, probe).await, Ok(Some(true)))
}

/// Serve the front on `listener`, forwarding to `backends`, until `stop`.
pub async fn serve(listener: TcpListener, backends: Vec<SocketAddr>, stop: CancellationToken) {
    let health = Arc::new(Mutex::new(Health { ready: vec![false; backends.len()], current: None }));
    let checker = {
        let health = health.clone();
        let backends = backends.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            loop {
                let results =
                    futures::future::join_all(backends.iter().map(|b| ready(*b, Duration::from_millis(2500)))).await;
                {
                    let mut h = health.lock();
                    h.ready = results;
                    let keep = h.current.filter(|c| h.ready[*c]);
                    h.current = keep.or_else(|| h.ready.iter().position(|r| *r));
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(CHECK_INTERVAL) => {}
                }
            }
        })
    };
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stop.cancelled() => break,
        };
        let Ok((mut client, _)) = conn else { continue };
        let _ = client.set_nodelay(true);
        let target = health.lock().current.map(|i| backends[i]);
        let Some(target) = target else {
            // nobody is ready: close at once so the client retries
            continue;
        };
        tokio::spawn(async move {
            if let Ok(mut upstream) = TcpStream::connect(target).await {
                let _ = upstream.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        });
    }
    checker.abort();
}
