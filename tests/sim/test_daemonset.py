"""The DaemonSet controller (sim/controllers/daemonset.py), ControllerRevisions and the history
module (sim/controllers/history.py), in virtual time on the default cluster (cp-1, tainted
control-plane:NoSchedule, and worker-1..3)."""
from __future__ import annotations

import pytest

from sim.api.hashing import fnv32, fnv32a, safe_encode_string
from sim.controllers import history as h
from tests.sim.conftest import ok

DS = {"group": "apps", "resource": "daemonsets", "namespace": "default"}
CR = {"group": "apps", "resource": "controllerrevisions", "namespace": "default"}
MERGE = "application/merge-patch+json"
WORKERS = ["worker-1", "worker-2", "worker-3"]


def daemonset(name="agent", image="nginx:1.27", strategy=None, **spec):
    body = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "agent", "image": image}]}}}}
    if strategy:
        body["spec"]["updateStrategy"] = strategy
    for k, v in spec.items():
        if k in ("nodeSelector", "tolerations", "affinity"):
            body["spec"]["template"]["spec"][k] = v
        else:
            body["spec"][k] = v
    return body


def create(c, body):
    return ok(c.request({"verb": "create", **DS, "body": body}), 201)


def get(c, name="agent"):
    return ok(c.request({"verb": "get", **DS, "name": name}))


def patch_ds(c, patch, name="agent", patch_type=MERGE):
    return ok(c.request({"verb": "patch", **DS, "name": name, "body": patch, "patch_type": patch_type}))


def set_image(c, image, name="agent"):
    patch_ds(c, {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": image}]}}}}, name,
             "application/strategic-merge-patch+json")


def pods(c, name="agent", live=True):
    items = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default",
                          "query": {"labelSelector": f"app={name}"}}))["items"]
    return [p for p in items if not (live and p["metadata"].get("deletionTimestamp"))]


def by_node(c, name="agent"):
    out = {}
    for p in pods(c, name):
        out.setdefault(p["spec"].get("nodeName"), []).append(p)
    return out


def patch_node(c, node, patch):
    ok(c.request({"verb": "patch", "resource": "nodes", "name": node, "body": patch, "patch_type": MERGE}))


def revisions(c):
    return sorted(ok(c.request({"verb": "list", **CR}))["items"], key=lambda r: r["revision"])


def ready(p):
    return any(cd["type"] == "Ready" and cd["status"] == "True" for cd in p["status"].get("conditions") or [])


def image_of(p):
    return p["spec"]["containers"][0]["image"]


# -- history.py --------------------------------------------------------------------------------
def test_hashes_and_names_as_upstream_computes_them():
    assert fnv32(b"hello") == 0xB6FA7167 and fnv32a(b"hello") == 0x4F9F2CAB  # Go's hash/fnv
    # A decimal digit's rune modulo 27: why real hashes ("5d4cb48cd7") use only these ten letters.
    assert safe_encode_string("0123456789") == "456789bcdf"
    assert h.controller_revision_name("x" * 300, "abc") == "x" * 223 + "-abc"
    rev = {"data": {"spec": {"template": {"$patch": "replace"}}}}
    assert h.raw_data(rev) == b'{"spec":{"template":{"$patch":"replace"}}}'
    assert h.hash_controller_revision(rev) != h.hash_controller_revision(rev, 1)
    parent = {"metadata": {"name": "web", "namespace": "default", "uid": "u1"}}
    cr = h.new_controller_revision(parent, "apps/v1", "StatefulSet", {"app": "web"}, rev["data"], 2, None)
    assert cr["metadata"]["name"] == "web-" + h.hash_controller_revision(cr)
    assert cr["metadata"]["labels"] == {"app": "web", h.CONTROLLER_REVISION_HASH_LABEL: h.hash_controller_revision(cr)}
    assert cr["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet" and cr["revision"] == 2
    a = dict(cr, revision=1, metadata=dict(cr["metadata"], name="a", creationTimestamp="2026-01-01T00:00:02Z"))
    b = dict(cr, revision=1, metadata=dict(cr["metadata"], name="b", creationTimestamp="2026-01-01T00:00:01Z"))
    assert [r["metadata"]["name"] for r in h.sort_controller_revisions([cr, a, b])] == ["b", "a", cr["metadata"]["name"]]
    assert h.find_equal_revisions([a, {"data": {"x": 1}, "metadata": {}}], cr) == [a]


def test_controller_revision_kind(cluster):
    body = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "r-1"},
            "data": {"spec": {"a": 1}}, "revision": 1}
    created = ok(cluster.request({"verb": "create", **CR, "body": body}), 201)
    assert created["data"] == {"spec": {"a": 1}} and created["revision"] == 1
    bad = cluster.request({"verb": "create", **CR, "body": {"metadata": {"name": "r-2"}, "revision": -1}})
    assert bad["code"] == 422 and bad["body"]["message"] == (
        'ControllerRevision.apps "r-2" is invalid: [data: Required value: data is mandatory, '
        'revision: Invalid value: -1: must be greater than or equal to 0]')
    changed = cluster.request({"verb": "patch", **CR, "name": "r-1", "body": {"data": {"spec": {"a": 2}}},
                               "patch_type": MERGE})
    assert changed["code"] == 422 and "data: Invalid value" in changed["body"]["message"] \
        and changed["body"]["message"].endswith("field is immutable")
    renumbered = ok(cluster.request({"verb": "patch", **CR, "name": "r-1", "body": {"revision": 5},
                                     "patch_type": MERGE}))
    assert renumbered["revision"] == 5


