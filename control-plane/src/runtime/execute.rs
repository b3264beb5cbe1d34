//! Carrying out a reconcile's intended writes ([`Action`]s) through the API
//! server, so controller writes get the same admission, defaulting and
//! validation as a user's, fenced to the leader's term.
//!
//! Guarantees: actions run in order and stop at the first failure (later
//! actions may depend on earlier ones); a delete of something already gone
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

    /// Run `actions` in order.
    pub async fn execute(&self, actions: Vec<Action>) -> Result<(), ExecError> {
        let mut created: Option<String> = None;
        for a in actions {
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
