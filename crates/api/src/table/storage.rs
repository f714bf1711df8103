//! Storage: persistent volumes and claims, storage classes, CSI objects, volume attachments.

use jiff::Timestamp;
use serde_json::{json, Value};

use super::fields::{age, flag, is_deleting, list, name, scalar_text, text, text_or};
use super::printer::Printer;
use super::Column;

/// Access modes abbreviated in upstream's fixed order: RWO, ROX, RWX, RWOP.
fn access_modes(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The beta storage-class annotation wins over `spec.storageClassName`.
fn storage_class(object: &Value) -> String {
    let annotated = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .and_then(Value::as_str);
    match annotated {
        Some(class) => class.to_string(),
        None => text(object, "/spec/storageClassName").to_string(),
    }
}

fn phase_or_terminating(object: &Value) -> String {
    if is_deleting(object) {
        "Terminating".to_string()
    } else {
        text(object, "/status/phase").to_string()
    }
}

pub(crate) const PERSISTENT_VOLUME: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Capacity", "The storage capacity of the volume."),
        Column::text("Access Modes", "The ways the volume can be mounted."),
        Column::text(
            "Reclaim Policy",
            "What happens to the volume when its claim is released.",
        ),
        Column::text("Status", "The phase of the volume."),
        Column::text("Claim", "The claim bound to the volume."),
        Column::text("StorageClass", "StorageClass of the pv"),
        Column::text("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        Column::text("Reason", "Why the volume is in its phase."),
        Column::age(),
        Column::text(
            "VolumeMode",
            "Whether the volume is a filesystem or a block device.",
        )
        .wide(),
    ],
    cells: persistent_volume_cells,
};

fn persistent_volume_cells(volume: &Value, now: Timestamp) -> Vec<Value> {
    let claim = match volume.pointer("/spec/claimRef").filter(|c| c.is_object()) {
        Some(claim) => format!("{}/{}", text(claim, "/namespace"), text(claim, "/name")),
        None => String::new(),
    };
    vec![
        json!(name(volume)),
        json!(scalar_text(volume, "/spec/capacity/storage", "0")),
        json!(access_modes(list(volume, "/spec/accessModes"))),
        json!(text(volume, "/spec/persistentVolumeReclaimPolicy")),
        json!(phase_or_terminating(volume)),
        json!(claim),
        json!(storage_class(volume)),
        json!(text_or(
            volume,
            "/spec/volumeAttributesClassName",
            "<unset>"
        )),
        json!(text(volume, "/status/reason")),
        json!(age(volume, now)),
        json!(text_or(volume, "/spec/volumeMode", "<unset>")),
    ]
}

pub(crate) const PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text("Status", "The phase of the claim."),
        Column::text("Volume", "The volume bound to the claim."),
        Column::text("Capacity", "The capacity of the bound volume."),
        Column::text("Access Modes", "The access modes of the bound volume."),
        Column::text("StorageClass", "StorageClass of the pvc"),
        Column::text("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        Column::age(),
        Column::text(
            "VolumeMode",
            "Whether the volume is a filesystem or a block device.",
        )
        .wide(),
    ],
    cells: persistent_volume_claim_cells,
};

fn persistent_volume_claim_cells(claim: &Value, now: Timestamp) -> Vec<Value> {
    let volume = text(claim, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            scalar_text(claim, "/status/capacity/storage", "0"),
            access_modes(list(claim, "/status/accessModes")),
        )
    };
    vec![
        json!(name(claim)),
        json!(phase_or_terminating(claim)),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(storage_class(claim)),
        json!(text_or(claim, "/spec/volumeAttributesClassName", "<unset>")),
        json!(age(claim, now)),
        json!(text_or(claim, "/spec/volumeMode", "<unset>")),
    ]
}

pub(crate) const STORAGE_CLASS: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "Provisioner",
            "The volume plugin that provisions volumes of this class.",
        ),
        Column::text(
            "ReclaimPolicy",
            "Reclaim policy of the volumes it provisions.",
        ),
        Column::text(
            "VolumeBindingMode",
            "When volumes are bound and provisioned.",
        ),
        Column::text(
            "AllowVolumeExpansion",
            "Whether volumes of this class can be expanded.",
        ),
        Column::age(),
    ],
    cells: storage_class_cells,
};

