"""PodDisruptionBudgets in the engine, in virtual time: the kind (validation, printer), the
disruption controller's status (pkg/controller/disruption) and evictions against budgets
(pkg/registry/core/pod/storage/eviction.go)."""
from __future__ import annotations

import copy

import pytest

from sim.apiserver import eviction
from sim.registry.policy import poddisruptionbudgets as pdbs
from tests.builders import MakePod
from tests.sim.conftest import ok


def req(c, verb, resource, body=None, name=None, group="", sub=None):
    return c.request({"verb": verb, "group": group, "resource": resource, "namespace": "default", "name": name,
                      "body": body, "subresource": sub})


def create_rs(c, name, replicas, labels=None):
    labels = labels or {"app": name}
    return ok(req(c, "create", "replicasets", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}, group="apps"))


def create_pdb(c, name, selector=None, **spec):
    body = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": selector or {"app": name}}, **spec}}
    return req(c, "create", "poddisruptionbudgets", body, group="policy")


def get_pdb(c, name):
    return ok(req(c, "get", "poddisruptionbudgets", name=name, group="policy"))


def evict(c, name):
    return req(c, "create", "pods", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}},
               name=name, sub="eviction")


def pods_of(c, app):
    items = ok(req(c, "list", "pods"))["items"]
    return sorted(p["metadata"]["name"] for p in items if (p["metadata"].get("labels") or {}).get("app") == app
                  and not p["metadata"].get("deletionTimestamp"))


def counts(pdb):
    st = pdb["status"]
    return st["expectedPods"], st["desiredHealthy"], st["currentHealthy"], st["disruptionsAllowed"]


@pytest.mark.parametrize("spec, expected", [
    ({"minAvailable": 2}, (3, 2, 3, 1)),
    ({"minAvailable": "50%"}, (3, 2, 3, 1)),       # 1.5 rounded up
    ({"maxUnavailable": 1}, (3, 2, 3, 1)),
    ({"maxUnavailable": "34%"}, (3, 1, 3, 2)),     # 1.02 rounded up: 2 may go
    ({"minAvailable": "100%"}, (3, 3, 3, 0)),
])
def test_status_from_the_replicasets_scale(cluster, spec, expected):
    create_rs(cluster, "web", 3)
    ok(create_pdb(cluster, "web", **spec))
    cluster.advance(15)
    pdb = get_pdb(cluster, "web")
    assert counts(pdb) == expected
    st = pdb["status"]
    assert st["observedGeneration"] == pdb["metadata"]["generation"] == 1
    [cond] = st["conditions"]
    allowed = expected[3] > 0
    assert (cond["type"], cond["status"], cond["reason"], cond["message"], cond["observedGeneration"]) == \
        ("DisruptionAllowed", "True" if allowed else "False", "SufficientPods" if allowed else "InsufficientPods", "", 1)


def test_a_new_budget_starts_empty_and_generation_moves_with_the_spec(cluster):
    created = ok(create_pdb(cluster, "web", minAvailable=1))
    assert created["status"] == {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}
    cluster.advance(5)
    assert get_pdb(cluster, "web")["status"]["conditions"][0]["reason"] == "InsufficientPods"  # no pods
    cur = copy.deepcopy(get_pdb(cluster, "web"))
    cur["spec"]["minAvailable"] = 0
    updated = ok(req(cluster, "update", "poddisruptionbudgets", cur, name="web", group="policy"))
    assert updated["metadata"]["generation"] == 2
    cluster.advance(5)
    assert get_pdb(cluster, "web")["status"]["observedGeneration"] == 2


def test_unmanaged_pods_with_a_percentage_fail_safe(cluster):
    body = MakePod().name("bare").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest()
    body["metadata"]["labels"] = {"app": "bare"}
    ok(req(cluster, "create", "pods", body))
    ok(create_pdb(cluster, "bare", maxUnavailable="50%"))
    cluster.advance(10)
    st = get_pdb(cluster, "bare")["status"]
    # An unmanaged pod gives no expected scale: 0 expected, nothing may be disrupted.
    assert st["expectedPods"] == 0 and st["disruptionsAllowed"] == 0


def test_eviction_decrements_and_records_then_refuses(cluster):
    create_rs(cluster, "web", 3)
    ok(create_pdb(cluster, "web", minAvailable=2))
    cluster.advance(15)
    first, second = pods_of(cluster, "web")[:2]
    ok(evict(cluster, first), 201)
    st = get_pdb(cluster, "web")["status"]
    # (the controller has already seen the pod deleting and dropped it from disruptedPods)
    assert st["disruptionsAllowed"] == 0
    assert st["conditions"][0]["reason"] == "InsufficientPods"
    refused = evict(cluster, second)
    assert refused["code"] == 429
    body = refused["body"]
    assert (body["reason"], body["message"]) == ("TooManyRequests",
                                                 "Cannot evict pod as it would violate the pod's disruption budget.")
    assert body["details"]["causes"] == [{"reason": "DisruptionBudget",
                                          "message": "The disruption budget web needs 2 healthy pods and has 2 currently"}]
    # The replacement comes up: the controller allows one again and forgets the evicted pod.
    cluster.advance(30)
    st = get_pdb(cluster, "web")["status"]
    assert counts(get_pdb(cluster, "web")) == (3, 2, 3, 1)
    assert "disruptedPods" not in st
    ok(evict(cluster, second), 201)


