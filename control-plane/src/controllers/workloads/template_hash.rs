//! The `pod-template-hash` of a pod template and template equality ignoring
//! that label.
//!
//! Guarantees: the hash is FNV-1a 32-bit over the template's serde_json
//! serialization (deterministic for a given template) followed by the
//! little-endian collision count when set, rendered upstream-style: the
//! decimal digits of the hash each mapped onto "bcdfghjklmnpqrstvwxz2456789".
//! Equality ignores the `pod-template-hash` label and treats absent, `null`,
//! empty maps and empty lists alike.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

use crate::controllers::workloads::rs_annotations::POD_TEMPLATE_HASH;

const SAFE_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// The pod-template-hash label value for `template`.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let json = serde_json::to_string(template).unwrap_or_default();
    let mut hash = fnv1a(FNV_OFFSET, json.as_bytes());
    if let Some(c) = collision_count {
        hash = fnv1a(hash, &c.to_le_bytes());
    }
    safe_encode(&hash.to_string())
}

fn fnv1a(mut hash: u32, bytes: &[u8]) -> u32 {
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

fn safe_encode(s: &str) -> String {
    s.bytes().map(|b| char::from(SAFE_CHARS[usize::from(b) % SAFE_CHARS.len()])).collect()
}

/// True when the templates are equal once the `pod-template-hash` label is
/// removed from both.
pub fn templates_equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    normalized(a) == normalized(b)
}

fn normalized(t: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(labels) = v.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(POD_TEMPLATE_HASH);
    }
    prune(&mut v);
    v
}

/// Remove nulls, empty objects and empty arrays recursively.
fn prune(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.values_mut().for_each(prune);
            map.retain(|_, x| !is_empty(x));
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn template(image: &str, hash: Option<&str>) -> PodTemplateSpec {
        let mut labels = std::collections::BTreeMap::from([("app".to_string(), "web".to_string())]);
        if let Some(h) = hash {
            labels.insert(POD_TEMPLATE_HASH.into(), h.into());
        }
        PodTemplateSpec {
            metadata: Some(ObjectMeta { labels: Some(labels), ..Default::default() }),
            spec: Some(PodSpec {
                containers: vec![Container { name: "c".into(), image: Some(image.into()), ..Default::default() }],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn hash_is_stable_safe_and_sensitive() {
        let h = pod_template_hash(&template("nginx:1", None), None);
        assert_eq!(h, pod_template_hash(&template("nginx:1", None), None));
        assert!(!h.is_empty() && h.len() <= 10);
        assert!(h.bytes().all(|b| SAFE_CHARS.contains(&b)));
        assert_ne!(h, pod_template_hash(&template("nginx:2", None), None));
        assert_ne!(h, pod_template_hash(&template("nginx:1", None), Some(1)));
    }

    #[test]
    fn equality_ignores_hash_label_and_empties() {
        assert!(templates_equal_ignore_hash(&template("a", Some("xyz")), &template("a", None)));
        assert!(!templates_equal_ignore_hash(&template("a", None), &template("b", None)));
        let mut with_empty = template("a", None);
        if let Some(m) = with_empty.metadata.as_mut() {
            m.annotations = Some(Default::default());
        }
        assert!(templates_equal_ignore_hash(&with_empty, &template("a", None)));
    }
}
