//! Pure reconcile logic of the Kubernetes ReplicaSet and Deployment
//! controllers: inputs in, intended writes ([`crate::runtime::action::Action`]) out.

pub mod claim;
pub mod deployment;
pub mod deployment_status;
pub mod deployment_sync;
pub mod fenceposts;
pub mod new_replicaset;
pub mod pod_ranking;
pub mod pod_state;
pub mod proportional;
pub mod replicaset;
pub mod rollout;
pub mod rollout_status;
pub mod rs_annotations;
pub mod rs_view;
pub mod template_hash;
#[cfg(test)]
mod test_sim;
