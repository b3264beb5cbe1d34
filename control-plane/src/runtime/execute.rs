//! Carrying out a reconcile's intended writes ([`Action`]s) through the API
//! server, so controller writes get the same admission, defaulting and
//! validation as a user's, fenced to the leader's term.
//!
//! Guarantees: actions run in order and stop at the first failure (later
//! actions may depend on earlier ones), except that consecutive creates (or
//! deletes) — independent of each other — run concurrently in slow-start
//! batches; a delete of something already gone
//! and a create of a name already taken (deterministic names, e.g. a
//! CronJob's Job) count as done; the revision of every write is recorded
//! per kind ([`Executor::mark`]), so the controller can wait until its
//! caches have seen its own writes before deciding again.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde_json::Value;

use super::action::Action;
use super::recorder::{EventRecord, Recorder};
use crate::error::{ApiError, FENCED};
use crate::patch::PatchType;
use crate::registry::{kinds, Kind};
use crate::server::delete::DeleteOptions;
use crate::server::{ApiServer, Part, WriteOptions};

/// Why a batch of actions stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// This replica is no longer the leader of the term the write was fenced
    /// to; the leader tasks must stop.
    #[error("deposed: {0}")]
    Fenced(String),
    /// An object changed under the controller (stale resourceVersion); retry
    /// after the caches catch up.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Any other failure (the message says what).
    #[error("{0}")]
    Failed(String),
}

impl From<ApiError> for ExecError {
    fn from(e: ApiError) -> Self {
        if e.reason == FENCED {
            ExecError::Fenced(e.message)
        } else if e.code == 409 {
            ExecError::Conflict(e.message)
        } else {
            ExecError::Failed(format!("{} ({}): {}", e.reason, e.code, e.message))
        }
    }
}

/// The kind named by a controller action.
pub fn kind_named(name: &str) -> Result<&'static Kind, ExecError> {
    kinds::KINDS
        .iter()
        .find(|k| k.kind == name)
        .ok_or_else(|| ExecError::Failed(format!("a controller named an unknown kind {name}")))
}

/// Most independent writes of one reconcile in flight at once.
pub const MAX_PARALLEL: usize = 64;

/// Which independent kind of write a unit is (runs of the same kind may run
/// concurrently): creates or deletes; anything else runs alone.
fn unit_kind(unit: &[Action]) -> Option<u8> {
    match unit.first() {
        Some(Action::Create { .. }) => Some(0),
        Some(Action::Delete { .. }) => Some(1),
        _ => None,
    }
}

/// Split actions into units: each write with the events that follow it.
fn split_units(actions: Vec<Action>) -> Vec<Vec<Action>> {
    let mut units: Vec<Vec<Action>> = Vec::new();
    for a in actions {
        match (&a, units.last_mut()) {
            (Action::Event { .. }, Some(u)) => u.push(a),
            _ => units.push(vec![a]),
        }
    }
    units
}

/// Runs actions for one component (field manager and event source).
pub struct Executor {
    api: ApiServer,
    component: &'static str,
    recorder: Recorder,
    marks: Mutex<HashMap<&'static str, i64>>,
}

fn revision_of(obj: &Value) -> i64 {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|r| r.parse().ok()).unwrap_or(0)
}

impl Executor {
    /// An executor writing through `api` (already fenced) as `component`.
    pub fn new(api: ApiServer, component: &'static str, recorder: Recorder) -> Self {
        Executor { api, component, recorder, marks: Mutex::new(HashMap::new()) }
    }

    /// The API server it writes through.
    pub fn api(&self) -> &ApiServer {
        &self.api
    }

    /// The newest revision this executor wrote for `kind` (0 if none).
    pub fn mark(&self, kind: &str) -> i64 {
        self.marks.lock().get(kind).copied().unwrap_or(0)
    }

    fn note(&self, kind: &'static Kind, obj: &Value) {
        let rev = revision_of(obj);
        let mut m = self.marks.lock();
        let e = m.entry(kind.kind).or_insert(0);
        *e = (*e).max(rev);
    }

    fn opts(&self) -> WriteOptions {
        WriteOptions { field_manager: Some(self.component.to_string()), ..Default::default() }
    }

    /// Run `actions` in order. A run of creates (or of deletes), each with
    /// the events that follow it, is independent within itself and runs
    /// concurrently in slow-start batches (1, 2, 4, … up to
    /// [`MAX_PARALLEL`], as upstream's controllers do): a failing batch
    /// stops the rest, so a quota or admission error costs one write, not
    /// hundreds.
    pub async fn execute(&self, actions: Vec<Action>) -> Result<(), ExecError> {
        let mut units = split_units(actions).into_iter().peekable();
        while let Some(unit) = units.next() {
            let parallel = unit_kind(&unit);
            if parallel.is_none() || units.peek().map(|u| unit_kind(u)) != Some(parallel) {
                self.run_unit(unit).await?;
                continue;
            }
            let mut run = vec![unit];
            while units.peek().is_some_and(|u| unit_kind(u) == parallel) {
                run.extend(units.next());
            }
            let mut batch = 1;
            let mut rest = run.into_iter();
            loop {
                let chunk: Vec<Vec<Action>> = rest.by_ref().take(batch).collect();
                if chunk.is_empty() {
                    break;
                }
                let results = futures::future::join_all(chunk.into_iter().map(|u| self.run_unit(u))).await;
                results.into_iter().collect::<Result<Vec<()>, ExecError>>()?;
                batch = (batch * 2).min(MAX_PARALLEL);
            }
        }
        Ok(())
    }

