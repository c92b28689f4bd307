"""HorizontalPodAutoscalers (pkg/registry/autoscaling/horizontalpodautoscaler,
pkg/apis/autoscaling/{validation,v1,v2}): namespaced, short name "hpa", in the `all` category,
a status subresource the horizontal-pod-autoscaler controller (sim/controllers/podautoscaler.py)
writes.

Stored as autoscaling/v2 and served as v2 and v1.  v1 knows one target, a CPU utilization
(`targetCPUUtilizationPercentage`); what else a v2 object holds travels through v1 in the
round-trip annotations upstream's conversion writes (pkg/apis/autoscaling/v1/conversion.go):
the other metrics in `autoscaling.alpha.kubernetes.io/metrics`, the current metrics in
`.../current-metrics`, the conditions in `.../conditions` and the behavior in `.../behavior`,
so a v1 client (`kubectl autoscale` before 1.34, `kubectl edit hpa.v1.autoscaling`) that reads,
changes and writes back loses nothing.  The conversion is this module's `CONVERSION`, which the
generic request path applies to every body and answer (sim/registry/resource.py `Conversion`).
"""
from __future__ import annotations

import json
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import INT32, INT64, QUANTITY, STRING, TIME, Slice, enum, fields, struct
from sim.api.meta import deep_copy
from sim.api.quantity import QuantityError, parse_quantity
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, TYPE_META
from sim.api.validation import forbidden, invalid, not_supported, required
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Conversion, Resource
from sim.registry.strategy import Strategy

GROUP = "autoscaling"
KIND = "HorizontalPodAutoscaler"

# -- k8s.io/api/autoscaling/v2/types.go ----------------------------------------------------------
CROSS_VERSION_REF_V2 = struct("v2.CrossVersionObjectReference", **fields("kind", "name", "apiVersion"))
METRIC_TARGET = struct("v2.MetricTarget", type=enum("v2.MetricTargetType"), value=QUANTITY, averageValue=QUANTITY,
                       averageUtilization=INT32)
METRIC_VALUE_STATUS = struct("v2.MetricValueStatus", value=QUANTITY, averageValue=QUANTITY, averageUtilization=INT32)
METRIC_IDENTIFIER = struct("v2.MetricIdentifier", name=STRING, selector=LABEL_SELECTOR)
RESOURCE_NAME = enum("v1.ResourceName")
METRIC_SPEC = struct(
    "v2.MetricSpec", type=enum("v2.MetricSourceType"),
    object=struct("v2.ObjectMetricSource", describedObject=CROSS_VERSION_REF_V2, target=METRIC_TARGET,
                  metric=METRIC_IDENTIFIER),
    pods=struct("v2.PodsMetricSource", metric=METRIC_IDENTIFIER, target=METRIC_TARGET),
    resource=struct("v2.ResourceMetricSource", name=RESOURCE_NAME, target=METRIC_TARGET),
    containerResource=struct("v2.ContainerResourceMetricSource", name=RESOURCE_NAME, target=METRIC_TARGET,
                             container=STRING),
    external=struct("v2.ExternalMetricSource", metric=METRIC_IDENTIFIER, target=METRIC_TARGET))
METRIC_STATUS = struct(
    "v2.MetricStatus", type=enum("v2.MetricSourceType"),
    object=struct("v2.ObjectMetricStatus", metric=METRIC_IDENTIFIER, current=METRIC_VALUE_STATUS,
                  describedObject=CROSS_VERSION_REF_V2),
    pods=struct("v2.PodsMetricStatus", metric=METRIC_IDENTIFIER, current=METRIC_VALUE_STATUS),
    resource=struct("v2.ResourceMetricStatus", name=RESOURCE_NAME, current=METRIC_VALUE_STATUS),
    containerResource=struct("v2.ContainerResourceMetricStatus", name=RESOURCE_NAME, current=METRIC_VALUE_STATUS,
                             container=STRING),
    external=struct("v2.ExternalMetricStatus", metric=METRIC_IDENTIFIER, current=METRIC_VALUE_STATUS))
SCALING_RULES = struct(
    "v2.HPAScalingRules", stabilizationWindowSeconds=INT32, selectPolicy=enum("v2.ScalingPolicySelect"),
    policies=Slice(struct("v2.HPAScalingPolicy", type=enum("v2.HPAScalingPolicyType"), value=INT32,
                          periodSeconds=INT32)),
    tolerance=QUANTITY)
CONDITION_V2 = struct("v2.HorizontalPodAutoscalerCondition", type=enum("v2.HorizontalPodAutoscalerConditionType"),
                      status=enum("v1.ConditionStatus"), lastTransitionTime=TIME, reason=STRING, message=STRING)
