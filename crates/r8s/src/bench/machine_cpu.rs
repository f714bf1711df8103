//! How busy this machine's CPUs were over a stretch of a benchmark, from /proc/stat. When a node
//! benchmark runs on the node, this is the CPU that starting the pods cost, everything included:
//! runc, CNI plugins, shims, the agent, the API server and the benchmark itself. It shows whether
//! a run was bound by CPU, and what one pod costs.

/// The machine's busy CPU time so far (as the kubelet reads it for `/stats/summary`).
pub struct CpuSample {
    busy_nanos: u64,
    cpus: usize,
}

/// What [`CpuSample::since`] measured.
pub struct CpuUse {
    pub busy_secs: f64,
    pub cpus: usize,
}

impl CpuSample {
    /// `None` where /proc/stat cannot be read (not Linux, or no procfs).
    pub fn now() -> Option<CpuSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        Some(CpuSample {
            busy_nanos: kubelet::server::busy_cpu_nanos(&stat)?,
            cpus: cpu_count(&stat),
        })
    }

    /// The busy CPU time from `self` to a sample taken now.
    pub fn since(&self) -> Option<CpuUse> {
        let later = CpuSample::now()?;
        Some(CpuUse {
            busy_secs: later.busy_nanos.saturating_sub(self.busy_nanos) as f64 / 1e9,
            cpus: later.cpus.max(1),
        })
    }
}

/// The CPUs /proc/stat sums over: its `cpuN` lines.
fn cpu_count(stat: &str) -> usize {
    stat.lines()
        .filter(|l| {
            l.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_cpus_summed() {
        let stat = "cpu  100 5 50 1000 40 3 2 1 7 0\ncpu0 50 2 25 500 20 1 1 0 7 0\nintr 1 2\n";
        assert_eq!(cpu_count(stat), 1);
    }

    #[test]
    fn a_sample_counts_forward() {
        let first = CpuSample::now().expect("/proc/stat");
        let used = first.since().expect("/proc/stat");
        assert!(used.busy_secs >= 0.0);
        assert!(used.cpus >= 1);
    }
}
