//! Prometheus metrics with upstream's core series names.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upstream's apiserver_request_duration_seconds buckets (a subset).
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 10.0,
    15.0, 30.0, 60.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            let n = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Series {
    requests: BTreeMap<(String, String, u16), u64>,
    durations: BTreeMap<(String, String), Histogram>,
    storage: BTreeMap<(String, String), Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<Series>,
    readonly_inflight: AtomicI64,
    mutating_inflight: AtomicI64,
}

fn verb_label(verb: &str) -> String {
    verb.to_uppercase()
}

impl Metrics {
    pub fn inflight_started(&self, mutating: bool) {
        let gauge = if mutating {
            &self.mutating_inflight
        } else {
            &self.readonly_inflight
        };
        gauge.fetch_add(1, Ordering::Relaxed);
    }

    pub fn inflight_finished(&self, mutating: bool) {
        let gauge = if mutating {
            &self.mutating_inflight
        } else {
            &self.readonly_inflight
        };
        gauge.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn observe_request(&self, verb: &str, resource: &str, code: u16, elapsed: Duration) {
        if let Ok(mut series) = self.series.lock() {
            *series
                .requests
                .entry((verb_label(verb), resource.to_string(), code))
                .or_default() += 1;
            series
                .durations
                .entry((verb_label(verb), resource.to_string()))
                .or_default()
                .observe(elapsed.as_secs_f64());
        }
    }

    pub fn observe_storage(&self, operation: &str, resource: &str, elapsed: Duration) {
        if let Ok(mut series) = self.series.lock() {
            series
                .storage
                .entry((operation.to_string(), resource.to_string()))
                .or_default()
                .observe(elapsed.as_secs_f64());
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, watchers: usize, objects: &[(String, usize)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, resource and HTTP response code.\n# TYPE apiserver_request_total counter\n");
        let Ok(series) = self.series.lock() else {
            return out;
        };
        for ((verb, resource, code), n) in &series.requests {
            let _ = writeln!(
                out,
                "apiserver_request_total{{code=\"{code}\",resource=\"{resource}\",verb=\"{verb}\"}} {n}"
            );
        }
        out.push_str("# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb and resource.\n# TYPE apiserver_request_duration_seconds histogram\n");
        for ((verb, resource), h) in &series.durations {
            h.render(
                &mut out,
                "apiserver_request_duration_seconds",
                &format!("resource=\"{resource}\",verb=\"{verb}\""),
            );
        }
        out.push_str("# HELP etcd_request_duration_seconds Storage request latency in seconds for each operation and resource.\n# TYPE etcd_request_duration_seconds histogram\n");
        for ((operation, resource), h) in &series.storage {
            h.render(
                &mut out,
                "etcd_request_duration_seconds",
                &format!("operation=\"{operation}\",type=\"{resource}\""),
            );
        }
        out.push_str("# HELP apiserver_current_inflight_requests Maximal number of currently used inflight request limit of this apiserver per request kind in last second.\n# TYPE apiserver_current_inflight_requests gauge\n");
        let _ = writeln!(
            out,
            "apiserver_current_inflight_requests{{request_kind=\"readOnly\"}} {}",
            self.readonly_inflight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "apiserver_current_inflight_requests{{request_kind=\"mutating\"}} {}",
            self.mutating_inflight.load(Ordering::Relaxed)
        );
        out.push_str("# HELP apiserver_longrunning_requests Gauge of all active long-running apiserver requests.\n# TYPE apiserver_longrunning_requests gauge\n");
        let _ = writeln!(
            out,
            "apiserver_longrunning_requests{{verb=\"WATCH\"}} {watchers}"
        );
        out.push_str("# HELP apiserver_storage_objects Number of stored objects at the time of last check split by kind.\n# TYPE apiserver_storage_objects gauge\n");
        for (resource, n) in objects {
            let _ = writeln!(
                out,
                "apiserver_storage_objects{{resource=\"{resource}\"}} {n}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.observe_request("list", "pods", 200, Duration::from_millis(3));
        let text = m.render(2, &[("pods".into(), 5)]);
        assert!(text
            .contains("apiserver_request_total{code=\"200\",resource=\"pods\",verb=\"LIST\"} 1"));
        assert!(text.contains("apiserver_request_duration_seconds_bucket{resource=\"pods\",verb=\"LIST\",le=\"0.005\"} 1"));
        assert!(text.contains("apiserver_longrunning_requests{verb=\"WATCH\"} 2"));
    }
}
