"""A property test of the workload controllers together (issue 11): random node kills and
restores, scalings, image updates, pod and Deployment deletions, in any order and at any
moment, always converge once the faults heal - every Deployment at its replicas, all of them
updated to its template and available, no orphaned pod, no ReplicaSet without its Deployment,
no pod without its ReplicaSet.

The timings are upstream's defaults, so a node that stays dead has its pods evicted after the
300 s not-ready/unreachable toleration; the run ends by restoring every node and giving the
cluster a bounded time to settle."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cluster import Cluster, ClusterConfig
from tests.sim.conftest import advance_until, ok

APPS = ("web", "api")
WORKERS = ("worker-1", "worker-2", "worker-3")
IMAGES = ("nginx:1.27", "nginx:1.26", "nginx:1.25")
DEPLOY = {"group": "apps", "resource": "deployments", "namespace": "default"}


def deployment(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": IMAGES[0],
                                                           "resources": {"requests": {"cpu": "50m",
                                                                                      "memory": "32Mi"}}}]}}}}


OPS = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.sampled_from([1, 5, 20, 60, 400])),
    st.tuples(st.just("kill"), st.sampled_from(WORKERS)),
    st.tuples(st.just("restore"), st.sampled_from(WORKERS)),
    st.tuples(st.just("scale"), st.tuples(st.sampled_from(APPS), st.integers(0, 6))),
    st.tuples(st.just("image"), st.tuples(st.sampled_from(APPS), st.sampled_from(IMAGES))),
    st.tuples(st.just("delete-pod"), st.tuples(st.sampled_from(APPS), st.integers(0, 5))),
    st.tuples(st.just("delete-deployment"), st.sampled_from(APPS)),
    st.tuples(st.just("create-deployment"), st.tuples(st.sampled_from(APPS), st.integers(0, 6))),
), min_size=1, max_size=12)


def _list(c, resource: str, group: str = "") -> list[dict]:
    return ok(c.request({"verb": "list", "group": group, "resource": resource, "namespace": "default"}))["items"]


def _apply(c, op: str, arg) -> None:
    if op == "advance":
        c.advance(arg)
    elif op == "kill":
        c.kill_node(arg)
    elif op == "restore":
        c.restore_node(arg)
    elif op == "scale":
        c.request({"verb": "patch", **DEPLOY, "name": arg[0], "body": {"spec": {"replicas": arg[1]}},
                   "patch_type": "application/merge-patch+json"})
    elif op == "image":
        c.request({"verb": "patch", **DEPLOY, "name": arg[0], "patch_type": "application/strategic-merge-patch+json",
                   "body": {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": arg[1]}]}}}}})
    elif op == "delete-pod":
        pods = sorted(p["metadata"]["name"] for p in _list(c, "pods")
                      if (p["metadata"].get("labels") or {}).get("app") == arg[0])
        if pods:
            c.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": pods[arg[1] % len(pods)]})
    elif op == "delete-deployment":
        c.request({"verb": "delete", **DEPLOY, "name": arg, "body": {"propagationPolicy": "Background"}})
    elif op == "create-deployment":
        c.request({"verb": "create", **DEPLOY, "body": deployment(*arg)})


def converged(c) -> bool:
    deployments = {d["metadata"]["uid"]: d for d in _list(c, "deployments", "apps")}
    replicasets = {r["metadata"]["uid"]: r for r in _list(c, "replicasets", "apps")}
    pods = _list(c, "pods")
    for d in deployments.values():
        st_ = d.get("status") or {}
        want = d["spec"]["replicas"]
        if st_.get("observedGeneration") != d["metadata"]["generation"]:
            return False
        if (st_.get("replicas", 0), st_.get("updatedReplicas", 0), st_.get("availableReplicas", 0)) != (want,) * 3:
            return False
        if st_.get("unavailableReplicas", 0):
            return False
    for rs in replicasets.values():
        owner = next((r for r in rs["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
        if owner is None or owner["uid"] not in deployments:
            return False  # a ReplicaSet without its Deployment
    live = [p for p in pods if (p["metadata"].get("labels") or {}).get("app") in APPS]
    for p in live:
        owner = next((r for r in p["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
        if owner is None or owner["uid"] not in replicasets:
            return False  # an orphaned pod, or one whose ReplicaSet is gone
        if p["metadata"].get("deletionTimestamp"):
            return False  # still terminating
    # Exactly the replicas the Deployments ask for, each on the current template.
    return len(live) == sum(d["spec"]["replicas"] for d in deployments.values())


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_workloads_converge_after_any_faults_and_changes(ops):
    c = Cluster("prop", ClusterConfig.default(seed=11))
    c.advance(20)
    for app in APPS:
        ok(c.request({"verb": "create", **DEPLOY, "body": deployment(app, 3)}))
    c.advance(15)
    for op, arg in ops:
        _apply(c, op, arg)
    for node in WORKERS:
        c.restore_node(node)
    advance_until(c, lambda: converged(c), limit=900, step=5)
