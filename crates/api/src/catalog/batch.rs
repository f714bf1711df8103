//! `batch/v1`.

use super::{ResourceInfo, Subresource as S};

pub(super) const RESOURCES: &[ResourceInfo] = &[
    ResourceInfo::new("batch", "v1", "CronJob", "cronjobs", "cronjob", true)
        .with_short_names(&["cj"])
        .with_categories(&["all"])
        .with_subresources(&[S::Status]),
    ResourceInfo::new("batch", "v1", "Job", "jobs", "job", true)
        .with_categories(&["all"])
        .with_subresources(&[S::Status]),
];
