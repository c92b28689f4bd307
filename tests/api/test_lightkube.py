"""The API through `lightkube` (https://github.com/gtsystem/lightkube, MIT), a second maintained
client library with typed models and generic resources: pods CRUD, watch and server-side apply, and
the CronTab CRD flow with `create_namespaced_resource`, the status and scale subresources, a 422,
and the CRD's deletion taking its objects along.  lightkube speaks HTTP through httpx, not urllib3, and builds
its own URLs (a server at a path prefix, /clusters/<name>, must work)."""
from __future__ import annotations

import threading

import pytest
import yaml
from lightkube import ApiError, Client, KubeConfig, codecs
from lightkube.generic_resource import create_namespaced_resource, load_in_cluster_generic_resources
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.models.core_v1 import Container, PodSpec, ResourceRequirements
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import ReplicaSet
from lightkube.resources.core_v1 import Namespace, Node, Pod
from lightkube.types import CascadeType, PatchType

from tests.api.crontab import crontab, crontab_crd
from tests.conftest import wait_until

GROUP = "lightkube.example.com"
CronTab = create_namespaced_resource(GROUP, "v1", "CronTab", "crontabs")


@pytest.fixture(scope="module")
def kube(pilothouse_server, module_cluster):
    name = module_cluster("api-lightkube", speed=20)
    # The README's kubeconfig: a cluster at a path prefix and an empty user (KubeConfig.from_server
    # makes a context without one, which lightkube then refuses: "Missing user").
    config = KubeConfig.from_dict({
        "clusters": [{"name": name, "cluster": {"server": pilothouse_server.cluster_url(name)}}],
        "users": [{"name": "student", "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "student"}}],
        "current-context": name,
    })
    client = Client(config, namespace="default", field_manager="lightkube-test", timeout=30)
    yield client
    client.close()


def make_pod(name: str, labels: dict | None = None) -> Pod:
    return Pod(metadata=ObjectMeta(name=name, labels=labels or {"app": name}),
               spec=PodSpec(containers=[Container(name="main", image="nginx:1.27",
                                                  resources=ResourceRequirements(requests={"cpu": "100m", "memory": "64Mi"}))]))


def test_nodes_and_namespaces(kube):
    assert {"worker-1", "worker-2", "worker-3"} <= {n.metadata.name for n in kube.list(Node)}
    assert kube.get(Node, "worker-1").status.capacity["cpu"] == "4"
    assert {"default", "kube-system"} <= {n.metadata.name for n in kube.list(Namespace)}


def test_pod_crud(kube):
    created = kube.create(make_pod("lk-crud", {"app": "lk-crud", "tier": "a"}))
    assert created.metadata.uid and created.metadata.resourceVersion and created.metadata.namespace == "default"
    got = kube.get(Pod, "lk-crud")
    assert got.metadata.uid == created.metadata.uid and got.spec.containers[0].image == "nginx:1.27"

    assert [p.metadata.name for p in kube.list(Pod, labels={"tier": "a"})] == ["lk-crud"]
    assert [p.metadata.name for p in kube.list(Pod, fields={"metadata.name": "lk-crud"})] == ["lk-crud"]
    # Chunked lists follow `continue`.
    kube.create(make_pod("lk-crud-2", {"app": "lk-crud-2", "tier": "a"}))
    assert sorted(p.metadata.name for p in kube.list(Pod, labels={"tier": "a"}, chunk_size=1)) == ["lk-crud", "lk-crud-2"]

    # lightkube's default patch is a strategic merge patch; merge and JSON patches too.
    patched = kube.patch(Pod, "lk-crud", {"metadata": {"labels": {"color": "blue"}}})
    assert patched.metadata.labels == {"app": "lk-crud", "tier": "a", "color": "blue"}
    patched = kube.patch(Pod, "lk-crud", {"metadata": {"labels": {"color": None}}}, patch_type=PatchType.MERGE)
    assert "color" not in patched.metadata.labels
    patched = kube.patch(Pod, "lk-crud", [{"op": "add", "path": "/metadata/labels/shape", "value": "round"}],
                         patch_type=PatchType.JSON)
    assert patched.metadata.labels["shape"] == "round"

    # The kubelet's status writes may move the pod's resourceVersion between a read and the
    # replace: re-read and retry on a conflict, as client-go's RetryOnConflict does.
    for _ in range(10):
        patched.metadata.labels["replaced"] = "yes"
        try:
            replaced = kube.replace(patched)
            break
        except ApiError as conflict:
            if conflict.status.code != 409:
                raise
            patched = kube.get(Pod, "lk-crud")
    assert replaced.metadata.labels["replaced"] == "yes"
    with pytest.raises(ApiError) as e:
        kube.replace(patched)  # its resourceVersion is stale now
    assert e.value.status.code == 409 and e.value.status.reason == "Conflict"

    with pytest.raises(ApiError) as e:
        kube.create(make_pod("lk-crud"))
    assert e.value.status.code == 409 and e.value.status.reason == "AlreadyExists"
    with pytest.raises(ApiError) as e:
        kube.create(make_pod("Bad_Name"))
    assert e.value.status.code == 422 and e.value.status.reason == "Invalid"
    assert any(c.field == "metadata.name" for c in e.value.status.details.causes)

    kube.delete(Pod, "lk-crud", grace_period=0)
    kube.delete(Pod, "lk-crud-2", grace_period=0)

    def gone() -> bool:
        try:
            kube.get(Pod, "lk-crud")
        except ApiError as e:
            return e.status.code == 404
        return False

    wait_until(gone, timeout=30, interval=0.2, message="pod lk-crud deleted")


def test_pod_watch(kube):
    listed = kube.list(Pod, fields={"metadata.name": "lk-watched"})
    assert list(listed) == []
    rv = listed.resourceVersion  # known once the list has been read
    seen: list[tuple[str, str | None]] = []

    def run():
        for kind, pod in kube.watch(Pod, fields={"metadata.name": "lk-watched"}, resource_version=rv,
                                    server_timeout=20):
            seen.append((kind, pod.status.phase if pod.status else None))
            if kind == "DELETED":
                return

    t = threading.Thread(target=run, daemon=True)
    t.start()
    kube.create(make_pod("lk-watched"))
    wait_until(lambda: ("MODIFIED", "Running") in seen, timeout=30, interval=0.1, message="the watch to see Running")
    kube.delete(Pod, "lk-watched", grace_period=0)
    t.join(30)
    assert not t.is_alive(), seen
    assert seen[0][0] == "ADDED" and seen[-1][0] == "DELETED"


def test_server_side_apply(kube):
    """lightkube's apply() is a server-side apply (application/apply-patch+yaml)."""
    applied = kube.apply(make_pod("lk-applied", {"app": "lk-applied"}), field_manager="lk-one")
    assert applied.metadata.uid
    assert "lk-one" in [m.manager for m in applied.metadata.managedFields]
    again = kube.apply(make_pod("lk-applied", {"app": "lk-applied", "color": "blue"}), field_manager="lk-one")
    assert again.metadata.labels == {"app": "lk-applied", "color": "blue"}
    with pytest.raises(ApiError) as e:  # another manager wants the field lk-one owns
        kube.apply(make_pod("lk-applied", {"app": "lk-applied", "color": "red"}), field_manager="lk-two")
    assert e.value.status.code == 409 and e.value.status.reason == "Conflict"
    assert [c.field for c in e.value.status.details.causes] == [".metadata.labels.color"]
    forced = kube.apply(make_pod("lk-applied", {"app": "lk-applied", "color": "red"}), field_manager="lk-two",
                        force=True)
    assert forced.metadata.labels["color"] == "red"
    kube.delete(Pod, "lk-applied", grace_period=0)


def test_replicaset_scale(kube):
    rs = ReplicaSet.from_dict({  # lightkube builds its models from dicts too
        "metadata": {"name": "lk-rs"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "lk-rs"}},
                 "template": {"metadata": {"labels": {"app": "lk-rs"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    })
    kube.create(rs)
    assert kube.get(ReplicaSet.Scale, "lk-rs").spec.replicas == 1

    def scaled() -> bool:
        # A Scale carries the ReplicaSet's resourceVersion: the ReplicaSet controller's status
        # writes make a read-modify-write conflict now and then; retry as RetryOnConflict does.
        scale = kube.get(ReplicaSet.Scale, "lk-rs")
        scale.spec.replicas = 2
        try:
            return kube.replace(scale).spec.replicas == 2
        except ApiError as e:
            if e.status.code != 409:
                raise
            return False

    wait_until(scaled, timeout=10, interval=0.05, message="the Scale replaced")
    wait_until(lambda: kube.get(ReplicaSet, "lk-rs").status.readyReplicas == 2, timeout=30, interval=0.2,
               message="ReplicaSet lk-rs ready with 2")
    kube.delete(ReplicaSet, "lk-rs")


def test_crd_flow_with_generic_resources(kube):
    crd = CustomResourceDefinition.from_dict(crontab_crd(GROUP))
    kube.create(crd)
    # lightkube's wait is a watch; the client's 30 s read timeout bounds it.
    kube.wait(CustomResourceDefinition, f"crontabs.{GROUP}", for_conditions=["Established"])

    created = kube.create(CronTab.from_dict(crontab(GROUP, "lk-cron", 2)))
    assert created.kind == "CronTab" and created.apiVersion == f"{GROUP}/v1"
    assert created.metadata.uid and created.spec["replicas"] == 2
    got = kube.get(CronTab, "lk-cron")
    assert got.spec == {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image", "replicas": 2}
    assert [c.metadata.name for c in kube.list(CronTab)] == ["lk-cron"]
    assert [c.metadata.name for c in kube.list(CronTab, namespace="*")] == ["lk-cron"]

    # Generic resources have no strategic merge patch: a merge patch (and a JSON patch).
    patched = kube.patch(CronTab, "lk-cron", {"spec": {"image": "v2"}}, patch_type=PatchType.MERGE)
    assert patched.spec["image"] == "v2" and patched.metadata.generation == 2
    with pytest.raises(ApiError) as e:
        kube.patch(CronTab, "lk-cron", {"spec": {"image": "v3"}})  # strategic: not for a custom resource
    assert e.value.status.code == 415

    # The status subresource, then the scale subresource reads and drives it.
    kube.patch(CronTab.Status, "lk-cron", {"status": {"replicas": 2, "labelSelector": "app=lk-cron"}},
               patch_type=PatchType.MERGE)
    scale = kube.get(CronTab.Scale, "lk-cron")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 2, "app=lk-cron")
    scale.spec.replicas = 4
    assert kube.replace(scale).spec.replicas == 4
    assert kube.get(CronTab, "lk-cron").spec["replicas"] == 4
    kube.patch(CronTab.Scale, "lk-cron", {"spec": {"replicas": 5}}, patch_type=PatchType.MERGE)
    assert kube.get(CronTab, "lk-cron").spec["replicas"] == 5

    # A watch of the custom kind.
    listed = kube.list(CronTab)
    assert len(list(listed)) == 1
    rv = listed.resourceVersion
    seen: list[tuple[str, str]] = []

    def run():
        for kind, obj in kube.watch(CronTab, fields={"metadata.name": "lk-watched"}, resource_version=rv,
                                    server_timeout=20):
            seen.append((kind, obj.spec["image"]))
            if kind == "DELETED":
                return

    t = threading.Thread(target=run, daemon=True)
    t.start()
    kube.create(CronTab.from_dict(crontab(GROUP, "lk-watched", 1)))
    kube.patch(CronTab, "lk-watched", {"spec": {"image": "v2"}}, patch_type=PatchType.MERGE)
    kube.delete(CronTab, "lk-watched")
    t.join(25)
    assert not t.is_alive(), seen
    assert seen == [("ADDED", "my-awesome-cron-image"), ("MODIFIED", "v2"), ("DELETED", "v2")]

    # Server-side apply of a custom object: created when absent; what its manager drops is pruned;
    # another manager's different value is a conflict.
    applied = kube.apply(CronTab.from_dict(crontab(GROUP, "lk-applied", 1)), field_manager="lk-one")
    assert applied.spec["replicas"] == 1
    body = crontab(GROUP, "lk-applied", 3)
    del body["spec"]["cronSpec"]
    applied = kube.apply(CronTab.from_dict(body), field_manager="lk-one")
    assert applied.spec == {"image": "my-awesome-cron-image", "replicas": 3}
    with pytest.raises(ApiError) as e:
        kube.apply(CronTab.from_dict(crontab(GROUP, "lk-applied", 4)), field_manager="lk-two")
    assert e.value.status.code == 409
    assert [c.field for c in e.value.status.details.causes] == [".spec.replicas"]
    kube.delete(CronTab, "lk-applied")

    # The CRDs of the cluster as generic resources, then manifests through lightkube's codecs.
    load_in_cluster_generic_resources(kube)
    loaded = codecs.load_all_yaml(
        "\n---\n".join(yaml.safe_dump(crontab(GROUP, f"lk-yaml-{i}", 1)) for i in range(3)))
    assert [type(o).__name__ for o in loaded] == ["CronTab"] * 3
    for obj in loaded:
        kube.create(obj)
    assert sorted(c.metadata.name for c in kube.list(CronTab))[1:] == ["lk-yaml-0", "lk-yaml-1", "lk-yaml-2"]
    kube.deletecollection(CronTab, dry_run=True)  # deletes nothing
    assert len(list(kube.list(CronTab))) == 4
    kube.deletecollection(CronTab, cascade=CascadeType.BACKGROUND)
    assert list(kube.list(CronTab)) == []
    kube.create(CronTab.from_dict(crontab(GROUP, "lk-last", 1)))  # for the CRD's deletion to take along

    # Invalid: the 422 Status with its causes, decoded by lightkube.
    with pytest.raises(ApiError) as e:
        kube.create(CronTab.from_dict(crontab(GROUP, "lk-bad", 0)))
    assert e.value.status.code == 422 and e.value.status.reason == "Invalid"
    assert [c.field for c in e.value.status.details.causes] == ["spec.replicas"]
    assert "should be greater than or equal to 1" in e.value.status.details.causes[0].message

    # Deleting the CRD deletes its objects, then the kind is gone.
    kube.delete(CustomResourceDefinition, f"crontabs.{GROUP}")

    def crd_gone() -> bool:
        try:
            kube.get(CustomResourceDefinition, f"crontabs.{GROUP}")
        except ApiError as e:
            return e.status.code == 404
        return False

    wait_until(crd_gone, timeout=30, interval=0.2, message="the CRD gone")
    with pytest.raises(ApiError) as e:
        kube.list(CronTab).__iter__().__next__()
    assert e.value.status.code == 404
