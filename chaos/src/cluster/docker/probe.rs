//! A minimal HTTP/1.1 status probe (plain TCP, no TLS) used to wait for
//! replicas to become ready.
//!
//! Guarantees: one request per call, `Connection: close`, the whole exchange
//! bounded by the given timeout; only the status line is interpreted.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `GET <path>` against `base` (`http://host:port`), returning the status
/// code, or why there was none (refused, timed out, malformed).
pub async fn http_status(base: &str, path: &str, timeout: Duration) -> Result<u16, String> {
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base}: only http:// URLs are supported"))?
        .trim_end_matches('/');
    let exchange = async {
        let mut stream = TcpStream::connect(authority).await.map_err(|e| format!("connect {authority}: {e}"))?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: */*\r\n\r\n");
        stream.write_all(request.as_bytes()).await.map_err(|e| format!("send to {authority}: {e}"))?;
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        while !head.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await.map_err(|e| format!("read from {authority}: {e}"))?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
            if head.len() > 8192 {
                break;
            }
        }
        parse_status_line(&head)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err(format!("GET {base}{path}: no answer within {} ms", timeout.as_millis())),
    }
}

/// The status code of an HTTP/1.x response head.
fn parse_status_line(head: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(head);
    let line = text.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next().map(str::parse::<u16>)) {
        (Some(v), Some(Ok(code))) if v.starts_with("HTTP/1.") => Ok(code),
        _ => Err(format!("not an HTTP/1.x response: {:?}", line.chars().take(80).collect::<String>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn parses_status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK\r\n"), Ok(200));
        assert_eq!(parse_status_line(b"HTTP/1.0 503 Service Unavailable\r\nX: y\r\n"), Ok(503));
        assert!(parse_status_line(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(parse_status_line(b"").is_err());
    }

    #[tokio::test]
    async fn probes_a_local_server() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).await.unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /readyz HTTP/1.1\r\n"));
            s.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").await.unwrap();
        });
        let code = http_status(&format!("http://{addr}"), "/readyz", Duration::from_secs(5)).await;
        assert_eq!(code, Ok(503));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let err = http_status(&format!("http://{addr}"), "/readyz", Duration::from_millis(200)).await.unwrap_err();
        assert!(err.contains("no answer"), "{err}");
        drop(listener);
    }
}
