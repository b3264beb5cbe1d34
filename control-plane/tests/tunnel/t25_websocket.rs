//! The remotecommand WebSocket protocol seen by a raw client (what kubectl
//! does not exercise: v4, explicit resize, half-close by hand).

use std::sync::atomic::Ordering;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::*;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn must_connect(c: &Cluster, query: &str, protocols: &str) -> (Ws, String) {
    let url = format!("ws://{}/api/v1/namespaces/default/pods/p/exec?{query}", c.rest);
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert("Sec-WebSocket-Protocol", protocols.parse().expect("header"));
    let (ws, resp) = tokio_tungstenite::connect_async(req).await.expect("upgrade");
    let proto = resp.headers()["sec-websocket-protocol"].to_str().expect("ascii").to_string();
    (ws, proto)
}

/// Reads until the server closes: (stdout, stderr, error-channel payloads).
async fn must_drain(ws: &mut Ws) -> (Vec<u8>, Vec<u8>, Vec<Vec<u8>>) {
    let (mut out, mut err, mut status) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next()).await.expect("in time");
        match msg {
            Some(Ok(Message::Binary(b))) => match b[0] {
                1 => out.extend_from_slice(&b[1..]),
                2 => err.extend_from_slice(&b[1..]),
                3 => status.push(b[1..].to_vec()),
                other => panic!("unexpected channel {other}"),
            },
            Some(Ok(Message::Close(_))) | None => return (out, err, status),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("websocket error: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_client_gets_v4_and_a_structured_status() {
    let c = must_start().await;
    let (mut ws, proto) =
        must_connect(&c, "command=sh&command=-c&command=echo+x;+exit+2&stdout=true&stderr=true", "v4.channel.k8s.io")
            .await;
    assert_eq!(proto, "v4.channel.k8s.io");
    let (out, err, status) = must_drain(&mut ws).await;
    assert_eq!((out.as_slice(), err.as_slice()), (&b"x\n"[..], &b""[..]));
    assert_eq!(status.len(), 1);
    let s: serde_json::Value = serde_json::from_slice(&status[0]).expect("status json");
    assert_eq!(s["reason"], "NonZeroExitCode");
    assert_eq!(s["details"]["causes"][0]["message"], "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_stdin_half_close_and_resize() {
    let c = must_start().await;
    let (mut ws, proto) =
        must_connect(&c, "command=cat&stdin=true&stdout=true&stderr=true", "v4.channel.k8s.io, v5.channel.k8s.io")
            .await;
    assert_eq!(proto, "v5.channel.k8s.io", "server prefers v5");
    // A resize is accepted (the test runtime has no TTY) and does not end the session.
    let mut resize = vec![4u8];
    resize.extend_from_slice(br#"{"Width":100,"Height":40}"#);
    ws.send(Message::Binary(resize.into())).await.expect("send resize");
    ws.send(Message::Binary(b"\x00ping\n".to_vec().into())).await.expect("send stdin");
    ws.send(Message::Binary(vec![255u8, 0].into())).await.expect("close stdin");
    let (out, _, status) = must_drain(&mut ws).await;
    assert_eq!(out, b"ping\n");
    assert_eq!(status, vec![br#"{"metadata":{},"status":"Success"}"#.to_vec()]);
    must_wait("session closed", || c.tunnels.session_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_that_leaves_stops_the_command() {
    let c = must_start().await;
    let (mut ws, _) = must_connect(&c, "command=sleep&command=600&stdout=true", "v5.channel.k8s.io").await;
    must_wait("command running", || c.runtime.running_execs.load(Ordering::SeqCst) == 1).await;
    assert_eq!(c.tunnels.session_count(), 1);
    ws.close(None).await.expect("close");
    drop(ws);
    must_wait("session closed", || c.tunnels.session_count() == 0).await;
    // The agent dropped the exec session, which ended the process.
    must_wait("command stopped", || c.runtime.running_execs.load(Ordering::SeqCst) == 0).await;
}
