//! The assignment stream loop: an explicit state machine that keeps the
//! node's [`AssignmentSet`] in sync with the control plane, failing over
//! between replicas and resuming from the last applied revision.
//!
//! Guarantees: every message is applied in order and handed to `on_change`
//! before the next is read; after any failure (stream error, replica
//! death, nothing received for [`IDLE`]) the loop moves to the next
//! replica and resumes from the set's revision, so no change is missed.

use std::sync::Arc;
use std::time::Duration;

use proto::agent::{Assignments, AssignmentsRequest};
use tokio_util::sync::CancellationToken;
use tonic::Streaming;

use crate::assignments::{AssignmentSet, Change};
use crate::servers::{should_fail_over, Servers};

/// A stream with no message (not even progress) for this long is dead.
pub const IDLE: Duration = Duration::from_secs(30);

/// Where the loop is.
enum State {
    /// Open a stream to the current server.
    Connect,
    /// Reading from server `idx`.
    Streaming { idx: usize, stream: Box<Streaming<Assignments>> },
    /// Wait, then connect again.
    Backoff(Duration),
}

/// Follow the stream until `stop`. `on_change` gets the set after each
/// message and what it changed (called for PROGRESS too, with no changes,
/// so the caller can persist the revision).
pub async fn follow(
    node: &str,
    servers: &Servers,
    set: &mut AssignmentSet,
    stop: &CancellationToken,
    mut on_change: impl FnMut(&AssignmentSet, Vec<Change>, &Assignments),
) {
    let mut state = State::Connect;
    let mut delay = Duration::from_millis(200);
    loop {
        if stop.is_cancelled() {
            return;
        }
        state = match state {
            State::Connect => {
                let (idx, url, mut client) = servers.current();
                let req = AssignmentsRequest { node_name: node.to_string(), revision: set.revision };
                let opened = tokio::select! {
                    r = client.assignments(req) => r,
                    _ = stop.cancelled() => return,
                };
                match opened {
                    Ok(resp) => {
                        tracing::info!(node, server = url, revision = set.revision, "assignment stream open");
                        State::Streaming { idx, stream: Box::new(resp.into_inner()) }
                    }
                    Err(e) => {
                        tracing::warn!(node, server = url, error = %e.message(), "cannot open the assignment stream; trying the next server");
                        if should_fail_over(&e) || e.code() != tonic::Code::InvalidArgument {
                            servers.failed(idx);
                        }
                        State::Backoff(delay)
                    }
                }
            }
            State::Streaming { idx, mut stream } => {
                let next = tokio::select! {
                    m = tokio::time::timeout(IDLE, stream.message()) => m,
                    _ = stop.cancelled() => return,
                };
                match next {
                    Ok(Ok(Some(msg))) => {
                        delay = Duration::from_millis(200);
                        let changes = set.apply(&msg);
                        on_change(set, changes, &msg);
                        State::Streaming { idx, stream }
                    }
                    Ok(Ok(None)) => {
                        tracing::warn!(node, "assignment stream ended; resuming on the next server");
                        servers.failed(idx);
                        State::Backoff(Duration::from_millis(50))
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(node, error = %e.message(), revision = set.revision, "assignment stream failed; resuming on the next server");
                        servers.failed(idx);
                        State::Backoff(Duration::from_millis(50))
                    }
                    Err(_) => {
                        tracing::warn!(
                            node,
                            idle_secs = IDLE.as_secs(),
                            "assignment stream silent; resuming on the next server"
                        );
                        servers.failed(idx);
                        State::Connect
                    }
                }
            }
            State::Backoff(d) => {
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = stop.cancelled() => return,
                }
                delay = (delay * 2).min(Duration::from_secs(5));
                State::Connect
            }
        };
    }
}

/// Shared handle for callers that keep the set behind an Arc.
pub type SharedSet = Arc<parking_lot::Mutex<AssignmentSet>>;
