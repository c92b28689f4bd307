"""ResourceQuotas and LimitRanges in the engine, in virtual time: the kinds (validation, printers),
the LimitRanger and ResourceQuota admission plugins, and the resource quota controller."""
from __future__ import annotations

import pytest

from sim.api import quota
from sim.api.quantity import canonical
from sim.registry.core import limitranges, resourcequotas
from tests.builders import MakePod
from tests.sim.conftest import ok


def req(c, verb, resource, body=None, name=None, group="", ns="default", sub=None):
    return c.request({"verb": verb, "group": group, "resource": resource, "namespace": ns, "name": name,
                      "body": body, "subresource": sub})


def create_quota(c, name, hard, **spec):
    return req(c, "create", "resourcequotas", {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name},
                                               "spec": {"hard": hard, **spec}})


def create_limits(c, name, *items):
    return req(c, "create", "limitranges", {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": name},
                                            "spec": {"limits": list(items)}})


def status(c, name):
    return ok(req(c, "get", "resourcequotas", name=name))["status"]


def test_controller_fills_in_hard_and_used(cluster):
    ok(create_quota(cluster, "q", {"pods": "3", "requests.cpu": "1", "limits.memory": "1Gi",
                                   "count/replicasets.apps": "2"}))
    cluster.advance(5)
    assert status(cluster, "q") == {"hard": {"pods": "3", "requests.cpu": "1", "limits.memory": "1Gi",
                                             "count/replicasets.apps": "2"},
                                    "used": {"pods": "0", "requests.cpu": "0", "limits.memory": "0",
                                             "count/replicasets.apps": "0"}}
    ok(req(cluster, "create", "pods", MakePod().name("a").container("nginx", name="c", resources={"requests": {"cpu": "250m"}, "limits": {"memory": "256Mi", "cpu": "1"}}).manifest()))
    ok(req(cluster, "create", "pods", MakePod().name("b").container("nginx", name="c", resources={"requests": {"cpu": "250m"}, "limits": {"memory": "256Mi", "cpu": "1"}}).manifest()))
    cluster.advance(2)
    used = status(cluster, "q")["used"]
    assert (used["pods"], used["requests.cpu"], used["limits.memory"]) == ("2", "500m", "512Mi")
    ok(req(cluster, "delete", "pods", name="a", body={"gracePeriodSeconds": 0}))
    cluster.advance(40)
    used = status(cluster, "q")["used"]
    assert (used["pods"], used["requests.cpu"], used["limits.memory"]) == ("1", "250m", "256Mi")


def test_exceeded_quota_is_refused_with_upstreams_message(cluster):
    ok(create_quota(cluster, "q", {"pods": "2", "requests.cpu": "1"}))
    cluster.advance(5)
    for name in ("a", "b"):
        ok(req(cluster, "create", "pods", MakePod().name(name).container("nginx", name="c", resources={"requests": {"cpu": "400m"}}).manifest()))
    # At once, before the controller recounts: the admission charges showed the usage.
    resp = req(cluster, "create", "pods", MakePod().name("c").container("nginx", name="c", resources={"requests": {"cpu": "100m"}}).manifest())
    assert resp["code"] == 403, resp
    assert resp["body"]["message"] == ('pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, '
                                       'limited: pods=2')
    assert resp["body"]["reason"] == "Forbidden"
    ok(req(cluster, "delete", "pods", name="b", body={"gracePeriodSeconds": 0}))
    cluster.advance(40)
    resp = req(cluster, "create", "pods", MakePod().name("d").container("nginx", name="c", resources={"requests": {"cpu": "700m"}}).manifest())
    assert resp["body"]["message"] == ('pods "d" is forbidden: exceeded quota: q, requested: requests.cpu=700m, '
                                       'used: requests.cpu=400m, limited: requests.cpu=1')
    ok(req(cluster, "create", "pods", MakePod().name("e").container("nginx", name="c", resources={"requests": {"cpu": "600m"}}).manifest()))


def test_quota_needs_requests_named_and_status_known(cluster):
    ok(create_quota(cluster, "q", {"requests.memory": "1Gi", "limits.cpu": "2"}))
    # Before the controller has written status.used: refused.
    resp = req(cluster, "create", "pods", MakePod().name("early").container("nginx", name="c").manifest())
    assert resp["code"] == 403
    cluster.advance(5)
    resp = req(cluster, "create", "pods", MakePod().name("bare").container("nginx", name="c").manifest())
    assert resp["body"]["message"] == ('pods "bare" is forbidden: failed quota: q: must specify limits.cpu for: c; '
                                       'requests.memory for: c')


