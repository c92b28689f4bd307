"""The Deployment controller (pkg/controller/deployment) in virtual time: ReplicaSets named by
the pod-template hash, revisions, RollingUpdate within maxSurge / maxUnavailable at every step,
Recreate, rollback, minReadySeconds, pause / resume, the progress deadline, proportional scaling,
and self-healing after a node dies."""
import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.api.hashing import ALPHANUMS
from sim.controllers.deployment import (POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY,
                                        compute_hash, resolve_fenceposts)
from tests.sim.conftest import ok

NS = "default"


def manifest(name="web", replicas=3, image="nginx:1.27", strategy=None, **spec):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     **({"strategy": strategy} if strategy else {}), **spec,
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "nginx", "image": image,
                                                           "resources": {"requests": {"cpu": "10m"}}}]}}}}


def create(c, **kw):
    return ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": NS,
                         "body": manifest(**kw)}))


def get(c, name="web"):
    return ok(c.request({"verb": "get", "group": "apps", "resource": "deployments", "namespace": NS, "name": name}))


def patch(c, body, name="web", ptype="application/strategic-merge-patch+json"):
    return ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": NS, "name": name,
                         "body": body, "patch_type": ptype}))


def set_image(c, image, name="web"):
    return patch(c, {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": image}]}}}}, name)


def replicasets(c):
    items = ok(c.request({"verb": "list", "group": "apps", "resource": "replicasets", "namespace": NS}))["items"]
    return sorted(items, key=lambda rs: int(rs["metadata"].get("annotations", {}).get(REVISION, 0)))


def pods(c, selector="app=web"):
    return ok(c.request({"verb": "list", "resource": "pods", "namespace": NS,
                         "query": {"labelSelector": selector}}))["items"]


def condition(d, ctype):
    return next((x for x in d["status"].get("conditions", []) if x["type"] == ctype), None)


def ready(pod):
    return any(x["type"] == "Ready" and x["status"] == "True" for x in pod["status"].get("conditions", []))


def events(c, name="web"):
    return [(e["reason"], e["message"]) for e in ok(c.request({"verb": "list", "resource": "events",
                                                               "namespace": NS}))["items"]
            if e["involvedObject"]["kind"] == "Deployment" and e["involvedObject"]["name"] == name]


def wait(c, pred, timeout=120.0, step=1.0):
    """Advance until pred() holds (bounded)."""
    t = 0.0
    while t < timeout:
        if pred():
            return
        c.advance(step)
        t += step
    assert pred(), "condition not reached in time"


def complete(c, name="web"):
    d = get(c, name)
    st, n = d["status"], d["spec"]["replicas"]
    return (st.get("observedGeneration") == d["metadata"]["generation"] and st.get("updatedReplicas", 0) == n
            and st.get("replicas", 0) == n and st.get("availableReplicas", 0) == n)


def watch_every_step(c, until, check):
    """Run to `until`, calling check(pods in the apiserver's watch cache) at every change of it
    (every committed write: each step of the trace)."""
    api = c.serving_apiserver()
    last = [None]

    def observe():
        if api.cache.rv != last[0]:
            last[0] = api.cache.rv
            check([p for p in api.cache.objects("pods").values() if p["metadata"]["namespace"] == NS])
        return False

    c.kernel.run_until(until, stop=observe)


# -- the kind ------------------------------------------------------------------------------
def test_defaults_and_validation(cluster):
    d = create(cluster)
    assert d["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%",
                                                                                "maxSurge": "25%"}}
    assert (d["spec"]["revisionHistoryLimit"], d["spec"]["progressDeadlineSeconds"]) == (10, 600)
    assert d["metadata"]["generation"] == 1 and d["status"] == {}
    bad = manifest(name="bad", strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}})
    resp = cluster.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": NS, "body": bad})
    assert resp["code"] == 422
    assert "spec.strategy.rollingUpdate.maxUnavailable: Invalid value" in resp["body"]["message"]
    assert "may not be 0 when `maxSurge` is 0" in resp["body"]["message"]
    bad = manifest(name="bad")
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    resp = cluster.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": NS, "body": bad})
    assert resp["code"] == 422 and "`selector` does not match template `labels`" in resp["body"]["message"]
    resp = cluster.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": NS, "name": "web",
                            "body": {"spec": {"selector": {"matchLabels": {"app": "web", "x": "y"}},
                                              "template": {"metadata": {"labels": {"x": "y"}}}}},
                            "patch_type": "application/merge-patch+json"})
    assert resp["code"] == 422 and "spec.selector" in resp["body"]["message"] and "field is immutable" in resp["body"]["message"]
    bad = manifest(name="bad", strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}})
    resp = cluster.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": NS, "body": bad})
    assert resp["code"] == 422 and "spec.strategy.rollingUpdate: Forbidden" in resp["body"]["message"]


