//! `storage.k8s.io/v1`.

use super::{ResourceInfo, Subresource as S};

const fn v1(
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo::new("storage.k8s.io", "v1", kind, plural, singular, namespaced)
}

pub(super) const RESOURCES: &[ResourceInfo] = &[
    v1("CSIDriver", "csidrivers", "csidriver", false),
    v1("CSINode", "csinodes", "csinode", false),
    v1(
        "CSIStorageCapacity",
        "csistoragecapacities",
        "csistoragecapacity",
        true,
    ),
    v1("StorageClass", "storageclasses", "storageclass", false).with_short_names(&["sc"]),
    v1(
        "VolumeAttachment",
        "volumeattachments",
        "volumeattachment",
        false,
    )
    .with_subresources(&[S::Status]),
];