# -- the kind ---------------------------------------------------------------------------------
def test_defaults_validation_and_template_generation(cluster):
    ds = create(cluster, daemonset())
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10 and ds["metadata"]["generation"] == 1
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"
    assert ds["status"] == {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                            "numberReady": 0}
    set_image(cluster, "nginx:1.26")
    ds = get(cluster)
    assert ds["metadata"]["generation"] == 2
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    patch_ds(cluster, {"spec": {"minReadySeconds": 1}})  # not the template: the generation only
    ds = get(cluster)
    assert ds["metadata"]["generation"] == 3
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"

    bad = daemonset("bad", strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}})
    bad["spec"]["selector"] = {}
    bad["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    resp = cluster.request({"verb": "create", **DS, "body": bad})
    assert resp["code"] == 422 and resp["body"]["message"] == (
        'DaemonSet.apps "bad" is invalid: [spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:'
        'map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid '
        'for daemonset, spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always", '
        'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0]')
    both = daemonset("both", strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "10%"}})
    resp = cluster.request({"verb": "create", **DS, "body": both})
    assert resp["code"] == 422 and "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value" in resp["body"]["message"] \
        and "may not be set when maxUnavailable is non-zero" in resp["body"]["message"]
    sel = cluster.request({"verb": "patch", **DS, "name": "agent", "patch_type": MERGE,
                           "body": {"spec": {"selector": {"matchLabels": {"app": "other"}}}}})
    assert sel["code"] == 422 and "spec.selector: Invalid value" in sel["body"]["message"]


