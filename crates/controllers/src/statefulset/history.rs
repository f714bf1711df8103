//! Choosing the update and current revisions among the set's ControllerRevisions, creating the
//! update revision when the template changed, and trimming history to `revisionHistoryLimit`.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, ResourceExt};

use super::error::Error;
use super::revision::{new_revision, revision_data, same_data, REVISION_LABEL};

pub struct ChosenRevisions {
    pub current: ControllerRevision,
    pub update: ControllerRevision,
}

pub async fn choose_revisions(
    api: &Api<ControllerRevision>,
    set: &StatefulSet,
    owned: &[Arc<ControllerRevision>],
) -> Result<ChosenRevisions, Error> {
    let template = set
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let data = revision_data(&template)?;
    let update = match owned.iter().find(|r| same_data(r, &data)) {
        Some(existing) => existing.as_ref().clone(),
        None => {
            let number = owned.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
            let revision = new_revision(set, data, number)?;
            match api.create(&PostParams::default(), &revision).await {
                Ok(created) => created,
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    api.get(&revision.name_any()).await?
                }
                Err(error) => return Err(error.into()),
            }
        }
    };
    let recorded = set
        .status
        .as_ref()
        .and_then(|s| s.current_revision.as_deref());
    let current = owned
        .iter()
        .find(|r| Some(r.name_any().as_str()) == recorded)
        .map_or_else(|| update.clone(), |r| r.as_ref().clone());
    Ok(ChosenRevisions { current, update })
}

/// Deletes the oldest revisions beyond the limit that neither the set nor any pod uses.
pub async fn trim_history(
    api: &Api<ControllerRevision>,
    set: &StatefulSet,
    owned: &[Arc<ControllerRevision>],
    chosen: &ChosenRevisions,
    pods: &[Arc<Pod>],
) -> Result<(), Error> {
    let limit = set
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let in_use = |name: &str| {
        name == chosen.current.name_any()
            || name == chosen.update.name_any()
            || pods
                .iter()
                .any(|p| p.labels().get(REVISION_LABEL).map(String::as_str) == Some(name))
    };
    let mut unused: Vec<&Arc<ControllerRevision>> =
        owned.iter().filter(|r| !in_use(&r.name_any())).collect();
    if unused.len() <= limit {
        return Ok(());
    }
    unused.sort_by_key(|r| r.revision);
    for revision in &unused[..unused.len() - limit] {
        match api
            .delete(&revision.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