    /// One unit: a write and the events about it, in order.
    async fn run_unit(&self, unit: Vec<Action>) -> Result<(), ExecError> {
        let mut created: Option<String> = None;
        for a in unit {
            if let Some(name) = self.run(a, created.as_deref()).await? {
                created = Some(name);
            }
        }
        Ok(())
    }

    /// Run one action; returns the created object's name for a create.
    async fn run(&self, action: Action, last_created: Option<&str>) -> Result<Option<String>, ExecError> {
        match action {
            Action::Create { kind, namespace, object } => {
                let k = kind_named(kind)?;
                match self.api.create(k, namespace.as_deref(), object, &self.opts()).await {
                    Ok(w) => {
                        self.note(k, &w.object);
                        let name = crate::registry::object::name(&w.object).unwrap_or("").to_string();
                        Ok(Some(name))
                    }
                    Err(e) if e.reason == "AlreadyExists" => Ok(None),
                    Err(e) => Err(e.into()),
                }
            }
            Action::Update { kind, namespace, name, object } => {
                self.replace(kind, namespace, name, Part::Main, object).await
            }
            Action::UpdateStatus { kind, namespace, name, object } => {
                self.replace(kind, namespace, name, Part::Status, object).await
            }
            Action::Patch { kind, namespace, name, patch } => {
                self.merge(kind, namespace, name, Part::Main, patch).await
            }
            Action::PatchStatus { kind, namespace, name, patch } => {
                self.merge(kind, namespace, name, Part::Status, patch).await
            }
            Action::Delete { kind, namespace, name, uid, propagation, grace_period_seconds } => {
                let k = kind_named(kind)?;
                let opts = DeleteOptions {
                    grace_period_seconds,
                    propagation_policy: propagation.map(str::to_string),
                    uid,
                    ..Default::default()
                };
                match self.api.delete(k, namespace.as_deref(), &name, &opts).await {
                    Ok(o) => {
                        self.note(k, &o);
                        Ok(None)
                    }
                    Err(e) if e.code == 404 => Ok(None),
                    Err(e) => Err(e.into()),
                }
            }
            Action::Event { kind, namespace, name, uid, event_type, reason, message } => {
                let k = kind_named(kind)?;
                let message = match last_created {
                    Some(c) => message.replace("{name}", c),
                    None => message,
                };
                self.recorder
                    .record(self.component, EventRecord { kind: k, namespace, name, uid, event_type, reason, message });
                Ok(None)
            }
        }
    }

    async fn replace(
        &self,
        kind: &str,
        namespace: Option<String>,
        name: String,
        part: Part,
        object: Value,
    ) -> Result<Option<String>, ExecError> {
        let k = kind_named(kind)?;
        let w = self.api.update(k, namespace.as_deref(), &name, part, object, &self.opts()).await?;
        self.note(k, &w.object);
        Ok(None)
    }

    async fn merge(
        &self,
        kind: &str,
        namespace: Option<String>,
        name: String,
        part: Part,
        patch: Value,
    ) -> Result<Option<String>, ExecError> {
        let k = kind_named(kind)?;
        let body = serde_json::to_vec(&patch).map_err(|e| ExecError::Failed(e.to_string()))?;
        let w = self.api.patch(k, namespace.as_deref(), &name, part, PatchType::Merge, &body, &self.opts()).await?;
        self.note(k, &w.object);
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::action::EventType;
    use serde_json::json;

    fn create(n: &str) -> Action {
        Action::Create { kind: "Pod", namespace: Some("d".into()), object: json!({"metadata": {"name": n}}) }
    }

    fn event() -> Action {
        Action::Event {
            kind: "Pod",
            namespace: None,
            name: "x".into(),
            uid: String::new(),
            event_type: EventType::Normal,
            reason: "R".into(),
            message: "Created pod: {name}".into(),
        }
    }

    #[test]
    fn events_stay_with_the_write_they_follow() {
        let units = split_units(vec![event(), create("a"), event(), create("b"), event(), event()]);
        assert_eq!(units.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(unit_kind(&units[0]), None);
        assert_eq!(unit_kind(&units[1]), Some(0));
        assert_eq!(unit_kind(&units[2]), Some(0));
    }
}
