//! `helmsman.api.v1.Resources`: the object operations over gRPC.

use std::pin::Pin;

use futures::Stream;
use proto::api::resources_server::Resources;
use proto::api::{
    CreateRequest, DeleteRequest, GetRequest, ListRequest, ListResponse, ObjectResponse, PatchRequest, ResourceRef,
    UpdateRequest, WatchEvent as PbWatchEvent, WatchRequest, WriteOptions as PbWriteOptions,
};
use serde_json::Value;
use tonic::{Request, Response, Status};

use super::status;
use crate::error::ApiError;
use crate::patch::PatchType;
use crate::registry::kinds::by_resource;
use crate::registry::selector::{FieldSelector, LabelSelector};
use crate::registry::Kind;
use crate::server::delete::DeleteOptions;
use crate::server::watch::WatchEvent;
use crate::server::{ApiServer, FieldValidation, ListOptions, Part, WriteOptions};

/// The service.
pub struct ResourcesService {
    api: ApiServer,
}

impl ResourcesService {
    /// Serve `api`.
    pub fn new(api: ApiServer) -> Self {
        ResourcesService { api }
    }
}

fn kind_of(r: &Option<ResourceRef>) -> Result<(&'static Kind, ResourceRef), Status> {
    let r = r.clone().ok_or_else(|| status(&ApiError::bad_request("ref is required (group, version, resource)")))?;
    let version = if r.version.is_empty() { "v1" } else { r.version.as_str() };
    let kind = by_resource(&r.group, version, &r.resource).ok_or_else(|| {
        status(&ApiError::new(
            404,
            "NotFound",
            format!("the server does not serve {}/{}/{}; see /apis for what it serves", r.group, version, r.resource),
        ))
    })?;
    Ok((kind, r))
}

fn ns(kind: &Kind, r: &ResourceRef) -> Option<String> {
    (kind.namespaced && !r.namespace.is_empty()).then(|| r.namespace.clone())
}

fn name(kind: &Kind, r: &ResourceRef) -> Result<String, Status> {
    if r.name.is_empty() {
        return Err(status(&ApiError::bad_request("ref.name is required for this call")));
    }
    if kind.namespaced && r.namespace.is_empty() {
        return Err(status(&ApiError::bad_request(format!("{} are namespaced: set ref.namespace", kind.resource))));
    }
    Ok(r.name.clone())
}

fn write_options(o: Option<PbWriteOptions>) -> Result<WriteOptions, Status> {
    let o = o.unwrap_or_default();
    let fv = FieldValidation::parse(Some(o.field_validation.as_str())).map_err(|e| status(&e))?;
    Ok(WriteOptions {
        field_validation: fv,
        field_manager: Some(if o.field_manager.is_empty() { "grpc".into() } else { o.field_manager }),
        dry_run: o.dry_run,
        force: o.force,
    })
}

fn parse_object(b: &[u8]) -> Result<Value, Status> {
    serde_json::from_slice(b).map_err(|e| status(&ApiError::bad_request(format!("object is not valid JSON: {e}"))))
}

fn object_response(v: &Value, warnings: Vec<String>, created: bool) -> Response<ObjectResponse> {
    Response::new(ObjectResponse { object: serde_json::to_vec(v).unwrap_or_default(), warnings, created })
}

fn part(sub: &str) -> Result<Part, Status> {
    Part::parse(if sub.is_empty() { None } else { Some(sub) }).ok_or_else(|| {
        status(&ApiError::bad_request(format!("unknown subresource {sub:?}: use \"\", \"status\" or \"scale\"")))
    })
}

fn selectors(
    kind: &Kind,
    labels: &str,
    fields: &str,
) -> Result<(Option<LabelSelector>, Option<FieldSelector>), Status> {
    let l = if labels.trim().is_empty() {
        None
    } else {
        Some(LabelSelector::parse(labels).map_err(|e| status(&ApiError::bad_request(format!("labelSelector: {e}"))))?)
    };
    let f = if fields.trim().is_empty() {
        None
    } else {
        Some(
            FieldSelector::parse(kind.kind, fields)
                .map_err(|e| status(&ApiError::bad_request(format!("fieldSelector: {e}"))))?,
        )
    };
    Ok((l, f))
}

type EventStream = Pin<Box<dyn Stream<Item = Result<PbWatchEvent, Status>> + Send>>;

#[tonic::async_trait]
impl Resources for ResourcesService {
    type WatchStream = EventStream;

