//! MVCC semantics against a real member: versions across delete and
//! re-create, reads at past revisions, compaction keeping exactly what reads
//! at or above the compact revision need, counts, limits, sorting, and txns
//! that read their own writes.

use std::time::Duration;

use proto::etcdserverpb::range_request::{SortOrder, SortTarget};
use proto::etcdserverpb::request_op::Request as Op;
use proto::etcdserverpb::response_op::Response as ROp;
use proto::etcdserverpb::{CompactionRequest, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest};

use crate::harness::{lazy_channel, Cluster};

type Kv = proto::etcdserverpb::kv_client::KvClient<tonic::transport::Channel>;

async fn put(kv: &mut Kv, k: &str, v: &str) -> i64 {
    kv.put(PutRequest { key: k.into(), value: v.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .header
        .unwrap()
        .revision
}

async fn del(kv: &mut Kv, k: &str) -> i64 {
    kv.delete_range(DeleteRangeRequest { key: k.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .header
        .unwrap()
        .revision
}

async fn get_at(kv: &mut Kv, k: &str, rev: i64) -> Vec<proto::mvccpb::KeyValue> {
    kv.range(RangeRequest { key: k.into(), revision: rev, ..Default::default() }).await.unwrap().into_inner().kvs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mvcc_versions_history_compaction_and_ranges() {
    let c = Cluster::start(1, &[]);
    c.must_leader(Duration::from_secs(20)).await;
    let mut kv = Kv::new(lazy_channel(&c.members[0].client_url()));

    // versions across delete and re-create
    let r1 = put(&mut kv, "a", "1").await;
    let r2 = put(&mut kv, "a", "2").await;
    let r3 = del(&mut kv, "a").await;
    let r4 = put(&mut kv, "a", "3").await;
    assert!(r1 < r2 && r2 < r3 && r3 < r4);
    let now = get_at(&mut kv, "a", 0).await;
    assert_eq!(
        (now[0].version, now[0].create_revision, now[0].mod_revision, now[0].value.as_slice()),
        (1, r4, r4, &b"3"[..])
    );
    let then = get_at(&mut kv, "a", r2).await;
    assert_eq!(
        (then[0].version, then[0].create_revision, then[0].mod_revision, then[0].value.as_slice()),
        (2, r1, r2, &b"2"[..])
    );
    assert!(get_at(&mut kv, "a", r3).await.is_empty(), "deleted at r3");

    // compaction keeps the latest version below the compact revision...
    let x = put(&mut kv, "x", "old").await;
    let f1 = put(&mut kv, "filler", "1").await;
    kv.compact(CompactionRequest { revision: f1, physical: true }).await.unwrap();
    assert_eq!(get_at(&mut kv, "x", f1).await[0].mod_revision, x);
    assert_eq!(get_at(&mut kv, "a", f1).await[0].value, b"3");
    // ...and a later delete + compaction never brings the old value back
    let d = del(&mut kv, "x").await;
    let f2 = put(&mut kv, "filler", "2").await;
    kv.compact(CompactionRequest { revision: f2, physical: true }).await.unwrap();
    assert!(get_at(&mut kv, "x", f2).await.is_empty(), "x was deleted at {d}");
    assert!(get_at(&mut kv, "x", 0).await.is_empty());
    let f3 = put(&mut kv, "filler", "3").await;
    assert!(get_at(&mut kv, "x", f3).await.is_empty());
    assert_eq!(get_at(&mut kv, "a", f2).await[0].value, b"3", "live keys survive compaction");

    // count is the number of keys in the range; limit and more; sorting
    let mut mods = Vec::new();
    for i in 0..5 {
        mods.push(put(&mut kv, &format!("p/{i}"), &format!("{}", 9 - i)).await);
    }
    let r = kv
        .range(RangeRequest { key: b"p/".to_vec(), range_end: b"p0".to_vec(), limit: 2, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.kvs.len(), r.more, r.count), (2, true, 5));
    assert_eq!(r.kvs[0].key, b"p/0");
    let r = kv
        .range(RangeRequest {
            key: b"p/".to_vec(),
            range_end: b"p0".to_vec(),
            min_mod_revision: mods[3],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.kvs.iter().map(|k| k.key.clone()).collect::<Vec<_>>(), vec![b"p/3".to_vec(), b"p/4".to_vec()]);
    let r = kv
        .range(RangeRequest {
            key: b"p/".to_vec(),
            range_end: b"p0".to_vec(),
            sort_order: SortOrder::Descend as i32,
            sort_target: SortTarget::Key as i32,
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.kvs.iter().map(|k| k.key.clone()).collect::<Vec<_>>(),
        vec![b"p/4".to_vec(), b"p/3".to_vec(), b"p/2".to_vec()]
    );
    assert!(r.more);
    let r = kv
        .range(RangeRequest {
            key: b"p/".to_vec(),
            range_end: b"p0".to_vec(),
            sort_target: SortTarget::Value as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.kvs[0].value, b"5");
    let r = kv
        .range(RangeRequest { key: b"p/".to_vec(), range_end: b"p0".to_vec(), count_only: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.kvs.len(), r.count), (0, 5));
    // a range at a past revision over a prefix
    let r = kv
        .range(RangeRequest { key: b"p/".to_vec(), range_end: b"p0".to_vec(), revision: mods[1], ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.count, 2);

    // a txn reads its own writes; one revision for the whole txn
    let t = kv
        .txn(TxnRequest {
            success: vec![
                RequestOp {
                    request: Some(Op::RequestPut(PutRequest {
                        key: b"t/1".to_vec(),
                        value: b"x".to_vec(),
                        ..Default::default()
                    })),
                },
                RequestOp {
                    request: Some(Op::RequestPut(PutRequest {
                        key: b"t/2".to_vec(),
                        value: b"y".to_vec(),
                        ..Default::default()
                    })),
                },
                RequestOp {
                    request: Some(Op::RequestRange(RangeRequest {
                        key: b"t/".to_vec(),
                        range_end: b"t0".to_vec(),
                        ..Default::default()
                    })),
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(t.succeeded);
    let Some(ROp::ResponseRange(rr)) = &t.responses[2].response else { panic!("range response") };
    assert_eq!(rr.count, 2);
    let rev = t.header.unwrap().revision;
    assert!(rr.kvs.iter().all(|k| k.mod_revision == rev && k.create_revision == rev));
}

/// Concurrent writes are batched into shared Raft entries: each still gets
/// its own revision, and a failing request in a batch neither leaves a trace
/// nor disturbs the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_writes_keep_per_request_revisions_and_isolation() {
    let mut c = Cluster::start(3, &[]);
    c.must_leader(Duration::from_secs(20)).await;
    let mut tasks = Vec::new();
    for i in 0..96usize {
        let url = c.members[i % 3].client_url();
        tasks.push(tokio::spawn(async move {
            let mut kv = Kv::new(lazy_channel(&url));
            // every third request names a lease that does not exist
            let lease = if i % 3 == 2 { 0x7777 } else { 0 };
            kv.put(PutRequest { key: b"hot".to_vec(), value: i.to_string().into_bytes(), lease, ..Default::default() })
                .await
                .map(|r| r.into_inner().header.unwrap().revision)
        }));
    }
    let mut revs = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => revs.push(r),
            Err(e) => {
                assert_eq!(e.code(), tonic::Code::NotFound, "{e}");
                failed += 1;
            }
        }
    }
    assert_eq!(failed, 32);
    let mut sorted = revs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 64, "every successful write has its own revision");
    let mut kv = Kv::new(lazy_channel(&c.members[0].client_url()));
    let now = get_at(&mut kv, "hot", 0).await;
    assert_eq!(now[0].version, 64, "exactly the successful writes were applied");
    assert_eq!(now[0].mod_revision, *sorted.last().unwrap());
    assert_eq!(now[0].lease, 0);
    // history holds exactly the 64 versions, each at its own revision
    for (n, r) in sorted.iter().enumerate() {
        let v = get_at(&mut kv, "hot", *r).await;
        assert_eq!((v[0].mod_revision, v[0].version), (*r, n as i64 + 1));
    }

    // SIGTERM shuts a member down cleanly (exit 0); restarted from its data
    // dir it serves everything it had
    let status = c.stop(1);
    assert!(status.success(), "SIGTERM exit status {status}");
    c.restart(1);
    c.must_leader(Duration::from_secs(20)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut kv1 = Kv::new(lazy_channel(&c.members[1].client_url()));
        if let Ok(r) = kv1.range(RangeRequest { key: b"hot".to_vec(), serializable: true, ..Default::default() }).await
        {
            if r.into_inner().kvs.first().map(|k| k.version) == Some(64) {
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "restarted member lost data");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(c.log_text(1).contains("shutting down"));
}
