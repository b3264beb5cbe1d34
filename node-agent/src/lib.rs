//! Helmsman's node agent (the kubelet's job).
//!
//! An agent dials any control-plane replica ([`servers`]), registers its
//! Node and renews its Lease ([`agent`], [`node`]), follows a resumable
//! stream of the pods assigned to it ([`stream`], [`assignments`]), runs
//! one worker per pod ([`manager`], [`pod`]) on a container [`runtime`]
//! (Docker through bollard, or in-memory "hollow" pods for scale tests),
//! reports status in batches ([`reporter`]) and serves `kubectl logs` /
//! `exec` over tunnels it opens itself ([`tunnel`]). [`hollow`] runs
//! thousands of hollow nodes in one process. [`cli`] is the binary's
//! command line.

pub mod agent;
pub mod assignments;
pub mod cli;
pub mod hollow;
pub mod lookup;
pub mod manager;
pub mod node;
pub mod pod;
pub mod reporter;
pub mod runtime;
pub mod servers;
pub mod sources;
pub mod stream;
pub mod tunnel;
