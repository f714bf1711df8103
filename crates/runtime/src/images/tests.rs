//! The store end to end: a busybox archive built here, imported, resolved, removed; and a pull
//! from a local `docker-registry` when one is installed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::busybox_image::write_busybox_archive;
use super::*;

const BUSYBOX: &str = "/bin/busybox";

fn options(root: &Path) -> (RuntimePaths, RuntimeOptions) {
    let options = RuntimeOptions::for_data_dir(root, PathBuf::from("/bin/true"));
    (RuntimePaths::new(options.root.clone()), options)
}

fn have_busybox() -> bool {
    if Path::new(BUSYBOX).is_file() {
        return true;
    }
    eprintln!("skipping: {BUSYBOX} is missing");
    false
}

fn check_busybox_rootfs(resolved: &ResolvedImage) {
    assert_eq!(resolved.layers.len(), 1);
    let rootfs = &resolved.layers[0];
    assert!(rootfs.join("bin/busybox").is_file());
    for applet in ["sh", "ls", "sleep", "cat", "echo"] {
        assert_eq!(
            fs::read_link(rootfs.join("bin").join(applet)).unwrap(),
            Path::new("busybox")
        );
    }
    let tmp_mode = fs::metadata(rootfs.join("tmp"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(tmp_mode, 0o1777);
    assert!(fs::read_to_string(rootfs.join("etc/passwd"))
        .unwrap()
        .contains("nobody:x:65534"));
    let config = resolved.config.config().clone().unwrap();
    assert_eq!(config.cmd().clone().unwrap(), vec!["sh".to_string()]);
    assert!(config.env().clone().unwrap()[0].starts_with("PATH=/usr/local/sbin"));
}

#[tokio::test]
async fn imports_resolves_and_removes_a_busybox_archive() {
    if !have_busybox() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (paths, options) = options(dir.path());
    let archive = dir.path().join("busybox.tar");
    write_busybox_archive(Path::new(BUSYBOX), &archive, "busybox:test").unwrap();
    let store = ImageStore::open(&paths, &options).await.unwrap();

    let references = store.import_archive(&archive).await.unwrap();
    assert!(
        references.contains(&"docker.io/library/busybox:test".to_string()),
        "{references:?}"
    );
    let resolved = store.resolve("busybox:test").await.unwrap();
    check_busybox_rootfs(&resolved);
    assert!(resolved.id.starts_with("sha256:"));
    assert_eq!(
        store.resolve(&resolved.id).await.unwrap().layers,
        resolved.layers
    );
    assert_eq!(
        store.resolve(&resolved.id[7..19]).await.unwrap().id,
        resolved.id
    );
    assert!(matches!(
        store.resolve("busybox:other").await,
        Err(RuntimeError::NotFound(_))
    ));

    let listed = store.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].size > 100_000);
    assert!(listed[0].repo_digests[0].starts_with("docker.io/library/busybox@sha256:"));
    assert!(store.usage().await.unwrap().inodes > 100);

    store.remove("busybox:test").await.unwrap();
    store.remove("busybox:test").await.unwrap();
    assert!(store.status(&resolved.id).await.unwrap().is_none());
    assert!(!resolved.layers[0].exists());
    let blobs = fs::read_dir(paths.content().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 0);
}

#[tokio::test]
async fn imports_archives_at_open_once_and_sees_other_processes_imports() {
    if !have_busybox() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (paths, options) = options(dir.path());
    fs::create_dir_all(paths.image_archives()).unwrap();
    let archive = paths.image_archives().join("busybox.tar");
    write_busybox_archive(Path::new(BUSYBOX), &archive, "docker.io/library/busybox:1").unwrap();

    let store = ImageStore::open(&paths, &options).await.unwrap();
    assert!(store.status("busybox:1").await.unwrap().is_some());
    let index_before = fs::read(paths.content().join("images.json")).unwrap();
    let reopened = ImageStore::open(&paths, &options).await.unwrap();
    assert_eq!(
        fs::read(paths.content().join("images.json")).unwrap(),
        index_before
    );

    // A second store on the same directories stands in for `r8s image import`.
    let other = dir.path().join("other.tar");
    write_busybox_archive(Path::new(BUSYBOX), &other, "example.com/tools/busybox:2").unwrap();
    reopened.import_archive(&other).await.unwrap();
    let resolved = store.resolve("example.com/tools/busybox:2").await.unwrap();
    check_busybox_rootfs(&resolved);
    let record = store.status("busybox:1").await.unwrap().unwrap();
    assert_eq!(record.id, resolved.id);
    assert_eq!(record.repo_tags.len(), 2);
}

