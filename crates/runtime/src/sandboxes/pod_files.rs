//! Files every container of a sandbox gets bind-mounted: `hostname` and `resolv.conf`.

use std::path::{Path, PathBuf};

use k8s_cri::v1 as cri;

pub const HOSTNAME_FILE: &str = "hostname";
pub const RESOLV_CONF_FILE: &str = "resolv.conf";
const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// `resolv.conf` lines for a pod's DNS config.
pub fn resolv_conf_content(dns: &cri::DnsConfig) -> String {
    let mut content = String::new();
    if !dns.searches.is_empty() {
        content.push_str(&format!("search {}\n", dns.searches.join(" ")));
    }
    for server in &dns.servers {
        content.push_str(&format!("nameserver {server}\n"));
    }
    if !dns.options.is_empty() {
        content.push_str(&format!("options {}\n", dns.options.join(" ")));
    }
    content
}

/// The hostname a sandbox's containers see: the config's, or the node's for host-network pods.
pub fn hostname_of(config: &cri::PodSandboxConfig) -> String {
    if !config.hostname.is_empty() {
        return config.hostname.clone();
    }
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_default()
}

/// Writes `hostname` and `resolv.conf` (from the DNS config, or a copy of the host's when there
/// is none) into the sandbox directory; the resolv.conf path is `None` when neither exists.
pub fn write_pod_files(
    dir: &Path,
    config: &cri::PodSandboxConfig,
) -> std::io::Result<(PathBuf, Option<PathBuf>)> {
    let hostname_file = dir.join(HOSTNAME_FILE);
    std::fs::write(&hostname_file, format!("{}\n", hostname_of(config)))?;
    let resolv_conf = dir.join(RESOLV_CONF_FILE);
    let content = match &config.dns_config {
        Some(dns) => Some(resolv_conf_content(dns)),
        None => std::fs::read_to_string(HOST_RESOLV_CONF).ok(),
    };
    let resolv_conf = match content {
        Some(content) => {
            std::fs::write(&resolv_conf, content)?;
            Some(resolv_conf)
        }
        None => None,
    };
    Ok((hostname_file, resolv_conf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_first_dns_becomes_search_nameserver_and_options_lines() {
        let dns = cri::DnsConfig {
            servers: vec!["10.96.0.10".into()],
            searches: vec![
                "default.svc.cluster.local".into(),
                "svc.cluster.local".into(),
                "cluster.local".into(),
            ],
            options: vec!["ndots:5".into()],
        };
        assert_eq!(
            resolv_conf_content(&dns),
            "search default.svc.cluster.local svc.cluster.local cluster.local\n\
             nameserver 10.96.0.10\n\
             options ndots:5\n"
        );
    }

    #[test]
    fn empty_dns_config_writes_an_empty_file() {
        assert_eq!(resolv_conf_content(&cri::DnsConfig::default()), "");
    }

    #[test]
    fn pod_files_are_written_into_the_sandbox_directory() {
        let dir = tempfile::tempdir().unwrap();
        let config = cri::PodSandboxConfig {
            hostname: "web-0".into(),
            dns_config: Some(cri::DnsConfig {
                servers: vec!["1.1.1.1".into()],
                ..Default::default()
            }),
            ..Default::default()
        };
        let (hostname, resolv) = write_pod_files(dir.path(), &config).unwrap();
        assert_eq!(std::fs::read_to_string(hostname).unwrap(), "web-0\n");
        assert_eq!(
            std::fs::read_to_string(resolv.unwrap()).unwrap(),
            "nameserver 1.1.1.1\n"
        );
    }

    #[test]
    fn without_dns_config_the_hosts_resolv_conf_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let (_, resolv) = write_pod_files(dir.path(), &cri::PodSandboxConfig::default()).unwrap();
        if let Ok(host) = std::fs::read_to_string(HOST_RESOLV_CONF) {
            assert_eq!(std::fs::read_to_string(resolv.unwrap()).unwrap(), host);
        }
    }
}
