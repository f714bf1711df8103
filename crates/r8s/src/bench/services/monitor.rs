//! Watching a node's nftables ruleset change: `nft monitor` as a child process (inside the node's
//! network namespace when asked), every IPv4 address in an added object noted with the moment its
//! line arrived. Works for any nftables-based proxy: r8s's `ip r8s` table as well as kube-proxy's.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;

/// When each address first showed up in the ruleset.
#[derive(Default)]
struct Sightings {
    first_seen: HashMap<Ipv4Addr, Instant>,
    /// Set when `nft monitor` stopped printing.
    ended: bool,
}

/// A running `nft monitor`; killed when dropped.
pub struct RulesetMonitor {
    child: Child,
    log: AddressLog,
    netns: Option<String>,
}

/// The addresses seen so far, filled from a stream of `nft monitor` lines by a reader thread.
#[derive(Clone)]
pub struct AddressLog {
    sightings: Arc<Mutex<Sightings>>,
    /// Bumped after every line that named an address, and when the lines end.
    changes: watch::Receiver<u64>,
}

impl RulesetMonitor {
    /// Start `nft monitor`, in `/run/netns/<netns>` when given.
    pub fn start(netns: Option<&str>) -> anyhow::Result<Self> {
        let mut command = match netns {
            Some(name) => {
                let mut command = Command::new("nsenter");
                command
                    .arg(format!("--net=/run/netns/{name}"))
                    .args(["--", "nft"]);
                command
            }
            None => Command::new("nft"),
        };
        let mut child = command
            .arg("monitor")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting nft monitor")?;
        let stdout = child.stdout.take().context("nft monitor has no stdout")?;
        Ok(Self {
            child,
            log: AddressLog::reading(BufReader::new(stdout)),
            netns: netns.map(str::to_string),
        })
    }

    /// Every IPv4 address in the whole ruleset as it is now (`nft list ruleset`). Slow for big
    /// rulesets; for checking what the monitor may have missed: under heavy churn the kernel
    /// drops netlink events that `nft monitor` cannot read fast enough.
    pub fn list_addresses(&self) -> anyhow::Result<HashSet<Ipv4Addr>> {
        let output = tokio::task::block_in_place(|| {
            nft_in(self.netns.as_deref())
                .args(["list", "ruleset"])
                .stderr(Stdio::inherit())
                .output()
        })
        .context("running nft list ruleset")?;
        anyhow::ensure!(
            output.status.success(),
            "nft list ruleset failed ({})",
            output.status
        );
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .flat_map(added_addresses)
            .collect())
    }

    /// Note the addresses of a listing taken just before `at` that the monitor has not seen.
    pub fn note_listing(&self, listed: &HashSet<Ipv4Addr>, at: Instant) {
        if let Ok(mut sightings) = self.log.sightings.lock() {
            for ip in listed {
                sightings.first_seen.entry(*ip).or_insert(at);
            }
        }
    }

    pub fn log(&self) -> &AddressLog {
        &self.log
    }

    /// Whether `nft monitor` is still running after a moment to subscribe.
    pub async fn check_running(&mut self) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Some(status) = self.child.try_wait().context("nft monitor")? {
            anyhow::bail!("nft monitor exited at once ({status}); run as root, with nft installed");
        }
        Ok(())
    }
}

impl AddressLog {
    /// Read `lines` on a thread of its own until they end.
    pub fn reading(lines: impl BufRead + Send + 'static) -> Self {
        let sightings: Arc<Mutex<Sightings>> = Arc::default();
        let (sender, changes) = watch::channel(0u64);
        let recorder = sightings.clone();
        std::thread::spawn(move || record_lines(lines, &recorder, &sender));
        Self { sightings, changes }
    }

    /// When `ip` first appeared, waiting up to `timeout` for it.
    pub async fn wait_for(&self, ip: Ipv4Addr, timeout: Duration) -> Option<Instant> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.changes.clone();
        loop {
            changes.borrow_and_update();
            {
                let sightings = self.sightings.lock().ok()?;
                if let Some(seen) = sightings.first_seen.get(&ip) {
                    return Some(*seen);
                }
                if sightings.ended {
                    return None;
                }
            }
            tokio::time::timeout_at(deadline, changes.changed())
                .await
                .ok()?
                .ok()?;
        }
    }

    /// How many of `ips` have appeared, and when the last of those did.
    pub fn seen(&self, ips: &[Ipv4Addr]) -> (usize, Option<Instant>) {
        let Ok(sightings) = self.sightings.lock() else {
            return (0, None);
        };
        let times: Vec<Instant> = ips
            .iter()
            .filter_map(|ip| sightings.first_seen.get(ip).copied())
            .collect();
        (times.len(), times.into_iter().max())
    }

    /// Wait until every one of `ips` has appeared (then: when the last did), giving up after
    /// `stall` without a new one.
    pub async fn wait_for_all(&self, ips: &[Ipv4Addr], stall: Duration) -> Result<Instant, usize> {
        let mut changes = self.changes.clone();
        let mut last_count = 0;
        let mut last_progress = tokio::time::Instant::now();
        loop {
            changes.borrow_and_update();
            let (count, latest) = self.seen(ips);
            if count == ips.len() {
                return latest.ok_or(count);
            }
            if count > last_count {
                last_count = count;
                last_progress = tokio::time::Instant::now();
            }
            let wait = tokio::time::timeout_at(last_progress + stall, changes.changed()).await;
            match wait {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => {
                    let (count, _) = self.seen(ips);
                    if count == ips.len() {
                        continue;
                    }
                    return Err(count);
                }
            }
        }
    }
}

