//! The controller manager's reconcile loops, one folder per controller.
//!
//! [`run`] holds leader election on `kube-system/kube-controller-manager` and, while leading, runs
//! every controller listed in [`controllers`] as its own supervised task. To add a controller: add
//! its `mod` line below and one `ControllerSpec::new("name", |context, cancel| name::run(context,
//! cancel).boxed())` line to the list.
#![forbid(unsafe_code)]

mod context;
mod error;
mod event_recorder;
mod informers;
mod options;
mod owner_index;
mod owner_reference;
mod pod_conditions;
mod reconcile_workers;
mod supervisor;

pub mod certificates;
pub mod cronjob;
pub mod daemonset;
mod deployment;
pub mod disruption;
mod endpoints;
mod endpointslice;
mod endpointslice_mirroring;
mod garbagecollector;
pub mod job;
mod namespace;
pub mod node_lifecycle;
mod persistentvolume;
pub mod pod_gc;
mod replicaset;
mod resourcequota;
mod root_ca_cert_publisher;
mod service_endpoint;
mod serviceaccount;
mod servicelb;
pub mod statefulset;
pub mod ttl_after_finished;

use std::sync::Arc;

use futures::{FutureExt, TryFutureExt};
use tokio_util::sync::CancellationToken;

pub use context::ControllerContext;
pub use error::ControllerError;
pub use informers::{Informers, SharedInformer};
pub use options::{ControllerOptions, SigningCa};
pub use supervisor::ControllerSpec;

/// The Lease that elects the one running controller manager.
pub const LEADER_LEASE_NAMESPACE: &str = "kube-system";
pub const LEADER_LEASE_NAME: &str = "kube-controller-manager";

/// Every controller this manager runs.
pub fn controllers() -> Vec<ControllerSpec> {
    vec![
        ControllerSpec::new("namespace", |c, t| namespace::run(c, t).boxed()),
        ControllerSpec::new("serviceaccount", |c, t| serviceaccount::run(c, t).boxed()),
        ControllerSpec::new("root-ca-cert-publisher", |c, t| {
            root_ca_cert_publisher::run(c, t).boxed()
        }),
        ControllerSpec::new("replicaset", |c, t| {
            replicaset::run_replicasets(c, t).boxed()
        }),
        ControllerSpec::new("replicationcontroller", |c, t| {
            replicaset::run_replication_controllers(c, t).boxed()
        }),
        ControllerSpec::new("garbagecollector", |c, t| {
            garbagecollector::run(c, t).boxed()
        }),
        ControllerSpec::new("deployment", |c, t| deployment::run(c, t).boxed()),
        ControllerSpec::new("endpoints", |c, t| endpoints::run(c, t).boxed()),
        ControllerSpec::new("endpointslice", |c, t| endpointslice::run(c, t).boxed()),
        ControllerSpec::new("servicelb", |c, t| servicelb::run(c, t).boxed()),
        ControllerSpec::new("resourcequota", |c, t| resourcequota::run(c, t).boxed()),
        ControllerSpec::new("endpointslice-mirroring", |c, t| {
            endpointslice_mirroring::run(c, t).boxed()
        }),
        ControllerSpec::new("job", |c, t| {
            job::run(c.client, c.informers, t).err_into().boxed()
        }),
        ControllerSpec::new("statefulset", |c, t| {
            statefulset::run(c.client, c.informers, t)
                .err_into()
                .boxed()
        }),
        ControllerSpec::new("daemonset", |c, t| {
            daemonset::run(c.client, c.informers, t).err_into().boxed()
        }),
        ControllerSpec::new("cronjob", |c, t| {
            cronjob::run(c.client, t).err_into().boxed()
        }),
        ControllerSpec::new("node-lifecycle", |c, t| {
            let options = node_lifecycle::NodeLifecycleOptions {
                node_monitor_grace_period: c.options.node_monitor_grace_period,
                cluster_cidr: c.options.cluster_cidr.clone(),
                ..Default::default()
            };
            node_lifecycle::run(c.client, c.informers, options, t)
                .err_into()
                .boxed()
        }),
        ControllerSpec::new("pod-gc", |c, t| {
            pod_gc::run(c.client, c.informers, pod_gc::PodGcOptions::default(), t)
                .err_into()
                .boxed()
        }),
        ControllerSpec::new("disruption", |c, t| {
            disruption::run(c.client, c.informers, t).err_into().boxed()
        }),
        ControllerSpec::new("ttl-after-finished", |c, t| {
            ttl_after_finished::run(c.client, t).err_into().boxed()
        }),
        ControllerSpec::new("persistentvolume-binder", |c, t| {
            persistentvolume::run(c, t).boxed()
        }),
        ControllerSpec::new("csrapproving", |c, t| {
            certificates::approver::run(c.client, t).boxed()
        }),
        ControllerSpec::new("csrsigning", |c, t| {
            certificates::signer::run(c.client, c.options.signing_ca.clone(), t).boxed()
        }),
    ]
}

/// Run every controller while this process holds the controller manager's Lease, until `cancel`.
pub async fn run(
    client: kube::Client,
    options: ControllerOptions,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let election = leader::LeaderElection::new(
        client.clone(),
        LEADER_LEASE_NAMESPACE,
        LEADER_LEASE_NAME,
        &options.identity,
    );
    let options = Arc::new(options);
    election
        .run(cancel, |term| {
            let context = ControllerContext::start(client.clone(), options.clone(), &term);
            supervisor::run_all(context, controllers(), term)
        })
        .await?;
    Ok(())
}

/// Run every controller without leader election (one manager only, or tests).
pub async fn run_unelected(
    client: kube::Client,
    options: ControllerOptions,
    cancel: CancellationToken,
) {
    let context = ControllerContext::start(client, Arc::new(options), &cancel);
    supervisor::run_all(context, controllers(), cancel).await;
}
