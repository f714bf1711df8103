//! The controllers against a real API server started in-process.

mod harness;

mod deployment;
mod endpoints;
mod garbage_collection;
mod namespace_defaults;
mod namespace_deletion;
mod replicaset;
mod servicelb;
