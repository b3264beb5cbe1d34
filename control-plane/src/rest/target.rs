//! What a request path names: a discovery document, or a resource
//! (collection, object, subresource) in a namespace or cluster-wide.

use serde_json::Value;

use super::discovery;
use crate::error::ApiError;
use crate::registry::kinds::by_resource;
use crate::registry::Kind;

/// A resource request.
#[derive(Debug)]
pub struct Target {
    /// The kind.
    pub kind: &'static Kind,
    /// Namespace from the path.
    pub namespace: Option<String>,
    /// Object name (None = collection).
    pub name: Option<String>,
    /// Subresource (`status`, `scale`, `log`).
    pub sub: Option<String>,
}

/// A parsed path.
#[derive(Debug)]
pub enum Parsed {
    /// A discovery document to answer with.
    Discovery(Value),
    /// A resource request.
    Object(Target),
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(404, "NotFound", format!("the server could not find the requested resource ({path})"))
}

/// Parse `/api/v1/...` or `/apis/<group>/<version>/...`.
pub fn parse(path: &str) -> Result<Parsed, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", g] => return discovery::api_group(g).map(Parsed::Discovery).ok_or_else(|| not_found(path)),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(not_found(path)),
    };
    if rest.is_empty() {
        return discovery::resource_list(group, version).map(Parsed::Discovery).ok_or_else(|| not_found(path));
    }
    if rest.iter().any(|s| s.is_empty()) {
        return Err(not_found(path));
    }
    let (namespace, rest) = match rest {
        ["namespaces", ns, res, tail @ ..] if by_resource(group, version, res).is_some_and(|k| k.namespaced) => {
            (Some(ns.to_string()), std::iter::once(*res).chain(tail.iter().copied()).collect::<Vec<_>>())
        }
        _ => (None, rest.to_vec()),
    };
    let kind = by_resource(group, version, rest[0]).ok_or_else(|| not_found(path))?;
    if rest.len() > 3 {
        return Err(not_found(path));
    }
    let name = rest.get(1).map(|s| s.to_string());
    let sub = rest.get(2).map(|s| s.to_string());
    if kind.namespaced && namespace.is_none() && name.is_some() {
        return Err(not_found(path));
    }
    Ok(Parsed::Object(Target { kind, namespace, name, sub }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(p: &str) -> Target {
        match parse(p).unwrap() {
            Parsed::Object(t) => t,
            Parsed::Discovery(_) => panic!("{p} parsed as discovery"),
        }
    }

    #[test]
    fn paths_map_to_resources() {
        let t = obj("/apis/apps/v1/namespaces/default/deployments/web/scale");
        assert_eq!(
            (t.kind.kind, t.namespace.as_deref(), t.name.as_deref(), t.sub.as_deref()),
            ("Deployment", Some("default"), Some("web"), Some("scale"))
        );
        let t = obj("/api/v1/pods");
        assert_eq!((t.kind.kind, t.namespace, t.name), ("Pod", None, None));
        let t = obj("/api/v1/namespaces/kube-system");
        assert_eq!((t.kind.kind, t.name.as_deref()), ("Namespace", Some("kube-system")));
        let t = obj("/api/v1/namespaces/x/status");
        assert_eq!((t.kind.kind, t.name.as_deref(), t.sub.as_deref()), ("Namespace", Some("x"), Some("status")));
        assert!(matches!(parse("/api/v1"), Ok(Parsed::Discovery(_))));
        assert_eq!(parse("/api/v1/widgets").unwrap_err().code, 404);
        assert_eq!(parse("/api/v1/pods/x").unwrap_err().code, 404);
        assert_eq!(parse("/apis/apps/v2/deployments").unwrap_err().code, 404);
    }
}
