"""Server-side apply and managedFields over HTTP and through the official `kubernetes` client
(kube-apiserver 1.32's behaviour: handlers/patch.go's applyPatcher, the managedfields package)."""
from __future__ import annotations

import json

import pytest
import requests
import yaml

from tests.builders import MakePod, MakeReplicaSet
from tests.conftest import wait_until


APPLY = "application/apply-patch+yaml"


@pytest.fixture(scope="module")
def base(pilothouse_server, module_cluster):
    return pilothouse_server.cluster_url(module_cluster("server-side-apply", speed=20))


def apply(base, name: str, body: dict | str, manager: str | None = "tester", **query) -> requests.Response:
    params = dict(query)
    if manager is not None:
        params["fieldManager"] = manager
    data = body if isinstance(body, str) else yaml.safe_dump(body)
    return requests.patch(f"{base}/apis/apps/v1/namespaces/default/replicasets/{name}", params=params,
                          data=data, headers={"Content-Type": APPLY}, timeout=10)


def managers(obj: dict) -> dict[tuple, dict]:
    return {(e["manager"], e["operation"], e.get("subresource", "")): e for e in obj["metadata"]["managedFields"]}


def test_apply_creates_then_updates_and_owns_its_fields(base):
    r = apply(base, "ssa-a", MakeReplicaSet().name("ssa-a").labels({"app": "ssa-a"}).replicas(0).selector({"app": "ssa-a"}).template(MakePod().labels({"app": "ssa-a"}).container("nginx", name="web")).manifest())
    assert r.status_code == 201, r.text
    obj = r.json()
    assert obj["metadata"]["uid"] and obj["spec"]["replicas"] == 0
    entry = managers(obj)[("tester", "Apply", "")]
    assert entry["apiVersion"] == "apps/v1" and entry["fieldsType"] == "FieldsV1" and entry["time"]
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {"f:app": {}}}
    assert entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}

    r = apply(base, "ssa-a", MakeReplicaSet().name("ssa-a").labels({"app": "ssa-a"}).replicas(0).selector({"app": "ssa-a"}).template(MakePod().labels({"app": "ssa-a"}).container("nginx:1.27", name="web")).manifest())
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    # Dropping a label from the configuration removes it (the applier owned it alone).
    r = apply(base, "ssa-a", MakeReplicaSet().name("ssa-a").replicas(0).selector({"app": "ssa-a"}).template(MakePod().labels({"app": "ssa-a"}).container("nginx:1.27", name="web")).manifest())
    assert "labels" not in r.json()["metadata"] or "app" not in r.json()["metadata"]["labels"]


def test_conflicts_are_409_with_causes_and_force_takes_over(base):
    assert apply(base, "ssa-b", MakeReplicaSet().name("ssa-b").replicas(0).selector({"app": "ssa-b"}).template(MakePod().labels({"app": "ssa-b"}).container("nginx", name="web")).manifest()).status_code == 201
    r = apply(base, "ssa-b", MakeReplicaSet().name("ssa-b").replicas(1).selector({"app": "ssa-b"}).template(MakePod().labels({"app": "ssa-b"}).container("nginx", name="web")).manifest(), manager="other")
    assert r.status_code == 409
    status = r.json()
    assert status["reason"] == "Conflict"
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "tester": .spec.replicas'
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "tester"',
                                            "field": ".spec.replicas"}]
    # The same value is shared, not a conflict.
    assert apply(base, "ssa-b", MakeReplicaSet().name("ssa-b").replicas(0).selector({"app": "ssa-b"}).template(MakePod().labels({"app": "ssa-b"}).container("nginx", name="web")).manifest(), manager="other").status_code == 200
    r = apply(base, "ssa-b", MakeReplicaSet().name("ssa-b").replicas(1).selector({"app": "ssa-b"}).template(MakePod().labels({"app": "ssa-b"}).container("nginx", name="web")).manifest(), manager="other", force="true")
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 1
    m = managers(r.json())
    assert "f:replicas" in m[("other", "Apply", "")]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in m[("tester", "Apply", "")]["fieldsV1"]["f:spec"]


