//! The resources the collector watches: everything listable, watchable and deletable but Events.

use std::collections::HashMap;

use kube::discovery::{verbs, ApiCapabilities, ApiResource, Discovery, Scope};

use crate::error::ControllerError;

pub struct MonitoredResource {
    pub resource: ApiResource,
    pub namespaced: bool,
}

pub struct MonitoredResources {
    pub resources: Vec<MonitoredResource>,
    /// (apiVersion, kind) → index, to find an owner's resource from its reference.
    by_kind: HashMap<(String, String), usize>,
}

impl MonitoredResources {
    pub async fn discover(client: &kube::Client) -> Result<Self, ControllerError> {
        let discovery = Discovery::new(client.clone())
            .run()
            .await
            .map_err(|error| ControllerError::Discovery(error.to_string()))?;
        let mut resources: Vec<MonitoredResource> = Vec::new();
        let mut by_kind = HashMap::new();
        for group in discovery.groups() {
            for (resource, capabilities) in group.recommended_resources() {
                if !is_monitored(&resource, &capabilities) {
                    continue;
                }
                by_kind.insert(
                    (resource.api_version.clone(), resource.kind.clone()),
                    resources.len(),
                );
                resources.push(MonitoredResource {
                    resource,
                    namespaced: capabilities.scope == Scope::Namespaced,
                });
            }
            // Owners may name another served version: resolve it to the preferred one.
            for version in group.versions() {
                for (resource, _) in group.versioned_resources(version) {
                    let same_kind = resources.iter().position(|r| {
                        r.resource.group == resource.group && r.resource.kind == resource.kind
                    });
                    if let Some(index) = same_kind {
                        by_kind
                            .entry((resource.api_version.clone(), resource.kind.clone()))
                            .or_insert(index);
                    }
                }
            }
        }
        Ok(Self { resources, by_kind })
    }

    pub fn index_of(&self, api_version: &str, kind: &str) -> Option<usize> {
        self.by_kind
            .get(&(api_version.to_string(), kind.to_string()))
            .copied()
    }
}

fn is_monitored(resource: &ApiResource, capabilities: &ApiCapabilities) -> bool {
    let is_event = resource.kind == "Event"
        && (resource.group.is_empty() || resource.group == "events.k8s.io");
    !is_event
        && capabilities.supports_operation(verbs::LIST)
        && capabilities.supports_operation(verbs::WATCH)
        && capabilities.supports_operation(verbs::DELETE)
}
