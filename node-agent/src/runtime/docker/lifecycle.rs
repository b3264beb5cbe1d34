//! Starting, inspecting, waiting for, stopping and removing one container.
//!
//! Guarantees: [`stop_container`] asks the engine to stop with
//! `t = ceil(grace)` (SIGTERM, then SIGKILL at the deadline; a zero grace
//! kills at once) and returns only once the container is not running; it is
//! a no-op on an exited container. [`wait_container`] resolves when the
//! container is not running (at once if it is not). A missing container is
//! [`RuntimeError::NotFound`]; a start the engine refuses (e.g. the command
//! does not exist) is [`RuntimeError::Start`] with the engine's message.

use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum};
use bollard::query_parameters::{
    KillContainerOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;

use super::error;
use crate::runtime::{ContainerState, RuntimeError};

/// Docker's "zero" time for never started / never finished.
const ZERO_TIME_PREFIX: &str = "0001-01-01";

/// The `t` of a stop request: whole seconds, rounded up, saturating.
pub(crate) fn stop_timeout_secs(grace: Duration) -> i32 {
    let secs = grace.as_secs() + u64::from(grace.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// The engine-neutral state of an inspected container.
pub(crate) fn state_of(id: &str, c: &ContainerInspectResponse) -> ContainerState {
    let s = c.state.clone().unwrap_or_default();
    let running = s.running.unwrap_or(false);
    let exited = matches!(s.status, Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD));
    let time = |t: Option<String>| t.filter(|t| !t.is_empty() && !t.starts_with(ZERO_TIME_PREFIX));
    // A container whose start failed stays "created" with a non-zero code.
    let code = s.exit_code.unwrap_or(0);
    let exit_code = (!running && (exited || code != 0)).then_some(code);
    ContainerState {
        id: c.id.clone().unwrap_or_else(|| id.to_string()),
        running,
        exit_code,
        oom_killed: s.oom_killed.unwrap_or(false),
        started_at: time(s.started_at),
        finished_at: if running { None } else { time(s.finished_at) },
        error: s.error.filter(|e| !e.is_empty()),
        image_id: c.image.clone().unwrap_or_default(),
    }
}

/// See [`Runtime::start_container`](crate::runtime::Runtime::start_container).
pub(crate) async fn start_container(docker: &Docker, id: &str) -> Result<(), RuntimeError> {
    docker.start_container(id, None).await.map_err(|e| error::map_with("start container", id, e, RuntimeError::Start))
}

/// See [`Runtime::inspect_container`](crate::runtime::Runtime::inspect_container).
pub(crate) async fn inspect_container(docker: &Docker, id: &str) -> Result<ContainerState, RuntimeError> {
    let c = docker.inspect_container(id, None).await.map_err(|e| error::on_container("inspect container", id, e))?;
    Ok(state_of(id, &c))
}

/// Resolves when the container is not running.
async fn until_not_running(docker: &Docker, id: &str) -> Result<(), RuntimeError> {
    let opts = WaitContainerOptionsBuilder::default().condition("not-running").build();
    let mut wait = docker.wait_container(id, Some(opts));
    while let Some(item) = wait.next().await {
        match item {
            // A non-zero exit code is reported as an error; it is not one here.
            Ok(_) | Err(BollardError::DockerContainerWaitError { .. }) => {}
            Err(e) => return Err(error::on_container("wait container", id, e)),
        }
    }
    Ok(())
}

/// See [`Runtime::wait_container`](crate::runtime::Runtime::wait_container).
pub(crate) async fn wait_container(docker: &Docker, id: &str) -> Result<ContainerState, RuntimeError> {
    until_not_running(docker, id).await?;
    inspect_container(docker, id).await
}

/// See [`Runtime::stop_container`](crate::runtime::Runtime::stop_container).
pub(crate) async fn stop_container(docker: &Docker, id: &str, grace: Duration) -> Result<(), RuntimeError> {
    let asked = if grace.is_zero() {
        let opts = KillContainerOptionsBuilder::default().signal("KILL").build();
        docker.kill_container(id, Some(opts)).await
    } else {
        let opts = StopContainerOptionsBuilder::default().t(stop_timeout_secs(grace)).build();
        docker.stop_container(id, Some(opts)).await
    };
    match asked {
        Ok(()) => {}
        // 409: kill of a container that is not running; 304 (already
        // stopped) is success in bollard.
        Err(e) if error::status_of(&e) == Some(409) => {}
        // A grace longer than the client timeout: the engine goes on with
        // the stop; wait for it below.
        Err(BollardError::RequestTimeoutError) => {}
        Err(e) => return Err(error::on_container("stop container", id, e)),
    }
    until_not_running(docker, id).await?;
    tracing::debug!(container = %id, grace_ms = grace.as_millis() as u64, "container stopped");
    Ok(())
}

/// See [`Runtime::remove_container`](crate::runtime::Runtime::remove_container).
pub(crate) async fn remove_container(docker: &Docker, id: &str) -> Result<(), RuntimeError> {
    let opts = RemoveContainerOptionsBuilder::default().force(false).build();
    docker.remove_container(id, Some(opts)).await.map_err(|e| error::on_container("remove container", id, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ContainerState as DockerState;

    fn inspected(state: DockerState) -> ContainerInspectResponse {
        ContainerInspectResponse {
            id: Some("abc".into()),
            image: Some("sha256:img".into()),
            state: Some(state),
            ..Default::default()
        }
    }

    #[test]
    fn timeout_rounds_up() {
        assert_eq!(stop_timeout_secs(Duration::from_millis(1)), 1);
        assert_eq!(stop_timeout_secs(Duration::from_secs(2)), 2);
        assert_eq!(stop_timeout_secs(Duration::from_millis(2500)), 3);
        assert_eq!(stop_timeout_secs(Duration::from_secs(u64::MAX)), i32::MAX);
    }

    #[test]
    fn running_state() {
        let s = state_of(
            "abc",
            &inspected(DockerState {
                status: Some(ContainerStateStatusEnum::RUNNING),
                running: Some(true),
                exit_code: Some(0),
                started_at: Some("2024-01-01T00:00:00Z".into()),
                finished_at: Some("0001-01-01T00:00:00Z".into()),
                error: Some(String::new()),
                ..Default::default()
            }),
        );
        assert!(s.running);
        assert_eq!(s.exit_code, None);
        assert_eq!(s.started_at.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!((s.finished_at, s.error), (None, None));
        assert_eq!(s.image_id, "sha256:img");
    }

    #[test]
    fn exited_and_failed_states() {
        let s = state_of(
            "abc",
            &inspected(DockerState {
                status: Some(ContainerStateStatusEnum::EXITED),
                running: Some(false),
                exit_code: Some(0),
                oom_killed: Some(true),
                finished_at: Some("2024-01-01T00:00:01Z".into()),
                ..Default::default()
            }),
        );
        assert_eq!(s.exit_code, Some(0));
        assert!(s.oom_killed);
        let created = state_of(
            "abc",
            &inspected(DockerState {
                status: Some(ContainerStateStatusEnum::CREATED),
                exit_code: Some(0),
                ..Default::default()
            }),
        );
        assert_eq!(created.exit_code, None, "never started");
        let failed = state_of(
            "abc",
            &inspected(DockerState {
                status: Some(ContainerStateStatusEnum::CREATED),
                exit_code: Some(127),
                error: Some("exec: no such file".into()),
                ..Default::default()
            }),
        );
        assert_eq!(failed.exit_code, Some(127));
        assert_eq!(failed.error.as_deref(), Some("exec: no such file"));
    }
}
