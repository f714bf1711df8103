//! Builds the protobuf descriptor table of the built-in kinds at compile time.
//!
//! Field numbers and wire types come from the prost attributes in the `k8s-pb` crate's sources
//! (generated from upstream's `generated.proto`); JSON field names come from the Deserialize impls
//! in the `k8s-openapi` crate's sources (`"clusterIP" => Field::Key_cluster_ip`). Both crates are
//! found in Cargo's registry at the versions Cargo.lock pins (k8s-pb is a dev-dependency, and
//! k8s-openapi a dependency of the workspace, so both are there); nothing generated is committed:
//! the table lands in OUT_DIR.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// k8s-pb modules parsed (relative to its `src/`), as `a/b/c`.
const MODULES: &[&str] = &[
    "api/core/v1",
    "api/apps/v1",
    "api/batch/v1",
    "api/autoscaling/v1",
    "api/autoscaling/v2",
    "api/networking/v1",
    "api/policy/v1",
    "api/rbac/v1",
    "api/coordination/v1",
    "api/discovery/v1",
    "api/events/v1",
    "api/storage/v1",
    "api/scheduling/v1",
    "api/node/v1",
    "api/certificates/v1",
    "api/admissionregistration/v1",
    "api/flowcontrol/v1",
    "api/authorization/v1",
    "api/authentication/v1",
    "kube_aggregator/pkg/apis/apiregistration/v1",
    "apimachinery/pkg/apis/meta/v1",
    "apimachinery/pkg/runtime",
    "apimachinery/pkg/util/intstr",
    "apimachinery/pkg/api/resource",
];

/// k8s-openapi version directories searched for JSON names, first match wins.
const OPENAPI_VERSIONS: &[&str] = &["v1_33", "v1_34", "v1_35", "v1_36", "v1_37"];

/// Kinds that are no `impl Resource` in k8s-pb: subresource bodies and the meta kinds.
const EXTRA_KINDS: &[(&str, &str)] = &[
    ("api.core.v1", "List"),
    ("api.policy.v1", "Eviction"),
    ("api.autoscaling.v1", "Scale"),
    ("api.authentication.v1", "TokenRequest"),
    ("apimachinery.pkg.apis.meta.v1", "Status"),
    ("apimachinery.pkg.apis.meta.v1", "DeleteOptions"),
    ("apimachinery.pkg.apis.meta.v1", "ListOptions"),
    ("apimachinery.pkg.apis.meta.v1", "GetOptions"),
    ("apimachinery.pkg.apis.meta.v1", "CreateOptions"),
    ("apimachinery.pkg.apis.meta.v1", "UpdateOptions"),
    ("apimachinery.pkg.apis.meta.v1", "PatchOptions"),
    ("apimachinery.pkg.apis.meta.v1", "WatchEvent"),
    ("apimachinery.pkg.apis.meta.v1", "APIVersions"),
    ("apimachinery.pkg.apis.meta.v1", "APIGroup"),
    ("apimachinery.pkg.apis.meta.v1", "APIGroupList"),
    ("apimachinery.pkg.apis.meta.v1", "APIResourceList"),
    ("apimachinery.pkg.apis.meta.v1", "PartialObjectMetadata"),
    ("apimachinery.pkg.apis.meta.v1", "PartialObjectMetadataList"),
];

/// Messages with a custom JSON form: their fields need no JSON names.
const SPECIAL: &[(&str, &str)] = &[
    ("apimachinery.pkg.apis.meta.v1.Time", "Time"),
    ("apimachinery.pkg.apis.meta.v1.MicroTime", "MicroTime"),
    ("apimachinery.pkg.apis.meta.v1.FieldsV1", "FieldsV1"),
    ("apimachinery.pkg.apis.meta.v1.Verbs", "StringList"),
    ("api.authentication.v1.ExtraValue", "StringList"),
    ("api.authorization.v1.ExtraValue", "StringList"),
    ("api.certificates.v1.ExtraValue", "StringList"),
    ("apimachinery.pkg.util.intstr.IntOrString", "IntOrString"),
    ("apimachinery.pkg.api.resource.Quantity", "Quantity"),
    ("apimachinery.pkg.runtime.RawExtension", "RawExtension"),
];

