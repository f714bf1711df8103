//! Who may call the kubelet server, as upstream's kubelet with webhook authentication and
//! authorization: a client certificate from the cluster CA or, without one, a bearer token the
//! API server reviews names the caller; a SubjectAccessReview decides what it may do.

use std::sync::Arc;

use super::authorization::{ApiAccessReview, RequestAuthorizer};
use super::token_review::{ApiTokenReview, TokenAuthenticator};

pub struct Access {
    pub tokens: TokenAuthenticator,
    pub authorizer: RequestAuthorizer,
}

impl Access {
    /// Both asked of the API server through `client` (the node's own credentials).
    pub fn through_api(client: kube::Client, node: impl Into<String>) -> Self {
        Self {
            tokens: TokenAuthenticator::new(Arc::new(ApiTokenReview::new(client.clone()))),
            authorizer: RequestAuthorizer::new(Arc::new(ApiAccessReview::new(client)), node),
        }
    }
}
