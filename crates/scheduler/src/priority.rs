//! PriorityClass resolution: the API server does not run Priority admission yet, so the
//! scheduler maps `priorityClassName` to a value itself (global default, else 0).

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::scheduling::v1::PriorityClass;

#[derive(Debug, Default)]
pub struct PriorityClasses {
    values: HashMap<String, i32>,
    global_default: Option<(String, i32)>,
}

impl PriorityClasses {
    pub fn apply(&mut self, class: &PriorityClass) {
        let name = class.metadata.name.clone().unwrap_or_default();
        self.values.insert(name.clone(), class.value);
        if class.global_default == Some(true) {
            self.global_default = Some((name, class.value));
        } else if self
            .global_default
            .as_ref()
            .is_some_and(|(n, _)| *n == name)
        {
            self.global_default = None;
        }
    }

    pub fn delete(&mut self, name: &str) {
        self.values.remove(name);
        if self.global_default.as_ref().is_some_and(|(n, _)| n == name) {
            self.global_default = None;
        }
    }

    /// `spec.priority` when set; else the class's value; else the global default; else 0.
    pub fn resolve(&self, pod: &Pod) -> i32 {
        let spec = pod.spec.as_ref();
        if let Some(priority) = spec.and_then(|s| s.priority) {
            return priority;
        }
        match spec
            .and_then(|s| s.priority_class_name.as_deref())
            .filter(|n| !n.is_empty())
        {
            Some("system-node-critical") => 2_000_001_000,
            Some("system-cluster-critical") => 2_000_000_000,
            Some(name) => self.values.get(name).copied().unwrap_or(0),
            None => self.global_default.as_ref().map(|(_, v)| *v).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    fn class(name: &str, value: i32, global: bool) -> PriorityClass {
        PriorityClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            value,
            global_default: Some(global),
            ..Default::default()
        }
    }

    #[test]
    fn resolves_names_and_defaults() {
        let mut classes = PriorityClasses::default();
        classes.apply(&class("high", 1000, false));
        let mut pod = Pod::default();
        assert_eq!(classes.resolve(&pod), 0);
        classes.apply(&class("base", 10, true));
        assert_eq!(classes.resolve(&pod), 10);
        pod.spec.get_or_insert_default().priority_class_name = Some("high".into());
        assert_eq!(classes.resolve(&pod), 1000);
        pod.spec.get_or_insert_default().priority = Some(7);
        assert_eq!(classes.resolve(&pod), 7);
        classes.delete("base");
        assert_eq!(classes.resolve(&Pod::default()), 0);
    }
}
