"""The Workloads view's data (sim/workloadview.py) and the watch cache's OwnerCensus
(sim/apiserver/ownercensus.py) it reads: an owner's children and their pods' states, kept with
every event; bounded frames; the upstream shapes of each workload kind."""
from __future__ import annotations

from sim.api.meta import timestamp
from sim.apiserver.ownercensus import OwnerCensus, pod_state
from sim.workloadview import CHIPS_MAX, WORKLOADS_SHOWN, WorkloadView, hpa_metrics, next_run
from tests.builders import MakeReplicaSet
from tests.sim.conftest import ok


def _rs(c, name, replicas):
    return ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                         "body": MakeReplicaSet.scenario(name, replicas, "nginx:1.27", "10m", "16Mi")}))


def _scan(c, uid):
    """What the census should say, the slow way: every pod's state, by a full scan."""
    counts = {}
    for pod in c.apiserver.cache.objects("pods").values():
        refs = [r for r in pod["metadata"].get("ownerReferences") or () if r.get("controller")]
        if refs and refs[0]["uid"] == uid:
            s = pod_state(pod)
            counts[s] = counts.get(s, 0) + 1
    return counts


def test_census_follows_a_replicaset_pods_through_their_lives(cluster):
    rs = _rs(cluster, "web", 3)
    uid = rs["metadata"]["uid"]
    cluster.advance(0.5)
    census = cluster.apiserver.cache.owners
    assert sum(census.counted(uid, "pods").values()) == 3
    assert set(census.counted(uid, "pods")) <= {"Pending", "ContainerCreating", "Running"}
    cluster.advance(10)
    assert census.counted(uid, "pods") == {"Ready": 3} == _scan(cluster, uid)

    snap = cluster.snapshot()["workloads"]
    entry, = [r for r in snap["replicasets"] if r["name"] == "web"]
    assert (entry["desired"], entry["current"], entry["ready"], entry["podTotal"]) == (3, 3, 3, 3)
    assert [c["state"] for c in entry["chips"]] == ["Ready"] * 3
    assert all(c["node"] and c["name"].startswith("web-") for c in entry["chips"])
    assert entry["images"] == ["nginx:1.27"] and snap["totals"]["replicasets"] >= 1

    # Scaled down: the pods going are Terminating until the kubelet has them gone, then leave.
    ok(cluster.request({"verb": "patch", "group": "apps", "resource": "replicasets", "namespace": "default",
                        "name": "web", "body": {"spec": {"replicas": 1}},
                        "patch_type": "application/merge-patch+json"}))
    for _ in range(50):  # within 5 s the controller has deleted them; the kubelet takes its time
        cluster.advance(0.1)
        if census.counted(uid, "pods").get("Terminating"):
            break
    assert census.counted(uid, "pods").get("Terminating") == 2 == _scan(cluster, uid).get("Terminating")
    cluster.advance(40)
    assert census.counted(uid, "pods") == {"Ready": 1}

    # Deleted: the census forgets the owner with its last child.
    ok(cluster.request({"verb": "delete", "group": "apps", "resource": "replicasets", "namespace": "default",
                        "name": "web"}))
    cluster.advance(40)
    assert census.counted(uid, "pods") == {} and uid not in census.children
    assert not [r for r in cluster.snapshot()["workloads"]["replicasets"] if r["name"] == "web"]


def test_a_large_owner_is_drawn_as_counts(cluster):
    rs = _rs(cluster, "big", CHIPS_MAX + 5)
    cluster.advance(15)
    entry, = [r for r in cluster.snapshot()["workloads"]["replicasets"] if r["name"] == "big"]
    assert entry["chips"] is None and entry["podTotal"] == CHIPS_MAX + 5
    assert sum(entry["pods"].values()) == CHIPS_MAX + 5 == sum(_scan(cluster, rs["metadata"]["uid"]).values())


def test_census_rebuilt_on_relist_matches(cluster):
    rs = _rs(cluster, "web", 2)
    cluster.advance(10)
    cluster.apiserver.relist()
    cluster.advance(2)
    assert cluster.apiserver.cache.owners.counted(rs["metadata"]["uid"], "pods") == {"Ready": 2}


# -- the upstream shapes, on a cache made by hand (kinds other branches serve) -----------------
class FakeCache:
    def __init__(self, objs: dict[str, list[dict]]):
        self.owners = OwnerCensus()
        self.store = {}
        for gr, items in objs.items():
            for o in items:
                key = (o["metadata"].get("namespace") or "", o["metadata"]["name"])
                self.store.setdefault(gr, {})[key] = o
                self.owners.set(gr, key, o)

    def objects(self, gr):
        return self.store.get(gr, {})

    def sorted_keys(self, gr):
        return sorted(self.store.get(gr, {}))


