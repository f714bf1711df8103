//! `/stats/summary`: node CPU and memory from /proc, pods' figures from CRI stats, in upstream's
//! `Summary` JSON shape (k8s.io/kubelet/pkg/apis/stats/v1alpha1).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use k8s_cri::v1::{
    ContainerStats, CpuUsage, ListContainerStatsRequest, ListPodSandboxRequest,
    ListPodSandboxStatsRequest, MemoryUsage, PodSandboxStats,
};
use serde_json::{json, Map, Value};

use crate::CriClient;

const MAX_KEYED_SAMPLES: usize = 4096;

/// Nanoseconds per clock tick of /proc/stat (USER_HZ is 100 on Linux).
const NANOS_PER_TICK: u64 = 10_000_000;

/// The previous CPU samples (the node's, and each pod's and container's by key), to turn
/// cumulative time into a rate when the runtime gives none.
#[derive(Default)]
pub struct NodeCpuSampler {
    last: Mutex<Option<(Instant, u64)>>,
    /// key → (timestamp ns, cumulative ns).
    by_key: Mutex<HashMap<String, (i64, u64)>>,
}

/// Cumulative busy CPU time of the node in nanoseconds, from the `cpu` line of /proc/stat.
pub fn busy_cpu_nanos(proc_stat: &str) -> Option<u64> {
    let line = proc_stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| fields.get(*i))
        .sum();
    Some(busy * NANOS_PER_TICK)
}

/// A /proc/meminfo field in bytes.
pub fn meminfo_bytes(meminfo: &str, key: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.split(':').next() == Some(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl NodeCpuSampler {
    /// Nanocores since the previous sample of `key` (samples of gone pods are dropped in bulk).
    fn keyed_rate(&self, key: &str, timestamp: i64, total: u64) -> Option<u64> {
        let mut samples = self.by_key.lock().ok()?;
        if samples.len() >= MAX_KEYED_SAMPLES && !samples.contains_key(key) {
            samples.clear();
        }
        let previous = samples.insert(key.to_string(), (timestamp, total));
        let (at, before) = previous?;
        let elapsed = u128::try_from(timestamp.checked_sub(at)?).ok()?;
        (elapsed > 0 && total >= before).then(|| {
            let used = u128::from(total - before);
            u64::try_from(used * 1_000_000_000 / elapsed).unwrap_or(u64::MAX)
        })
    }

    fn sample(&self, now: Instant, total: u64) -> Option<u64> {
        let mut last = self.last.lock().ok()?;
        let rate = last.and_then(|(at, previous)| {
            let elapsed = now.duration_since(at).as_nanos();
            (elapsed > 0).then(|| {
                let used = u128::from(total.saturating_sub(previous));
                u64::try_from(used * 1_000_000_000 / elapsed).unwrap_or(u64::MAX)
            })
        });
        *last = Some((now, total));
        rate
    }
}

fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

fn node_section(node_name: &str, sampler: &NodeCpuSampler) -> Value {
    let time = now_text();
    let mut node = json!({ "nodeName": node_name, "systemContainers": [] });
    if let Some(total) = std::fs::read_to_string("/proc/stat")
        .ok()
        .as_deref()
        .and_then(busy_cpu_nanos)
    {
        let mut cpu = json!({ "time": time, "usageCoreNanoSeconds": total });
        if let Some(rate) = sampler.sample(Instant::now(), total) {
            cpu["usageNanoCores"] = json!(rate);
        }
        node["cpu"] = cpu;
    }
    if let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") {
        let total = meminfo_bytes(&meminfo, "MemTotal").unwrap_or(0);
        let free = meminfo_bytes(&meminfo, "MemFree").unwrap_or(0);
        let available = meminfo_bytes(&meminfo, "MemAvailable").unwrap_or(free);
        node["memory"] = json!({
            "time": time,
            "availableBytes": available,
            "usageBytes": total.saturating_sub(free),
            "workingSetBytes": total.saturating_sub(available),
        });
    }
    node
}

fn nanos_to_text(nanos: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| now_text())
}

fn cpu_value(cpu: &CpuUsage, key: &str, sampler: &NodeCpuSampler) -> Value {
    let mut out = Map::new();
    out.insert("time".into(), json!(nanos_to_text(cpu.timestamp)));
    let sampled = cpu
        .usage_core_nano_seconds
        .as_ref()
        .and_then(|total| sampler.keyed_rate(key, cpu.timestamp, total.value));
    if let Some(v) = cpu.usage_nano_cores.as_ref().map(|v| v.value).or(sampled) {
        out.insert("usageNanoCores".into(), json!(v));
    }
    if let Some(v) = &cpu.usage_core_nano_seconds {
        out.insert("usageCoreNanoSeconds".into(), json!(v.value));
    }
    Value::Object(out)
}

fn memory_value(memory: &MemoryUsage) -> Value {
    let mut out = Map::new();
    out.insert("time".into(), json!(nanos_to_text(memory.timestamp)));
    let fields = [
        ("availableBytes", &memory.available_bytes),
        ("usageBytes", &memory.usage_bytes),
        ("workingSetBytes", &memory.working_set_bytes),
        ("rssBytes", &memory.rss_bytes),
        ("pageFaults", &memory.page_faults),
        ("majorPageFaults", &memory.major_page_faults),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            out.insert(name.into(), json!(v.value));
        }
    }
    Value::Object(out)
}

