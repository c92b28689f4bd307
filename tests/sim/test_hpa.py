"""The HorizontalPodAutoscaler (autoscaling/v2 and v1) and its controller
(sim/controllers/podautoscaler.py), driven by the load generator (sim/loadgenerator.py), in
virtual time.

The workload is the walkthrough's php-apache (registry.k8s.io/hpa-example: 0.1 CPU-second a
request, 200m requested, 500m limit), as a ReplicaSet (it has /scale)."""
from __future__ import annotations

import json
import math

import pytest

from sim.cluster import Cluster, ClusterConfig, ClusterError
from sim.controllers import podautoscaler as pa
from sim.registry.autoscaling import horizontalpodautoscalers as hpas
from tests.builders import MakePod, MakeReplicaSet
from tests.sim.conftest import ok

HPA = {"group": "autoscaling", "resource": "horizontalpodautoscalers", "namespace": "default"}


@pytest.fixture
def cluster():
    c = Cluster("t", ClusterConfig.default(seed=3))
    c.advance(20)
    return c


def php_apache(c, replicas=1, cpu="200m", name="php-apache"):
    pod = MakePod().labels({"run": name}).container("registry.k8s.io/hpa-example", name=name, cpu=cpu,
                                                    limits={"cpu": "500m"})
    rs = MakeReplicaSet().name(name).namespace("default").replicas(replicas).selector({"run": name}).template(
        pod.obj()).manifest()
    ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default", "body": rs}))


def make_hpa(c, name="php-apache", target=50, lo=1, hi=10, behavior=None, metrics=None, version="v2"):
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name},
            "minReplicas": lo, "maxReplicas": hi,
            "metrics": metrics or [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]}
    if behavior is not None:
        spec["behavior"] = behavior
    return ok(c.request({**HPA, "verb": "create", "body": {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                                           "metadata": {"name": name}, "spec": spec}}))


def get_hpa(c, name="php-apache", version=None):
    req = {**HPA, "verb": "get", "name": name}
    if version:
        req["version"] = version
    return ok(c.request(req))


def replicas(c, name="php-apache"):
    return get_hpa(c, name).get("status", {}).get("currentReplicas", 0)


def rescales(c, name="php-apache"):
    """The SuccessfulRescale events of the HPA: [(virtual time, new size, reason)]."""
    out = []
    for e in ok(c.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]:
        if e["involvedObject"]["name"] == name and e["reason"] == "SuccessfulRescale":
            size, _, reason = e["message"].partition("; reason: ")
            out.append((e["firstTimestamp"], int(size.split(": ")[1]), reason))
    return out


def condition(hpa, ctype):
    return next(c for c in hpa["status"]["conditions"] if c["type"] == ctype)


def run_until(c, predicate, limit, step=5.0):
    """Advance until predicate() (checked every `step` virtual seconds); the time it took."""
    start = c.now
    while c.now - start < limit:
        if predicate():
            return c.now - start
        c.advance(step)
    raise AssertionError(f"not within {limit}s")


