//! storage.k8s.io StorageClasses and CSIDrivers, and apiextensions.k8s.io CRDs.

use serde_json::{json, Value};

use super::{fill, object_at};

pub fn default_storage_class(obj: &mut Value) {
    fill(obj, "reclaimPolicy", "Delete".into());
    fill(obj, "volumeBindingMode", "Immediate".into());
}

pub fn default_csi_driver(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "attachRequired", true.into());
    fill(spec, "podInfoOnMount", false.into());
    fill(spec, "storageCapacity", false.into());
    fill(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType".into());
    fill(spec, "requiresRepublish", false.into());
    fill(spec, "volumeLifecycleModes", json!(["Persistent"]));
}

/// Singular and list kind from the kind, conversion `None`, webhook service port 443.
pub fn default_custom_resource_definition(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    if let Some(names) = object_at(spec, "names") {
        let kind = names["kind"].as_str().unwrap_or("").to_string();
        if !kind.is_empty() {
            fill(names, "singular", kind.to_lowercase().into());
            fill(names, "listKind", format!("{kind}List").into());
        }
    }
    if let Some(conversion) = object_at(spec, "conversion") {
        fill(conversion, "strategy", "None".into());
        if let Some(service) = conversion.pointer_mut("/webhook/clientConfig/service") {
            fill(service, "port", 443.into());
        }
    }
}
