//! Helpers over objects as Kubernetes JSON: metadata access, server-set
//! fields, and the strict field check (fields the typed model does not have).

use rand::Rng;
use serde_json::{Map, Value};

/// `metadata.name`, if set and a string.
pub fn name(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/name").and_then(Value::as_str)
}

/// `metadata.namespace`, if set and a string.
pub fn namespace(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/namespace").and_then(Value::as_str)
}

/// The metadata object, created if missing or not an object.
pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let m = obj.as_object_mut().expect("made an object above");
    let meta = m.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut().expect("made an object above")
}

/// Set `metadata.resourceVersion`.
pub fn set_resource_version(obj: &mut Value, rv: i64) {
    meta_mut(obj).insert("resourceVersion".into(), Value::String(rv.to_string()));
}

/// `metadata.resourceVersion` as a revision (0 when absent).
pub fn resource_version(obj: &Value) -> i64 {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null())
}

/// `metadata.finalizers` (empty when absent).
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The current time as Kubernetes writes timestamps (RFC 3339, seconds, UTC).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A random RFC 4122 version 4 UUID.
pub fn new_uid() -> String {
    let mut b: [u8; 16] = rand::thread_rng().gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `generateName` completion: the prefix plus five characters from the
/// alphabet Kubernetes uses (no vowels, no look-alike digits).
pub fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::thread_rng();
    let suffix: String = (0..5).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    // Kubernetes trims the prefix so the whole name fits 63 characters.
    let keep = prefix.len().min(58);
    format!("{}{}", &prefix[..prefix.floor_char_boundary(keep)], suffix)
}

/// Paths (`spec.foo`, `spec.containers[0].bar`) of fields in `input` that
/// the typed model dropped from `canonical`. Null values count as absent.
pub fn unknown_fields(input: &Value, canonical: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(input, canonical, String::new(), &mut out, 0);
    out
}

fn walk(input: &Value, canonical: &Value, path: String, out: &mut Vec<String>, depth: usize) {
    if depth > 128 {
        return;
    }
    match (input, canonical) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match b.get(k) {
                    Some(w) => walk(v, w, p, out, depth + 1),
                    None if v.is_null() => {}
                    None => out.push(p),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b.iter()).enumerate() {
                walk(v, w, format!("{path}[{i}]"), out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Depth of nesting of a JSON value (objects and arrays).
pub fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Object(m) => stack.extend(m.values().map(|c| (c, d + 1))),
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_reported_with_paths() {
        let input = json!({"spec": {"replicas": 1, "bogus": 2, "template": {"spec": {"containers": [{"name": "c", "imagee": "x"}]}}}, "x": null});
        let canonical = json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c"}]}}}});
        assert_eq!(unknown_fields(&input, &canonical), vec!["spec.bogus", "spec.template.spec.containers[0].imagee"]);
    }

    #[test]
    fn generated_names_and_uids_have_the_kubernetes_shape() {
        let n = generate_name("web-");
        assert_eq!(n.len(), 9);
        assert!(n.starts_with("web-"));
        assert!(n[4..].chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(new_uid(), u);
    }

    #[test]
    fn depth_counts_nesting() {
        assert_eq!(depth(&json!(1)), 1);
        assert_eq!(depth(&json!({"a": [{"b": 1}]})), 4);
    }
}