def _owned(name, uid, owner_kind=None, owner_uid=None, **extra):
    md = {"name": name, "namespace": "default", "uid": uid, **extra}
    if owner_uid:
        md["ownerReferences"] = [{"kind": owner_kind, "name": "x", "uid": owner_uid, "controller": True}]
    return md


def _pod(name, owner_uid, phase="Running", ready=True, node="worker-1", kind="ReplicaSet", **labels):
    return {"metadata": _owned(name, "p-" + name, kind, owner_uid, labels=labels),
            "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_a_deployment_mid_rollout_with_its_bounds():
    dep = {"metadata": _owned("web", "d1", annotations={"deployment.kubernetes.io/revision": "2"}, generation=2),
           "spec": {"replicas": 10, "strategy": {"type": "RollingUpdate",
                                                 "rollingUpdate": {"maxSurge": 3, "maxUnavailable": "20%"}},
                    "template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}}},
           "status": {"replicas": 12, "updatedReplicas": 4, "readyReplicas": 9, "availableReplicas": 9,
                      "unavailableReplicas": 3, "observedGeneration": 2}}

    def rs(name, rev, h, image, replicas, uid):
        return {"metadata": _owned(name, uid, "Deployment", "d1", labels={"pod-template-hash": h},
                                   annotations={"deployment.kubernetes.io/revision": str(rev)}),
                "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"pod-template-hash": h}},
                                                            "spec": {"containers": [{"name": "c", "image": image}]}}},
                "status": {"replicas": replicas, "readyReplicas": replicas}}
    old, new = rs("web-aaa", 1, "aaa", "nginx:1.27", 8, "rs1"), rs("web-bbb", 2, "bbb", "nginx:1.28", 4, "rs2")
    pods = [_pod(f"web-aaa-{i}", "rs1") for i in range(7)] + [
        {**_pod("web-aaa-7", "rs1"), "metadata": {**_owned("web-aaa-7", "p7", "ReplicaSet", "rs1"),
                                                   "deletionTimestamp": timestamp(5)}}] + [
        _pod(f"web-bbb-{i}", "rs2", ready=i < 2) for i in range(3)] + [
        _pod("web-bbb-3", "rs2", phase="Pending", ready=False, node=None)]
    cache = FakeCache({"deployments.apps": [dep], "replicasets.apps": [old, new], "pods": pods})
    view = WorkloadView().frame(cache, 100.0)
    d, = view["deployments"]
    assert (d["replicas"], d["maxSurge"], d["maxUnavailable"], d["maxPods"], d["minAvailable"]) == (10, 3, 2, 13, 8)
    assert [(r["name"], r["revision"], r["hash"], r["images"]) for r in d["replicasets"]] == [
        ("web-bbb", 2, "bbb", ["nginx:1.28"]), ("web-aaa", 1, "aaa", ["nginx:1.27"])]
    assert d["replicasets"][0]["pods"] == {"Ready": 2, "Running": 1, "Pending": 1}
    assert d["replicasets"][1]["pods"] == {"Ready": 7, "Terminating": 1}
    assert d["pods"] == {"Ready": 9, "Running": 1, "Pending": 1, "Terminating": 1}
    assert d["status"]["unavailable"] == 3 and d["revision"] == "2"
    assert view["replicasets"] == [] and view["totals"]["deployments"] == 1


def test_recreate_has_no_surge_and_may_take_all_down():
    dep = {"metadata": _owned("r", "d2"), "spec": {"replicas": 4, "strategy": {"type": "Recreate"}}, "status": {}}
    d, = WorkloadView().frame(FakeCache({"deployments.apps": [dep]}), 0.0)["deployments"]
    assert (d["maxSurge"], d["maxUnavailable"], d["maxPods"], d["minAvailable"]) == (0, 4, 4, 0)