def test_a_budget_not_yet_observed_refuses_with_retry():
    pdb = {"metadata": {"name": "web", "generation": 2},
           "status": {"observedGeneration": 1, "disruptionsAllowed": 3}}
    action, refusal = eviction.check_and_decrement(pdb, "web-1", False, "x")
    assert action == "error" and refusal["code"] == 429
    assert refusal["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert refusal["details"] == {"retryAfterSeconds": 10, "causes": [
        {"reason": "DisruptionBudget", "message": "The disruption budget web is still being processed by the server."}]}


def test_more_than_one_budget_is_a_500(cluster):
    create_rs(cluster, "web", 2)
    ok(create_pdb(cluster, "a", selector={"app": "web"}, maxUnavailable=1))
    ok(create_pdb(cluster, "b", selector={"app": "web"}, maxUnavailable=1))
    cluster.advance(15)
    resp = evict(cluster, pods_of(cluster, "web")[0])
    assert resp["code"] == 500
    assert resp["body"]["message"] == eviction.MORE_THAN_ONE
    assert resp["body"]["status"] == "Failure" and "reason" not in resp["body"]


def test_unhealthy_pod_eviction_policy(cluster):
    """An unready pod (its node lost: the node lifecycle controller marks it NotReady) is guarded
    by IfHealthyBudget while the budget is short; AlwaysAllow lets it go without charging it."""
    create_rs(cluster, "web", 3)
    ok(create_pdb(cluster, "web", minAvailable=3))
    cluster.advance(15)
    target = pods_of(cluster, "web")[0]
    cluster.kill_node(ok(req(cluster, "get", "pods", name=target))["spec"]["nodeName"])
    cluster.advance(70)
    ready = {c["type"]: c["status"] for c in ok(req(cluster, "get", "pods", name=target))["status"]["conditions"]}
    assert ready["Ready"] == "False"
    assert counts(get_pdb(cluster, "web"))[2] == 2
    assert evict(cluster, target)["code"] == 429
    cur = copy.deepcopy(get_pdb(cluster, "web"))
    cur["spec"]["unhealthyPodEvictionPolicy"] = "AlwaysAllow"
    ok(req(cluster, "update", "poddisruptionbudgets", cur, name="web", group="policy"))
    cluster.advance(2)
    ok(evict(cluster, target), 201)
    assert ok(req(cluster, "get", "pods", name=target))["metadata"].get("deletionTimestamp")
    assert "disruptedPods" not in get_pdb(cluster, "web")["status"]  # the budget was not charged


@pytest.mark.parametrize("spec, message", [
    ({"minAvailable": 1, "maxUnavailable": 1}, "minAvailable and maxUnavailable cannot be both set"),
    ({"minAvailable": -1}, "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"),
    ({"maxUnavailable": "101%"}, 'spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, '
                                 'StrVal:"101%"}: must not be greater than 100%'),
    ({"minAvailable": "x"}, "spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"x\"}: "
                            "a valid percent string must be a numeric string followed by an ending '%'"),
    ({"minAvailable": 1, "unhealthyPodEvictionPolicy": "Sometimes"},
     'spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", '
     '"IfHealthyBudget"'),
])
def test_validation(cluster, spec, message):
    resp = create_pdb(cluster, "bad", **spec)
    assert resp["code"] == 422, resp
    assert resp["body"]["message"].startswith('PodDisruptionBudget.policy "bad" is invalid: ')
    assert message in resp["body"]["message"]


def test_printer_row():
    obj = {"metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
           "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 2}}
    columns = [c["name"] for c in pdbs.RESOURCE.printer.columns]
    assert columns == ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"]
    now = pdbs.RESOURCE.printer.row(obj, 0)
    assert now[:4] == ["web", "50%", "N/A", 2]


def test_scaled_value_rounds_up():
    assert pdbs.scaled_value("34%", 3, True) == 2
    assert pdbs.scaled_value("50%", 3, True) == 2
    assert pdbs.scaled_value(2, 10, True) == 2
    with pytest.raises(pdbs.IntOrPercentError):
        pdbs.scaled_value("5", 3, True)


def test_check_and_decrement_records_the_pod():
    pdb = {"metadata": {"name": "web", "generation": 1},
           "status": {"observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2,
                      "expectedPods": 3, "conditions": [{"type": "DisruptionAllowed", "status": "True",
                                                         "reason": "SufficientPods", "message": "",
                                                         "observedGeneration": 1,
                                                         "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}
    action, new = eviction.check_and_decrement(pdb, "web-1", False, "2026-01-01T00:01:00Z")
    assert action == "update"
    assert new["status"]["disruptionsAllowed"] == 0
    assert new["status"]["disruptedPods"] == {"web-1": "2026-01-01T00:01:00Z"}
    cond = new["status"]["conditions"][0]
    assert (cond["status"], cond["reason"], cond["lastTransitionTime"]) == ("False", "InsufficientPods",
                                                                           "2026-01-01T00:01:00Z")
    assert pdb["status"]["disruptionsAllowed"] == 1  # the stored object is untouched
    assert eviction.check_and_decrement(pdb, "web-1", True, "x") == ("noop", pdb)  # a dry run writes nothing
    action, refusal = eviction.check_and_decrement(new, "web-2", False, "x")
    assert action == "error" and refusal["code"] == 429
