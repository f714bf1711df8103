//! The kubelet server's response bodies: whole, streamed from a channel, or relayed.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use tokio::sync::mpsc;

use super::http_error::HttpError;

pub type ResponseBody = BoxBody<Bytes, std::io::Error>;
pub type KubeletResponse = Response<ResponseBody>;

pub fn full_body(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A body that yields each chunk sent on the channel as soon as it arrives.
pub fn channel_body(receiver: mpsc::Receiver<Bytes>) -> ResponseBody {
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, std::io::Error>(Frame::data(chunk)), receiver))
    });
    StreamBody::new(stream).boxed()
}

pub fn relayed_body(incoming: Incoming) -> ResponseBody {
    incoming.map_err(std::io::Error::other).boxed()
}

pub fn response(
    status: StatusCode,
    content_type: &'static str,
    body: ResponseBody,
) -> KubeletResponse {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub fn text_response(status: StatusCode, text: impl Into<String>) -> KubeletResponse {
    response(status, "text/plain; charset=utf-8", full_body(text.into()))
}

pub fn json_response(value: &serde_json::Value) -> KubeletResponse {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    response(StatusCode::OK, "application/json", full_body(bytes))
}

pub fn error_response(error: &HttpError) -> KubeletResponse {
    text_response(error.status, error.message.clone())
}