impl Drop for RulesetMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `nft`, inside `/run/netns/<netns>` when given.
fn nft_in(netns: Option<&str>) -> Command {
    match netns {
        Some(name) => {
            let mut command = Command::new("nsenter");
            command
                .arg(format!("--net=/run/netns/{name}"))
                .args(["--", "nft"]);
            command
        }
        None => Command::new("nft"),
    }
}

fn record_lines(lines: impl BufRead, sightings: &Mutex<Sightings>, changes: &watch::Sender<u64>) {
    for line in lines.lines() {
        let Ok(line) = line else { break };
        let now = Instant::now();
        let mut named_any = false;
        if let Ok(mut sightings) = sightings.lock() {
            for ip in added_addresses(&line) {
                sightings.first_seen.entry(ip).or_insert(now);
                named_any = true;
            }
        }
        if named_any {
            changes.send_modify(|n| *n += 1);
        }
    }
    if let Ok(mut sightings) = sightings.lock() {
        sightings.ended = true;
    }
    changes.send_modify(|n| *n += 1);
}

/// The IPv4 addresses an `nft monitor` line adds to the ruleset (none for deletions).
pub fn added_addresses(line: &str) -> Vec<Ipv4Addr> {
    if line.trim_start().starts_with("delete") {
        return Vec::new();
    }
    line.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|token| token.trim_matches('.').parse::<Ipv4Addr>().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<Ipv4Addr> {
        list.iter().map(|ip| ip.parse().unwrap()).collect()
    }

    #[test]
    fn dnat_rules_name_their_endpoint() {
        let r8s = "add rule ip r8s endpoint-5ZKQ3M-default/web/tcp/80__198.18.0.12/8080 meta l4proto tcp dnat to 198.18.0.12:8080";
        assert_eq!(added_addresses(r8s), ips(&["198.18.0.12", "198.18.0.12"]));
        let kube_proxy =
            "add rule ip kube-proxy endpoint-XYZ ip saddr 10.180.0.1 jump mark-for-masquerade";
        assert_eq!(added_addresses(kube_proxy), ips(&["10.180.0.1"]));
    }

    #[test]
    fn map_elements_and_prefixes() {
        let line = "add element ip r8s service-ips { 10.43.0.17 . tcp . 80 : goto service-ABC }";
        assert_eq!(added_addresses(line), ips(&["10.43.0.17"]));
        let prefix = "add rule ip r8s nat-prerouting ip daddr 10.43.0.0/16 drop";
        assert_eq!(added_addresses(prefix), ips(&["10.43.0.0"]));
    }

    #[test]
    fn no_false_prefix_matches() {
        // 198.18.0.1 is not in a line that names only 198.18.0.10.
        let line = "add rule ip r8s endpoint-A dnat to 198.18.0.10:80";
        let found = added_addresses(line);
        assert!(!found.contains(&"198.18.0.1".parse().unwrap()));
        assert!(found.contains(&"198.18.0.10".parse().unwrap()));
    }

    #[test]
    fn deletions_and_noise_name_nothing() {
        assert!(added_addresses("delete rule ip r8s endpoint-A handle 12").is_empty());
        assert!(
            added_addresses("delete element ip r8s service-ips { 10.43.0.17 . tcp . 80 }")
                .is_empty()
        );
        assert!(added_addresses("# new generation 42 by process 77 (nft)").is_empty());
        assert!(added_addresses("add chain ip r8s service-ABC").is_empty());
    }

    #[tokio::test]
    async fn waiters_see_addresses_as_lines_arrive() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let log = AddressLog::reading(BufReader::new(reader));
        let all = ips(&["198.18.0.5", "198.18.0.6"]);
        let feeder = std::thread::spawn(move || {
            use std::io::Write;
            std::thread::sleep(Duration::from_millis(50));
            writeln!(writer, "add rule ip r8s e dnat to 198.18.0.5:80").unwrap();
            std::thread::sleep(Duration::from_millis(50));
            writeln!(writer, "add rule ip r8s e dnat to 198.18.0.6:80").unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        let started = Instant::now();
        let six = log.wait_for(all[1], Duration::from_secs(5)).await.unwrap();
        assert!(six.duration_since(started) >= Duration::from_millis(90));
        assert_eq!(
            log.wait_for_all(&all, Duration::from_secs(5)).await,
            Ok(six)
        );
        assert_eq!(log.seen(&all).0, 2);
        let never = "198.18.0.7".parse().unwrap();
        assert_eq!(log.wait_for(never, Duration::from_millis(50)).await, None);
        feeder.join().unwrap();
        // The lines ended: waiting gives up at once, and wait_for_all reports how far it got.
        assert_eq!(log.wait_for(never, Duration::from_secs(30)).await, None);
        let more = ips(&["198.18.0.5", "198.18.0.7"]);
        assert_eq!(
            log.wait_for_all(&more, Duration::from_secs(30)).await,
            Err(1)
        );
    }
}
