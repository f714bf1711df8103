//! kubectl scenarios, each run against the embedded store and against etcd (see suite.rs).

use crate::harness::{manifest, path_str, Server};

const CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    app: web
data:
  color: blue
"#;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: fast
"#;

/// create, get in every output format, label, annotate, patch (3 types), replace, delete.
pub fn configmap_lifecycle(s: &Server) {
    let file = manifest(s, "cm.yaml", CONFIGMAP);
    let out = s.ok(&["create", "-f", path_str(&file)]);
    assert!(out.contains("configmap/settings created"), "{out}");
    let err = s.fails(&["create", "-f", path_str(&file)]);
    assert!(
        err.contains("configmaps \"settings\" already exists"),
        "{err}"
    );

    let table = s.ok(&["get", "configmaps"]);
    assert!(
        table.contains("NAME") && table.contains("DATA") && table.contains("settings"),
        "{table}"
    );
    assert_eq!(
        s.ok(&["get", "cm", "settings", "-o", "name"]).trim(),
        "configmap/settings"
    );
    assert_eq!(
        s.ok(&["get", "cm", "settings", "-o", "jsonpath={.data.color}"]),
        "blue"
    );
    let yaml = s.ok(&["get", "cm", "settings", "-o", "yaml"]);
    assert!(
        yaml.contains("color: blue") && yaml.contains("uid:"),
        "{yaml}"
    );
    let object = s.get_json(&["cm", "settings"]);
    let first_rv: i64 = object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(object["metadata"]["creationTimestamp"].is_string());
    let raw = s.ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps/settings",
    ]);
    assert!(
        raw.contains("\"managedFields\":[{\"manager\":\"kubectl-create\""),
        "{raw}"
    );

    s.ok(&["label", "cm", "settings", "tier=front"]);
    s.ok(&["annotate", "cm", "settings", "note=hello"]);
    s.ok(&[
        "patch",
        "cm",
        "settings",
        "-p",
        r#"{"data":{"size":"big"}}"#,
    ]);
    s.ok(&[
        "patch",
        "cm",
        "settings",
        "--type=merge",
        "-p",
        r#"{"data":{"shape":"round"}}"#,
    ]);
    s.ok(&[
        "patch",
        "cm",
        "settings",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/data/color","value":"red"}]"#,
    ]);
    let object = s.get_json(&["cm", "settings"]);
    assert_eq!(object["data"]["color"], "red");
    assert_eq!(object["data"]["size"], "big");
    assert_eq!(object["data"]["shape"], "round");
    assert_eq!(object["metadata"]["labels"]["tier"], "front");
    assert_eq!(object["metadata"]["annotations"]["note"], "hello");
    let rv: i64 = object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv > first_rv);

    let replaced = CONFIGMAP.replace("color: blue", "color: green");
    let file = manifest(s, "cm2.yaml", &replaced);
    s.ok(&["replace", "-f", path_str(&file)]);
    assert_eq!(
        s.ok(&["get", "cm", "settings", "-o", "jsonpath={.data.color}"]),
        "green"
    );

    let out = s.ok_with_env(
        &[("EDITOR", "sed -i 's/color: green/color: edited/'")],
        &["edit", "cm", "settings"],
    );
    assert!(out.contains("configmap/settings edited"), "{out}");
    assert_eq!(
        s.ok(&["get", "cm", "settings", "-o", "jsonpath={.data.color}"]),
        "edited"
    );

    let out = s.ok(&["delete", "cm", "settings"]);
    assert!(out.contains("configmap \"settings\" deleted"), "{out}");
    let err = s.fails(&["get", "cm", "settings"]);
    assert!(err.contains("configmaps \"settings\" not found"), "{err}");
}

