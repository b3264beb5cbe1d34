//! A watcher whose member dies resumes on another member from its last
//! revision and sees every event exactly once, in order.

use std::time::{Duration, Instant};

use proto::etcdserverpb::kv_client::KvClient;
use proto::etcdserverpb::watch_client::WatchClient;
use proto::etcdserverpb::watch_request::RequestUnion;
use proto::etcdserverpb::{PutRequest, WatchCreateRequest, WatchRequest};
use tokio_stream::StreamExt;

use crate::harness::{lazy_channel, Cluster};

async fn open_watch(url: &str, from: i64) -> tonic::Streaming<proto::etcdserverpb::WatchResponse> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(WatchRequest {
        request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
            key: b"/w/".to_vec(),
            range_end: b"/w0".to_vec(),
            start_revision: from,
            ..Default::default()
        })),
    })
    .await
    .unwrap();
    // keep the request side open for the life of the stream
    std::mem::forget(tx);
    let mut wc = WatchClient::new(lazy_channel(url));
    let mut s = wc.watch(tokio_stream::wrappers::ReceiverStream::new(rx)).await.expect("watch").into_inner();
    let first = s.next().await.expect("created").expect("created ok");
    assert!(first.created, "first response must confirm creation");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_on_another_member_exactly_once() {
    let mut c = Cluster::start(3, &[]);
    let leader = c.must_leader(Duration::from_secs(20)).await;
    let watched = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    let start = c.must_put(leader, "/w-start", "x", Duration::from_secs(10)).await + 1;

    let writer_url = c.members[leader].client_url();
    let writer = tokio::spawn(async move {
        let mut kv = KvClient::new(lazy_channel(&writer_url));
        let mut revs = Vec::new();
        for i in 0..400 {
            let r = kv
                .put(PutRequest { key: format!("/w/{i:04}").into(), value: b"v".to_vec(), ..Default::default() })
                .await
                .expect("put");
            revs.push(r.into_inner().header.unwrap().revision);
            if i % 50 == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        revs
    });

    let mut seen: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut s = open_watch(&c.members[watched].client_url(), start).await;
    let mut resumed = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "watch did not deliver all events; saw {}", seen.len());
        if !resumed && seen.len() >= 120 {
            c.kill(watched);
            resumed = true;
            // drain whatever the dead member's stream still yields, then resume
            while let Ok(Some(Ok(r))) = tokio::time::timeout(Duration::from_millis(200), s.next()).await {
                for e in r.events {
                    let kv = e.kv.unwrap();
                    seen.push((kv.mod_revision, kv.key));
                }
            }
            let from = seen.last().unwrap().0 + 1;
            s = open_watch(&c.members[other].client_url(), from).await;
        }
        match tokio::time::timeout(Duration::from_secs(2), s.next()).await {
            Ok(Some(Ok(r))) => {
                for e in r.events {
                    let kv = e.kv.unwrap();
                    seen.push((kv.mod_revision, kv.key));
                }
            }
            Ok(Some(Err(e))) => panic!("watch stream error: {e}"),
            Ok(None) => panic!("watch stream ended"),
            Err(_) => {}
        }
        if writer.is_finished() && seen.len() >= 400 {
            break;
        }
    }
    let revs = writer.await.unwrap();
    assert!(resumed);
    let seen_revs: Vec<i64> = seen.iter().map(|(r, _)| *r).collect();
    assert_eq!(seen_revs, revs, "events must match the writes exactly once, in order");
    for (i, (_, k)) in seen.iter().enumerate() {
        assert_eq!(k, format!("/w/{i:04}").as_bytes());
    }
}
