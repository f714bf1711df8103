//! The PersistentVolume binder (upstream's PV controller, binding only): binds each pending claim
//! to a matching volume (class, access modes, capacity, volume mode, `volumeName`), records the
//! binding on both objects and moves volumes whose claim is gone to `Released`. No provisioning.

mod matching;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{stream, FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolume, PersistentVolumeClaim};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::{is_status, ControllerError};
use matching::{is_claimed_by, volume_for_claim, volume_phase};

const BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
const BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// Upstream re-syncs every claim and volume this often, whatever the watches say.
const RESYNC: Duration = Duration::from_secs(15);

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let client = context.client.clone();
    let (volumes, volume_writer) = reflector::store();
    let (claims, claim_writer) = reflector::store();
    let volume_events = watcher(
        Api::<PersistentVolume>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(volume_writer)
    .map(|_| ());
    let claim_events = watcher(
        Api::<PersistentVolumeClaim>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(claim_writer)
    .map(|_| ());
    let mut changes = std::pin::pin!(stream::select(volume_events, claim_events));
    let binder = Binder {
        client,
        volumes,
        claims,
    };
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            change = changes.next() => if change.is_none() { return Ok(()) },
            _ = tokio::time::sleep(RESYNC) => {}
        }
        // Let a burst of events land in the stores before one pass over everything.
        tokio::time::sleep(Duration::from_millis(50)).await;
        while let Some(Some(())) = changes.next().now_or_never() {}
        binder.sync_all().await;
    }
}

struct Binder {
    client: kube::Client,
    volumes: Store<PersistentVolume>,
    claims: Store<PersistentVolumeClaim>,
}

impl Binder {
    async fn sync_all(&self) {
        let volumes: Vec<PersistentVolume> =
            self.volumes.state().iter().map(|v| (**v).clone()).collect();
        let claims: Vec<PersistentVolumeClaim> =
            self.claims.state().iter().map(|c| (**c).clone()).collect();
        for claim in &claims {
            if claim.metadata.deletion_timestamp.is_some() || is_bound(claim) {
                continue;
            }
            let Some(volume) = volume_for_claim(claim, &volumes) else {
                continue;
            };
            if let Err(error) = self.bind(volume, claim).await {
                tracing::warn!(claim = %claim.name_any(), volume = %volume.name_any(), %error, "binding claim");
            }
        }
        for volume in &volumes {
            let phase = volume_phase(volume, &claims);
            let current = volume.status.as_ref().and_then(|s| s.phase.as_deref());
            if current == Some(phase) || (phase == "Available" && current == Some("Pending")) {
                continue;
            }
            if let Err(error) = self.set_volume_phase(&volume.name_any(), phase).await {
                tracing::warn!(volume = %volume.name_any(), %error, "updating volume phase");
            }
        }
    }

    /// Records the binding on the volume first (claimRef), then on the claim (volumeName), then
    /// both statuses, as upstream does; a conflict leaves it to the next pass.
    async fn bind(
        &self,
        volume: &PersistentVolume,
        claim: &PersistentVolumeClaim,
    ) -> Result<(), ControllerError> {
        let namespace = claim.namespace().unwrap_or_default();
        let volume_name = volume.name_any();
        let volumes: Api<PersistentVolume> = Api::all(self.client.clone());
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &namespace);
        if !is_claimed_by(volume, claim)
            || volume
                .spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .is_some_and(|r| r.uid.is_none())
        {
            let mut updated = volume.clone();
            updated.metadata.managed_fields = None;
            let spec = updated.spec.get_or_insert_with(Default::default);
            spec.claim_ref = Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("PersistentVolumeClaim".into()),
                name: claim.metadata.name.clone(),
                namespace: Some(namespace.clone()),
                uid: claim.metadata.uid.clone(),
                resource_version: claim.metadata.resource_version.clone(),
                ..ObjectReference::default()
            });
            updated
                .annotations_mut()
                .insert(BOUND_BY_CONTROLLER.into(), "yes".into());
            match volumes
                .replace(&volume_name, &PostParams::default(), &updated)
                .await
            {
                Ok(_) => {}
                Err(error) if is_status(&error, 409) => return Ok(()),
                Err(error) => return Err(error.into()),
            }
        }
        self.set_volume_phase(&volume_name, "Bound").await?;

        let mut annotations = BTreeMap::from([(BIND_COMPLETED.to_string(), "yes".to_string())]);
        let named = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        if !named {
            annotations.insert(BOUND_BY_CONTROLLER.into(), "yes".into());
        }
        let claim_name = claim.name_any();
        let patch = json!({
            "metadata": {"annotations": annotations},
            "spec": {"volumeName": volume_name},
        });
        claims
            .patch(&claim_name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let spec = volume.spec.clone().unwrap_or_default();
        let status = json!({"status": {
            "phase": "Bound",
            "accessModes": spec.access_modes,
            "capacity": spec.capacity,
        }});
        claims
            .patch_status(&claim_name, &PatchParams::default(), &Patch::Merge(&status))
            .await?;
        Ok(())
    }

    async fn set_volume_phase(&self, name: &str, phase: &str) -> Result<(), ControllerError> {
        let volumes: Api<PersistentVolume> = Api::all(self.client.clone());
        let status = json!({"status": {"phase": phase}});
        match volumes
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_status(&error, 404) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

fn is_bound(claim: &PersistentVolumeClaim) -> bool {
    claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
        && claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .is_some_and(|n| !n.is_empty())
}
