//! The container runtimes against the shared conformance suite: Docker on
//! this machine's engine, and the in-memory hollow runtime.

mod conformance;
mod docker;
