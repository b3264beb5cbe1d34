//! Applies a schedule of faults: quiet for `interval`, then one fault
//! chosen (seeded) from the kinds, held for `hold`, then healed — killed
//! replicas restarted, paused ones continued, links reopened — before the
//! next. On stop, the fault in progress is healed first, so the run always
//! ends with a whole cluster.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tokio_util::sync::CancellationToken;

use super::{plan, Action, NemesisKind};
use crate::cluster::{Capability, Harness, HarnessError};
use crate::history::{Fault, Record};
use crate::observer::LeaderView;
use crate::recorder::Recorder;

/// When faults happen.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Quiet time before each fault.
    pub interval: Duration,
    /// How long each fault lasts.
    pub hold: Duration,
}

/// Which capability a kind needs.
pub fn needs(kind: NemesisKind) -> Capability {
    match kind {
        NemesisKind::KillLeader | NemesisKind::KillRandom | NemesisKind::KillMinority => Capability::Kill,
        NemesisKind::Pause | NemesisKind::PauseLeader => Capability::Pause,
        NemesisKind::Membership => Capability::Membership,
        _ => Capability::Partition,
    }
}

async fn apply(h: &dyn Harness, a: &Action) -> Result<(), HarnessError> {
    match a {
        Action::Kill(t) => {
            for &i in t {
                h.kill(i).await?;
            }
        }
        Action::Pause(t) => {
            for &i in t {
                h.pause(i).await?;
            }
        }
        Action::Partition { links, .. } => h.set_partition(links).await?,
        Action::Rejoin(i) => h.remove_member(*i).await?,
    }
    Ok(())
}

async fn heal(h: &dyn Harness, a: &Action) -> Result<(), String> {
    match a {
        Action::Kill(t) => {
            for &i in t {
                h.restart(i).await.map_err(|e| e.to_string())?;
            }
        }
        Action::Pause(t) => {
            for &i in t {
                h.resume(i).await.map_err(|e| e.to_string())?;
            }
        }
        Action::Partition { .. } => h.set_partition(&Default::default()).await.map_err(|e| e.to_string())?,
        Action::Rejoin(i) => h.add_member_back(*i).await.map_err(|e| e.to_string())?,
    }
    Ok(())
}

/// Runs the schedule until `stop`. `now_doing` shows the fault in progress
/// (for the progress line). Errors applying a fault end the schedule and
/// are returned after healing.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    h: Arc<dyn Harness>,
    kinds: Vec<NemesisKind>,
    schedule: Schedule,
    view: LeaderView,
    rec: Recorder,
    seed: u64,
    stop: CancellationToken,
    now_doing: Arc<Mutex<String>>,
) -> Result<usize, String> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x006e_656d_6573_6973);
    let names: Vec<String> = h.members().iter().map(|m| m.name.clone()).collect();
    let kinds: Vec<NemesisKind> = kinds.into_iter().filter(|k| h.supports(needs(*k))).collect();
    let mut injected = 0;
    if kinds.is_empty() {
        stop.cancelled().await;
        return Ok(0);
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(injected),
            _ = tokio::time::sleep(schedule.interval) => {}
        }
        // A harness may refuse some shapes (Docker mode can only cut whole
        // replicas off): pick again, a few times, rather than stop.
        let mut attempt = 0;
        let (kind, action, detail, start, applied) = loop {
            attempt += 1;
            let kind = *kinds.choose(&mut rng).unwrap_or(&kinds[0]);
            let leader = view.leader(rec.now(), 1_000_000_000).map(|(_, l)| l);
            let action = plan(kind, &names, leader, &mut rng);
            let detail = action.describe(&names, leader);
            let applied = apply(h.as_ref(), &action).await;
            // The fault starts once it has taken effect (a kill has reaped
            // the process), so unavailability is not flattered by ops that
            // completed while the fault was still being injected.
            let start = rec.now();
            match applied {
                Err(HarnessError::Unsupported(why)) if attempt < 20 => {
                    tracing::info!(%kind, %detail, %why, "harness cannot inject this fault; choosing another");
                }
                r => break (kind, action, detail, start, r.map_err(|e| e.to_string())),
            }
        };
        *now_doing.lock() = format!("{kind}: {detail}");
        tracing::info!(%kind, %detail, "injected fault");
        if applied.is_ok() {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(schedule.hold) => {}
            }
        }
        let healed = heal(h.as_ref(), &action).await;
        let end = rec.now();
        now_doing.lock().clear();
        injected += 1;
        rec.push(Record::Fault(Fault {
            kind: kind.name().into(),
            detail,
            targets: action.targets().iter().map(|&i| names[i].clone()).collect(),
            start,
            end: Some(end),
        }));
        if let Err(e) = applied.and(healed) {
            return Err(format!("{kind}: {e}"));
        }
        if stop.is_cancelled() {
            return Ok(injected);
        }
    }
}
