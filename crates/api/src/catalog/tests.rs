use super::*;

#[test]
fn finds_pods_with_all_their_subresources() {
    let pods = find("", "v1", "pods").expect("pods");
    assert_eq!(pods.kind, "Pod");
    assert_eq!(pods.short_names, &["po"]);
    assert_eq!(pods.categories, &["all"]);
    assert!(pods.has_status_subresource());
    assert!(pods.has_subresource(Subresource::Eviction));
    assert_eq!(pods.api_version(), "v1");
    assert_eq!(pods.list_kind(), "PodList");
}

#[test]
fn finds_by_kind_and_names() {
    let deploy = find_by_kind("apps", "v1", "Deployment").expect("deployment");
    assert_eq!(deploy.api_version(), "apps/v1");
    assert_eq!(lookup("deploy"), Some(deploy));
    assert_eq!(lookup("deployment"), Some(deploy));
    assert_eq!(lookup("deployments.apps"), Some(deploy));
    assert_eq!(lookup("deployments.v1.apps"), Some(deploy));
    assert_eq!(lookup("Deployment"), Some(deploy));
}

#[test]
fn lookup_prefers_core_events_and_autoscaling_v2() {
    assert_eq!(lookup("ev").map(|r| r.group), Some(""));
    assert_eq!(
        lookup("events.events.k8s.io").map(|r| r.group),
        Some("events.k8s.io")
    );
    assert_eq!(lookup("hpa").map(|r| r.version), Some("v2"));
    let versions: Vec<_> = versions_of("autoscaling", "horizontalpodautoscalers")
        .iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, ["v2", "v1"]);
}

#[test]
fn storage_keys_follow_upstream() {
    let key = |g, v, p| find(g, v, p).and_then(|r| r.storage_resource);
    assert_eq!(key("", "v1", "nodes"), Some("minions"));
    assert_eq!(key("", "v1", "services"), Some("services/specs"));
    assert_eq!(key("", "v1", "endpoints"), Some("services/endpoints"));
    assert_eq!(key("", "v1", "replicationcontrollers"), Some("controllers"));
    assert_eq!(key("networking.k8s.io", "v1", "ingresses"), Some("ingress"));
    assert_eq!(key("", "v1", "bindings"), None);
    assert_eq!(
        key("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
        Some("apiextensions.k8s.io/customresourcedefinitions")
    );
}

#[test]
fn shared_storage_is_marked() {
    let core_events = find("", "v1", "events").expect("events");
    let shared: Vec<_> = core_events
        .shares_storage_with()
        .iter()
        .map(|r| r.group)
        .collect();
    assert_eq!(shared, ["events.k8s.io"]);
    let hpa_v1 = find("autoscaling", "v1", "horizontalpodautoscalers").expect("hpa");
    assert!(!hpa_v1.is_storage_version());
    assert_eq!(hpa_v1.shares_storage_with().len(), 1);
}

#[test]
fn review_apis_are_create_only_and_virtual() {
    let ssar = find("authorization.k8s.io", "v1", "selfsubjectaccessreviews").expect("ssar");
    assert_eq!(ssar.verbs, &["create"]);
    assert!(ssar.is_virtual());
    assert_eq!(name_validation(ssar), NameRule::NotValidated);
    let cs = find("", "v1", "componentstatuses").expect("cs");
    assert_eq!(cs.verbs, &["get", "list"]);
}

#[test]
fn namespaces_cannot_be_deleted_as_a_collection() {
    let ns = find("", "v1", "namespaces").expect("ns");
    assert!(!ns.supports_verb("deletecollection"));
    assert_eq!(name_validation(ns), NameRule::DnsLabel);
}

#[test]
fn name_rules() {
    let rule = |g, p| find(g, "v1", p).map(name_validation);
    assert_eq!(rule("", "services"), Some(NameRule::Dns1035Label));
    assert_eq!(rule("", "pods"), Some(NameRule::DnsSubdomain));
    assert_eq!(
        rule("rbac.authorization.k8s.io", "roles"),
        Some(NameRule::PathSegment)
    );
}

#[test]
fn every_resource_is_unique_and_in_a_known_group() {
    for (i, r) in all().iter().enumerate() {
        assert!(
            group(r.group).is_some(),
            "{} has an unknown group",
            r.group_resource()
        );
        assert!(
            group(r.group).is_some_and(|g| g.versions.contains(&r.version)),
            "{} {} not served",
            r.group_resource(),
            r.version
        );
        let duplicate = all()[i + 1..]
            .iter()
            .any(|o| (o.group, o.version, o.plural) == (r.group, r.version, r.plural));
        assert!(!duplicate, "{} listed twice", r.group_resource());
    }
    for g in groups() {
        assert!(
            all().iter().any(|r| r.group == g.name),
            "{} serves nothing",
            g.name
        );
    }
}

#[test]
fn subresource_kinds() {
    let deploy = find("apps", "v1", "deployments").expect("deploy");
    assert_eq!(
        Subresource::Scale.kind_for(deploy),
        ("autoscaling", "v1", "Scale")
    );
    assert_eq!(
        Subresource::from_name("portforward"),
        Some(Subresource::PortForward)
    );
}