# -- one pod per eligible node -----------------------------------------------------------------
def test_one_pod_per_worker_scheduled_by_the_default_scheduler(cluster):
    create(cluster, daemonset())
    cluster.advance(15)
    placed = by_node(cluster)
    # The control-plane node's NoSchedule taint is not tolerated by default.
    assert sorted(placed) == WORKERS and all(len(v) == 1 for v in placed.values())
    for node, (pod,) in placed.items():
        spec = pod["spec"]
        # Pinned by affinity (ReplaceDaemonSetPodNodeNameNodeAffinity), bound by the scheduler.
        assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
        tolerations = {(t["key"], t["effect"]) for t in spec["tolerations"]}
        assert {("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
                ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                ("node.kubernetes.io/unschedulable", "NoSchedule")} <= tolerations
        # No tolerationSeconds: the DefaultTolerationSeconds admission plugin added none.
        assert all("tolerationSeconds" not in t for t in spec["tolerations"])
        assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
    scheduled = {e["involvedObject"]["name"] for e in events
                 if e["reason"] == "Scheduled" and e["source"]["component"] == "default-scheduler"}
    assert scheduled == {p["metadata"]["name"] for p in pods(cluster)}
    assert sum(1 for e in events if e["reason"] == "SuccessfulCreate"
               and e["source"]["component"] == "daemonset-controller") == 3
    st = get(cluster)["status"]
    # numberUnavailable is omitempty: a zero is not written.
    assert st == {"currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3,
                  "numberReady": 3, "updatedNumberScheduled": 3, "numberAvailable": 3, "observedGeneration": 1}


def test_tolerating_the_control_plane_taint_runs_there_too(cluster):
    create(cluster, daemonset(tolerations=[{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                            "effect": "NoSchedule"}]))
    cluster.advance(15)
    assert sorted(by_node(cluster)) == ["cp-1"] + WORKERS
    assert get(cluster)["status"]["numberReady"] == 4


def test_follows_nodes_added_killed_restored_and_removed(cluster):
    create(cluster, daemonset())
    cluster.advance(15)
    cluster.add_node("worker-4")
    cluster.advance(20)
    assert sorted(by_node(cluster)) == WORKERS + ["worker-4"]
    assert get(cluster)["status"]["numberReady"] == 4

    # A dead node: after the grace period the node lifecycle controller taints it unreachable.
    # The daemon pod tolerates unreachable:NoExecute (it stays) but not unreachable:NoSchedule
    # (the node no longer wants one): misscheduled, as upstream counts it.
    cluster.kill_node("worker-4")
    cluster.advance(70)
    assert sorted(by_node(cluster)) == WORKERS + ["worker-4"]
    st = get(cluster)["status"]
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberMisscheduled"]) == (3, 3, 1)
    cluster.restore_node("worker-4")
    cluster.advance(30)
    st = get(cluster)["status"]
    assert (st["desiredNumberScheduled"], st["numberMisscheduled"], st["numberReady"]) == (4, 0, 4)

    # A node removed from the cluster: the pod garbage collector deletes its orphaned pod.
    ok(cluster.request({"verb": "delete", "resource": "nodes", "name": "worker-4"}))
    cluster.advance(70)
    assert sorted(by_node(cluster)) == WORKERS
    st = get(cluster)["status"]
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberReady"]) == (3, 3, 3)


def test_node_selector_follows_node_labels(cluster):
    create(cluster, daemonset(nodeSelector={"disk": "ssd"}))
    cluster.advance(10)
    assert pods(cluster) == [] and get(cluster)["status"]["desiredNumberScheduled"] == 0
    patch_node(cluster, "worker-2", {"metadata": {"labels": {"disk": "ssd"}}})
    cluster.advance(10)
    assert sorted(by_node(cluster)) == ["worker-2"]
    patch_node(cluster, "worker-2", {"metadata": {"labels": {"disk": None}}})
    cluster.advance(40)
    assert pods(cluster) == [] and get(cluster)["status"]["desiredNumberScheduled"] == 0


def test_taints_and_tolerations(cluster):
    create(cluster, daemonset(tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoExecute"}]))
    cluster.advance(15)
    # A NoSchedule taint: no new pod would go there, the running one stays (misscheduled).
    patch_node(cluster, "worker-1", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}})
    cluster.advance(10)
    assert sorted(by_node(cluster)) == WORKERS
    st = get(cluster)["status"]
    assert (st["desiredNumberScheduled"], st["numberMisscheduled"]) == (2, 1)
    # A tolerated NoExecute taint changes nothing; an untolerated one removes the pod.
    patch_node(cluster, "worker-2", {"spec": {"taints": [{"key": "gpu", "effect": "NoExecute"}]}})
    patch_node(cluster, "worker-3", {"spec": {"taints": [{"key": "maintenance", "effect": "NoExecute"}]}})
    cluster.advance(40)
    assert sorted(by_node(cluster)) == ["worker-1", "worker-2"]
    patch_node(cluster, "worker-3", {"spec": {"taints": None}})
    cluster.advance(15)
    assert sorted(by_node(cluster)) == WORKERS
    # A cordon (unschedulable taint) is tolerated by every daemon pod.
    patch_node(cluster, "worker-3", {"spec": {"unschedulable": True}})
    cluster.advance(15)
    assert get(cluster)["status"]["desiredNumberScheduled"] == 2  # worker-1 keeps its NoSchedule taint


def test_failed_daemon_pod_is_replaced(cluster):
    create(cluster, daemonset())
    cluster.advance(15)
    victim = by_node(cluster)["worker-2"][0]["metadata"]["name"]
    ok(cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": victim,
                        "subresource": "status", "body": {"status": {"phase": "Failed"}}, "patch_type": MERGE}))
    cluster.advance(10)
    now = by_node(cluster)
    assert sorted(now) == WORKERS and now["worker-2"][0]["metadata"]["name"] != victim
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
    assert any(e["reason"] == "FailedDaemonPod" and e["type"] == "Warning" and e["message"] ==
               f"Found failed daemon pod default/{victim} on node worker-2, will try to kill it" for e in events)


