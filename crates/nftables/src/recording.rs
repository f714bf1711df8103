//! A fake that records the scripts it is given, for unit tests of what callers program.

use std::sync::Mutex;

use crate::{Nft, NftError};

#[derive(Debug, Default)]
pub struct RecordingNft {
    scripts: Mutex<Vec<String>>,
}

impl RecordingNft {
    /// Every script applied so far, oldest first.
    pub fn scripts(&self) -> Vec<String> {
        self.scripts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The most recent script, if any.
    pub fn last(&self) -> Option<String> {
        self.scripts().pop()
    }
}

impl Nft for RecordingNft {
    fn apply(&self, script: &str) -> Result<(), NftError> {
        self.scripts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(script.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_kept_in_order() {
        let nft = RecordingNft::default();
        nft.apply("add table ip a").unwrap();
        nft.apply("add table ip b").unwrap();
        assert_eq!(nft.scripts(), vec!["add table ip a", "add table ip b"]);
        assert_eq!(nft.last().as_deref(), Some("add table ip b"));
    }
}
