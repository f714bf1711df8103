//! The API server's request pipeline: authentication → authorization → in-flight limits →
//! routing to discovery, non-resource endpoints or the resource handlers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http::{header, Method, Request};

use crate::authn::{ServiceAccountTokens, StaticTokens, UserInfo};
use crate::authz::{forbidden_message, Attributes, Authorizer, Decision};
use crate::config::ApiConfig;
use crate::http::negotiate::negotiate_accept;
use crate::http::query::Query;
use crate::http::response::{error_response, HttpResponse};
use crate::inflight::{is_mutating, InflightLimiter, SeatKind};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::request_info::{parse, RequestTarget};
use crate::status::ApiError;

/// Everything one request needs to know about its caller and what it asked for.
pub struct RequestContext {
    pub user: UserInfo,
    pub query: Query,
    pub accept: crate::http::negotiate::Negotiated,
    pub user_agent: String,
    pub content_type: Option<String>,
    pub method: Method,
}

pub struct ApiServer {
    pub registry: Registry,
    pub config: ApiConfig,
    pub tokens: StaticTokens,
    /// Issues and authenticates bound service-account tokens; `None`: TokenRequest answers 503.
    pub service_account_tokens: Option<ServiceAccountTokens>,
    pub authorizer: Box<dyn Authorizer>,
    pub metrics: Metrics,
    /// How `pods/log`, `pods/exec`, ... and `nodes/proxy` reach kubelets; `None` answers 503.
    pub kubelet_client: Option<crate::handlers::proxy::KubeletClient>,
    /// The cluster CA (PEM), served at `/cacerts` for agents that join with a token.
    pub ca_cert_pem: String,
    inflight: InflightLimiter,
    ready: AtomicBool,
}

const ANONYMOUS_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/cacerts"];

