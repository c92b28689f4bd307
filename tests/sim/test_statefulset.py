"""The StatefulSet controller (sim/controllers/statefulset.py) in virtual time: stable names
made in order and removed in reverse, Parallel, partitioned rolling updates, OnDelete, a claim
per pod that outlives the pod, the retention policy, and the "at most one" guarantee on a dead
node."""
import copy

from tests.builders import MakePod, MakeReplicaSet
from tests.sim.conftest import ok

NS = "default"


def statefulset(name="web", replicas=3, image="nginx:1.27", policy="OrderedReady", strategy=None,
                claims=True, retention=None, ready_delay=5, pre_stop=0):
    """The docs' web StatefulSet; the container's readiness probe answers `ready_delay` seconds
    after it starts, so each pod's Ready moment is its own (what OrderedReady waits for)."""
    container = {"name": "nginx", "image": image, "ports": [{"containerPort": 80, "name": "web"}],
                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": ready_delay,
                                    "periodSeconds": 1}}
    spec = {"serviceName": "nginx", "replicas": replicas, "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"terminationGracePeriodSeconds": 5, "containers": [container]}}}
    if pre_stop:   # a pod then takes `pre_stop` seconds to terminate
        container["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", str(pre_stop)]}}}
    if claims:
        container["volumeMounts"] = [{"name": "www", "mountPath": "/usr/share/nginx/html"}]
        spec["volumeClaimTemplates"] = [{"metadata": {"name": "www"},
                                         "spec": {"accessModes": ["ReadWriteOnce"],
                                                  "resources": {"requests": {"storage": "1Gi"}}}}]
    if strategy:
        spec["updateStrategy"] = strategy
    if retention:
        spec["persistentVolumeClaimRetentionPolicy"] = retention
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def create(c, body):
    return ok(c.request({"verb": "create", "group": "apps", "resource": "statefulsets", "namespace": NS, "body": body}))


def get_sts(c, name="web"):
    return ok(c.request({"verb": "get", "group": "apps", "resource": "statefulsets", "namespace": NS, "name": name}))


def patch_sts(c, patch, name="web"):
    return ok(c.request({"verb": "patch", "group": "apps", "resource": "statefulsets", "namespace": NS, "name": name,
                         "body": patch, "patch_type": "application/strategic-merge-patch+json"}))


def pods(c, app="web"):
    items = ok(c.request({"verb": "list", "resource": "pods", "namespace": NS,
                          "query": {"labelSelector": f"app={app}"}}))["items"]
    return {p["metadata"]["name"]: p for p in items}


def claims(c):
    return {p["metadata"]["name"]: p for p in ok(c.request({"verb": "list", "resource": "persistentvolumeclaims",
                                                            "namespace": NS}))["items"]}


def ready(pod):
    return any(cond["type"] == "Ready" and cond["status"] == "True" for cond in pod["status"].get("conditions") or [])


def watch(c, seconds, step=0.5, app="web"):
    """Sample the pods every `step` for `seconds`: when each name was first seen, first seen
    Ready, first seen terminating, and last seen (by uid, so a pod made again is another)."""
    seen: dict = {}
    t_end = c.kernel.now + seconds
    while c.kernel.now < t_end:
        c.advance(step)
        now = c.kernel.now
        current = pods(c, app)
        for name, p in current.items():
            rec = seen.setdefault((name, p["metadata"]["uid"]), {"created": now})
            if ready(p) and "ready" not in rec:
                rec["ready"] = now
            if p["metadata"].get("deletionTimestamp") and "terminating" not in rec:
                rec["terminating"] = now
            rec["last"] = now
    return seen


def by_name(seen):
    out = {}
    for (name, _uid), rec in seen.items():
        out.setdefault(name, []).append(rec)
    return out


def wait_for(c, cond, timeout=300, step=1.0):
    t_end = c.kernel.now + timeout
    while c.kernel.now < t_end:
        if cond():
            return True
        c.advance(step)
    return cond()