def test_statefulset_daemonset_job_cronjob_and_hpa_shapes():
    ss = {"metadata": _owned("db", "s1"), "spec": {"replicas": 3, "serviceName": "db",
                                                  "template": {"spec": {"containers": [{"image": "postgres"}]}}},
          "status": {"readyReplicas": 2, "currentRevision": "db-1", "updateRevision": "db-1"}}
    ds = {"metadata": _owned("agent", "ds1"), "spec": {"template": {"spec": {"containers": [{"image": "fluentd"}]}}},
          "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1}}
    cj = {"metadata": _owned("tick", "cj1"), "spec": {"schedule": "*/5 * * * *", "concurrencyPolicy": "Forbid"},
          "status": {"lastScheduleTime": timestamp(300), "active": [{"name": "tick-1"}]}}
    job = {"metadata": _owned("tick-1", "j1", "CronJob", "cj1"),
           "spec": {"completions": 3, "parallelism": 2, "template": {"spec": {"containers": [{"image": "busybox"}]}}},
           "status": {"active": 1, "succeeded": 2, "failed": 1}}
    hpa = {"metadata": _owned("web", "h1"),
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                    "minReplicas": 1, "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 50}}}]},
           "status": {"currentReplicas": 2, "desiredReplicas": 4, "currentMetrics": [
               {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 95}}}]}}
    pods = [_pod("db-1", "s1", kind="StatefulSet"), _pod("db-0", "s1", kind="StatefulSet"),
            _pod("db-2", "s1", kind="StatefulSet", phase="Pending", ready=False),
            _pod("agent-x", "ds1", kind="DaemonSet", node="worker-2"), _pod("agent-y", "ds1", kind="DaemonSet"),
            _pod("tick-1-a", "j1", kind="Job", phase="Succeeded", ready=False)]
    crs = [{"metadata": _owned(f"agent-{h}", f"cr{n}", "DaemonSet", "ds1"), "revision": n, "data": {}}
           for n, h in ((1, "aaa"), (2, "bbb"))]
    cache = FakeCache({"statefulsets.apps": [ss], "daemonsets.apps": [ds], "cronjobs.batch": [cj],
                       "controllerrevisions.apps": crs,
                       "jobs.batch": [job], "horizontalpodautoscalers.autoscaling": [hpa], "pods": pods})
    wv = WorkloadView()
    view = wv.frame(cache, 400.0)
    s, = view["statefulsets"]
    assert [(c["ordinal"], c["state"]) for c in s["chips"]] == [(0, "Ready"), (1, "Ready"), (2, "ContainerCreating")]
    d, = view["daemonsets"]
    assert [c["node"] for c in d["chips"]] == ["worker-1", "worker-2"] and d["desired"] == 2
    assert d["revisions"] == [{"name": "agent-bbb", "revision": 2}, {"name": "agent-aaa", "revision": 1}]
    j, = view["jobs"]
    assert (j["completions"], j["succeeded"], j["failed"], j["active"], j["owner"], j["state"]) == \
        (3, 2, 1, 1, "CronJob/x", "Running")
    c, = view["cronjobs"]
    assert c["nextRun"] == 600.0 and c["lastScheduleTime"] == 300.0 and c["active"] == ["tick-1"]
    assert c["jobs"] == [{"name": "tick-1", "state": "Running", "succeeded": 2, "failed": 1, "active": 1}]
    h, = view["hpas"]
    assert (h["min"], h["max"], h["current"], h["desired"]) == (1, 10, 2, 4)
    assert h["metrics"] == [{"name": "cpu", "type": "Utilization", "target": 50, "current": 95}]
    assert h["series"] == [[400.0, 2, 4, 95]]
    # The graph grows only when something changed, and goes with its HPA.
    wv.frame(cache, 410.0)
    hpa["status"] = {**hpa["status"], "currentReplicas": 4}
    assert wv.frame(cache, 420.0)["hpas"][0]["series"] == [[400.0, 2, 4, 95], [420.0, 4, 4, 95]]
    del cache.store["horizontalpodautoscalers.autoscaling"]
    wv.frame(cache, 430.0)
    assert wv.series == {}


def test_hpa_v1_metrics_and_cron_time_zones():
    assert hpa_metrics({"targetCPUUtilizationPercentage": 80}, {"currentCPUUtilizationPercentage": 20}) == [
        {"name": "cpu", "type": "Utilization", "target": 80, "current": 20}]
    assert next_run("@hourly", None, 10.0) == 3600.0
    # 2026-01-01T00:00Z is 01:00 in Berlin: "0 2 * * *" there is 01:00Z.
    assert next_run("0 2 * * *", "Europe/Berlin", 0.0) == 3600.0
    assert next_run("not a schedule", None, 0.0) is None


def test_frames_are_bounded():
    deps = [{"metadata": _owned(f"d{i:03d}", f"u{i}"), "spec": {}, "status": {}} for i in range(WORKLOADS_SHOWN + 7)]
    view = WorkloadView().frame(FakeCache({"deployments.apps": deps}), 0.0)
    assert len(view["deployments"]) == WORKLOADS_SHOWN and view["totals"]["deployments"] == WORKLOADS_SHOWN + 7
