//! IngressClass `r8s`: which Ingresses this controller serves, and the class object itself.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{Ingress, IngressClass, IngressClassSpec};
use kube::api::{ObjectMeta, PostParams};
use kube::Api;

pub const CLASS_NAME: &str = "r8s";
pub const CONTROLLER_NAME: &str = "r8s.io/ingress";
const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";
const LEGACY_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Whether `ingress` belongs to class `r8s`: named so, or naming no class at all (`r8s` is the
/// default class), where the legacy annotation, if present, must say `r8s`.
pub fn serves(ingress: &Ingress) -> bool {
    let class_name = ingress
        .spec
        .as_ref()
        .and_then(|spec| spec.ingress_class_name.as_deref());
    match class_name {
        Some(name) => name == CLASS_NAME,
        None => ingress
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(LEGACY_CLASS_ANNOTATION))
            .is_none_or(|legacy| legacy == CLASS_NAME),
    }
}

/// The Ingresses of class `r8s`, oldest first: where two claim the same host and path (or TLS
/// host, or default backend), the oldest wins, as in ingress-nginx.
pub fn served_oldest_first<I: AsRef<Ingress>>(ingresses: &[I]) -> Vec<&Ingress> {
    let mut served: Vec<&Ingress> = ingresses
        .iter()
        .map(AsRef::as_ref)
        .filter(|ingress| serves(ingress))
        .collect();
    served.sort_by(|a, b| {
        let age = |ingress: &Ingress| {
            let meta = &ingress.metadata;
            (
                meta.creation_timestamp.as_ref().map(|time| time.0),
                meta.namespace.clone(),
                meta.name.clone(),
            )
        };
        age(a).cmp(&age(b))
    });
    served
}

/// The IngressClass every agent makes sure exists.
pub fn ingress_class() -> IngressClass {
    IngressClass {
        metadata: ObjectMeta {
            name: Some(CLASS_NAME.to_owned()),
            annotations: Some(BTreeMap::from([(
                DEFAULT_CLASS_ANNOTATION.to_owned(),
                "true".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(IngressClassSpec {
            controller: Some(CONTROLLER_NAME.to_owned()),
            parameters: None,
        }),
    }
}

/// Creates IngressClass `r8s` unless it exists; trouble is logged, never fatal.
pub async fn ensure_ingress_class(client: &kube::Client) {
    let api: Api<IngressClass> = Api::all(client.clone());
    match api.get_opt(CLASS_NAME).await {
        Ok(Some(_)) => {}
        Ok(None) => match api.create(&PostParams::default(), &ingress_class()).await {
            Ok(_) => tracing::info!("created IngressClass {CLASS_NAME}"),
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(error) => tracing::warn!(%error, "creating IngressClass {CLASS_NAME}"),
        },
        Err(error) => tracing::warn!(%error, "reading IngressClass {CLASS_NAME}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::networking::v1::IngressSpec;

    fn ingress(class: Option<&str>, legacy: Option<&str>) -> Ingress {
        Ingress {
            metadata: ObjectMeta {
                annotations: legacy.map(|value| {
                    BTreeMap::from([(LEGACY_CLASS_ANNOTATION.to_owned(), value.to_owned())])
                }),
                ..ObjectMeta::default()
            },
            spec: Some(IngressSpec {
                ingress_class_name: class.map(str::to_owned),
                ..IngressSpec::default()
            }),
            status: None,
        }
    }

    #[test]
    fn serves_its_class_and_classless_ingresses() {
        assert!(serves(&ingress(Some("r8s"), None)));
        assert!(serves(&ingress(None, None)));
        assert!(serves(&ingress(None, Some("r8s"))));
        assert!(!serves(&ingress(Some("nginx"), None)));
        assert!(!serves(&ingress(None, Some("nginx"))));
    }
}
