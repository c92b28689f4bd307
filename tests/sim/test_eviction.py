"""The pods eviction subresource in the engine, in virtual time (sim/apiserver/eviction.py)."""
from __future__ import annotations

from sim.api import status as st
from sim.apiserver import eviction
from tests.builders import MakePod
from tests.sim.conftest import create_pod, get_pod, ok


def evict(c, name, **body):
    return c.request({"verb": "create", "resource": "pods", "namespace": "default", "name": name,
                      "subresource": "eviction", "body": {"apiVersion": "policy/v1", "kind": "Eviction",
                                                          "metadata": {"name": name}, **body}})


def running(c, name):
    ok(create_pod(c, name))
    c.advance(10)
    pod = ok(get_pod(c, name))
    assert pod["status"]["phase"] == "Running"
    return pod


def test_eviction_is_a_graceful_delete_with_the_disruption_target_condition(cluster):
    running(cluster, "web")
    assert ok(evict(cluster, "web"), 201) == {**st.success(), "code": 201}
    pod = ok(get_pod(cluster, "web"))
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30
    [cond] = [c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert (cond["status"], cond["reason"], cond["message"]) == ("True", "EvictionByEvictionAPI",
                                                                  "Eviction API: evicting")
    cluster.advance(40)
    assert get_pod(cluster, "web")["code"] == 404


def test_eviction_honours_the_delete_options(cluster):
    running(cluster, "quick")
    ok(evict(cluster, "quick", deleteOptions={"gracePeriodSeconds": 5}), 201)
    assert ok(get_pod(cluster, "quick"))["metadata"]["deletionGracePeriodSeconds"] == 5
    running(cluster, "kept")
    ok(evict(cluster, "kept", deleteOptions={"dryRun": ["All"]}), 201)
    pod = ok(get_pod(cluster, "kept"))
    assert "deletionTimestamp" not in pod["metadata"]
    assert "DisruptionTarget" not in [c["type"] for c in pod["status"]["conditions"]]


def test_missing_pod_and_wrong_name(cluster):
    resp = evict(cluster, "nobody")
    assert resp["code"] == 404 and resp["body"]["message"] == 'pods "nobody" not found'
    running(cluster, "named")
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": "named",
                            "subresource": "eviction", "body": {"metadata": {"name": "other"}}})
    assert resp["code"] == 400 and resp["body"]["message"] == "name in URL does not match name in Eviction object"


def test_a_budget_is_consulted_for_running_pods_only(cluster):
    """A budget with no disruption left refuses a running pod's eviction (429); canIgnorePDB
    pods (here: a Pending one) are evicted without looking at it."""
    for name, cpu in (("guarded", "100m"), ("pending", "64")):  # 64 CPUs fit no node: stays Pending
        body = MakePod().name(name).namespace("default").container("nginx:1.27", name="app", cpu=cpu, memory="64Mi").manifest()
        body["metadata"]["labels"] = {"app": "guarded"}
        ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}))
    ok(cluster.request({"verb": "create", "group": "policy", "resource": "poddisruptionbudgets",
                        "namespace": "default",
                        "body": {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                                 "metadata": {"name": "guard"},
                                 "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}}}))
    cluster.advance(10)
    resp = evict(cluster, "guarded")
    assert resp["code"] == 429 and resp["body"]["message"] == eviction.VIOLATION
    assert "deletionTimestamp" not in ok(get_pod(cluster, "guarded"))["metadata"]
    ok(evict(cluster, "pending"), 201)
    assert get_pod(cluster, "pending")["code"] == 404  # unscheduled: deleted at once
