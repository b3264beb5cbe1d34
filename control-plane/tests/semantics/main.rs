//! API semantics over REST against a 3-replica cluster started as `up`
//! starts it: graceful pod deletion, generateName, paging with continue
//! tokens, status subresource, watch bookmarks, 410 Expired after
//! compaction, Service IP allocation and release, terminating namespaces.

#[path = "../common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let merge = method == "PATCH_MERGE";
        let method = if merge { "PATCH" } else { method };
        let mut r = self.http.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(b) = body {
            let ct = if merge { "application/merge-patch+json" } else { "application/json" };
            r = r.header("Content-Type", ct).body(serde_json::to_vec(&b).unwrap());
        }
        let resp = r.send().await.unwrap();
        let code = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (code, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (code, v) = self.send(method, path, body).await;
        assert!((200..300).contains(&code), "{method} {path}: {code} {v}");
        v
    }
}

fn pod(name: &str, node: Option<&str>) -> Value {
    let mut p = json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    if let Some(n) = node {
        p["spec"]["nodeName"] = json!(n);
    }
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_semantics() {
    let (_tmp, dir, _up) = start_cluster().await;
    let reps = replicas(&dir);
    let api = Api { http: reqwest::Client::new(), base: reps[2]["api_url"].as_str().unwrap().to_string() };
    let pods = "/api/v1/namespaces/default/pods";
    let cms = "/api/v1/namespaces/default/configmaps";

    // graceful deletion of a bound pod; immediate for an unscheduled one
    api.ok("POST", pods, Some(pod("bound", Some("node-a")))).await;
    let marked = api.ok("DELETE", &format!("{pods}/bound"), None).await;
    assert!(marked["metadata"]["deletionTimestamp"].is_string(), "{marked}");
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 30);
    api.ok("GET", &format!("{pods}/bound"), None).await;
    // writes during the grace period (status from the node, labels) keep it
    api.ok("PATCH_MERGE", &format!("{pods}/bound"), Some(json!({"metadata": {"labels": {"x": "y"}}}))).await;
    api.ok("GET", &format!("{pods}/bound"), None).await;
    api.ok("DELETE", &format!("{pods}/bound?gracePeriodSeconds=0"), None).await;
    assert_eq!(api.send("GET", &format!("{pods}/bound"), None).await.0, 404);
    api.ok("POST", pods, Some(pod("loose", None))).await;
    api.ok("DELETE", &format!("{pods}/loose"), None).await;
    assert_eq!(api.send("GET", &format!("{pods}/loose"), None).await.0, 404);

    // generateName
    let made = api.ok("POST", cms, Some(json!({"metadata": {"generateName": "gen-"}}))).await;
    let name = made["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    // paging: every object exactly once, all pages at the first page's revision
    for i in 0..7 {
        api.ok("POST", cms, Some(json!({"metadata": {"name": format!("page-{i}"), "labels": {"paged": "yes"}}}))).await;
    }
    let mut names = Vec::new();
    let mut token = String::new();
    let mut rvs = Vec::new();
    loop {
        let q = if token.is_empty() { String::new() } else { format!("&continue={token}") };
        let page = api.ok("GET", &format!("{cms}?limit=3&labelSelector=paged%3Dyes{q}"), None).await;
        rvs.push(page["metadata"]["resourceVersion"].as_str().unwrap().to_string());
        names.extend(
            page["items"].as_array().unwrap().iter().map(|o| o["metadata"]["name"].as_str().unwrap().to_string()),
        );
        if token.is_empty() {
            // a write between pages is not seen by the later pages
            api.ok("POST", cms, Some(json!({"metadata": {"name": "page-late", "labels": {"paged": "yes"}}}))).await;
        }
        match page["metadata"]["continue"].as_str() {
            Some(t) => token = t.to_string(),
            None => break,
        }
    }
    assert_eq!(names, (0..7).map(|i| format!("page-{i}")).collect::<Vec<_>>());
    assert!(rvs.windows(2).all(|w| w[0] == w[1]), "{rvs:?}");

    // status subresource: the main resource ignores status, /status changes only status
    let dep = json!({"metadata": {"name": "st"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
    let deps = "/apis/apps/v1/namespaces/default/deployments";
    api.ok("POST", deps, Some(dep)).await;
    // (the leader's Deployment controller writes the status meanwhile: a
    // stale PUT gets 409, so read again and retry, as clients do)
    let put_fresh = |path: String, change: fn(&mut Value)| {
        let api = &api;
        async move {
            for _ in 0..50 {
                let mut cur = api.ok("GET", &format!("{deps}/st"), None).await;
                change(&mut cur);
                match api.send("PUT", &path, Some(cur)).await {
                    (409, _) => continue,
                    (200, v) => return v,
                    (code, v) => panic!("PUT {path}: {code} {v}"),
                }
            }
            panic!("PUT {path} kept conflicting");
        }
    };
    let d2 = put_fresh(format!("{deps}/st"), |d| d["status"] = json!({"replicas": 5})).await;
    assert_ne!(d2["status"]["replicas"].as_i64(), Some(5), "the main resource ignores status: {d2}");
    let s2 = put_fresh(format!("{deps}/st/status"), |s| {
        s["status"] = json!({"replicas": 7, "observedGeneration": 1});
        s["spec"]["replicas"] = json!(9);
    })
    .await;
    assert_eq!((s2["status"]["replicas"].as_i64(), s2["spec"]["replicas"].as_i64()), (Some(7), Some(1)));
    let sc = api.ok("GET", &format!("{deps}/st/scale"), None).await;
    assert_eq!((sc["kind"].as_str(), sc["status"]["selector"].as_str()), (Some("Scale"), Some("a=b")));

    // Service IPs: allocated in 10.96.0.0/12, unique, a taken one refused, released on delete
    let svcs = "/api/v1/namespaces/default/services";
    let svc = |n: &str, ip: Option<&str>| {
        let mut s = json!({"metadata": {"name": n}, "spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80}]}});
        if let Some(ip) = ip {
            s["spec"]["clusterIP"] = json!(ip);
        }
        s
    };
    let a = api.ok("POST", svcs, Some(svc("sa", None))).await;
    let ip = a["spec"]["clusterIP"].as_str().unwrap().to_string();
    assert!(
        ip.starts_with("10.")
            && a["spec"]["ports"][0]["nodePort"].as_u64().is_some_and(|p| (30000..=32767).contains(&p)),
        "{a}"
    );
    let (code, st) = api.send("POST", svcs, Some(svc("sb", Some(&ip)))).await;
    assert_eq!(code, 422, "{st}");
    api.ok("DELETE", &format!("{svcs}/sa"), None).await;
    let b = api.ok("POST", svcs, Some(svc("sb", Some(&ip)))).await;
    assert_eq!(b["spec"]["clusterIP"], ip.as_str(), "a deleted Service's IP is free again");
    // updates reserve and release node ports in the same transaction
    let b_port = b["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    let c = api.ok("POST", svcs, Some(svc("sc", None))).await;
    let mut steal = c.clone();
    steal["spec"]["ports"][0]["nodePort"] = json!(b_port);
    let (code, st) = api.send("PUT", &format!("{svcs}/sc"), Some(steal)).await;
    assert_eq!(code, 422, "a node port held by another Service: {st}");
    let mut to_cip = b.clone();
    to_cip["spec"]["type"] = json!("ClusterIP");
    to_cip["spec"]["ports"][0].as_object_mut().unwrap().remove("nodePort");
    let cip = api.ok("PUT", &format!("{svcs}/sb"), Some(to_cip)).await;
    assert!(cip["spec"]["ports"][0]["nodePort"].is_null(), "{cip}");
    let mut take = c.clone();
    take["spec"]["ports"][0]["nodePort"] = json!(b_port);
    let taken = api.ok("PUT", &format!("{svcs}/sc"), Some(take)).await;
    assert_eq!(taken["spec"]["ports"][0]["nodePort"], b_port, "a released node port is free again");
    assert_eq!(api.send("DELETE", &format!("{deps}/st/scale"), None).await.0, 405);

    // terminating namespace: creates are refused with 403
    api.ok("POST", "/api/v1/namespaces", Some(json!({"metadata": {"name": "held"}}))).await;
    api.ok(
        "POST",
        "/api/v1/namespaces/held/configmaps",
        Some(json!({"metadata": {"name": "x", "finalizers": ["example.com/x"]}})),
    )
    .await;
    api.ok("DELETE", "/api/v1/namespaces/held", None).await;
    let (code, st) =
        api.send("POST", "/api/v1/namespaces/held/configmaps", Some(json!({"metadata": {"name": "y"}}))).await;
    assert_eq!(code, 403, "{st}");
    assert!(st["message"].as_str().unwrap().contains("being terminated"), "{st}");

    // bookmarks on an idle watch
    let rv = api.ok("GET", cms, None).await["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let resp = api
        .http
        .get(format!("{}{cms}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=25", api.base))
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let mut body = resp;
    let mut buf = Vec::new();
    let bookmark = loop {
        assert!(started.elapsed() < Duration::from_secs(25), "no bookmark on an idle watch");
        let Some(chunk) = tokio::time::timeout(Duration::from_secs(25), body.chunk()).await.unwrap().unwrap() else {
            panic!("watch ended")
        };
        buf.extend_from_slice(&chunk);
        if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let ev: Value = serde_json::from_slice(&buf[..pos]).unwrap();
            break ev;
        }
    };
    assert_eq!(bookmark["type"], "BOOKMARK", "{bookmark}");
    assert!(
        bookmark["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse::<i64>().unwrap()
            >= rv.parse::<i64>().unwrap()
    );

    // compaction: a watch or exact list from before it gets 410 Expired
    let old_rv = rv.parse::<i64>().unwrap() - 5;
    api.ok("POST", cms, Some(json!({"metadata": {"name": "after-compact"}}))).await;
    let now_rv = api.ok("GET", cms, None).await["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let eps: Vec<String> = reps
        .iter()
        .map(|r| r["store_client_url"].as_str().unwrap().trim_start_matches("http://").to_string())
        .collect();
    let (ok, out) = etcdctl(&eps.join(","), &["compact", &now_rv]);
    assert!(ok, "{out}");
    let text = api
        .http
        .get(format!("{}{cms}?watch=true&resourceVersion={old_rv}", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ev: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        (ev["type"].as_str(), ev["object"]["code"].as_i64(), ev["object"]["reason"].as_str()),
        (Some("ERROR"), Some(410), Some("Expired")),
        "{ev}"
    );
    let (code, st) = api.send("GET", &format!("{cms}?resourceVersion={old_rv}&resourceVersionMatch=Exact"), None).await;
    assert_eq!(code, 410, "{st}");
}
