//! The typed gRPC API with a real tonic client against a 3-replica cluster
//! started as `up` starts it: CRUD with Kubernetes errors in the status
//! details, and a watch that survives the SIGKILL of the replica it was
//! connected to — resumed on another replica from its last resourceVersion
//! with no event missed or repeated.

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use proto::api::resources_client::ResourcesClient;
use proto::api::{
    CreateRequest, DeleteRequest, GetRequest, ListRequest, PatchRequest, ResourceRef, UpdateRequest, WatchRequest,
    WriteOptions,
};
use serde_json::{json, Value};

fn cm_ref(name: &str) -> Option<ResourceRef> {
    Some(ResourceRef {
        group: "".into(),
        version: "v1".into(),
        resource: "configmaps".into(),
        namespace: "default".into(),
        name: name.into(),
    })
}

async fn client(url: &str) -> ResourcesClient<tonic::transport::Channel> {
    for _ in 0..100 {
        if let Ok(c) = ResourcesClient::connect(url.to_string()).await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot connect to {url}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_crud_and_a_watch_that_survives_its_replica() {
    let (_tmp, dir, _up) = start_cluster().await;
    let reps = replicas(&dir);
    let urls: Vec<String> = reps.iter().map(|r| r["api_url"].as_str().unwrap().to_string()).collect();
    let mut c = client(&urls[0]).await;

    // create, get, update with a stale resourceVersion, patch, list
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "g1"}, "data": {"a": "1"}});
    let created = c
        .create(CreateRequest {
            r#ref: cm_ref(""),
            object: serde_json::to_vec(&obj).unwrap(),
            options: Some(WriteOptions { field_validation: "Strict".into(), ..Default::default() }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(created.created);
    let created: Value = serde_json::from_slice(&created.object).unwrap();
    let rv1 = created["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let e = c
        .create(CreateRequest { r#ref: cm_ref(""), object: serde_json::to_vec(&obj).unwrap(), options: None })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::AlreadyExists);
    let st = control_plane::grpc::kubernetes_status(&e).expect("the Kubernetes Status in the error details");
    assert_eq!(
        (st["kind"].as_str(), st["reason"].as_str(), st["code"].as_i64()),
        (Some("Status"), Some("AlreadyExists"), Some(409))
    );
    let got = c.get(GetRequest { r#ref: cm_ref("g1"), ..Default::default() }).await.unwrap().into_inner();
    let got: Value = serde_json::from_slice(&got.object).unwrap();
    assert_eq!(got["data"]["a"], "1");
    let mut upd = got.clone();
    upd["data"]["a"] = json!("2");
    let u = c
        .update(UpdateRequest { r#ref: cm_ref("g1"), object: serde_json::to_vec(&upd).unwrap(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let u: Value = serde_json::from_slice(&u.object).unwrap();
    assert_ne!(u["metadata"]["resourceVersion"].as_str().unwrap(), rv1);
    let e = c
        .update(UpdateRequest { r#ref: cm_ref("g1"), object: serde_json::to_vec(&upd).unwrap(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Aborted, "a stale resourceVersion conflicts: {e:?}");
    c.patch(PatchRequest {
        r#ref: cm_ref("g1"),
        patch_type: "merge".into(),
        patch: br#"{"data":{"b":"3"}}"#.to_vec(),
        ..Default::default()
    })
    .await
    .unwrap();
    let e = c
        .patch(PatchRequest {
            r#ref: cm_ref("g1"),
            patch_type: "json".into(),
            patch: b"{not json".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let e = c.get(GetRequest { r#ref: cm_ref("missing"), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let l = c
        .list(ListRequest { r#ref: cm_ref(""), label_selector: "".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(l.items.len(), 1);
    let list_rv: i64 = l.resource_version.parse().unwrap();

    // a watch from the list's resourceVersion on replica 0, a writer on replica 1
    let mut w = c
        .watch(WatchRequest { r#ref: cm_ref(""), resource_version: list_rv.to_string(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let mut writer = client(&urls[1]).await;
    let total = 40;
    let writer_task = tokio::spawn(async move {
        for i in 0..total {
            let o = json!({"metadata": {"name": format!("w{i}")}, "data": {"i": i.to_string()}});
            loop {
                match writer
                    .create(CreateRequest { r#ref: cm_ref(""), object: serde_json::to_vec(&o).unwrap(), options: None })
                    .await
                {
                    Ok(_) => break,
                    Err(e) if e.code() == tonic::Code::AlreadyExists => break,
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let mut seen: BTreeMap<String, i64> = BTreeMap::new();
    let mut last_rv = list_rv;
    // read a few events, then kill replica 0 (the watch's replica)
    while seen.len() < 10 {
        let ev = tokio::time::timeout(Duration::from_secs(20), w.message()).await.unwrap().unwrap().unwrap();
        let rv: i64 = ev.resource_version.parse().unwrap();
        assert!(rv > last_rv, "events arrive in order");
        last_rv = rv;
        let o: Value = serde_json::from_slice(&ev.object).unwrap();
        assert_eq!(ev.r#type, "ADDED");
        assert!(seen.insert(o["metadata"]["name"].as_str().unwrap().to_string(), rv).is_none(), "duplicate event");
    }
    let pid0 = reps[0]["pid"].as_u64().unwrap();
    let _ = std::process::Command::new("kill").args(["-KILL", &pid0.to_string()]).status();
    // drain whatever the dead stream still had, then resume on replica 2
    while let Ok(Ok(Some(ev))) = tokio::time::timeout(Duration::from_secs(2), w.message()).await {
        let rv: i64 = ev.resource_version.parse().unwrap();
        assert!(rv > last_rv);
        last_rv = rv;
        let o: Value = serde_json::from_slice(&ev.object).unwrap();
        assert!(seen.insert(o["metadata"]["name"].as_str().unwrap().to_string(), rv).is_none(), "duplicate event");
    }
    let mut c2 = client(&urls[2]).await;
    let mut w2 = loop {
        match c2
            .watch(WatchRequest { r#ref: cm_ref(""), resource_version: last_rv.to_string(), ..Default::default() })
            .await
        {
            Ok(s) => break s.into_inner(),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    while seen.len() < total {
        let ev =
            tokio::time::timeout(Duration::from_secs(30), w2.message()).await.expect("watch stalled").unwrap().unwrap();
        let rv: i64 = ev.resource_version.parse().unwrap();
        assert!(rv > last_rv, "resumed events continue in order");
        last_rv = rv;
        let o: Value = serde_json::from_slice(&ev.object).unwrap();
        assert!(
            seen.insert(o["metadata"]["name"].as_str().unwrap().to_string(), rv).is_none(),
            "duplicate event after resume"
        );
    }
    writer_task.await.unwrap();
    let names: Vec<String> = (0..total).map(|i| format!("w{i}")).collect();
    assert_eq!(seen.keys().cloned().collect::<std::collections::BTreeSet<_>>(), names.into_iter().collect());

    // delete through the surviving replica
    let d = c2.delete(DeleteRequest { r#ref: cm_ref("g1"), ..Default::default() }).await.unwrap().into_inner();
    let d: Value = serde_json::from_slice(&d.object).unwrap();
    assert_eq!(d["metadata"]["name"], "g1");
    let e = c2.get(GetRequest { r#ref: cm_ref("g1"), ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
}
