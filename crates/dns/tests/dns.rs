//! The DNS server on loopback against an in-process API server: queries over UDP and TCP see
//! Services and EndpointSlices as they change, and the server registers itself.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Api;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

struct Harness {
    client: kube::Client,
    dns: SocketAddr,
    cancel: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn start() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let started = apiserver::run(
        apiserver::ServeOptions::loopback(&dir.path().join("server")),
        cancel.clone(),
    )
    .await
    .unwrap();
    let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let node: Node = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}}),
    )
    .unwrap();
    Api::<Node>::all(client.clone())
        .create(&PostParams::default(), &node)
        .await
        .unwrap();

    let mut options = dns::DnsOptions::new(
        "node-a",
        IpAddr::from([127, 0, 0, 1]),
        IpAddr::from([10, 43, 0, 10]),
        "cluster.local",
    );
    options.port = 0;
    options.resolv_conf = dir.path().join("no-resolv.conf");
    let bound = dns::bind(options).await.unwrap();
    let dns = bound.local_addr().unwrap();
    tokio::spawn(bound.serve(client.clone(), cancel.clone()));
    Harness {
        client,
        dns,
        cancel,
        _dir: dir,
    }
}

async fn create<K>(client: &kube::Client, namespace: &str, object: serde_json::Value)
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let object: K = serde_json::from_value(object).unwrap();
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    api.create(&PostParams::default(), &object).await.unwrap();
}

fn query(name: &str, record_type: RecordType) -> Vec<u8> {
    let mut message = Message::query();
    message.metadata.id = 0x4242;
    message.metadata.recursion_desired = true;
    message.add_query(hickory_proto::op::Query::query(
        Name::from_ascii(name).unwrap(),
        record_type,
    ));
    message.to_vec().unwrap()
}

async fn ask_udp(server: SocketAddr, name: &str, record_type: RecordType) -> Message {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&query(name, record_type), server)
        .await
        .unwrap();
    let mut buffer = vec![0; 4096];
    let length = tokio::time::timeout(Duration::from_secs(10), socket.recv(&mut buffer))
        .await
        .expect("a UDP answer")
        .unwrap();
    Message::from_vec(&buffer[..length]).unwrap()
}

async fn ask_tcp(server: SocketAddr, name: &str, record_type: RecordType) -> Message {
    let mut stream = TcpStream::connect(server).await.unwrap();
    let query = query(name, record_type);
    stream
        .write_all(&(query.len() as u16).to_be_bytes())
        .await
        .unwrap();
    stream.write_all(&query).await.unwrap();
    let length = stream.read_u16().await.unwrap();
    let mut answer = vec![0; usize::from(length)];
    stream.read_exact(&mut answer).await.unwrap();
    Message::from_vec(&answer).unwrap()
}

fn addresses(message: &Message) -> Vec<String> {
    let mut addresses: Vec<String> = message
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(a) => Some(a.to_string()),
            _ => None,
        })
        .collect();
    addresses.sort();
    addresses
}

