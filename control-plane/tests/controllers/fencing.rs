//! A deposed leader's controller write, fenced with its old term, is
//! rejected by the state machine and writes nothing — through the API
//! server and the controller executor, as the leader tasks write
//! (in-process replicas: real RocksDB and gRPC peers).

use std::time::{Duration, Instant};

use control_plane::registry::kinds;
use control_plane::runtime::action::Action;
use control_plane::runtime::execute::{ExecError, Executor};
use control_plane::runtime::recorder::Recorder;
use control_plane::server::{ApiServer, WriteOptions};
use control_plane::storage::Objects;
use raft_store::server::Member;
use raft_store::StoreConfig;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_leaders_fenced_write_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let ic: Vec<(String, String)> =
        ports.iter().enumerate().map(|(i, (_, p))| (format!("m{i}"), format!("http://127.0.0.1:{p}"))).collect();
    let (mut members, mut tokens) = (Vec::new(), Vec::new());
    for (i, (cp, pp)) in ports.iter().enumerate() {
        let (peer, client) = (format!("http://127.0.0.1:{pp}"), format!("http://127.0.0.1:{cp}"));
        let mut cfg = StoreConfig::new(&format!("m{i}"), dir.path().join(format!("m{i}")), &peer, &client);
        cfg.initial_cluster = ic.clone();
        cfg.election_timeout = Duration::from_millis(1000);
        let tok = CancellationToken::new();
        members.push(Member::start(cfg, &peer, std::slice::from_ref(&client), tok.clone()).await.unwrap());
        tokens.push(tok);
    }
    let stores: Vec<_> = members.iter().map(|m| m.store.clone()).collect();
    let cm = kinds::by_kind("v1", "ConfigMap").unwrap();
    let ns = kinds::by_kind("v1", "Namespace").unwrap();
    let api = |i: usize| ApiServer::new(Objects::new(stores[i].clone()));
    let opts = WriteOptions::default();
    // The leader's tasks write in their own term. (On a loaded machine a
    // young cluster may still change leaders: then the write is fenced, as
    // it must be, and the test takes the new leader's term.)
    let deadline = Instant::now() + Duration::from_secs(30);
    let (leader, term) = loop {
        assert!(Instant::now() < deadline, "no stable leader");
        let Some((id, _)) = stores[0].leader() else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let idx = stores.iter().position(|s| s.id == id).unwrap();
        let term = stores[idx].term();
        let _ = api(idx).create(ns, None, json!({"metadata": {"name": "default"}}), &opts).await;
        match api(idx).fenced(term).create(cm, Some("default"), json!({"metadata": {"name": "ok"}}), &opts).await {
            Ok(_) => break (idx, term),
            Err(e) if e.reason == control_plane::error::FENCED => continue,
            Err(e) => panic!("a fenced write in the current term must apply: {e:?}"),
        }
    };

    // the leader dies; another replica leads a later term
    let old = members.remove(leader);
    tokens[leader].cancel();
    old.wait().await;
    let alive: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stores[alive[0]].leader().is_some_and(|(id, _)| id != stores[leader].id && stores[alive[0]].term() > term) {
        assert!(Instant::now() < deadline, "no new leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // a write still fenced to the old term is rejected, on every replica
    for &i in &alive {
        let e = api(i)
            .fenced(term)
            .create(cm, Some("default"), json!({"metadata": {"name": format!("stale-{i}")}}), &opts)
            .await
            .expect_err("a stale fenced write must fail");
        assert_eq!(e.reason, control_plane::error::FENCED, "{e:?}");
        // and the controller executor turns it into "stop the leader tasks"
        let tracker = TaskTracker::new();
        let exec = Executor::new(
            api(i).fenced(term),
            "test-controller",
            Recorder::start(api(i), &tracker, CancellationToken::new()),
        );
        let r = exec
            .execute(vec![Action::Create {
                kind: "ConfigMap",
                namespace: Some("default".into()),
                object: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "stale-exec"}}),
            }])
            .await;
        assert!(matches!(r, Err(ExecError::Fenced(_))), "{r:?}");
    }
    let got = api(alive[0]).get(cm, Some("default"), "stale-exec", None).await;
    assert_eq!(got.map(|_| ()).map_err(|e| e.code), Err(404), "nothing was written");
    // the new term's fence passes (retried if yet another election intervenes)
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "a write fenced to the current term never applied");
        let new_term = stores[alive[0]].term();
        match api(alive[0])
            .fenced(new_term)
            .create(cm, Some("default"), json!({"metadata": {"name": "new"}}), &opts)
            .await
        {
            Ok(_) => break,
            Err(e) if e.reason == control_plane::error::FENCED => continue,
            Err(e) => panic!("a write fenced to the new term must apply: {e:?}"),
        }
    }
    for t in tokens {
        t.cancel();
    }
}
