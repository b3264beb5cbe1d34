use std::time::Duration;

use crate::common::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use node_agent::pod::Report;

#[tokio::test(start_paused = true)]
async fn graceful_deletion_reports_terminated() {
    let mut h = Harness::new();
    let mut p = pod("del", "Always", vec![container("a", "nginx:1"), container("b", "nginx:1")]);
    p.spec.as_mut().unwrap().volumes = Some(vec![k8s_openapi::api::core::v1::Volume {
        name: "scratch".into(),
        empty_dir: Some(Default::default()),
        ..Default::default()
    }]);
    let w = h.spawn(&p);
    h.must_status(&uid(&p), |s| phase(s) == "Running").await;
    assert!(h.tmp.path().join("pods/uid-del/volumes/scratch").is_dir());
    let mut deleted = p.clone();
    deleted.metadata.deletion_timestamp = Some(Time(chrono::Utc::now()));
    deleted.metadata.deletion_grace_period_seconds = Some(5);
    w.update(deleted);
    let s = h.must_terminated(&uid(&p)).await;
    let killing = h.events("Killing");
    assert_eq!(killing.len(), 2);
    assert!(killing.iter().any(|e| e.message == "Stopping container a"));
    for c in s.container_statuses.as_ref().unwrap() {
        let t = c.state.as_ref().unwrap().terminated.as_ref().expect("terminated");
        assert_eq!(t.exit_code, 143);
    }
    assert_eq!(phase(&s), "Failed");
    assert!(h.containers_of(&uid(&p)).await.is_empty(), "containers removed");
    assert!(!h.tmp.path().join("pods/uid-del").exists(), "volumes removed");
    h.must_eventually("worker end", || w.is_finished()).await;
}

#[tokio::test(start_paused = true)]
async fn remove_stops_everything_silently() {
    let mut h = Harness::new();
    let p = pod("gone", "Always", vec![container("a", "nginx:1")]);
    let w = h.spawn(&p);
    h.must_status(&uid(&p), |s| phase(s) == "Running").await;
    w.remove();
    h.must_eventually("worker end", || w.is_finished()).await;
    assert!(h.containers_of(&uid(&p)).await.is_empty());
    tokio::time::sleep(Duration::from_millis(1)).await;
    while let Ok(r) = h.rx.try_recv() {
        assert!(!matches!(r, Report::Terminated { .. } | Report::Status { .. }), "no report after remove: {r:?}");
    }
}
