//! Running a network list for one pod: plugin by plugin, each ADD result becoming the next
//! plugin's `prevResult`; DEL in reverse order with the cached ADD result.

use serde_json::{json, Map, Value};

use super::plugin_exec::{PluginCall, PluginExec};
use super::CniError;

/// What a pod's attachment to a network is: the `CNI_*` values and the runtime configuration.
#[derive(Debug, Clone, Default)]
pub struct Attachment {
    pub container_id: String,
    /// The pod's network namespace file; empty when it is gone (DEL only).
    pub netns: String,
    pub ifname: String,
    /// `CNI_ARGS` pairs (`K8S_POD_NAME`, ...).
    pub args: Vec<(String, String)>,
    /// The `portMappings` capability.
    pub port_mappings: Vec<PortMappingArg>,
}

/// One entry of the `portMappings` capability.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMappingArg {
    pub host_port: i32,
    pub container_port: i32,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    #[serde(rename = "hostIP", skip_serializing_if = "String::is_empty", default)]
    pub host_ip: String,
}

impl Attachment {
    fn cni_args(&self) -> String {
        let mut pairs = vec!["IgnoreUnknown=1".to_owned()];
        pairs.extend(self.args.iter().map(|(k, v)| format!("{k}={v}")));
        pairs.join(";")
    }

    fn runtime_config(&self) -> Value {
        json!({ "portMappings": self.port_mappings })
    }

    /// portmap with no ports to map does nothing but pass its `prevResult` on: not run at all
    /// (one process less per pod start and stop).
    fn skips(&self, plugin: &str) -> bool {
        plugin == "portmap" && self.port_mappings.is_empty()
    }

    fn call(&self, command: &str, plugin: &str, stdin: Value) -> PluginCall {
        PluginCall {
            plugin: plugin.to_owned(),
            command: command.to_owned(),
            container_id: self.container_id.clone(),
            netns: self.netns.clone(),
            ifname: self.ifname.clone(),
            args: self.cni_args(),
            stdin,
        }
    }
}

/// A plugin's type and its configuration.
type PluginConfig = (String, Map<String, Value>);

/// The plugins of a conflist, each with the list's name and version put in.
fn plugins_of(conflist: &Value) -> Result<Vec<PluginConfig>, CniError> {
    let name = conflist.get("name").cloned().unwrap_or(Value::Null);
    let version = conflist.get("cniVersion").cloned().unwrap_or(Value::Null);
    let plugins = conflist
        .get("plugins")
        .and_then(Value::as_array)
        .ok_or_else(|| CniError::BadConfig("conflist has no plugins".into()))?;
    plugins
        .iter()
        .map(|plugin| {
            let mut config = plugin
                .as_object()
                .cloned()
                .ok_or_else(|| CniError::BadConfig("a plugin is not an object".into()))?;
            let kind = config
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| CniError::BadConfig("a plugin has no type".into()))?
                .to_owned();
            config.insert("name".into(), name.clone());
            config.insert("cniVersion".into(), version.clone());
            Ok((kind, config))
        })
        .collect()
}

/// A plugin's stdin: its configuration, the previous result, and the runtime configuration keys
/// that it declared as capabilities.
fn plugin_stdin(
    mut config: Map<String, Value>,
    prev_result: Option<&Value>,
    runtime_config: &Value,
) -> Value {
    if let Some(prev) = prev_result {
        config.insert("prevResult".into(), prev.clone());
    }
    let capabilities: Vec<String> = config
        .get("capabilities")
        .and_then(Value::as_object)
        .map(|caps| {
            caps.iter()
                .filter(|(_, enabled)| enabled.as_bool() == Some(true))
                .map(|(key, _)| key.clone())
                .collect()
        })
        .unwrap_or_default();
    let wanted: Map<String, Value> = capabilities
        .iter()
        .filter_map(|key| {
            runtime_config
                .get(key)
                .map(|value| (key.clone(), value.clone()))
        })
        .collect();
    if !wanted.is_empty() {
        config.insert("runtimeConfig".into(), Value::Object(wanted));
    }
    Value::Object(config)
}