fn container_value(stats: &ContainerStats, sampler: &NodeCpuSampler) -> Value {
    let name = stats
        .attributes
        .as_ref()
        .and_then(|a| a.metadata.as_ref())
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let mut out = json!({ "name": name });
    let id = stats
        .attributes
        .as_ref()
        .map(|a| a.id.as_str())
        .unwrap_or_default();
    if let Some(cpu) = &stats.cpu {
        out["cpu"] = cpu_value(cpu, &format!("container/{id}"), sampler);
    }
    if let Some(memory) = &stats.memory {
        out["memory"] = memory_value(memory);
    }
    out
}

fn pod_ref(name: &str, namespace: &str, uid: &str) -> Value {
    json!({ "name": name, "namespace": namespace, "uid": uid })
}

fn pod_value(stats: &PodSandboxStats, sampler: &NodeCpuSampler) -> Option<Value> {
    let metadata = stats.attributes.as_ref()?.metadata.as_ref()?;
    let linux = stats.linux.as_ref();
    let mut pod = json!({
        "podRef": pod_ref(&metadata.name, &metadata.namespace, &metadata.uid),
        "containers": linux.map(|l| l.containers.iter().map(|c| container_value(c, sampler)).collect::<Vec<_>>()).unwrap_or_default(),
    });
    if let Some(cpu) = linux.and_then(|l| l.cpu.as_ref()) {
        pod["cpu"] = cpu_value(cpu, &format!("pod/{}", metadata.uid), sampler);
    }
    if let Some(memory) = linux.and_then(|l| l.memory.as_ref()) {
        pod["memory"] = memory_value(memory);
    }
    Some(pod)
}

/// Runtimes without ListPodSandboxStats: group container stats under their sandboxes.
async fn pods_from_container_stats(cri: &CriClient, sampler: &NodeCpuSampler) -> Vec<Value> {
    let mut runtime = cri.runtime.clone();
    let Ok(sandboxes) = runtime
        .list_pod_sandbox(ListPodSandboxRequest { filter: None })
        .await
    else {
        return Vec::new();
    };
    let containers = runtime
        .list_container_stats(ListContainerStatsRequest { filter: None })
        .await
        .map(|r| r.into_inner().stats)
        .unwrap_or_default();
    let mut by_sandbox: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut runtime_containers = runtime
        .list_containers(k8s_cri::v1::ListContainersRequest { filter: None })
        .await
        .map(|r| r.into_inner().containers)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.id, c.pod_sandbox_id))
        .collect::<BTreeMap<_, _>>();
    for stats in &containers {
        let id = stats
            .attributes
            .as_ref()
            .map(|a| a.id.clone())
            .unwrap_or_default();
        if let Some(sandbox) = runtime_containers.remove(&id) {
            by_sandbox
                .entry(sandbox)
                .or_default()
                .push(container_value(stats, sampler));
        }
    }
    sandboxes
        .into_inner()
        .items
        .into_iter()
        .filter_map(|sandbox| {
            let metadata = sandbox.metadata?;
            Some(json!({
                "podRef": pod_ref(&metadata.name, &metadata.namespace, &metadata.uid),
                "startTime": nanos_to_text(sandbox.created_at),
                "containers": by_sandbox.remove(&sandbox.id).unwrap_or_default(),
            }))
        })
        .collect()
}

pub async fn stats_summary(cri: &CriClient, node_name: &str, sampler: &NodeCpuSampler) -> Value {
    let node = node_section(node_name, sampler);
    let pods = match cri
        .runtime
        .clone()
        .list_pod_sandbox_stats(ListPodSandboxStatsRequest { filter: None })
        .await
    {
        Ok(response) => response
            .into_inner()
            .stats
            .iter()
            .filter_map(|s| pod_value(s, sampler))
            .collect(),
        Err(_) => pods_from_container_stats(cri, sampler).await,
    };

    json!({ "node": node, "pods": pods })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_figures() {
        let stat = "cpu  100 5 50 1000 7 1 2 3 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n";
        assert_eq!(
            busy_cpu_nanos(stat),
            Some((100 + 5 + 50 + 1 + 2 + 3) * NANOS_PER_TICK)
        );
        let meminfo =
            "MemTotal:       2048 kB\nMemFree:         1024 kB\nMemAvailable:    1536 kB\n";
        assert_eq!(meminfo_bytes(meminfo, "MemAvailable"), Some(1536 * 1024));
        assert_eq!(meminfo_bytes(meminfo, "Mem"), None);
    }

    #[test]
    fn keyed_rate_from_cumulative_samples() {
        let sampler = NodeCpuSampler::default();
        assert_eq!(sampler.keyed_rate("c", 1_000_000_000, 100), None);
        assert_eq!(
            sampler.keyed_rate("c", 3_000_000_000, 1_000_000_100),
            Some(500_000_000)
        );
        assert_eq!(sampler.keyed_rate("other", 3_000_000_000, 5), None);
    }

    #[test]
    fn cpu_rate_needs_two_samples() {
        let sampler = NodeCpuSampler::default();
        let start = Instant::now();
        assert_eq!(sampler.sample(start, 1_000), None);
        let later = start + std::time::Duration::from_secs(1);
        assert_eq!(sampler.sample(later, 500_001_000), Some(500_000_000));
    }
}
