//! ConfigMaps and Secrets for pod environments and volumes, read through
//! the control plane's `Resources` API on the current replica (failing
//! over like every other call).

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use proto::api::{GetRequest, ResourceRef};
use serde::de::DeserializeOwned;

use crate::runtime::BoxFut;
use crate::servers::{should_fail_over, Servers};

/// Reads objects over gRPC.
pub struct GrpcSources {
    servers: Arc<Servers>,
}

impl GrpcSources {
    /// Read through `servers`.
    pub fn new(servers: Arc<Servers>) -> Self {
        GrpcSources { servers }
    }

    async fn get<T: DeserializeOwned>(&self, resource: &str, ns: &str, name: &str) -> Result<Option<T>, String> {
        let mut last = String::new();
        for _ in 0..self.servers.urls().len().max(1) {
            let (idx, mut client) = self.servers.resources();
            let req = GetRequest {
                r#ref: Some(ResourceRef {
                    group: String::new(),
                    version: "v1".into(),
                    resource: resource.into(),
                    namespace: ns.into(),
                    name: name.into(),
                }),
                resource_version: String::new(),
                subresource: String::new(),
            };
            match client.get(req).await {
                Ok(r) => {
                    return serde_json::from_slice(&r.into_inner().object)
                        .map(Some)
                        .map_err(|e| format!("{resource} {ns}/{name}: {e}"))
                }
                Err(s) if s.code() == tonic::Code::NotFound => return Ok(None),
                Err(s) if should_fail_over(&s) => {
                    last = s.message().to_string();
                    self.servers.failed(idx);
                }
                Err(s) => return Err(s.message().to_string()),
            }
        }
        Err(format!("cannot read {resource} {ns}/{name}: no control-plane replica answered ({last})"))
    }
}

impl crate::pod::Sources for GrpcSources {
    fn config_map<'a>(&'a self, ns: &'a str, name: &'a str) -> BoxFut<'a, Result<Option<ConfigMap>, String>> {
        Box::pin(self.get("configmaps", ns, name))
    }

    fn secret<'a>(&'a self, ns: &'a str, name: &'a str) -> BoxFut<'a, Result<Option<Secret>, String>> {
        Box::pin(self.get("secrets", ns, name))
    }
}
