//! Volumes, environment and security context of real containers on the local node agent, checked
//! from inside the containers with `kubectl exec`.

use std::time::{Duration, Instant};

use crate::harness::{manifest, path_str, Server};
use crate::node_agent::BUSYBOX;
use crate::node_support::{can_run_containers, wait_until};

/// `sh -c script` inside `pod` (container `container` when given); stdout, exit code, stderr.
fn exec(
    server: &Server,
    pod: &str,
    container: Option<&str>,
    script: &str,
) -> (String, i32, String) {
    let mut args = vec!["exec", pod];
    if let Some(c) = container {
        args.extend(["-c", c]);
    }
    args.extend(["--", "sh", "-c", script]);
    let out = server.kubectl(&args);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Output of a script that must succeed.
fn sh(server: &Server, pod: &str, script: &str) -> String {
    sh_in(server, pod, None, script)
}

fn sh_in(server: &Server, pod: &str, container: Option<&str>, script: &str) -> String {
    let (out, code, err) = exec(server, pod, container, script);
    assert_eq!(
        code, 0,
        "exec in {pod}: {script}\nstdout: {out}\nstderr: {err}"
    );
    out
}

fn jsonpath(server: &Server, kind_name: &[&str], path: &str) -> String {
    let mut args = vec!["get"];
    args.extend_from_slice(kind_name);
    let expr = format!("jsonpath={path}");
    args.extend(["-o", expr.as_str()]);
    String::from_utf8_lossy(&server.kubectl(&args).stdout).into_owned()
}

fn wait_ready(server: &Server, pods: &[&str]) {
    let mut args = vec!["wait", "--for=condition=Ready", "--timeout=90s"];
    let names: Vec<String> = pods.iter().map(|p| format!("pod/{p}")).collect();
    args.extend(names.iter().map(String::as_str));
    server.ok(&args);
}

fn events_of(server: &Server, pod: &str) -> String {
    let selector = format!("involvedObject.name={pod}");
    server.ok(&[
        "get",
        "events",
        "--field-selector",
        &selector,
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ])
}

fn waiting_reason(server: &Server, pod: &str) -> String {
    jsonpath(
        server,
        &["pod", pod],
        "{.status.containerStatuses[0].state.waiting.reason}",
    )
}

const CONFIG: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello, mode: debug, "bad-key": x}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: s3cret, user: admin}
"#;

fn pod_yaml(name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: {name}, tier: one}}\n  annotations: {{note: first}}\nspec:\n  terminationGracePeriodSeconds: 1\n{spec}"
    )
}

