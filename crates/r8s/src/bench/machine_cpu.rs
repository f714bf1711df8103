//! How busy this machine's CPUs were over a stretch of a benchmark, from /proc/stat. When a node
//! benchmark runs on the node, this is the CPU that starting the pods cost, everything included:
//! runc, CNI plugins, shims, the agent, the API server and the benchmark itself. It shows whether
//! a run was bound by CPU, and what one pod costs.

/// The machine's busy CPU time so far, in clock ticks.
pub struct CpuSample {
    busy_ticks: u64,
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
            busy_ticks: busy_ticks(&stat)?,
            cpus: cpu_count(&stat),
        })
    }

    /// The busy CPU time from `self` to a sample taken now.
    pub fn since(&self) -> Option<CpuUse> {
        let later = CpuSample::now()?;
        let ticks_per_sec = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|t| *t > 0)
            .unwrap_or(100) as f64;
        Some(CpuUse {
            busy_secs: later.busy_ticks.saturating_sub(self.busy_ticks) as f64 / ticks_per_sec,
            cpus: later.cpus.max(1),
        })
    }
}

/// The sum over all CPUs of the time not idle: user, nice, system, irq, softirq and steal
/// (guest time is already in user).
fn busy_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let field = |i: usize| fields.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal
    Some(field(0) + field(1) + field(2) + field(5) + field(6) + field(7))
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
    fn busy_time_leaves_out_idle_and_iowait() {
        let stat = "cpu  100 5 50 1000 40 3 2 1 7 0\ncpu0 50 2 25 500 20 1 1 0 7 0\nintr 1 2\n";
        assert_eq!(busy_ticks(stat), Some(100 + 5 + 50 + 3 + 2 + 1));
        assert_eq!(cpu_count(stat), 1);
        assert_eq!(busy_ticks("intr 1 2\n"), None);
        assert_eq!(busy_ticks("cpu  1 x 3\n"), None);
    }

    #[test]
    fn a_sample_counts_forward() {
        let first = CpuSample::now().expect("/proc/stat");
        let used = first.since().expect("/proc/stat");
        assert!(used.busy_secs >= 0.0);
        assert!(used.cpus >= 1);
    }
}