def test_apply_needs_a_field_manager_and_force_only_applies(base):
    r = apply(base, "ssa-c", MakeReplicaSet().name("ssa-c").replicas(0).selector({"app": "ssa-c"}).template(MakePod().labels({"app": "ssa-c"}).container("nginx", name="web")).manifest(), manager=None)
    assert r.status_code == 422
    assert r.json()["message"] == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    assert r.json()["details"]["causes"][0]["field"] == "fieldManager"
    r = requests.patch(f"{base}/apis/apps/v1/namespaces/default/replicasets/ssa-c", params={"force": "true"},
                       data="{}", headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
    assert r.status_code == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in r.json()["message"]
    r = apply(base, "ssa-c", MakeReplicaSet().name("ssa-c").replicas(0).selector({"app": "ssa-c"}).template(MakePod().labels({"app": "ssa-c"}).container("nginx", name="web")).manifest(), manager="x" * 129)
    assert r.status_code == 422 and "fieldManager: Too long" in r.json()["message"]


def test_dry_run_writes_nothing(base):
    r = apply(base, "ssa-d", MakeReplicaSet().name("ssa-d").replicas(0).selector({"app": "ssa-d"}).template(MakePod().labels({"app": "ssa-d"}).container("nginx", name="web")).manifest(), dryRun="All")
    assert r.status_code == 201 and r.json()["metadata"]["managedFields"]
    assert requests.get(f"{base}/apis/apps/v1/namespaces/default/replicasets/ssa-d", timeout=10).status_code == 404
    assert apply(base, "ssa-d", MakeReplicaSet().name("ssa-d").replicas(0).selector({"app": "ssa-d"}).template(MakePod().labels({"app": "ssa-d"}).container("nginx", name="web")).manifest()).status_code == 201
    r = apply(base, "ssa-d", MakeReplicaSet().name("ssa-d").replicas(2).selector({"app": "ssa-d"}).template(MakePod().labels({"app": "ssa-d"}).container("nginx", name="web")).manifest(), dryRun="All")
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 2
    got = requests.get(f"{base}/apis/apps/v1/namespaces/default/replicasets/ssa-d", timeout=10).json()
    assert got["spec"]["replicas"] == 0


def test_apply_errors(base):
    r = apply(base, "ssa-e", {**MakeReplicaSet().name("ssa-e").replicas(0).selector({"app": "ssa-e"}).template(MakePod().labels({"app": "ssa-e"}).container("nginx", name="web")).manifest(), "apiVersion": "apps/v1beta1"})
    assert r.status_code == 400
    r = apply(base, "ssa-e", MakeReplicaSet().name("other-name").replicas(0).selector({"app": "other-name"}).template(MakePod().labels({"app": "other-name"}).container("nginx", name="web")).manifest())
    assert r.status_code == 400 and "does not match the name on the URL" in r.json()["message"]
    r = apply(base, "ssa-e", {**MakeReplicaSet().name("ssa-e").replicas(0).selector({"app": "ssa-e"}).template(MakePod().labels({"app": "ssa-e"}).container("nginx", name="web")).manifest(), "metadata": {"name": "ssa-e", "managedFields": [{"manager": "x"}]}})
    assert r.status_code == 400 and r.json()["message"] == "metadata.managedFields must be nil"
    # A duplicate key in an associative list is refused (the configuration is checked strictly).
    body = MakeReplicaSet().name("ssa-e").replicas(0).selector({"app": "ssa-e"}).template(MakePod().labels({"app": "ssa-e"}).container("nginx", name="web")).manifest()
    body["spec"]["template"]["spec"]["containers"].append({"name": "web", "image": "busybox"})
    assert apply(base, "ssa-e", body).status_code >= 400


def test_writes_without_field_manager_use_the_user_agent(base):
    r = requests.post(f"{base}/apis/apps/v1/namespaces/default/replicasets", json=MakeReplicaSet().name("ssa-ua").replicas(0).selector({"app": "ssa-ua"}).template(MakePod().labels({"app": "ssa-ua"}).container("nginx", name="web")).manifest(),
                      headers={"User-Agent": "my-tool/1.2 (linux/amd64)"}, timeout=10)
    assert r.status_code == 201
    assert [(e["manager"], e["operation"]) for e in r.json()["metadata"]["managedFields"]] == [("my-tool", "Update")]
    r = requests.patch(f"{base}/apis/apps/v1/namespaces/default/replicasets/ssa-ua", params={"fieldManager": "labeller"},
                       data=json.dumps({"metadata": {"labels": {"tier": "web"}}}),
                       headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
    entry = managers(r.json())[("labeller", "Update", "")]
    assert entry["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:tier": {}}}}


