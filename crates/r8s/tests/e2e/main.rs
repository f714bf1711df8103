//! End-to-end tests: the real `r8s` binary, driven by the real `/usr/bin/kubectl` (and the official
//! Python client), against the embedded store and against etcd.

mod agent_process;
mod cluster;
mod etcd;
mod harness;
mod netns;
mod node_cleanup;
mod scenarios;
mod sim_nodes;

mod control_loops;
mod durability;
mod net_ingress_policy;
mod net_services;
mod node_agent;
mod node_attach;
mod node_features;
mod node_images;
mod node_join;
mod node_lifecycle;
mod node_static_pods;
mod node_support;
mod node_volumes;
mod python_client;
mod startup;
mod suite;
