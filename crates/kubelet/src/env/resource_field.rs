//! Container resources selected by `resourceFieldRef` (env `valueFrom` and downwardAPI volumes).

use std::collections::BTreeMap;

use api::quantity::Quantity as Amount;
use k8s_openapi::api::core::v1::{Container, ResourceFieldSelector};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Why a resource field could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceFieldError {
    #[error("unsupported container resource : {0}")]
    Unsupported(String),
    #[error("invalid quantity {0:?}")]
    InvalidQuantity(String),
}

/// The value of `selector` for `container`, limits defaulting to `node_allocatable` when unset
/// (upstream's `ExtractContainerResourceValue` after `MergeContainerResourceLimits`).
pub fn resource_field_value(
    selector: &ResourceFieldSelector,
    container: &Container,
    node_allocatable: &BTreeMap<String, Quantity>,
) -> Result<String, ResourceFieldError> {
    let (kind, resource) = selector
        .resource
        .split_once('.')
        .ok_or_else(|| ResourceFieldError::Unsupported(selector.resource.clone()))?;
    let resources = container.resources.as_ref();
    let empty = BTreeMap::new();
    let amount = match kind {
        "limits" => resources
            .and_then(|r| r.limits.as_ref())
            .unwrap_or(&empty)
            .get(resource)
            .or_else(|| {
                matches!(resource, "cpu" | "memory" | "ephemeral-storage")
                    .then(|| node_allocatable.get(resource))
                    .flatten()
            }),
        "requests" => resources
            .and_then(|r| r.requests.as_ref())
            .unwrap_or(&empty)
            .get(resource),
        _ => return Err(ResourceFieldError::Unsupported(selector.resource.clone())),
    };
    let supported = matches!(resource, "cpu" | "memory" | "ephemeral-storage")
        || resource.starts_with("hugepages-");
    if !supported {
        return Err(ResourceFieldError::Unsupported(selector.resource.clone()));
    }
    let amount = match amount {
        Some(q) => parse(q)?,
        None => parse(&Quantity("0".into()))?,
    };
    let divisor = match &selector.divisor {
        Some(q) => parse(q)?,
        None => parse(&Quantity("1".into()))?,
    };
    let value = if resource == "cpu" {
        let divisor = divisor.milli_value();
        let divisor = if divisor == 0 { 1000 } else { divisor };
        ceil_div(amount.milli_value(), divisor)
    } else {
        let divisor = whole_value(&divisor);
        let divisor = if divisor == 0 { 1 } else { divisor };
        ceil_div(whole_value(&amount), divisor)
    };
    Ok(value.to_string())
}

fn parse(quantity: &Quantity) -> Result<Amount, ResourceFieldError> {
    Amount::parse(&quantity.0).map_err(|_| ResourceFieldError::InvalidQuantity(quantity.0.clone()))
}

/// Upstream's `Quantity.Value()`: the amount rounded up to a whole number.
fn whole_value(amount: &Amount) -> i128 {
    ceil_div(amount.milli_value(), 1000)
}

fn ceil_div(value: i128, divisor: i128) -> i128 {
    let quotient = value / divisor;
    if value % divisor > 0 {
        quotient + 1
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;

    fn q(text: &str) -> Quantity {
        Quantity(text.into())
    }

    #[test]
    fn values_round_up_with_divisor() {
        let container = Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                limits: Some([("cpu".to_string(), q("1250m"))].into_iter().collect()),
                requests: Some(
                    [
                        ("cpu".to_string(), q("250m")),
                        ("memory".to_string(), q("64Mi")),
                    ]
                    .into_iter()
                    .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        let allocatable: BTreeMap<String, Quantity> = [
            ("cpu".to_string(), q("2")),
            ("memory".to_string(), q("8Gi")),
        ]
        .into_iter()
        .collect();
        let cases = [
            ("limits.cpu", None, "2"),
            ("limits.cpu", Some("1m"), "1250"),
            ("requests.cpu", None, "1"),
            ("requests.cpu", Some("1m"), "250"),
            ("requests.memory", None, "67108864"),
            ("requests.memory", Some("1Mi"), "64"),
            ("limits.memory", Some("1Gi"), "8"),
            ("requests.ephemeral-storage", None, "0"),
        ];
        for (resource, divisor, want) in cases {
            let selector = ResourceFieldSelector {
                resource: resource.into(),
                divisor: divisor.map(q),
                container_name: None,
            };
            assert_eq!(
                resource_field_value(&selector, &container, &allocatable).as_deref(),
                Ok(want),
                "{resource} / {divisor:?}"
            );
        }
        let bogus = ResourceFieldSelector {
            resource: "limits.gpu".into(),
            ..Default::default()
        };
        assert_eq!(
            resource_field_value(&bogus, &container, &allocatable).map_err(|e| e.to_string()),
            Err("unsupported container resource : limits.gpu".to_string())
        );
    }
}
