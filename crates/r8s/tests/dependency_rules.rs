//! The layer rules of ARCHITECTURE.md, checked on every crate's `[dependencies]`.

use std::collections::BTreeMap;
use std::path::Path;

/// Which workspace crates each crate may depend on (normal dependencies).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("api", &[][..]),
        ("patch", &[][..]),
        ("events", &[][..]),
        ("api-protobuf", &["api"][..]),
        ("storage", &[][..]),
        (
            "apiserver",
            &["api", "patch", "api-protobuf", "storage"][..],
        ),
        ("leader", &[][..]),
        ("scheduler", &["api", "leader"][..]),
        ("controllers", &["api", "leader", "events"][..]),
        ("sim", &["api"][..]),
        ("runtime", &[][..]),
        ("kubelet", &["api", "events"][..]),
        ("nftables", &[][..]),
        ("proxy", &["nftables"][..]),
        ("dns", &[][..]),
        ("podnetwork", &[][..]),
        ("ingress", &[][..]),
        ("netpol", &["nftables"][..]),
        (
            "r8s",
            &[
                "api",
                "patch",
                "api-protobuf",
                "storage",
                "apiserver",
                "leader",
                "scheduler",
                "controllers",
                "sim",
                "runtime",
                "kubelet",
                "nftables",
                "proxy",
                "dns",
                "podnetwork",
                "ingress",
                "netpol",
            ][..],
        ),
    ])
}

/// Names listed under `[dependencies]` of a Cargo.toml.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_section = false;
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[dependencies]";
            continue;
        }
        if in_section && !line.is_empty() && !line.starts_with('#') {
            if let Some((name, _)) = line.split_once('=') {
                names.push(name.trim().split('.').next().unwrap_or("").to_string());
            }
        }
    }
    names
}

#[test]
fn crates_depend_only_downwards() {
    let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rules = allowed();
    let workspace: Vec<&str> = rules.keys().copied().collect();
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates_dir).unwrap() {
        let manifest_path = entry.unwrap().path().join("Cargo.toml");
        let Ok(manifest) = std::fs::read_to_string(&manifest_path) else {
            continue;
        };
        let name = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = "))
            .map(|n| n.trim_matches('"').to_string())
            .unwrap();
        let allowed = rules.get(name.as_str()).unwrap_or_else(|| {
            panic!("crate {name} has no layer rule: add it to ARCHITECTURE.md and this test")
        });
        for dependency in dependencies(&manifest) {
            if workspace.contains(&dependency.as_str()) {
                assert!(
                    allowed.contains(&dependency.as_str()),
                    "{name} may not depend on {dependency} (see ARCHITECTURE.md)"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 5, "found only {checked} crates");
}

#[test]
fn the_parser_sees_dependencies() {
    let deps = dependencies("[package]\nname = \"x\"\n[dependencies]\napi.workspace = true\nserde = \"1\"\n[dev-dependencies]\nstorage.workspace = true\n");
    assert_eq!(deps, vec!["api", "serde"]);
}
