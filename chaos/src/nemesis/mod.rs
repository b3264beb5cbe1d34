//! Nemeses: the faults chaos injects. [`kind`] names them, [`plan`] decides
//! (purely, from a seeded RNG and who leads) what a fault does, and
//! [`runner`] applies a schedule of them to a [`crate::cluster::Harness`]
//! and heals each one before the next.

pub mod kind;
pub mod plan;
pub mod runner;

pub use kind::NemesisKind;
pub use plan::{plan, Action};
