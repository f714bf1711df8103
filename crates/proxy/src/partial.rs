//! An incremental update: only what changed between the rules applied for some Services and
//! their rules now, as one `nft -f` script. The order keeps every reference valid inside the
//! transaction: new chains and sets first, then rewritten chains, then map elements, and only
//! then the chains and sets nothing points at any more.

use std::fmt::Write;

use crate::names::TABLE;
use crate::rules::ServiceRules;

/// One Service's change: what was applied (`None`: nothing) and what it needs now (`None`: gone).
pub struct ServiceChange<'a> {
    pub applied: Option<&'a ServiceRules>,
    pub desired: Option<&'a ServiceRules>,
}

/// The script turning every `applied` into its `desired`; empty when nothing differs.
pub fn partial_script(changes: &[ServiceChange<'_>]) -> String {
    let empty = ServiceRules::default();
    let pairs: Vec<(&ServiceRules, &ServiceRules)> = changes
        .iter()
        .map(|c| (c.applied.unwrap_or(&empty), c.desired.unwrap_or(&empty)))
        .filter(|(old, new)| old != new)
        .collect();
    let mut out = String::new();
    for (old, new) in &pairs {
        for (name, declaration) in &new.sets {
            if old.sets.get(name) != Some(declaration) {
                let _ = writeln!(out, "add set ip {TABLE} {name} {{ {declaration} }}");
            }
        }
        for name in new.chains.keys() {
            if !old.chains.contains_key(name) {
                let _ = writeln!(out, "add chain ip {TABLE} {name}");
            }
        }
    }
    for (old, new) in &pairs {
        for (name, rules) in &new.chains {
            match old.chains.get(name) {
                Some(old_rules) if old_rules == rules => continue,
                Some(_) => {
                    let _ = writeln!(out, "flush chain ip {TABLE} {name}");
                }
                None => {}
            }
            for rule in rules {
                let _ = writeln!(out, "add rule ip {TABLE} {name} {rule}");
            }
        }
    }
    for (old, new) in &pairs {
        for (key, value) in &old.elements {
            if new.elements.get(key) != Some(value) {
                let _ = writeln!(
                    out,
                    "delete element ip {TABLE} {} {{ {} }}",
                    key.container, key.key
                );
            }
        }
    }
    for (old, new) in &pairs {
        for (key, value) in &new.elements {
            if old.elements.get(key) != Some(value) {
                let member = match value {
                    Some(value) => format!("{} : {value}", key.key),
                    None => key.key.clone(),
                };
                let _ = writeln!(
                    out,
                    "add element ip {TABLE} {} {{ {member} }}",
                    key.container
                );
            }
        }
    }
    let removed_chains: Vec<&String> = pairs
        .iter()
        .flat_map(|(old, new)| {
            old.chains
                .keys()
                .filter(|name| !new.chains.contains_key(*name))
        })
        .collect();
    for name in &removed_chains {
        let _ = writeln!(out, "flush chain ip {TABLE} {name}");
    }
    for name in &removed_chains {
        let _ = writeln!(out, "delete chain ip {TABLE} {name}");
    }
    for (old, new) in &pairs {
        for name in old.sets.keys() {
            if !new.sets.contains_key(name) {
                let _ = writeln!(out, "delete set ip {TABLE} {name}");
            }
        }
    }
    out
}
