//! Running one probe or hook action: exec through the runtime, HTTP GET
//! with a hand-written minimal HTTP/1.1 client, or a TCP connect.
//!
//! Guarantees:
//! - Every run ends within the timeout (a timeout is a failure).
//! - exec: exit code 0 is success. httpGet: status 200–399 is success
//!   (host defaults to the pod IP; `httpHeaders` are sent; a `Host`
//!   header replaces the default). tcpSocket: a completed connect is
//!   success. Named ports resolve from the container's `ports`.
//! - HTTPS and gRPC actions are reported as failures saying they are not
//!   supported (no TLS / gRPC client here).

use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, ExecAction, HTTPGetAction, Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::runtime::Runtime;

/// A resolved probe/hook action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a command in the container.
    Exec(Vec<String>),
    /// HTTP GET.
    Http {
        /// Host (default: the pod IP).
        host: Option<String>,
        /// Port.
        port: u16,
        /// Path (default "/").
        path: String,
        /// Scheme HTTPS (unsupported).
        https: bool,
        /// Extra headers.
        headers: Vec<(String, String)>,
    },
    /// TCP connect.
    Tcp {
        /// Host (default: the pod IP).
        host: Option<String>,
        /// Port.
        port: u16,
    },
    /// An action this agent cannot run (gRPC, none given).
    Unsupported(String),
}

/// The outcome of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Success.
    pub ok: bool,
    /// Output or failure reason (for `Unhealthy` events).
    pub message: String,
}

fn port_of(port: &IntOrString, c: &Container) -> Result<u16, String> {
    match port {
        IntOrString::Int(p) => u16::try_from(*p).map_err(|_| format!("invalid port {p}")),
        IntOrString::String(name) => match name.parse::<u16>() {
            Ok(p) => Ok(p),
            Err(_) => c
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| u16::try_from(p.container_port).ok())
                .ok_or_else(|| format!("port {name:?} not found in the container's ports")),
        },
    }
}

fn exec_action(e: &ExecAction) -> Action {
    Action::Exec(e.command.clone().unwrap_or_default())
}

fn http_action(h: &HTTPGetAction, c: &Container) -> Action {
    match port_of(&h.port, c) {
        Ok(port) => Action::Http {
            host: h.host.clone().filter(|h| !h.is_empty()),
            port,
            path: h.path.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into()),
            https: h.scheme.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("HTTPS")),
            headers: h.http_headers.iter().flatten().map(|h| (h.name.clone(), h.value.clone())).collect(),
        },
        Err(e) => Action::Unsupported(e),
    }
}

fn tcp_action(t: &TCPSocketAction, c: &Container) -> Action {
    match port_of(&t.port, c) {
        Ok(port) => Action::Tcp { host: t.host.clone().filter(|h| !h.is_empty()), port },
        Err(e) => Action::Unsupported(e),
    }
}

/// The action of a probe.
pub fn probe_action(p: &Probe, c: &Container) -> Action {
    if let Some(e) = &p.exec {
        exec_action(e)
    } else if let Some(h) = &p.http_get {
        http_action(h, c)
    } else if let Some(t) = &p.tcp_socket {
        tcp_action(t, c)
    } else if p.grpc.is_some() {
        Action::Unsupported("gRPC probes are not supported".into())
    } else {
        Action::Unsupported("probe has no action".into())
    }
}

/// The action of the container's `preStop` hook, if any.
pub fn pre_stop_action(c: &Container) -> Option<Action> {
    let h = c.lifecycle.as_ref()?.pre_stop.as_ref()?;
    if let Some(e) = &h.exec {
        Some(exec_action(e))
    } else if let Some(g) = &h.http_get {
        Some(http_action(g, c))
    } else {
        h.tcp_socket.as_ref().map(|t| tcp_action(t, c))
    }
}

