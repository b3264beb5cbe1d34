//! Checkers: each reads a [`History`] and returns a [`Verdict`]. Every one
//! has unit tests that feed it known-bad histories, and the planted-bug
//! runs (`--plant`) show each catching a real fault end to end.

pub mod election;
pub mod linear;
pub mod lost;
pub mod objects;
pub mod watch;

use std::time::Duration;

use crate::history::{History, Record};
use crate::verdict::Verdict;

/// Runs every checker that applies to what the history holds.
pub fn check_all(h: &History, budget_per_key: Duration) -> Vec<Verdict> {
    let mut out = Vec::new();
    let workloads: Vec<String> = h.meta().map(|m| m.workloads.clone()).unwrap_or_default();
    let has = |w: &str| workloads.iter().any(|x| x == w);
    let any_register = h.ops().any(|o| o.workload == "register");
    if has("register") || any_register {
        out.push(linear::check(h, budget_per_key));
        out.push(lost::check(h));
    }
    if has("watch") || h.records.iter().any(|r| matches!(r, Record::Watch(_))) {
        out.push(watch::check(h));
    }
    if has("objects") || h.records.iter().any(|r| matches!(r, Record::Objects(_))) {
        out.push(objects::check(h));
    }
    out.push(election::check(h));
    out
}
