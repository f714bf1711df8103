//! The Job a CronJob starts for one scheduled time: `<cronjob>-<scheduled unix minutes>`.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::error::Error;

pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

pub fn job_name(cronjob_name: &str, scheduled: Timestamp) -> String {
    format!("{cronjob_name}-{}", scheduled.as_second().div_euclid(60))
}

pub fn job_for_schedule(cronjob: &CronJob, scheduled: Timestamp) -> Result<Job, Error> {
    let name = cronjob
        .metadata
        .name
        .clone()
        .ok_or(Error::MissingField("metadata.name"))?;
    let template = cronjob
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .ok_or(Error::MissingField("spec"))?;
    let template_meta = template.metadata.unwrap_or_default();
    let mut annotations = template_meta.annotations.unwrap_or_default();
    annotations.insert(SCHEDULED_TIMESTAMP_ANNOTATION.into(), scheduled.to_string());
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name, scheduled)),
            namespace: cronjob.metadata.namespace.clone(),
            labels: template_meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![crate::owner_reference::controller_reference(cronjob)]),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_use_the_scheduled_minute() {
        let scheduled: Timestamp = "2025-01-01T00:05:00Z".parse().unwrap();
        assert_eq!(
            job_name("backup", scheduled),
            format!("backup-{}", 1_735_689_900 / 60)
        );
    }
}