def all_ready(c, n, app="web"):
    ps = pods(c, app)
    return len(ps) == n and all(ready(p) and not p["metadata"].get("deletionTimestamp") for p in ps.values())


def test_ordered_scale_up_then_down(cluster):
    c = cluster
    create(c, statefulset(replicas=3, pre_stop=2))
    seen = by_name(watch(c, 60))
    assert sorted(seen) == ["web-0", "web-1", "web-2"]
    (w0,), (w1,), (w2,) = seen["web-0"], seen["web-1"], seen["web-2"]
    # each pod is made only once its predecessor is Running and Ready
    assert w0["ready"] <= w1["created"] and w1["ready"] <= w2["created"], seen
    assert w1["created"] - w0["created"] >= 5 and w2["created"] - w1["created"] >= 5   # the readiness delay
    sts = get_sts(c)
    assert sts["status"]["readyReplicas"] == 3 and sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    p = pods(c)["web-1"]
    assert p["spec"]["hostname"] == "web-1" and p["spec"]["subdomain"] == "nginx"
    assert p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert p["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert p["metadata"]["labels"]["controller-revision-hash"] == sts["status"]["updateRevision"]
    assert p["metadata"]["generateName"] == "web-"
    assert p["spec"]["volumes"][0] == {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-1"}}

    # scale down to 0: web-2 first; web-1 only once web-2 is gone; then web-0
    patch_sts(c, {"spec": {"replicas": 0}})
    gone = by_name(watch(c, 40, step=0.1))
    assert not pods(c)
    t = {name: (recs[0].get("terminating"), recs[0]["last"]) for name, recs in gone.items()}
    assert t["web-2"][1] < t["web-1"][0] and t["web-1"][1] < t["web-0"][0], t
    # the claims stay (whenScaled: Retain)
    assert {"www-web-0", "www-web-1", "www-web-2"} <= set(claims(c))
    events = [e for e in ok(c.request({"verb": "list", "resource": "events", "namespace": NS}))["items"]
              if e["involvedObject"]["kind"] == "StatefulSet"]
    messages = [e["message"] for e in events]
    assert "create Pod web-0 in StatefulSet web successful" in messages
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in messages
    assert "delete Pod web-2 in StatefulSet web successful" in messages
    assert {e["reason"] for e in events} == {"SuccessfulCreate", "SuccessfulDelete"}   # no FailedCreate races


def test_parallel_makes_every_pod_at_once(cluster):
    c = cluster
    create(c, statefulset(replicas=3, policy="Parallel", ready_delay=10, pre_stop=3))
    seen = by_name(watch(c, 8))
    # all three exist before the first one is ready
    assert sorted(seen) == ["web-0", "web-1", "web-2"]
    assert all("ready" not in recs[0] for recs in seen.values())
    assert wait_for(c, lambda: all_ready(c, 3))
    patch_sts(c, {"spec": {"replicas": 1}})
    c.advance(1)
    ps = pods(c)   # both condemned pods terminate together (OrderedReady would wait for web-2 to go)
    assert ps["web-1"]["metadata"].get("deletionTimestamp") and ps["web-2"]["metadata"].get("deletionTimestamp")
    assert wait_for(c, lambda: sorted(pods(c)) == ["web-0"])


def test_partitioned_rolling_update(cluster):
    c = cluster
    create(c, statefulset(replicas=3, claims=False, ready_delay=2,
                          strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}))
    assert wait_for(c, lambda: all_ready(c, 3))
    old_rev = get_sts(c)["status"]["currentRevision"]
    patch_sts(c, {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}})
    assert wait_for(c, lambda: pods(c)["web-2"]["spec"]["containers"][0]["image"] == "nginx:1.26" and all_ready(c, 3))
    c.advance(20)
    ps = pods(c)
    assert [ps[f"web-{i}"]["spec"]["containers"][0]["image"] for i in range(3)] == ["nginx:1.27", "nginx:1.27",
                                                                                    "nginx:1.26"]
    st = get_sts(c)["status"]
    assert st["currentRevision"] == old_rev != st["updateRevision"]
    assert (st["updatedReplicas"], st["currentReplicas"]) == (1, 2)
    assert ps["web-2"]["metadata"]["labels"]["controller-revision-hash"] == st["updateRevision"]
    # lowering the partition rolls the rest, highest ordinal first, one at a time
    patch_sts(c, {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})
    t0 = c.kernel.now
    seen = by_name(watch(c, 40, step=0.2))
    w1_new = [r for r in seen["web-1"] if r["created"] > t0 + 0.2]
    w0_old, w0_new = seen["web-0"][0], [r for r in seen["web-0"] if r["created"] > t0 + 0.2]
    # web-0 goes only once the new web-1 is ready
    assert w1_new and w0_new and w1_new[0]["ready"] <= w0_old["last"] < w0_new[0]["created"], seen
    assert all_ready(c, 3)
    st = get_sts(c)["status"]
    assert st["currentRevision"] == st["updateRevision"] and st["updatedReplicas"] == 3 == st["currentReplicas"]
    assert {p["spec"]["containers"][0]["image"] for p in pods(c).values()} == {"nginx:1.26"}
    revs = ok(c.request({"verb": "list", "group": "apps", "resource": "controllerrevisions", "namespace": NS}))["items"]
    assert sorted(r["revision"] for r in revs) == [1, 2]