def test_engine_components_are_managers(base):
    assert apply(base, "ssa-eng", MakeReplicaSet().name("ssa-eng").replicas(1).selector({"app": "ssa-eng"}).template(MakePod().labels({"app": "ssa-eng"}).container("nginx", name="web")).manifest()).status_code == 201

    def pod():
        items = requests.get(f"{base}/api/v1/namespaces/default/pods", params={"labelSelector": "app=ssa-eng"},
                             timeout=10).json()["items"]
        return items[0] if items and items[0]["status"].get("phase") == "Running" else None

    p = wait_until(pod, timeout=30, interval=0.2, message="pod Running")
    m = managers(p)
    assert ("kube-controller-manager", "Update", "") in m
    assert ("kubelet", "Update", "status") in m
    assert "f:ownerReferences" in m[("kube-controller-manager", "Update", "")]["fieldsV1"]["f:metadata"]
    assert "f:phase" in m[("kubelet", "Update", "status")]["fieldsV1"]["f:status"]
    got = requests.get(f"{base}/apis/apps/v1/namespaces/default/replicasets/ssa-eng", timeout=10).json()
    assert ("kube-controller-manager", "Update", "status") in managers(got)


def test_status_apply(base):
    assert apply(base, "ssa-st", MakeReplicaSet().name("ssa-st").replicas(0).selector({"app": "ssa-st"}).template(MakePod().labels({"app": "ssa-st"}).container("nginx", name="web")).manifest()).status_code == 201
    r = requests.patch(f"{base}/apis/apps/v1/namespaces/default/replicasets/ssa-st/status",
                       params={"fieldManager": "st", "force": "true"},
                       data=yaml.safe_dump({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "ssa-st"},
                                            "status": {"observedGeneration": 1, "replicas": 0}}),
                       headers={"Content-Type": APPLY}, timeout=10)
    assert r.status_code == 200, r.text
    assert ("st", "Apply", "status") in managers(r.json())


def test_kubernetes_client_server_side_apply(base):
    from kubernetes import client, dynamic

    cfg = client.Configuration()
    cfg.host = base
    with client.ApiClient(cfg) as api:
        apps = client.AppsV1Api(api)
        got = apps.patch_namespaced_replica_set("ssa-py", "default", MakeReplicaSet().name("ssa-py").replicas(0).selector({"app": "ssa-py"}).template(MakePod().labels({"app": "ssa-py"}).container("nginx", name="web")).manifest(), field_manager="py",
                                                _content_type=APPLY)
        assert got.metadata.name == "ssa-py"
        assert [(e.manager, e.operation) for e in got.metadata.managed_fields] == [("py", "Apply")]
        with pytest.raises(client.ApiException) as err:
            apps.patch_namespaced_replica_set("ssa-py", "default", MakeReplicaSet().name("ssa-py").replicas(3).selector({"app": "ssa-py"}).template(MakePod().labels({"app": "ssa-py"}).container("nginx", name="web")).manifest(), field_manager="py2",
                                              _content_type=APPLY)
        assert err.value.status == 409
        dyn = dynamic.DynamicClient(api)
        rsets = dyn.resources.get(api_version="apps/v1", kind="ReplicaSet")
        out = rsets.server_side_apply(body=MakeReplicaSet().name("ssa-py").replicas(3).selector({"app": "ssa-py"}).template(MakePod().labels({"app": "ssa-py"}).container("nginx", name="web")).manifest(), name="ssa-py", namespace="default",
                                      field_manager="py2", force_conflicts=True)
        assert out.spec.replicas == 3


def test_custom_resources_apply_by_their_schema(base):
    """A custom resource's list and map types come from its CRD (x-kubernetes-list-type map)."""
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "image": {"type": "string"},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
        "tags": {"type": "array", "items": {"type": "string"}}}}}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.ssa.example.com"},
           "spec": {"group": "ssa.example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": schema}}]}}
    r = requests.post(f"{base}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd, timeout=10)
    assert r.status_code == 201, r.text
    url = f"{base}/apis/ssa.example.com/v1/namespaces/default/widgets/w1"

    def put(manager, spec, **query):
        body = {"apiVersion": "ssa.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": spec}
        return requests.patch(url, params={"fieldManager": manager, **query}, data=yaml.safe_dump(body),
                              headers={"Content-Type": APPLY}, timeout=10)

    r = wait_until(lambda: (lambda r: r if r.status_code == 201 else None)(
        put("a", {"image": "x", "ports": [{"name": "http", "port": 80}], "tags": ["t1"]})),
        timeout=20, interval=0.2, message="custom resource applied")
    fields = managers(r.json())[("a", "Apply", "")]["fieldsV1"]["f:spec"]
    assert fields == {"f:image": {}, "f:ports": {'k:{"name":"http"}': {".": {}, "f:name": {}, "f:port": {}}},
                      "f:tags": {}}
    # Another manager adds an item to the associative list: no conflict, both items stay.
    r = put("b", {"ports": [{"name": "https", "port": 443}]})
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["spec"]["ports"]] == ["http", "https"]
    # The atomic list is owned whole: changing it conflicts.
    r = put("b", {"tags": ["t2"]})
    assert r.status_code == 409 and r.json()["details"]["causes"][0]["field"] == ".spec.tags"
