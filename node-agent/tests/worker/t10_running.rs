use crate::common::*;

#[tokio::test(start_paused = true)]
async fn pod_goes_running_with_status_and_events() {
    let mut h = Harness::new();
    let p = pod("web", "Always", vec![container("nginx", "nginx:1"), container("side", "busybox:1")]);
    let _w = h.spawn(&p);
    let s = h.must_status(&uid(&p), |s| phase(s) == "Running" && condition(s, "Ready") == "True").await;
    assert!(s.pod_ip.as_deref().unwrap().starts_with("10.250."));
    assert_eq!(s.pod_ips.as_ref().unwrap()[0].ip, s.pod_ip.clone().unwrap());
    assert_eq!(s.host_ip.as_deref(), Some("192.168.7.1"));
    assert!(s.start_time.is_some());
    for ty in ["PodReadyToStartContainers", "Initialized", "ContainersReady", "PodScheduled"] {
        assert_eq!(condition(&s, ty), "True", "{ty}");
    }
    let cs = s.container_statuses.as_ref().unwrap();
    assert_eq!(cs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["nginx", "side"]);
    for c in cs {
        assert!(c.ready && c.started == Some(true));
        assert_eq!(c.restart_count, 0);
        assert!(c.container_id.as_deref().unwrap().starts_with("hollow://"));
        assert!(c.image_id.starts_with("sha256:"));
        assert!(c.state.as_ref().unwrap().running.is_some());
    }
    let started = h.events("Started");
    assert_eq!(started.len(), 2);
    assert_eq!(started[0].field_path.as_deref(), Some("spec.containers{nginx}"));
    assert_eq!(started[0].message, "Started container nginx");
    assert_eq!(h.events("Created").len(), 2);
    assert!(h.events("Pulled")[0].message.contains("already present on machine"));
    // The first statuses were Pending with ContainerCreating.
    let first = h.seen.iter().find_map(|r| match r {
        node_agent::pod::Report::Status { status, .. } => Some(status.clone()),
        _ => None,
    });
    let first = first.unwrap();
    assert_eq!(phase(&first), "Pending");
    assert_eq!(waiting_reason(&first, 0).as_deref(), Some("ContainerCreating"));
    assert_eq!(h.containers_of(&uid(&p)).await.len(), 3, "sandbox + 2 containers");
}