fn is_default_class(class: &Value) -> bool {
    let annotations = class.pointer("/metadata/annotations");
    [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|key| {
        annotations
            .and_then(|a| a.get(*key))
            .and_then(Value::as_str)
            == Some("true")
    })
}

fn storage_class_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    let mut shown_name = name(class);
    if is_default_class(class) {
        shown_name.push_str(" (default)");
    }
    vec![
        json!(shown_name),
        json!(text(class, "/provisioner")),
        json!(text_or(class, "/reclaimPolicy", "Delete")),
        json!(text_or(class, "/volumeBindingMode", "Immediate")),
        json!(flag(class, "/allowVolumeExpansion").unwrap_or(false)),
        json!(age(class, now)),
    ]
}

pub(crate) const VOLUME_ATTACHMENT: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column {
            format: "name",
            ..Column::text("Attacher", "The volume driver that attaches the volume.")
        },
        Column::text("PV", "The persistent volume being attached."),
        Column::text("Node", "The node the volume is attached to."),
        Column::boolean("Attached", "Whether the volume is attached."),
        Column::age(),
    ],
    cells: volume_attachment_cells,
};

fn volume_attachment_cells(attachment: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(attachment)),
        json!(text(attachment, "/spec/attacher")),
        json!(text(attachment, "/spec/source/persistentVolumeName")),
        json!(text(attachment, "/spec/nodeName")),
        json!(flag(attachment, "/status/attached").unwrap_or(false)),
        json!(age(attachment, now)),
    ]
}

pub(crate) const CSI_DRIVER: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::boolean(
            "AttachRequired",
            "Whether volumes need an attach operation.",
        ),
        Column::boolean(
            "PodInfoOnMount",
            "Whether pod information is passed on mount.",
        ),
        Column::boolean(
            "StorageCapacity",
            "Whether the driver reports storage capacity.",
        ),
        Column::text(
            "TokenRequests",
            "Audiences of the service-account tokens passed on mount.",
        ),
        Column::boolean(
            "RequiresRepublish",
            "Whether volumes are remounted periodically.",
        ),
        Column::text("Modes", "The volume lifecycle modes the driver supports."),
        Column::age(),
    ],
    cells: csi_driver_cells,
};

fn csi_driver_cells(driver: &Value, now: Timestamp) -> Vec<Value> {
    let token_requests = match driver
        .pointer("/spec/tokenRequests")
        .and_then(Value::as_array)
    {
        Some(requests) => requests
            .iter()
            .map(|r| text(r, "/audience"))
            .collect::<Vec<_>>()
            .join(","),
        None => "<unset>".to_string(),
    };
    let modes: Vec<&str> = list(driver, "/spec/volumeLifecycleModes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let modes = if modes.is_empty() {
        "<none>".to_string()
    } else {
        modes.join(",")
    };
    vec![
        json!(name(driver)),
        json!(flag(driver, "/spec/attachRequired").unwrap_or(true)),
        json!(flag(driver, "/spec/podInfoOnMount").unwrap_or(false)),
        json!(flag(driver, "/spec/storageCapacity").unwrap_or(false)),
        json!(token_requests),
        json!(flag(driver, "/spec/requiresRepublish").unwrap_or(false)),
        json!(modes),
        json!(age(driver, now)),
    ]
}

pub(crate) const CSI_NODE: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::integer(
            "Drivers",
            "Drivers indicates the number of CSI drivers registered on the node",
        ),
        Column::age(),
    ],
    cells: csi_node_cells,
};

fn csi_node_cells(node: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(node)),
        json!(list(node, "/spec/drivers").len()),
        json!(age(node, now)),
    ]
}

pub(crate) const CSI_STORAGE_CAPACITY: Printer = Printer {
    columns: &[
        Column::object_name(),
        Column::text(
            "StorageClassName",
            "The storage class the capacity is reported for.",
        ),
        Column::text("Capacity", "The capacity available."),
    ],
    cells: csi_storage_capacity_cells,
};

fn csi_storage_capacity_cells(capacity: &Value, _now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(capacity)),
        json!(text(capacity, "/storageClassName")),
        json!(scalar_text(capacity, "/capacity", "<unset>")),
    ]
}