/// Label and field selectors, --all, -l deletion and chunked lists.
pub fn selectors_and_pagination(s: &Server) {
    for i in 0..12 {
        let tier = if i % 2 == 0 { "even" } else { "odd" };
        s.ok(&[
            "create",
            "configmap",
            &format!("c{i}"),
            &format!("--from-literal=i={i}"),
        ]);
        s.ok(&[
            "label",
            "configmap",
            &format!("c{i}"),
            &format!("tier={tier}"),
        ]);
    }
    let even = s.ok(&["get", "cm", "-l", "tier=even", "-o", "name"]);
    assert_eq!(even.lines().count(), 6, "{even}");
    let notin = s.ok(&["get", "cm", "-l", "tier notin (even),tier", "-o", "name"]);
    assert_eq!(notin.lines().count(), 6, "{notin}");
    let named = s.ok(&[
        "get",
        "cm",
        "--field-selector",
        "metadata.name=c3",
        "-o",
        "name",
    ]);
    assert_eq!(named.trim(), "configmap/c3");
    let err = s.fails(&["get", "pods", "--field-selector", "spec.bogus=x"]);
    assert!(
        err.contains("field label not supported: spec.bogus"),
        "{err}"
    );
    let chunked = s.ok(&["get", "cm", "--chunk-size=5", "-o", "name"]);
    assert_eq!(
        chunked
            .lines()
            .filter(|l| l.starts_with("configmap/c"))
            .count(),
        12,
        "{chunked}"
    );
    s.ok(&["delete", "cm", "-l", "tier=odd"]);
    assert_eq!(
        s.ok(&["get", "cm", "-o", "name"])
            .lines()
            .filter(|l| l.contains("/c"))
            .count(),
        6
    );
    s.ok(&["delete", "cm", "--all"]);
    let left = s.ok(&["get", "cm", "-o", "name"]);
    // The root CA publisher puts kube-root-ca.crt back at once; nothing else may remain.
    assert!(
        left.lines().all(|l| l == "configmap/kube-root-ca.crt"),
        "{left}"
    );
}

