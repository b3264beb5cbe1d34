//! Reading a container's logs (`kubectl logs`).
//!
//! Guarantees: stdout and stderr interleaved as the engine stored them,
//! as raw bytes (no stream headers); `tail_lines`, `timestamps`, `follow`
//! and `since_seconds` are passed to the engine; a following stream ends
//! when the container exits. A missing container is
//! [`RuntimeError::NotFound`] before any stream is returned.

use std::time::{SystemTime, UNIX_EPOCH};

use bollard::query_parameters::{LogsOptions, LogsOptionsBuilder};
use bollard::Docker;
use futures::StreamExt;

use super::error;
use crate::runtime::{LogOptions, LogStream, RuntimeError};

/// The engine's log options for `opts`, `now` being the unix time in seconds.
pub(crate) fn logs_options(opts: &LogOptions, now: u64) -> LogsOptions {
    let tail = opts.tail_lines.map_or_else(|| "all".to_string(), |n| n.to_string());
    let mut b = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(opts.follow)
        .timestamps(opts.timestamps)
        .tail(&tail);
    if let Some(secs) = opts.since_seconds {
        // `since` 0 means "from the beginning"; 1 is the earliest real bound.
        let since = now.saturating_sub(secs).max(1);
        b = b.since(i32::try_from(since).unwrap_or(i32::MAX));
    }
    b.build()
}

/// See [`Runtime::logs`](crate::runtime::Runtime::logs).
pub(crate) async fn logs(docker: &Docker, id: &str, opts: &LogOptions) -> Result<LogStream, RuntimeError> {
    // The log stream reports a missing container only when polled; say so now.
    docker.inspect_container(id, None).await.map_err(|e| error::on_container("logs of container", id, e))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let id_owned = id.to_string();
    let stream = docker.logs(id, Some(logs_options(opts, now))).map(move |item| {
        item.map(|o| o.into_bytes()).map_err(|e| error::on_container("logs of container", &id_owned, e))
    });
    Ok(Box::pin(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_read_everything() {
        let o = logs_options(&LogOptions::default(), 1_000);
        assert!(o.stdout && o.stderr && !o.follow && !o.timestamps);
        assert_eq!(o.tail, "all");
        assert_eq!(o.since, 0);
    }

    #[test]
    fn tail_follow_since() {
        let o = logs_options(
            &LogOptions { follow: true, tail_lines: Some(5), timestamps: true, since_seconds: Some(60) },
            1_000,
        );
        assert!(o.follow && o.timestamps);
        assert_eq!(o.tail, "5");
        assert_eq!(o.since, 940);
        let o = logs_options(&LogOptions { since_seconds: Some(5_000), ..Default::default() }, 1_000);
        assert_eq!(o.since, 1);
    }
}
