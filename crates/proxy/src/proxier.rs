//! The proxier's state: the rules it last applied per Service, and the two ways to change them:
//! a full resync (the whole table in one transaction) and a partial sync (only the Services that
//! changed). Effects go through `Nft`, so tests watch the scripts with `RecordingNft`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use nftables::{Nft, NftError};

use crate::model::ServiceKey;
use crate::partial::{partial_script, ServiceChange};
use crate::rules::{RenderOptions, ServiceRules};
use crate::table::{full_script, render_all};

pub struct Proxier {
    nft: Arc<dyn Nft>,
    options: RenderOptions,
    /// What the table holds, per Service; `None` until a full resync succeeded.
    applied: Option<BTreeMap<ServiceKey, ServiceRules>>,
}

impl Proxier {
    pub fn new(nft: Arc<dyn Nft>, options: RenderOptions) -> Self {
        Self {
            nft,
            options,
            applied: None,
        }
    }

    pub fn options(&self) -> &RenderOptions {
        &self.options
    }

    pub fn has_synced(&self) -> bool {
        self.applied.is_some()
    }

    /// Replaces the whole table with the rules for these objects.
    pub fn sync_full<'a>(
        &mut self,
        services: impl IntoIterator<Item = &'a Service>,
        slices: impl IntoIterator<Item = &'a EndpointSlice>,
    ) -> Result<(), NftError> {
        let desired = render_all(services, slices, &self.options);
        self.applied = None;
        self.nft.apply(&full_script(&desired, &self.options))?;
        self.applied = Some(desired);
        Ok(())
    }

    /// Brings the given Services (`None`: gone, or nothing to program) to their new rules,
    /// touching nothing else. Returns whether a script was applied. After an error the table is
    /// unknown: the caller must resync fully.
    pub fn sync_services(
        &mut self,
        desired: BTreeMap<ServiceKey, Option<ServiceRules>>,
    ) -> Result<bool, SyncError> {
        let applied = self.applied.as_ref().ok_or(SyncError::NeverSynced)?;
        let changes: Vec<ServiceChange<'_>> = desired
            .iter()
            .map(|(key, rules)| ServiceChange {
                applied: applied.get(key),
                desired: rules.as_ref(),
            })
            .collect();
        let script = partial_script(&changes);
        if script.is_empty() {
            return Ok(false);
        }
        if let Err(error) = self.nft.apply(&script) {
            self.applied = None;
            return Err(SyncError::Nft(error));
        }
        let Some(applied) = self.applied.as_mut() else {
            return Err(SyncError::NeverSynced);
        };
        for (key, rules) in desired {
            match rules {
                Some(rules) => applied.insert(key, rules),
                None => applied.remove(&key),
            };
        }
        Ok(true)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no full resync has succeeded yet")]
    NeverSynced,
    #[error(transparent)]
    Nft(#[from] NftError),
}
