//! The schema of every built-in kind and of everything it references, in OpenAPI v3 form and keyed
//! by upstream's definition names (`io.k8s.api.apps.v1.Deployment`, ...).

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::schemars::generate::SchemaSettings;
use k8s_openapi::schemars::{Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::kind_table::{register_kind_schema, BuiltinKind, BUILTIN_KINDS};
use super::list_behavior::add_list_behaviors;
use super::special_types::reshape_special_types;

/// Where v3 documents keep their schemas; every `$ref` produced here points below it.
pub(crate) const V3_REF_PREFIX: &str = "#/components/schemas/";

/// Every definition, sorted by name. Lists (`DeploymentList`) are included; each top-level kind
/// carries `x-kubernetes-group-version-kind`.
pub(crate) fn all_definitions() -> Map<String, Value> {
    let mut generator = SchemaSettings::openapi3()
        .with(|settings| settings.meta_schema = None)
        .into_generator();
    register_support_types(&mut generator);
    let mut kind_extensions = Vec::new();
    for builtin in BUILTIN_KINDS {
        let Some(reference) =
            register_kind_schema(&mut generator, builtin.group, builtin.version, builtin.kind)
        else {
            continue;
        };
        let Some(name) = referenced_definition(reference.as_value()) else {
            continue;
        };
        kind_extensions.push((name.to_owned(), gvk_extension(builtin, builtin.kind)));
        if builtin.has_list {
            let list_name = format!("{name}List");
            let list_kind = format!("{}List", builtin.kind);
            let list = list_schema(&generator, name, builtin.kind);
            generator.definitions_mut().insert(list_name.clone(), list);
            kind_extensions.push((list_name, gvk_extension(builtin, &list_kind)));
        }
    }
    let mut definitions = generator.take_definitions(true);
    for (name, extension) in kind_extensions {
        if let Some(Value::Object(definition)) = definitions.get_mut(&name) {
            definition.insert("x-kubernetes-group-version-kind".into(), extension);
        }
    }
    add_status_kind(&mut definitions);
    reshape_special_types(&mut definitions);
    add_list_behaviors(&mut definitions);
    definitions.sort_keys();
    definitions
}

/// The definition name a `{"$ref": "#/components/schemas/<name>"}` schema points at.
pub(crate) fn referenced_definition(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix(V3_REF_PREFIX))
}

fn register_support_types(generator: &mut SchemaGenerator) {
    let _: Schema = generator.subschema_for::<meta::APIResourceList>();
    let _: Schema = generator.subschema_for::<meta::DeleteOptions>();
    let _: Schema = generator.subschema_for::<meta::Patch>();
    let _: Schema = generator.subschema_for::<meta::Status>();
    let _: Schema = generator.subschema_for::<meta::WatchEvent<meta::Status>>();
    let _: Schema = generator.subschema_for::<meta::ListMeta>();
}

fn gvk_extension(builtin: &BuiltinKind, kind: &str) -> Value {
    json!([{ "group": builtin.group, "kind": kind, "version": builtin.version }])
}

fn add_status_kind(definitions: &mut Map<String, Value>) {
    if let Some(Value::Object(status)) =
        definitions.get_mut("io.k8s.apimachinery.pkg.apis.meta.v1.Status")
    {
        status.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([{ "group": "", "kind": "Status", "version": "v1" }]),
        );
    }
}

/// The schema of `<Kind>List`: apiVersion, kind, list metadata and the items.
fn list_schema(generator: &SchemaGenerator, item_definition: &str, kind: &str) -> Value {
    let item = generator.definitions().get(item_definition);
    let type_meta_field = |field: &str| {
        item.and_then(|item| item.get("properties"))
            .and_then(|properties| properties.get(field))
            .cloned()
            .unwrap_or_else(|| json!({ "type": "string" }))
    };
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "properties": {
            "apiVersion": type_meta_field("apiVersion"),
            "items": {
                "description": format!("The {kind} objects of the list."),
                "type": "array",
                "items": { "$ref": format!("{V3_REF_PREFIX}{item_definition}") },
            },
            "kind": type_meta_field("kind"),
            "metadata": {
                "description": "Standard list metadata: resourceVersion and continue token.",
                "$ref": format!("{V3_REF_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"),
            },
        },
        "required": ["items"],
    })
}
