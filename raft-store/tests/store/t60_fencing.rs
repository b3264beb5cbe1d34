//! Fenced writes: a write carrying the term its issuer started in is
//! rejected once another leader has taken over, even when it reaches the new
//! leader (in-process members, real RocksDB and gRPC).

use std::time::{Duration, Instant};

use proto::etcdserverpb::{PutRequest, RangeRequest};
use raft_store::server::Member;
use raft_store::{StoreConfig, StoreError};
use tokio_util::sync::CancellationToken;

use crate::harness::free_port;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposed_leaders_fenced_write_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let ic: Vec<(String, String)> =
        ports.iter().enumerate().map(|(i, (_, p))| (format!("m{i}"), format!("http://127.0.0.1:{p}"))).collect();
    let mut members = Vec::new();
    let mut tokens = Vec::new();
    for (i, (cp, pp)) in ports.iter().enumerate() {
        let peer = format!("http://127.0.0.1:{pp}");
        let client = format!("http://127.0.0.1:{cp}");
        let mut cfg = StoreConfig::new(&format!("m{i}"), dir.path().join(format!("m{i}")), &peer, &client);
        cfg.initial_cluster = ic.clone();
        cfg.election_timeout = Duration::from_millis(1000);
        let tok = CancellationToken::new();
        members
            .push(Member::start(cfg, &peer, std::slice::from_ref(&client), tok.clone()).await.expect("start member"));
        tokens.push(tok);
    }
    let stores: Vec<_> = members.iter().map(|m| m.store.clone()).collect();
    let put = |k: &str| PutRequest { key: k.as_bytes().to_vec(), value: b"v".to_vec(), ..Default::default() };
    // wait for a leader; in its own term, the fenced write applies (on a
    // loaded machine a young cluster may still change leaders: then the
    // write is fenced, as it must be, and the test takes the new term)
    let deadline = Instant::now() + Duration::from_secs(30);
    let (leader, term) = loop {
        assert!(Instant::now() < deadline, "no stable leader");
        let Some((id, _)) = stores[0].leader() else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let idx = stores.iter().position(|s| s.id == id).unwrap();
        let term = stores[idx].term();
        match stores[idx].put_fenced(put("/fence/ok"), Some(term)).await {
            Ok(_) => break (idx, term),
            Err(StoreError::Fenced { .. }) => continue,
            Err(e) => panic!("fenced write in the current term: {e:?}"),
        }
    };

    // the leader goes away (crash or partition); another member takes over
    let old = members.remove(leader);
    tokens[leader].cancel();
    old.wait().await;
    let alive: Vec<_> = stores.iter().enumerate().filter(|(i, _)| *i != leader).map(|(_, s)| s.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (new_leader, new_term) = loop {
        if let Some((id, _)) = alive[0].leader() {
            if id != stores[leader].id && alive[0].term() > term {
                let idx = alive.iter().position(|s| s.id == id).unwrap();
                break (idx, alive[idx].term());
            }
        }
        assert!(Instant::now() < deadline, "no new leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let follower = 1 - new_leader;

    // a task that started under the old leader still holds `term`: its write,
    // sent through a follower, is forwarded to the new leader and rejected
    // by the state machine
    let e =
        alive[follower].put_fenced(put("/fence/stale"), Some(term)).await.expect_err("stale fenced write must fail");
    assert!(
        matches!(e, StoreError::Fenced { fence_term, entry_term } if fence_term == term && entry_term >= new_term),
        "{e:?}"
    );
    // also when submitted directly on the new leader
    let e =
        alive[new_leader].put_fenced(put("/fence/stale2"), Some(term)).await.expect_err("stale fenced write must fail");
    assert!(matches!(e, StoreError::Fenced { .. }), "{e:?}");
    // the new term's fence passes; unfenced writes are unaffected
    alive[follower].put_fenced(put("/fence/new"), Some(new_term)).await.expect("fenced write in the new term");
    alive[follower].put(put("/fence/plain")).await.expect("unfenced write");

    for k in ["/fence/stale", "/fence/stale2"] {
        let r =
            alive[new_leader].range(RangeRequest { key: k.as_bytes().to_vec(), ..Default::default() }).await.unwrap();
        assert_eq!(r.count, 0, "{k} must not have been written");
    }
    for k in ["/fence/ok", "/fence/new", "/fence/plain"] {
        let r = alive[follower].range(RangeRequest { key: k.as_bytes().to_vec(), ..Default::default() }).await.unwrap();
        assert_eq!(r.count, 1, "{k} must have been written");
    }
    for t in &tokens {
        t.cancel();
    }
    for m in members {
        m.wait().await;
    }
}
