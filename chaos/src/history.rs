//! The history of a chaos run: every client operation with its invoke and
//! complete times and outcome, every fault the nemesis injected, every
//! leader a member reported, and every event a watcher delivered. Saved as
//! JSON lines (one [`Record`] per line) so `chaos check` can re-check a run
//! and `chaos report` can re-render it.
//!
//! Times are nanoseconds since the run started, on one monotonic clock.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Nanoseconds since the start of the run.
pub type Nanos = u64;

/// One line of a history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// What was run (first line).
    Meta(RunMeta),
    /// A client operation.
    Op(Op),
    /// A fault injected by the nemesis.
    Fault(Fault),
    /// A member's answer to "who leads, in which term".
    Leader(LeaderObs),
    /// An event a watcher delivered.
    Watch(WatchObs),
    /// The true sequence of events under a watched prefix, read after the
    /// run from a healthy member (what every watcher is compared to).
    WatchReference(WatchReference),
    /// A controller-invariant observation (objects workload).
    Objects(ObjectsObs),
    /// What was durably visible once the run ended.
    Final(FinalState),
}

/// How the run was configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// Seed of every random choice.
    pub seed: u64,
    /// Replica names.
    pub replicas: Vec<String>,
    /// Planned duration of the load phase, ms.
    pub duration_ms: u64,
    /// Nemesis kinds in the schedule.
    pub nemeses: Vec<String>,
    /// Workloads run.
    pub workloads: Vec<String>,
    /// Wall-clock start, unix ms.
    pub started_unix_ms: u64,
    /// Planted bugs (self-tests), if any.
    #[serde(default)]
    pub planted: Vec<String>,
    /// Free-form harness description ("local 127.0.0.x", "docker").
    #[serde(default)]
    pub harness: String,
}

/// What a client operation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "snake_case")]
pub enum OpKind {
    /// Read the register; `value` is what was read (`None` = absent, or
    /// unknown when the op did not complete ok).
    Read {
        /// The value read.
        value: Option<i64>,
    },
    /// Write `value`.
    Write {
        /// The value written (unique in the run).
        value: i64,
    },
    /// Set to `to` if the current value is `from`.
    Cas {
        /// Expected value.
        from: i64,
        /// New value (unique in the run).
        to: i64,
    },
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Completed and acknowledged.
    Ok,
    /// Definitely did not take effect (refused before it was proposed, or a
    /// CAS whose comparison failed).
    Fail,
    /// May or may not have taken effect (timeout, connection lost).
    Info,
}

/// A client operation on one register key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// Logical client that issued it.
    pub process: u32,
    /// Workload name ("register", "objects", ...).
    pub workload: String,
    /// Register key (independent keys are checked separately).
    pub key: String,
    /// The operation.
    #[serde(flatten)]
    pub kind: OpKind,
    /// When it was invoked.
    pub invoke: Nanos,
    /// When it completed (for `Info`, when the client gave up waiting; the
    /// op may still take effect later).
    pub complete: Nanos,
    /// Its outcome.
    pub outcome: Outcome,
    /// Replica the client sent it to.
    pub replica: String,
    /// Error text when not ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A fault: injected at `start`, healed at `end` (`None` if never healed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// Nemesis kind, e.g. "kill-leader", "pause", "partition".
    pub kind: String,
    /// Human description ("killed r2 (leader)", "isolated r1 from r0,r2").
    pub detail: String,
    /// Replicas affected.
    pub targets: Vec<String>,
    /// When it was injected.
    pub start: Nanos,
    /// When it was healed.
    pub end: Option<Nanos>,
}

/// One member's view of leadership at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderObs {
    /// When observed.
    pub at: Nanos,
    /// Member asked.
    pub observer: String,
    /// Its Raft term.
    pub term: u64,
    /// Who it says leads (`None` = no leader known).
    pub leader: Option<String>,
}

/// Source of a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchSource {
    /// The store's etcd Watch API.
    Store,
    /// The Kubernetes REST watch.
    Api,
}

/// An event delivered to a watcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchObs {
    /// Watcher id (unique within the run).
    pub watcher: u32,
    /// Store or API.
    pub source: WatchSource,
    /// Replica it came from.
    pub replica: String,
    /// When it arrived.
    pub at: Nanos,
    /// Revision (store mod revision / resourceVersion).
    pub revision: i64,
    /// Key (store key, or namespace/name).
    pub key: String,
    /// "put"/"delete" (store) or "ADDED"/"MODIFIED"/"DELETED" (API).
    pub event: String,
}

