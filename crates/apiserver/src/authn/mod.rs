//! Who is calling: x509 client certificates signed by the cluster CA, static bearer tokens, the
//! join token of agents that have no certificate yet, and bound service-account tokens (JWTs).

mod join_token;
pub mod jwt;
pub mod service_account_claims;
mod service_account_token;
mod token_file;
mod x509;

pub use join_token::{
    ca_hash, load_or_create_join_token, JoinToken, JoinTokenError, BOOTSTRAPPERS_GROUP,
    TOKEN_PREFIX,
};
pub use service_account_token::{ServiceAccountTokens, TokenRejected};
pub use token_file::{load_token_file, StaticTokens, TokenFileError};
pub use x509::user_from_client_cert;

/// An authenticated user, as upstream's user.Info.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// Every authenticated user is also in `system:authenticated`.
    pub fn with_authenticated_group(mut self) -> Self {
        if !self.groups.iter().any(|g| g == "system:authenticated") {
            self.groups.push("system:authenticated".to_string());
        }
        self
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}
