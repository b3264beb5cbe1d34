//! The registry: the served kinds and, per kind, defaulting, validation,
//! selectors and table columns.

pub mod defaults;
pub mod kinds;
pub mod names;
pub mod object;
pub mod selector;
pub mod table;
pub mod validation;

pub use kinds::Kind;
