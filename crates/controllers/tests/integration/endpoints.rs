use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

use crate::harness::{eventually, Cluster, WAIT};

fn pod(name: &str, ip: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"app": "api"}},
        "spec": {"containers": [{"name": "c", "image": "nginx",
                 "ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"podIP": ip}
    }))
    .unwrap()
}

async fn set_pod_status(pods: &Api<Pod>, name: &str, ip: &str, ready: bool) {
    let status = serde_json::json!({"status": {
        "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]
    }});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

fn ips(addresses: Option<&Vec<k8s_openapi::api::core::v1::EndpointAddress>>) -> Vec<String> {
    addresses
        .map(|a| a.iter().map(|a| a.ip.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_and_slices_follow_ready_pods() {
    let cluster = Cluster::start().await;
    let services: Api<Service> = Api::namespaced(cluster.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), "default");
    let service: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "api"},
        "spec": {"selector": {"app": "api"},
                 "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}
    }))
    .unwrap();
    services
        .create(&PostParams::default(), &service)
        .await
        .unwrap();
    for (name, ip) in [("api-a", "10.42.0.5"), ("api-b", "10.42.0.6")] {
        pods.create(&PostParams::default(), &pod(name, ip))
            .await
            .unwrap();
    }
    set_pod_status(&pods, "api-a", "10.42.0.5", true).await;
    set_pod_status(&pods, "api-b", "10.42.0.6", false).await;

    let endpoints: Api<Endpoints> = Api::namespaced(cluster.client.clone(), "default");
    eventually("one ready and one not-ready address", WAIT, || async {
        let e = endpoints.get_opt("api").await.unwrap()?;
        let subset = e.subsets?.into_iter().next()?;
        let port = subset.ports.as_ref()?.first()?.port;
        (ips(subset.addresses.as_ref()) == ["10.42.0.5"]
            && ips(subset.not_ready_addresses.as_ref()) == ["10.42.0.6"]
            && port == 8080)
            .then_some(())
    })
    .await;

    let slices: Api<EndpointSlice> = Api::namespaced(cluster.client.clone(), "default");
    let by_service = ListParams::default().labels("kubernetes.io/service-name=api");
    eventually("slice with ready conditions", WAIT, || async {
        let list = slices.list(&by_service).await.unwrap().items;
        let slice = list.first()?;
        let managed = slice
            .metadata
            .labels
            .as_ref()?
            .get("endpointslice.kubernetes.io/managed-by")?;
        let ready: Vec<(String, bool)> = slice
            .endpoints
            .iter()
            .map(|e| {
                (
                    e.addresses[0].clone(),
                    e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false),
                )
            })
            .collect();
        (list.len() == 1
            && managed == "endpointslice-controller.k8s.io"
            && ready
                == [
                    ("10.42.0.5".to_string(), true),
                    ("10.42.0.6".to_string(), false),
                ]
            && slice.ports.as_ref()?.first()?.port == Some(8080))
        .then_some(())
    })
    .await;

    set_pod_status(&pods, "api-b", "10.42.0.6", true).await;
    eventually("both ready", WAIT, || async {
        let e = endpoints.get_opt("api").await.unwrap()?;
        let subset = e.subsets?.into_iter().next()?;
        (ips(subset.addresses.as_ref()) == ["10.42.0.5", "10.42.0.6"]).then_some(())
    })
    .await;

    pods.delete("api-a", &DeleteParams::default())
        .await
        .unwrap();
    eventually("deleted pod leaves endpoints and slices", WAIT, || async {
        let e = endpoints.get_opt("api").await.unwrap()?;
        let subset = e.subsets?.into_iter().next()?;
        let list = slices.list(&by_service).await.unwrap().items;
        let slice_ips: Vec<String> = list
            .first()?
            .endpoints
            .iter()
            .map(|e| e.addresses[0].clone())
            .collect();
        (ips(subset.addresses.as_ref()) == ["10.42.0.6"] && slice_ips == ["10.42.0.6"])
            .then_some(())
    })
    .await;

    // The API server's own Service is left alone.
    let default_endpoints = endpoints.get_opt("kubernetes").await.unwrap();
    if let Some(e) = default_endpoints {
        assert!(e.metadata.owner_references.is_none());
    }
}