/// A `docker-registry` on a loopback port, killed by PID when dropped.
struct LocalRegistry {
    child: Child,
    address: String,
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry(dir: &Path) -> Option<LocalRegistry> {
    for binary in ["/usr/bin/docker-registry", "/usr/bin/skopeo"] {
        if !Path::new(binary).is_file() {
            eprintln!("skipping the registry pull test: {binary} is missing");
            return None;
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let storage = dir.join("registry-storage");
    let config = dir.join("registry.yml");
    fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
            storage.display()
        ),
    )
    .unwrap();
    let child = Command::new("/usr/bin/docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let registry = LocalRegistry { child, address };
    for _ in 0..100 {
        if std::net::TcpStream::connect(&registry.address).is_ok() {
            return Some(registry);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("docker-registry did not start on {}", registry.address);
}

#[tokio::test]
async fn pulls_from_a_local_registry() {
    if !have_busybox() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(registry) = start_registry(dir.path()) else {
        return;
    };
    let archive = dir.path().join("busybox.tar");
    write_busybox_archive(Path::new(BUSYBOX), &archive, "busybox:test").unwrap();
    let pushed = Command::new("/usr/bin/skopeo")
        .args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
        ])
        .arg(format!("oci-archive:{}", archive.display()))
        .arg(format!("docker://{}/busybox:test", registry.address))
        .output()
        .unwrap();
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );

    let (paths, options) = options(&dir.path().join("node"));
    let store = ImageStore::open(&paths, &options).await.unwrap();
    let image = format!("{}/busybox:test", registry.address);
    let (first, second) = tokio::join!(
        store.pull(&image, RegistryCredentials::Anonymous),
        store.pull(&image, RegistryCredentials::Anonymous)
    );
    let id = first.unwrap();
    assert_eq!(second.unwrap(), id);
    let resolved = store.resolve(&image).await.unwrap();
    assert_eq!(resolved.id, id);
    check_busybox_rootfs(&resolved);
    let record = store.status(&image).await.unwrap().unwrap();
    assert!(record.repo_digests[0].starts_with(&format!("{}/busybox@sha256:", registry.address)));
    assert!(store.resolve(&record.repo_digests[0]).await.is_ok());
    assert!(store
        .pull(
            &format!("{}/busybox:missing", registry.address),
            RegistryCredentials::Anonymous
        )
        .await
        .is_err());
    drop(registry);
}

#[tokio::test]
async fn imports_a_docker_save_archive() {
    if !have_busybox() || !Path::new("/usr/bin/skopeo").is_file() {
        eprintln!("skipping: busybox or skopeo is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let oci = dir.path().join("busybox-oci.tar");
    write_busybox_archive(Path::new(BUSYBOX), &oci, "busybox:test").unwrap();
    let docker = dir.path().join("busybox-docker.tar");
    let converted = Command::new("/usr/bin/skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .arg(format!("oci-archive:{}", oci.display()))
        .arg(format!(
            "docker-archive:{}:example.com/team/busybox:saved",
            docker.display()
        ))
        .output()
        .unwrap();
    assert!(
        converted.status.success(),
        "{}",
        String::from_utf8_lossy(&converted.stderr)
    );

    let (paths, options) = options(&dir.path().join("node"));
    let store = ImageStore::open(&paths, &options).await.unwrap();
    let references = store.import_archive(&docker).await.unwrap();
    assert_eq!(
        references,
        vec!["example.com/team/busybox:saved".to_string()]
    );
    let resolved = store
        .resolve("example.com/team/busybox:saved")
        .await
        .unwrap();
    check_busybox_rootfs(&resolved);
}

#[test]
fn containers_report_the_repo_digest_of_the_repository_they_name() {
    let image = ResolvedImage {
        id: "sha256:c0".into(),
        references: vec![
            "docker.io/library/busybox:1".into(),
            "docker.io/library/busybox@sha256:aa".into(),
            "example.com/tools/busybox@sha256:bb".into(),
        ],
        layers: Vec::new(),
        config: oci_spec::image::ImageConfiguration::default(),
    };
    assert_eq!(
        image.image_ref_for("example.com/tools/busybox:2"),
        "example.com/tools/busybox@sha256:bb"
    );
    assert_eq!(
        image.image_ref_for("busybox:1"),
        "docker.io/library/busybox@sha256:aa"
    );
    assert_eq!(
        image.image_ref_for("sha256:c0"),
        "docker.io/library/busybox@sha256:aa"
    );
    let untagged = ResolvedImage {
        references: vec!["docker.io/library/busybox:1".into()],
        ..image
    };
    assert_eq!(untagged.image_ref_for("busybox:1"), "sha256:c0");
}