/// Run `action` against container `id` of a pod at `pod_ip`.
pub async fn run(rt: &dyn Runtime, id: &str, pod_ip: &str, action: &Action, timeout: Duration) -> Outcome {
    let fail = |message: String| Outcome { ok: false, message };
    match action {
        Action::Exec(cmd) => {
            match tokio::time::timeout(timeout + Duration::from_secs(1), rt.exec(id, cmd, timeout)).await {
                Ok(Ok(out)) => {
                    let mut message = String::from_utf8_lossy(&out.stdout).into_owned();
                    message.push_str(&String::from_utf8_lossy(&out.stderr));
                    match out.exit_code {
                        Some(0) => Outcome { ok: true, message },
                        None => fail(format!("command {cmd:?} timed out")),
                        Some(code) if message.is_empty() => fail(format!("command {cmd:?} exited with {code}")),
                        Some(_) => fail(message),
                    }
                }
                Ok(Err(e)) => fail(e.to_string()),
                Err(_) => fail(format!("command {cmd:?} timed out")),
            }
        }
        Action::Http { host, port, path, https, headers } => {
            let host = host.as_deref().unwrap_or(pod_ip);
            if *https {
                return fail("HTTPS probes are not supported".into());
            }
            let url = format!("http://{}/{}", host_port(host, *port), path.trim_start_matches('/'));
            match tokio::time::timeout(timeout, http_get(host, *port, path, headers)).await {
                Ok(Ok(code)) if (200..400).contains(&code) => Outcome { ok: true, message: String::new() },
                Ok(Ok(code)) => fail(format!("HTTP probe failed with statuscode: {code}")),
                Ok(Err(e)) => fail(format!("Get {url:?}: {e}")),
                Err(_) => fail(format!(
                    "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                )),
            }
        }
        Action::Tcp { host, port } => {
            let host = host.as_deref().unwrap_or(pod_ip);
            let addr = host_port(host, *port);
            match tokio::time::timeout(timeout, TcpStream::connect(&addr)).await {
                Ok(Ok(_)) => Outcome { ok: true, message: String::new() },
                Ok(Err(e)) => fail(format!("dial tcp {addr}: {e}")),
                Err(_) => fail(format!("dial tcp {addr}: i/o timeout")),
            }
        }
        Action::Unsupported(why) => fail(why.clone()),
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// One GET; returns the response status code.
async fn http_get(host: &str, port: u16, path: &str, headers: &[(String, String)]) -> std::io::Result<u16> {
    let addr = host_port(host, port);
    let mut s = TcpStream::connect(&addr).await?;
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    let mut req = format!("GET {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("user-agent")) {
        req.push_str("User-Agent: kube-probe/1.32\r\n");
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
        req.push_str("Accept: */*\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") && buf.len() < 4096 {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    parse_status(&buf).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP response"))
}

/// The status code of an HTTP/1.x status line.
fn parse_status(buf: &[u8]) -> Option<u16> {
    let line = buf.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ContainerPort;
    use tokio::net::TcpListener;

    #[test]
    fn resolves_named_ports_and_parses_status() {
        let c = Container {
            ports: Some(vec![ContainerPort { name: Some("http".into()), container_port: 8080, ..Default::default() }]),
            ..Default::default()
        };
        let p = Probe {
            http_get: Some(HTTPGetAction { port: IntOrString::String("http".into()), ..Default::default() }),
            ..Default::default()
        };
        assert!(matches!(probe_action(&p, &c), Action::Http { port: 8080, ref path, .. } if path == "/"));
        let p = Probe {
            tcp_socket: Some(TCPSocketAction { port: IntOrString::String("nope".into()), host: None }),
            ..Default::default()
        };
        assert!(matches!(probe_action(&p, &c), Action::Unsupported(_)));
        assert_eq!(parse_status(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(parse_status(b"SSH-2.0\r\n"), None);
    }

    #[tokio::test]
    async fn http_and_tcp_against_a_local_server() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..2 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 1024];
                let n = s.read(&mut buf).await.unwrap();
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let status = if req.starts_with("GET /healthz ") { "200 OK" } else { "503 Unavailable" };
                s.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes()).await.unwrap();
                seen.push(req);
            }
            seen
        });
        let rt = crate::runtime::hollow::HollowRuntime::new(Duration::ZERO);
        let t = Duration::from_secs(2);
        let ok = Action::Http {
            host: None,
            port,
            path: "/healthz".into(),
            https: false,
            headers: vec![("X-Probe".into(), "yes".into())],
        };
        assert!(run(&rt, "c", "127.0.0.1", &ok, t).await.ok);
        let bad = Action::Http { host: None, port, path: "/other".into(), https: false, headers: vec![] };
        let out = run(&rt, "c", "127.0.0.1", &bad, t).await;
        assert_eq!(out, Outcome { ok: false, message: "HTTP probe failed with statuscode: 503".into() });
        let seen = server.await.unwrap();
        assert!(seen[0].contains("X-Probe: yes\r\n") && seen[0].contains("User-Agent: kube-probe/1.32\r\n"));
        // The listener is gone: connects are refused.
        assert!(!run(&rt, "c", "127.0.0.1", &Action::Tcp { host: None, port }, t).await.ok);
        let l2 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let p2 = l2.local_addr().unwrap().port();
        assert!(run(&rt, "c", "127.0.0.1", &Action::Tcp { host: None, port: p2 }, t).await.ok);
    }
}
