//! Request handlers: one file per verb family.

mod binding;
mod decode;
mod delete;
mod eviction;
pub mod non_resource;
mod output;
mod preconditions;
pub mod proxy;
mod read;
pub mod resource;
mod reviews;
mod scale;
mod token_request;
mod watch;
mod write;
