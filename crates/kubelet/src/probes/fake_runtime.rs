//! A RuntimeService that answers ExecSync only, served on a unix socket, for tests.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use k8s_cri::v1::{ExecSyncRequest, ExecSyncResponse};

use crate::CriClient;

type Respond = Arc<dyn Fn(ExecSyncRequest) -> ExecSyncResponse + Send + Sync>;

#[derive(Clone)]
struct FakeRuntime {
    respond: Respond,
}

impl tonic::server::NamedService for FakeRuntime {
    const NAME: &'static str = "runtime.v1.RuntimeService";
}

struct ExecSyncHandler(Respond);

impl tonic::server::UnaryService<ExecSyncRequest> for ExecSyncHandler {
    type Response = ExecSyncResponse;
    type Future = std::future::Ready<Result<tonic::Response<ExecSyncResponse>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<ExecSyncRequest>) -> Self::Future {
        std::future::ready(Ok(tonic::Response::new((self.0)(request.into_inner()))))
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for FakeRuntime {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let respond = self.respond.clone();
        Box::pin(async move {
            if request.uri().path() != "/runtime.v1.RuntimeService/ExecSync" {
                return Ok(tonic::Status::unimplemented("fake runtime").into_http());
            }
            let codec = tonic_prost::ProstCodec::<ExecSyncResponse, ExecSyncRequest>::default();
            let mut grpc = tonic::server::Grpc::new(codec);
            Ok(grpc.unary(ExecSyncHandler(respond), request).await)
        })
    }
}

/// Serves the fake in `dir` and connects a client to it.
pub async fn fake_cri(
    dir: &std::path::Path,
    respond: impl Fn(ExecSyncRequest) -> ExecSyncResponse + Send + Sync + 'static,
) -> CriClient {
    let socket = dir.join("cri.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let service = FakeRuntime {
        respond: Arc::new(respond),
    };
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::UnixListenerStream::new(listener)),
    );
    CriClient::connect(&socket).await.unwrap()
}
