//! Bad input gets etcd's gRPC error codes and writes nothing.

use std::time::Duration;

use proto::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use proto::etcdserverpb::kv_client::KvClient;
use proto::etcdserverpb::lease_client::LeaseClient;
use proto::etcdserverpb::request_op::Request as Op;
use proto::etcdserverpb::{
    CompactionRequest, Compare, DeleteRangeRequest, LeaseRevokeRequest, LeaseTimeToLiveRequest, PutRequest,
    PutResponse, RangeRequest, RequestOp, TxnRequest,
};
use tonic::Code;

use crate::harness::{lazy_channel, Cluster};

async fn revision(kv: &mut KvClient<tonic::transport::Channel>) -> i64 {
    kv.range(RangeRequest { key: b"any".to_vec(), ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .header
        .unwrap()
        .revision
}

fn put(k: &[u8], v: &[u8]) -> RequestOp {
    RequestOp { request: Some(Op::RequestPut(PutRequest { key: k.to_vec(), value: v.to_vec(), ..Default::default() })) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_write_nothing() {
    let c = Cluster::start(3, &[]);
    let leader = c.must_leader(Duration::from_secs(20)).await;
    let f = (leader + 1) % 3;
    let mut kv = KvClient::new(lazy_channel(&c.members[f].client_url()));
    kv.put(PutRequest { key: b"k".to_vec(), value: b"v0".to_vec(), ..Default::default() }).await.unwrap();
    kv.put(PutRequest { key: b"k".to_vec(), value: b"v1".to_vec(), ..Default::default() }).await.unwrap();
    let base = revision(&mut kv).await;

    let expect = |r: Result<tonic::Response<PutResponse>, tonic::Status>, code: Code, msg: &str| {
        let e = r.expect_err("must fail");
        assert_eq!(e.code(), code, "{e}");
        assert!(e.message().contains(msg), "{e}");
    };

    // oversized value (default limit 1.5 MiB) and a 3 MiB message
    let big = PutRequest { key: b"big".to_vec(), value: vec![7u8; 1_600_000], ..Default::default() };
    expect(kv.put(big).await, Code::InvalidArgument, "request is too large");
    let huge = PutRequest { key: b"big".to_vec(), value: vec![7u8; 3 << 20], ..Default::default() };
    let e = kv.put(huge).await.expect_err("3 MiB must fail");
    assert!(matches!(e.code(), Code::OutOfRange | Code::ResourceExhausted | Code::InvalidArgument), "{e}");

    // empty keys
    expect(kv.put(PutRequest::default()).await, Code::InvalidArgument, "key is not provided");
    let e = kv.range(RangeRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e}");
    let e = kv.delete_range(DeleteRangeRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e}");

    // ignore_value with a value, ignore_lease with a lease
    let r =
        kv.put(PutRequest { key: b"k".to_vec(), value: b"x".to_vec(), ignore_value: true, ..Default::default() }).await;
    expect(r, Code::InvalidArgument, "value is provided");

    // unknown lease
    let r = kv.put(PutRequest { key: b"k".to_vec(), value: b"x".to_vec(), lease: 0x1234, ..Default::default() }).await;
    expect(r, Code::NotFound, "requested lease not found");
    let mut lease = LeaseClient::new(lazy_channel(&c.members[f].client_url()));
    let e = lease.lease_revoke(LeaseRevokeRequest { id: 0x1234 }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");
    let ttl = lease.lease_time_to_live(LeaseTimeToLiveRequest { id: 0x1234, keys: true }).await.unwrap().into_inner();
    assert_eq!(ttl.ttl, -1);

    // a txn writing the same key twice; a txn with an unknown lease in its
    // second op (the first op must not be written either)
    let dup = TxnRequest { success: vec![put(b"d", b"1"), put(b"d", b"2")], ..Default::default() };
    let e = kv.txn(dup).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e}");
    assert!(e.message().contains("duplicate key"), "{e}");
    let half = TxnRequest {
        success: vec![
            put(b"half1", b"1"),
            RequestOp {
                request: Some(Op::RequestPut(PutRequest { key: b"half2".to_vec(), lease: 99, ..Default::default() })),
            },
        ],
        ..Default::default()
    };
    assert_eq!(kv.txn(half).await.unwrap_err().code(), Code::NotFound);

    // malformed message: a CompactionRequest (field 1 = varint) sent to Put,
    // whose field 1 is bytes
    let mut raw = tonic::client::Grpc::new(lazy_channel(&c.members[f].client_url()));
    raw.ready().await.unwrap();
    let r: Result<tonic::Response<PutResponse>, _> = raw
        .unary(
            tonic::Request::new(CompactionRequest { revision: 5, physical: false }),
            "/etcdserverpb.KV/Put".parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await;
    let e = r.unwrap_err();
    assert!(matches!(e.code(), Code::Internal | Code::InvalidArgument), "{e}");

    // compacted and future revisions
    kv.compact(CompactionRequest { revision: base, physical: false }).await.unwrap();
    let e = kv.range(RangeRequest { key: b"k".to_vec(), revision: base - 1, ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), Code::OutOfRange, "{e}");
    assert!(e.message().contains("required revision has been compacted"), "{e}");
    let e = kv.compact(CompactionRequest { revision: base - 1, physical: false }).await.unwrap_err();
    assert_eq!(e.code(), Code::OutOfRange, "{e}");
    let e = kv.compact(CompactionRequest { revision: base + 1000, physical: false }).await.unwrap_err();
    assert_eq!(e.code(), Code::OutOfRange, "{e}");
    assert!(e.message().contains("future revision"), "{e}");
    let e =
        kv.range(RangeRequest { key: b"k".to_vec(), revision: base + 1000, ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), Code::OutOfRange, "{e}");
    // a txn that compares and then reads at a compacted revision
    let txn = TxnRequest {
        compare: vec![Compare {
            result: CompareResult::Equal as i32,
            target: CompareTarget::Mod as i32,
            key: b"k".to_vec(),
            target_union: Some(TargetUnion::ModRevision(base - 1)),
            range_end: vec![],
        }],
        success: vec![],
        failure: vec![
            RequestOp {
                request: Some(Op::RequestRange(RangeRequest {
                    key: b"k".to_vec(),
                    revision: base - 1,
                    ..Default::default()
                })),
            },
            put(b"after-compacted-read", b"1"),
        ],
    };
    let e = kv.txn(txn).await.unwrap_err();
    assert_eq!(e.code(), Code::OutOfRange, "{e}");

    // nothing above was written
    assert_eq!(revision(&mut kv).await, base, "a rejected request changed the store");
    for k in [&b"big"[..], b"d", b"half1", b"half2", b"after-compacted-read"] {
        let r = kv.range(RangeRequest { key: k.to_vec(), ..Default::default() }).await.unwrap().into_inner();
        assert_eq!(r.count, 0, "{:?} was written", String::from_utf8_lossy(k));
    }
    let r = kv.range(RangeRequest { key: b"k".to_vec(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(r.kvs[0].value, b"v1");
}