/// ADD of every plugin in order; the last plugin's result is the list's result.
pub async fn add_list(
    exec: &dyn PluginExec,
    conflist: &Value,
    attachment: &Attachment,
) -> Result<Value, CniError> {
    let runtime_config = attachment.runtime_config();
    let mut prev: Option<Value> = None;
    for (kind, config) in plugins_of(conflist)? {
        if attachment.skips(&kind) {
            continue;
        }
        let stdin = plugin_stdin(config, prev.as_ref(), &runtime_config);
        let result = exec
            .exec(&attachment.call("ADD", &kind, stdin))
            .await?
            .ok_or_else(|| CniError::BadOutput {
                plugin: kind.clone(),
                message: "ADD printed no result".into(),
            })?;
        prev = Some(result);
    }
    prev.ok_or_else(|| CniError::BadConfig("conflist has no plugins".into()))
}

/// CHECK of every plugin in order, each given the cached ADD result.
pub async fn check_list(
    exec: &dyn PluginExec,
    conflist: &Value,
    attachment: &Attachment,
    cached: &Value,
) -> Result<(), CniError> {
    let runtime_config = attachment.runtime_config();
    for (kind, config) in plugins_of(conflist)? {
        if attachment.skips(&kind) {
            continue;
        }
        let stdin = plugin_stdin(config, Some(cached), &runtime_config);
        exec.exec(&attachment.call("CHECK", &kind, stdin)).await?;
    }
    Ok(())
}

/// DEL of every plugin in reverse order, each given the cached ADD result when there is one.
pub async fn del_list(
    exec: &dyn PluginExec,
    conflist: &Value,
    attachment: &Attachment,
    cached: Option<&Value>,
) -> Result<(), CniError> {
    let runtime_config = attachment.runtime_config();
    for (kind, config) in plugins_of(conflist)?.into_iter().rev() {
        if attachment.skips(&kind) {
            continue;
        }
        let stdin = plugin_stdin(config, cached, &runtime_config);
        exec.exec(&attachment.call("DEL", &kind, stdin)).await?;
    }
    Ok(())
}

