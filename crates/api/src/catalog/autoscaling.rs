//! `autoscaling/v2` (preferred) and `autoscaling/v1`: the same HorizontalPodAutoscaler objects,
//! stored once in the v2 representation.

use super::{ResourceInfo, Subresource as S};

const fn hpa(version: &'static str) -> ResourceInfo {
    ResourceInfo::new(
        "autoscaling",
        version,
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        true,
    )
    .with_short_names(&["hpa"])
    .with_categories(&["all"])
    .with_subresources(&[S::Status])
    .stored_as("autoscaling", "v2")
}

pub(super) const RESOURCES: &[ResourceInfo] = &[hpa("v2"), hpa("v1")];
