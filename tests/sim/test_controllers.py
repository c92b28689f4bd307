"""kube-controller-manager: the ReplicaSet controller and the garbage collector."""
from tests.builders import MakePod, MakeReplicaSet
from tests.sim.conftest import get_pod, ok


def _rs(c, name="web", replicas=3):
    return ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                         "body": MakeReplicaSet.scenario(name, replicas, "nginx:1.27", "100m", "64Mi")}))


def _pods(c, selector="app=web"):
    return ok(c.request({"verb": "list", "resource": "pods", "namespace": "default",
                         "query": {"labelSelector": selector}}))["items"]


def _scale(c, n):
    ok(c.request({"verb": "patch", "group": "apps", "resource": "replicasets", "namespace": "default", "name": "web",
                  "body": {"spec": {"replicas": n}}, "patch_type": "application/merge-patch+json"}))


def test_replicaset_creates_owned_pods_and_reports_status(cluster):
    rs = _rs(cluster)
    cluster.advance(10)
    pods = _pods(cluster)
    assert len(pods) == 3
    for p in pods:
        assert p["metadata"]["name"].startswith("web-") and len(p["metadata"]["name"]) == 9
        ref, = p["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["uid"], ref["controller"]) == ("ReplicaSet", rs["metadata"]["uid"], True)
    status = ok(cluster.request({"verb": "get", "group": "apps", "resource": "replicasets", "namespace": "default",
                                 "name": "web"}))["status"]
    assert status["replicas"] == 3 and status["readyReplicas"] == 3 and status["observedGeneration"] == 1


def test_scale_down_then_up(cluster):
    _rs(cluster, replicas=4)
    cluster.advance(10)
    _scale(cluster, 1)
    cluster.advance(5)
    assert len(_pods(cluster)) == 1
    _scale(cluster, 3)
    cluster.advance(10)
    assert sorted(p["status"]["phase"] for p in _pods(cluster)) == ["Running"] * 3


def test_deleted_pod_is_replaced(cluster):
    _rs(cluster)
    cluster.advance(10)
    victim = _pods(cluster)[0]["metadata"]["name"]
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": victim}))
    cluster.advance(10)
    names = {p["metadata"]["name"] for p in _pods(cluster)}
    assert victim not in names and len(names) == 3


def test_orphan_is_adopted_and_relabelled_pod_is_released(cluster):
    orphan = (MakePod().name("orphan").namespace("default")
              .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest())
    orphan["metadata"]["labels"] = {"app": "web"}
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": orphan}))
    rs = _rs(cluster, replicas=2)
    cluster.advance(10)
    pods = _pods(cluster)
    assert len(pods) == 2  # the orphan counts as one of the two
    adopted = ok(get_pod(cluster, "orphan"))
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
    ok(cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "orphan",
                        "body": {"metadata": {"labels": {"app": "other"}}},
                        "patch_type": "application/merge-patch+json"}))
    cluster.advance(10)
    assert not ok(get_pod(cluster, "orphan"))["metadata"].get("ownerReferences")
    assert len(_pods(cluster)) == 2  # a new replica took its place


def test_deleting_the_replicaset_collects_its_pods(cluster):
    _rs(cluster)
    cluster.advance(10)
    ok(cluster.request({"verb": "delete", "group": "apps", "resource": "replicasets", "namespace": "default",
                        "name": "web"}))
    cluster.advance(10)
    assert _pods(cluster) == []


def test_scale_subresource(cluster):
    _rs(cluster, replicas=2)
    cluster.advance(5)
    scale = ok(cluster.request({"verb": "get", "group": "apps", "resource": "replicasets", "namespace": "default",
                                "name": "web", "subresource": "scale"}))
    assert (scale["kind"], scale["apiVersion"]) == ("Scale", "autoscaling/v1")
    assert scale["spec"] == {"replicas": 2} and scale["status"] == {"replicas": 2, "selector": "app=web"}
    scaled = ok(cluster.request({"verb": "patch", "group": "apps", "resource": "replicasets", "namespace": "default",
                                 "name": "web", "subresource": "scale", "body": {"spec": {"replicas": 4}},
                                 "patch_type": "application/merge-patch+json"}))
    assert scaled["spec"]["replicas"] == 4
    cluster.advance(10)
    assert len(_pods(cluster)) == 4
    bad = cluster.request({"verb": "patch", "group": "apps", "resource": "replicasets", "namespace": "default",
                           "name": "web", "subresource": "scale", "body": {"spec": {"replicas": -1}},
                           "patch_type": "application/merge-patch+json"})
    assert bad["code"] == 422 and "spec.replicas" in bad["body"]["message"]
