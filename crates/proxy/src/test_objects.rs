//! Building API objects from JSON in unit tests.

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

pub fn service(json: serde_json::Value) -> Service {
    serde_json::from_value(json).expect("a valid Service")
}

pub fn slice(json: serde_json::Value) -> EndpointSlice {
    serde_json::from_value(json).expect("a valid EndpointSlice")
}