def test_fenceposts_round_surge_up_and_unavailable_down():
    assert resolve_fenceposts("25%", "25%", 10) == (3, 2)
    assert resolve_fenceposts("25%", "25%", 1) == (1, 0)
    assert resolve_fenceposts(0, "10%", 5) == (0, 1)   # both 0: unavailable becomes 1


def test_hash_alphabet_and_collision_count():
    t = manifest()["spec"]["template"]
    h = compute_hash(t, None)
    assert set(h) <= set(ALPHANUMS) and 1 <= len(h) <= 10
    assert compute_hash(t, None) == h and compute_hash(t, 1) != h


# -- creation ------------------------------------------------------------------------------
def test_creates_a_replicaset_named_by_the_template_hash(cluster):
    create(cluster)
    wait(cluster, lambda: complete(cluster), 60)
    rs, = replicasets(cluster)
    h = rs["metadata"]["labels"][POD_TEMPLATE_HASH]
    assert rs["metadata"]["name"] == f"web-{h}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", POD_TEMPLATE_HASH: h}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", POD_TEMPLATE_HASH: h}
    ann = rs["metadata"]["annotations"]
    assert ann[REVISION] == "1"
    assert ann["deployment.kubernetes.io/desired-replicas"] == "3"
    assert ann["deployment.kubernetes.io/max-replicas"] == "4"   # 3 + 25% surge rounded up
    ref, = rs["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["controller"]) == ("Deployment", "web", True)
    assert all(p["metadata"]["labels"][POD_TEMPLATE_HASH] == h for p in pods(cluster))
    d = get(cluster)
    assert d["metadata"]["annotations"][REVISION] == "1"
    st = d["status"]
    assert {k: st[k] for k in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas",
                               "availableReplicas")} == {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                                                         "readyReplicas": 3, "availableReplicas": 3}
    assert "unavailableReplicas" not in st
    assert condition(d, "Available")["reason"] == "MinimumReplicasAvailable"
    prog = condition(d, "Progressing")
    assert (prog["status"], prog["reason"]) == ("True", "NewReplicaSetAvailable")
    assert prog["message"] == f'ReplicaSet "web-{h}" has successfully progressed.'
    assert ("ScalingReplicaSet", f"Scaled up replica set web-{h} from 0 to 3") in events(cluster)


