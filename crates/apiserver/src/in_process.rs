//! The in-process transport: a tower Service that hands requests straight to the API server's own
//! pipeline (authentication aside: the caller's identity is fixed). Components inside `r8s server`
//! use it with kube::Client, so they go through exactly the handlers a remote client does, without
//! TLS and sockets.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};

use crate::authn::UserInfo;
use crate::server::ApiServer;

#[derive(Clone)]
pub struct InProcessTransport {
    server: Arc<ApiServer>,
    user: UserInfo,
}

impl InProcessTransport {
    /// Requests made as `user` (its groups decide authorization, as for any client).
    pub fn new(server: Arc<ApiServer>, user: UserInfo) -> Self {
        Self {
            server,
            user: user.with_authenticated_group(),
        }
    }
}

impl<B> tower::Service<Request<B>> for InProcessTransport
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<axum::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let server = self.server.clone();
        let user = self.user.clone();
        Box::pin(async move { Ok(server.handle(Some(user), request).await) })
    }
}