/// Messages absent from k8s-openapi whose snake names are turned into lowerCamel JSON names.
/// Each was checked by hand: none of their field names holds an acronym.
const CAMEL_CASE_MESSAGES: &[&str] = &[
    "apimachinery.pkg.apis.meta.v1.ApplyOptions",
    "apimachinery.pkg.apis.meta.v1.CreateOptions",
    "apimachinery.pkg.apis.meta.v1.GetOptions",
    "apimachinery.pkg.apis.meta.v1.GroupKind",
    "apimachinery.pkg.apis.meta.v1.GroupResource",
    "apimachinery.pkg.apis.meta.v1.GroupVersion",
    "apimachinery.pkg.apis.meta.v1.GroupVersionKind",
    "apimachinery.pkg.apis.meta.v1.GroupVersionResource",
    "apimachinery.pkg.apis.meta.v1.List",
    "apimachinery.pkg.apis.meta.v1.ListOptions",
    "apimachinery.pkg.apis.meta.v1.PartialObjectMetadata",
    "apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList",
    "apimachinery.pkg.apis.meta.v1.PatchOptions",
    "apimachinery.pkg.apis.meta.v1.RootPaths",
    "apimachinery.pkg.apis.meta.v1.TableOptions",
    "apimachinery.pkg.apis.meta.v1.Timestamp",
    "apimachinery.pkg.apis.meta.v1.TypeMeta",
    "apimachinery.pkg.apis.meta.v1.UpdateOptions",
    "apimachinery.pkg.apis.meta.v1.WatchEvent",
    "api.core.v1.List",
    "api.core.v1.RangeAllocation",
    "api.core.v1.SerializedReference",
];

#[derive(Debug)]
enum Kind {
    Scalar(String),
    Message(String),
    Map(Box<Kind>),
}

#[derive(Debug)]
struct Field {
    tag: u32,
    snake: String,
    repeated: bool,
    kind: Kind,
}

#[derive(Debug, Default)]
struct Message {
    fields: Vec<Field>,
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let (pb_root, openapi_root) = locate_sources();
    let mut messages: BTreeMap<String, Message> = BTreeMap::new();
    let mut kinds: Vec<(String, String)> = Vec::new();
    for module in MODULES {
        let path = pb_root.join("src").join(module).join("mod.rs");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let module_path: Vec<&str> = module.split('/').collect();
        parse_module(&text, &module_path, &mut messages, &mut kinds);
    }
    let roots = kind_roots(&messages, &kinds);
    let reachable = reachable(&messages, &roots);
    let json_names = effective_names(&messages, openapi_names(&openapi_root));
    let index: BTreeMap<&str, usize> = reachable
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    let mut out = String::new();
    out.push_str("pub(crate) static MESSAGES: &[MessageDescriptor] = &[\n");
    for name in &reachable {
        let message = &messages[name];
        let special = SPECIAL.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
        let names = field_names(name, &messages, special.is_some(), &json_names);
        let special_text = special.map_or("None".to_string(), |s| format!("Some(Special::{s})"));
        writeln!(
            out,
            "    MessageDescriptor {{ name: {name:?}, special: {special_text}, fields: &["
        )
        .expect("write");
        let mut fields: Vec<&Field> = message.fields.iter().collect();
        fields.sort_by_key(|f| f.tag);
        for field in fields {
            let json = names.get(&field.snake).expect("named");
            let inline = json.is_none();
            let json = json.clone().unwrap_or_default();
            let kind = kind_text(&field.kind, &index, name);
            writeln!(
                out,
                "        FieldDescriptor {{ tag: {}, json_name: {json:?}, inline: {inline}, repeated: {}, kind: {kind} }},",
                field.tag, field.repeated
            )
            .expect("write");
        }
        out.push_str("    ] },\n");
    }
    out.push_str("];\n");
    out.push_str("pub(crate) static KINDS: &[(&str, &str, usize)] = &[\n");
    for (package, kind, message) in &roots {
        writeln!(
            out,
            "    ({package:?}, {kind:?}, {}),",
            index[message.as_str()]
        )
        .expect("write");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out_dir.join("descriptors.rs"), out).expect("write descriptors.rs");
}