# -- RollingUpdate ---------------------------------------------------------------------------
def test_rolling_update_stays_within_max_surge_and_max_unavailable(cluster):
    create(cluster, replicas=10, strategy={"type": "RollingUpdate",
                                           "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}})
    wait(cluster, lambda: complete(cluster), 90)
    old_hash = replicasets(cluster)[0]["metadata"]["labels"][POD_TEMPLATE_HASH]
    set_image(cluster, "nginx:1.26")
    seen = {"max_pods": 0, "min_available": 10, "steps": 0, "new": 0}

    def check(all_pods):
        live = [p for p in all_pods if not p["metadata"].get("deletionTimestamp")
                and p["metadata"]["labels"].get("app") == "web"]
        available = [p for p in live if ready(p)]
        seen["max_pods"] = max(seen["max_pods"], len(live))
        seen["min_available"] = min(seen["min_available"], len(available))
        seen["new"] = max(seen["new"], sum(1 for p in live if p["metadata"]["labels"][POD_TEMPLATE_HASH] != old_hash))
        seen["steps"] += 1
        assert len(live) <= 13, f"{len(live)} pods > replicas + maxSurge"
        assert len(available) >= 8, f"{len(available)} available < replicas - maxUnavailable"

    watch_every_step(cluster, cluster.kernel.now + 120, check)
    assert complete(cluster)
    assert seen["max_pods"] == 13 and seen["min_available"] == 8 and seen["new"] == 10 and seen["steps"] > 50
    old, new = replicasets(cluster)
    assert old["metadata"]["labels"][POD_TEMPLATE_HASH] == old_hash and old["spec"]["replicas"] == 0
    assert new["spec"]["replicas"] == 10 and new["metadata"]["annotations"][REVISION] == "2"
    msgs = [m for r, m in events(cluster) if r == "ScalingReplicaSet"]
    new_name, old_name = new["metadata"]["name"], old["metadata"]["name"]
    assert f"Scaled up replica set {new_name} from 0 to 3" in msgs
    assert f"Scaled down replica set {old_name} from 10 to 8" in msgs
    assert any(f"Scaled down replica set {old_name} from " in m and m.endswith(" to 0") for m in msgs)


def test_rollback_restores_the_old_template_under_a_new_revision(cluster):
    """kubectl rollout undo: the RS of the previous revision's template is patched into the
    Deployment (client side); the controller gives that RS the next revision number."""
    create(cluster)
    wait(cluster, lambda: complete(cluster), 60)
    set_image(cluster, "nginx:1.26")
    wait(cluster, lambda: complete(cluster) and len(replicasets(cluster)) == 2, 90)
    first = replicasets(cluster)[0]
    assert first["metadata"]["annotations"][REVISION] == "1"
    template = copy.deepcopy(first["spec"]["template"])   # never mutate what the API answered
    del template["metadata"]["labels"][POD_TEMPLATE_HASH]
    d = get(cluster)
    annotations = {k: v for k, v in d["metadata"]["annotations"].items()}
    patch(cluster, [{"op": "replace", "path": "/spec/template", "value": template},
                    {"op": "replace", "path": "/metadata/annotations", "value": annotations}],
          ptype="application/json-patch+json")
    wait(cluster, lambda: complete(cluster) and get(cluster)["metadata"]["annotations"][REVISION] == "3", 90)
    rss = replicasets(cluster)
    assert len(rss) == 2   # no third ReplicaSet: the first one came back
    second, back = rss
    assert back["metadata"]["uid"] == first["metadata"]["uid"] and back["spec"]["replicas"] == 3
    assert back["metadata"]["annotations"][REVISION] == "3"
    assert back["metadata"]["annotations"][REVISION_HISTORY] == "1"
    assert second["spec"]["replicas"] == 0 and second["metadata"]["annotations"][REVISION] == "2"
    assert get(cluster)["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert {p["spec"]["containers"][0]["image"] for p in pods(cluster) if not p["metadata"].get("deletionTimestamp")} \
        == {"nginx:1.27"}


def test_revision_history_limit_deletes_the_oldest_replicasets(cluster):
    create(cluster, replicas=1, revisionHistoryLimit=1)
    for image in ("nginx:1.26", "nginx:1.25", "nginx:1.27.3"):
        wait(cluster, lambda: complete(cluster), 60)
        set_image(cluster, image)
    wait(cluster, lambda: complete(cluster) and len(replicasets(cluster)) == 2, 90)
    assert [rs["metadata"]["annotations"][REVISION] for rs in replicasets(cluster)] == ["3", "4"]


# -- Recreate --------------------------------------------------------------------------------
def test_recreate_starts_no_new_pod_while_an_old_one_runs(cluster):
    create(cluster, replicas=4, strategy={"type": "Recreate"})
    wait(cluster, lambda: complete(cluster), 60)
    old_hash = replicasets(cluster)[0]["metadata"]["labels"][POD_TEMPLATE_HASH]
    set_image(cluster, "nginx:1.26")
    seen = {"overlap": False, "new": 0}

    def check(all_pods):
        web = [p for p in all_pods if p["metadata"]["labels"].get("app") == "web"]
        new = [p for p in web if p["metadata"]["labels"][POD_TEMPLATE_HASH] != old_hash]
        old_running = [p for p in web if p["metadata"]["labels"][POD_TEMPLATE_HASH] == old_hash
                       and p["status"].get("phase") not in ("Succeeded", "Failed")]
        seen["new"] = max(seen["new"], len(new))
        assert not (new and old_running), "a new pod exists while an old pod still runs"

    watch_every_step(cluster, cluster.kernel.now + 120, check)
    assert seen["new"] == 4 and complete(cluster)
    old, new = replicasets(cluster)
    assert old["spec"]["replicas"] == 0 and new["spec"]["replicas"] == 4
    msgs = [m for r, m in events(cluster) if r == "ScalingReplicaSet"]
    assert msgs[-2:] == [f"Scaled down replica set {old['metadata']['name']} from 4 to 0",
                         f"Scaled up replica set {new['metadata']['name']} from 0 to 4"]


# -- minReadySeconds ---------------------------------------------------------------------------
def test_min_ready_seconds_delays_availability(cluster):
    create(cluster, minReadySeconds=20)
    wait(cluster, lambda: get(cluster)["status"].get("readyReplicas", 0) == 3, 60, step=0.5)
    d = get(cluster)
    assert d["status"].get("availableReplicas", 0) == 0
    assert condition(d, "Available")["status"] == "False"
    cluster.advance(15)
    assert get(cluster)["status"].get("availableReplicas", 0) == 0
    cluster.advance(8)   # 20 s after ready (+ the requeue's second and whole-second timestamps)
    d = get(cluster)
    assert d["status"]["availableReplicas"] == 3 and condition(d, "Available")["status"] == "True"
    assert replicasets(cluster)[0]["spec"]["minReadySeconds"] == 20


# -- pause / resume ---------------------------------------------------------------------------
def test_pause_stops_rollouts_but_not_scaling_and_resume_goes_on(cluster):
    create(cluster)
    wait(cluster, lambda: complete(cluster), 60)
    patch(cluster, {"spec": {"paused": True}})
    cluster.advance(2)
    prog = condition(get(cluster), "Progressing")
    assert (prog["status"], prog["reason"], prog["message"]) == ("Unknown", "DeploymentPaused", "Deployment is paused")
    set_image(cluster, "nginx:1.26")
    patch(cluster, {"spec": {"replicas": 5}})
    cluster.advance(20)
    rs, = replicasets(cluster)   # no rollout while paused
    assert rs["spec"]["replicas"] == 5
    assert get(cluster)["status"]["availableReplicas"] == 5
    patch(cluster, {"spec": {"paused": False}})
    cluster.advance(1)
    assert condition(get(cluster), "Progressing")["reason"] in ("DeploymentResumed", "NewReplicaSetCreated",
                                                                "ReplicaSetUpdated")
    wait(cluster, lambda: complete(cluster) and len(replicasets(cluster)) == 2, 90)
    assert condition(get(cluster), "Progressing")["reason"] == "NewReplicaSetAvailable"


# -- progressDeadlineSeconds ---------------------------------------------------------------------
def test_progress_deadline_exceeded(cluster):
    create(cluster, progressDeadlineSeconds=60)
    wait(cluster, lambda: complete(cluster), 60)
    set_image(cluster, "nginx:no-such-tag")   # ErrImagePull: the rollout cannot progress
    cluster.advance(5)
    prog = condition(get(cluster), "Progressing")
    assert (prog["status"], prog["reason"]) == ("True", "ReplicaSetUpdated")
    cluster.advance(50)
    assert condition(get(cluster), "Progressing")["reason"] == "ReplicaSetUpdated"
    cluster.advance(15)   # the controller requeued itself for the deadline (+1 s)
    d = get(cluster)
    prog = condition(d, "Progressing")
    new = replicasets(cluster)[-1]["metadata"]["name"]
    assert (prog["status"], prog["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert prog["message"] == f'ReplicaSet "{new}" has timed out progressing.'
    assert condition(d, "Available")["status"] == "True"   # the old pods still serve


# -- proportional scaling ----------------------------------------------------------------------
def test_scaling_mid_rollout_is_proportional(cluster):
    create(cluster, replicas=10, strategy={"type": "RollingUpdate",
                                           "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}})
    wait(cluster, lambda: complete(cluster), 90)
    set_image(cluster, "nginx:no-such-tag")   # stuck: old 8, new 5 (13 = 10 + 3; 8 = 10 - 2)
    cluster.advance(20)
    old, new = replicasets(cluster)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (8, 5)
    patch(cluster, {"spec": {"replicas": 20}})
    cluster.advance(5)
    old, new = replicasets(cluster)
    # 23 allowed (20 + 3) - 13 = 10 more: old 8*23/13 = 14.2 -> 14 (+6), new 5*23/13 = 8.8 -> 9 (+4)
    assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (14, 9)
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "20"
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "23"
    msgs = [m for r, m in events(cluster) if r == "ScalingReplicaSet"]
    assert f"Scaled up replica set {old['metadata']['name']} from 8 to 14" in msgs
    assert f"Scaled up replica set {new['metadata']['name']} from 5 to 9" in msgs


# -- self-healing -------------------------------------------------------------------------------
def test_a_dead_nodes_pods_are_replaced(cluster):
    d = manifest(replicas=6)
    # Evicted 10 s after the node is unreachable (the default toleration is 300 s).
    d["spec"]["template"]["spec"]["tolerations"] = [
        {"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
        for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
    ok(cluster.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": NS, "body": d}))
    wait(cluster, lambda: complete(cluster), 60)
    victim = sorted(p["spec"]["nodeName"] for p in pods(cluster))[0]
    lost = {p["metadata"]["name"] for p in pods(cluster) if p["spec"]["nodeName"] == victim}
    assert lost
    cluster.kill_node(victim)
    wait(cluster, lambda: get(cluster)["status"].get("availableReplicas", 0) < 6, 120)
    # maxUnavailable 25% of 6 rounds down to 1: losing more than one pod loses minimum availability.
    wait(cluster, lambda: get(cluster)["status"].get("availableReplicas", 0) == 6 - len(lost), 30, step=0.5)
    cond = condition(get(cluster), "Available")
    assert (cond["status"], cond["reason"]) == (("True", "MinimumReplicasAvailable") if len(lost) <= 1
                                                else ("False", "MinimumReplicasUnavailable"))
    wait(cluster, lambda: sum(1 for p in pods(cluster) if p["spec"].get("nodeName") != victim and ready(p)) == 6, 180)
    wait(cluster, lambda: get(cluster)["status"].get("availableReplicas", 0) == 6, 30)
    rs, = replicasets(cluster)
    assert rs["metadata"]["annotations"][REVISION] == "1"


@pytest.mark.parametrize("policy", ["Background"])
def test_deleting_the_deployment_collects_replicasets_and_pods(cluster, policy):
    create(cluster)
    wait(cluster, lambda: complete(cluster), 60)
    ok(cluster.request({"verb": "delete", "group": "apps", "resource": "deployments", "namespace": NS, "name": "web",
                        "body": {"propagationPolicy": policy}}))
    wait(cluster, lambda: not replicasets(cluster) and not pods(cluster), 60)


# -- property: whatever happens, it converges -------------------------------------------------
OPS = st.lists(st.one_of(
    st.tuples(st.just("scale"), st.sampled_from(["a", "b"]), st.integers(0, 5)),
    st.tuples(st.just("image"), st.sampled_from(["a", "b"]),
              st.sampled_from(["nginx:1.27", "nginx:1.26", "nginx:1.25", "nginx:no-such-tag"])),
    st.tuples(st.just("pause"), st.sampled_from(["a", "b"]), st.booleans()),
    st.tuples(st.just("kill"), st.sampled_from(["worker-1", "worker-2", "worker-3"]), st.just(None)),
    st.tuples(st.just("restore"), st.sampled_from(["worker-1", "worker-2", "worker-3"]), st.just(None)),
    st.tuples(st.just("recreate"), st.sampled_from(["a", "b"]), st.just(None)),
    st.tuples(st.just("wait"), st.just(""), st.integers(1, 20))), min_size=3, max_size=8)


def _quick_eviction(body):
    body["spec"]["template"]["spec"]["tolerations"] = [
        {"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
        for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
    return body


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(OPS)
def test_random_faults_and_changes_converge_without_orphans(ops):
    """Node kills and restores, scalings, image updates (a bad one too: a stuck rollout), pauses
    and re-creations: once repaired (nodes back, resumed, a good image), every Deployment
    converges, and no pod is left without its ReplicaSet nor a ReplicaSet without its Deployment.
    (tests/sim/test_workload_convergence.py is the issue's property test over pod deletions and
    long outages; this one adds pauses and stuck rollouts, with a 5 s eviction toleration.)"""
    from sim.cluster import Cluster, ClusterConfig
    c = Cluster("p", ClusterConfig.default(seed=5))
    c.advance(20)

    def make(name):
        ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": NS,
                      "body": _quick_eviction(manifest(name=name, replicas=2))}))
    for name in ("a", "b"):
        make(name)
    c.advance(10)
    for op, target, arg in ops:
        if op == "scale":
            patch(c, {"spec": {"replicas": arg}}, name=target)
        elif op == "image":
            set_image(c, arg, name=target)
        elif op == "pause":
            patch(c, {"spec": {"paused": arg}}, name=target)
        elif op == "kill":
            c.kill_node(target)
        elif op == "restore":
            c.restore_node(target)
        elif op == "recreate":
            ok(c.request({"verb": "delete", "group": "apps", "resource": "deployments", "namespace": NS,
                          "name": target}))
            c.advance(0.5)
            make(target)
        c.advance(arg if op == "wait" else 2)
    # Repair: every node back, every Deployment resumed on a good image.
    for node in ("worker-1", "worker-2", "worker-3"):
        c.restore_node(node)
    for name in ("a", "b"):
        patch(c, {"spec": {"paused": False}}, name=name)
        set_image(c, "nginx:1.27", name=name)
    wait(c, lambda: complete(c, "a") and complete(c, "b"), 300, step=2)
    c.advance(40)   # the garbage collector and the kubelets finish what they started
    deployments = {d["metadata"]["uid"]: d for d in ok(c.request(
        {"verb": "list", "group": "apps", "resource": "deployments", "namespace": NS}))["items"]}
    rss = {rs["metadata"]["uid"]: rs for rs in replicasets(c)}
    for rs in rss.values():
        ref = rs["metadata"]["ownerReferences"][0]
        assert ref["uid"] in deployments, f"ReplicaSet {rs['metadata']['name']} outlived its Deployment"
    for p in pods(c, "app in (a,b)"):
        refs = p["metadata"].get("ownerReferences") or []
        assert refs and refs[0]["uid"] in rss, f"pod {p['metadata']['name']} has no ReplicaSet"
    for d in deployments.values():
        live = [p for p in pods(c, f"app={d['metadata']['name']}") if not p["metadata"].get("deletionTimestamp")]
        assert len(live) == d["spec"]["replicas"]
        assert {p["spec"]["containers"][0]["image"] for p in live} <= {"nginx:1.27"}


def test_a_name_collision_bumps_collision_count(cluster):
    """Another object already holds `web-<hash>`: the create answers 409, the controller sets
    status.collisionCount to 1 and the next hash (the template's with the count) names the
    ReplicaSet."""
    d = create(cluster, paused=True)   # paused: no ReplicaSet is made yet
    cluster.advance(2)
    assert replicasets(cluster) == []
    template = get(cluster)["spec"]["template"]
    taken = f"web-{compute_hash(template, None)}"
    squatter = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": taken, "namespace": NS},
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}},
                         "template": {"metadata": {"labels": {"app": "other"}},
                                      "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}
    ok(cluster.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": NS,
                        "body": squatter}))
    patch(cluster, {"spec": {"paused": False}})
    wait(cluster, lambda: complete(cluster), 60)
    assert get(cluster)["status"]["collisionCount"] == 1
    owned = [rs for rs in replicasets(cluster) if rs["metadata"].get("ownerReferences")]
    assert [rs["metadata"]["name"] for rs in owned] == [f"web-{compute_hash(template, 1)}"]
    assert owned[0]["metadata"]["ownerReferences"][0]["uid"] == d["metadata"]["uid"]
