"""The official Python client against r8s: ConfigMaps and Deployments, create/list/patch/watch/delete/deletecollection."""
import json
import sys
import threading

from kubernetes import client, config, watch


def main(kubeconfig: str) -> None:
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    events = []
    ready = threading.Event()

    def watch_configmaps() -> None:
        w = watch.Watch()
        ready.set()
        for event in w.stream(core.list_namespaced_config_map, "default", timeout_seconds=10):
            name = event["object"].metadata.name
            if name == "py-settings":
                events.append(event["type"])
            if event["type"] == "DELETED" and name == "py-settings":
                w.stop()

    watcher = threading.Thread(target=watch_configmaps)
    watcher.start()
    ready.wait()

    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-settings"), data={"a": "1"})
    core.create_namespaced_config_map("default", cm)
    names = [c.metadata.name for c in core.list_namespaced_config_map("default").items]
    assert "py-settings" in names, names
    core.patch_namespaced_config_map("py-settings", "default", {"data": {"b": "2"}})
    got = core.read_namespaced_config_map("py-settings", "default")
    assert got.data == {"a": "1", "b": "2"}, got.data
    core.delete_namespaced_config_map("py-settings", "default")
    watcher.join(timeout=15)
    assert events[:1] == ["ADDED"] and "MODIFIED" in events and events[-1] == "DELETED", events

    # deletecollection answers with the list of what it deleted, each object whole.
    for i in range(3):
        batch = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"py-batch-{i}", labels={"py-batch": "yes"}),
            data={"i": str(i)},
        )
        core.create_namespaced_config_map("default", batch)
    answer = core.delete_collection_namespaced_config_map(
        "default", label_selector="py-batch=yes", _preload_content=False
    )
    deleted = json.loads(answer.data)
    assert deleted["kind"] == "ConfigMapList", deleted
    assert sorted((c["metadata"]["name"], c["data"]["i"]) for c in deleted["items"]) == [
        ("py-batch-0", "0"), ("py-batch-1", "1"), ("py-batch-2", "2")
    ], deleted
    assert all(c["metadata"]["resourceVersion"] for c in deleted["items"]), deleted
    assert not core.list_namespaced_config_map("default", label_selector="py-batch=yes").items

    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
            ),
        ),
    )
    apps.create_namespaced_deployment("default", deployment)
    apps.patch_namespaced_deployment("py-web", "default", {"spec": {"replicas": 5}})
    listed = apps.list_namespaced_deployment("default", label_selector="").items
    assert [d.spec.replicas for d in listed if d.metadata.name == "py-web"] == [5]
    apps.delete_namespaced_deployment("py-web", "default")
    assert all(d.metadata.name != "py-web" for d in apps.list_namespaced_deployment("default").items)
    print("python client: ok")


if __name__ == "__main__":
    main(sys.argv[1])