def test_failed_daemon_pods_are_deleted_with_backoff(cluster):
    """failedPodsBackoff (1 s, doubling): a pod failing again within the back-off period since
    the last deletion on that node is left Failed until the period has passed."""
    create(cluster, daemonset())
    cluster.advance(15)

    def on_worker_2():
        return [p for p in pods(cluster) if p["spec"].get("nodeName") == "worker-2"]

    def fail(pod):
        ok(cluster.request({"verb": "patch", "resource": "pods", "namespace": "default",
                            "name": pod["metadata"]["name"], "subresource": "status",
                            "body": {"status": {"phase": "Failed"}}, "patch_type": MERGE}))

    first = on_worker_2()[0]
    fail(first)  # no back-off yet: deleted at once, the next failure waits 1 s since now
    for _ in range(40):
        cluster.advance(0.05)
        second = [p for p in on_worker_2() if p["status"].get("phase") == "Running"]
        if second:
            break
    (second,) = second
    fail(second)
    cluster.advance(0.2)
    still = {p["metadata"]["name"]: p["status"].get("phase") for p in on_worker_2()}
    assert still.get(second["metadata"]["name"]) == "Failed"  # in back-off: not deleted yet
    cluster.advance(1.5)
    assert second["metadata"]["name"] not in {p["metadata"]["name"] for p in on_worker_2()}
    events = ok(cluster.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
    failed = [e for e in events if e["reason"] == "FailedDaemonPod"]
    assert {e["message"].split()[4] for e in failed} == {f"default/{first['metadata']['name']}",
                                                         f"default/{second['metadata']['name']}"}


# -- updates ------------------------------------------------------------------------------------
def _watch_rollout(c, seconds, step=0.25):
    """Samples (ready non-deleting pods per node, pods per node, images) every `step`."""
    samples = []
    t = 0.0
    while t < seconds:
        c.advance(step)
        t += step
        live = pods(c, live=False)
        per_node: dict = {}
        for p in live:
            per_node.setdefault(p["spec"].get("nodeName"), []).append(p)
        samples.append(per_node)
    return samples


def test_rolling_update_honours_max_unavailable(cluster):
    create(cluster, daemonset())
    cluster.advance(15)
    old_hash = pods(cluster)[0]["metadata"]["labels"]["controller-revision-hash"]
    set_image(cluster, "nginx:1.26")
    samples = _watch_rollout(cluster, 60)
    seen = set()
    for per_node in samples:
        available = sum(1 for node in WORKERS
                        if any(ready(p) and not p["metadata"].get("deletionTimestamp") for p in per_node.get(node, [])))
        assert available >= 2  # maxUnavailable 1 of 3
        seen.add(available)
        assert all(len([p for p in ps if not p["metadata"].get("deletionTimestamp")]) <= 1 for ps in per_node.values())
    assert seen == {2, 3}  # the rollout was watched going through its steps
    final = by_node(cluster)
    assert sorted(final) == WORKERS
    assert all(image_of(ps[0]) == "nginx:1.26" and ps[0]["metadata"]["labels"]["controller-revision-hash"] != old_hash
               for ps in final.values())
    st = get(cluster)["status"]
    assert (st["updatedNumberScheduled"], st["numberAvailable"], st["observedGeneration"]) == (3, 3, 2)


def test_rolling_update_with_max_surge_keeps_every_node_available(cluster):
    create(cluster, daemonset(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}))
    cluster.advance(15)
    set_image(cluster, "nginx:1.26")
    samples = _watch_rollout(cluster, 60)
    saw_two = False
    for per_node in samples:
        assert all(any(ready(p) for p in per_node.get(node, [])) for node in WORKERS)  # 100 % available
        surged = [n for n, ps in per_node.items()
                  if len([p for p in ps if not p["metadata"].get("deletionTimestamp")]) == 2]
        assert len(surged) <= 1  # maxSurge 1
        saw_two = saw_two or bool(surged)
    assert saw_two
    assert all(image_of(ps[0]) == "nginx:1.26" and len(ps) == 1 for ps in by_node(cluster).values())


