//! What a Job stamps onto the objects it manages: its generated selector and labels, and the
//! pods it creates from `spec.template`.
//!
//! Guarantees:
//! - [`with_generated_selector`] is the only change made to a job's spec: when `spec.selector` is
//!   missing it sets `matchLabels {batch.kubernetes.io/controller-uid: <uid>}` and adds the labels
//!   `batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name`, `controller-uid`,
//!   `job-name` to the pod template (upstream does this at admission; Helmsman does it in the
//!   controller). A job without labels of its own gets the template's labels, as upstream
//!   defaulting does.
//! - [`new_pod`] copies the template's labels, annotations and spec, always adds the four job
//!   labels (so the pod matches the generated selector), names it with `generateName: <job>-`
//!   and makes the job its controller (blockOwnerDeletion). In Indexed mode the pod also gets the
//!   `batch.kubernetes.io/job-completion-index` annotation and label, hostname `<job>-<index>`
//!   (unless the template sets one) and the `JOB_COMPLETION_INDEX` environment variable (a plain
//!   value, not a downward-API reference) in every container.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, EnvVar, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::controllers::batch::job_index::{COMPLETION_INDEX_ENV, COMPLETION_INDEX_KEY};
use crate::controllers::batch::job_pods::job_owner_ref;

/// Label with the owning job's uid (the generated selector's key).
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
/// Label with the owning job's name.
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
/// Legacy form of [`CONTROLLER_UID_LABEL`].
pub const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
/// Legacy form of [`JOB_NAME_LABEL`].
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";

fn name_uid(job: &Job) -> (&str, &str) {
    (job.metadata.name.as_deref().unwrap_or(""), job.metadata.uid.as_deref().unwrap_or(""))
}

/// The four labels identifying the pods of the job.
pub fn job_labels(job: &Job) -> BTreeMap<String, String> {
    let (name, uid) = name_uid(job);
    [
        (CONTROLLER_UID_LABEL, uid),
        (JOB_NAME_LABEL, name),
        (LEGACY_CONTROLLER_UID_LABEL, uid),
        (LEGACY_JOB_NAME_LABEL, name),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The job with a generated selector and template labels, or `None` when it already has a
/// selector (or has no uid to generate one from).
pub fn with_generated_selector(job: &Job) -> Option<Job> {
    let (_, uid) = name_uid(job);
    let spec = job.spec.as_ref()?;
    if spec.selector.is_some() || uid.is_empty() {
        return None;
    }
    let mut out = job.clone();
    let spec = out.spec.as_mut()?;
    spec.selector = Some(LabelSelector {
        match_labels: Some([(CONTROLLER_UID_LABEL.to_string(), uid.to_string())].into()),
        match_expressions: None,
    });
    let template_meta = spec.template.metadata.get_or_insert_with(Default::default);
    template_meta.labels.get_or_insert_with(Default::default).extend(job_labels(job));
    let template_labels = template_meta.labels.clone();
    if out.metadata.labels.as_ref().map(|l| l.is_empty()).unwrap_or(true) {
        out.metadata.labels = template_labels;
    }
    Some(out)
}

/// The pod to create for `job`; `index` is the completion index in Indexed mode.
pub fn new_pod(job: &Job, index: Option<i32>) -> Pod {
    let (name, _) = name_uid(job);
    let template = job.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let mut labels = template_meta.labels.unwrap_or_default();
    for (k, v) in job_labels(job) {
        labels.entry(k).or_insert(v);
    }
    let mut annotations = template_meta.annotations.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    let generate_name = match index {
        Some(i) => {
            labels.insert(COMPLETION_INDEX_KEY.to_string(), i.to_string());
            annotations.insert(COMPLETION_INDEX_KEY.to_string(), i.to_string());
            set_index_in_spec(&mut spec, name, i);
            format!("{name}-{i}-")
        }
        None => format!("{name}-"),
    };
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            owner_references: Some(vec![job_owner_ref(job)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

fn set_index_in_spec(spec: &mut PodSpec, job_name: &str, index: i32) {
    if spec.hostname.as_deref().map(|h| h.is_empty()).unwrap_or(true) {
        spec.hostname = Some(format!("{job_name}-{index}"));
    }
    let add_env = |c: &mut Container| {
        let env = c.env.get_or_insert_with(Vec::new);
        env.retain(|e| e.name != COMPLETION_INDEX_ENV);
        env.push(EnvVar { name: COMPLETION_INDEX_ENV.to_string(), value: Some(index.to_string()), value_from: None });
    };
    spec.containers.iter_mut().for_each(add_env);
    spec.init_containers.iter_mut().flatten().for_each(add_env);
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::JobSpec;
    use k8s_openapi::api::core::v1::PodTemplateSpec;

    fn job() -> Job {
        Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                namespace: Some("ns".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(JobSpec {
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("app".to_string(), "pi".to_string())].into()),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container { name: "c".into(), ..Default::default() }],
                        restart_policy: Some("Never".into()),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn generates_selector_and_labels_once() {
        let updated = with_generated_selector(&job()).expect("generated");
        let spec = updated.spec.as_ref().expect("spec");
        let sel = spec.selector.as_ref().and_then(|s| s.match_labels.as_ref()).expect("labels");
        assert_eq!(sel.get(CONTROLLER_UID_LABEL).map(String::as_str), Some("u1"));
        let tl = spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()).expect("template labels");
        assert_eq!(tl.get("app").map(String::as_str), Some("pi"));
        assert_eq!(tl.get(JOB_NAME_LABEL).map(String::as_str), Some("pi"));
        assert_eq!(tl.get(LEGACY_JOB_NAME_LABEL).map(String::as_str), Some("pi"));
        assert_eq!(tl.get(LEGACY_CONTROLLER_UID_LABEL).map(String::as_str), Some("u1"));
        assert_eq!(updated.metadata.labels.as_ref(), Some(tl));
        assert!(with_generated_selector(&updated).is_none());
    }

    #[test]
    fn pod_from_template() {
        let pod = new_pod(&job(), None);
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("pi-"));
        assert_eq!(pod.metadata.namespace.as_deref(), Some("ns"));
        let labels = pod.metadata.labels.as_ref().expect("labels");
        assert_eq!(labels.get(CONTROLLER_UID_LABEL).map(String::as_str), Some("u1"));
        assert_eq!(labels.get("app").map(String::as_str), Some("pi"));
        let owner = &pod.metadata.owner_references.as_ref().expect("owner")[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("Job", "u1", Some(true)));
        assert_eq!(pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()), Some("Never"));
        assert!(pod.spec.as_ref().and_then(|s| s.hostname.as_ref()).is_none());
    }

    #[test]
    fn indexed_pod_carries_index() {
        let pod = new_pod(&job(), Some(3));
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("pi-3-"));
        let ann = pod.metadata.annotations.as_ref().and_then(|a| a.get(COMPLETION_INDEX_KEY));
        assert_eq!(ann.map(String::as_str), Some("3"));
        let spec = pod.spec.as_ref().expect("spec");
        assert_eq!(spec.hostname.as_deref(), Some("pi-3"));
        let env = spec.containers[0].env.as_ref().expect("env");
        assert_eq!((env[0].name.as_str(), env[0].value.as_deref()), (COMPLETION_INDEX_ENV, Some("3")));
    }
}
