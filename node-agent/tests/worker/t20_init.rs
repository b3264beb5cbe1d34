use crate::common::*;

#[tokio::test(start_paused = true)]
async fn init_containers_run_in_order_before_apps() {
    let mut h = Harness::new();
    let mut p = pod("init", "Always", vec![container("app", "nginx:1")]);
    p.spec.as_mut().unwrap().init_containers =
        Some(vec![container("first", "succeed:1"), container("second", "succeed:2")]);
    let _w = h.spawn(&p);
    let s = h.must_status(&uid(&p), |s| phase(s) == "Running").await;
    let started: Vec<String> = h.events("Started").into_iter().map(|e| e.message).collect();
    assert_eq!(started, ["Started container first", "Started container second", "Started container app"]);
    let init = s.init_container_statuses.as_ref().unwrap();
    for c in init {
        let t = c.state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")));
        assert!(c.ready);
    }
    assert_eq!(condition(&s, "Initialized"), "True");
    // While initializing, the app waited with PodInitializing.
    let during = h.seen.iter().find_map(|r| match r {
        node_agent::pod::Report::Status { status, .. } if condition(status, "Initialized") == "False" => {
            Some(status.clone())
        }
        _ => None,
    });
    assert_eq!(waiting_reason(&during.unwrap(), 0).as_deref(), Some("PodInitializing"));
}

#[tokio::test(start_paused = true)]
async fn failed_init_under_never_fails_the_pod() {
    let mut h = Harness::new();
    let mut p = pod("initfail", "Never", vec![container("app", "nginx:1")]);
    p.spec.as_mut().unwrap().init_containers = Some(vec![container("setup", "fail:1")]);
    let _w = h.spawn(&p);
    let s = h.must_status(&uid(&p), |s| phase(s) == "Failed").await;
    let t = s.init_container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().terminated.clone().unwrap();
    assert_eq!((t.exit_code, t.reason.as_deref()), (1, Some("Error")));
    assert_eq!(waiting_reason(&s, 0).as_deref(), Some("PodInitializing"));
    assert!(h.events("Started").iter().all(|e| !e.message.contains("app")), "app never started");
}

#[tokio::test(start_paused = true)]
async fn failed_init_is_retried_under_always() {
    let mut h = Harness::new();
    let mut p = pod("initretry", "Always", vec![container("app", "nginx:1")]);
    p.spec.as_mut().unwrap().init_containers = Some(vec![container("setup", "fail:1")]);
    let _w = h.spawn(&p);
    let s =
        h.must_status(&uid(&p), |s| s.init_container_statuses.as_ref().is_some_and(|i| i[0].restart_count >= 2)).await;
    assert_eq!(phase(&s), "Pending");
}