def test_on_delete_replaces_only_deleted_pods(cluster):
    create(cluster, daemonset(strategy={"type": "OnDelete"}))
    cluster.advance(15)
    set_image(cluster, "nginx:1.26")
    cluster.advance(20)
    assert all(image_of(p) == "nginx:1.27" for p in pods(cluster))
    assert "updatedNumberScheduled" not in get(cluster)["status"]  # 0, and omitempty
    victim = by_node(cluster)["worker-1"][0]["metadata"]["name"]
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": victim}))
    cluster.advance(45)
    images = {node: image_of(ps[0]) for node, ps in by_node(cluster).items()}
    assert images == {"worker-1": "nginx:1.26", "worker-2": "nginx:1.27", "worker-3": "nginx:1.27"}
    assert get(cluster)["status"]["updatedNumberScheduled"] == 1


def test_history_rollback_and_cleanup(cluster):
    create(cluster, daemonset(revisionHistoryLimit=1))
    cluster.advance(15)
    (r1,) = revisions(cluster)
    assert r1["revision"] == 1 and r1["metadata"]["name"] == "agent-" + r1["metadata"]["labels"]["controller-revision-hash"]
    assert r1["data"]["spec"]["template"]["$patch"] == "replace"
    assert r1["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
    set_image(cluster, "nginx:1.26")
    cluster.advance(60)
    assert [r["revision"] for r in revisions(cluster)] == [1, 2]
    # kubectl rollout undo: the old revision's data as a strategic merge patch; that revision
    # becomes the newest (3), and the pods go back to its hash.
    patch_ds(cluster, r1["data"], patch_type="application/strategic-merge-patch+json")
    cluster.advance(60)
    revs = revisions(cluster)
    assert [(r["metadata"]["name"], r["revision"]) for r in revs][-1] == (r1["metadata"]["name"], 3)
    assert all(image_of(p) == "nginx:1.27" and p["metadata"]["labels"]["controller-revision-hash"] ==
               r1["metadata"]["labels"]["controller-revision-hash"] for p in pods(cluster))
    # revisionHistoryLimit 1: after a third template, only one old revision is kept.
    set_image(cluster, "nginx:1.25")
    cluster.advance(60)
    assert len(revisions(cluster)) == 2 and revisions(cluster)[-1]["revision"] == 4
    # Deleting the DaemonSet collects its revisions and pods.
    ok(cluster.request({"verb": "delete", **DS, "name": "agent"}))
    cluster.advance(40)
    assert revisions(cluster) == [] and pods(cluster) == []


def test_orphaned_pods_and_revisions_are_adopted_by_a_new_daemonset(cluster):
    """kubectl delete ds --cascade=orphan, then the same DaemonSet again: it adopts the pods and
    the revision (ControllerRefManager) instead of replacing them."""
    create(cluster, daemonset())
    cluster.advance(15)
    before = sorted(p["metadata"]["name"] for p in pods(cluster))
    ok(cluster.request({"verb": "delete", **DS, "name": "agent", "body": {"propagationPolicy": "Orphan"}}))
    cluster.advance(10)
    assert all(not p["metadata"].get("ownerReferences") for p in pods(cluster))
    assert all(not r["metadata"].get("ownerReferences") for r in revisions(cluster))
    uid = create(cluster, daemonset())["metadata"]["uid"]
    cluster.advance(15)
    assert sorted(p["metadata"]["name"] for p in pods(cluster, live=False)) == before
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == uid for p in pods(cluster))
    (rev,) = revisions(cluster)
    assert rev["revision"] == 1 and rev["metadata"]["ownerReferences"][0]["uid"] == uid


def test_a_controller_manager_restart_changes_nothing(cluster):
    """A new leader's controller waits for its caches (WaitForNamedCacheSync): no duplicate pod,
    no new revision."""
    create(cluster, daemonset())
    cluster.advance(15)
    before = sorted(p["metadata"]["name"] for p in pods(cluster))
    cluster.kill_component("cp-1", "kube-controller-manager")
    cluster.advance(90)
    assert sorted(p["metadata"]["name"] for p in pods(cluster, live=False)) == before
    assert [r["revision"] for r in revisions(cluster)] == [1]


@pytest.mark.parametrize("flags", [("*", "-daemonset-controller"), ("*", "-daemonset")])
def test_the_controller_can_be_turned_off(flags):
    from sim.controllers.descriptors import enabled
    assert "daemonset-controller" not in [d.name for d in enabled(flags)]
    assert "daemonset-controller" in [d.name for d in enabled(("*",))]
