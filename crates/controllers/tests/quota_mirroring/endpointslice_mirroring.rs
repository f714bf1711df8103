use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use crate::harness::{eventually, Cluster, WAIT};

const MANAGED_BY: &str =
    "endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io";

fn service(name: &str) -> Service {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    }))
    .unwrap()
}

fn endpoints(name: &str, labels: serde_json::Value, ready: &[&str]) -> Endpoints {
    let addresses: Vec<serde_json::Value> = ready
        .iter()
        .map(|ip| serde_json::json!({"ip": ip}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": labels},
        "subsets": [{
            "addresses": addresses,
            "notReadyAddresses": [{"ip": "10.9.0.9"}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        }]
    }))
    .unwrap()
}

fn mirrored_of(name: &str) -> ListParams {
    ListParams::default().labels(&format!("kubernetes.io/service-name={name},{MANAGED_BY}"))
}

/// (address type, [(address, ready)]) of each slice, sorted.
fn summary(slices: &[EndpointSlice]) -> Vec<(String, Vec<(String, bool)>)> {
    let mut summary: Vec<(String, Vec<(String, bool)>)> = slices
        .iter()
        .map(|s| {
            let endpoints = s
                .endpoints
                .iter()
                .map(|e| {
                    let ready = e.conditions.as_ref().and_then(|c| c.ready) == Some(true);
                    (e.addresses[0].clone(), ready)
                })
                .collect();
            (s.address_type.clone(), endpoints)
        })
        .collect();
    summary.sort();
    summary
}

fn owned(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    list.iter().map(|(a, r)| (a.to_string(), *r)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirrors_hand_made_endpoints_of_selectorless_services() {
    let cluster = Cluster::start().await;
    let client = cluster.client.clone();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let all_endpoints: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");

    let skip = serde_json::json!({"endpointslice.kubernetes.io/skip-mirror": "true"});
    services
        .create(&PostParams::default(), &service("skipped"))
        .await
        .unwrap();
    all_endpoints
        .create(
            &PostParams::default(),
            &endpoints("skipped", skip, &["10.9.0.1"]),
        )
        .await
        .unwrap();
    services
        .create(&PostParams::default(), &service("external"))
        .await
        .unwrap();
    let created = all_endpoints
        .create(
            &PostParams::default(),
            &endpoints(
                "external",
                serde_json::json!({"team": "db"}),
                &["10.9.0.2", "fd00::2"],
            ),
        )
        .await
        .unwrap();

    let mirrored = eventually("mirrored slices", WAIT, || async {
        let list = slices.list(&mirrored_of("external")).await.unwrap().items;
        (summary(&list)
            == [
                (
                    "IPv4".to_string(),
                    owned(&[("10.9.0.2", true), ("10.9.0.9", false)]),
                ),
                ("IPv6".to_string(), owned(&[("fd00::2", true)])),
            ])
        .then_some(list)
    })
    .await;
    for slice in &mirrored {
        let owner = &slice.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(owner.kind, "Endpoints");
        assert_eq!(owner.uid, created.metadata.uid.clone().unwrap());
        assert_eq!(slice.metadata.labels.as_ref().unwrap()["team"], "db");
        let port = &slice.ports.as_ref().unwrap()[0];
        assert_eq!(
            (port.name.as_deref(), port.port),
            (Some("http"), Some(8080))
        );
    }
    let skipped = slices.list(&mirrored_of("skipped")).await.unwrap().items;
    assert!(skipped.is_empty(), "skip-mirror endpoints were mirrored");
    let api_server = slices.list(&mirrored_of("kubernetes")).await.unwrap().items;
    assert!(api_server.is_empty(), "the kubernetes service was mirrored");

    // Changed Endpoints are followed.
    let mut changed = all_endpoints.get("external").await.unwrap();
    changed.subsets = endpoints("external", serde_json::json!({}), &["10.9.0.3"]).subsets;
    all_endpoints
        .replace("external", &PostParams::default(), &changed)
        .await
        .unwrap();
    eventually("updated slices", WAIT, || async {
        let list = slices.list(&mirrored_of("external")).await.unwrap().items;
        (summary(&list)
            == [(
                "IPv4".to_string(),
                owned(&[("10.9.0.3", true), ("10.9.0.9", false)]),
            )])
        .then_some(())
    })
    .await;

    // Deleting the Service removes the slices; the Endpoints stays.
    services
        .delete("external", &DeleteParams::default())
        .await
        .unwrap();
    eventually("slices removed with the service", WAIT, || async {
        let list = slices.list(&mirrored_of("external")).await.unwrap().items;
        list.is_empty().then_some(())
    })
    .await;
    assert!(all_endpoints.get_opt("external").await.unwrap().is_some());

    // Back with the Service; deleting the Endpoints lets the garbage collector remove the
    // slices it owns.
    services
        .create(&PostParams::default(), &service("external"))
        .await
        .unwrap();
    eventually("slices back with the service", WAIT, || async {
        let list = slices.list(&mirrored_of("external")).await.unwrap().items;
        (!list.is_empty()).then_some(())
    })
    .await;
    all_endpoints
        .delete("external", &DeleteParams::default())
        .await
        .unwrap();
    eventually("slices removed with the endpoints", WAIT, || async {
        let list = slices.list(&mirrored_of("external")).await.unwrap().items;
        list.is_empty().then_some(())
    })
    .await;

    // A Service that gets a selector is no longer mirrored.
    all_endpoints
        .create(
            &PostParams::default(),
            &endpoints("external", serde_json::json!({}), &["10.9.0.4"]),
        )
        .await
        .unwrap();
    eventually("slices back with the endpoints", WAIT, || async {
        let list = slices.list(&mirrored_of("external")).await.unwrap().items;
        (!list.is_empty()).then_some(())
    })
    .await;
    let mut selecting = services.get("external").await.unwrap();
    if let Some(spec) = selecting.spec.as_mut() {
        spec.selector = Some([("app".to_string(), "db".to_string())].into());
    }
    services
        .replace("external", &PostParams::default(), &selecting)
        .await
        .unwrap();
    eventually("slices removed when the service selects", WAIT, || async {
        let list = slices.list(&mirrored_of("external")).await.unwrap().items;
        list.is_empty().then_some(())
    })
    .await;
}
