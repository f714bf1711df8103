//! The `r8s sim` flags and the parsers of their values.

use std::time::Duration;

use api::quantity::Quantity;
use k8s_openapi::api::core::v1::Taint;

/// Simulated nodes: how many, what they look like, and how they behave.
///
/// Sending SIGUSR1 to the process stops the heartbeats (lease and node status) of the first
/// simulated node; each further SIGUSR1 stops the next node still alive.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// How many nodes to simulate.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// Nodes are named `<prefix>-<i>`, i counting from 0.
    #[arg(long, default_value = crate::sim_node::DEFAULT_PREFIX)]
    pub node_prefix: String,
    /// CPU capacity of each node (a quantity).
    #[arg(long, default_value = "32", value_parser = parse_quantity)]
    pub node_cpu: String,
    /// Memory capacity of each node (a quantity).
    #[arg(long, default_value = "256Gi", value_parser = parse_quantity)]
    pub node_memory: String,
    /// Ephemeral storage capacity of each node (a quantity).
    #[arg(long, default_value = "1Ti", value_parser = parse_quantity)]
    pub node_ephemeral_storage: String,
    /// Pod capacity of each node.
    #[arg(long, default_value_t = 110)]
    pub max_pods: u32,
    /// Extra node labels: `key=value,...`.
    #[arg(long, value_delimiter = ',', value_parser = parse_label)]
    pub node_labels: Vec<(String, String)>,
    /// Node taints: `key[=value]:Effect,...` with Effect NoSchedule, PreferNoSchedule or NoExecute.
    #[arg(long, value_delimiter = ',', value_parser = parse_taint)]
    pub node_taints: Vec<Taint>,
    /// How long pods with restartPolicy Never or OnFailure run before they succeed (`1s`, `500ms`, `2m`).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub pod_run_time: Duration,
    /// Stop the heartbeats of this node (full node name) after `--fail-after`; repeatable.
    #[arg(long = "fail-node")]
    pub fail_nodes: Vec<String>,
    /// When the `--fail-node` nodes stop their heartbeats, counted from registration.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub fail_after: Duration,
    /// How often each node renews its Lease in kube-node-lease.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub lease_renew_interval: Duration,
    /// The leaseDurationSeconds written in each Lease.
    #[arg(long, default_value_t = 40)]
    pub lease_duration_seconds: i32,
    /// How often each node posts its Ready condition heartbeat.
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub node_status_interval: Duration,
    /// The most API requests in flight for each kind of work (registration, leases, status, pods).
    #[arg(long, default_value_t = 32)]
    pub concurrency: u16,
}

/// `32`, `500m`, `256Gi`: answered in canonical form.
pub fn parse_quantity(text: &str) -> Result<String, String> {
    Quantity::parse(text)
        .map(|quantity| quantity.to_string())
        .map_err(|error| format!("{text:?}: {error}"))
}

/// `key=value`.
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: a label is key=value"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("{text:?}: the label key is empty"));
    }
    Ok((key.to_string(), value.trim().to_string()))
}

/// `key=value:Effect` or `key:Effect`.
pub fn parse_taint(text: &str) -> Result<Taint, String> {
    let (key_value, effect) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?}: a taint is key[=value]:Effect"))?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        return Err(format!(
            "{text:?}: the effect must be NoSchedule, PreferNoSchedule or NoExecute"
        ));
    }
    let (key, value) = match key_value.split_once('=') {
        Some((key, value)) => (key, Some(value.to_string())),
        None => (key_value, None),
    };
    if key.is_empty() {
        return Err(format!("{text:?}: the taint key is empty"));
    }
    Ok(Taint {
        key: key.to_string(),
        value,
        effect: effect.to_string(),
        time_added: None,
    })
}

/// `1s`, `500ms`, `2m`, `1h30m` or ISO 8601 (`PT1S`); never negative.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let signed: jiff::SignedDuration =
        text.parse().map_err(|error| format!("{text:?}: {error}"))?;
    Duration::try_from(signed).map_err(|_| format!("{text:?}: a duration may not be negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_key_value() {
        assert_eq!(
            parse_label("zone=a").unwrap(),
            ("zone".to_string(), "a".to_string())
        );
        assert_eq!(
            parse_label("empty=").unwrap(),
            ("empty".to_string(), String::new())
        );
        assert!(parse_label("novalue").is_err());
        assert!(parse_label("=x").is_err());
    }

    #[test]
    fn taints_have_key_optional_value_and_effect() {
        let taint = parse_taint("dedicated=gpu:NoSchedule").unwrap();
        assert_eq!(taint.key, "dedicated");
        assert_eq!(taint.value.as_deref(), Some("gpu"));
        assert_eq!(taint.effect, "NoSchedule");

        let taint = parse_taint("example.com/special:NoExecute").unwrap();
        assert_eq!(taint.key, "example.com/special");
        assert_eq!(taint.value, None);
        assert_eq!(taint.effect, "NoExecute");

        assert!(parse_taint("k=v").is_err());
        assert!(parse_taint("k=v:Sometimes").is_err());
        assert!(parse_taint(":NoSchedule").is_err());
    }

    #[test]
    fn durations_in_friendly_form() {
        assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn quantities_are_canonical() {
        assert_eq!(parse_quantity("1024Mi").unwrap(), "1Gi");
        assert_eq!(parse_quantity("32").unwrap(), "32");
        assert!(parse_quantity("lots").is_err());
    }

    #[test]
    fn flags_parse_through_clap() {
        use clap::Parser;
        #[derive(Debug, clap::Parser)]
        struct Cli {
            #[command(flatten)]
            sim: SimArgs,
        }
        let cli = Cli::try_parse_from([
            "sim",
            "--nodes",
            "3",
            "--node-labels",
            "a=1,b=2",
            "--node-taints",
            "x=y:NoSchedule,z:NoExecute",
            "--fail-node",
            "sim-node-1",
            "--fail-node",
            "sim-node-2",
            "--pod-run-time",
            "250ms",
        ])
        .unwrap();
        assert_eq!(cli.sim.nodes, 3);
        assert_eq!(cli.sim.node_labels.len(), 2);
        assert_eq!(cli.sim.node_taints.len(), 2);
        assert_eq!(cli.sim.fail_nodes, ["sim-node-1", "sim-node-2"]);
        assert_eq!(cli.sim.pod_run_time, Duration::from_millis(250));
        assert_eq!(cli.sim.node_memory, "256Gi");
        assert_eq!(cli.sim.lease_renew_interval, Duration::from_secs(10));
    }
}
