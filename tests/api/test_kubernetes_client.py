"""The Kubernetes-compatible API through the official `kubernetes` Python client."""
from __future__ import annotations

import json

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from tests.builders import MakePod
from tests.conftest import wait_until


def status_of(e: ApiException) -> dict:
    body = json.loads(e.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == e.status
    return body


def test_create_get_and_server_set_fields(kube_client):
    core, _, _ = kube_client
    created = core.create_namespaced_pod("default", MakePod().name("alpha").labels({"app": "alpha"})
                                                    .container("nginx:1.27", name="main", cpu="100m", memory="64Mi")
                                                    .manifest())
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None
    assert created.metadata.namespace == "default"
    got = core.read_namespaced_pod("alpha", "default")
    assert got.metadata.uid == created.metadata.uid
    assert got.spec.containers[0].image == "nginx:1.27"


def test_pod_gets_scheduled_and_runs(kube_client):
    core, _, _ = kube_client
    core.create_namespaced_pod("default", MakePod().name("runner").labels({"app": "runner"})
                                          .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())

    def running():
        p = core.read_namespaced_pod("runner", "default")
        return p if p.status.phase == "Running" else None

    p = wait_until(running, timeout=30, interval=0.2, message="pod runner Running")
    assert p.spec.node_name in {"worker-1", "worker-2", "worker-3", "cp-1"}
    assert p.status.pod_ip
    assert p.status.container_statuses[0].ready is True


def test_list_with_label_and_field_selectors(kube_client):
    core, _, _ = kube_client
    core.create_namespaced_pod("default", MakePod().name("sel-a1").labels({"tier": "a"})
                                          .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())
    core.create_namespaced_pod("default", MakePod().name("sel-a2").labels({"tier": "a"})
                                          .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())
    core.create_namespaced_pod("default", MakePod().name("sel-b1").labels({"tier": "b"})
                                          .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())
    names = sorted(p.metadata.name for p in core.list_namespaced_pod("default", label_selector="tier=a").items)
    assert names == ["sel-a1", "sel-a2"]
    names = sorted(p.metadata.name for p in core.list_namespaced_pod("default", label_selector="tier!=a,tier").items)
    assert names == ["sel-b1"]
    one = core.list_namespaced_pod("default", field_selector="metadata.name=sel-b1").items
    assert [p.metadata.name for p in one] == ["sel-b1"]
    everywhere = core.list_pod_for_all_namespaces(label_selector="tier in (a,b)")
    assert len(everywhere.items) == 3
    assert int(everywhere.metadata.resource_version) > 0


def test_merge_patch_and_stale_update_conflict(kube_client):
    core, _, _ = kube_client
    created = core.create_namespaced_pod("default", MakePod().name("patchme").labels({"app": "patchme"})
                                                    .container("nginx:1.27", name="main", cpu="100m", memory="64Mi")
                                                    .manifest())
    patched = core.patch_namespaced_pod(
        "patchme", "default", {"metadata": {"labels": {"color": "blue"}}},
        _content_type="application/merge-patch+json",
    )
    assert patched.metadata.labels["color"] == "blue"
    assert patched.metadata.labels["app"] == "patchme"
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)

    stale = core.api_client.sanitize_for_serialization(created)
    stale["metadata"]["labels"] = {"app": "patchme", "color": "red"}
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_pod("patchme", "default", stale)
    assert e.value.status == 409
    assert status_of(e.value)["reason"] == "Conflict"


def test_invalid_name_is_422_with_field_causes(kube_client):
    core, _, _ = kube_client
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", MakePod().name("Bad_Name").labels({"app": "Bad_Name"})
                                              .container("nginx:1.27", name="main", cpu="100m", memory="64Mi")
                                              .manifest())
    assert e.value.status == 422
    body = status_of(e.value)
    assert body["reason"] == "Invalid"
    causes = body["details"]["causes"]
    assert any(c["field"] == "metadata.name" for c in causes), causes
    assert "Bad_Name" in body["message"]


def test_missing_pod_is_404_status(kube_client):
    core, _, _ = kube_client
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("ghost", "default")
    assert e.value.status == 404
    body = status_of(e.value)
    assert body["reason"] == "NotFound"
    assert body["details"]["name"] == "ghost"


def test_duplicate_create_is_409_already_exists(kube_client):
    core, _, _ = kube_client
    core.create_namespaced_pod("default", MakePod().name("twice").labels({"app": "twice"})
                                          .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", MakePod().name("twice").labels({"app": "twice"})
                                              .container("nginx:1.27", name="main", cpu="100m", memory="64Mi")
                                              .manifest())
    assert e.value.status == 409
    assert status_of(e.value)["reason"] == "AlreadyExists"


def test_delete_terminates_the_pod(kube_client):
    core, _, _ = kube_client
    core.create_namespaced_pod("default", MakePod().name("doomed").labels({"app": "doomed"})
                                          .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())
    core.delete_namespaced_pod("doomed", "default")

    def gone():
        try:
            core.read_namespaced_pod("doomed", "default")
        except ApiException as e:
            return e.status == 404
        return False

    wait_until(gone, timeout=30, interval=0.2, message="pod doomed to disappear")


def test_watch_streams_added_and_modified(kube_client):
    core, _, _ = kube_client
    listed = core.list_namespaced_pod("default", field_selector="metadata.name=watched")
    core.create_namespaced_pod("default", MakePod().name("watched").labels({"app": "watched"})
                                          .container("nginx:1.27", name="main", cpu="100m", memory="64Mi").manifest())
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_pod, "default", field_selector="metadata.name=watched",
                          resource_version=listed.metadata.resource_version, timeout_seconds=20):
        seen.append((event["type"], event["object"].status.phase))
        if event["object"].status.phase == "Running":
            w.stop()
    assert seen[0][0] == "ADDED"
    assert ("MODIFIED", "Running") in seen


def test_nodes_and_namespaces(kube_client):
    core, _, _ = kube_client
    nodes = sorted(n.metadata.name for n in core.list_node().items)
    assert nodes == ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"]
    node = core.read_node("worker-1")
    assert node.status.capacity["cpu"] == "4"
    namespaces = {n.metadata.name for n in core.list_namespace().items}
    assert {"default", "kube-system"} <= namespaces


def test_replicaset_creates_owned_pods(kube_client):
    core, apps, _ = kube_client
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "frontend"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "frontend"}},
            "template": {"metadata": {"labels": {"app": "frontend"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        },
    }
    created = apps.create_namespaced_replica_set("default", rs)

    def three_running():
        pods = core.list_namespaced_pod("default", label_selector="app=frontend").items
        running = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
        return pods if len(running) == 3 else None

    pods = wait_until(three_running, timeout=40, interval=0.25, message="3 frontend pods Running")
    for p in pods:
        owner = p.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.uid, owner.controller) == ("ReplicaSet", "frontend", created.metadata.uid, True)
    wait_until(lambda: apps.read_namespaced_replica_set("frontend", "default").status.ready_replicas == 3,
               timeout=20, interval=0.25, message="ReplicaSet status readyReplicas=3")