/// (package, kind, message) for every kind: the `impl Resource` ones, their lists, [`EXTRA_KINDS`].
fn kind_roots(
    messages: &BTreeMap<String, Message>,
    resources: &[(String, String)],
) -> Vec<(String, String, String)> {
    let mut wanted: Vec<(String, String)> = Vec::new();
    for (package, kind) in resources {
        wanted.push((package.clone(), kind.clone()));
        let list = format!("{package}.{kind}List");
        if messages.keys().any(|m| m.eq_ignore_ascii_case(&list)) {
            wanted.push((package.clone(), format!("{kind}List")));
        }
    }
    for (package, kind) in EXTRA_KINDS {
        wanted.push((package.to_string(), kind.to_string()));
    }
    let mut roots: Vec<(String, String, String)> = wanted
        .into_iter()
        .map(|(package, kind)| {
            let prefix = format!("{package}.");
            let message = messages
                .keys()
                .find(|m| {
                    m.strip_prefix(&prefix)
                        .is_some_and(|short| short.eq_ignore_ascii_case(&kind))
                })
                .unwrap_or_else(|| panic!("kind {package} {kind}: no message"))
                .clone();
            (package, kind, message)
        })
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

/// Every message reachable from the kinds, sorted by name.
fn reachable(
    messages: &BTreeMap<String, Message>,
    roots: &[(String, String, String)],
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.iter().map(|(_, _, m)| m.clone()).collect();
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let message = messages
            .get(&name)
            .unwrap_or_else(|| panic!("message {name} not parsed"));
        for field in &message.fields {
            match &field.kind {
                Kind::Message(child) => stack.push(child.clone()),
                Kind::Map(value) => {
                    if let Kind::Message(child) = value.as_ref() {
                        stack.push(child.clone());
                    }
                }
                Kind::Scalar(_) => {}
            }
        }
    }
    seen
}
/// The source roots of k8s-pb and k8s-openapi: the versions the workspace's Cargo.lock pins,
/// unpacked in Cargo's registry cache (where every build of them unpacks them).
fn locate_sources() -> (PathBuf, PathBuf) {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let lock = manifest_dir
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|path| path.is_file())
        .expect("no Cargo.lock above the crate");
    println!("cargo:rerun-if-changed={}", lock.display());
    let lock_text = std::fs::read_to_string(&lock).expect("read Cargo.lock");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let registry = cargo_home.join("registry").join("src");
    let find = |package: &str| -> PathBuf {
        let header = format!("name = \"{package}\"\nversion = \"");
        let version = lock_text
            .split(&header)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{package} is not in {}", lock.display()));
        let indexes = std::fs::read_dir(&registry)
            .unwrap_or_else(|e| panic!("reading {}: {e}", registry.display()));
        indexes
            .filter_map(Result::ok)
            .map(|index| index.path().join(format!("{package}-{version}")))
            .find(|dir| dir.join("src").is_dir())
            .unwrap_or_else(|| {
                panic!(
                    "{package}-{version} is not unpacked under {}",
                    registry.display()
                )
            })
    };
    (find("k8s-pb"), find("k8s-openapi"))
}

/// Parses the prost structs of one module and its `impl crate::Resource` kinds.
fn parse_module(
    text: &str,
    module: &[&str],
    messages: &mut BTreeMap<String, Message>,
    kinds: &mut Vec<(String, String)>,
) {
    let package = module.join(".");
    let mut current: Option<(String, Message)> = None;
    let mut attribute: Option<String> = None;
    let mut declaration: Option<String> = None;
    let mut resource_for: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("impl crate::Resource for ") {
            resource_for = rest.split_whitespace().next().map(str::to_string);
            continue;
        }
        if let Some(rest) = line.strip_prefix("const KIND: &'static str = \"") {
            if resource_for.take().is_some() {
                let kind = rest.trim_end_matches("\";").to_string();
                kinds.push((package.clone(), kind));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub struct ") {
            let name = rest.split([' ', '{']).next().expect("struct name");
            let message = Message::default();
            if line.ends_with("{}") {
                messages.insert(format!("{package}.{name}"), message);
            } else {
                current = Some((name.to_string(), message));
            }
            continue;
        }
        let Some((name, message)) = current.as_mut() else {
            continue;
        };
        if let Some(decl) = declaration.as_mut() {
            decl.push_str(line);
            if declaration_complete(decl) {
                let attr = attribute.take().expect("attribute before field");
                let decl = declaration.take().expect("declaration");
                message.fields.push(parse_field(&attr, &decl, module));
            }
            continue;
        }
        if line.starts_with("#[prost(") {
            attribute = Some(line.to_string());
        } else if line.starts_with("pub ") && attribute.is_some() {
            let decl = line.to_string();
            if declaration_complete(&decl) {
                let attr = attribute.take().expect("attribute before field");
                message.fields.push(parse_field(&attr, &decl, module));
            } else {
                declaration = Some(decl);
            }
        } else if line == "}" {
            let full = format!("{package}.{name}");
            let (_, message) = current.take().expect("struct");
            messages.insert(full, message);
        }
    }
}

fn declaration_complete(decl: &str) -> bool {
    let open = decl.matches('<').count();
    let close = decl.matches('>').count();
    decl.ends_with(',') && open == close
}

