use std::convert::Infallible;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    ConfigMapProjection, DownwardAPIProjection, DownwardAPIVolumeFile, EmptyDirVolumeSource,
    HostPathVolumeSource, KeyToPath, ObjectFieldSelector, PodSecurityContext, PodSpec,
    ProjectedVolumeSource, SecretVolumeSource, ServiceAccountTokenProjection, Volume,
    VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use super::*;

/// A kube client whose API answers from a fixed table of paths.
fn fake_client() -> kube::Client {
    let service = tower::service_fn(|request: http::Request<kube::client::Body>| async move {
        let path = request.uri().path().to_string();
        let (status, body) = match (request.method().as_str(), path.as_str()) {
            ("GET", "/api/v1/namespaces/ns/configmaps/kube-root-ca.crt") => (
                200,
                json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "kube-root-ca.crt", "namespace": "ns"},
                       "data": {"ca.crt": "CA"}}),
            ),
            ("POST", "/api/v1/namespaces/ns/serviceaccounts/default/token") => (
                201,
                json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                       "metadata": {}, "spec": {"audiences": []},
                       "status": {"token": "TOKEN", "expirationTimestamp": "2030-01-01T00:00:00Z"}}),
            ),
            _ => (
                404,
                json!({"apiVersion": "v1", "kind": "Status", "status": "Failure",
                       "reason": "NotFound", "code": 404, "message": "not found"}),
            ),
        };
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(kube::client::Body::from(body.to_string().into_bytes()))
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    kube::Client::new(service, "default")
}

fn pod(volumes: Vec<Volume>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some("p".into()),
            namespace: Some("ns".into()),
            uid: Some("uid-1".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            volumes: Some(volumes),
            security_context: Some(PodSecurityContext::default()),
            ..Default::default()
        }),
        status: None,
    }
}

fn api_access_volume() -> Volume {
    Volume {
        name: "kube-api-access-abcde".into(),
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(0o644),
            sources: Some(vec![
                VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        path: "token".into(),
                        expiration_seconds: Some(3607),
                        audience: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: "kube-root-ca.crt".into(),
                        items: Some(vec![KeyToPath {
                            key: "ca.crt".into(),
                            path: "ca.crt".into(),
                            mode: None,
                        }]),
                        optional: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    downward_api: Some(DownwardAPIProjection {
                        items: Some(vec![DownwardAPIVolumeFile {
                            path: "namespace".into(),
                            field_ref: Some(ObjectFieldSelector {
                                field_path: "metadata.namespace".into(),
                                api_version: Some("v1".into()),
                            }),
                            ..Default::default()
                        }]),
                    }),
                    ..Default::default()
                },
            ]),
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn setup_and_teardown_of_common_volumes() {
    let root = tempfile::tempdir().unwrap();
    let mounter = Arc::new(RecordingMounter::default());
    let manager =
        VolumeManager::with_mounter(fake_client(), root.path().to_path_buf(), mounter.clone());
    let host_dir = root.path().join("host");
    let pod = pod(vec![
        Volume {
            name: "scratch".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
        Volume {
            name: "mem".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity(
                    "1Mi".into(),
                )),
            }),
            ..Default::default()
        },
        Volume {
            name: "host".into(),
            host_path: Some(HostPathVolumeSource {
                path: host_dir.to_string_lossy().into_owned(),
                type_: Some("DirectoryOrCreate".into()),
            }),
            ..Default::default()
        },
        api_access_volume(),
    ]);
    let volumes = manager.setup(&pod).await.unwrap();
    let volumes_dir = root.path().join("pods/uid-1/volumes");
    let names: Vec<&str> = volumes.volumes.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["scratch", "mem", "host", "kube-api-access-abcde"]);
    assert_eq!(
        volumes.volumes[0].1,
        volumes_dir.join("kubernetes.io~empty-dir/scratch")
    );
    assert!(host_dir.is_dir());
    let projected = volumes_dir.join("kubernetes.io~projected/kube-api-access-abcde");
    assert_eq!(
        volumes.volumes[3],
        ("kube-api-access-abcde".into(), projected.clone(), true)
    );
    assert_eq!(
        std::fs::read_to_string(projected.join("token")).unwrap(),
        "TOKEN"
    );
    assert_eq!(
        std::fs::read_to_string(projected.join("ca.crt")).unwrap(),
        "CA"
    );
    assert_eq!(
        std::fs::read_to_string(projected.join("namespace")).unwrap(),
        "ns"
    );
    assert_eq!(
        mounter.calls(),
        [MountCall::Tmpfs {
            target: volumes_dir.join("kubernetes.io~empty-dir/mem"),
            size_bytes: Some(1 << 20),
        }]
    );

    // A second setup changes nothing and mounts nothing again.
    manager.setup(&pod).await.unwrap();
    assert_eq!(mounter.calls().len(), 1);

    manager.teardown("uid-1").await.unwrap();
    assert!(!root.path().join("pods/uid-1").exists());
    assert_eq!(mounter.calls().len(), 2);
}

#[tokio::test]
async fn missing_sources_are_reported_as_upstream() {
    let root = tempfile::tempdir().unwrap();
    let manager = VolumeManager::with_mounter(
        fake_client(),
        root.path().to_path_buf(),
        Arc::new(RecordingMounter::default()),
    );
    let secret = |optional| {
        pod(vec![Volume {
            name: "s".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some("gone".into()),
                optional,
                ..Default::default()
            }),
            ..Default::default()
        }])
    };
    let err = manager.setup(&secret(None)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "MountVolume.SetUp failed for volume \"s\" : secret \"gone\" not found"
    );
    manager.setup(&secret(Some(true))).await.unwrap();
    manager.teardown("uid-1").await.unwrap();
}
