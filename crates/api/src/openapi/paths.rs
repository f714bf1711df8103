//! The `paths` of a group-version's v3 document: collection, item and subresource paths of each
//! served resource, with one operation per verb it serves.

use serde_json::{json, Map, Value};

use super::definitions::V3_REF_PREFIX;
use super::operations::{operation, Action, OperationTarget};
use super::parameters::{path_parameter, pretty};
use crate::catalog::{ResourceInfo, Subresource};

/// Finds the definition name of a (group, version, kind).
pub(crate) trait DefinitionLookup {
    fn definition_of(&self, group: &str, version: &str, kind: &str) -> Option<&str>;
    fn has_definition(&self, name: &str) -> bool;
}

/// The URL prefix of a group-version: `/api/v1` or `/apis/<group>/<version>`.
pub(crate) fn group_version_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// Every path of the group-version, for the resources of `resources` that belong to it.
pub(crate) fn group_version_paths(
    group: &str,
    version: &str,
    resources: &[ResourceInfo],
    definitions: &dyn DefinitionLookup,
) -> Map<String, Value> {
    let names = GroupVersionNames::new(group, version);
    let mut paths = Map::new();
    paths.insert(format!("{}/", names.prefix), discovery_path(&names));
    for resource in resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        add_resource_paths(&mut paths, &names, resource, definitions);
    }
    paths.sort_keys();
    paths
}

/// How a group-version shows up in URLs, tags and operation ids.
struct GroupVersionNames {
    prefix: String,
    /// `apps_v1`, `core_v1`, `rbacAuthorization_v1`.
    tag: String,
    /// `AppsV1`, `CoreV1`, `RbacAuthorizationV1`.
    id_part: String,
}

impl GroupVersionNames {
    fn new(group: &str, version: &str) -> Self {
        let words: Vec<&str> = if group.is_empty() {
            vec!["core"]
        } else {
            group.trim_end_matches(".k8s.io").split('.').collect()
        };
        let camel: String = words.iter().map(|word| capitalized(word)).collect();
        let mut tag = camel.clone();
        if let Some(first) = words.first() {
            tag.replace_range(..first.len(), first);
        }
        GroupVersionNames {
            prefix: group_version_prefix(group, version),
            tag: format!("{tag}_{version}"),
            id_part: format!("{camel}{}", capitalized(version)),
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn discovery_path(names: &GroupVersionNames) -> Value {
    let list = format!("{V3_REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList");
    json!({
        "get": {
            "tags": [names.tag],
            "description": "get available resources",
            "operationId": format!("get{}APIResources", names.id_part),
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": { "schema": { "$ref": list } },
                        "application/vnd.kubernetes.protobuf": { "schema": { "$ref": list } },
                        "application/yaml": { "schema": { "$ref": list } },
                    },
                },
                "401": { "description": "Unauthorized" },
            },
        },
    })
}