fn parse_field(attribute: &str, declaration: &str, module: &[&str]) -> Field {
    let inner = attribute
        .strip_prefix("#[prost(")
        .and_then(|a| a.strip_suffix(")]"))
        .unwrap_or_else(|| panic!("odd attribute {attribute}"));
    let tag: u32 = inner
        .split("tag = \"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no tag in {attribute}"));
    let repeated = inner.contains(", repeated");
    let (snake, ty) = declaration
        .strip_prefix("pub ")
        .and_then(|d| d.split_once(':'))
        .unwrap_or_else(|| panic!("odd declaration {declaration}"));
    let snake = snake.trim().trim_start_matches("r#").to_string();
    let ty = ty
        .trim()
        .trim_end_matches(',')
        .replace(' ', "")
        .replace(",>", ">");
    let head = inner.split(',').next().expect("kind").trim();
    let kind = if let Some(types) = inner.strip_prefix("btree_map = \"") {
        let types = types.split('"').next().expect("map types");
        let (key, value) = types.split_once(", ").expect("map key, value");
        assert!(key == "string", "map key {key} in {declaration}");
        let value = if value == "message" {
            let args = ty
                .strip_prefix(
                    "::prost::alloc::collections::BTreeMap<::prost::alloc::string::String,",
                )
                .and_then(|t| t.strip_suffix('>'))
                .unwrap_or_else(|| panic!("odd map type {ty}"));
            Kind::Message(resolve(args, module))
        } else {
            Kind::Scalar(scalar(value).to_string())
        };
        Kind::Map(Box::new(value))
    } else if head == "message" {
        let mut t = ty.as_str();
        for wrapper in [
            "::core::option::Option<",
            "::prost::alloc::vec::Vec<",
            "::prost::alloc::boxed::Box<",
        ] {
            if let Some(rest) = t.strip_prefix(wrapper) {
                t = rest.strip_suffix('>').expect("closing bracket");
            }
        }
        if let Some(rest) = t.strip_prefix("::prost::alloc::boxed::Box<") {
            t = rest.strip_suffix('>').expect("closing bracket");
        }
        Kind::Message(resolve(t, module))
    } else {
        let head = head.split(" = ").next().expect("kind");
        Kind::Scalar(scalar(head).to_string())
    };
    Field {
        tag,
        snake,
        repeated,
        kind,
    }
}

fn scalar(name: &str) -> &'static str {
    match name {
        "string" => "String",
        "bytes" => "Bytes",
        "bool" => "Bool",
        "int32" => "Int32",
        "int64" => "Int64",
        other => panic!("unsupported scalar type {other}"),
    }
}

/// `super::super::x::Y` seen from `module` → `x.Y` (absolute, dot-separated).
fn resolve(path: &str, module: &[&str]) -> String {
    let parts: Vec<&str> = path.split("::").collect();
    let supers = parts.iter().take_while(|p| **p == "super").count();
    let rest = &parts[supers..];
    let mut base: Vec<&str> = module.to_vec();
    if supers == 0 && rest.len() == 1 {
        base.push(rest[0]);
        return base.join(".");
    }
    assert!(supers > 0, "unresolvable type path {path}");
    base.truncate(module.len() - supers);
    base.extend_from_slice(rest);
    base.join(".")
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// (dot-separated package, normalized struct name) → (normalized field name → JSON name).
type OpenApiNames = BTreeMap<(String, String), BTreeMap<String, String>>;

/// Full message name → (normalized field name → JSON name). A message that k8s-openapi lacks
/// because Go only ever embeds it inline borrows the JSON names of the struct embedding it.
type Names = BTreeMap<String, BTreeMap<String, String>>;

fn effective_names(messages: &BTreeMap<String, Message>, openapi: OpenApiNames) -> Names {
    let mut names = Names::new();
    for full in messages.keys() {
        let (package, name) = full.rsplit_once('.').expect("qualified name");
        if let Some(known) = openapi.get(&(package.to_string(), normalize(name))) {
            names.insert(full.clone(), known.clone());
        }
    }
    loop {
        let mut borrowed = Vec::new();
        for (full, message) in messages {
            let Some(known) = names.get(full) else {
                continue;
            };
            for field in &message.fields {
                if let Kind::Message(child) = &field.kind {
                    if !known.contains_key(&normalize(&field.snake)) && !names.contains_key(child) {
                        borrowed.push((child.clone(), known.clone()));
                    }
                }
            }
        }
        if borrowed.is_empty() {
            return names;
        }
        for (child, known) in borrowed {
            names.entry(child).or_insert(known);
        }
    }
}

fn openapi_names(root: &Path) -> OpenApiNames {
    let mut names = OpenApiNames::new();
    for version in OPENAPI_VERSIONS {
        for module in MODULES {
            let dir = root.join("src").join(version).join(module);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let package = module.replace('/', ".");
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).expect("read k8s-openapi source");
                let Some(struct_name) = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("pub struct "))
                    .and_then(|rest| rest.split([' ', '{', '(']).next())
                else {
                    continue;
                };
                let entry = names
                    .entry((package.clone(), normalize(struct_name)))
                    .or_default();
                for line in text.lines() {
                    let line = line.trim();
                    let Some(rest) = line.strip_prefix('"') else {
                        continue;
                    };
                    let Some((json, _)) = rest.split_once("\" => Field::Key_") else {
                        continue;
                    };
                    entry
                        .entry(normalize(json))
                        .or_insert_with(|| json.to_string());
                }
            }
        }
    }
    names
}

