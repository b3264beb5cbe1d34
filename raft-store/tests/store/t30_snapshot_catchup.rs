//! A member that was down for 10,000 writes catches up through a snapshot
//! (the leader purged the log it would need).

use std::time::{Duration, Instant};

use proto::etcdserverpb::kv_client::KvClient;
use proto::etcdserverpb::{PutRequest, RangeRequest};

use crate::harness::{lazy_channel, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_member_catches_up_from_snapshot() {
    let mut c = Cluster::start(3, &["--snapshot-count", "1000", "--snapshot-catchup-entries", "100"]);
    let leader = c.must_leader(Duration::from_secs(20)).await;
    let down = (leader + 1) % 3;
    c.kill(down);
    let url = c.members[leader].client_url();
    let total = 10_000usize;
    let per = total / 16;
    let mut tasks = Vec::new();
    for w in 0..16 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut kv = KvClient::new(lazy_channel(&url));
            for i in 0..per {
                let key = format!("/s/{w:02}/{i:05}");
                kv.put(PutRequest { key: key.into(), value: vec![b'x'; 64], ..Default::default() })
                    .await
                    .expect("put while one member is down");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    c.restart(down);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut kv = KvClient::new(lazy_channel(&c.members[down].client_url()));
        let r = kv
            .range(RangeRequest {
                key: b"/s/".to_vec(),
                range_end: b"/s0".to_vec(),
                count_only: true,
                serializable: true,
                ..Default::default()
            })
            .await;
        if let Ok(r) = r {
            if r.into_inner().count as usize == total {
                break;
            }
        }
        assert!(Instant::now() < deadline, "restarted member did not catch up within 90 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        c.log_text(down).contains("installed snapshot"),
        "the lagging member caught up without a snapshot; the log was not purged as expected"
    );
    // and it keeps up with new writes afterwards
    c.must_put(leader, "/s/after", "1", Duration::from_secs(10)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.local_get(down, "/s/after").await.is_none() {
        assert!(Instant::now() < deadline, "member stopped replicating after the snapshot");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