HPA_V2 = struct(
    "v2.HorizontalPodAutoscaler", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v2.HorizontalPodAutoscalerSpec", scaleTargetRef=CROSS_VERSION_REF_V2, minReplicas=INT32,
                maxReplicas=INT32, metrics=Slice(METRIC_SPEC),
                behavior=struct("v2.HorizontalPodAutoscalerBehavior", scaleUp=SCALING_RULES, scaleDown=SCALING_RULES)),
    status=struct("v2.HorizontalPodAutoscalerStatus", observedGeneration=INT64, lastScaleTime=TIME,
                  currentReplicas=INT32, desiredReplicas=INT32, currentMetrics=Slice(METRIC_STATUS),
                  conditions=Slice(CONDITION_V2)))

# -- k8s.io/api/autoscaling/v1/types.go ----------------------------------------------------------
HPA_V1 = struct(
    "v1.HorizontalPodAutoscaler", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.HorizontalPodAutoscalerSpec",
                scaleTargetRef=struct("v1.CrossVersionObjectReference", **fields("kind", "name", "apiVersion")),
                minReplicas=INT32, maxReplicas=INT32, targetCPUUtilizationPercentage=INT32),
    status=struct("v1.HorizontalPodAutoscalerStatus", observedGeneration=INT64, lastScaleTime=TIME,
                  currentReplicas=INT32, desiredReplicas=INT32, currentCPUUtilizationPercentage=INT32))

# -- constants (pkg/apis/autoscaling/types.go, annotations.go) ----------------------------------
RESOURCE_METRIC, PODS_METRIC, OBJECT_METRIC, EXTERNAL_METRIC, CONTAINER_RESOURCE_METRIC = \
    "Resource", "Pods", "Object", "External", "ContainerResource"
UTILIZATION, VALUE, AVERAGE_VALUE = "Utilization", "Value", "AverageValue"
PODS_POLICY, PERCENT_POLICY = "Pods", "Percent"
MAX_SELECT, MIN_SELECT, DISABLED_SELECT = "Max", "Min", "Disabled"
DEFAULT_CPU_UTILIZATION = 80
METRIC_SPECS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics"
METRIC_STATUSES_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR_ANNOTATION = "autoscaling.alpha.kubernetes.io/behavior"
ROUND_TRIP_ANNOTATIONS = (METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION,
                          BEHAVIOR_ANNOTATION)
# validation.go
MAX_PERIOD_SECONDS = 1800
MAX_STABILIZATION_WINDOW_SECONDS = 3600


# -- defaults (pkg/apis/autoscaling/v2/defaults.go) ---------------------------------------------
def default_scale_up_rules() -> dict:
    """defaultHPAScaleUpRules: no stabilization, the larger of 4 pods and 100% per 15 s."""
    return {"stabilizationWindowSeconds": 0, "selectPolicy": MAX_SELECT,
            "policies": [{"type": PODS_POLICY, "value": 4, "periodSeconds": 15},
                         {"type": PERCENT_POLICY, "value": 100, "periodSeconds": 15}]}


def default_scale_down_rules() -> dict:
    """defaultHPAScaleDownRules: 100% per 15 s; the window is left unset (the controller's
    --horizontal-pod-autoscaler-downscale-stabilization, 5 minutes, fills it in)."""
    return {"selectPolicy": MAX_SELECT, "policies": [{"type": PERCENT_POLICY, "value": 100, "periodSeconds": 15}]}


def _copy_rules(given: Any, defaults: dict) -> dict:
    """copyHPAScalingRules: the fields the user set, over the defaults."""
    if not isinstance(given, dict):
        return defaults
    for key in ("selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"):
        if given.get(key) is not None:
            defaults[key] = given[key]
    return defaults


def default_hpa(obj: dict) -> dict:
    """SetDefaults_HorizontalPodAutoscaler (a deep copy): minReplicas 1, a CPU utilization target
    of 80% when no metric is given, and a behavior that is set filled in on both sides."""
    obj = deep_copy(obj)
    obj["apiVersion"], obj["kind"] = f"{GROUP}/v2", KIND
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return obj
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": RESOURCE_METRIC, "resource": {"name": "cpu", "target": {
            "type": UTILIZATION, "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        behavior["scaleUp"] = _copy_rules(behavior.get("scaleUp"), default_scale_up_rules())
        behavior["scaleDown"] = _copy_rules(behavior.get("scaleDown"), default_scale_down_rules())
    return obj