fn lower_camel(snake: &str) -> String {
    let mut out = String::new();
    for (i, part) in snake.split('_').enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// snake name → JSON name for every field of `message`; `None` for a Go struct embedded
/// `json:",inline"`, whose fields appear in the parent's JSON object (checked against the
/// parent's JSON names).
fn field_names(
    full: &str,
    messages: &BTreeMap<String, Message>,
    special: bool,
    openapi: &Names,
) -> BTreeMap<String, Option<String>> {
    let message = &messages[full];
    let (_, name) = full.rsplit_once('.').expect("qualified name");
    let list_shape = name.ends_with("List")
        && message
            .fields
            .iter()
            .all(|f| f.snake == "metadata" || f.snake == "items");
    let camel = CAMEL_CASE_MESSAGES.contains(&full) || list_shape;
    let known = openapi.get(full);
    let mut out = BTreeMap::new();
    for field in &message.fields {
        let json = if special || camel {
            Some(lower_camel(&field.snake))
        } else {
            let known =
                known.unwrap_or_else(|| panic!("{full}: no k8s-openapi struct for its JSON names"));
            match known.get(&normalize(&field.snake)) {
                Some(json) => Some(json.clone()),
                None => {
                    let Kind::Message(child) = &field.kind else {
                        panic!("{full}.{}: no JSON name in k8s-openapi", field.snake)
                    };
                    assert!(!field.repeated, "{full}.{}: repeated inline", field.snake);
                    for inner in flattened_names(child, messages, openapi) {
                        assert!(
                            known.contains_key(&inner),
                            "{full}.{}: {inner} of inline {child} not in k8s-openapi",
                            field.snake
                        );
                    }
                    None
                }
            }
        };
        out.insert(field.snake.clone(), json);
    }
    let all = flattened_names(full, messages, openapi);
    let unique: BTreeSet<&String> = all.iter().collect();
    assert!(
        unique.len() == all.len() || special,
        "{full}: a JSON name twice"
    );
    out
}

/// The normalized JSON names of `full`'s object, inline members expanded.
fn flattened_names(
    full: &str,
    messages: &BTreeMap<String, Message>,
    openapi: &Names,
) -> Vec<String> {
    let message = &messages[full];
    let known = openapi.get(full);
    let mut out = Vec::new();
    for field in &message.fields {
        let normalized = normalize(&field.snake);
        match (known, &field.kind) {
            (Some(k), Kind::Message(child)) if !k.contains_key(&normalized) => {
                out.extend(flattened_names(child, messages, openapi));
            }
            _ => out.push(normalized),
        }
    }
    out
}

fn kind_text(kind: &Kind, index: &BTreeMap<&str, usize>, owner: &str) -> String {
    match kind {
        Kind::Scalar(s) => format!("FieldKind::Scalar(Scalar::{s})"),
        Kind::Message(m) => {
            let i = index
                .get(m.as_str())
                .unwrap_or_else(|| panic!("{owner}: message {m} not parsed"));
            format!("FieldKind::Message({i})")
        }
        Kind::Map(value) => match value.as_ref() {
            Kind::Scalar(s) => format!("FieldKind::Map(MapValue::Scalar(Scalar::{s}))"),
            Kind::Message(m) => {
                let i = index
                    .get(m.as_str())
                    .unwrap_or_else(|| panic!("{owner}: message {m} not parsed"));
                format!("FieldKind::Map(MapValue::Message({i}))")
            }
            Kind::Map(..) => panic!("{owner}: map of maps"),
        },
    }
}
