use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::harness::*;

async fn next_line(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("a line in time").expect("read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_whole_and_tail() {
    let c = must_start().await;
    let all = must_run(&c, &["logs", "p"], None).await;
    assert_eq!(all.code, Some(0), "{all:?}");
    assert_eq!(all.stdout, "one\ntwo\nthree\n");

    let tail = must_run(&c, &["logs", "p", "--tail", "2"], None).await;
    assert_eq!(tail.code, Some(0), "{tail:?}");
    assert_eq!(tail.stdout, "two\nthree\n");

    let limited = must_run(&c, &["logs", "p", "--limit-bytes", "6"], None).await;
    assert_eq!(limited.code, Some(0), "{limited:?}");
    assert_eq!(limited.stdout, "one\ntw");

    // A multi-container pod with `-c`.
    let b = must_run(&c, &["logs", "multi", "-c", "b", "--tail", "1"], None).await;
    assert_eq!((b.code, b.stdout.as_str()), (Some(0), "three\n"), "{b:?}");
    must_wait("sessions closed", || c.tunnels.session_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_streams_until_the_client_goes_away() {
    let c = must_start().await;
    let mut child = kubectl(&c, &["logs", "-f", "p"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn kubectl");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("one"));
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("two"));
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("three"));
    // New output reaches the open response.
    must_append(&c.log_file, "four\n");
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("four"));
    assert_eq!(c.runtime.open_log_streams.load(Ordering::SeqCst), 1);
    assert_eq!(c.tunnels.session_count(), 1);

    child.kill().await.expect("kill kubectl");
    // The agent stops reading the log once the client is gone.
    must_wait("log stream dropped", || c.runtime.open_log_streams.load(Ordering::SeqCst) == 0).await;
    must_wait("session closed", || c.tunnels.session_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_errors_from_the_agent_and_from_options() {
    let c = must_start().await;
    let prev = must_run(&c, &["logs", "p", "--previous"], None).await;
    assert_eq!(prev.code, Some(1), "{prev:?}");
    assert!(
        prev.stderr
            .contains(r#"Error from server (BadRequest): previous terminated container "c" in pod "p" not found"#),
        "{prev:?}"
    );

    let url = |q: &str| format!("http://{}/api/v1/namespaces/default/pods/p/log?{q}", c.rest);
    let http = reqwest::Client::new();
    let r = http.get(url("tailLines=-1")).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 422);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(
        body["message"],
        r#"PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"#
    );
    let r = http.get(url("sinceSeconds=soon")).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 400);
    let r = http.get(url("container=zz")).send().await.expect("request");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["message"], "container zz is not valid for pod p");
    let r = http.get(format!("http://{}/api/v1/namespaces/default/pods/multi/log", c.rest)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["message"], "a container name must be specified for pod multi, choose one of: [a b]");
    // A plain GET streams text/plain.
    let r = http.get(url("tailLines=1")).send().await.expect("request");
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.text().await.expect("body"), "three\n");
}
