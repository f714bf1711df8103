//! Which certificate answers which SNI name: the hosts of `spec.tls[]`, exact names before
//! `*.` names; a `tls` entry without hosts replaces the fallback certificate.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::networking::v1::Ingress;
use rustls::sign::CertifiedKey;

use crate::class::served_oldest_first;
use crate::routing::{normalize_request_host, wildcard_suffix, HostPattern};

/// One `spec.tls[]` entry: the Secret (in the Ingress's namespace) and the hosts it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSource {
    pub namespace: String,
    pub secret_name: String,
    pub hosts: Vec<String>,
}

/// The `spec.tls[]` entries of the Ingresses of class `r8s`, oldest Ingress first.
pub fn tls_sources<I: AsRef<Ingress>>(ingresses: &[I]) -> Vec<TlsSource> {
    served_oldest_first(ingresses)
        .into_iter()
        .flat_map(|ingress| {
            let namespace = ingress
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned());
            let entries = ingress
                .spec
                .iter()
                .flat_map(|spec| spec.tls.iter().flatten());
            entries.filter_map(move |tls| {
                Some(TlsSource {
                    namespace: namespace.clone(),
                    secret_name: tls.secret_name.clone()?,
                    hosts: tls.hosts.clone().unwrap_or_default(),
                })
            })
        })
        .collect()
}

#[derive(Debug)]
pub struct CertificateTable {
    exact: HashMap<String, Arc<CertifiedKey>>,
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Arc<CertifiedKey>,
}

impl CertificateTable {
    /// A table that answers every name with `fallback`.
    pub fn new(fallback: Arc<CertifiedKey>) -> Self {
        Self::builder(fallback).build()
    }

    pub fn builder(fallback: Arc<CertifiedKey>) -> CertificateTableBuilder {
        CertificateTableBuilder {
            table: Self {
                exact: HashMap::new(),
                wildcard: HashMap::new(),
                default: fallback,
            },
            default_taken: false,
        }
    }

    /// The certificate for the SNI name a client sent, if any.
    pub fn select(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = server_name.map(normalize_request_host) else {
            return Arc::clone(&self.default);
        };
        let wildcard = || wildcard_suffix(&name).and_then(|suffix| self.wildcard.get(suffix));
        Arc::clone(
            self.exact
                .get(&name)
                .or_else(wildcard)
                .unwrap_or(&self.default),
        )
    }
}

pub struct CertificateTableBuilder {
    table: CertificateTable,
    default_taken: bool,
}

impl CertificateTableBuilder {
    /// Serves `key` for `hosts` (or as the default when there are none) unless an earlier call
    /// claimed them.
    pub fn add(&mut self, hosts: &[String], key: Arc<CertifiedKey>) {
        if hosts.is_empty() && !self.default_taken {
            self.table.default = Arc::clone(&key);
            self.default_taken = true;
        }
        for host in hosts {
            let entry = match HostPattern::parse(Some(host)) {
                HostPattern::Exact(host) => self.table.exact.entry(host),
                HostPattern::Wildcard(suffix) => self.table.wildcard.entry(suffix),
                HostPattern::Any => continue,
            };
            entry.or_insert_with(|| Arc::clone(&key));
        }
    }

    pub fn build(self) -> CertificateTable {
        self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::certified_key_from_pem;
    use serde_json::json;

    fn key(name: &str) -> Arc<CertifiedKey> {
        let issued = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        Arc::new(
            certified_key_from_pem(
                issued.cert.pem().as_bytes(),
                issued.signing_key.serialize_pem().as_bytes(),
            )
            .unwrap(),
        )
    }

    #[test]
    fn selects_by_sni_exact_then_wildcard_then_default() {
        let fallback = key("fallback");
        let a = key("a.example");
        let wild = key("*.example");
        let mut builder = CertificateTable::builder(Arc::clone(&fallback));
        builder.add(&["A.example".into()], Arc::clone(&a));
        builder.add(&["*.example".into()], Arc::clone(&wild));
        builder.add(&["a.example".into()], key("later"));
        let table = builder.build();
        assert!(Arc::ptr_eq(&table.select(Some("a.example")), &a));
        assert!(Arc::ptr_eq(&table.select(Some("b.example")), &wild));
        assert!(Arc::ptr_eq(&table.select(Some("c.b.example")), &fallback));
        assert!(Arc::ptr_eq(&table.select(Some("other")), &fallback));
        assert!(Arc::ptr_eq(&table.select(None), &fallback));
    }

    #[test]
    fn an_entry_without_hosts_replaces_the_fallback() {
        let default = key("default");
        let mut builder = CertificateTable::builder(key("fallback"));
        builder.add(&[], Arc::clone(&default));
        builder.add(&[], key("later"));
        assert!(Arc::ptr_eq(&builder.build().select(Some("x")), &default));
    }

    #[test]
    fn sources_come_from_served_ingresses_oldest_first() {
        let ingress = |name: &str, created: &str, class: &str| {
            let ingress: Ingress = serde_json::from_value(json!({
                "metadata": {"namespace": "shop", "name": name, "creationTimestamp": created},
                "spec": {"ingressClassName": class,
                         "tls": [{"hosts": ["a.example"], "secretName": name}, {"hosts": []}]},
            }))
            .unwrap();
            Arc::new(ingress)
        };
        let sources = tls_sources(&[
            ingress("newer", "2024-02-01T00:00:00Z", "r8s"),
            ingress("older", "2024-01-01T00:00:00Z", "r8s"),
            ingress("foreign", "2023-01-01T00:00:00Z", "nginx"),
        ]);
        let names: Vec<_> = sources.iter().map(|s| s.secret_name.as_str()).collect();
        assert_eq!(names, ["older", "newer"]);
        assert_eq!(sources[0].namespace, "shop");
        assert_eq!(sources[0].hosts, ["a.example"]);
    }
}
