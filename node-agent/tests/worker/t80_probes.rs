use std::time::Duration;

use crate::common::*;
use k8s_openapi::api::core::v1::{ExecAction, Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn exec_probe(cmd: &str, period: i32, failure: i32) -> Probe {
    Probe {
        exec: Some(ExecAction { command: Some(vec![cmd.into()]) }),
        period_seconds: Some(period),
        failure_threshold: Some(failure),
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn failing_liveness_restarts_the_container() {
    let mut h = Harness::new();
    let mut c = container("app", "nginx:1");
    c.liveness_probe = Some(exec_probe("false", 5, 3));
    let p = pod("live", "Always", vec![c]);
    let _w = h.spawn(&p);
    let first = h.must_status(&uid(&p), |s| phase(s) == "Running").await;
    let id0 = first.container_statuses.as_ref().unwrap()[0].container_id.clone();
    let e = h.must_event("Unhealthy", "").await;
    assert_eq!(e.message, r#"Liveness probe failed: command ["false"] exited with 1"#);
    assert_eq!(e.type_, "Warning");
    assert_eq!(e.field_path.as_deref(), Some("spec.containers{app}"));
    h.must_event("Killing", "Container app failed liveness probe, will be restarted").await;
    assert_eq!(h.events("Unhealthy").len(), 3, "failureThreshold failures before the kill");
    let s = h
        .must_status(&uid(&p), |s| {
            restarts(s, 0) == 1 && s.container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().running.is_some()
        })
        .await;
    assert_ne!(s.container_statuses.as_ref().unwrap()[0].container_id, id0, "a new container");
    let last = s.container_statuses.as_ref().unwrap()[0].last_state.clone().unwrap().terminated.unwrap();
    assert_eq!(last.exit_code, 143);
}

#[tokio::test(start_paused = true)]
async fn passing_exec_readiness_makes_the_pod_ready() {
    let mut h = Harness::new();
    let mut c = container("app", "nginx:1");
    let mut probe = exec_probe("true", 10, 3);
    probe.initial_delay_seconds = Some(5);
    c.readiness_probe = Some(probe);
    let p = pod("ready", "Always", vec![c]);
    let _w = h.spawn(&p);
    let s = h.must_status(&uid(&p), |s| phase(s) == "Running").await;
    assert_eq!(condition(&s, "Ready"), "False", "not ready before the first probe");
    let t0 = tokio::time::Instant::now();
    h.must_status(&uid(&p), |s| condition(s, "Ready") == "True").await;
    assert!(t0.elapsed() >= Duration::from_secs(5), "initialDelaySeconds");
}

#[tokio::test]
async fn tcp_readiness_flips_ready_both_ways() {
    let mut h = Harness::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut c = container("app", "nginx:1");
    c.readiness_probe = Some(Probe {
        tcp_socket: Some(TCPSocketAction { host: Some("127.0.0.1".into()), port: IntOrString::Int(port.into()) }),
        period_seconds: Some(1),
        failure_threshold: Some(1),
        ..Default::default()
    });
    let p = pod("tcp", "Always", vec![c]);
    let _w = h.spawn(&p);
    let wait = Duration::from_secs(20);
    tokio::time::timeout(wait, h.must_status(&uid(&p), |s| condition(s, "Ready") == "True")).await.unwrap();
    drop(listener);
    let s = tokio::time::timeout(wait, h.must_status(&uid(&p), |s| condition(s, "Ready") == "False")).await.unwrap();
    assert!(!s.container_statuses.as_ref().unwrap()[0].ready);
    assert_eq!(phase(&s), "Running");
    assert!(!h.events("Unhealthy").is_empty());
}
