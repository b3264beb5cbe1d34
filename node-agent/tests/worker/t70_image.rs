use crate::common::*;

#[tokio::test(start_paused = true)]
async fn missing_image_gives_err_image_pull_then_back_off() {
    let mut h = Harness::new();
    let p = pod("img", "Always", vec![container("app", "missing/app:1")]);
    let _w = h.spawn(&p);
    let s = h.must_status(&uid(&p), |s| waiting_reason(s, 0).as_deref() == Some("ErrImagePull")).await;
    assert_eq!(phase(&s), "Pending");
    let msg = s.container_statuses.as_ref().unwrap()[0].state.clone().unwrap().waiting.unwrap().message.unwrap();
    assert!(msg.contains("pull access denied for missing/app"), "{msg}");
    let s = h.must_status(&uid(&p), |s| waiting_reason(s, 0).as_deref() == Some("ImagePullBackOff")).await;
    let msg = s.container_statuses.as_ref().unwrap()[0].state.clone().unwrap().waiting.unwrap().message.unwrap();
    assert_eq!(msg, r#"Back-off pulling image "missing/app:1""#);
    assert!(h.events("Failed").iter().any(|e| e.message == "Error: ErrImagePull"));
    h.must_event("BackOff", "Back-off pulling image").await;
    // It keeps retrying and flips back to ErrImagePull on each failed pull.
    h.must_status(&uid(&p), |s| waiting_reason(s, 0).as_deref() == Some("ErrImagePull")).await;
    assert!(h.events("Created").is_empty());
}

#[tokio::test(start_paused = true)]
async fn never_pull_of_a_missing_image() {
    let mut h = Harness::new();
    let mut c = container("app", "missing:1");
    c.image_pull_policy = Some("Never".into());
    let p = pod("never", "Always", vec![c]);
    let _w = h.spawn(&p);
    h.must_status(&uid(&p), |s| waiting_reason(s, 0).as_deref() == Some("ErrImageNeverPull")).await;
}