# -- the issue's scenario -------------------------------------------------------------------------
def test_a_load_step_settles_where_the_formula_says_and_scale_down_waits_out_the_window(cluster):
    c = cluster
    php_apache(c)
    make_hpa(c, target=50)
    run_until(c, lambda: get_hpa(c).get("status", {}).get("currentMetrics"), 120)
    assert replicas(c) == 1
    # 6 requests a second x 0.1 CPU-second = 600m in all; 100m (50% of 200m) per pod is the
    # target: ceil(replicas x usage / target) converges on 6.
    state = c.set_load("default", "ReplicaSet", "php-apache", 6)
    assert state["requestsPerSecond"] == 6.0
    run_until(c, lambda: replicas(c) >= 6, 300)
    c.advance(120)
    hpa = get_hpa(c)
    settled = hpa["status"]["currentReplicas"]
    assert hpa["status"]["desiredReplicas"] == settled
    utilization = hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
    # a fixed point of the formula: 600m over `settled` pods, and ceil(replicas x usage / target)
    # (or the tolerance) keeps it.  The ramp's lag (new pods' first windows) overshoots by one:
    # at 7 pods, 43% of the target 50% gives ceil(7 x 0.86) = 7.
    assert abs(utilization - (600 / settled + 1) * 100 / 200) <= 2     # +1m: apache's own
    assert abs(utilization / 50 - 1) <= 0.1 or math.ceil(settled * utilization / 50) == settled
    assert settled in (6, 7)
    assert condition(hpa, "ScalingActive")["reason"] == "ValidMetricFound"
    assert c.load("default", "rs", "php-apache")["pods"] == settled
    sizes = [size for _, size, _ in rescales(c)]
    assert sizes[-1] == settled and all(r.startswith("cpu resource utilization (percentage of request) above target")
                                  for _, _, r in rescales(c))

    # The load stops: utilization falls at the next scrapes, but the replica count is kept
    # until every recommendation of the last 5 minutes is below it.
    c.set_load("default", "ReplicaSet", "php-apache", 0)
    stopped = c.now
    run_until(c, lambda: get_hpa(c)["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] < 10,
              60)
    hpa = get_hpa(c)
    assert condition(hpa, "AbleToScale")["reason"] == "ScaleDownStabilized"
    run_until(c, lambda: replicas(c) < settled, 420)
    took = c.now - stopped
    assert 300 <= took <= 300 + 45, took     # the window, plus a sync period and the scrape's lag
    run_until(c, lambda: replicas(c) == 1, 120)
    assert rescales(c)[-1][2] == "All metrics below target"


# -- the replica calculator (replica_calculator.go), unit by unit ---------------------------------
def _pod(name, phase="Running", ready=True, start=0.0, transition=0.0, cpu="200m", deleting=False):
    ts = lambda t: f"t{t}"
    pod = {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]},
           "status": {"phase": phase, "startTime": ts(start),
                      "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                      "lastTransitionTime": ts(transition)}]}}
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "x"
    return pod


def _parse(value):
    return float(value[1:]) if isinstance(value, str) and value.startswith("t") else None


def _metrics(values, timestamp=1000.0, window=15.0):
    return {name: {"value": v, "timestamp": timestamp, "window": window} for name, v in values.items()}


def calc(pods, values, current=None, target=50, now=1000.0, tolerances=None, **kw):
    return pa.resource_replicas(len(pods) if current is None else current, pods, _metrics(values), "cpu", now,
                                _parse, tolerances or pa.Tolerances(), target_utilization=target, **kw)


def test_the_tolerance_keeps_small_changes_out():
    pods = [_pod(f"p{i}") for i in range(4)]
    # 105m of 200m is 52%: ratio 1.05, within 0.1 of 1: no change
    assert calc(pods, {f"p{i}": 105 for i in range(4)})[:2] == (4, 52)
    # 115m: 57%, ratio 1.14: ceil(4 x 1.14) = 5
    assert calc(pods, {f"p{i}": 115 for i in range(4)})[:2] == (5, 57)
    # 89m: 44%, ratio 0.88: ceil(4 x 0.88) = 4 ... 80m: 40%, 0.8: ceil(3.2) = 4; 70m: 35%, ceil(2.8) = 3
    assert calc(pods, {f"p{i}": 70 for i in range(4)})[0] == 3
    # behavior.scaleUp.tolerance (HPAConfigurableTolerance) widens it upwards only
    wide = pa.Tolerances(down=0.1, up=0.2)
    assert calc(pods, {f"p{i}": 115 for i in range(4)}, tolerances=wide)[0] == 4
    assert calc(pods, {f"p{i}": 70 for i in range(4)}, tolerances=wide)[0] == 3


def test_missing_metrics_count_against_the_direction_of_change():
    pods = [_pod(f"p{i}") for i in range(4)]
    # scale up: 3 pods at 200m (100%, ratio 2), the 4th without metrics counts as 0:
    # (600 / 800) = 75% -> ratio 1.5 -> ceil(1.5 x 4) = 6
    assert calc(pods, {"p0": 200, "p1": 200, "p2": 200})[0] == 6
    # scale down: 3 pods at 20m (10%), the 4th counts as its full request (100%):
    # (60 + 200) / 800 = 32% -> ratio 0.64 -> ceil(0.64 x 4) = 3
    assert calc(pods, {"p0": 20, "p1": 20, "p2": 20})[0] == 3
    # ... and when assuming 100% for the missing pod would reverse the direction, no change
    assert calc(pods, {"p0": 90, "p1": 90, "p2": 90}, target=60)[0] == 4


def test_unready_pods_and_the_cpu_initialization_period():
    now = 1000.0
    # started 100 s ago (inside the 5-minute cpu initialization period), not ready: ignored
    # for a scale down, counted as 0% for a scale up
    pods = [_pod("a", start=0), _pod("b", start=900, ready=False, transition=900)]
    ready, unready, missing, ignored = pa.group_pods(pods, _metrics({"a": 300, "b": 300}), "cpu", now, _parse)
    assert (ready, unready, missing, ignored) == (1, {"b"}, set(), set())
    # a ready pod whose metric window began before it became ready is unready too
    fresh = [_pod("c", start=900, transition=990)]
    assert pa.group_pods(fresh, _metrics({"c": 100}, timestamp=1000.0, window=15.0), "cpu", now, _parse)[1] == {"c"}
    # past the initialization period, unready only if it never became ready within 30 s of starting
    old = [_pod("d", start=0, ready=False, transition=10), _pod("e", start=0, ready=False, transition=600)]
    assert pa.group_pods(old, _metrics({"d": 1, "e": 1}), "cpu", now, _parse)[1] == {"d"}
    # pending pods are unready, deleted and failed ones ignored
    odd = [_pod("f", phase="Pending"), _pod("g", deleting=True), _pod("h", phase="Failed")]
    assert pa.group_pods(odd, {}, "cpu", now, _parse)[1:] == ({"f"}, set(), {"g", "h"})
    # the scale up with an unready pod: a (150%) and b (0%): 75% of 200m each -> ratio 1.5 -> 3
    assert calc(pods, {"a": 300, "b": 300}, target=50)[0] == 3


def test_a_missing_request_is_an_error():
    pods = [_pod("a", cpu=None)]
    pods[0]["spec"]["containers"][0]["resources"] = {}
    with pytest.raises(pa.MetricError, match="missing request for cpu in container c of Pod a"):
        calc(pods, {"a": 100})


def test_scaling_policies_rate_limit_each_direction():
    up = hpas.default_scale_up_rules()
    # the default scale up: the larger of +4 pods and +100% per 15 s
    assert pa.scale_up_limit_with_rules(1, [], [], up, 100.0) == 5
    assert pa.scale_up_limit_with_rules(10, [], [], up, 100.0) == 20
    # changes made within the period count against it
    events = [{"change": 4, "time": 95.0}]
    assert pa.scale_up_limit_with_rules(5, events, [], up, 100.0) == 5     # started the period at 1
    assert pa.scale_up_limit_with_rules(5, events, [], up, 111.0) == 10    # that change left the period
    minimum = dict(up, selectPolicy="Min")
    assert pa.scale_up_limit_with_rules(10, [], [], minimum, 100.0) == 14
    assert pa.scale_up_limit_with_rules(10, [], [], dict(up, selectPolicy="Disabled"), 100.0) == 10
    down = {"selectPolicy": "Max", "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60},
                                                {"type": "Percent", "value": 10, "periodSeconds": 60}]}
    assert pa.scale_down_limit_with_rules(10, [], [], down, 100.0) == 8     # Max: the bigger change
    assert pa.scale_down_limit_with_rules(10, [], [], dict(down, selectPolicy="Min"), 100.0) == 9
    assert pa.scale_down_limit_with_rules(8, [], [{"change": 2, "time": 90.0}], down, 100.0) == 8
    assert pa.convert_desired_replicas_with_rules(3, 20, 1, 10) == (
        6, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
    assert pa.convert_desired_replicas_with_rules(3, 0, 2, 10)[:2] == (2, "TooFewReplicas")


def test_behavior_policies_pace_a_scale_up(cluster):
    c = cluster
    php_apache(c)
    behavior = {"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
                "scaleDown": {"stabilizationWindowSeconds": 30,
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}
    made = make_hpa(c, target=50, hi=7, behavior=behavior)
    # defaulted: the unset fields of each side filled in (v2 SetDefaults_HorizontalPodAutoscalerBehavior)
    assert made["spec"]["behavior"]["scaleUp"]["selectPolicy"] == "Max"
    assert made["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    run_until(c, lambda: get_hpa(c).get("status", {}).get("currentMetrics"), 120)
    c.set_load("default", "rs", "php-apache", 30)     # far above what 7 pods want
    run_until(c, lambda: replicas(c) == 7, 400)
    events = rescales(c)
    assert [size for _, size, _ in events] == [3, 5, 7]
    from sim.api.meta import parse_timestamp
    times = [parse_timestamp(t) for t, _, _ in events]
    assert all(b - a >= 60 for a, b in zip(times, times[1:])), times
    hpa = get_hpa(c)
    assert condition(hpa, "ScalingLimited")["reason"] == "TooManyReplicas"
    # down one pod per 30 s once the load stops, after the 30 s window
    c.set_load("default", "rs", "php-apache", 0)
    run_until(c, lambda: replicas(c) <= 5, 200)
    sizes = [size for _, size, _ in rescales(c)][3:]
    assert sizes[:2] == [6, 5]


def test_missing_metrics_and_bad_targets_set_conditions_and_events(cluster):
    c = cluster
    # pods without a cpu request: the utilization cannot be computed
    pod = MakePod().labels({"run": "noreq"}).container("registry.k8s.io/hpa-example", name="php")
    rs = MakeReplicaSet().name("noreq").namespace("default").replicas(1).selector({"run": "noreq"}).template(
        pod.obj()).manifest()
    ok(c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default", "body": rs}))
    make_hpa(c, name="noreq")
    # and a target that does not exist
    ok(c.request({**HPA, "verb": "create", "body": {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "ghost"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "ghost"}, "maxReplicas": 3}}}))
    c.advance(20)
    first = condition(get_hpa(c, "noreq"), "ScalingActive")
    assert (first["status"], first["reason"]) == ("False", "FailedGetResourceMetric")
    assert first["message"] == ("the HPA was unable to compute the replica count: failed to get cpu utilization: "
                                "unable to get metrics for resource cpu: no metrics returned from resource metrics API")
    c.advance(60)
    later = condition(get_hpa(c, "noreq"), "ScalingActive")
    assert later["message"].endswith("missing request for cpu in container php of Pod "
                                     + ok(c.request({"verb": "list", "resource": "pods", "namespace": "default",
                                                     "query": {"labelSelector": "run=noreq"}}))["items"][0]["metadata"]["name"])
    ghost = condition(get_hpa(c, "ghost"), "AbleToScale")
    assert (ghost["status"], ghost["reason"]) == ("False", "FailedGetScale")
    assert ghost["message"] == 'the HPA controller was unable to get the target\'s current scale: replicasets.apps "ghost" not found'
    reasons = {(e["involvedObject"]["name"], e["reason"]) for e in
               ok(c.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]}
    assert {("noreq", "FailedGetResourceMetric"), ("noreq", "FailedComputeMetricsReplicas"),
            ("ghost", "FailedGetScale")} <= reasons


# -- the API: v2 and v1 --------------------------------------------------------------------------
def test_v1_and_v2_round_trip_through_the_annotations(cluster):
    c = cluster
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60}}
    metrics = [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}},
               {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}]
    made = make_hpa(c, name="web", behavior=behavior, metrics=metrics)
    v1 = get_hpa(c, "web", version="v1")
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"] == {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web"},
                          "minReplicas": 1, "maxReplicas": 10, "targetCPUUtilizationPercentage": 60}
    ann = v1["metadata"]["annotations"]
    assert json.loads(ann["autoscaling.alpha.kubernetes.io/metrics"]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}]
    assert json.loads(ann["autoscaling.alpha.kubernetes.io/behavior"])["ScaleDown"]["StabilizationWindowSeconds"] == 60
    # a v1 client changes what it knows and writes the object back: nothing else is lost
    v1["spec"]["maxReplicas"] = 8
    v1["spec"]["targetCPUUtilizationPercentage"] = 70
    ok(c.request({**HPA, "verb": "update", "version": "v1", "name": "web", "body": v1}))
    v2 = get_hpa(c, "web")
    assert v2["spec"]["maxReplicas"] == 8
    assert sorted(m["resource"]["name"] for m in v2["spec"]["metrics"]) == ["cpu", "memory"]
    cpu = next(m for m in v2["spec"]["metrics"] if m["resource"]["name"] == "cpu")
    assert cpu["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert v2["spec"]["behavior"] == made["spec"]["behavior"]
    assert "annotations" not in v2["metadata"]                 # the round-trip annotations are not stored
    # a v1 merge patch applies to the v1 form
    ok(c.request({**HPA, "verb": "patch", "version": "v1", "name": "web", "body": {"spec": {"minReplicas": 2}},
                  "patch_type": "application/merge-patch+json"}))
    assert get_hpa(c, "web")["spec"]["minReplicas"] == 2
    # created through v1 without a target: v1's implicit 80% cpu, made explicit
    plain = ok(c.request({**HPA, "verb": "create", "version": "v1", "body": {
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "plain"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "plain"}, "maxReplicas": 3}}}))
    assert plain["apiVersion"] == "autoscaling/v1" and plain["spec"]["targetCPUUtilizationPercentage"] == 80
    assert get_hpa(c, "plain")["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    # a list at v1 converts every item; a v2 body sent to the v1 endpoint is refused
    listed = ok(c.request({**HPA, "verb": "list", "version": "v1"}))
    assert listed["apiVersion"] == "autoscaling/v1" and {i["apiVersion"] for i in listed["items"]} == {"autoscaling/v1"}
    wrong = c.request({**HPA, "verb": "create", "version": "v1", "body": dict(v2, metadata={"name": "x"})})
    assert wrong["code"] == 400


def test_status_conditions_travel_to_v1_as_an_annotation(cluster):
    c = cluster
    php_apache(c)
    make_hpa(c)
    run_until(c, lambda: get_hpa(c).get("status", {}).get("currentMetrics"), 120)
    v1 = get_hpa(c, version="v1")
    assert v1["status"]["currentCPUUtilizationPercentage"] == \
        get_hpa(c)["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"]
    types = [x["type"] for x in json.loads(v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/conditions"])]
    assert types == ["AbleToScale", "ScalingActive", "ScalingLimited"]


def test_validation(cluster):
    bad = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "bad"},
           "spec": {"scaleTargetRef": {"kind": "", "name": "a/b"}, "minReplicas": 5, "maxReplicas": 2,
                    "metrics": [{"type": "Resource"}, {"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 0}}}],
                    "behavior": {"scaleUp": {"stabilizationWindowSeconds": 4000,
                                             "policies": [{"type": "X", "value": 0, "periodSeconds": 2000}]}}}}
    resp = cluster.request({**HPA, "verb": "create", "body": bad})
    assert resp["code"] == 422
    causes = {(x["field"], x["message"]) for x in resp["body"]["details"]["causes"]}
    assert ("spec.maxReplicas", "Invalid value: 2: must be greater than or equal to `minReplicas`") in causes
    assert ("spec.scaleTargetRef.kind", "Required value") in causes
    assert ("spec.scaleTargetRef.name", "Invalid value: \"a/b\": may not contain '/'") in causes
    assert ("spec.metrics[0].resource", "Required value: must populate information for the given metric source") in causes
    assert ("spec.metrics[1].resource.target.averageUtilization", "Invalid value: 0: must be greater than 0") in causes
    assert ("spec.behavior.scaleUp.stabilizationWindowSeconds", "Invalid value: 4000: must be less than or equal to 3600") in causes
    assert ("spec.behavior.scaleUp.policies[0].periodSeconds", "Invalid value: 2000: must be less than or equal to 1800") in causes
    assert ("spec.behavior.scaleUp.policies[0].value", "Invalid value: 0: must be greater than zero") in causes


def test_printer_columns():
    hpa = {"metadata": {"name": "web", "creationTimestamp": None},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 10,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": 50}}}]},
           "status": {"currentReplicas": 3}}
    assert hpas.hpa_row(hpa, 0)[:6] == ["web", "Deployment/web", "cpu: <unknown>/50%", "1", 10, 3]
    hpa["status"]["currentMetrics"] = [{"type": "Resource", "resource": {"name": "cpu", "current": {
        "averageUtilization": 12, "averageValue": "24m"}}}]
    assert hpas.hpa_row(hpa, 0)[2] == "cpu: 12%/50%"
    hpa["spec"]["metrics"] += [{"type": "Resource", "resource": {"name": "memory", "target": {
        "type": "AverageValue", "averageValue": "100Mi"}}}] * 2
    assert hpas.hpa_row(hpa, 0)[2] == "cpu: 12%/50%, memory: <unknown>/100Mi + 1 more..."


# -- the load generator ---------------------------------------------------------------------------
def test_the_load_generator_spreads_requests_over_ready_pods(cluster):
    c = cluster
    php_apache(c, replicas=3)
    c.advance(30)
    with pytest.raises(ClusterError) as e:
        c.set_load("default", "gadgets", "x", 5)
    assert e.value.code == 404
    with pytest.raises(ClusterError) as e:
        c.set_load("default", "replicaset", "nobody", 5)
    assert e.value.code == 404
    with pytest.raises(ClusterError) as e:
        c.set_load("default", "replicaset", "php-apache", -1)
    assert e.value.code == 400
    assert c.load("default", "replicaset", "php-apache") is None
    c.set_load("default", "replicasets.apps", "php-apache", 3)
    c.advance(20)
    state = c.load("default", "ReplicaSet", "php-apache")
    assert state["pods"] == 3 and state["failed"] == 0 and 50 <= state["answered"] <= 60
    # each pod got its third: 1 request a second x 0.1 CPU-second = 100m
    c.advance(40)
    top = ok(c.request({"verb": "list", "group": "metrics.k8s.io", "version": "v1beta1", "resource": "pods",
                        "namespace": "default"}))["items"]
    from sim.api.quantity import milli_value
    cpus = [milli_value(m["containers"][0]["usage"]["cpu"]) for m in top]
    assert len(cpus) == 3 and all(95 <= x <= 105 for x in cpus), cpus
    stopped = c.set_load("default", "replicaset", "php-apache", 0)
    assert stopped["requestsPerSecond"] == 0.0 and c.load("default", "replicaset", "php-apache") is None


def test_a_deployment_is_scaled_through_its_scale_subresource(cluster):
    """The walkthrough's target: a Deployment (its /scale), whose controller then sizes its
    ReplicaSet."""
    c = cluster
    pod = MakePod().labels({"run": "web"}).container("registry.k8s.io/hpa-example", name="php", cpu="200m",
                                                     limits={"cpu": "500m"})
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"run": "web"}},
                    "template": {"metadata": pod.obj()["metadata"], "spec": pod.obj()["spec"]}}}
    ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default", "body": dep}))
    ok(c.request({**HPA, "verb": "create", "body": {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 1, "maxReplicas": 4}}}))     # the default target: 80% cpu
    run_until(c, lambda: get_hpa(c, "web").get("status", {}).get("currentMetrics"), 120)
    c.set_load("default", "deployment", "web", 20)
    run_until(c, lambda: replicas(c, "web") == 4, 240)
    deployment = ok(c.request({"verb": "get", "group": "apps", "resource": "deployments", "namespace": "default",
                               "name": "web"}))
    assert deployment["spec"]["replicas"] == 4
    assert condition(get_hpa(c, "web"), "ScalingLimited")["reason"] == "TooManyReplicas"