def test_object_counts(cluster):
    ok(create_quota(cluster, "q", {"count/replicasets.apps": "1"}))
    cluster.advance(5)
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "one"},
          "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "x"}},
                   "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "n"}]}}}}
    ok(req(cluster, "create", "replicasets", rs, group="apps"))
    rs["metadata"]["name"] = "two"
    resp = req(cluster, "create", "replicasets", rs, group="apps")
    assert resp["body"]["message"] == ('replicasets.apps "two" is forbidden: exceeded quota: q, requested: '
                                       'count/replicasets.apps=1, used: count/replicasets.apps=1, limited: '
                                       'count/replicasets.apps=1')
    cluster.advance(3)
    assert status(cluster, "q")["used"] == {"count/replicasets.apps": "1"}


def test_scoped_quota_counts_matching_pods_only(cluster):
    ok(create_quota(cluster, "be", {"pods": "1"}, scopes=["BestEffort"]))
    cluster.advance(5)
    ok(req(cluster, "create", "pods", MakePod().name("be1").container("nginx", name="c").manifest()))
    assert req(cluster, "create", "pods", MakePod().name("be2").container("nginx", name="c").manifest())["code"] == 403
    ok(req(cluster, "create", "pods", MakePod().name("burst").container("nginx", name="c", resources={"requests": {"cpu": "100m"}}).manifest()))


def test_limit_ranger_defaults_and_refuses(cluster):
    lr = ok(create_limits(cluster, "lr", {"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "64Mi"},
                                          "defaultRequest": {"cpu": "200m"}}))
    # SetDefaults_LimitRangeItem: default from max, defaultRequest from default (kept) and min.
    assert lr["spec"]["limits"][0]["default"] == {"cpu": "1"}
    assert lr["spec"]["limits"][0]["defaultRequest"] == {"cpu": "200m", "memory": "64Mi"}
    cluster.advance(1)
    created = ok(req(cluster, "create", "pods", MakePod().name("d").container("nginx", name="c").manifest()))
    assert created["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "1"},
                                                             "requests": {"cpu": "200m", "memory": "64Mi"}}
    assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == \
        "LimitRanger plugin set: cpu, memory request for container c; cpu limit for container c"
    resp = req(cluster, "create", "pods", MakePod().name("big").container("nginx", name="c", resources={"limits": {"cpu": "2"}, "requests": {"memory": "32Mi"}}).manifest())
    assert resp["code"] == 403
    assert resp["body"]["message"] == ('pods "big" is forbidden: [minimum memory usage per Container is 64Mi, but '
                                       'request is 32Mi, maximum cpu usage per Container is 1, but limit is 2]')


def test_limit_ratio(cluster):
    ok(create_limits(cluster, "lr", {"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}))
    cluster.advance(1)
    resp = req(cluster, "create", "pods", MakePod().name("r").container("nginx", name="c", resources={"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}).manifest())
    assert resp["body"]["message"] == ('pods "r" is forbidden: cpu max limit to request ratio per Container is 2, '
                                       'but provided ratio is 5.000000')


@pytest.mark.parametrize("hard, message", [
    ({"pods": "-1"}, 'spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0'),
    ({"pods": "1500m"}, 'spec.hard[pods]: Invalid value: "1500m": must be an integer'),
    ({"storage": "1"}, 'spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota'),
])
def test_quota_validation(cluster, hard, message):
    resp = create_quota(cluster, "bad", hard)
    assert resp["code"] == 422
    assert resp["body"]["message"] == f'ResourceQuota "bad" is invalid: {message}'


def test_limitrange_validation(cluster):
    resp = create_limits(cluster, "bad", {"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}},
                         {"type": "Pod", "default": {"cpu": "1"}})
    assert resp["code"] == 422
    msg = resp["body"]["message"]
    assert 'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1' in msg
    assert "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'" in msg


def test_printers():
    rq = {"metadata": {"name": "q", "creationTimestamp": "2026-01-01T00:00:00Z"},
          "spec": {"hard": {"pods": "2", "requests.cpu": "1", "limits.memory": "1Gi"}},
          "status": {"hard": {"pods": "2", "requests.cpu": "1000m", "limits.memory": "1Gi"},
                     "used": {"pods": "1", "requests.cpu": "500m", "limits.memory": "0"}}}
    assert [c["name"] for c in resourcequotas.RESOURCE.printer.columns] == ["Name", "Age", "Request", "Limit"]
    row = resourcequotas.RESOURCE.printer.row(rq, 60.0)
    assert row[2:] == ["pods: 1/2, requests.cpu: 500m/1", "limits.memory: 0/1Gi"]
    assert [c["name"] for c in limitranges.RESOURCE.printer.columns] == ["Name", "Created At"]


def test_quantity_arithmetic():
    assert quota.add({"memory": "128Mi"}, {"memory": "128Mi", "cpu": "100m"}) == {"memory": "256Mi", "cpu": "100m"}
    assert quota.add({"cpu": "0"}, {"cpu": "1500m"}) == {"cpu": "1500m"}
    assert quota.pretty_print({"pods": "1", "cpu": "2000m"}) == "cpu=2,pods=1"
    assert [canonical(q) for q in ("1000m", "2048Mi", "0.5", "1.5Gi", "2000")] == ["1", "2Gi", "500m", "1536Mi", "2k"]
