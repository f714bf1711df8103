//! The scheduler: binds pods to nodes through the API.
#![forbid(unsafe_code)]
