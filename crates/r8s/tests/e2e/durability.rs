//! kill -9 during a write burst loses no acknowledged write.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Api;

use crate::harness::Server;

async fn client(s: &Server) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(s.kubeconfig()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

#[test]
fn kill_during_write_burst_loses_no_acknowledged_write() {
    let mut s = Server::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let pid = s.pid();
    runtime.block_on(async {
        let maps: Api<ConfigMap> = Api::namespaced(client(&s).await, "default");
        let acked = acknowledged.clone();
        let burst = futures::stream::iter(0..100_000)
            .map(|i| {
                let maps = maps.clone();
                let acked = acked.clone();
                async move {
                    let cm = ConfigMap {
                        metadata: ObjectMeta {
                            name: Some(format!("burst-{i}")),
                            ..ObjectMeta::default()
                        },
                        ..ConfigMap::default()
                    };
                    if maps.create(&PostParams::default(), &cm).await.is_ok() {
                        acked.lock().unwrap().push(format!("burst-{i}"));
                    }
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>();
        let killer = async {
            while acked.lock().unwrap().len() < 300 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        };
        tokio::select! {
            _ = burst => {}
            _ = async { killer.await; tokio::time::sleep(Duration::from_secs(3)).await } => {}
        }
    });
    s.kill();
    s.kill_and_restart();
    let names = s.ok(&["get", "configmaps", "-o", "name"]);
    let acked = acknowledged.lock().unwrap().clone();
    assert!(acked.len() >= 300);
    for name in &acked {
        assert!(
            names.contains(&format!("configmap/{name}\n")),
            "acknowledged {name} was lost"
        );
    }
}
