//! The Secrets `spec.tls` names, read with `get` and kept parsed until the next refresh.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use rustls::sign::CertifiedKey;

use crate::tls::{certified_key_from_secret, CertificateTable, TlsSource};

type SecretKey = (String, String);

#[derive(Default)]
pub struct SecretCache {
    keys: HashMap<SecretKey, Arc<CertifiedKey>>,
}

impl SecretCache {
    /// Forgets everything, so that the next build reads every Secret again.
    pub fn clear(&mut self) {
        self.keys.clear();
    }

    /// The certificate table for `sources`, reading Secrets not yet cached, and whether every
    /// Secret was usable. A Secret that is missing or unusable is logged, its hosts get the
    /// fallback certificate, and it is read again next time.
    pub async fn certificate_table(
        &mut self,
        client: &kube::Client,
        sources: &[TlsSource],
        fallback: &Arc<CertifiedKey>,
    ) -> (CertificateTable, bool) {
        let mut complete = true;
        let mut builder = CertificateTable::builder(Arc::clone(fallback));
        for source in sources {
            let key = (source.namespace.clone(), source.secret_name.clone());
            let certified = match self.keys.get(&key) {
                Some(certified) => Some(Arc::clone(certified)),
                None => load(client, source).await,
            };
            match certified {
                Some(certified) => {
                    builder.add(&source.hosts, Arc::clone(&certified));
                    self.keys.insert(key, certified);
                }
                None => complete = false,
            }
        }
        (builder.build(), complete)
    }
}

async fn load(client: &kube::Client, source: &TlsSource) -> Option<Arc<CertifiedKey>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &source.namespace);
    let (namespace, name) = (&source.namespace, &source.secret_name);
    match api.get_opt(name).await {
        Ok(Some(secret)) => match certified_key_from_secret(&secret) {
            Ok(certified) => Some(Arc::new(certified)),
            Err(error) => {
                tracing::warn!(%namespace, %name, %error, "unusable TLS secret");
                None
            }
        },
        Ok(None) => {
            tracing::warn!(%namespace, %name, "TLS secret not found");
            None
        }
        Err(error) => {
            tracing::warn!(%namespace, %name, %error, "reading TLS secret");
            None
        }
    }
}
