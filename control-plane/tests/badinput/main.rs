//! Bad input over REST against a 3-replica cluster started as `up` starts
//! it: every case gets a 4xx Kubernetes `Status` and nothing is written (the
//! store revision a list reports is unchanged afterwards).

#[path = "../common/mod.rs"]
mod common;

use common::*;
use serde_json::{json, Value};

struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    code: u16,
}

fn case(
    what: &'static str,
    method: &'static str,
    path: &str,
    content_type: &'static str,
    body: impl Into<Vec<u8>>,
    code: u16,
) -> Case {
    Case { what, method, path: path.to_string(), content_type, body: body.into(), code }
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
}

/// What the bad requests target: the ConfigMaps (name, resourceVersion) and
/// the Deployments (name, generation, spec) of `default`, and anything in
/// namespace `nope`. (Not the store revision: the leader's controllers write
/// in the background — the Deployment's ReplicaSet, pod and status.)
async fn revision(http: &reqwest::Client, api: &str) -> String {
    let list = |path: &'static str| {
        let (http, api) = (http.clone(), api.to_string());
        async move {
            let v: Value = http.get(format!("{api}{path}")).send().await.unwrap().json().await.unwrap();
            v["items"].as_array().cloned().unwrap_or_default()
        }
    };
    let cms: Vec<(Value, Value)> = list("/api/v1/namespaces/default/configmaps")
        .await
        .into_iter()
        .map(|c| (c["metadata"]["name"].clone(), c["metadata"]["resourceVersion"].clone()))
        .collect();
    let deps: Vec<(Value, Value, Value)> = list("/apis/apps/v1/namespaces/default/deployments")
        .await
        .into_iter()
        .map(|d| (d["metadata"]["name"].clone(), d["metadata"]["generation"].clone(), d["spec"].clone()))
        .collect();
    let nope = list("/api/v1/namespaces/nope/configmaps").await;
    format!("{cms:?} {deps:?} {nope:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_status_and_writes_nothing() {
    let (_tmp, dir, _up) = start_cluster().await;
    let api = replicas(&dir)[1]["api_url"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let cms = "/api/v1/namespaces/default/configmaps";
    let deps = "/apis/apps/v1/namespaces/default/deployments";

    // objects whose immutable fields the cases try to change
    let post = |path: &str, body: Value| {
        let http = http.clone();
        let url = format!("{api}{path}");
        async move {
            let r = http.post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201, "{:?}", r.text().await);
        }
    };
    post(deps, deployment("fixed", 1)).await;
    post(cms, json!({"metadata": {"name": "frozen"}, "immutable": true, "data": {"a": "1"}})).await;
    let before = revision(&http, &api).await;

    let mut nested = String::new();
    for _ in 0..2000 {
        nested.push_str("{\"a\":");
    }
    nested.push('1');
    for _ in 0..2000 {
        nested.push('}');
    }
    let big = json!({"metadata": {"name": "big"}, "data": {"x": "y".repeat(4 << 20)}}).to_string();
    let mut moved = deployment("fixed", 1);
    moved["spec"]["selector"]["matchLabels"]["app"] = json!("y");
    moved["spec"]["template"]["metadata"]["labels"]["app"] = json!("y");
    let cases = vec![
        case("malformed JSON", "POST", cms, "application/json", "{\"metadata\": {", 400),
        case("malformed YAML", "POST", cms, "application/yaml", "metadata: [unclosed\n  name: x", 400),
        case("not an object", "POST", cms, "application/json", "[1,2,3]", 400),
        case(
            "wrong kind for the path",
            "POST",
            cms,
            "application/json",
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}"#,
            400,
        ),
        case(
            "wrong type of a field",
            "POST",
            cms,
            "application/json",
            r#"{"metadata":{"name":"t"},"data":{"a":5}}"#,
            400,
        ),
        case("invalid name", "POST", cms, "application/json", r#"{"metadata":{"name":"Not_Valid"}}"#, 422),
        case("missing name", "POST", cms, "application/json", r#"{"metadata":{}}"#, 422),
        case("negative replicas", "POST", deps, "application/json", deployment("neg", -1).to_string(), 422),
        case(
            "selector does not match the template",
            "POST",
            deps,
            "application/json",
            {
                let mut d = deployment("sel", 1);
                d["spec"]["selector"]["matchLabels"]["app"] = json!("other");
                d.to_string()
            },
            422,
        ),
        case(
            "unknown field under Strict",
            "POST",
            &format!("{cms}?fieldValidation=Strict"),
            "application/json",
            r#"{"metadata":{"name":"u"},"dataa":{}}"#,
            400,
        ),
        case("4 MiB body", "POST", cms, "application/json", big, 413),
        case("deeply nested JSON", "POST", cms, "application/json", nested, 400),
        case(
            "protobuf garbage",
            "POST",
            cms,
            "application/vnd.kubernetes.protobuf",
            b"k8s\0\x0a\xff\xff".to_vec(),
            415,
        ),
        case("unknown content type", "POST", cms, "text/plain", "hello", 415),
        case("invalid label selector", "GET", &format!("{cms}?labelSelector=a%20in%20((b"), "", "", 400),
        case("unknown field selector", "GET", &format!("{cms}?fieldSelector=spec.nope%3D1"), "", "", 400),
        case("bad resourceVersion", "GET", &format!("{cms}?resourceVersion=abc"), "", "", 400),
        case(
            "merge patch not an object",
            "PATCH",
            &format!("{cms}/frozen"),
            "application/merge-patch+json",
            "[1]",
            400,
        ),
        case(
            "JSON patch with an unknown op",
            "PATCH",
            &format!("{deps}/fixed"),
            "application/json-patch+json",
            r#"[{"op":"frobnicate","path":"/spec"}]"#,
            400,
        ),
        case(
            "JSON patch test that fails",
            "PATCH",
            &format!("{deps}/fixed"),
            "application/json-patch+json",
            r#"[{"op":"test","path":"/spec/replicas","value":7}]"#,
            422,
        ),
        case(
            "strategic patch with a bad directive",
            "PATCH",
            &format!("{deps}/fixed"),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"$patch":"explode"}}"#,
            400,
        ),
        case(
            "strategic patch element without its key",
            "PATCH",
            &format!("{deps}/fixed"),
            "application/strategic-merge-patch+json",
            r#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#,
            400,
        ),
        case("patch of an unknown content type", "PATCH", &format!("{deps}/fixed"), "application/json", "{}", 415),
        case(
            "negative replicas by patch",
            "PATCH",
            &format!("{deps}/fixed"),
            "application/merge-patch+json",
            r#"{"spec":{"replicas":-3}}"#,
            422,
        ),
        case("immutable selector", "PUT", &format!("{deps}/fixed"), "application/json", moved.to_string(), 422),
        case(
            "immutable ConfigMap data",
            "PATCH",
            &format!("{cms}/frozen"),
            "application/merge-patch+json",
            r#"{"data":{"a":"2"}}"#,
            422,
        ),
        case(
            "name in body differs from the URL",
            "PUT",
            &format!("{cms}/frozen"),
            "application/json",
            r#"{"metadata":{"name":"other"}}"#,
            400,
        ),
        case(
            "object in a missing namespace",
            "POST",
            "/api/v1/namespaces/nope/configmaps",
            "application/json",
            r#"{"metadata":{"name":"x"}}"#,
            404,
        ),
        case("unknown resource", "GET", "/api/v1/namespaces/default/widgets", "", "", 404),
    ];
    for c in cases {
        let mut req = http.request(c.method.parse().unwrap(), format!("{api}{}", c.path)).body(c.body.clone());
        if !c.content_type.is_empty() {
            req = req.header("Content-Type", c.content_type);
        }
        let r = req.send().await.unwrap();
        let code = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(code, c.code, "{}: {text}", c.what);
        let st: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{}: not a Status: {text}", c.what));
        assert_eq!(st["kind"], "Status", "{}: {text}", c.what);
        assert_eq!(st["code"], c.code, "{}: {text}", c.what);
        assert!(st["reason"].as_str().is_some_and(|r| !r.is_empty()), "{}: {text}", c.what);
        assert!(st["message"].as_str().is_some_and(|m| m.len() > 10), "{}: {text}", c.what);
    }
    assert_eq!(revision(&http, &api).await, before, "a rejected request wrote something");
}