def test_any_kind_with_a_scale_subresource_is_a_target(cluster):
    """A custom resource whose CRD declares /scale: the HPA reads and writes it as any other
    (here it only clamps to maxReplicas: nothing runs its pods)."""
    import copy
    from tests.sim.apiextensions_fixtures import CRONTAB_CRD
    c = cluster
    crd = copy.deepcopy(CRONTAB_CRD)
    version = crd["spec"]["versions"][0]
    version["schema"]["openAPIV3Schema"]["properties"]["status"] = {
        "type": "object", "properties": {"replicas": {"type": "integer"}, "selector": {"type": "string"}}}
    version["subresources"] = {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                       "statusReplicasPath": ".status.replicas",
                                                       "labelSelectorPath": ".status.selector"}}
    ok(c.request({"verb": "create", "group": "apiextensions.k8s.io", "resource": "customresourcedefinitions",
                  "body": crd}))
    c.advance(5)
    CT = {"group": "stable.example.com", "resource": "crontabs", "namespace": "default"}
    ok(c.request({**CT, "verb": "create", "body": {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
                                                   "metadata": {"name": "nightly"},
                                                   "spec": {"cronSpec": "* * * * */5", "replicas": 5}}}))
    ok(c.request({**HPA, "verb": "create", "body": {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "nightly"},
        "spec": {"scaleTargetRef": {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "name": "nightly"},
                 "minReplicas": 1, "maxReplicas": 3}}}))
    run_until(c, lambda: ok(c.request({**CT, "verb": "get", "name": "nightly"}))["spec"]["replicas"] == 3, 60)
    assert rescales(c, "nightly") and rescales(c, "nightly")[0][1:] == (3, "Current number of replicas above Spec.MaxReplicas")


def test_two_hpas_on_the_same_pods_are_ambiguous(cluster):
    c = cluster
    php_apache(c)
    make_hpa(c)
    ok(c.request({**HPA, "verb": "create", "body": {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "second"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "php-apache"},
                 "maxReplicas": 3}}}))
    c.advance(50)
    for name in ("php-apache", "second"):
        cond = condition(get_hpa(c, name), "ScalingActive")
        assert (cond["status"], cond["reason"]) == ("False", "AmbiguousSelector")
        assert cond["message"] == ("pods by selector run=php-apache are controlled by multiple HPAs: "
                                   "[default/php-apache default/second]")
    ok(c.request({**HPA, "verb": "delete", "name": "second"}))
    run_until(c, lambda: condition(get_hpa(c), "ScalingActive")["reason"] == "ValidMetricFound", 60)
