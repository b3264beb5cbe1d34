use std::collections::BTreeMap;

use crate::common::*;
use node_agent::pod::spawn;
use node_agent::runtime::Runtime;
use tokio_util::sync::CancellationToken;

#[tokio::test(start_paused = true)]
async fn adoption_keeps_containers_and_restart_counts() {
    let mut h = Harness::new();
    let mut p = pod("adopt", "Always", vec![container("a", "nginx:1"), container("b", "nginx:1")]);
    p.spec.as_mut().unwrap().init_containers = Some(vec![container("setup", "succeed")]);
    let w = h.spawn(&p);
    let s1 = h.must_status(&uid(&p), |s| phase(s) == "Running" && condition(s, "Ready") == "True").await;
    // Container b crashes once, so its attempt becomes 1.
    let b_id = s1.container_statuses.as_ref().unwrap()[1].container_id.clone().unwrap();
    assert!(h.rt.inner.exit_container(b_id.trim_start_matches("hollow://"), 2));
    let s1 = h.must_status(&uid(&p), |s| restarts(s, 1) == 1 && condition(s, "Ready") == "True").await;

    // The agent stops: the worker ends, containers keep running.
    h.shutdown.cancel();
    h.must_eventually("worker end", || w.is_finished()).await;
    let found = h.containers_of(&uid(&p)).await;
    assert!(found
        .iter()
        .filter(|f| f.role == Some(node_agent::runtime::Role::App))
        .all(|f| { f.running || f.attempt == 0 && f.container.as_deref() == Some("b") }));
    let ids_before: BTreeMap<String, String> = s1
        .container_statuses
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.name.clone(), c.container_id.clone().unwrap()))
        .collect();

    // A new agent adopts them.
    let created_before = h.events("Created").len();
    let mut p2 = p.clone();
    p2.status = Some(s1.clone());
    let listed = h.rt.list(NODE).await.unwrap().into_iter().filter(|f| f.pod_uid == uid(&p)).collect();
    let w2 = spawn(h.ctx.clone(), p2, listed, &h.tracker, CancellationToken::new());
    let s2 = h.must_status(&uid(&p), |s| phase(s) == "Running" && condition(s, "Ready") == "True").await;
    let ids_after: BTreeMap<String, String> = s2
        .container_statuses
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.name.clone(), c.container_id.clone().unwrap()))
        .collect();
    assert_eq!(ids_before, ids_after, "same container ids");
    assert_eq!(restarts(&s2, 0), 0);
    assert_eq!(restarts(&s2, 1), 1, "restart count from the attempt label");
    assert_eq!(s2.pod_ip, s1.pod_ip);
    assert_eq!(s2.start_time, s1.start_time);
    let init = &s2.init_container_statuses.as_ref().unwrap()[0];
    assert!(init.state.as_ref().unwrap().terminated.is_some());
    assert_eq!(h.events("Created").len(), created_before, "nothing was created");
    let last = s2.container_statuses.as_ref().unwrap()[1].last_state.clone().unwrap().terminated.unwrap();
    assert_eq!(last.exit_code, 2, "previous run found");
    drop(w2);
}
