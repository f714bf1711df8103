//! The environment of one container from already fetched objects (upstream's
//! `makeEnvironmentVariables`): envFrom, env with `$(VAR)` expansion, valueFrom, service links.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::expansion::expand;
use super::field_path::{env_field_value, PodAddresses};
use super::resource_field::resource_field_value;
use super::service_links::{service_env_vars, services_for_pod};

/// Everything the environment may refer to, fetched beforehand. A ConfigMap or Secret absent
/// from the maps does not exist.
#[derive(Debug, Clone, Default)]
pub struct EnvSources {
    pub config_maps: BTreeMap<String, ConfigMap>,
    pub secrets: BTreeMap<String, Secret>,
    /// Services of the pod's namespace and `default` (or fewer: only these are looked at).
    pub services: Vec<Service>,
    pub node_allocatable: BTreeMap<String, Quantity>,
    pub addresses: PodAddresses,
}

/// The resolved variables in order, and the envFrom keys skipped for not being valid names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    pub vars: Vec<(String, String)>,
    pub invalid_keys: Vec<String>,
}

/// A reference the environment could not resolve; the text is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(pub String);

/// Variables in first-set order; setting a name again replaces its value in place.
#[derive(Default)]
struct OrderedVars {
    order: Vec<String>,
    values: HashMap<String, String>,
}

impl OrderedVars {
    fn set(&mut self, name: String, value: String) {
        if !self.values.contains_key(&name) {
            self.order.push(name.clone());
        }
        self.values.insert(name, value);
    }
}

/// Resolves the variables of `container` in `pod` against `sources`.
pub fn make_environment(
    pod: &Pod,
    container: &Container,
    sources: &EnvSources,
) -> Result<Environment, EnvError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let enable_links = pod
        .spec
        .as_ref()
        .and_then(|s| s.enable_service_links)
        .unwrap_or(true);
    let services = services_for_pod(&sources.services, namespace, enable_links);
    let service_vars: HashMap<String, String> = service_env_vars(&services).into_iter().collect();
    let service_order: Vec<String> = service_env_vars(&services)
        .into_iter()
        .map(|(k, _)| k)
        .collect();

    let mut vars = OrderedVars::default();
    let mut invalid_keys = Vec::new();
    for from in container.env_from.as_deref().unwrap_or_default() {
        let prefix = from.prefix.as_deref().unwrap_or_default();
        let data: Vec<(String, String)> = if let Some(source) = &from.config_map_ref {
            match sources.config_maps.get(&source.name) {
                Some(cm) => cm.data.clone().unwrap_or_default().into_iter().collect(),
                None if source.optional == Some(true) => continue,
                None => return Err(not_found("configmap", &source.name)),
            }
        } else if let Some(source) = &from.secret_ref {
            match sources.secrets.get(&source.name) {
                Some(secret) => secret_strings(secret),
                None if source.optional == Some(true) => continue,
                None => return Err(not_found("secret", &source.name)),
            }
        } else {
            continue;
        };
        for (key, value) in data {
            let name = format!("{prefix}{key}");
            if is_env_var_name(&name) {
                vars.set(name, value);
            } else {
                invalid_keys.push(name);
            }
        }
    }

    for env in container.env.as_deref().unwrap_or_default() {
        let literal = env.value.as_deref().unwrap_or_default();
        let value = if !literal.is_empty() {
            expand(literal, |name| {
                vars.values
                    .get(name)
                    .or_else(|| service_vars.get(name))
                    .map(String::as_str)
            })
        } else if let Some(from) = &env.value_from {
            match value_from(pod, container, from, namespace, sources)? {
                Some(value) => value,
                None => continue,
            }
        } else {
            String::new()
        };
        vars.set(env.name.clone(), value);
    }

    for name in service_order {
        if !vars.values.contains_key(&name) {
            if let Some(value) = service_vars.get(&name) {
                vars.set(name, value.clone());
            }
        }
    }
    let OrderedVars { order, mut values } = vars;
    let vars = order
        .into_iter()
        .map(|name| {
            let value = values.remove(&name).unwrap_or_default();
            (name, value)
        })
        .collect();
    Ok(Environment { vars, invalid_keys })
}

/// One `valueFrom`; `None` when an optional source is missing (the variable is left out).
fn value_from(
    pod: &Pod,
    container: &Container,
    from: &k8s_openapi::api::core::v1::EnvVarSource,
    namespace: &str,
    sources: &EnvSources,
) -> Result<Option<String>, EnvError> {
    if let Some(field) = &from.field_ref {
        return env_field_value(pod, &sources.addresses, &field.field_path)
            .map(Some)
            .map_err(|e| EnvError(e.to_string()));
    }
    if let Some(resource) = &from.resource_field_ref {
        let target = match resource.container_name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => find_container(pod, name).unwrap_or(container),
            None => container,
        };
        return resource_field_value(resource, target, &sources.node_allocatable)
            .map(Some)
            .map_err(|e| EnvError(e.to_string()));
    }
    if let Some(key_ref) = &from.config_map_key_ref {
        let optional = key_ref.optional == Some(true);
        let Some(cm) = sources.config_maps.get(&key_ref.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(not_found("configmap", &key_ref.name))
            };
        };
        let value = cm
            .data
            .as_ref()
            .and_then(|d| d.get(&key_ref.key))
            .cloned()
            .or_else(|| {
                cm.binary_data
                    .as_ref()
                    .and_then(|d| d.get(&key_ref.key))
                    .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            });
        return match value {
            Some(value) => Ok(Some(value)),
            None if optional => Ok(None),
            None => Err(EnvError(format!(
                "couldn't find key {} in ConfigMap {namespace}/{}",
                key_ref.key, key_ref.name
            ))),
        };
    }
    if let Some(key_ref) = &from.secret_key_ref {
        let optional = key_ref.optional == Some(true);
        let Some(secret) = sources.secrets.get(&key_ref.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(not_found("secret", &key_ref.name))
            };
        };
        let value = secret
            .data
            .as_ref()
            .and_then(|d| d.get(&key_ref.key))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .or_else(|| {
                secret
                    .string_data
                    .as_ref()
                    .and_then(|d| d.get(&key_ref.key))
                    .cloned()
            });
        return match value {
            Some(value) => Ok(Some(value)),
            None if optional => Ok(None),
            None => Err(EnvError(format!(
                "couldn't find key {} in Secret {namespace}/{}",
                key_ref.key, key_ref.name
            ))),
        };
    }
    Ok(Some(String::new()))
}

fn find_container<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

fn secret_strings(secret: &Secret) -> Vec<(String, String)> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect()
}

fn not_found(kind: &str, name: &str) -> EnvError {
    EnvError(format!("{kind} \"{name}\" not found"))
}

/// Upstream's `IsEnvVarName`: `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn is_env_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    let valid_rest = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_') => chars.all(valid_rest),
        _ => false,
    }
}

/// `command` and `args` with `$(VAR)` expanded against the final environment.
pub fn expand_command(
    container: &Container,
    vars: &[(String, String)],
) -> (Vec<String>, Vec<String>) {
    let map: HashMap<&str, &str> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let expand_all = |items: &Option<Vec<String>>| -> Vec<String> {
        items
            .iter()
            .flatten()
            .map(|item| expand(item, |name| map.get(name).copied()))
            .collect()
    };
    (expand_all(&container.command), expand_all(&container.args))
}

#[cfg(test)]
mod tests;
