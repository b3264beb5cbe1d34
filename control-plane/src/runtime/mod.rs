//! The controller runtime, as in client-go: [`cache`]s of objects kept
//! current by [`reflector`]s over the leader's own store, a rate-limited
//! [`work_queue`], and the [`controller`] loop that turns a pure decision
//! ([`action::Action`]s) into writes ([`execute`]) and events
//! ([`recorder`]).

pub mod action;
pub mod cache;
pub mod caches;
pub mod controller;
pub mod execute;
pub mod recorder;
pub mod reflector;
pub mod work_queue;
