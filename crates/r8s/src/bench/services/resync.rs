//! The full-resync figure: the whole ruleset for the cluster's current Services and
//! EndpointSlices, rendered with the proxy's pure renderer, then applied with `nft -f` inside a
//! scratch network namespace this bench creates and deletes (never the node's own).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::ListParams;
use kube::Api;

/// What one full resync costs.
pub struct ResyncFigures {
    pub services: usize,
    pub slices: usize,
    pub render: Duration,
    pub script_bytes: usize,
    pub script_lines: usize,
    /// One `nft -f` per run: the first into an empty namespace, later ones replacing the table.
    pub applies: Vec<Duration>,
}

/// Render the cluster's whole ruleset and apply it `runs` times in a scratch namespace.
pub async fn measure(
    client: &kube::Client,
    options: &proxy::RenderOptions,
    runs: usize,
) -> anyhow::Result<ResyncFigures> {
    let services = Api::<Service>::all(client.clone())
        .list(&ListParams::default())
        .await
        .context("listing Services")?
        .items;
    let slices = Api::<EndpointSlice>::all(client.clone())
        .list(&ListParams::default())
        .await
        .context("listing EndpointSlices")?
        .items;
    let started = Instant::now();
    let script = proxy::full_ruleset(&services, &slices, options);
    let render = started.elapsed();
    let netns = ScratchNetns::create(&format!("r8s-bench-{}", std::process::id()))?;
    let applies = tokio::task::block_in_place(|| {
        (0..runs.max(1))
            .map(|_| netns.apply(&script))
            .collect::<anyhow::Result<Vec<Duration>>>()
    })?;
    Ok(ResyncFigures {
        services: services.len(),
        slices: slices.len(),
        render,
        script_bytes: script.len(),
        script_lines: script.lines().count(),
        applies,
    })
}

/// A network namespace of this bench's own, deleted when dropped.
struct ScratchNetns {
    name: String,
}

impl ScratchNetns {
    fn create(name: &str) -> anyhow::Result<Self> {
        run_ip(&["netns", "add", name])?;
        Ok(Self { name: name.into() })
    }

    /// Time one `nft -f -` of `script` inside the namespace.
    fn apply(&self, script: &str) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", self.name))
            .args(["--", "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("running nsenter nft -f -")?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .context("writing the ruleset to nft")?;
        }
        let output = child.wait_with_output().context("waiting for nft")?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            anyhow::bail!(
                "nft -f rejected the ruleset ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(elapsed)
    }
}

impl Drop for ScratchNetns {
    fn drop(&mut self) {
        if let Err(error) = run_ip(&["netns", "del", &self.name]) {
            eprintln!("removing network namespace {}: {error:#}", self.name);
        }
    }
}

fn run_ip(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .context("running ip")?;
    if !output.status.success() {
        anyhow::bail!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
