//! The pod the Job controller creates from `spec.template`.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::error::Error;
use super::pod_state::{COMPLETION_INDEX_KEY, TRACKING_FINALIZER};

pub fn pod_for_job(job: &Job, index: Option<i32>) -> Result<Pod, Error> {
    let job_name = job
        .metadata
        .name
        .clone()
        .ok_or(Error::MissingField("metadata.name"))?;
    let uid = job
        .metadata
        .uid
        .clone()
        .ok_or(Error::MissingField("metadata.uid"))?;
    let template = job
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let template_meta = template.metadata.unwrap_or_default();
    let mut labels = template_meta.labels.unwrap_or_default();
    let mut annotations = template_meta.annotations.unwrap_or_default();
    let mut spec = template
        .spec
        .ok_or(Error::MissingField("spec.template.spec"))?;
    let generate_name = match index {
        Some(index) => {
            labels.insert(COMPLETION_INDEX_KEY.into(), index.to_string());
            annotations.insert(COMPLETION_INDEX_KEY.into(), index.to_string());
            if spec.hostname.is_none() {
                spec.hostname = Some(format!("{job_name}-{index}"));
            }
            for container in spec
                .containers
                .iter_mut()
                .chain(spec.init_containers.iter_mut().flatten())
            {
                add_completion_index_env(container);
            }
            format!("{job_name}-{index}-")
        }
        None => format!("{job_name}-"),
    };
    Ok(Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: job.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            finalizers: Some(vec![TRACKING_FINALIZER.to_string()]),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name: job_name,
                uid,
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    })
}

/// Upstream exposes the index to the workload through the downward API; the kubelet resolves it.
fn add_completion_index_env(container: &mut Container) {
    let env = container.env.get_or_insert_with(Vec::new);
    if env.iter().any(|e| e.name == "JOB_COMPLETION_INDEX") {
        return;
    }
    env.push(EnvVar {
        name: "JOB_COMPLETION_INDEX".into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: format!("metadata.annotations['{COMPLETION_INDEX_KEY}']"),
            }),
            ..EnvVarSource::default()
        }),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indexed_pods_carry_the_index_hostname_and_env() {
        let job: Job = serde_json::from_value(json!({
            "metadata": {"name": "work", "namespace": "default", "uid": "u1"},
            "spec": {"completionMode": "Indexed", "completions": 3,
                     "template": {"metadata": {"labels": {"job-name": "work"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
        }))
        .unwrap();
        let pod = pod_for_job(&job, Some(2)).unwrap();
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("work-2-"));
        assert_eq!(
            pod.metadata.labels.as_ref().unwrap()[COMPLETION_INDEX_KEY],
            "2"
        );
        let spec = pod.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("work-2"));
        assert_eq!(
            spec.containers[0].env.as_ref().unwrap()[0].name,
            "JOB_COMPLETION_INDEX"
        );
        assert_eq!(
            pod.metadata.finalizers.unwrap(),
            vec![TRACKING_FINALIZER.to_string()]
        );
    }
}