/// Client-side apply (create, then a 3-way strategic merge patch), diff, server-side apply with a
/// conflict and --force-conflicts, dry-run=server.
pub fn apply_and_diff(s: &Server) {
    let file = manifest(s, "deploy.yaml", DEPLOYMENT);
    let out = s.ok(&["apply", "-f", path_str(&file)]);
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let deployment = s.get_json(&["deployment", "web"]);
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(deployment["metadata"]["generation"], 1);
    assert_eq!(
        deployment["spec"]["strategy"]["type"], "RollingUpdate",
        "defaults applied"
    );
    assert!(deployment["metadata"]["annotations"]
        ["kubectl.kubernetes.io/last-applied-configuration"]
        .is_string());

    let changed = DEPLOYMENT.replace("replicas: 3", "replicas: 4").replace(
        "        env:\n        - name: MODE\n          value: fast\n",
        "",
    );
    let file = manifest(s, "deploy2.yaml", &changed);
    let diff = s.kubectl(&["diff", "-f", path_str(&file)]);
    let diff_text = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "diff exits 1 when there are changes: {diff_text} {}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(diff_text.contains("replicas: 4"), "{diff_text}");
    let out = s.ok(&["apply", "-f", path_str(&file)]);
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    let deployment = s.get_json(&["deployment", "web"]);
    assert_eq!(deployment["spec"]["replicas"], 4);
    assert!(
        deployment["spec"]["template"]["spec"]["containers"][0]["env"].is_null(),
        "env removed by the 3-way merge: {deployment}"
    );
    assert_eq!(deployment["metadata"]["generation"], 2);

    let out = s.ok(&[
        "apply",
        "-f",
        path_str(&file),
        "--dry-run=server",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(out, "4");

    // Server-side apply by another manager that disagrees on replicas.
    let ssa = changed.replace("replicas: 4", "replicas: 7");
    let file = manifest(s, "deploy3.yaml", &ssa);
    let err = s.fails(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        path_str(&file),
    ]);
    assert!(
        err.contains("conflict") && err.contains(".spec.replicas"),
        "{err}"
    );
    s.ok(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        path_str(&file),
    ]);
    assert_eq!(
        s.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "7"
    );
    let managers = s.ok(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(managers.contains("other"), "{managers}");
}

/// scale, set image, set env, get all, generation, the scale subresource.
pub fn deployment_edits(s: &Server) {
    let file = manifest(s, "deploy.yaml", DEPLOYMENT);
    s.ok(&["create", "-f", path_str(&file)]);
    s.ok(&["scale", "deployment", "web", "--replicas=5"]);
    assert_eq!(
        s.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "5"
    );
    let scale = s.ok(&[
        "get",
        "--raw",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
    ]);
    assert!(
        scale.contains("\"kind\":\"Scale\"")
            && scale.contains("\"replicas\":5")
            && scale.contains("app=web"),
        "{scale}"
    );
    s.ok(&["set", "image", "deployment/web", "nginx=nginx:1.27"]);
    s.ok(&["set", "env", "deployment/web", "LEVEL=debug"]);
    let deployment = s.get_json(&["deploy", "web"]);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:1.27");
    assert!(
        container["env"].to_string().contains("LEVEL"),
        "{container}"
    );
    assert_eq!(deployment["metadata"]["generation"], 4);
    let wide = s.ok(&["get", "deploy", "-o", "wide"]);
    assert!(
        wide.contains("CONTAINERS") && wide.contains("nginx:1.27") && wide.contains("app=web"),
        "{wide}"
    );
    let all = s.ok(&["get", "all"]);
    assert!(
        all.contains("deployment.apps/web") && all.contains("service/kubernetes"),
        "{all}"
    );
    s.ok(&["delete", "deployment", "web"]);
}

/// An invalid manifest is refused with every bad field listed, and nothing is stored.
pub fn invalid_manifests(s: &Server) {
    let bad = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: Bad_Name
spec:
  replicas: -1
  selector:
    matchLabels:
      app: one
  template:
    metadata:
      labels:
        app: two
    spec:
      containers:
      - name: c
"#;
    let file = manifest(s, "bad.yaml", bad);
    let err = s.fails(&["create", "-f", path_str(&file)]);
    assert!(err.contains("is invalid"), "{err}");
    assert!(
        err.contains("metadata.name: Invalid value: \"Bad_Name\""),
        "{err}"
    );
    assert!(err.contains("spec.replicas: Invalid value: -1"), "{err}");
    assert!(
        err.contains("spec.template.spec.containers[0].image: Required value"),
        "{err}"
    );
    assert!(
        err.contains("`selector` does not match template `labels`"),
        "{err}"
    );
    assert_eq!(s.ok(&["get", "deploy", "-o", "name"]).trim(), "");

    let unknown = DEPLOYMENT.replace("  replicas: 3", "  replicas: 3\n  replicaz: 2");
    let file = manifest(s, "unknown.yaml", &unknown);
    let err = s.fails(&["create", "-f", path_str(&file)]);
    assert!(err.contains("unknown field \"spec.replicaz\""), "{err}");
    assert_eq!(s.ok(&["get", "deploy", "-o", "name"]).trim(), "");

    let err = s.fails(&["create", "configmap", "x", "-n", "missing"]);
    assert!(err.contains("namespaces \"missing\" not found"), "{err}");
}

/// Discovery and OpenAPI: api-resources, api-versions, explain.
pub fn discovery_and_explain(s: &Server) {
    let resources = s.ok(&["api-resources"]);
    for line in [
        "deployments",
        "deploy",
        "apps/v1",
        "Deployment",
        "pods",
        "po",
        "customresourcedefinitions",
    ] {
        assert!(
            resources.contains(line),
            "{line} missing from:\n{resources}"
        );
    }
    let versions = s.ok(&["api-versions"]);
    for gv in [
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v2",
        "rbac.authorization.k8s.io/v1",
        "apiextensions.k8s.io/v1",
    ] {
        assert!(
            versions.lines().any(|l| l == gv),
            "{gv} missing from:\n{versions}"
        );
    }
    let explain = s.ok(&["explain", "pod.spec"]);
    assert!(
        explain.contains("KIND:") && explain.contains("Pod") && explain.contains("containers"),
        "{explain}"
    );
    let explain = s.ok(&["explain", "deployment.spec.template.spec.containers.image"]);
    assert!(
        explain.contains("image") && explain.contains("<string>"),
        "{explain}"
    );
}

/// wait, get events, auth can-i / whoami.
pub fn wait_events_and_auth(s: &Server) {
    s.ok(&["create", "configmap", "w"]);
    s.ok(&[
        "wait",
        "--for=jsonpath={.metadata.name}=w",
        "configmap/w",
        "--timeout=10s",
    ]);
    let event = r#"apiVersion: v1
kind: Event
metadata:
  name: web.1
involvedObject:
  kind: ConfigMap
  name: w
  namespace: default
reason: Tested
message: an event for the test
type: Normal
"#;
    let file = manifest(s, "event.yaml", event);
    s.ok(&["create", "-f", path_str(&file)]);
    let events = s.ok(&["get", "events"]);
    assert!(
        events.contains("Tested") && events.contains("configmap/w"),
        "{events}"
    );
    let filtered = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=w",
        "-o",
        "name",
    ]);
    assert_eq!(filtered.trim(), "event/web.1");
    assert_eq!(
        s.ok(&["auth", "can-i", "create", "deployments"]).trim(),
        "yes"
    );
    let whoami = s.ok(&["auth", "whoami"]);
    assert!(
        whoami.contains("system:admin") && whoami.contains("system:masters"),
        "{whoami}"
    );
}
