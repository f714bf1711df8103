//! One pass of enforcement: the script for the current state, applied when it changed.

use nftables::{Nft, NftError};

use crate::cluster::ClusterState;
use crate::compile::compile;
use crate::render::render;

/// The table last applied, so that an unchanged state costs no `nft` run.
#[derive(Debug, Default)]
pub struct TableSync {
    applied: Option<String>,
}

impl TableSync {
    /// Applies the table for `state` unless it is the one already applied; returns how many
    /// local pods are isolated, or `None` when nothing had to change.
    pub fn sync(
        &mut self,
        state: &ClusterState,
        node_name: &str,
        nft: &dyn Nft,
    ) -> Result<Option<usize>, NftError> {
        let rules = compile(state, node_name);
        let script = render(&rules);
        if self.applied.as_ref() == Some(&script) {
            return Ok(None);
        }
        nft.apply(&script)?;
        self.applied = Some(script);
        Ok(Some(rules.pods.len()))
    }
}