# -- validation (pkg/apis/autoscaling/validation/validation.go) ----------------------------------
def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _path_segment_errors(name: str) -> list[str]:
    """path.IsValidPathSegmentName."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def validate_cross_version_object_reference(ref: Any, field: str) -> list:
    ref = ref if isinstance(ref, dict) else {}
    errs = []
    for key in ("kind", "name"):
        value = ref.get(key) or ""
        if not value:
            errs.append(required(f"{field}.{key}"))
        else:
            errs += [invalid(f"{field}.{key}", value, msg) for msg in _path_segment_errors(value)]
    return errs


def _sign(q) -> int:
    try:
        d = parse_quantity(q)
    except QuantityError:
        return 0
    return (d > 0) - (d < 0)


def validate_metric_target(mt: Any, field: str) -> list:
    mt = mt if isinstance(mt, dict) else {}
    errs = []
    t = mt.get("type") or ""
    if not t:
        errs.append(required(f"{field}.type", "must specify a metric target type"))
    if t not in (UTILIZATION, VALUE, AVERAGE_VALUE):
        errs.append(invalid(f"{field}.type", t, "must be either Utilization, Value, or AverageValue"))
    for key in ("value", "averageValue"):
        if mt.get(key) is not None and _sign(mt[key]) != 1:
            errs.append(invalid(f"{field}.{key}", mt[key], "must be positive"))
    if mt.get("averageUtilization") is not None and mt["averageUtilization"] < 1:
        errs.append(invalid(f"{field}.averageUtilization", mt["averageUtilization"], "must be greater than 0"))
    return errs


def _validate_metric_identifier(mi: Any, field: str) -> list:
    mi = mi if isinstance(mi, dict) else {}
    if not mi.get("name"):
        return [required(f"{field}.name", "must specify a metric name")]
    return v.validate_label_selector(mi.get("selector"), f"{field}.selector")


def _validate_resource_source(src: dict, field: str, container: bool) -> list:
    errs = []
    if not src.get("name"):
        errs.append(required(f"{field}.name", "must specify a resource name"))
    if container and not src.get("container"):
        errs.append(required(f"{field}.container", "must specify a container"))
    target = src.get("target") if isinstance(src.get("target"), dict) else {}
    errs += validate_metric_target(target, f"{field}.target")
    if target.get("averageUtilization") is None and target.get("averageValue") is None:
        errs.append(required(f"{field}.target.averageUtilization",
                             "must set either a target raw value or a target utilization"))
    if target.get("averageUtilization") is not None and target.get("averageValue") is not None:
        errs.append(forbidden(f"{field}.target.averageValue",
                              "may not set both a target raw value and a target utilization"))
    return errs


def _validate_value_source(src: dict, field: str, described: bool) -> list:
    """validateObjectSource / validateExternalSource: a value or an average value target."""
    errs = []
    if described:
        errs += validate_cross_version_object_reference(src.get("describedObject"), f"{field}.describedObject")
    errs += _validate_metric_identifier(src.get("metric"), f"{field}.metric")
    target = src.get("target") if isinstance(src.get("target"), dict) else {}
    errs += validate_metric_target(target, f"{field}.target")
    if target.get("value") is None and target.get("averageValue") is None:
        errs.append(required(f"{field}.target.averageValue", "must set either a target value or averageValue"))
    return errs


def _validate_pods_source(src: dict, field: str) -> list:
    errs = _validate_metric_identifier(src.get("metric"), f"{field}.metric")
    target = src.get("target") if isinstance(src.get("target"), dict) else {}
    errs += validate_metric_target(target, f"{field}.target")
    if target.get("averageValue") is None:
        errs.append(required(f"{field}.target.averageValue", "must specify a positive target averageValue"))
    return errs


SOURCE_FIELDS = (("object", OBJECT_METRIC), ("external", EXTERNAL_METRIC), ("pods", PODS_METRIC), ("resource", RESOURCE_METRIC),
                 ("containerResource", CONTAINER_RESOURCE_METRIC))
METRIC_SOURCE_TYPES = sorted(t for _, t in SOURCE_FIELDS)


def validate_metric_spec(spec: Any, field: str) -> list:
    spec = spec if isinstance(spec, dict) else {}
    errs = []
    t = spec.get("type") or ""
    if not t:
        errs.append(required(f"{field}.type", "must specify a metric source type"))
    present = []
    for key, _ in SOURCE_FIELDS:
        src = spec.get(key)
        if not isinstance(src, dict):
            continue
        present.append(key)
        if len(present) > 1:
            continue
        sub = f"{field}.{key}"
        if key in ("object", "external"):
            errs += _validate_value_source(src, sub, described=key == "object")
        elif key == "pods":
            errs += _validate_pods_source(src, sub)
        else:
            errs += _validate_resource_source(src, sub, container=key == "containerResource")
    expected = next((k for k, typ in SOURCE_FIELDS if typ == t), None)
    if expected is None:
        errs.append(not_supported(f"{field}.type", t, METRIC_SOURCE_TYPES))
        return errs
    if expected not in present:
        errs.append(required(f"{field}.{expected}", "must populate information for the given metric source"))
    for key in present:
        if key != expected:
            errs.append(forbidden(f"{field}.{key}", "must populate the given metric source only"))
    return errs


def validate_scaling_rules(rules: Any, field: str) -> list:
    if not isinstance(rules, dict):
        return []
    errs = []
    window = rules.get("stabilizationWindowSeconds")
    if window is not None and window < 0:
        errs.append(invalid(f"{field}.stabilizationWindowSeconds", window, "must be greater than or equal to zero"))
    if window is not None and window > MAX_STABILIZATION_WINDOW_SECONDS:
        errs.append(invalid(f"{field}.stabilizationWindowSeconds", window,
                            f"must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"))
    select = rules.get("selectPolicy")
    if select is not None and select not in (MAX_SELECT, MIN_SELECT, DISABLED_SELECT):
        errs.append(not_supported(f"{field}.selectPolicy", select, sorted((DISABLED_SELECT, MAX_SELECT, MIN_SELECT))))
    policies = rules.get("policies") or []
    if not policies:
        errs.append(required(f"{field}.policies", "must specify at least one Policy"))
    for i, policy in enumerate(policies):
        p = f"{field}.policies[{i}]"
        policy = policy if isinstance(policy, dict) else {}
        if policy.get("type") not in (PODS_POLICY, PERCENT_POLICY):
            errs.append(not_supported(f"{p}.type", policy.get("type") or "", (PERCENT_POLICY, PODS_POLICY)))
        value, period = policy.get("value") or 0, policy.get("periodSeconds") or 0
        if value <= 0:
            errs.append(invalid(f"{p}.value", value, "must be greater than zero"))
        if period <= 0:
            errs.append(invalid(f"{p}.periodSeconds", period, "must be greater than zero"))
        if period > MAX_PERIOD_SECONDS:
            errs.append(invalid(f"{p}.periodSeconds", period, f"must be less than or equal to {MAX_PERIOD_SECONDS}"))
    if rules.get("tolerance") is not None and _sign(rules["tolerance"]) < 0:
        errs.append(invalid(f"{field}.tolerance", rules["tolerance"], "must be greater or equal to zero"))
    return errs


def validate_spec(spec: Any, field: str = "spec") -> list:
    """validateHorizontalPodAutoscalerSpec (minReplicas' lower bound is 1: HPAScaleToZero is off)."""
    spec = spec if isinstance(spec, dict) else {}
    errs = []
    lo, hi = spec.get("minReplicas"), spec.get("maxReplicas") or 0
    if lo is not None and lo < 1:
        errs.append(invalid(f"{field}.minReplicas", lo, "must be greater than or equal to 1"))
    if hi < 1:
        errs.append(invalid(f"{field}.maxReplicas", hi, "must be greater than 0"))
    if lo is not None and hi < lo:
        errs.append(invalid(f"{field}.maxReplicas", hi, "must be greater than or equal to `minReplicas`"))
    errs += validate_cross_version_object_reference(spec.get("scaleTargetRef"), f"{field}.scaleTargetRef")
    for i, metric in enumerate(spec.get("metrics") or []):
        errs += validate_metric_spec(metric, f"{field}.metrics[{i}]")
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        errs += validate_scaling_rules(behavior.get("scaleUp"), f"{field}.behavior.scaleUp")
        errs += validate_scaling_rules(behavior.get("scaleDown"), f"{field}.behavior.scaleDown")
    return errs


def validate(hpa: dict) -> list:
    """ValidateHorizontalPodAutoscaler."""
    return v.validate_object_meta(hpa, namespaced=True) + validate_spec(hpa.get("spec"))


def validate_status(hpa: dict) -> list:
    """ValidateHorizontalPodAutoscalerStatusUpdate (upstream's path for desiredReplicas has the
    typo "desiredReplicasa")."""
    status = hpa.get("status") or {}
    errs = []
    for key, path in (("currentReplicas", "status.currentReplicas"), ("desiredReplicas", "status.desiredReplicasa")):
        if (status.get(key) or 0) < 0:
            errs.append(invalid(path, status[key], v.NON_NEGATIVE_MSG))
    return v.validate_object_meta(hpa, namespaced=True) + errs


class HorizontalPodAutoscalerStrategy(Strategy):
    default_copies = True

    def default(self, obj, ctx):
        return default_hpa(obj)

    def initial_status(self, obj):
        return {"desiredReplicas": 0}   # desiredReplicas has no omitempty

    def validate(self, obj):
        return validate(obj)

    def validate_status_update(self, new, old):
        return validate_status(new)


# -- conversion v2 <-> v1 (pkg/apis/autoscaling/v1/conversion.go) --------------------------------
def _dumps(value) -> str:
    """encoding/json.Marshal: compact, fields in the struct's order (the dicts are built so)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _put(out: dict, key: str, value) -> None:
    if value is not None:
        out[key] = value


def _v1_metric_spec(m: dict) -> dict:
    """Convert_autoscaling_MetricSpec_To_v1_MetricSpec."""
    out = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src, target = m["object"], m["object"].get("target") or {}
        metric = src.get("metric") or {}
        o = {"target": dict(src.get("describedObject") or {}), "metricName": metric.get("name", ""),
             "targetValue": target.get("value") or "0"}
        _put(o, "selector", metric.get("selector"))
        _put(o, "averageValue", target.get("averageValue"))
        out["object"] = o
    if isinstance(m.get("pods"), dict):
        src, target = m["pods"], m["pods"].get("target") or {}
        metric = src.get("metric") or {}
        p = {"metricName": metric.get("name", ""), "targetAverageValue": target.get("averageValue") or "0"}
        _put(p, "selector", metric.get("selector"))
        out["pods"] = p
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src, target = m[key], m[key].get("target") or {}
            r = {"name": src.get("name", "")}
            _put(r, "targetAverageUtilization", target.get("averageUtilization"))
            _put(r, "targetAverageValue", target.get("averageValue"))
            if key == "containerResource":
                r["container"] = src.get("container", "")
            out[key] = r
    if isinstance(m.get("external"), dict):
        src, target = m["external"], m["external"].get("target") or {}
        metric = src.get("metric") or {}
        e = {"metricName": metric.get("name", "")}
        _put(e, "metricSelector", metric.get("selector"))
        _put(e, "targetValue", target.get("value"))
        _put(e, "targetAverageValue", target.get("averageValue"))
        out["external"] = e
    return out


def _v2_metric_spec(m: dict) -> dict:
    """Convert_v1_MetricSpec_To_autoscaling_MetricSpec."""
    out = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        o = m["object"]
        target = {"type": VALUE if o.get("averageValue") is None else AVERAGE_VALUE, "value": o.get("targetValue") or "0"}
        _put(target, "averageValue", o.get("averageValue"))
        metric = {"name": o.get("metricName", "")}
        _put(metric, "selector", o.get("selector"))
        out["object"] = {"describedObject": dict(o.get("target") or {}), "target": target, "metric": metric}
    if isinstance(m.get("pods"), dict):
        p = m["pods"]
        metric = {"name": p.get("metricName", "")}
        _put(metric, "selector", p.get("selector"))
        out["pods"] = {"metric": metric, "target": {"type": AVERAGE_VALUE,
                                                    "averageValue": p.get("targetAverageValue") or "0"}}
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            r = m[key]
            util = r.get("targetAverageUtilization")
            target = {"type": AVERAGE_VALUE if util is None else UTILIZATION}
            _put(target, "averageValue", r.get("targetAverageValue"))
            _put(target, "averageUtilization", util)
            out[key] = {"name": r.get("name", ""), "target": target}
            if key == "containerResource":
                out[key]["container"] = r.get("container", "")
    if isinstance(m.get("external"), dict):
        e = m["external"]
        target = {"type": VALUE if e.get("targetAverageValue") is None else AVERAGE_VALUE}
        _put(target, "value", e.get("targetValue"))
        _put(target, "averageValue", e.get("targetAverageValue"))
        metric = {"name": e.get("metricName", "")}
        _put(metric, "selector", e.get("metricSelector"))
        out["external"] = {"metric": metric, "target": target}
    return out


def _v1_metric_status(m: dict) -> dict:
    """Convert_autoscaling_MetricStatus_To_v1_MetricStatus."""
    out = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src, cur = m["object"], m["object"].get("current") or {}
        metric = src.get("metric") or {}
        o = {"target": dict(src.get("describedObject") or {}), "metricName": metric.get("name", ""),
             "currentValue": cur.get("value") or "0"}
        _put(o, "selector", metric.get("selector"))
        _put(o, "averageValue", cur.get("averageValue"))
        out["object"] = o
    if isinstance(m.get("pods"), dict):
        src, cur = m["pods"], m["pods"].get("current") or {}
        metric = src.get("metric") or {}
        p = {"metricName": metric.get("name", ""), "currentAverageValue": cur.get("averageValue") or "0"}
        _put(p, "selector", metric.get("selector"))
        out["pods"] = p
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src, cur = m[key], m[key].get("current") or {}
            r = {"name": src.get("name", "")}
            _put(r, "currentAverageUtilization", cur.get("averageUtilization"))
            r["currentAverageValue"] = cur.get("averageValue") or "0"
            if key == "containerResource":
                r["container"] = src.get("container", "")
            out[key] = r
    if isinstance(m.get("external"), dict):
        src, cur = m["external"], m["external"].get("current") or {}
        metric = src.get("metric") or {}
        e = {"metricName": metric.get("name", "")}
        _put(e, "metricSelector", metric.get("selector"))
        e["currentValue"] = cur.get("value") or "0"
        _put(e, "currentAverageValue", cur.get("averageValue"))
        out["external"] = e
    return out


def _v2_metric_status(m: dict) -> dict:
    """Convert_v1_MetricStatus_To_autoscaling_MetricStatus."""
    out = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        o = m["object"]
        cur = {"value": o.get("currentValue") or "0"}
        _put(cur, "averageValue", o.get("averageValue"))
        metric = {"name": o.get("metricName", "")}
        _put(metric, "selector", o.get("selector"))
        out["object"] = {"metric": metric, "current": cur, "describedObject": dict(o.get("target") or {})}
    if isinstance(m.get("pods"), dict):
        p = m["pods"]
        metric = {"name": p.get("metricName", "")}
        _put(metric, "selector", p.get("selector"))
        out["pods"] = {"metric": metric, "current": {"averageValue": p.get("currentAverageValue") or "0"}}
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            r = m[key]
            cur = {"averageValue": r.get("currentAverageValue") or "0"}
            _put(cur, "averageUtilization", r.get("currentAverageUtilization"))
            out[key] = {"name": r.get("name", ""), "current": cur}
            if key == "containerResource":
                out[key]["container"] = r.get("container", "")
    if isinstance(m.get("external"), dict):
        e = m["external"]
        cur = {"value": e.get("currentValue") or "0"}
        _put(cur, "averageValue", e.get("currentAverageValue"))
        metric = {"name": e.get("metricName", "")}
        _put(metric, "selector", e.get("metricSelector"))
        out["external"] = {"metric": metric, "current": cur}
    return out


def _v1_condition(c: dict) -> dict:
    out = {"type": c.get("type", ""), "status": c.get("status", ""), "lastTransitionTime": c.get("lastTransitionTime")}
    for key in ("reason", "message"):
        if c.get(key):
            out[key] = c[key]
    return out


# The behavior annotation is the INTERNAL type marshalled (upstream's TODO says so): Go's field
# names, no omitempty; reading it back, encoding/json matches the names case-insensitively.
def _internal_rules(rules: dict | None) -> dict | None:
    if rules is None:
        return None
    return {"StabilizationWindowSeconds": rules.get("stabilizationWindowSeconds"),
            "SelectPolicy": rules.get("selectPolicy"),
            "Policies": [{"Type": p.get("type", ""), "Value": p.get("value", 0), "PeriodSeconds": p.get("periodSeconds", 0)}
                         for p in rules.get("policies") or []] if rules.get("policies") is not None else None,
            "Tolerance": rules.get("tolerance")}


def _lower_keys(value):
    if isinstance(value, dict):
        return {k.lower(): _lower_keys(x) for k, x in value.items()}
    if isinstance(value, list):
        return [_lower_keys(x) for x in value]
    return value


def _rules_from_internal(raw: Any) -> dict | None:
    if not isinstance(raw, dict):
        return None
    out: dict = {}
    _put(out, "stabilizationWindowSeconds", raw.get("stabilizationwindowseconds"))
    _put(out, "selectPolicy", raw.get("selectpolicy"))
    if isinstance(raw.get("policies"), list):
        out["policies"] = [{"type": p.get("type", ""), "value": p.get("value", 0), "periodSeconds": p.get("periodseconds", 0)}
                           for p in raw["policies"] if isinstance(p, dict)]
    _put(out, "tolerance", raw.get("tolerance"))
    return out


def _is_cpu_utilization(m: dict) -> bool:
    r = m.get("resource")
    return m.get("type") == RESOURCE_METRIC and isinstance(r, dict) and r.get("name") == "cpu" and \
        (r.get("target") or {}).get("averageUtilization") is not None


def to_v1(obj: dict) -> dict:
    """The v1 form of a stored (v2) HorizontalPodAutoscaler."""
    md = deep_copy(obj.get("metadata") or {})
    annotations = {k: x for k, x in (md.get("annotations") or {}).items() if k not in ROUND_TRIP_ANNOTATIONS}
    spec, status = obj.get("spec") or {}, obj.get("status")
    metrics = [m for m in spec.get("metrics") or [] if isinstance(m, dict)]
    v1spec = {"scaleTargetRef": dict(spec.get("scaleTargetRef") or {})}
    _put(v1spec, "minReplicas", spec.get("minReplicas"))
    v1spec["maxReplicas"] = spec.get("maxReplicas", 0)
    cpu = next((m for m in metrics if _is_cpu_utilization(m)), None)
    if cpu is not None:
        v1spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"]["averageUtilization"]
    other = [_v1_metric_spec(m) for m in metrics if not _is_cpu_utilization(m)]
    if other:
        annotations[METRIC_SPECS_ANNOTATION] = _dumps(other)
    out = {"apiVersion": f"{GROUP}/v1", "kind": KIND, "metadata": md, "spec": v1spec}
    if status is not None:
        status = status or {}
        v1status: dict = {}
        for key in ("observedGeneration", "lastScaleTime"):
            _put(v1status, key, status.get(key))
        v1status["currentReplicas"] = status.get("currentReplicas", 0)
        v1status["desiredReplicas"] = status.get("desiredReplicas", 0)
        current = [m for m in status.get("currentMetrics") or [] if isinstance(m, dict)]
        for m in current:
            r = m.get("resource") or {}
            if m.get("type") == RESOURCE_METRIC and r.get("name") == "cpu" and \
                    (r.get("current") or {}).get("averageUtilization") is not None:
                v1status["currentCPUUtilizationPercentage"] = r["current"]["averageUtilization"]
                break
        if current:
            annotations[METRIC_STATUSES_ANNOTATION] = _dumps([_v1_metric_status(m) for m in current])
        if status.get("conditions"):
            annotations[CONDITIONS_ANNOTATION] = _dumps([_v1_condition(c) for c in status["conditions"]])
        out["status"] = v1status
    if isinstance(spec.get("behavior"), dict):
        b = spec["behavior"]
        annotations[BEHAVIOR_ANNOTATION] = _dumps({"ScaleUp": _internal_rules(b.get("scaleUp")),
                                                   "ScaleDown": _internal_rules(b.get("scaleDown"))})
    if annotations:
        md["annotations"] = annotations
    else:
        md.pop("annotations", None)
    return out


def _annotation_json(annotations: dict, key: str):
    try:
        return json.loads(annotations[key]) if key in annotations else None
    except ValueError:
        return None   # upstream ignores what does not unmarshal


def from_v1(obj: dict) -> dict:
    """The v2 form of a v1 HorizontalPodAutoscaler (what is stored)."""
    md = deep_copy(obj.get("metadata") or {})
    annotations = dict(md.get("annotations") or {})
    spec, status = obj.get("spec") or {}, obj.get("status")
    v2spec = {"scaleTargetRef": dict(spec.get("scaleTargetRef") or {})}
    _put(v2spec, "minReplicas", spec.get("minReplicas"))
    v2spec["maxReplicas"] = spec.get("maxReplicas", 0)
    metrics = []
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics = [{"type": RESOURCE_METRIC, "resource": {"name": "cpu", "target": {
            "type": UTILIZATION, "averageUtilization": spec["targetCPUUtilizationPercentage"]}}}]
    other = _annotation_json(annotations, METRIC_SPECS_ANNOTATION)
    if isinstance(other, list):
        metrics = [_v2_metric_spec(m) for m in other if isinstance(m, dict)] + metrics
    if not metrics:
        # autoscaling/v1's implicit default, made explicit (the whole set of metrics is known here)
        metrics = [{"type": RESOURCE_METRIC, "resource": {"name": "cpu", "target": {
            "type": UTILIZATION, "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
    v2spec["metrics"] = metrics
    behavior = _lower_keys(_annotation_json(annotations, BEHAVIOR_ANNOTATION))
    if isinstance(behavior, dict):
        b = {}
        _put(b, "scaleUp", _rules_from_internal(behavior.get("scaleup")))
        _put(b, "scaleDown", _rules_from_internal(behavior.get("scaledown")))
        v2spec["behavior"] = b
    out = {"apiVersion": f"{GROUP}/v2", "kind": KIND, "metadata": md, "spec": v2spec}
    if status is not None:
        status = status or {}
        v2status: dict = {}
        for key in ("observedGeneration", "lastScaleTime"):
            _put(v2status, key, status.get(key))
        if status.get("currentReplicas"):
            v2status["currentReplicas"] = status["currentReplicas"]
        v2status["desiredReplicas"] = status.get("desiredReplicas", 0)
        if status.get("currentCPUUtilizationPercentage") is not None:
            v2status["currentMetrics"] = [{"type": RESOURCE_METRIC, "resource": {"name": "cpu", "current": {
                "averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
        current = _annotation_json(annotations, METRIC_STATUSES_ANNOTATION)
        if isinstance(current, list):
            v2status["currentMetrics"] = [_v2_metric_status(m) for m in current if isinstance(m, dict)]
        conditions = _annotation_json(annotations, CONDITIONS_ANNOTATION)
        if isinstance(conditions, list):
            v2status["conditions"] = [dict(c) for c in conditions if isinstance(c, dict)]
        out["status"] = v2status
    for key in ROUND_TRIP_ANNOTATIONS:
        annotations.pop(key, None)
    if annotations:
        md["annotations"] = annotations
    else:
        md.pop("annotations", None)
    return out


CONVERSION = Conversion(schemas=(("v1", HPA_V1),),
                        to_version=lambda obj, version: to_v1(obj),
                        from_version=lambda obj, version: from_v1(obj))


# -- printer (pkg/printers/internalversion/printers.go printHorizontalPodAutoscaler) ------------
HPA_COLUMNS = [
    NAME,
    col("Reference", description="scaleTargetRef points to the target resource to scale, and is used to the pods for "
                                 "which metrics should be collected, as well as to actually change the replica count."),
    col("Targets", description="metrics contains the specifications for which to use to calculate the desired replica "
                               "count (the maximum replica count across all metrics will be used)."),
    col("MinPods", description="minReplicas is the lower limit for the number of replicas to which the autoscaler can "
                               "scale down."),
    col("MaxPods", "integer", description="maxReplicas is the upper limit for the number of replicas to which the "
                                          "autoscaler can scale up."),
    col("Replicas", "integer", description="currentReplicas is current number of replicas of pods managed by this "
                                           "autoscaler, as last seen by the autoscaler."),
    AGE,
]

UNKNOWN = "<unknown>"


def _status_at(statuses: list, i: int, key: str) -> dict | None:
    if len(statuses) > i and isinstance(statuses[i], dict) and isinstance(statuses[i].get(key), dict):
        return statuses[i][key]
    return None


def format_hpa_metrics(specs: list, statuses: list) -> str:
    """formatHPAMetrics: at most two targets, each "<metric>: <current>/<target>", then
    "+ N more..."."""
    if not specs:
        return "<none>"
    out = []
    for i, spec in enumerate(specs):
        spec = spec if isinstance(spec, dict) else {}
        t = spec.get("type")
        if t in (EXTERNAL_METRIC, OBJECT_METRIC, PODS_METRIC):
            key = t[0].lower() + t[1:]
            src = spec.get(key) or {}
            target = src.get("target") or {}
            st = _status_at(statuses, i, key)
            cur = (st or {}).get("current") or {}
            name = (src.get("metric") or {}).get("name", "")
            if target.get("averageValue") is not None:
                current = cur.get("averageValue") if st is not None and cur.get("averageValue") is not None else UNKNOWN
                suffix = "" if t == PODS_METRIC else " (avg)"
                out.append(f"{name}: {current}/{target['averageValue']}{suffix}")
            else:
                current = cur.get("value") or "0" if st is not None else UNKNOWN
                out.append(f"{name}: {current}/{target.get('value') or '0'}")
        elif t in (RESOURCE_METRIC, CONTAINER_RESOURCE_METRIC):
            key = "resource" if t == RESOURCE_METRIC else "containerResource"
            src = spec.get(key) or {}
            target = src.get("target") or {}
            st = _status_at(statuses, i, key)
            cur = (st or {}).get("current") or {}
            name = src.get("name", "")
            if t == CONTAINER_RESOURCE_METRIC:
                name = f"{name} ({src.get('container', '')})"
            if target.get("averageValue") is not None:
                current = cur.get("averageValue") or "0" if st is not None else UNKNOWN
                out.append(f"{name}: {current}/{target['averageValue']}")
            else:
                current = f"{cur['averageUtilization']}%" if st is not None and cur.get("averageUtilization") is not None \
                    else UNKNOWN
                goal = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
                out.append(f"{name}: {current}/{goal}")
        else:
            out.append("<unknown type>")
    if len(out) > 2:
        return f"{', '.join(out[:2])} + {len(out) - 2} more..."
    return ", ".join(out)


def hpa_row(hpa: dict, now: float) -> list[Any]:
    md, spec, status = hpa.get("metadata", {}), hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    min_pods = str(spec["minReplicas"]) if spec.get("minReplicas") is not None else "<unset>"
    return [md.get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}",
            format_hpa_metrics(spec.get("metrics") or [], status.get("currentMetrics") or []),
            min_pods, int(spec.get("maxReplicas") or 0), int(status.get("currentReplicas") or 0),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("horizontalpodautoscalers", GROUP, "v2", KIND, True, "/registry/horizontalpodautoscalers/",
                    ("hpa",), "horizontalpodautoscaler", ("status",), HorizontalPodAutoscalerStrategy(), HPA_V2,
                    categories=("all",), printer=Printer(HPA_COLUMNS, hpa_row), versions=("v2", "v1"),
                    conversion=CONVERSION)