def test_on_delete_updates_only_deleted_pods(cluster):
    c = cluster
    create(c, statefulset(replicas=2, claims=False, ready_delay=1, strategy={"type": "OnDelete"}))
    assert wait_for(c, lambda: all_ready(c, 2))
    patch_sts(c, {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}})
    c.advance(30)
    assert {p["spec"]["containers"][0]["image"] for p in pods(c).values()} == {"nginx:1.27"}
    st = get_sts(c)["status"]
    assert st["updateRevision"] != st["currentRevision"] and st.get("updatedReplicas", 0) == 0
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": NS, "name": "web-0"}))
    assert wait_for(c, lambda: "web-0" in pods(c) and pods(c)["web-0"]["spec"]["containers"][0]["image"] == "nginx:1.26"
                    and all_ready(c, 2))
    assert pods(c)["web-1"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert get_sts(c)["status"]["updatedReplicas"] == 1


def test_claim_follows_the_pod_and_retention_policy(cluster):
    c = cluster
    create(c, statefulset(replicas=2, ready_delay=1, retention={"whenDeleted": "Delete", "whenScaled": "Delete"}))
    assert wait_for(c, lambda: all_ready(c, 2))
    before = claims(c)
    assert before["www-web-0"]["status"]["phase"] == "Bound"
    sts = get_sts(c)
    # whenDeleted Delete: the set controls its claims
    refs = before["www-web-0"]["metadata"]["ownerReferences"]
    assert [(r["kind"], r["uid"], r["controller"]) for r in refs] == [("StatefulSet", sts["metadata"]["uid"], True)]
    old_uid = pods(c)["web-0"]["metadata"]["uid"]
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": NS, "name": "web-0"}))
    assert wait_for(c, lambda: "web-0" in pods(c) and pods(c)["web-0"]["metadata"]["uid"] != old_uid
                    and all_ready(c, 2))
    after = claims(c)
    # the same claim, bound to the same volume, mounted by the new pod
    assert after["www-web-0"]["metadata"]["uid"] == before["www-web-0"]["metadata"]["uid"]
    assert after["www-web-0"]["spec"]["volumeName"] == before["www-web-0"]["spec"]["volumeName"]
    assert pods(c)["web-0"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "www-web-0"
    # whenScaled Delete: scaling down hands the claim to the condemned pod, deleted with it
    patch_sts(c, {"spec": {"replicas": 1}})
    assert wait_for(c, lambda: "web-1" not in pods(c) and "www-web-1" not in claims(c), timeout=120)
    assert "www-web-0" in claims(c)
    # whenDeleted Delete: deleting the set deletes its claims (garbage collection)
    ok(c.request({"verb": "delete", "group": "apps", "resource": "statefulsets", "namespace": NS, "name": "web"}))
    assert wait_for(c, lambda: not pods(c) and not claims(c), timeout=120)


def test_retain_keeps_claims_and_scale_up_reuses_them(cluster):
    c = cluster
    create(c, statefulset(replicas=2, ready_delay=1))
    assert wait_for(c, lambda: all_ready(c, 2))
    uid = claims(c)["www-web-1"]["metadata"]["uid"]
    assert not claims(c)["www-web-1"]["metadata"].get("ownerReferences")
    patch_sts(c, {"spec": {"replicas": 1}})
    assert wait_for(c, lambda: "web-1" not in pods(c))
    c.advance(10)
    assert claims(c)["www-web-1"]["metadata"]["uid"] == uid
    patch_sts(c, {"spec": {"replicas": 2}})
    assert wait_for(c, lambda: all_ready(c, 2))
    assert claims(c)["www-web-1"]["metadata"]["uid"] == uid


def test_dead_node_pod_is_not_replaced_until_it_is_really_gone(cluster):
    """The "at most one" lesson: web-1's node dies.  The node lifecycle controller marks it
    NotReady, taint eviction deletes web-1 after its 300 s toleration - but the kubelet that
    would confirm the container stopped is dead, so the pod stays Terminating, and the
    StatefulSet controller makes no second web-1 however long we wait (a ReplicaSet would have
    replaced it at once).  Only when the pod object is really gone - force-deleted here - does
    web-1 come back, elsewhere, with the same claim."""
    c = cluster
    create(c, statefulset(replicas=2, ready_delay=1))
    assert wait_for(c, lambda: all_ready(c, 2))
    victim = pods(c)["web-1"]
    node, uid = victim["spec"]["nodeName"], victim["metadata"]["uid"]
    # for contrast, a one-replica ReplicaSet pinned to the same node
    rs = MakeReplicaSet().name("cattle").namespace(NS).replicas(1).selector({"app": "cattle"}).template(
        MakePod().labels({"app": "cattle"}).container("nginx:1.27", name="c")
        .spec(nodeSelector={"kubernetes.io/hostname": node})).manifest()
    ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": NS, "body": rs}))
    assert wait_for(c, lambda: all_ready(c, 1, app="cattle"))
    c.kill_node(node)
    assert wait_for(c, lambda: pods(c)["web-1"]["metadata"].get("deletionTimestamp"), timeout=500, step=10)
    c.advance(600)   # ten more minutes: still the same web-1, still Terminating, no twin
    # the ReplicaSet did not wait: its evicted pod is still there (Terminating) beside its replacement
    cattle = pods(c, app="cattle")
    assert len(cattle) == 2 and sum(1 for p in cattle.values() if p["metadata"].get("deletionTimestamp")) == 1
    ps = pods(c)
    assert sorted(ps) == ["web-0", "web-1"]
    assert ps["web-1"]["metadata"]["uid"] == uid and ps["web-1"]["metadata"]["deletionTimestamp"]
    assert ps["web-1"]["spec"]["nodeName"] == node
    assert get_sts(c)["status"]["readyReplicas"] == 1
    # the operator confirms the node is gone: force delete
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": NS, "name": "web-1",
                  "query": {"gracePeriodSeconds": "0"}}))
    assert wait_for(c, lambda: "web-1" in pods(c) and pods(c)["web-1"]["metadata"]["uid"] != uid, timeout=30)
    reborn = pods(c)["web-1"]
    assert reborn["spec"]["nodeName"] != node
    assert reborn["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "www-web-1"
    assert wait_for(c, lambda: all_ready(c, 2), timeout=600, step=5)


def test_validation_and_defaults(cluster):
    c = cluster
    body = statefulset(replicas=1)
    sts = copy.deepcopy(create(c, copy.deepcopy(body)))   # the answer may share the stored object: copy
    spec = sts["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    sts["spec"]["serviceName"] = "other"
    resp = c.request({"verb": "update", "group": "apps", "resource": "statefulsets", "namespace": NS, "name": "web",
                      "body": sts})
    assert resp["code"] == 422
    assert "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'" in resp["body"]["message"]
    bad = statefulset(name="bad", replicas=1)
    bad["spec"]["podManagementPolicy"] = "Sometimes"
    bad["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    bad["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Keep"}
    resp = c.request({"verb": "create", "group": "apps", "resource": "statefulsets", "namespace": NS, "body": bad})
    assert resp["code"] == 422
    causes = {cause["field"]: cause["message"] for cause in resp["body"]["details"]["causes"]}
    assert causes["spec.podManagementPolicy"] == 'Invalid value: "Sometimes": must be \'OrderedReady\' or \'Parallel\''
    assert "spec.template.spec.restartPolicy" in causes
    assert "spec.persistentVolumeClaimRetentionPolicy.whenDeleted" in causes


def test_dead_node_coming_back_lets_the_pod_be_made_again(cluster):
    """The other way a Terminating pod on a dead node really goes: the node comes back, its
    kubelet stops the container and the pod is removed; only then is web-0 made again."""
    c = cluster
    create(c, statefulset(replicas=1, claims=False, ready_delay=1))
    assert wait_for(c, lambda: all_ready(c, 1))
    victim = pods(c)["web-0"]
    node, uid = victim["spec"]["nodeName"], victim["metadata"]["uid"]
    c.kill_node(node)
    assert wait_for(c, lambda: pods(c)["web-0"]["metadata"].get("deletionTimestamp"), timeout=500, step=10)
    c.advance(120)
    assert pods(c)["web-0"]["metadata"]["uid"] == uid
    c.restore_node(node)
    assert wait_for(c, lambda: "web-0" in pods(c) and pods(c)["web-0"]["metadata"]["uid"] != uid and all_ready(c, 1),
                    timeout=300, step=2)


def test_ordinals_start_and_min_ready_seconds(cluster):
    """spec.ordinals.start names the pods from it; minReadySeconds makes OrderedReady wait for
    each pod to have been Ready that long (availableReplicas counts them only then)."""
    c = cluster
    body = statefulset(replicas=2, claims=False, ready_delay=1)
    body["spec"]["ordinals"] = {"start": 5}
    body["spec"]["minReadySeconds"] = 10
    create(c, body)
    seen = by_name(watch(c, 40))
    assert sorted(seen) == ["web-5", "web-6"]
    assert seen["web-6"][0]["created"] - seen["web-5"][0]["ready"] >= 10, seen
    assert wait_for(c, lambda: get_sts(c)["status"].get("availableReplicas") == 2, timeout=60)
    st = get_sts(c)["status"]
    assert (st["replicas"], st["readyReplicas"]) == (2, 2)


def test_dead_node_deleted_lets_the_pod_be_made_again(cluster):
    """The third way: the operator deletes the dead Node object; the pod garbage collector
    (gcOrphaned, after its 40 s quarantine) force-deletes the pods bound to it, and only then
    is web-0 made again, on a live node."""
    c = cluster
    create(c, statefulset(replicas=1, claims=False, ready_delay=1))
    assert wait_for(c, lambda: all_ready(c, 1))
    victim = pods(c)["web-0"]
    node, uid = victim["spec"]["nodeName"], victim["metadata"]["uid"]
    c.kill_node(node)
    c.advance(120)
    assert pods(c)["web-0"]["metadata"]["uid"] == uid   # NotReady, not yet evicted, not replaced
    ok(c.request({"verb": "delete", "resource": "nodes", "name": node}))
    assert wait_for(c, lambda: "web-0" in pods(c) and pods(c)["web-0"]["metadata"]["uid"] != uid and all_ready(c, 1),
                    timeout=300, step=2)
    assert pods(c)["web-0"]["spec"]["nodeName"] != node
