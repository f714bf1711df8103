//! The cluster's certificates: a CA, the API server's serving certificate and the admin client
//! certificate, created on first start and reused afterwards.

mod files;
mod issue;
mod kubeconfig;
mod kubelet_client;
mod service_account_key;
mod serving_coverage;

pub use files::{load_or_create, write_owner_only, ClusterPki, PkiError};
pub use kubeconfig::render_kubeconfig;
pub use kubelet_client::{
    load_or_create_kubelet_client, KubeletClientCert, KUBELET_CLIENT_COMMON_NAME,
};
pub use service_account_key::{load_or_create_service_account_key, ServiceAccountKeyError};
