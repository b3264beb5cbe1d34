//! The real kubectl (fresh `--cache-dir`) against a 3-replica cluster
//! started as `control-plane up` starts it: apply (client- and server-side),
//! get in every output form, watch, describe, label/annotate/patch/scale,
//! finalizers, imperative creates, explain. Compares kubectl's printed
//! output, not only its exit status.

#[path = "../common/mod.rs"]
mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const MANIFEST: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: demo
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: c
        image: busybox:IMAGE
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"#;

fn write_manifest(dir: &Path, image: &str) -> std::path::PathBuf {
    let p = dir.join(format!("manifest-{image}.yaml"));
    std::fs::write(&p, MANIFEST.replace("IMAGE", image)).unwrap();
    p
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = kubectl(dir, args);
    assert!(ok, "kubectl {args:?} failed: {out}{err}");
    out
}

/// Header words of a kubectl table.
fn header(out: &str) -> Vec<String> {
    out.lines().next().unwrap_or("").split_whitespace().map(str::to_string).collect()
}

/// The row starting with `name`, split on whitespace.
fn row(out: &str, name: &str) -> Vec<String> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in:\n{out}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn kubectl_drives_the_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let base = port_base();
    let _up = start_up(&dir, base + 24, base);

    // apply a manifest (client-side): everything is created
    let m1 = write_manifest(tmp.path(), "1.36");
    let out = ok(&dir, &["apply", "-f", m1.to_str().unwrap()]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "namespace/demo created",
            "configmap/web-config created",
            "deployment.apps/web created",
            "service/web created"
        ]
    );

    // get in the usual forms
    let out = ok(&dir, &["get", "deploy", "-n", "demo"]);
    assert_eq!(header(&out), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    // no nodes: the controllers create the pods, none can run
    assert_eq!(&row(&out, "web")[..2], ["web", "0/2"]);
    assert!(["0", "2"].contains(&row(&out, "web")[2].as_str()), "{out}");
    assert_eq!(row(&out, "web")[3], "0");
    let out = ok(&dir, &["get", "deploy", "-n", "demo", "-o", "wide"]);
    assert_eq!(header(&out), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    assert_eq!(&row(&out, "web")[5..], ["c", "busybox:1.36", "app=web"]);
    let out = ok(&dir, &["get", "svc", "-n", "demo"]);
    assert_eq!(header(&out), ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    assert_eq!(row(&out, "web")[1], "ClusterIP");
    let ip = row(&out, "web")[2].clone();
    assert!(ip.starts_with("10.") && ip.split('.').count() == 4, "a cluster IP from 10.96.0.0/12: {ip}");
    assert_eq!(row(&out, "web")[4], "80/TCP");
    let (okk, out, err) = kubectl(&dir, &["get", "pods", "-n", "demo"]);
    let pending = out.lines().skip(1).all(|l| l.starts_with("web-") && l.contains("Pending"));
    assert!(okk && (pending || err.contains("No resources found in demo namespace.")), "{out}{err}");
    let (okk, out, err) = kubectl(&dir, &["get", "nodes"]);
    assert!(okk && out.is_empty() && err.contains("No resources found"), "{out}{err}");
    let out = ok(&dir, &["get", "all", "-n", "demo"]);
    assert!(out.contains("service/web") && out.contains("deployment.apps/web"), "{out}");
    let out = ok(&dir, &["get", "deploy", "-A"]);
    assert_eq!(header(&out)[..2], ["NAMESPACE", "NAME"]);
    assert_eq!(&row(&out, "demo")[..3], ["demo", "web", "0/2"]);
    let out = ok(&dir, &["get", "deploy", "web", "-n", "demo", "-o", "json"]);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate", "defaults are applied");
    assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(d["metadata"]["uid"].as_str().unwrap().len(), 36);
    assert!(d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string());
    let out = ok(&dir, &["get", "cm", "web-config", "-n", "demo", "-o", "yaml"]);
    assert!(out.contains("greeting: hello") && out.contains("kind: ConfigMap"), "{out}");
    let out = ok(&dir, &["get", "deploy,svc", "-n", "demo", "-l", "app=web", "-o", "name"]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["deployment.apps/web"]);
    let out = ok(&dir, &["get", "cm", "-n", "demo", "--field-selector", "metadata.name=web-config", "-o", "name"]);
    assert_eq!(out.trim(), "configmap/web-config");
    let (okk, _, err) = kubectl(&dir, &["get", "cm", "-n", "demo", "--field-selector", "spec.nope=1"]);
    assert!(!okk && err.contains("spec.nope"), "{err}");

    // version skew: kubectl 1.31 and 1.33 read and apply too
    let dispatcher = std::fs::canonicalize(
        String::from_utf8(Command::new("sh").args(["-c", "command -v kubectl"]).output().unwrap().stdout)
            .unwrap()
            .trim(),
    )
    .unwrap();
    for v in ["1.31", "1.33"] {
        let bin = dispatcher.parent().unwrap().join(format!("kubectl.{v}"));
        let run = |args: &[&str]| {
            let o = Command::new(&bin)
                .arg("--kubeconfig")
                .arg(dir.join("kubeconfig"))
                .arg("--cache-dir")
                .arg(dir.join(format!("kcache-{v}")))
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
            assert!(o.status.success(), "kubectl {v} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8_lossy(&o.stdout).into_owned()
        };
        assert_eq!(&row(&run(&["get", "deploy", "-n", "demo"]), "web")[..2], ["web", "0/2"], "kubectl {v}");
        let out = run(&["apply", "-f", m1.to_str().unwrap()]);
        assert!(out.contains("deployment.apps/web unchanged"), "kubectl {v}: {out}");
    }

    // re-apply with a changed image (client-side): configured, generation bumps
    let m2 = write_manifest(tmp.path(), "1.37");
    let out = ok(&dir, &["apply", "-f", m2.to_str().unwrap()]);
    assert!(out.contains("deployment.apps/web configured") && out.contains("configmap/web-config unchanged"), "{out}");
    let out = ok(
        &dir,
        &[
            "get",
            "deploy",
            "web",
            "-n",
            "demo",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}",
        ],
    );
    assert_eq!(out, "busybox:1.37 2");

    // server-side apply: a conflict with the client-side manager unless forced
    let m3 = write_manifest(tmp.path(), "1.38");
    let (okk, _, err) = kubectl(&dir, &["apply", "--server-side", "-f", m3.to_str().unwrap()]);
    assert!(!okk && err.contains("conflict"), "{err}");
    let out = ok(&dir, &["apply", "--server-side", "--force-conflicts", "-f", m3.to_str().unwrap()]);
    assert!(out.contains("deployment.apps/web serverside-applied"), "{out}");
    let out =
        ok(&dir, &["get", "deploy", "web", "-n", "demo", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
    assert_eq!(out, "busybox:1.38");
    let out = ok(&dir, &["get", "deploy", "web", "-n", "demo", "-o", "jsonpath={.metadata.managedFields[*].manager}"]);
    assert!(out.contains("kubectl"), "managedFields name the server-side manager: {out}");

    // get -w prints later changes
    let mut watch = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .arg("--cache-dir")
        .arg(dir.join("kcache"))
        .args(["get", "cm", "-n", "demo", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wout = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(wout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(20)).expect("get -w printed nothing");
    assert_eq!(first.split_whitespace().collect::<Vec<_>>(), ["NAME", "DATA", "AGE"]);
    let _ = rx.recv_timeout(Duration::from_secs(20)).expect("get -w did not list web-config");
    ok(&dir, &["create", "configmap", "later", "-n", "demo", "--from-literal=a=1", "--from-literal=b=2"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while Instant::now() < deadline && !seen.starts_with("later") {
        seen = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    }
    assert_eq!(seen.split_whitespace().take(2).collect::<Vec<_>>(), ["later", "2"], "get -w shows the new object");
    let _ = watch.kill();
    let _ = watch.wait();

    // describe
    let out = ok(&dir, &["describe", "deployment", "web", "-n", "demo"]);
    assert!(
        out.contains("Name:") && out.contains("web") && out.contains("Replicas:") && out.contains("busybox:1.38"),
        "{out}"
    );

    // label, annotate, patch (strategic, merge, json), scale
    let out = ok(&dir, &["label", "deploy", "web", "-n", "demo", "tier=front"]);
    assert_eq!(out.trim(), "deployment.apps/web labeled");
    let out = ok(&dir, &["annotate", "deploy", "web", "-n", "demo", "note=hi"]);
    assert_eq!(out.trim(), "deployment.apps/web annotated");
    let out = ok(
        &dir,
        &[
            "patch",
            "deploy",
            "web",
            "-n",
            "demo",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"}]}]}}}}"#,
        ],
    );
    assert_eq!(out.trim(), "deployment.apps/web patched");
    ok(&dir, &["patch", "deploy", "web", "-n", "demo", "--type", "merge", "-p", r#"{"spec":{"minReadySeconds":3}}"#]);
    ok(
        &dir,
        &[
            "patch",
            "deploy",
            "web",
            "-n",
            "demo",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/revisionHistoryLimit","value":4}]"#,
        ],
    );
    let out = ok(&dir, &["scale", "deploy", "web", "-n", "demo", "--replicas=5"]);
    assert_eq!(out.trim(), "deployment.apps/web scaled");
    let out = ok(&dir, &["get", "deploy", "web", "-n", "demo", "-o", "json"]);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["metadata"]["labels"]["tier"], "front");
    assert_eq!(d["metadata"]["annotations"]["note"], "hi");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        (c["image"].as_str(), c["env"][0]["name"].as_str()),
        (Some("busybox:1.38"), Some("A")),
        "strategic merge kept the image"
    );
    assert_eq!((d["spec"]["minReadySeconds"].as_i64(), d["spec"]["revisionHistoryLimit"].as_i64()), (Some(3), Some(4)));
    assert_eq!(d["spec"]["replicas"], 5);
    let (okk, _, err) =
        kubectl(&dir, &["patch", "deploy", "web", "-n", "demo", "--type", "json", "-p", r#"[{"op":"nope"}]"#]);
    assert!(!okk && !err.is_empty());

    // finalizers: delete marks, clearing the finalizer removes
    let cm = tmp.path().join("fin.yaml");
    std::fs::write(&cm, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: demo\n  finalizers: [example.com/hold]\n").unwrap();
    ok(&dir, &["apply", "-f", cm.to_str().unwrap()]);
    let out = ok(&dir, &["delete", "cm", "held", "-n", "demo", "--wait=false"]);
    assert_eq!(out.trim(), "configmap \"held\" deleted");
    let out = ok(&dir, &["get", "cm", "held", "-n", "demo", "-o", "jsonpath={.metadata.deletionTimestamp}"]);
    assert!(!out.is_empty(), "the object is only marked while a finalizer is pending");
    ok(&dir, &["patch", "cm", "held", "-n", "demo", "--type", "merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
    let (okk, _, err) = kubectl(&dir, &["get", "cm", "held", "-n", "demo"]);
    assert!(!okk && err.contains("not found"), "{err}");

    // delete -f removes everything; the namespace goes last
    // (the namespace is first in the file; its teardown may remove the rest
    // before kubectl gets to them, as in Kubernetes, hence --ignore-not-found)
    let out = ok(&dir, &["delete", "-f", m3.to_str().unwrap(), "--timeout=60s", "--ignore-not-found"]);
    assert!(out.contains("namespace \"demo\" deleted"), "{out}");
    let (okk, _, err) = kubectl(&dir, &["get", "ns", "demo"]);
    assert!(!okk && err.contains("not found"), "{err}");
    // the deleted Service's cluster IP reservation went with it
    let eps: Vec<String> = replicas(&dir)
        .iter()
        .map(|r| r["store_client_url"].as_str().unwrap().trim_start_matches("http://").to_string())
        .collect();
    let (okk, out) = etcdctl(&eps.join(","), &["get", "--prefix", "--keys-only", "/registry/core/serviceips/"]);
    assert!(okk && out.trim().is_empty(), "reservations left behind: {out}");

    // imperative creates and explain
    let out = ok(&dir, &["create", "namespace", "made"]);
    assert_eq!(out.trim(), "namespace/made created");
    let out = ok(&dir, &["create", "configmap", "lit", "-n", "made", "--from-literal=k=v"]);
    assert_eq!(out.trim(), "configmap/lit created");
    let out = ok(&dir, &["get", "cm", "lit", "-n", "made", "-o", "jsonpath={.data.k}"]);
    assert_eq!(out, "v");
    let out = ok(&dir, &["explain", "deployment.spec.replicas"]);
    assert!(out.contains("replicas") && out.contains("integer"), "{out}");
    let _ = std::io::stdout().flush();
}
