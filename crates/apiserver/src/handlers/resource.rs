//! Routing a resource request to its verb handler.

use bytes::Bytes;

use api::{ResourceInfo, Subresource};

use crate::http::response::HttpResponse;
use crate::registry::strategy::WriteTarget;
use crate::request_info::ResourceRequest;
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;

/// A resource request after its resource and scope were checked.
pub struct Target<'a> {
    pub info: &'static ResourceInfo,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

fn unknown_resource() -> ApiError {
    ApiError::resource_not_found()
}

pub async fn handle(
    server: &ApiServer,
    ctx: &RequestContext,
    request: ResourceRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let info = api::catalog::find(&request.group, &request.version, &request.resource)
        .ok_or_else(unknown_resource)?;
    // Namespaced resources are reached under a namespace (lists and watches may span all of them);
    // cluster-scoped ones never are.
    if info.namespaced != request.namespace.is_some() {
        let cross_namespace_read = info.namespaced
            && request.name.is_none()
            && matches!(request.verb, "list" | "watch" | "deletecollection");
        let cluster_scoped_review = !info.namespaced && info.is_virtual();
        if !cross_namespace_read && !cluster_scoped_review {
            return Err(unknown_resource());
        }
    }
    let target = Target {
        info,
        namespace: request.namespace.as_deref(),
        name: request.name.as_deref(),
    };
    if let Some(sub) = request.subresource.as_deref() {
        let known = Subresource::from_name(sub).filter(|s| info.has_subresource(*s));
        let Some(known) = known else {
            return Err(unknown_resource());
        };
        return handle_subresource(server, ctx, &target, known, request.verb, body).await;
    }
    if info.is_virtual() {
        return match request.verb {
            "create" => super::reviews::create(server, ctx, info, &body),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    if !info.supports_verb(request.verb) {
        return Err(ApiError::method_not_allowed());
    }
    match request.verb {
        "get" => super::read::get(server, ctx, &target).await,
        "list" => super::read::list(server, ctx, &target).await,
        "watch" => super::watch::watch(server, ctx, &target).await,
        "create" => super::write::create(server, ctx, &target, &body).await,
        "update" => super::write::update(server, ctx, &target, WriteTarget::Main, &body).await,
        "patch" => super::write::patch(server, ctx, &target, WriteTarget::Main, &body).await,
        "delete" => super::delete::delete(server, ctx, &target, &body).await,
        "deletecollection" => super::delete::delete_collection(server, ctx, &target, &body).await,
        _ => Err(ApiError::method_not_allowed()),
    }
}

async fn handle_subresource(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    subresource: Subresource,
    verb: &str,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let write_target = match subresource {
        Subresource::Status => WriteTarget::Status,
        Subresource::Finalize => WriteTarget::Finalize,
        Subresource::Approval => WriteTarget::Approval,
        Subresource::Scale => {
            return super::scale::handle(server, ctx, target, verb, &body).await;
        }
        Subresource::Binding => {
            return super::binding::bind(server, ctx, target, &body).await;
        }
        Subresource::Eviction => {
            return super::eviction::evict(server, ctx, target, &body).await;
        }
        Subresource::Token if verb == "create" => {
            return super::token_request::create(server, ctx, target, &body).await;
        }
        _ => {
            return Err(ApiError::service_unavailable(format!(
                "{}/{} is served by the node agent, which this server does not run yet",
                target.info.plural,
                subresource.name()
            )))
        }
    };
    match verb {
        "get" => super::read::get(server, ctx, target).await,
        "update" => super::write::update(server, ctx, target, write_target, &body).await,
        "patch" => super::write::patch(server, ctx, target, write_target, &body).await,
        _ => Err(ApiError::method_not_allowed()),
    }
}
