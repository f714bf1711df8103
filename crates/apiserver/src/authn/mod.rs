//! Who is calling: x509 client certificates signed by the cluster CA, and static bearer tokens.

mod token_file;
mod x509;

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