/// The authoritative event sequence under one prefix, from `from_revision`
/// (inclusive) to `to_revision` (inclusive), each as (revision, key, kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchReference {
    /// Store or API (which watchers it applies to).
    pub source: WatchSource,
    /// Store prefix it was read from.
    pub prefix: String,
    /// First revision covered.
    pub from_revision: i64,
    /// Last revision covered.
    pub to_revision: i64,
    /// Events in order: (revision, key, "put"/"delete").
    pub events: Vec<(i64, String, String)>,
}

/// What the objects workload saw about its Deployments and pods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum ObjectsObs {
    /// At `at`, deployment `name` had `pods` live pods while `replicas` (and
    /// `max_surge`) were its spec.
    PodCount {
        /// When.
        at: Nanos,
        /// Deployment name.
        name: String,
        /// Its spec.replicas at the time.
        replicas: i32,
        /// Allowed surge.
        max_surge: i32,
        /// Non-terminating pods owned by it.
        pods: i32,
    },
    /// A pod's nodeName was seen changing from one node to another.
    Rebound {
        /// When.
        at: Nanos,
        /// Pod namespace/name.
        pod: String,
        /// First node.
        from: String,
        /// Second node.
        to: String,
    },
    /// After faults healed, whether each deployment converged.
    Converged {
        /// When the check ended.
        at: Nanos,
        /// Deployment name.
        name: String,
        /// Wanted replicas.
        replicas: i32,
        /// Ready pods at the end.
        ready: i32,
        /// Whether it reached `replicas` in time.
        ok: bool,
    },
}

/// What was durably visible once the run ended and every fault was healed:
/// per register key, the values whose write-log entries exist (each
/// register write also records its value under a log prefix in the same
/// transaction, so an acknowledged write leaves a permanent trace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalState {
    /// When it was read.
    pub at: Nanos,
    /// Key -> values logged for it.
    pub logged: std::collections::BTreeMap<String, Vec<i64>>,
}

/// Errors reading or writing history files.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// I/O on the file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A line that is not a record.
    #[error("{path}:{line}: not a history record ({source}); is this a chaos history.jsonl?")]
    Parse {
        /// File.
        path: String,
        /// 1-based line.
        line: usize,
        /// Cause.
        source: serde_json::Error,
    },
}

/// A whole history in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Records in the order they were written.
    pub records: Vec<Record>,
}

impl History {
    /// Reads a JSON-lines history file.
    pub fn load(path: &Path) -> Result<History, HistoryError> {
        let p = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| HistoryError::Io { path: p.clone(), source })?;
        let mut records = Vec::new();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|source| HistoryError::Io { path: p.clone(), source })?;
            if line.trim().is_empty() {
                continue;
            }
            let r = serde_json::from_str(&line).map_err(|source| HistoryError::Parse {
                path: p.clone(),
                line: i + 1,
                source,
            })?;
            records.push(r);
        }
        Ok(History { records })
    }

    /// Writes it as JSON lines.
    pub fn save(&self, path: &Path) -> Result<(), HistoryError> {
        let p = path.display().to_string();
        let io = |source| HistoryError::Io { path: p.clone(), source };
        let f = std::fs::File::create(path).map_err(io)?;
        let mut w = std::io::BufWriter::new(f);
        for r in &self.records {
            serde_json::to_writer(&mut w, r).map_err(|e| io(std::io::Error::other(e)))?;
            w.write_all(b"\n").map_err(io)?;
        }
        w.flush().map_err(io)
    }

    /// The run's metadata, if recorded.
    pub fn meta(&self) -> Option<&RunMeta> {
        self.records.iter().find_map(|r| match r {
            Record::Meta(m) => Some(m),
            _ => None,
        })
    }

    /// All client operations.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.records.iter().filter_map(|r| match r {
            Record::Op(o) => Some(o),
            _ => None,
        })
    }

    /// All faults.
    pub fn faults(&self) -> impl Iterator<Item = &Fault> {
        self.records.iter().filter_map(|r| match r {
            Record::Fault(f) => Some(f),
            _ => None,
        })
    }

    /// All leader observations.
    pub fn leaders(&self) -> impl Iterator<Item = &LeaderObs> {
        self.records.iter().filter_map(|r| match r {
            Record::Leader(l) => Some(l),
            _ => None,
        })
    }
}
