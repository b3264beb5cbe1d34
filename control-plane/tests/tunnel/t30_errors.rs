use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use control_plane::tunnel::Tunnels;
use proto::agent::dispatcher_client::DispatcherClient;
use proto::agent::{tunnel_up, SessionClose, TunnelUp};
use tokio_util::sync::CancellationToken;

use crate::harness::*;

const NO_AGENT: &str = "no node agent for node node-2 is connected to this replica; is the agent running?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_on_a_node_without_agent_is_503() {
    let c = must_start().await;
    let r = must_run(&c, &["logs", "orphan"], None).await;
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains(&format!("Error from server (ServiceUnavailable): {NO_AGENT}")), "{r:?}");

    let r = must_run(&c, &["exec", "orphan", "--", "true"], None).await;
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains(NO_AGENT), "{r:?}");

    let r = reqwest::get(format!("http://{}/api/v1/namespaces/default/pods/orphan/log", c.rest)).await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!((body["reason"].as_str(), body["message"].as_str()), (Some("ServiceUnavailable"), Some(NO_AGENT)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_without_websocket_is_refused() {
    let c = must_start().await;
    let url = format!("http://{}/api/v1/namespaces/default/pods/p/exec?command=true&stdout=true", c.rest);
    let r = reqwest::Client::new().post(url).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert!(body["message"].as_str().unwrap().starts_with("Upgrade request required"), "{body}");
    assert_eq!(c.tunnels.session_count(), 0, "no session was opened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnel_must_start_with_hello() {
    let c = must_start().await;
    let mut client = DispatcherClient::connect(format!("http://{}", c.grpc)).await.expect("connect");
    let first = TunnelUp { frame: Some(tunnel_up::Frame::Close(SessionClose { session: 1, error: String::new() })) };
    let mut down = client.tunnel(tokio_stream::iter(vec![first])).await.expect("stream").into_inner();
    let err = down.message().await.expect_err("rejected");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_reconnects_when_the_server_comes_back() {
    // A listener that drops every connection: the agent's first attempts fail.
    let refuser = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = refuser.local_addr().unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counted = attempts.clone();
    let refusing = tokio::spawn(async move {
        loop {
            let (conn, _) = refuser.accept().await.expect("accept");
            counted.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    let shutdown = CancellationToken::new();
    must_start_agent(addr, Default::default(), Default::default(), shutdown.clone());
    must_wait("a failed attempt", || attempts.load(Ordering::SeqCst) >= 1).await;
    refusing.abort();
    let _ = refusing.await;
    let tunnels = Tunnels::new();
    let listener = tokio::net::TcpListener::bind(addr).await.expect("rebind the reserved port");
    must_serve_grpc(listener, tunnels.clone());
    must_wait("agent reconnected", || tunnels.has_agent(NODE)).await;
    shutdown.cancel();
    must_wait("tunnel removed after shutdown", || !tunnels.has_agent(NODE)).await;
}
