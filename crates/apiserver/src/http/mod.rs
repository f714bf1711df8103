//! HTTP plumbing: TLS listener, query strings, bodies, content negotiation, responses.

pub mod body;
pub mod duplicate_fields;
pub mod listener;
pub mod negotiate;
pub mod query;
pub mod response;
pub mod tls;
