//! Waiting until a cluster serves: every member answers a status call with
//! a known leader and its API's `/readyz` says 200.

use std::time::Duration;

use proto::etcdserverpb::StatusRequest;

use crate::cluster::{HarnessError, Member};
use crate::etcd::{status_text, EtcdClient};

/// What is wrong with one member, or `None` when it is healthy.
pub async fn member_problem(m: &Member, http: &reqwest::Client) -> Option<String> {
    let mut c = match EtcdClient::new(&m.client_url) {
        Ok(c) => c,
        Err(e) => return Some(e),
    };
    match tokio::time::timeout(Duration::from_secs(1), c.maintenance.status(StatusRequest {})).await {
        Err(_) => return Some(format!("{}: store status timed out", m.name)),
        Ok(Err(s)) => return Some(format!("{}: store: {}", m.name, status_text(&s))),
        Ok(Ok(r)) if r.get_ref().leader == 0 => return Some(format!("{}: no leader", m.name)),
        Ok(Ok(_)) => {}
    }
    match http.get(format!("{}/readyz", m.api_url)).timeout(Duration::from_secs(1)).send().await {
        Ok(r) if r.status().is_success() => None,
        Ok(r) => Some(format!("{}: /readyz HTTP {}", m.name, r.status())),
        Err(e) => Some(format!("{}: /readyz: {e}", m.name)),
    }
}

/// Waits up to `timeout` for every member to be healthy, calling
/// `progress` with what is still wrong about every two seconds.
pub async fn wait_healthy(
    members: &[Member],
    timeout: Duration,
    mut progress: impl FnMut(&str),
) -> Result<(), HarnessError> {
    let http = crate::workload::watch::http();
    let start = tokio::time::Instant::now();
    let mut last_report = start;
    loop {
        let checks = members.iter().map(|m| member_problem(m, &http));
        let problems: Vec<String> = futures::future::join_all(checks).await.into_iter().flatten().collect();
        if problems.is_empty() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(HarnessError::Unhealthy { secs: timeout.as_secs(), detail: problems.join("; ") });
        }
        if last_report.elapsed() >= Duration::from_secs(2) {
            last_report = tokio::time::Instant::now();
            progress(&format!("waiting for the cluster ({} s): {}", start.elapsed().as_secs(), problems.join("; ")));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
