use super::*;
use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, ConfigMapKeySelector, EnvFromSource, EnvVar, EnvVarSource,
    ObjectFieldSelector, PodSpec, SecretEnvSource, SecretKeySelector, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;

fn pod(enable_links: Option<bool>) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("ns".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            enable_service_links: enable_links,
            ..Default::default()
        }),
        status: None,
    }
}

fn literal(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

fn from(name: &str, source: EnvVarSource) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(source),
    }
}

fn sources() -> EnvSources {
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some("cfg".into()),
            ..Default::default()
        },
        data: Some(
            [("color", "blue"), ("1bad", "x"), ("mode", "fast")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        ..Default::default()
    };
    let secret = Secret {
        data: Some(
            [("password".to_string(), ByteString(b"hunter2".to_vec()))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    let service = Service {
        metadata: ObjectMeta {
            name: Some("db".into()),
            namespace: Some("ns".into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some("10.43.0.9".into()),
            ports: Some(vec![ServicePort {
                port: 5432,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    };
    EnvSources {
        config_maps: [("cfg".to_string(), cm)].into_iter().collect(),
        secrets: [("creds".to_string(), secret)].into_iter().collect(),
        services: vec![service],
        ..Default::default()
    }
}

fn value_of<'a>(env: &'a Environment, name: &str) -> Option<&'a str> {
    env.vars
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn env_from_with_prefix_skips_invalid_keys() {
    let container = Container {
        name: "c".into(),
        env_from: Some(vec![
            EnvFromSource {
                prefix: Some("".into()),
                config_map_ref: Some(ConfigMapEnvSource {
                    name: "cfg".into(),
                    optional: None,
                }),
                secret_ref: None,
            },
            EnvFromSource {
                prefix: Some("S_".into()),
                config_map_ref: None,
                secret_ref: Some(SecretEnvSource {
                    name: "creds".into(),
                    optional: None,
                }),
            },
        ]),
        ..Default::default()
    };
    let env = make_environment(&pod(Some(false)), &container, &sources()).unwrap();
    assert_eq!(value_of(&env, "color"), Some("blue"));
    assert_eq!(value_of(&env, "S_password"), Some("hunter2"));
    assert_eq!(env.invalid_keys, ["1bad"]);
}

#[test]
fn values_expand_against_earlier_vars_and_services() {
    let container = Container {
        name: "c".into(),
        env: Some(vec![
            literal("A", "a"),
            literal("B", "$(A)-$(LATER)-$$(A)"),
            literal("LATER", "later"),
            literal("DB", "$(DB_SERVICE_HOST):$(DB_SERVICE_PORT)"),
        ]),
        command: Some(vec!["echo".into(), "$(B)".into()]),
        args: Some(vec!["$(LATER)".into(), "$(NOPE)".into()]),
        ..Default::default()
    };
    let env = make_environment(&pod(None), &container, &sources()).unwrap();
    assert_eq!(value_of(&env, "B"), Some("a-$(LATER)-$(A)"));
    assert_eq!(value_of(&env, "DB"), Some("10.43.0.9:5432"));
    assert_eq!(value_of(&env, "DB_PORT"), Some("tcp://10.43.0.9:5432"));
    let (command, args) = expand_command(&container, &env.vars);
    assert_eq!(command, ["echo", "a-$(LATER)-$(A)"]);
    assert_eq!(args, ["later", "$(NOPE)"]);
}

#[test]
fn service_links_can_be_disabled() {
    let container = Container {
        name: "c".into(),
        ..Default::default()
    };
    let env = make_environment(&pod(Some(false)), &container, &sources()).unwrap();
    assert_eq!(value_of(&env, "DB_SERVICE_HOST"), None);
}

#[test]
fn key_refs_and_optional_sources() {
    let cm_key = |name: &str, key: &str, optional: Option<bool>| EnvVarSource {
        config_map_key_ref: Some(ConfigMapKeySelector {
            name: name.into(),
            key: key.into(),
            optional,
        }),
        ..Default::default()
    };
    let secret_key = |name: &str, key: &str, optional: Option<bool>| EnvVarSource {
        secret_key_ref: Some(SecretKeySelector {
            name: name.into(),
            key: key.into(),
            optional,
        }),
        ..Default::default()
    };
    let cases: Vec<(EnvVarSource, Result<Option<&str>, &str>)> = vec![
        (cm_key("cfg", "mode", None), Ok(Some("fast"))),
        (cm_key("cfg", "nope", Some(true)), Ok(None)),
        (
            cm_key("cfg", "nope", None),
            Err("couldn't find key nope in ConfigMap ns/cfg"),
        ),
        (cm_key("gone", "k", Some(true)), Ok(None)),
        (
            cm_key("gone", "k", None),
            Err("configmap \"gone\" not found"),
        ),
        (secret_key("creds", "password", None), Ok(Some("hunter2"))),
        (
            secret_key("creds", "user", None),
            Err("couldn't find key user in Secret ns/creds"),
        ),
        (
            secret_key("gone", "k", None),
            Err("secret \"gone\" not found"),
        ),
        (
            EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.name".into(),
                    api_version: None,
                }),
                ..Default::default()
            },
            Ok(Some("web")),
        ),
    ];
    for (source, want) in cases {
        let container = Container {
            name: "c".into(),
            env: Some(vec![from("X", source.clone())]),
            ..Default::default()
        };
        let got = make_environment(&pod(Some(false)), &container, &sources())
            .map(|env| value_of(&env, "X").map(str::to_string))
            .map_err(|e| e.to_string());
        let want = want.map(|v| v.map(str::to_string)).map_err(str::to_string);
        assert_eq!(got, want, "{source:?}");
    }
}

#[test]
fn env_var_names() {
    for (name, valid) in [
        ("A", true),
        ("a.b-c_d", true),
        ("_x", true),
        ("1a", false),
        ("", false),
        ("a b", false),
        ("a=b", false),
    ] {
        assert_eq!(is_env_var_name(name), valid, "{name}");
    }
}
