//! Resolution of a container's environment (`env`, `envFrom`) and of
//! Kubernetes' `$(VAR)` expansion in env values, `command` and `args`.
//!
//! Guarantees (as the kubelet):
//! - `envFrom` entries come first, in order, then `env`; a later name
//!   replaces an earlier one in place.
//! - A missing non-optional ConfigMap/Secret or key is an error whose text
//!   is Kubernetes' (`configmap "x" not found`, `couldn't find key k in
//!   ConfigMap ns/x`); the worker shows it as `CreateContainerConfigError`.
//! - `$(VAR)` in an env value sees the variables defined before it;
//!   `command`/`args` see the whole environment; `$$` escapes `$`; an
//!   unknown reference stays as written.
//! - Pure: the objects come in already fetched ([`Objects`]).

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Container, Pod};

use super::objects::{Objects, Wanted};

/// Errors resolving an environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A non-optional ConfigMap does not exist.
    #[error("configmap {0:?} not found")]
    ConfigMapNotFound(String),
    /// A non-optional key is not in the ConfigMap.
    #[error("couldn't find key {key} in ConfigMap {namespace}/{name}")]
    ConfigMapKey {
        /// Namespace.
        namespace: String,
        /// ConfigMap name.
        name: String,
        /// Missing key.
        key: String,
    },
    /// A non-optional Secret does not exist.
    #[error("secret {0:?} not found")]
    SecretNotFound(String),
    /// A non-optional key is not in the Secret.
    #[error("couldn't find key {key} in Secret {namespace}/{name}")]
    SecretKey {
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// Missing key.
        key: String,
    },
    /// A field path or source this agent does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Secret data that is not UTF-8 text.
    #[error("secret {name:?} key {key} is not valid UTF-8")]
    NotUtf8 {
        /// Secret name.
        name: String,
        /// Key.
        key: String,
    },
}

/// Pod facts `fieldRef` reads that are not in the pod object itself.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The pod.
    pub pod: &'a Pod,
    /// The pod's IP (sandbox).
    pub pod_ip: &'a str,
    /// The node's IP.
    pub host_ip: &'a str,
    /// The node's name.
    pub node: &'a str,
}

/// The ConfigMaps and Secrets `c`'s environment refers to.
pub fn wanted(c: &Container) -> Wanted {
    let mut w = Wanted::default();
    for e in c.env_from.iter().flatten() {
        if let Some(r) = &e.config_map_ref {
            w.config_maps.insert(r.name.clone());
        }
        if let Some(r) = &e.secret_ref {
            w.secrets.insert(r.name.clone());
        }
    }
    for e in c.env.iter().flatten() {
        let Some(from) = &e.value_from else { continue };
        if let Some(r) = &from.config_map_key_ref {
            w.config_maps.insert(r.name.clone());
        }
        if let Some(r) = &from.secret_key_ref {
            w.secrets.insert(r.name.clone());
        }
    }
    w
}