fn is_anonymous_path(path: &str) -> bool {
    ANONYMOUS_PATHS
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

fn header_string(headers: &http::HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl ApiServer {
    pub fn new(
        registry: Registry,
        config: ApiConfig,
        tokens: StaticTokens,
        authorizer: Box<dyn Authorizer>,
    ) -> Self {
        Self {
            inflight: InflightLimiter::new(
                config.max_requests_inflight,
                config.max_mutating_requests_inflight,
            ),
            registry,
            config,
            tokens,
            service_account_tokens: None,
            authorizer,
            metrics: Metrics::default(),
            kubelet_client: None,
            ca_cert_pem: String::new(),
            ready: AtomicBool::new(false),
        }
    }

    /// Serve this CA at `/cacerts`.
    pub fn with_ca_cert(mut self, ca_cert_pem: String) -> Self {
        self.ca_cert_pem = ca_cert_pem;
        self
    }

    /// Reach kubelets with this client (the kubelet client certificate).
    pub fn with_kubelet_client(mut self, client: crate::handlers::proxy::KubeletClient) -> Self {
        self.kubelet_client = Some(client);
        self
    }

    /// Issue and accept service-account tokens signed with this key.
    pub fn with_service_account_tokens(mut self, tokens: ServiceAccountTokens) -> Self {
        self.service_account_tokens = Some(tokens);
        self
    }

    /// The user a bearer token authenticates: a static or join token, else a service-account JWT.
    pub fn authenticate_token(&self, token: &str) -> Option<UserInfo> {
        self.tokens.authenticate(token).or_else(|| {
            self.service_account_tokens
                .as_ref()?
                .authenticate(token, &self.registry.cache)
        })
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Who is calling: the client certificate's user, else a bearer token's.
    fn authenticate<B>(
        &self,
        cert_user: Option<UserInfo>,
        request: &Request<B>,
    ) -> Result<Option<UserInfo>, ApiError> {
        if let Some(value) = request.headers().get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(ApiError::unauthorized)?;
            return self
                .authenticate_token(token)
                .map(Some)
                .ok_or_else(ApiError::unauthorized);
        }
        Ok(cert_user)
    }

    /// Answer one request.
    pub async fn handle<B>(&self, cert_user: Option<UserInfo>, request: Request<B>) -> HttpResponse
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let target = parse(&method, &path, request.uri().query());
        let (verb, resource) = match &target {
            RequestTarget::Resource(r) => (r.verb, r.resource.clone()),
            _ => ("get", String::new()),
        };
        self.metrics.inflight_started(is_mutating(verb));
        let response = self
            .handle_target(cert_user, request, target)
            .await
            .unwrap_or_else(|e| error_response(&e));
        self.metrics.inflight_finished(is_mutating(verb));
        self.metrics.observe_request(
            verb,
            &resource,
            response.status().as_u16(),
            started.elapsed(),
        );
        response
    }

    async fn handle_target<B>(
        &self,
        cert_user: Option<UserInfo>,
        request: Request<B>,
        target: RequestTarget,
    ) -> Result<HttpResponse, ApiError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path().to_string();
        let user = self.authenticate(cert_user, &request)?;
        if let RequestTarget::NonResource(_) = &target {
            if is_anonymous_path(&path) {
                return Ok(crate::handlers::non_resource::handle(
                    self,
                    &path,
                    request.uri().query(),
                ));
            }
        }
        let user = user.ok_or_else(ApiError::unauthorized)?;
        let attributes = match &target {
            RequestTarget::Resource(r) => Attributes {
                verb: r.verb.to_string(),
                group: r.group.clone(),
                version: r.version.clone(),
                resource: r.resource.clone(),
                subresource: r.subresource.clone().unwrap_or_default(),
                namespace: r.namespace.clone().unwrap_or_default(),
                name: r.name.clone().unwrap_or_default(),
                path: None,
            },
            _ => Attributes {
                verb: request.method().as_str().to_lowercase(),
                path: Some(path.clone()),
                ..Attributes::default()
            },
        };
        if let Decision::Deny(_) = self.authorizer.authorize(&user, &attributes) {
            return Err(ApiError::forbidden(forbidden_message(&user, &attributes)));
        }
        let accept = negotiate_accept(
            request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok()),
        );

        let ctx = RequestContext {
            user,
            query: Query::parse(request.uri().query()),
            accept: accept
                .clone()
                .unwrap_or(crate::http::negotiate::Negotiated::JSON),
            user_agent: header_string(request.headers(), header::USER_AGENT).unwrap_or_default(),
            content_type: header_string(request.headers(), header::CONTENT_TYPE),
            method: request.method().clone(),
        };
        match target {
            RequestTarget::NonResource(path) => {
                Ok(crate::handlers::non_resource::handle_authenticated(
                    self,
                    &ctx,
                    &path,
                    request.headers(),
                ))
            }
            RequestTarget::LegacyVersions => {
                Ok(crate::discovery::legacy_versions(&ctx, request.headers()))
            }
            RequestTarget::Groups => crate::discovery::groups(&ctx, request.headers()),
            RequestTarget::Group(group) => crate::discovery::group(&ctx, &group),
            RequestTarget::ResourceList { group, version } => {
                crate::discovery::resource_list(&ctx, &group, &version)
            }
            RequestTarget::Resource(resource)
                if crate::handlers::proxy::is_kubelet_proxied(&resource) =>
            {
                // Long-running and streamed: no in-flight limit, the body is not read.
                crate::handlers::proxy::handle(self, &ctx, resource, request).await
            }
            RequestTarget::Resource(resource) => {
                accept?;
                let _seat = self
                    .inflight
                    .seat(SeatKind::of(
                        resource.verb,
                        &resource.group,
                        &resource.resource,
                        resource.namespace.as_deref(),
                    ))
                    .await?;
                let body = if matches!(
                    *request.method(),
                    Method::POST | Method::PUT | Method::PATCH | Method::DELETE
                ) {
                    crate::http::body::read_body(request.into_body()).await?
                } else {
                    Bytes::new()
                };
                crate::handlers::resource::handle(self, &ctx, resource, body).await
            }
        }
    }
}
