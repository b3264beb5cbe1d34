//! Finding or creating a Deployment's new ReplicaSet and keeping revisions in
//! sync (upstream `getNewReplicaSet`).
//!
//! Guarantees: the new ReplicaSet is the oldest owned one whose template
//! equals the Deployment's ignoring `pod-template-hash`; its revision becomes
//! max(old revisions) + 1 when lower (a rollback appends the former revision
//! to the revision history); the Deployment's revision annotation follows
//! it. A created ReplicaSet is named "<deployment>-<hash>", carries the hash
//! in its selector, labels and template labels, the Deployment's annotations,
//! revision and replicas annotations, and an initial size bounded by
//! maxSurge. A name already taken by a different ReplicaSet bumps
//! `status.collisionCount` instead (the next sync uses another hash).

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::controllers::workloads::claim::controller_owner_ref;
use crate::controllers::workloads::deployment_status::{
    get_condition, new_condition, set_condition, FOUND_NEW_RS, NEW_RS_CREATED, PROGRESSING,
};
use crate::controllers::workloads::deployment_sync::{selector_of, DeploymentSync, Flow};
use crate::controllers::workloads::fenceposts::{is_rolling_update, max_total_replicas};
use crate::controllers::workloads::rs_annotations::{
    bump_revision, copy_deployment_annotations, set_replicas_annotations, POD_TEMPLATE_HASH, REVISION,
};
use crate::controllers::workloads::rs_view::RsView;
use crate::controllers::workloads::template_hash::{pod_template_hash, templates_equal_ignore_hash};

impl DeploymentSync<'_> {
    /// The owned ReplicaSet whose template equals the Deployment's.
    pub fn find_new(&self) -> Option<usize> {
        let template = self.d.spec.as_ref().map(|s| &s.template)?;
        self.by_creation(&self.all_indices())
            .into_iter()
            .find(|i| self.views[*i].template().is_some_and(|t| templates_equal_ignore_hash(t, template)))
    }

    /// Locate the new ReplicaSet, sync its revision/annotations, and create
    /// it when missing and `create` is set.
    pub fn sync_revision(&mut self, create: bool) -> Flow {
        self.new_idx = self.find_new();
        let old = self.old_indices();
        let new_revision = old.iter().map(|i| self.views[*i].revision()).max().unwrap_or(0).saturating_add(1);
        match self.new_idx {
            Some(idx) => {
                self.refresh_existing(idx, new_revision);
                Flow::Continue
            }
            None if create => self.create_new(new_revision),
            None => Flow::Continue,
        }
    }

    fn deployment_annotations(&self) -> std::collections::BTreeMap<String, String> {
        self.d.metadata.annotations.clone().unwrap_or_default()
    }

    fn min_ready_seconds(&self) -> i32 {
        self.d.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0)
    }

    fn refresh_existing(&mut self, idx: usize, new_revision: i64) {
        let annotations = self.deployment_annotations();
        let min_ready = self.min_ready_seconds();
        let view = &mut self.views[idx];
        copy_deployment_annotations(&annotations, &mut view.annotations);
        bump_revision(&mut view.annotations, new_revision);
        view.min_ready_seconds = min_ready;
        if let Some(rev) = view.annotations.get(REVISION) {
            self.revision = Some(rev.clone());
        }
        if self.has_deadline() && get_condition(&self.status, PROGRESSING).is_none() {
            let msg = format!("Found new replica set \"{}\"", self.views[idx].name());
            set_condition(&mut self.status, new_condition(PROGRESSING, "True", FOUND_NEW_RS, msg, self.now));
        }
    }

    fn name_taken(&self, name: &str) -> bool {
        let ns = &self.d.metadata.namespace;
        self.all_rss.iter().any(|rs| rs.metadata.name.as_deref() == Some(name) && &rs.metadata.namespace == ns)
    }

    fn create_new(&mut self, revision: i64) -> Flow {
        let Some(spec) = self.d.spec.as_ref() else { return Flow::Continue };
        let hash = pod_template_hash(&spec.template, self.status.collision_count);
        let name = format!("{}-{}", self.name(), hash);
        if self.name_taken(&name) {
            self.status.collision_count = Some(self.status.collision_count.unwrap_or(0).saturating_add(1));
            return Flow::Abort;
        }
        let rs = self.build_replicaset(name.clone(), &hash, revision);
        self.views.push(RsView::created(rs, self.now));
        let idx = self.views.len() - 1;
        self.new_idx = Some(idx);
        self.views[idx].replicas = self.new_rs_new_replicas(idx);
        if self.views[idx].replicas > 0 {
            self.mark_scaled(idx);
        }
        if self.has_deadline() {
            let msg = format!("Created new replica set \"{name}\"");
            set_condition(&mut self.status, new_condition(PROGRESSING, "True", NEW_RS_CREATED, msg, self.now));
        }
        self.revision = Some(revision.to_string());
        Flow::Continue
    }

    fn build_replicaset(&self, name: String, hash: &str, revision: i64) -> ReplicaSet {
        let mut template: PodTemplateSpec = self.d.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let tmeta = template.metadata.get_or_insert_with(Default::default);
        tmeta.labels.get_or_insert_with(Default::default).insert(POD_TEMPLATE_HASH.into(), hash.into());
        let labels = tmeta.labels.clone();
        let mut selector = selector_of(self.d).clone();
        selector.match_labels.get_or_insert_with(Default::default).insert(POD_TEMPLATE_HASH.into(), hash.into());
        let mut annotations = Default::default();
        copy_deployment_annotations(&self.deployment_annotations(), &mut annotations);
        bump_revision(&mut annotations, revision);
        let desired = self.desired();
        set_replicas_annotations(&mut annotations, desired, max_total_replicas(self.d));
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: self.d.metadata.namespace.clone(),
                labels,
                annotations: Some(annotations),
                owner_references: Some(vec![controller_owner_ref("apps/v1", "Deployment", &self.d.metadata)]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: Some(self.min_ready_seconds()),
                selector,
                template: Some(template),
            }),
            status: None,
        }
    }

    /// The size the new ReplicaSet may grow to now (upstream
    /// `NewRSNewReplicas`): the full size for Recreate; for RollingUpdate as
    /// far as replicas + maxSurge allows across all ReplicaSets.
    pub fn new_rs_new_replicas(&self, idx: usize) -> i32 {
        let desired = self.desired();
        if !is_rolling_update(self.d) {
            return desired;
        }
        let current = self.views[idx].replicas;
        let total = self.sum(&self.all_indices(), |v| v.replicas);
        let max_total = max_total_replicas(self.d);
        if total >= max_total {
            return current;
        }
        current + (max_total - total).min(desired - current)
    }
}