/// Asks until `check` holds (the watches deliver changes asynchronously).
async fn eventually(server: SocketAddr, name: &str, check: impl Fn(&Message) -> bool) -> Message {
    for _ in 0..100 {
        let answer = ask_udp(server, name, RecordType::A).await;
        if check(&answer) {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} never answered as expected");
}

#[tokio::test]
async fn answers_cluster_names_from_services_and_endpoint_slices() {
    let harness = start().await;
    let dns = harness.dns;

    // The `kubernetes` Service exists from bootstrap.
    let answer = eventually(dns, "kubernetes.default.svc.cluster.local.", |answer| {
        !answer.answers.is_empty()
    })
    .await;
    assert_eq!(addresses(&answer), ["10.43.0.1"]);
    assert!(answer.metadata.authoritative);
    let answer = ask_tcp(dns, "kubernetes.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(addresses(&answer), ["10.43.0.1"]);

    // A new headless Service and its endpoints show up within a second or so.
    create::<Service>(
        &harness.client,
        "default",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "db", "namespace": "default"},
               "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}}),
    )
    .await;
    create::<EndpointSlice>(
        &harness.client,
        "default",
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": "db-1", "namespace": "default",
                            "labels": {"kubernetes.io/service-name": "db"}},
               "addressType": "IPv4",
               "endpoints": [{"addresses": ["10.42.0.5"], "conditions": {"ready": true},
                              "hostname": "db-0"},
                             {"addresses": ["10.42.0.6"], "conditions": {"ready": false}}],
               "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}),
    )
    .await;
    let answer = eventually(dns, "db.default.svc.cluster.local.", |answer| {
        !answer.answers.is_empty()
    })
    .await;
    assert_eq!(addresses(&answer), ["10.42.0.5"]);
    let answer = ask_udp(dns, "db-0.db.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(addresses(&answer), ["10.42.0.5"]);
    let answer = ask_udp(
        dns,
        "_pg._tcp.db.default.svc.cluster.local.",
        RecordType::SRV,
    )
    .await;
    assert_eq!(answer.answers.len(), 1);
    let answer = ask_udp(dns, "5.0.42.10.in-addr.arpa.", RecordType::PTR).await;
    assert_eq!(answer.answers.len(), 1, "{answer:?}");

    // An ExternalName answers its CNAME and, for a cluster target, the target's address.
    create::<Service>(
        &harness.client,
        "default",
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "alias", "namespace": "default"},
               "spec": {"type": "ExternalName",
                        "externalName": "kubernetes.default.svc.cluster.local"}}),
    )
    .await;
    let answer = eventually(dns, "alias.default.svc.cluster.local.", |answer| {
        answer.answers.len() == 2
    })
    .await;
    assert!(matches!(answer.answers[0].data, RData::CNAME(_)));
    assert_eq!(addresses(&answer), ["10.43.0.1"]);

    // Missing names are NXDOMAIN with the zone's SOA; AAAA is empty.
    let answer = ask_udp(dns, "nope.default.svc.cluster.local.", RecordType::A).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(answer.authorities.len(), 1);
    let answer = ask_udp(
        dns,
        "kubernetes.default.svc.cluster.local.",
        RecordType::AAAA,
    )
    .await;
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
    assert!(answer.answers.is_empty());

    // Without upstream nameservers, other names fail at once.
    let answer = ask_udp(dns, "example.com.", RecordType::A).await;
    assert_eq!(answer.metadata.response_code, ResponseCode::ServFail);

    // Deleting the Service removes its name.
    Api::<Service>::namespaced(harness.client.clone(), "default")
        .delete("db", &DeleteParams::default())
        .await
        .unwrap();
    let answer = eventually(dns, "db.default.svc.cluster.local.", |answer| {
        answer.metadata.response_code == ResponseCode::NXDomain
    })
    .await;
    assert!(answer.answers.is_empty());
}

#[tokio::test]
async fn registers_the_kube_dns_service_and_this_nodes_endpoint_slice() {
    let harness = start().await;
    let slices: Api<EndpointSlice> = Api::namespaced(harness.client.clone(), "kube-system");
    let mut slice = None;
    for _ in 0..100 {
        if let Some(found) = slices.get_opt("kube-dns-node-a").await.unwrap() {
            slice = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let slice = slice.expect("the node's kube-dns EndpointSlice");
    assert_eq!(slice.endpoints[0].addresses, ["127.0.0.1"]);
    let ports = slice.ports.unwrap();
    assert!(ports
        .iter()
        .all(|port| port.port == Some(i32::from(harness.dns.port()))));
    let owner = &slice.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Node", "node-a")
    );

    let service = Api::<Service>::namespaced(harness.client.clone(), "kube-system")
        .get("kube-dns")
        .await
        .unwrap();
    assert_eq!(
        service.spec.unwrap().cluster_ip.as_deref(),
        Some("10.43.0.10")
    );

    // The server answers for its own Service too, once the watch has it.
    let answer = eventually(
        harness.dns,
        "kube-dns.kube-system.svc.cluster.local.",
        |answer| !answer.answers.is_empty(),
    )
    .await;
    assert_eq!(addresses(&answer), ["10.43.0.10"]);
}