    async fn get(&self, req: Request<GetRequest>) -> Result<Response<ObjectResponse>, Status> {
        let req = req.into_inner();
        let (kind, r) = kind_of(&req.r#ref)?;
        let name = name(kind, &r)?;
        let p = part(&req.subresource)?;
        let rv = (!req.resource_version.is_empty()).then_some(req.resource_version.as_str());
        let s = self.api.get(kind, ns(kind, &r).as_deref(), &name, rv).await.map_err(|e| status(&e))?;
        let obj = if p == Part::Scale { crate::server::write::to_scale(&s.object) } else { s.object };
        Ok(object_response(&obj, Vec::new(), false))
    }

    async fn list(&self, req: Request<ListRequest>) -> Result<Response<ListResponse>, Status> {
        let req = req.into_inner();
        let (kind, r) = kind_of(&req.r#ref)?;
        let (labels, fields) = selectors(kind, &req.label_selector, &req.field_selector)?;
        let opts = ListOptions {
            labels,
            fields,
            limit: req.limit,
            continue_token: Some(req.r#continue).filter(|c| !c.is_empty()),
            resource_version: Some(req.resource_version).filter(|c| !c.is_empty()),
            resource_version_match: Some(req.resource_version_match).filter(|c| !c.is_empty()),
            ..Default::default()
        };
        let page = self.api.list(kind, ns(kind, &r).as_deref(), &opts).await.map_err(|e| status(&e))?;
        Ok(Response::new(ListResponse {
            items: page.json_items().map_err(|e| status(&e))?,
            resource_version: page.revision.to_string(),
            r#continue: page.continue_token.unwrap_or_default(),
        }))
    }

    async fn watch(&self, req: Request<WatchRequest>) -> Result<Response<Self::WatchStream>, Status> {
        let req = req.into_inner();
        let (kind, r) = kind_of(&req.r#ref)?;
        let (labels, fields) = selectors(kind, &req.label_selector, &req.field_selector)?;
        let opts = ListOptions {
            labels,
            fields,
            resource_version: Some(req.resource_version).filter(|c| !c.is_empty()),
            bookmarks: req.allow_bookmarks,
            timeout_seconds: (req.timeout_seconds > 0).then_some(req.timeout_seconds),
            ..Default::default()
        };
        let rx = self.api.watch(kind, ns(kind, &r), opts).await.map_err(|e| status(&e))?;
        let stream = futures::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), |ev| {
            let (object, rv) = match &ev {
                WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => (
                    o.json.clone(),
                    o.object.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("").to_string(),
                ),
                WatchEvent::Bookmark(rev) => (bytes::Bytes::new(), rev.to_string()),
                WatchEvent::Error(e) => {
                    (bytes::Bytes::from(serde_json::to_vec(&e.status()).unwrap_or_default()), String::new())
                }
            };
            Ok(PbWatchEvent { r#type: ev.type_name().to_string(), object, resource_version: rv })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn create(&self, req: Request<CreateRequest>) -> Result<Response<ObjectResponse>, Status> {
        let req = req.into_inner();
        let (kind, r) = kind_of(&req.r#ref)?;
        let obj = parse_object(&req.object)?;
        let opts = write_options(req.options)?;
        let w = self.api.create(kind, ns(kind, &r).as_deref(), obj, &opts).await.map_err(|e| status(&e))?;
        Ok(object_response(&w.object, w.warnings, true))
    }

    async fn update(&self, req: Request<UpdateRequest>) -> Result<Response<ObjectResponse>, Status> {
        let req = req.into_inner();
        let p = part(&req.subresource)?;
        self.do_update(req, p).await
    }

    async fn update_status(&self, req: Request<UpdateRequest>) -> Result<Response<ObjectResponse>, Status> {
        self.do_update(req.into_inner(), Part::Status).await
    }

    async fn patch(&self, req: Request<PatchRequest>) -> Result<Response<ObjectResponse>, Status> {
        let req = req.into_inner();
        let (kind, r) = kind_of(&req.r#ref)?;
        let name = name(kind, &r)?;
        let p = part(&req.subresource)?;
        let pt = match req.patch_type.as_str() {
            "json" => PatchType::Json,
            "merge" => PatchType::Merge,
            "strategic" | "" => PatchType::Strategic,
            "apply" => PatchType::Apply,
            other => {
                return Err(status(&ApiError::bad_request(format!(
                    "unknown patch_type {other:?}: use \"json\", \"merge\", \"strategic\" or \"apply\""
                ))))
            }
        };
        let opts = write_options(req.options)?;
        let w = self
            .api
            .patch(kind, ns(kind, &r).as_deref(), &name, p, pt, &req.patch, &opts)
            .await
            .map_err(|e| status(&e))?;
        Ok(object_response(&w.object, w.warnings, w.created))
    }

    async fn delete(&self, req: Request<DeleteRequest>) -> Result<Response<ObjectResponse>, Status> {
        let req = req.into_inner();
        let (kind, r) = kind_of(&req.r#ref)?;
        let name = name(kind, &r)?;
        let mut opts = DeleteOptions {
            grace_period_seconds: req.grace_period_seconds,
            uid: Some(req.precondition_uid).filter(|s| !s.is_empty()),
            resource_version: Some(req.precondition_resource_version).filter(|s| !s.is_empty()),
            dry_run: req.dry_run,
            ..Default::default()
        };
        if !req.propagation_policy.is_empty() {
            opts.merge_body(&serde_json::json!({"propagationPolicy": req.propagation_policy}))
                .map_err(|e| status(&e))?;
        }
        let o = self.api.delete(kind, ns(kind, &r).as_deref(), &name, &opts).await.map_err(|e| status(&e))?;
        Ok(object_response(&o, Vec::new(), false))
    }
}

impl ResourcesService {
    async fn do_update(&self, req: UpdateRequest, p: Part) -> Result<Response<ObjectResponse>, Status> {
        let (kind, r) = kind_of(&req.r#ref)?;
        let name = name(kind, &r)?;
        let obj = parse_object(&req.object)?;
        let opts = write_options(req.options)?;
        let w = self.api.update(kind, ns(kind, &r).as_deref(), &name, p, obj, &opts).await.map_err(|e| status(&e))?;
        Ok(object_response(&w.object, w.warnings, false))
    }
}
