//! Applying nftables scripts atomically (`nft -f -`) behind a trait, with a recording fake.
//!
//! Every caller hands over a whole script: `nft -f` runs it as one transaction, so the kernel
//! sees either all of it or none of it.

#![forbid(unsafe_code)]

mod command;
mod protocol;
mod recording;

pub use command::NftCommand;
pub use protocol::Protocol;
pub use recording::RecordingNft;

#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("running {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("nft -f failed ({status}): {stderr}")]
    Rejected { status: String, stderr: String },
}

/// Something that applies nftables scripts (the `nft -f` input language) in one transaction.
pub trait Nft: Send + Sync {
    fn apply(&self, script: &str) -> Result<(), NftError>;
}
