//! Authorization of every kubelet request, as upstream's webhook mode: the caller's access to
//! `nodes/<subresource>` of this node is asked of the API server with a SubjectAccessReview.
//! Answers are remembered as upstream's defaults: allowed for 5 minutes, denied for 30 seconds.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{Method, StatusCode};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::answer_cache::AnswerCache;
use super::client_identity::ClientIdentity;
use super::http_error::HttpError;
use super::request_attributes::{subresources_for, verb_for};
use crate::KubeletError;

const ALLOWED_TTL: Duration = Duration::from_secs(5 * 60);
const DENIED_TTL: Duration = Duration::from_secs(30);

/// One question: may `user` `verb` the `nodes/<subresource>` named `node`?
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessRequest {
    pub user: ClientIdentity,
    pub verb: String,
    pub subresource: String,
    pub node: String,
}

/// Who answers access questions (the API server; a fake in tests).
#[async_trait]
pub trait AccessReview: Send + Sync {
    async fn allowed(&self, request: &AccessRequest) -> Result<bool, KubeletError>;
}

/// Asks the API server with a SubjectAccessReview, using the kubelet's own credentials.
pub struct ApiAccessReview {
    client: kube::Client,
}

impl ApiAccessReview {
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl AccessReview for ApiAccessReview {
    async fn allowed(&self, request: &AccessRequest) -> Result<bool, KubeletError> {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(request.user.name.clone()),
                groups: Some(request.user.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(request.verb.clone()),
                    group: Some(String::new()),
                    version: Some("v1".into()),
                    resource: Some("nodes".into()),
                    subresource: Some(request.subresource.clone()),
                    name: Some(request.node.clone()),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let reviews: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let answered = reviews.create(&PostParams::default(), &review).await?;
        Ok(answered.status.is_some_and(|s| s.allowed))
    }
}

/// Decides each request from its caller, method and path.
pub struct RequestAuthorizer {
    review: Arc<dyn AccessReview>,
    node: String,
    answers: AnswerCache<AccessRequest, bool>,
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

impl RequestAuthorizer {
    pub fn new(review: Arc<dyn AccessReview>, node: impl Into<String>) -> Self {
        Self {
            review,
            node: node.into(),
            answers: AnswerCache::new(|allowed| if *allowed { ALLOWED_TTL } else { DENIED_TTL }),
        }
    }

    /// Ok when any of the path's subresources is allowed; upstream's 403 or 500 otherwise.
    pub async fn authorize(
        &self,
        user: &ClientIdentity,
        method: &Method,
        path: &str,
    ) -> Result<(), HttpError> {
        let verb = verb_for(method);
        let subresources = subresources_for(path);
        for subresource in &subresources {
            let request = AccessRequest {
                user: user.clone(),
                verb: verb.to_string(),
                subresource: (*subresource).to_string(),
                node: self.node.clone(),
            };
            let allowed = match self.answers.get(&request) {
                Some(allowed) => allowed,
                None => match self.review.allowed(&request).await {
                    Ok(allowed) => {
                        self.answers.insert(request, allowed);
                        allowed
                    }
                    Err(error) => {
                        tracing::warn!(user = %user.name, %error, "kubelet authorization failed");
                        return Err(HttpError::internal(format!(
                            "Authorization error (user={}, verb={verb}, resource=nodes, subresource(s)={})\n",
                            user.name,
                            go_list(&subresources)
                        )));
                    }
                },
            };
            if allowed {
                return Ok(());
            }
        }
        Err(HttpError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Forbidden (user={}, verb={verb}, resource=nodes, subresource(s)={})\n",
                user.name,
                go_list(&subresources)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Allows what is listed as (user, verb, subresource), counting the questions.
    #[derive(Default)]
    struct ListedAccess {
        allowed: Vec<(&'static str, &'static str, &'static str)>,
        asked: Mutex<Vec<AccessRequest>>,
    }

    #[async_trait]
    impl AccessReview for ListedAccess {
        async fn allowed(&self, request: &AccessRequest) -> Result<bool, KubeletError> {
            self.asked.lock().unwrap().push(request.clone());
            Ok(self.allowed.iter().any(|(user, verb, subresource)| {
                *user == request.user.name
                    && *verb == request.verb
                    && *subresource == request.subresource
            }))
        }
    }

    fn user(name: &str) -> ClientIdentity {
        ClientIdentity {
            name: name.into(),
            groups: vec!["g".into()],
        }
    }

    #[tokio::test]
    async fn a_request_is_allowed_by_any_of_its_subresources_and_denied_as_upstream() {
        let access = Arc::new(ListedAccess {
            allowed: vec![("ops", "get", "proxy"), ("monitor", "get", "stats")],
            ..ListedAccess::default()
        });
        let authorizer = RequestAuthorizer::new(access.clone(), "n1");
        authorizer
            .authorize(&user("ops"), &Method::GET, "/healthz")
            .await
            .unwrap();
        authorizer
            .authorize(&user("monitor"), &Method::GET, "/stats/summary")
            .await
            .unwrap();
        let denied = authorizer
            .authorize(&user("monitor"), &Method::POST, "/exec/ns/p/c")
            .await
            .unwrap_err();
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert_eq!(
            denied.message,
            "Forbidden (user=monitor, verb=create, resource=nodes, subresource(s)=[proxy])\n"
        );
        let denied = authorizer
            .authorize(&user("monitor"), &Method::GET, "/pods")
            .await
            .unwrap_err();
        assert!(denied.message.contains("subresource(s)=[pods proxy]"));
        let asked = access.asked.lock().unwrap();
        assert_eq!(asked[0].subresource, "healthz");
        assert_eq!(asked[1].subresource, "proxy");
        assert!(asked.iter().all(|r| r.node == "n1"));
    }

    #[tokio::test]
    async fn answers_are_remembered() {
        let access = Arc::new(ListedAccess {
            allowed: vec![("ops", "get", "proxy")],
            ..ListedAccess::default()
        });
        let authorizer = RequestAuthorizer::new(access.clone(), "n1");
        for _ in 0..3 {
            authorizer
                .authorize(&user("ops"), &Method::GET, "/containerLogs/a/b/c")
                .await
                .unwrap();
            authorizer
                .authorize(&user("eve"), &Method::GET, "/containerLogs/a/b/c")
                .await
                .unwrap_err();
        }
        assert_eq!(access.asked.lock().unwrap().len(), 2);
        // Another group is another question.
        let mut other = user("ops");
        other.groups = vec!["h".into()];
        authorizer
            .authorize(&other, &Method::GET, "/containerLogs/a/b/c")
            .await
            .unwrap();
        assert_eq!(access.asked.lock().unwrap().len(), 3);
    }
}
