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

    # deletecollection answers with the list of what it deleted, each object whole, in list
    # order: more objects than the server deletes at once (--delete-collection-workers, 16).
    names = [f"py-batch-{i:02}" for i in range(40)]
    for i, name in enumerate(names):
        batch = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name, labels={"py-batch": "yes"}),
            data={"i": str(i)},
        )
        core.create_namespaced_config_map("default", batch)
    answer = core.delete_collection_namespaced_config_map(
        "default", label_selector="py-batch=yes", _preload_content=False
    )
    deleted = json.loads(answer.data)
    assert deleted["kind"] == "ConfigMapList", deleted
    assert [(c["metadata"]["name"], c["data"]["i"]) for c in deleted["items"]] == [
        (name, str(i)) for i, name in enumerate(names)
    ], deleted
    assert all(c["metadata"]["resourceVersion"] for c in deleted["items"]), deleted
    assert not core.list_namespaced_config_map("default", label_selector="py-batch=yes").items

    # A deletion that fails fails the request with upstream's Status, and one whose every
    # deletion fails changes nothing.
    for name in names[:20]:
        core.create_namespaced_config_map(
            "default",
            client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"py-batch": "yes"})),
        )
    try:
        core.delete_collection_namespaced_config_map(
            "default",
            label_selector="py-batch=yes",
            body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-a-uid")),
        )
        raise AssertionError("deletecollection with a uid no object has succeeded")
    except client.exceptions.ApiException as failure:
        status = json.loads(failure.body)
        assert failure.status == 409 and status["reason"] == "Conflict", failure.body
        assert "Precondition failed: UID in precondition: not-a-uid" in status["message"], failure.body
    left = core.list_namespaced_config_map("default", label_selector="py-batch=yes").items
    assert sorted(c.metadata.name for c in left) == names[:20], left
    core.delete_collection_namespaced_config_map("default", label_selector="py-batch=yes")

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