fn pods(host_dir: &str) -> String {
    let image = BUSYBOX;
    let sleep = r#"command: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]"#;
    let mut all = String::new();
    all.push_str(&pod_yaml(
        "cm",
        &format!(
            r#"  containers:
  - name: c
    image: {image}
    command: [sh, -c, "echo $(GREETING)-$(MODE_REF) > /tmp/expanded; echo '$$(NOT)' >> /tmp/expanded; trap 'exit 0' TERM; sleep 3600 & wait"]
    env:
    - {{name: GREETING, valueFrom: {{configMapKeyRef: {{name: cfg, key: greeting}}}}}}
    - {{name: MODE_REF, value: "m-$(CFG_mode)"}}
    - {{name: PASSWORD, valueFrom: {{secretKeyRef: {{name: sec, key: password}}}}}}
    - {{name: ABSENT, valueFrom: {{configMapKeyRef: {{name: cfg, key: nope, optional: true}}}}}}
    envFrom:
    - {{prefix: CFG_, configMapRef: {{name: cfg}}}}
    - {{secretRef: {{name: sec}}}}
    volumeMounts:
    - {{name: cfgvol, mountPath: /etc/cfg}}
    - {{name: cfgall, mountPath: /etc/cfgall}}
    - {{name: secvol, mountPath: /etc/sec}}
    - {{name: cfgall, mountPath: /etc/greeting, subPath: greeting}}
  volumes:
  - name: cfgvol
    configMap:
      name: cfg
      items: [{{key: greeting, path: sub/greet.txt, mode: 0400}}]
  - name: cfgall
    configMap: {{name: cfg, defaultMode: 0640}}
  - name: secvol
    secret: {{secretName: sec, defaultMode: 0600}}
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "late-vol",
        &format!(
            r#"  containers:
  - name: c
    image: {image}
    {sleep}
    volumeMounts: [{{name: late, mountPath: /late}}]
  volumes: [{{name: late, configMap: {{name: late}}}}]
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "late-env",
        &format!(
            r#"  containers:
  - name: c
    image: {image}
    {sleep}
    env: [{{name: K, valueFrom: {{configMapKeyRef: {{name: late, key: k}}}}}}]
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "shared",
        &format!(
            r#"  containers:
  - name: writer
    image: {image}
    command: [sh, -c, "mkdir -p /scratch/sub/dir; echo from-writer > /scratch/msg; echo deep > /scratch/sub/dir/x; mkdir -p /host/created; trap 'exit 0' TERM; sleep 3600 & wait"]
    resources: {{limits: {{memory: 64Mi, cpu: 200m}}}}
    env:
    - {{name: MY_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
    - {{name: MY_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
    - {{name: MY_NODE, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}
    - {{name: MY_MEM, valueFrom: {{resourceFieldRef: {{resource: limits.memory}}}}}}
    volumeMounts:
    - {{name: scratch, mountPath: /scratch}}
    - {{name: mem, mountPath: /mem}}
    - {{name: host, mountPath: /host}}
    - {{name: info, mountPath: /info}}
  - name: reader
    image: {image}
    {sleep}
    volumeMounts:
    - {{name: scratch, mountPath: /scratch}}
    - {{name: scratch, mountPath: /sub, subPath: sub/dir}}
  volumes:
  - {{name: scratch, emptyDir: {{}}}}
  - {{name: mem, emptyDir: {{medium: Memory}}}}
  - {{name: host, hostPath: {{path: "{host_dir}/made", type: DirectoryOrCreate}}}}
  - name: info
    downwardAPI:
      items:
      - {{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}
      - {{path: annotations, fieldRef: {{fieldPath: metadata.annotations}}}}
      - {{path: mem_limit, resourceFieldRef: {{containerName: writer, resource: limits.memory, divisor: 1Mi}}}}
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "ids",
        &format!(
            r#"  securityContext: {{runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000]}}
  containers:
  - name: c
    image: {image}
    {sleep}
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes: [{{name: data, emptyDir: {{}}}}]
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "readonly",
        &format!(
            r#"  containers:
  - name: c
    image: {image}
    {sleep}
    securityContext: {{readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes: [{{name: data, emptyDir: {{}}}}]
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "nonroot",
        &format!(
            r#"  containers:
  - name: c
    image: {image}
    {sleep}
    securityContext: {{runAsNonRoot: true}}
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "privileged",
        &format!(
            r#"  containers:
  - name: c
    image: {image}
    {sleep}
    securityContext: {{privileged: true}}
"#
        ),
    ));
    all.push_str(&pod_yaml(
        "named",
        &format!(
            r#"  hostname: myhost
  subdomain: mysub
  hostAliases: [{{ip: 10.1.2.3, hostnames: [foo.local, bar.local]}}]
  dnsPolicy: None
  dnsConfig:
    nameservers: [1.2.3.4]
    searches: [ns1.svc.cluster-domain.example]
    options: [{{name: ndots, value: "2"}}, {{name: edns0}}]
  containers:
  - name: c
    image: {image}
    {sleep}
"#
        ),
    ));
    all
}

const STORAGE: &str = r#"
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-manual}
spec:
  storageClassName: manual
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: "HOST_DIR/pv", type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
"#;

fn claim_pod(name: &str, script: &str) -> String {
    pod_yaml(
        name,
        &format!(
            r#"  containers:
  - name: c
    image: {BUSYBOX}
    command: [sh, -c, "{script}; trap 'exit 0' TERM; sleep 3600 & wait"]
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes: [{{name: data, persistentVolumeClaim: {{claimName: claim}}}}]
"#
        ),
    )
}

#[test]
fn node_volumes_env_and_security() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let server = Server::start_with_node(&[]);
    let host_dir = server.dir.path().join("host");
    let host_dir = path_str(&host_dir).to_string();
    wait_until(&server, "node Ready", Duration::from_secs(30), || {
        jsonpath(
            &server,
            &["node", "r8s-e2e"],
            "{.status.conditions[?(@.type==\"Ready\")].status}",
        ) == "True"
    });
    wait_until(
        &server,
        "default service account",
        Duration::from_secs(30),
        || {
            server
                .kubectl(&["get", "serviceaccount", "default"])
                .status
                .success()
        },
    );

    let config = manifest(&server, "config.yaml", CONFIG);
    server.ok(&["apply", "-f", path_str(&config)]);
    let storage = manifest(
        &server,
        "storage.yaml",
        &STORAGE.replace("HOST_DIR", &host_dir),
    );
    server.ok(&["apply", "-f", path_str(&storage)]);
    let all = manifest(&server, "pods.yaml", &pods(&host_dir));
    server.ok(&["apply", "-f", path_str(&all)]);
    let writer = manifest(
        &server,
        "writer.yaml",
        &claim_pod("pv-writer", "echo persisted > /data/hello"),
    );
    server.ok(&["apply", "-f", path_str(&writer)]);

    wait_ready(
        &server,
        &["cm", "shared", "ids", "readonly", "privileged", "named"],
    );
    eprintln!("pods Ready {:?} after start", started.elapsed());

    // 1. ConfigMap and Secret as environment.
    let env = sh(&server, "cm", "env");
    for want in [
        "GREETING=hello",
        "PASSWORD=s3cret",
        "CFG_greeting=hello",
        "CFG_mode=debug",
        "MODE_REF=m-debug",
        "password=s3cret",
        "user=admin",
        "KUBERNETES_SERVICE_HOST=",
        "KUBERNETES_SERVICE_PORT=",
        "KUBERNETES_PORT_443_TCP_PROTO=tcp",
    ] {
        assert!(
            env.lines().any(|l| l.starts_with(want)),
            "{want} in env:\n{env}"
        );
    }
    assert!(
        !env.contains("ABSENT="),
        "optional missing key is not set:\n{env}"
    );
    assert!(
        !env.contains("CFG_bad-key"),
        "invalid names are skipped:\n{env}"
    );
    // 3. $(VAR) expansion in command; $$ escapes.
    assert_eq!(
        sh(&server, "cm", "cat /tmp/expanded"),
        "hello-m-debug\n$(NOT)\n"
    );

    // ConfigMap and Secret volumes: items, modes, the ..data layout, tmpfs for secrets.
    assert_eq!(sh(&server, "cm", "cat /etc/cfg/sub/greet.txt"), "hello");
    assert_eq!(
        sh(
            &server,
            "cm",
            "stat -L -c %a /etc/cfg/sub/greet.txt /etc/cfgall/mode /etc/sec/password"
        ),
        "400\n640\n600\n"
    );
    let listing = sh(&server, "cm", "ls -la /etc/cfgall");
    assert!(
        listing.contains("..data -> ..20"),
        "..data symlink:\n{listing}"
    );
    assert!(listing.contains("greeting -> ..data/greeting"), "{listing}");
    assert_eq!(sh(&server, "cm", "cat /etc/sec/user"), "admin");
    let mounts = sh(&server, "cm", "cat /proc/mounts");
    assert!(
        mounts
            .lines()
            .any(|l| l.contains(" /etc/sec ") && l.starts_with("tmpfs")),
        "secret volume on tmpfs:\n{mounts}"
    );
    // 6. subPath of a ConfigMap key.
    assert_eq!(sh(&server, "cm", "cat /etc/greeting"), "hello");

    // A missing ConfigMap keeps pods waiting with upstream's messages.
    assert_eq!(
        jsonpath(&server, &["pod", "late-vol"], "{.status.phase}"),
        "Pending"
    );
    wait_until(
        &server,
        "FailedMount event",
        Duration::from_secs(20),
        || {
            events_of(&server, "late-vol").contains(
            "FailedMount: MountVolume.SetUp failed for volume \"late\" : configmap \"late\" not found",
        )
        },
    );
    wait_until(
        &server,
        "late-vol ContainerCreating",
        Duration::from_secs(20),
        || waiting_reason(&server, "late-vol") == "ContainerCreating",
    );
    wait_until(
        &server,
        "late-env config error",
        Duration::from_secs(20),
        || waiting_reason(&server, "late-env") == "CreateContainerConfigError",
    );
    assert_eq!(
        jsonpath(
            &server,
            &["pod", "late-env"],
            "{.status.containerStatuses[0].state.waiting.message}"
        ),
        "configmap \"late\" not found"
    );
    server.ok(&["create", "configmap", "late", "--from-literal=k=v"]);
    wait_ready(&server, &["late-vol", "late-env"]);
    assert_eq!(sh(&server, "late-env", "echo $K"), "v\n");
    assert_eq!(sh(&server, "late-vol", "cat /late/k"), "v");

    // Editing the ConfigMap reaches the mounted files (not the subPath copy, as upstream).
    server.ok(&[
        "patch",
        "configmap",
        "cfg",
        "-p",
        r#"{"data":{"greeting":"bye"}}"#,
    ]);
    let edited = Instant::now();
    wait_until(
        &server,
        "updated configmap file",
        Duration::from_secs(60),
        || sh(&server, "cm", "cat /etc/cfgall/greeting") == "bye",
    );
    eprintln!("configmap update visible after {:?}", edited.elapsed());
    assert_eq!(sh(&server, "cm", "cat /etc/cfg/sub/greet.txt"), "bye");

    // 2. emptyDir shared by two containers, tmpfs for medium Memory, hostPath DirectoryOrCreate.
    assert_eq!(
        sh_in(&server, "shared", Some("reader"), "cat /scratch/msg"),
        "from-writer\n"
    );
    assert_eq!(
        sh_in(&server, "shared", Some("reader"), "cat /sub/x"),
        "deep\n"
    );
    let mounts = sh_in(&server, "shared", Some("writer"), "cat /proc/mounts");
    assert!(
        mounts.lines().any(|l| l.starts_with("tmpfs /mem ")),
        "memory emptyDir on tmpfs:\n{mounts}"
    );
    assert!(
        std::path::Path::new(&host_dir)
            .join("made/created")
            .is_dir(),
        "hostPath directory created on the node"
    );
    // Downward API: files and environment.
    let labels = sh_in(&server, "shared", Some("writer"), "cat /info/labels");
    assert_eq!(labels, "app=\"shared\"\ntier=\"one\"");
    let annotations = sh_in(&server, "shared", Some("writer"), "cat /info/annotations");
    assert!(
        annotations.lines().any(|l| l == "note=\"first\""),
        "{annotations}"
    );
    assert_eq!(
        sh_in(&server, "shared", Some("writer"), "cat /info/mem_limit"),
        "64"
    );
    let pod_ip = jsonpath(&server, &["pod", "shared"], "{.status.podIP}");
    let env = sh_in(&server, "shared", Some("writer"), "env");
    for want in [
        "MY_NAME=shared".to_string(),
        format!("MY_IP={pod_ip}"),
        "MY_NODE=r8s-e2e".to_string(),
        "MY_MEM=67108864".to_string(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} in env:\n{env}");
    }
    server.ok(&["label", "pod", "shared", "tier=two", "--overwrite"]);
    wait_until(
        &server,
        "downward API labels updated",
        Duration::from_secs(60),
        || sh_in(&server, "shared", Some("writer"), "cat /info/labels").contains("tier=\"two\""),
    );
    // The service account volume.
    let sa = sh_in(
        &server,
        "shared",
        Some("writer"),
        "ls /var/run/secrets/kubernetes.io/serviceaccount; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace",
    );
    assert!(
        sa.contains("ca.crt") && sa.contains("token") && sa.ends_with("default"),
        "{sa}"
    );
    let token = sh_in(
        &server,
        "shared",
        Some("writer"),
        "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
    );
    eprintln!("service account token: {} bytes", token.len());

    // 4. Security context.
    let id = sh(&server, "ids", "id");
    assert!(id.starts_with("uid=1000 gid=3000"), "{id}");
    assert!(
        id.contains("2000") && id.contains("4000"),
        "fsGroup and supplemental groups: {id}"
    );
    assert_eq!(
        sh(
            &server,
            "ids",
            "touch /data/f; stat -c '%g %A' /data/f /data"
        ),
        "2000 -rw-r--r--\n2000 drwxrwsrwx\n"
    );
    let (_, code, _) = exec(&server, "readonly", None, "touch /rootfile");
    assert_ne!(code, 0, "the root filesystem is read-only");
    sh(&server, "readonly", "touch /data/ok");
    let (_, code, _) = exec(&server, "readonly", None, "chown 1 /data/ok");
    assert_ne!(code, 0, "chown fails with every capability dropped");
    let status = sh(&server, "readonly", "cat /proc/self/status");
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    assert!(status.contains("CapEff:\t0000000000000000"), "{status}");
    let status = sh(&server, "privileged", "cat /proc/self/status");
    assert!(!status.contains("NoNewPrivs:\t1"), "{status}");
    sh(
        &server,
        "privileged",
        "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && umount /mnt/t",
    );
    wait_until(
        &server,
        "runAsNonRoot refused",
        Duration::from_secs(30),
        || waiting_reason(&server, "nonroot") == "CreateContainerConfigError",
    );
    let message = jsonpath(
        &server,
        &["pod", "nonroot"],
        "{.status.containerStatuses[0].state.waiting.message}",
    );
    assert!(
        message.starts_with(
            "container has runAsNonRoot and image will run as root (pod: \"nonroot_default("
        ),
        "{message}"
    );
    assert_eq!(sh(&server, "named", "hostname"), "myhost\n");
    let hosts = sh(&server, "named", "cat /etc/hosts");
    assert!(
        hosts.contains("myhost.mysub.default.svc.cluster.local\tmyhost"),
        "{hosts}"
    );
    assert!(hosts.contains("10.1.2.3\tfoo.local\tbar.local"), "{hosts}");
    let resolv = sh(&server, "named", "cat /etc/resolv.conf");
    assert!(resolv.contains("nameserver 1.2.3.4"), "{resolv}");
    assert!(
        resolv.contains("search ns1.svc.cluster-domain.example"),
        "{resolv}"
    );
    assert!(resolv.contains("options ndots:2 edns0"), "{resolv}");

    // 5. A claim bound to a hostPath volume keeps its data across pods.
    wait_until(&server, "claim bound", Duration::from_secs(30), || {
        jsonpath(&server, &["pvc", "claim"], "{.status.phase}") == "Bound"
    });
    assert_eq!(
        jsonpath(&server, &["pvc", "claim"], "{.spec.volumeName}"),
        "pv-manual"
    );
    assert_eq!(
        jsonpath(&server, &["pv", "pv-manual"], "{.status.phase}"),
        "Bound"
    );
    wait_ready(&server, &["pv-writer"]);
    server.ok(&["delete", "pod", "pv-writer", "--wait=true"]);
    let reader = manifest(&server, "reader.yaml", &claim_pod("pv-reader", "true"));
    server.ok(&["apply", "-f", path_str(&reader)]);
    wait_ready(&server, &["pv-reader"]);
    assert_eq!(sh(&server, "pv-reader", "cat /data/hello"), "persisted\n");

    server.ok(&["delete", "pods", "--all", "--wait=true", "--timeout=60s"]);
    eprintln!("done after {:?}", started.elapsed());
}