/// ADD or DEL of a single plugin configuration (the loopback).
pub async fn single(
    exec: &dyn PluginExec,
    command: &str,
    config: &Value,
    attachment: &Attachment,
) -> Result<Option<Value>, CniError> {
    let kind = config
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| CniError::BadConfig("plugin has no type".into()))?;
    exec.exec(&attachment.call(command, kind, config.clone()))
        .await
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cni::{bridge_conflist, RecordingPluginExec};

    fn attachment() -> Attachment {
        Attachment {
            container_id: "abc".into(),
            netns: "/var/run/netns/x".into(),
            ifname: "eth0".into(),
            args: vec![("K8S_POD_NAME".into(), "web".into())],
            port_mappings: vec![PortMappingArg {
                host_port: 8080,
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: String::new(),
            }],
        }
    }

    fn bridge_result() -> Value {
        json!({"cniVersion": "1.0.0", "ips": [{"address": "10.88.0.2/24", "gateway": "10.88.0.1"}]})
    }

    #[tokio::test]
    async fn add_chains_results_and_gives_capabilities_only_to_plugins_that_declare_them() {
        let fake = RecordingPluginExec::default();
        fake.answer_add("bridge", bridge_result());
        let list = bridge_conflist("10.88.0.0/24", Path::new("/state"));
        let result = add_list(&fake, &list, &attachment()).await.unwrap();
        assert_eq!(
            result,
            bridge_result(),
            "portmap passes the bridge result through"
        );

        let calls = fake.recorded();
        assert_eq!(calls.len(), 2);
        let (bridge, portmap) = (&calls[0], &calls[1]);
        assert_eq!(bridge.plugin, "bridge");
        assert_eq!(bridge.command, "ADD");
        assert_eq!(bridge.ifname, "eth0");
        assert_eq!(bridge.netns, "/var/run/netns/x");
        assert_eq!(bridge.args, "IgnoreUnknown=1;K8S_POD_NAME=web");
        assert_eq!(bridge.stdin["name"], "r8s");
        assert_eq!(bridge.stdin["cniVersion"], "1.0.0");
        assert!(bridge.stdin.get("prevResult").is_none());
        assert!(bridge.stdin.get("runtimeConfig").is_none());

        assert_eq!(portmap.plugin, "portmap");
        assert_eq!(portmap.stdin["prevResult"], bridge_result());
        assert_eq!(
            portmap.stdin["runtimeConfig"],
            json!({"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]})
        );
        assert_eq!(portmap.stdin["name"], "r8s");
    }

    #[tokio::test]
    async fn del_runs_in_reverse_with_the_cached_result() {
        let fake = RecordingPluginExec::default();
        let list = bridge_conflist("10.88.0.0/24", Path::new("/state"));
        del_list(&fake, &list, &attachment(), Some(&bridge_result()))
            .await
            .unwrap();
        let calls = fake.recorded();
        let order: Vec<_> = calls
            .iter()
            .map(|c| (c.plugin.as_str(), c.command.as_str()))
            .collect();
        assert_eq!(order, [("portmap", "DEL"), ("bridge", "DEL")]);
        assert!(calls
            .iter()
            .all(|c| c.stdin["prevResult"] == bridge_result()));
    }

    #[tokio::test]
    async fn portmap_is_left_out_when_there_are_no_ports_to_map() {
        let fake = RecordingPluginExec::default();
        fake.answer_add("bridge", bridge_result());
        let list = bridge_conflist("10.88.0.0/24", Path::new("/state"));
        let without_ports = Attachment {
            port_mappings: Vec::new(),
            ..attachment()
        };
        let result = add_list(&fake, &list, &without_ports).await.unwrap();
        assert_eq!(result, bridge_result());
        del_list(&fake, &list, &without_ports, Some(&result))
            .await
            .unwrap();
        let plugins: Vec<_> = fake
            .recorded()
            .into_iter()
            .map(|c| (c.plugin, c.command))
            .collect();
        assert_eq!(
            plugins,
            [
                ("bridge".to_owned(), "ADD".to_owned()),
                ("bridge".to_owned(), "DEL".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn del_without_a_cached_result_sends_no_prev_result() {
        let fake = RecordingPluginExec::default();
        let list = bridge_conflist("10.88.0.0/24", Path::new("/state"));
        del_list(&fake, &list, &attachment(), None).await.unwrap();
        assert!(fake
            .recorded()
            .iter()
            .all(|c| c.stdin.get("prevResult").is_none()));
    }

    #[tokio::test]
    async fn a_failing_plugin_stops_the_add() {
        let fake = RecordingPluginExec::default();
        fake.fail("bridge", "ADD");
        let list = bridge_conflist("10.88.0.0/24", Path::new("/state"));
        let error = add_list(&fake, &list, &attachment()).await.unwrap_err();
        assert!(error.to_string().contains("injected failure"), "{error}");
        assert_eq!(fake.recorded().len(), 1);
    }

    #[tokio::test]
    async fn check_gives_every_plugin_the_cached_result() {
        let fake = RecordingPluginExec::default();
        let list = bridge_conflist("10.88.0.0/24", Path::new("/state"));
        check_list(&fake, &list, &attachment(), &bridge_result())
            .await
            .unwrap();
        let calls = fake.recorded();
        assert_eq!(calls.len(), 2);
        assert!(calls
            .iter()
            .all(|c| c.command == "CHECK" && c.stdin["prevResult"] == bridge_result()));
    }
}
