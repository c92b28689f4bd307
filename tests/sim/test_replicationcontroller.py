"""The ReplicationManager (pkg/controller/replication) over core/v1 ReplicationControllers:
the ReplicaSet controller with a map selector, defaulted from the template's labels; the
scale subresource; OrphanDependents by default on delete; minReadySeconds in availability."""
from tests.builders import MakeReplicaSet
from tests.sim.conftest import advance_until, ok

RC = {"resource": "replicationcontrollers", "namespace": "default"}


def _rc_manifest(name="nginx", replicas=3, **spec):
    rs = MakeReplicaSet.scenario(name, replicas, "nginx:1.27", "100m", "64Mi")
    template = rs["spec"]["template"]
    # The docs' replication.yaml: a selector map, or none (then the template's labels).
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": name},
            "spec": {"replicas": replicas, "template": template, **spec}}


def _pods(c, selector):
    return ok(c.request({"verb": "list", "resource": "pods", "namespace": "default",
                         "query": {"labelSelector": selector}}))["items"]


def _get(c, name="nginx"):
    return ok(c.request({"verb": "get", **RC, "name": name}))


def test_a_replication_controller_defaults_its_selector_and_keeps_its_replicas(cluster):
    rc = ok(cluster.request({"verb": "create", **RC, "body": _rc_manifest()}), 201)
    labels = rc["spec"]["template"]["metadata"]["labels"]
    assert rc["spec"]["selector"] == labels and rc["metadata"]["labels"] == labels
    sel = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    cluster.advance(10)
    pods = _pods(cluster, sel)
    assert len(pods) == 3
    for p in pods:
        ref, = p["metadata"]["ownerReferences"]
        assert (ref["apiVersion"], ref["kind"], ref["uid"]) == ("v1", "ReplicationController", rc["metadata"]["uid"])
        assert p["metadata"]["name"].startswith("nginx-")
    st = _get(cluster)["status"]
    assert (st["replicas"], st["readyReplicas"], st["availableReplicas"]) == (3, 3, 3)
    assert "terminatingReplicas" not in st

    # A killed pod is replaced (self-healing), and /scale resizes it.
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default",
                        "name": pods[0]["metadata"]["name"]}))
    cluster.advance(10)
    assert len([p for p in _pods(cluster, sel) if not p["metadata"].get("deletionTimestamp")]) == 3
    scale = ok(cluster.request({"verb": "get", **RC, "name": "nginx", "subresource": "scale"}))
    assert scale["status"]["selector"] == sel and scale["spec"]["replicas"] == 3
    ok(cluster.request({"verb": "patch", **RC, "name": "nginx", "subresource": "scale",
                        "body": {"spec": {"replicas": 1}}, "patch_type": "application/merge-patch+json"}))
    cluster.advance(40)
    assert len(_pods(cluster, sel)) == 1


def test_deleting_a_replication_controller_orphans_its_pods_by_default(cluster):
    ok(cluster.request({"verb": "create", **RC, "body": _rc_manifest(replicas=2)}), 201)
    cluster.advance(10)
    sel = "app=nginx"
    assert len(_pods(cluster, sel)) == 2
    ok(cluster.request({"verb": "delete", **RC, "name": "nginx"}))
    cluster.advance(10)
    pods = _pods(cluster, sel)
    assert len(pods) == 2 and all(not p["metadata"].get("ownerReferences") for p in pods)


def test_an_empty_selector_or_one_not_matching_the_template_is_invalid(cluster):
    bad = _rc_manifest(selector={"app": "other"})
    resp = cluster.request({"verb": "create", **RC, "body": bad})
    assert resp["code"] == 422
    assert "`selector` does not match template `labels`" in resp["body"]["message"]
    no_labels = _rc_manifest()
    no_labels["spec"]["template"]["metadata"]["labels"] = {}
    resp = cluster.request({"verb": "create", **RC, "body": no_labels})
    assert resp["code"] == 422 and "spec.selector: Required value" in resp["body"]["message"]


def test_available_replicas_wait_for_min_ready_seconds(cluster):
    ok(cluster.request({"verb": "create", **RC, "body": _rc_manifest(replicas=2, minReadySeconds=30)}), 201)
    advance_until(cluster, lambda: (_get(cluster).get("status") or {}).get("readyReplicas") == 2, 60)
    assert _get(cluster)["status"]["availableReplicas"] == 0
    waited = advance_until(cluster, lambda: _get(cluster)["status"].get("availableReplicas") == 2, 40)
    assert 20 < waited <= 31  # the 30 s after they became ready, then the requeued sync
