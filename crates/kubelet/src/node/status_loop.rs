//! Reports node status: at once when the runtime's readiness changes, else every `status_interval`.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Node, NodeCondition};
use kube::api::{Patch, PatchParams};
use kube::Api;
use serde_json::json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::conditions::{runtime_readiness, RuntimeReadiness};
use super::machine::MachineInfo;
use super::node_images::list_node_images;
use super::node_object::{node_status, RuntimeVersion};
use crate::{CriClient, KubeletOptions};

const READINESS_CHECK: Duration = Duration::from_millis(500);

pub async fn run_node_status(
    client: kube::Client,
    cri: CriClient,
    options: KubeletOptions,
    runtime: RuntimeVersion,
    cidr_pushed: Arc<Notify>,
    pressure: crate::eviction::PressureSender,
    cancel: CancellationToken,
) {
    let mut pressure = pressure.subscribe();
    let nodes: Api<Node> = Api::all(client);
    let machine = MachineInfo::read(&options.root_dir);
    let mut conditions: Vec<NodeCondition> = Vec::new();
    let mut reported: Option<(RuntimeReadiness, tokio::time::Instant)> = None;
    let mut reported_pressure = crate::eviction::PressureState::default();
    loop {
        let status = cri
            .runtime
            .clone()
            .status(cri::StatusRequest { verbose: false })
            .await
            .ok()
            .and_then(|r| r.into_inner().status);
        let readiness = runtime_readiness(status.as_ref());
        let pressure_now = *pressure.borrow_and_update();
        let due = pressure_now != reported_pressure
            || match &reported {
                None => true,
                Some((last, at)) => *last != readiness || at.elapsed() >= options.status_interval,
            };
        if due {
            let now = Timestamp::now();
            let mut status =
                node_status(&options, &machine, &runtime, &readiness, &conditions, now);
            if let Some(current) = status.conditions.as_mut() {
                crate::eviction::apply_pressure(current, pressure_now, &conditions, now);
            }
            match list_node_images(&cri).await {
                Ok(images) => status.images = Some(images),
                Err(e) => tracing::warn!(error = %e, "listing images for node status"),
            }
            let patch = json!({"status": status});
            match nodes
                .patch_status(
                    &options.node_name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => {
                    conditions = status.conditions.unwrap_or_default();
                    reported = Some((readiness, tokio::time::Instant::now()));
                    reported_pressure = pressure_now;
                }
                Err(e) => tracing::warn!(error = %e, "updating node status"),
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = cidr_pushed.notified() => {}
            _ = pressure.changed() => {}
            _ = tokio::time::sleep(READINESS_CHECK) => {}
        }
    }
}
