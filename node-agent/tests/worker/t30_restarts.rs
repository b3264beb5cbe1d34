use std::time::Duration;

use crate::common::*;
use node_agent::pod::Report;

#[tokio::test(start_paused = true)]
async fn never_and_on_failure_end_in_the_right_phase() {
    for (name, policy, image, want, restarts_want) in [
        ("n-ok", "Never", "succeed", "Succeeded", 0),
        ("n-fail", "Never", "fail", "Failed", 0),
        ("o-ok", "OnFailure", "succeed", "Succeeded", 0),
    ] {
        let mut h = Harness::new();
        let p = pod(name, policy, vec![container("c", image)]);
        let _w = h.spawn(&p);
        let s = h.must_status(&uid(&p), |s| phase(s) == want).await;
        assert_eq!(restarts(&s, 0), restarts_want, "{name}");
        let t = s.container_statuses.as_ref().unwrap()[0].state.as_ref().unwrap().terminated.clone().unwrap();
        assert_eq!(t.reason.as_deref(), Some(if image == "succeed" { "Completed" } else { "Error" }), "{name}");
        assert_eq!(condition(&s, "Ready"), "False");
    }
}

#[tokio::test(start_paused = true)]
async fn crash_loop_backs_off_with_growing_delays() {
    let mut h = Harness::new();
    let p = pod("crash", "OnFailure", vec![container("c", "fail")]);
    let _w = h.spawn(&p);
    let s = h
        .must_status(&uid(&p), |s| restarts(s, 0) == 2 && waiting_reason(s, 0).as_deref() == Some("CrashLoopBackOff"))
        .await;
    assert_eq!(phase(&s), "Running");
    let c = &s.container_statuses.as_ref().unwrap()[0];
    let msg = c.state.as_ref().unwrap().waiting.as_ref().unwrap().message.clone().unwrap();
    assert_eq!(msg, "back-off 20s restarting failed container=c pod=crash_default(uid-crash)");
    let last = c.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
    // Measure the gaps between starts in (virtual) time.
    let mut starts = Vec::new();
    while starts.len() < 6 {
        h.must_event("Started", "container c").await;
        starts.push(tokio::time::Instant::now());
    }
    let gaps: Vec<u64> = starts.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, [40, 80, 160, 300, 300]);
    assert!(!h.events("BackOff").is_empty());
    // Only the current and the previous container are kept.
    let found = h.containers_of(&uid(&p)).await;
    let mut attempts: Vec<u32> = found.iter().filter(|f| f.container.is_some()).map(|f| f.attempt).collect();
    attempts.sort();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1], attempts[0] + 1);
}

#[tokio::test(start_paused = true)]
async fn always_restarts_even_successful_exits() {
    let mut h = Harness::new();
    let p = pod("loop", "Always", vec![container("c", "succeed")]);
    let _w = h.spawn(&p);
    let t0 = tokio::time::Instant::now();
    let s = h.must_status(&uid(&p), |s| restarts(s, 0) == 3).await;
    assert_eq!(phase(&s), "Running");
    assert!(t0.elapsed() >= Duration::from_secs(30), "0 + 10 + 20 s of back-off");
    let completed = s.container_statuses.as_ref().unwrap()[0].last_state.clone().unwrap().terminated.unwrap();
    assert_eq!(completed.reason.as_deref(), Some("Completed"));
    assert!(h.seen.iter().any(|r| matches!(r, Report::Status { status, .. } if waiting_reason(status, 0).as_deref() == Some("CrashLoopBackOff"))));
}
