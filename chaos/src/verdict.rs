//! A checker's verdict. Every checker returns one; the run fails when any
//! verdict is [`Status::Fail`].

use serde::{Deserialize, Serialize};

/// Pass, fail, or could not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The history satisfies the property.
    Pass,
    /// The history violates it.
    Fail,
    /// The checker could not decide (time budget spent, data missing).
    Unknown,
}

/// One checker's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Checker name ("linearizable", "no-lost-writes", "watch", ...).
    pub checker: String,
    /// Pass/fail/unknown.
    pub status: Status,
    /// How much it checked ("4,213 ops on 61 keys").
    pub checked: String,
    /// The violations (each one clear sentence) or why it is unknown.
    pub problems: Vec<String>,
}

impl Verdict {
    /// A passing verdict.
    pub fn pass(checker: &str, checked: String) -> Verdict {
        Verdict { checker: checker.into(), status: Status::Pass, checked, problems: vec![] }
    }

    /// A failing verdict unless `problems` is empty.
    pub fn from_problems(checker: &str, checked: String, problems: Vec<String>) -> Verdict {
        let status = if problems.is_empty() { Status::Pass } else { Status::Fail };
        Verdict { checker: checker.into(), status, checked, problems }
    }
}