fn add_resource_paths(
    paths: &mut Map<String, Value>,
    names: &GroupVersionNames,
    resource: &ResourceInfo,
    definitions: &dyn DefinitionLookup,
) {
    let Some(definition) =
        definitions.definition_of(resource.group, resource.version, resource.kind)
    else {
        return;
    };
    let target = OperationTarget {
        group: resource.group,
        version: resource.version,
        kind: resource.kind,
        definition,
    };
    let serves = |verb: &str| resource.verbs.contains(&verb);
    let has_list = definitions.has_definition(&format!("{definition}List"));
    let scope = if resource.namespaced {
        "Namespaced"
    } else {
        ""
    };
    let collection = if resource.namespaced {
        format!(
            "{}/namespaces/{{namespace}}/{}",
            names.prefix, resource.plural
        )
    } else {
        format!("{}/{}", names.prefix, resource.plural)
    };
    let item = format!("{collection}/{{name}}");
    let id = |action: Action, suffix: &str| {
        format!(
            "{}{}{scope}{}{suffix}",
            action.id_verb(),
            names.id_part,
            resource.kind
        )
    };

    let mut collection_actions = Vec::new();
    if serves("list") && has_list {
        collection_actions.push(Action::List);
    }
    if serves("create") {
        collection_actions.push(Action::Create);
    }
    if serves("deletecollection") {
        collection_actions.push(Action::DeleteCollection);
    }
    let item_actions: Vec<Action> = [
        ("get", Action::Read),
        ("update", Action::Replace),
        ("patch", Action::Patch),
        ("delete", Action::Delete),
    ]
    .into_iter()
    .filter(|(verb, _)| serves(verb))
    .map(|(_, action)| action)
    .collect();

    let mut path_item = |path: &str,
                         actions: &[Action],
                         with_name: bool,
                         suffix: &str,
                         target: &OperationTarget<'_>| {
        if actions.is_empty() {
            return;
        }
        let mut item = Map::new();
        for action in actions {
            let operation_id = id(*action, suffix);
            item.insert(
                action.method().into(),
                operation(*action, target, &names.tag, &operation_id),
            );
        }
        item.insert(
            "parameters".into(),
            Value::Array(path_parameters(resource, with_name, target.kind)),
        );
        paths.insert(path.to_owned(), Value::Object(item));
    };

    path_item(&collection, &collection_actions, false, "", &target);
    path_item(&item, &item_actions, true, "", &target);

    for subresource in resource.subresources {
        let Some((group, version, kind)) = subresource_kind(*subresource, resource) else {
            continue;
        };
        let Some(sub_definition) = definitions.definition_of(group, version, kind) else {
            continue;
        };
        let sub_target = OperationTarget {
            group,
            version,
            kind,
            definition: sub_definition,
        };
        let actions: Vec<Action> = subresource
            .verbs()
            .iter()
            .filter_map(|verb| match *verb {
                "get" => Some(Action::Read),
                "update" => Some(Action::Replace),
                "patch" => Some(Action::Patch),
                "create" => Some(Action::Create),
                _ => None,
            })
            .collect();
        let path = format!("{item}/{}", subresource.name());
        let suffix = capitalized(subresource.name());
        path_item(&path, &actions, true, &suffix, &sub_target);
    }

    if resource.namespaced && serves("list") && has_list {
        let all_namespaces = format!("{}/{}", names.prefix, resource.plural);
        let operation_id = format!("list{}{}ForAllNamespaces", names.id_part, resource.kind);
        paths.insert(
            all_namespaces,
            json!({
                "get": operation(Action::List, &target, &names.tag, &operation_id),
                "parameters": list_path_parameters(),
            }),
        );
    }
}

/// The kind a subresource reads and writes; `None` for the streaming ones (log, exec, ...).
fn subresource_kind(
    subresource: Subresource,
    resource: &ResourceInfo,
) -> Option<(&'static str, &'static str, &'static str)> {
    match subresource {
        Subresource::Status
        | Subresource::Ephemeralcontainers
        | Subresource::Resize
        | Subresource::Approval
        | Subresource::Finalize => Some((resource.group, resource.version, resource.kind)),
        Subresource::Scale => Some(("autoscaling", "v1", "Scale")),
        Subresource::Eviction => Some(("policy", "v1", "Eviction")),
        Subresource::Binding => Some(("", "v1", "Binding")),
        Subresource::Token => Some(("authentication.k8s.io", "v1", "TokenRequest")),
        Subresource::Log
        | Subresource::Exec
        | Subresource::Attach
        | Subresource::PortForward
        | Subresource::Proxy => None,
    }
}

fn path_parameters(resource: &ResourceInfo, with_name: bool, kind: &str) -> Vec<Value> {
    let mut parameters = Vec::new();
    if with_name {
        parameters.push(path_parameter("name", &format!("name of the {kind}")));
    }
    if resource.namespaced {
        parameters.push(path_parameter(
            "namespace",
            "object name and auth scope, such as for teams and projects",
        ));
    }
    parameters.push(pretty());
    parameters
}

fn list_path_parameters() -> Vec<Value> {
    vec![pretty()]
}
