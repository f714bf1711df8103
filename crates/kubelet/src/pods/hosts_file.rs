//! The /etc/hosts the kubelet writes for each pod not on the host network.

use k8s_openapi::api::core::v1::Pod;

use super::sandbox_config::pod_hostname;

/// Upstream's managed hosts file: localhost lines, the pod's own name, then hostAliases.
pub fn hosts_file_content(pod: &Pod, pod_ip: Option<&str>, cluster_domain: &str) -> String {
    let mut out = String::from(
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n",
    );
    let spec = pod.spec.clone().unwrap_or_default();
    if let Some(ip) = pod_ip.filter(|ip| !ip.is_empty()) {
        let hostname = pod_hostname(pod);
        match spec.subdomain.as_deref().filter(|s| !s.is_empty()) {
            Some(subdomain) => {
                let namespace = pod.metadata.namespace.clone().unwrap_or_default();
                out.push_str(&format!(
                    "{ip}\t{hostname}.{subdomain}.{namespace}.svc.{cluster_domain}\t{hostname}\n"
                ));
            }
            None => out.push_str(&format!("{ip}\t{hostname}\n")),
        }
    }
    let aliases = spec.host_aliases.unwrap_or_default();
    if !aliases.is_empty() {
        out.push_str("\n# Entries added by HostAliases.\n");
        for alias in aliases {
            out.push_str(&format!(
                "{}\t{}\n",
                alias.ip,
                alias.hostnames.unwrap_or_default().join("\t")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hosts_with_subdomain_and_aliases() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-0", "namespace": "ns1"},
            "spec": {"containers": [], "subdomain": "web",
                     "hostAliases": [{"ip": "1.2.3.4", "hostnames": ["foo", "bar"]}]},
        }))
        .unwrap();
        let content = hosts_file_content(&pod, Some("10.42.0.7"), "cluster.local");
        assert!(content.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
        assert!(content.contains("10.42.0.7\tweb-0.web.ns1.svc.cluster.local\tweb-0\n"));
        assert!(content.ends_with("# Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n"));
    }
}
