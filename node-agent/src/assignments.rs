//! The node's assignment set: every pod bound to this node, as of a
//! revision, kept in sync from the dispatcher's stream and persisted.
//!
//! Guarantees:
//! - [`AssignmentSet::apply`] is pure: a COMPLETE message replaces the set,
//!   an INCREMENTAL one upserts and removes pods, PROGRESS only moves the
//!   revision; the revision never goes backwards (an older message is
//!   ignored), so resuming from [`AssignmentSet::revision`] on any replica
//!   neither misses nor repeats a change.
//! - [`save`] writes the set atomically (temporary file, fsync, rename,
//!   fsync of the directory): after a crash the file holds either the old
//!   or the new set, never a torn one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use proto::agent::{assignments::Kind, Assignments};
use serde::{Deserialize, Serialize};

/// One assigned pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assigned {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The Pod as Kubernetes JSON.
    #[serde(with = "json_bytes")]
    pub pod: Bytes,
}

/// The pod's JSON is kept byte for byte (as a string), so a reloaded set
/// compares equal to the one saved.
mod json_bytes {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        std::str::from_utf8(b).map_err(serde::ser::Error::custom)?.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        Ok(Bytes::from(String::deserialize(d)?))
    }
}

/// A change to the set, for the pod manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new or changed pod (uid).
    Upsert(String),
    /// A pod left the node (uid).
    Removed(String),
}

/// The set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentSet {
    /// The revision the set is at; 0 before the first message.
    pub revision: i64,
    /// uid → pod.
    pub pods: BTreeMap<String, Assigned>,
}

impl AssignmentSet {
    /// Apply one stream message; returns what changed.
    pub fn apply(&mut self, msg: &Assignments) -> Vec<Change> {
        let kind = Kind::try_from(msg.kind).unwrap_or(Kind::Unspecified);
        if msg.revision < self.revision && kind != Kind::Complete {
            return Vec::new();
        }
        let mut changes = Vec::new();
        match kind {
            Kind::Complete => {
                let mut next = BTreeMap::new();
                for p in msg.pods.iter().filter(|p| !p.removed) {
                    next.insert(
                        p.uid.clone(),
                        Assigned {
                            namespace: p.namespace.clone(),
                            name: p.name.clone(),
                            pod: Bytes::from(p.pod.clone()),
                        },
                    );
                }
                for uid in self.pods.keys().filter(|u| !next.contains_key(*u)) {
                    changes.push(Change::Removed(uid.clone()));
                }
                for (uid, a) in &next {
                    if self.pods.get(uid) != Some(a) {
                        changes.push(Change::Upsert(uid.clone()));
                    }
                }
                self.pods = next;
            }
            Kind::Incremental => {
                for p in &msg.pods {
                    if p.removed {
                        if self.pods.remove(&p.uid).is_some() {
                            changes.push(Change::Removed(p.uid.clone()));
                        }
                    } else {
                        let a = Assigned {
                            namespace: p.namespace.clone(),
                            name: p.name.clone(),
                            pod: Bytes::from(p.pod.clone()),
                        };
                        if self.pods.get(&p.uid) != Some(&a) {
                            self.pods.insert(p.uid.clone(), a);
                            changes.push(Change::Upsert(p.uid.clone()));
                        }
                    }
                }
            }
            Kind::Progress | Kind::Unspecified => {}
        }
        self.revision = self.revision.max(msg.revision);
        if kind == Kind::Complete {
            self.revision = msg.revision;
        }
        changes
    }
}

/// Errors loading or saving the set.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a saved set.
    #[error("{path} is not a saved assignment set ({reason}); move it away to start from the control plane's state")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The file under the data dir.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("assignments.json")
}

/// Load the saved set (empty when there is none).
pub fn load(data_dir: &Path) -> Result<AssignmentSet, StoreError> {
    let path = path_in(data_dir);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt { path, reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AssignmentSet::default()),
        Err(source) => Err(StoreError::Io { path, source }),
    }
}

/// Save the set atomically.
pub fn save(data_dir: &Path, set: &AssignmentSet) -> Result<(), StoreError> {
    let path = path_in(data_dir);
    let io = |source| StoreError::Io { path: path.clone(), source };
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let tmp = data_dir.join("assignments.json.tmp");
    let body =
        serde_json::to_vec(set).map_err(|e| StoreError::Corrupt { path: path.clone(), reason: e.to_string() })?;
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&body).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, &path).map_err(io)?;
    std::fs::File::open(data_dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proto::agent::PodChange;

    use super::*;

    fn pod(uid: &str, v: u32) -> PodChange {
        PodChange {
            namespace: "default".into(),
            name: format!("p-{uid}"),
            uid: uid.into(),
            removed: false,
            pod: format!(r#"{{"metadata":{{"uid":"{uid}","resourceVersion":"{v}"}}}}"#).into_bytes(),
        }
    }

    fn gone(uid: &str) -> PodChange {
        PodChange { namespace: "default".into(), name: format!("p-{uid}"), uid: uid.into(), removed: true, pod: vec![] }
    }

    fn msg(kind: Kind, revision: i64, pods: Vec<PodChange>) -> Assignments {
        Assignments { kind: kind as i32, revision, pods }
    }

    #[test]
    fn complete_then_incremental_then_complete() {
        let mut s = AssignmentSet::default();
        let c = s.apply(&msg(Kind::Complete, 10, vec![pod("a", 1), pod("b", 2)]));
        assert_eq!(c, vec![Change::Upsert("a".into()), Change::Upsert("b".into())]);
        let c = s.apply(&msg(Kind::Incremental, 12, vec![pod("a", 11), gone("b"), pod("c", 12)]));
        assert_eq!(c, vec![Change::Upsert("a".into()), Change::Removed("b".into()), Change::Upsert("c".into())]);
        assert_eq!(s.revision, 12);
        // A re-list: c went away unseen, a is unchanged.
        let c = s.apply(&msg(Kind::Complete, 20, vec![pod("a", 11)]));
        assert_eq!(c, vec![Change::Removed("c".into())]);
        assert_eq!(s.revision, 20);
    }

    #[test]
    fn old_messages_and_progress_never_move_backwards() {
        let mut s = AssignmentSet::default();
        s.apply(&msg(Kind::Complete, 10, vec![pod("a", 1)]));
        assert!(s.apply(&msg(Kind::Incremental, 5, vec![gone("a")])).is_empty());
        assert!(s.pods.contains_key("a"));
        s.apply(&msg(Kind::Progress, 30, vec![]));
        assert_eq!(s.revision, 30);
        s.apply(&msg(Kind::Progress, 25, vec![]));
        assert_eq!(s.revision, 30);
    }

    #[test]
    fn saved_sets_load_back_and_corruption_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), AssignmentSet::default());
        let mut s = AssignmentSet::default();
        s.apply(&msg(Kind::Complete, 7, vec![pod("a", 1)]));
        save(dir.path(), &s).unwrap();
        assert_eq!(load(dir.path()).unwrap(), s);
        std::fs::write(path_in(dir.path()), b"{not json").unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("move it away"), "{e}");
    }
}
