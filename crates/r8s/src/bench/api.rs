//! `r8s bench api`: create / get / update / list / watch-delivery latency and throughput.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::Api;

use super::progress::Progress;
use super::stats::{millis, Latencies};
use crate::kube_client::client_from;

#[derive(Debug, clap::Args)]
pub struct ApiBenchArgs {
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    /// Operations per phase at concurrency 1.
    #[arg(long, default_value_t = 1000)]
    pub serial: usize,
    /// Operations per phase at high concurrency.
    #[arg(long, default_value_t = 10000)]
    pub parallel: usize,
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Objects in the namespace for the list measurement.
    #[arg(long, default_value_t = 10000)]
    pub list_objects: usize,
    /// Events for the watch-delivery measurement.
    #[arg(long, default_value_t = 1000)]
    pub watch_events: usize,
}

fn config_map(name: String) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name),
            labels: Some([("app".to_string(), "r8s-bench".to_string())].into()),
            ..ObjectMeta::default()
        },
        data: Some([("payload".to_string(), "x".repeat(64))].into()),
        ..ConfigMap::default()
    }
}

/// Run `count` operations with `concurrency` in flight; returns latencies and wall time.
async fn phase<F, Fut>(
    label: &str,
    count: usize,
    concurrency: usize,
    op: F,
) -> anyhow::Result<(Latencies, Duration)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let progress = Progress::new(label, count);
    let started = Instant::now();
    let samples: Vec<Duration> = futures::stream::iter(0..count)
        .map(|i| {
            let fut = op(i);
            let progress = &progress;
            async move {
                let t = Instant::now();
                fut.await?;
                progress.tick();
                Ok::<_, anyhow::Error>(t.elapsed())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    Ok((Latencies::new(samples), started.elapsed()))
}

fn report(name: &str, concurrency: usize, latencies: &Latencies, wall: Duration) {
    let rate = latencies.len() as f64 / wall.as_secs_f64().max(1e-9);
    println!(
        "{name:<8} c={concurrency:<3} n={:<6} p50={:>10} p99={:>10} {:>10.0} ops/s",
        latencies.len(),
        millis(latencies.quantile(0.5)),
        millis(latencies.quantile(0.99)),
        rate
    );
}

pub async fn run(args: ApiBenchArgs) -> anyhow::Result<()> {
    let client = client_from(&args.kubeconfig).await?;
    let namespace = format!("r8s-bench-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: ObjectMeta {
                    name: Some(namespace.clone()),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            },
        )
        .await
        .context("creating the benchmark namespace")?;
    let result = measure(&client, &namespace, &args).await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let _ = maps
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await;
    let _ = namespaces
        .delete(&namespace, &DeleteParams::default())
        .await;
    result
}

async fn measure(
    client: &kube::Client,
    namespace: &str,
    args: &ApiBenchArgs,
) -> anyhow::Result<()> {
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let maps = Arc::new(maps);
    let pp = PostParams::default();
    println!("# r8s bench api — namespace {namespace}");
    for (concurrency, count, prefix) in [
        (1, args.serial, "s"),
        (args.concurrency, args.parallel, "p"),
    ] {
        let (l, wall) = phase("create", count, concurrency, |i| {
            let maps = maps.clone();
            let pp = pp.clone();
            async move {
                maps.create(&pp, &config_map(format!("{prefix}-{i}")))
                    .await?;
                Ok(())
            }
        })
        .await?;
        report("create", concurrency, &l, wall);
        let (l, wall) = phase("get", count, concurrency, |i| {
            let maps = maps.clone();
            async move {
                maps.get(&format!("{prefix}-{i}")).await?;
                Ok(())
            }
        })
        .await?;
        report("get", concurrency, &l, wall);
        let (l, wall) = phase("update", count, concurrency, |i| {
            let maps = maps.clone();
            let pp = pp.clone();
            async move {
                let mut cm = maps.get(&format!("{prefix}-{i}")).await?;
                cm.data
                    .get_or_insert_with(Default::default)
                    .insert("updated".into(), "yes".into());
                maps.replace(&format!("{prefix}-{i}"), &pp, &cm).await?;
                Ok(())
            }
        })
        .await?;
        report("update", concurrency, &l, wall);
    }
    let existing = args.serial + args.parallel;
    if args.list_objects > existing {
        let extra = args.list_objects - existing;
        phase("fill for list", extra, args.concurrency, |i| {
            let maps = maps.clone();
            let pp = pp.clone();
            async move {
                maps.create(&pp, &config_map(format!("l-{i}"))).await?;
                Ok(())
            }
        })
        .await?;
    }
    let mut samples = Vec::new();
    let mut items = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let list = maps.list(&ListParams::default()).await?;
        samples.push(t.elapsed());
        items = list.items.len();
    }
    let l = Latencies::new(samples);
    println!(
        "list     n={items} objects x10: p50={} max={}",
        millis(l.quantile(0.5)),
        millis(l.quantile(1.0))
    );
    watch_delivery(&maps, args.watch_events).await
}

/// Latency from sending a create to its ADDED event arriving on an open watch (an upper bound of
/// delivery after commit: it includes the create itself).
async fn watch_delivery(maps: &Api<ConfigMap>, events: usize) -> anyhow::Result<()> {
    let list = maps.list(&ListParams::default().limit(1)).await?;
    let rv = list.metadata.resource_version.unwrap_or_default();
    let mut stream = maps
        .watch(&WatchParams::default().labels("bench=watch"), &rv)
        .await?
        .boxed();
    let progress = Progress::new("watch delivery", events);
    let mut samples = Vec::with_capacity(events);
    for i in 0..events {
        let mut cm = config_map(format!("w-{i}"));
        cm.metadata.labels = Some([("bench".to_string(), "watch".to_string())].into());
        let sent = Instant::now();
        maps.create(&PostParams::default(), &cm).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
                Ok(Some(Ok(WatchEvent::Added(o))))
                    if o.metadata.name.as_deref() == Some(&format!("w-{i}")) =>
                {
                    samples.push(sent.elapsed());
                    break;
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(None) => anyhow::bail!("watch closed early"),
                Err(_) => anyhow::bail!("no watch event within 10 s"),
            }
        }
        progress.tick();
    }
    let l = Latencies::new(samples);
    println!(
        "watch    n={} create sent -> ADDED received: p50={} p99={}",
        l.len(),
        millis(l.quantile(0.5)),
        millis(l.quantile(0.99))
    );
    Ok(())
}