/// An ordered environment with replace-in-place on duplicate names.
#[derive(Debug, Default)]
struct EnvList {
    vars: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl EnvList {
    fn set(&mut self, name: String, value: String) {
        match self.index.get(&name) {
            Some(&i) => self.vars[i].1 = value,
            None => {
                self.index.insert(name.clone(), self.vars.len());
                self.vars.push((name, value));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.index.get(name).map(|&i| self.vars[i].1.as_str())
    }
}

fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

fn secret_text(name: &str, key: &str, v: &k8s_openapi::ByteString) -> Result<String, EnvError> {
    String::from_utf8(v.0.clone()).map_err(|_| EnvError::NotUtf8 { name: name.into(), key: key.into() })
}

fn field_value(path: &str, f: &Facts<'_>) -> Result<String, EnvError> {
    let m = &f.pod.metadata;
    let spec = f.pod.spec.as_ref();
    let map_key = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix("['").and_then(|r| r.strip_suffix("']")))
            .map(str::to_string)
    };
    Ok(match path {
        "metadata.name" => m.name.clone().unwrap_or_default(),
        "metadata.namespace" => namespace(f.pod).to_string(),
        "metadata.uid" => m.uid.clone().unwrap_or_default(),
        "status.podIP" | "status.podIPs" => f.pod_ip.to_string(),
        "status.hostIP" | "status.hostIPs" => f.host_ip.to_string(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_else(|| f.node.to_string()),
        "spec.serviceAccountName" => {
            spec.and_then(|s| s.service_account_name.clone()).unwrap_or_else(|| "default".into())
        }
        _ => {
            if let Some(k) = map_key("metadata.labels") {
                m.labels.as_ref().and_then(|l| l.get(&k)).cloned().unwrap_or_default()
            } else if let Some(k) = map_key("metadata.annotations") {
                m.annotations.as_ref().and_then(|l| l.get(&k)).cloned().unwrap_or_default()
            } else {
                return Err(EnvError::Unsupported(format!("fieldRef {path}")));
            }
        }
    })
}

/// Resolve `c`'s environment.
pub fn resolve(c: &Container, objects: &Objects, facts: &Facts<'_>) -> Result<Vec<(String, String)>, EnvError> {
    let ns = namespace(facts.pod);
    let mut env = EnvList::default();
    for from in c.env_from.iter().flatten() {
        let prefix = from.prefix.as_deref().unwrap_or("");
        if let Some(r) = &from.config_map_ref {
            match objects.config_map(&r.name) {
                Some(cm) => {
                    for (k, v) in cm.data.iter().flatten() {
                        env.set(format!("{prefix}{k}"), v.clone());
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(EnvError::ConfigMapNotFound(r.name.clone())),
            }
        }
        if let Some(r) = &from.secret_ref {
            match objects.secret(&r.name) {
                Some(s) => {
                    for (k, v) in s.data.iter().flatten() {
                        env.set(format!("{prefix}{k}"), secret_text(&r.name, k, v)?);
                    }
                    for (k, v) in s.string_data.iter().flatten() {
                        env.set(format!("{prefix}{k}"), v.clone());
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(EnvError::SecretNotFound(r.name.clone())),
            }
        }
    }
    for e in c.env.iter().flatten() {
        let value = match &e.value_from {
            None => {
                let raw = e.value.as_deref().unwrap_or("");
                expand(raw, |n| env.get(n))
            }
            Some(from) => {
                if let Some(r) = &from.config_map_key_ref {
                    let optional = r.optional == Some(true);
                    match objects.config_map(&r.name) {
                        None if optional => continue,
                        None => return Err(EnvError::ConfigMapNotFound(r.name.clone())),
                        Some(cm) => match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                            Some(v) => v.clone(),
                            None if optional => continue,
                            None => {
                                return Err(EnvError::ConfigMapKey {
                                    namespace: ns.into(),
                                    name: r.name.clone(),
                                    key: r.key.clone(),
                                })
                            }
                        },
                    }
                } else if let Some(r) = &from.secret_key_ref {
                    let optional = r.optional == Some(true);
                    match objects.secret(&r.name) {
                        None if optional => continue,
                        None => return Err(EnvError::SecretNotFound(r.name.clone())),
                        Some(s) => match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                            Some(v) => secret_text(&r.name, &r.key, v)?,
                            None => match s.string_data.as_ref().and_then(|d| d.get(&r.key)) {
                                Some(v) => v.clone(),
                                None if optional => continue,
                                None => {
                                    return Err(EnvError::SecretKey {
                                        namespace: ns.into(),
                                        name: r.name.clone(),
                                        key: r.key.clone(),
                                    })
                                }
                            },
                        },
                    }
                } else if let Some(r) = &from.field_ref {
                    field_value(&r.field_path, facts)?
                } else if let Some(r) = &from.resource_field_ref {
                    return Err(EnvError::Unsupported(format!("resourceFieldRef {}", r.resource)));
                } else {
                    String::new()
                }
            }
        };
        env.set(e.name.clone(), value);
    }
    Ok(env.vars)
}

/// `command` and `args` with `$(VAR)` expanded from `env`.
pub fn expand_command(c: &Container, env: &[(String, String)]) -> (Option<Vec<String>>, Option<Vec<String>>) {
    if c.command.is_none() && c.args.is_none() {
        return (None, None);
    }
    let map: HashMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let exp =
        |v: &Option<Vec<String>>| v.as_ref().map(|v| v.iter().map(|s| expand(s, |n| map.get(n).copied())).collect());
    (exp(&c.command), exp(&c.args))
}

/// Kubernetes' `$(VAR)` expansion: `$(NAME)` → value when known (else kept
/// as written), `$$` → `$`, any other `$` kept.
pub fn expand<'a>(input: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    if !input.contains('$') {
        return input.to_string();
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('(') {
            match r.find(')') {
                Some(end) => {
                    let name = &r[..end];
                    match lookup(name) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &r[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = r;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ConfigMap, ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource, ObjectFieldSelector,
        PodSpec, Secret, SecretKeySelector,
    };
    use k8s_openapi::ByteString;

    fn pod() -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some("web".into());
        p.metadata.namespace = Some("prod".into());
        p.metadata.uid = Some("u-1".into());
        p.spec = Some(PodSpec { node_name: Some("n1".into()), ..Default::default() });
        p
    }

    fn objects() -> Objects {
        let mut o = Objects::default();
        let cm = ConfigMap {
            data: Some([("A".to_string(), "1".to_string()), ("B".to_string(), "2".to_string())].into()),
            ..Default::default()
        };
        o.config_maps.insert("cm".into(), Some(cm));
        o.config_maps.insert("gone".into(), None);
        let s =
            Secret { data: Some([("pw".to_string(), ByteString(b"hunter2".to_vec()))].into()), ..Default::default() };
        o.secrets.insert("sec".into(), Some(s));
        o
    }

    fn var(name: &str, value: &str) -> EnvVar {
        EnvVar { name: name.into(), value: Some(value.into()), value_from: None }
    }

    fn from(name: &str, src: EnvVarSource) -> EnvVar {
        EnvVar { name: name.into(), value: None, value_from: Some(src) }
    }

    fn cm_key(name: &str, key: &str, optional: bool) -> EnvVarSource {
        EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector {
                name: name.into(),
                key: key.into(),
                optional: Some(optional),
            }),
            ..Default::default()
        }
    }

    fn facts(p: &Pod) -> Facts<'_> {
        Facts { pod: p, pod_ip: "10.0.0.5", host_ip: "192.168.1.2", node: "n1" }
    }

    #[test]
    fn expansion_rules() {
        let look = |n: &str| match n {
            "A" => Some("x"),
            _ => None,
        };
        assert_eq!(expand("$(A)-$(B)", look), "x-$(B)");
        assert_eq!(expand("$$(A) $$ $", look), "$(A) $ $");
        assert_eq!(expand("a$(A", look), "a$(A");
        assert_eq!(expand("$xy", look), "$xy");
    }

    #[test]
    fn env_from_then_env_with_overrides_and_fields() {
        let p = pod();
        let c = Container {
            env_from: Some(vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource { name: "cm".into(), optional: None }),
                prefix: Some("CM_".into()),
                secret_ref: None,
            }]),
            env: Some(vec![
                var("CM_A", "over"),
                from(
                    "PW",
                    EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: "sec".into(),
                            key: "pw".into(),
                            optional: None,
                        }),
                        ..Default::default()
                    },
                ),
                from(
                    "NAME",
                    EnvVarSource {
                        field_ref: Some(ObjectFieldSelector { field_path: "metadata.name".into(), api_version: None }),
                        ..Default::default()
                    },
                ),
                from(
                    "IP",
                    EnvVarSource {
                        field_ref: Some(ObjectFieldSelector { field_path: "status.podIP".into(), api_version: None }),
                        ..Default::default()
                    },
                ),
                from(
                    "NS",
                    EnvVarSource {
                        field_ref: Some(ObjectFieldSelector {
                            field_path: "metadata.namespace".into(),
                            api_version: None,
                        }),
                        ..Default::default()
                    },
                ),
                var("URL", "http://$(IP):$(CM_B)/$(NOPE)"),
                from("OPT", cm_key("gone", "x", true)),
            ]),
            command: Some(vec!["echo".into(), "$(NAME)".into()]),
            args: Some(vec!["$(PW)".into()]),
            ..Default::default()
        };
        let env = resolve(&c, &objects(), &facts(&p)).unwrap();
        let got: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("CM_A", "over"),
                ("CM_B", "2"),
                ("PW", "hunter2"),
                ("NAME", "web"),
                ("IP", "10.0.0.5"),
                ("NS", "prod"),
                ("URL", "http://10.0.0.5:2/$(NOPE)"),
            ]
        );
        let (cmd, args) = expand_command(&c, &env);
        assert_eq!(cmd, Some(vec!["echo".to_string(), "web".to_string()]));
        assert_eq!(args, Some(vec!["hunter2".to_string()]));
    }

    #[test]
    fn missing_objects_and_keys_use_kubernetes_messages() {
        let p = pod();
        let one = |e: EnvVar| Container { env: Some(vec![e]), ..Default::default() };
        let err = |c: &Container| resolve(c, &objects(), &facts(&p)).unwrap_err().to_string();
        assert_eq!(err(&one(from("X", cm_key("gone", "A", false)))), r#"configmap "gone" not found"#);
        assert_eq!(err(&one(from("X", cm_key("cm", "Z", false)))), "couldn't find key Z in ConfigMap prod/cm");
        assert!(resolve(&one(from("X", cm_key("cm", "Z", true))), &objects(), &facts(&p)).unwrap().is_empty());
        let secret = |name: &str, key: &str| EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: name.into(), key: key.into(), optional: None }),
            ..Default::default()
        };
        assert_eq!(err(&one(from("X", secret("nope", "k")))), r#"secret "nope" not found"#);
        assert_eq!(err(&one(from("X", secret("sec", "k")))), "couldn't find key k in Secret prod/sec");
        let bad = EnvVarSource {
            field_ref: Some(ObjectFieldSelector { field_path: "spec.bogus".into(), api_version: None }),
            ..Default::default()
        };
        assert!(err(&one(from("X", bad))).starts_with("unsupported"));
        let missing_from = Container {
            env_from: Some(vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource { name: "gone".into(), optional: None }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(err(&missing_from), r#"configmap "gone" not found"#);
        let w = wanted(&one(from("X", secret("s1", "k"))));
        assert!(w.secrets.contains("s1") && w.config_maps.is_empty());
    }
}
