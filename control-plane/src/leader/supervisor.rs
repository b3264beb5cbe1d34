//! The leadership supervisor: runs the leader-only tasks (scheduler and
//! controllers) exactly while this replica is the Raft leader.
//!
//! State machine, driven by Raft's metrics:
//! - `Idle` → `Leading(term)` when this replica leads `term` and has applied
//!   an entry of `term` (openraft's leader appends a blank entry when it is
//!   elected; once it is applied, the local state machine holds everything
//!   any earlier leader committed: the barrier).
//! - `Leading(term)` → `Idle` the moment Raft reports another term or
//!   another leader, when a task's write comes back fenced, or on shutdown.
//!   The tasks' cancellation token is a child of the process's, and the
//!   supervisor waits for them to finish before it can lead again.
//!
//! Guarantees: at most one generation of tasks runs in this process; every
//! write they make is fenced to the term they started in, so a deposed
//! leader's late write is rejected by the state machine instead of acting
//! through the new leader.

use std::sync::Arc;
use std::time::Duration;

use raft_store::Store;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{LeaderConfig, LeaderContext};
use crate::server::ApiServer;

/// What Raft's metrics say about this replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// This replica is the leader.
    pub leader: bool,
    /// The current term.
    pub term: u64,
    /// The term of the last applied entry.
    pub applied_term: u64,
}

/// The supervisor's next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Start the tasks for this term.
    Start(u64),
    /// Stop the running tasks.
    Stop,
    /// Nothing to do.
    Keep,
}

/// Decide the next step given the term the tasks run in (if any), the term
/// in which they were last fenced (never restart in it) and what Raft says.
pub fn decide(running: Option<u64>, fenced_in: Option<u64>, obs: Observed) -> Step {
    let ready = obs.leader && obs.applied_term == obs.term && fenced_in != Some(obs.term);
    match running {
        None if ready => Step::Start(obs.term),
        Some(t) if !obs.leader || obs.term != t => Step::Stop,
        _ => Step::Keep,
    }
}

fn observe(store: &Store) -> Observed {
    let m = store.raft.metrics();
    let m = m.borrow();
    Observed {
        leader: m.current_leader == Some(store.id) && m.state == openraft::ServerState::Leader,
        term: m.current_term,
        applied_term: m.last_applied.map_or(0, |l| l.leader_id.term),
    }
}

/// One generation of leader tasks.
struct Running {
    term: u64,
    stop: CancellationToken,
    tracker: TaskTracker,
}

/// How long a stopping generation may take before the supervisor moves on
/// (its writes are fenced anyway).
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Run the supervisor until `shutdown`.
pub async fn run(store: Arc<Store>, api: ApiServer, config: Arc<LeaderConfig>, shutdown: CancellationToken) {
    let mut metrics = store.raft.metrics();
    let mut running: Option<Running> = None;
    let mut fenced_in: Option<u64> = None;
    loop {
        let obs = observe(&store);
        // A generation that stopped itself (a fenced write) is over.
        if let Some(r) = running.as_ref().filter(|r| r.stop.is_cancelled()) {
            fenced_in = Some(r.term);
        }
        let step = match &running {
            Some(r) if r.stop.is_cancelled() => Step::Stop,
            r => decide(r.as_ref().map(|r| r.term), fenced_in, obs),
        };
        match step {
            Step::Start(term) => {
                tracing::info!(term, "this replica leads; starting the scheduler and controllers");
                let stop = shutdown.child_token();
                let tracker = TaskTracker::new();
                let ctx = LeaderContext::new(api.fenced(term), term, stop.clone(), tracker.clone(), config.clone());
                super::tasks::start(ctx);
                running = Some(Running { term, stop, tracker });
            }
            Step::Stop => {
                if let Some(r) = running.take() {
                    tracing::info!(term = r.term, now = obs.term, "leadership lost; stopping the leader tasks");
                    r.stop.cancel();
                    r.tracker.close();
                    if tokio::time::timeout(STOP_WAIT, r.tracker.wait()).await.is_err() {
                        tracing::warn!(term = r.term, "leader tasks did not stop within 5 s; their writes are fenced");
                    }
                }
                continue;
            }
            Step::Keep => {}
        }
        let task_stop = running.as_ref().map(|r| r.stop.clone()).unwrap_or_default();
        tokio::select! {
            _ = shutdown.cancelled() => break,
            r = metrics.changed() => if r.is_err() { break },
            _ = task_stop.cancelled(), if running.is_some() => {}
        }
    }
    if let Some(r) = running.take() {
        r.stop.cancel();
        r.tracker.close();
        let _ = tokio::time::timeout(STOP_WAIT, r.tracker.wait()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(leader: bool, term: u64, applied_term: u64) -> Observed {
        Observed { leader, term, applied_term }
    }

    #[test]
    fn starts_only_after_applying_an_entry_of_its_own_term() {
        assert_eq!(decide(None, None, obs(true, 3, 2)), Step::Keep);
        assert_eq!(decide(None, None, obs(true, 3, 3)), Step::Start(3));
        assert_eq!(decide(None, None, obs(false, 3, 3)), Step::Keep);
    }

    #[test]
    fn stops_on_a_new_term_or_lost_leadership() {
        assert_eq!(decide(Some(3), None, obs(true, 3, 3)), Step::Keep);
        assert_eq!(decide(Some(3), None, obs(false, 3, 3)), Step::Stop);
        assert_eq!(decide(Some(3), None, obs(true, 4, 3)), Step::Stop);
    }

    #[test]
    fn never_restarts_in_a_term_it_was_fenced_in() {
        assert_eq!(decide(None, Some(3), obs(true, 3, 3)), Step::Keep);
        assert_eq!(decide(None, Some(3), obs(true, 4, 4)), Step::Start(4));
    }
}
