"""Deployments (pkg/registry/apps/deployment, pkg/apis/apps/validation ValidateDeployment,
k8s.io/api apps/v1 types and SetDefaults_Deployment): apps/v1, namespaced, short name "deploy",
category "all", generation tracked, status and scale subresources.

What is particular to the kind:
- defaults: replicas 1, strategy RollingUpdate with maxSurge / maxUnavailable 25%,
  revisionHistoryLimit 10, progressDeadlineSeconds 600; the pod template is defaulted as a
  ReplicaSet's is (so the controller's ReplicaSet, made from it, compares equal to it);
- the generation moves when the spec OR the annotations change (deploymentStrategy.
  PrepareForUpdate: the annotations once carried the rollback request);
- the status subresource writes the status and the annotations (deploymentStatusStrategy keeps
  only spec and labels): that is how the controller records `deployment.kubernetes.io/revision`
  on the Deployment;
- in apps/v1 the selector is immutable.

The controller is sim/controllers/deployment.py.
"""
from __future__ import annotations

import json
from typing import Any

from sim.api import validation as v
from sim.api.defaults import default_replicaset
from sim.api.gotypes import BOOL, INT32, INT64, INT_OR_STRING, STRING, TIME, Slice, enum, fields, struct
from sim.api.meta import deep_copy
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, POD_TEMPLATE_SPEC, TYPE_META
from sim.api.selectors import format_label_selector
from sim.api.validation import GoSyntax, forbidden, invalid, not_supported, required
from sim.registry.policy.poddisruptionbudgets import PERCENT_MSG, _PERCENT_RE
from sim.registry.printers import AGE, NAME, Printer, col, selector_string, since
from sim.registry.resource import COMMON_FIELDS, Resource, ScaleSubresource
from sim.registry.strategy import Strategy

GROUP = "apps"
ROLLING_UPDATE, RECREATE = "RollingUpdate", "Recreate"

# k8s.io/api/apps/v1/types.go
DEPLOYMENT_CONDITION = struct("v1.DeploymentCondition", type=enum("v1.DeploymentConditionType"),
                              status=enum("v1.ConditionStatus"), lastUpdateTime=TIME, lastTransitionTime=TIME,
                              reason=STRING, message=STRING)
DEPLOYMENT = struct(
    "v1.Deployment", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.DeploymentSpec", replicas=INT32, selector=LABEL_SELECTOR, template=POD_TEMPLATE_SPEC,
                strategy=struct("v1.DeploymentStrategy", type=enum("v1.DeploymentStrategyType"),
                                rollingUpdate=struct("v1.RollingUpdateDeployment", maxUnavailable=INT_OR_STRING,
                                                     maxSurge=INT_OR_STRING)),
                minReadySeconds=INT32, revisionHistoryLimit=INT32, paused=BOOL, progressDeadlineSeconds=INT32),
    status=struct("v1.DeploymentStatus", observedGeneration=INT64,
                  **fields("replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                           "unavailableReplicas", "terminatingReplicas", of=INT32),
                  conditions=Slice(DEPLOYMENT_CONDITION), collisionCount=INT32))


# -- defaulting (pkg/apis/apps/v1/defaults.go SetDefaults_Deployment) ---------------------------
def default_pod_template(template: dict | None) -> dict:
    """The pod template defaulted exactly as a ReplicaSet's (SetDefaults_PodSpec and friends run
    on every PodTemplateSpec the same way): one defaulter, so the Deployment's template and its
    ReplicaSet's compare equal."""
    return default_replicaset({"spec": {"template": template or {}}})["spec"]["template"]


def default_deployment(obj: dict) -> dict:
    obj = deep_copy(obj)
    obj["apiVersion"], obj["kind"] = f"{GROUP}/v1", "Deployment"
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = spec.get("strategy") or {}
    spec["strategy"] = strategy
    if not strategy.get("type"):
        strategy["type"] = ROLLING_UPDATE
    if strategy["type"] == ROLLING_UPDATE:
        ru = strategy.get("rollingUpdate") or {}
        strategy["rollingUpdate"] = ru
        if ru.get("maxUnavailable") is None:
            ru["maxUnavailable"] = "25%"
        if ru.get("maxSurge") is None:
            ru["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    spec["template"] = default_pod_template(spec.get("template"))
    obj.setdefault("status", {})
    return obj


# -- validation (pkg/apis/apps/validation/validation.go) ---------------------------------------
def _go_int_or_string(value: Any) -> GoSyntax:
    if isinstance(value, int) and not isinstance(value, bool):
        return GoSyntax(f'intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:""}}')
    return GoSyntax(f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:"{value}"}}')


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_positive_int_or_percent(value: Any, field: str) -> list:
    """ValidatePositiveIntOrPercent."""
    if isinstance(value, str):
        return [] if _PERCENT_RE.match(value) else [invalid(field, _go_int_or_string(value), PERCENT_MSG)]
    if _is_int(value):
        return [invalid(field, value, v.NON_NEGATIVE_MSG)] if value < 0 else []
    return [invalid(field, _go_int_or_string(value), "must be an integer or percentage (e.g '5%')")]


def int_or_percent_value(value: Any) -> int:
    """getIntOrPercentValue: the int, or the percentage's number."""
    if _is_int(value):
        return value
    if isinstance(value, str) and _PERCENT_RE.match(value):
        return int(value[:-1])
    return 0


def validate_strategy(strategy: dict, field: str = "spec.strategy") -> list:
    """ValidateDeploymentStrategy and ValidateRollingUpdateDeployment."""
    errs = []
    stype = strategy.get("type")
    ru = strategy.get("rollingUpdate")
    if stype == RECREATE:
        if ru is not None:
            errs.append(forbidden(f"{field}.rollingUpdate",
                                  "may not be specified when strategy `type` is 'Recreate'"))
    elif stype == ROLLING_UPDATE:
        if ru is None:
            errs.append(required(f"{field}.rollingUpdate", "this should be defaulted and never be nil"))
        else:
            mu, ms = ru.get("maxUnavailable"), ru.get("maxSurge")
            errs += validate_positive_int_or_percent(mu, f"{field}.rollingUpdate.maxUnavailable")
            errs += validate_positive_int_or_percent(ms, f"{field}.rollingUpdate.maxSurge")
            if int_or_percent_value(mu) == 0 and int_or_percent_value(ms) == 0:
                errs.append(invalid(f"{field}.rollingUpdate.maxUnavailable", _go_int_or_string(mu),
                                    "may not be 0 when `maxSurge` is 0"))
            if isinstance(mu, str) and _PERCENT_RE.match(mu) and int(mu[:-1]) > 100:   # IsNotMoreThan100Percent
                errs.append(invalid(f"{field}.rollingUpdate.maxUnavailable", _go_int_or_string(mu),
                                    "must not be greater than 100%"))
    else:
        ru_go = "(*apps.RollingUpdateDeployment)(nil)" if ru is None else "(*apps.RollingUpdateDeployment)(0xc000000000)"
        errs.append(not_supported(field, GoSyntax(f"apps.DeploymentStrategy{{Type:{json.dumps(stype or '')}, "
                                                  f"RollingUpdate:{ru_go}}}"), (RECREATE, ROLLING_UPDATE)))
    return errs


def _as_replicaset(d: dict) -> dict:
    """The fields ValidateDeploymentSpec checks as a ReplicaSet's (ValidatePodTemplateSpecForReplicaSet,
    replicas, minReadySeconds): the same paths under spec, so the same errors."""
    spec = d.get("spec") or {}
    rs_spec = {k: spec[k] for k in ("replicas", "minReadySeconds", "selector", "template") if k in spec}
    return {"metadata": d.get("metadata") or {}, "spec": rs_spec}


def _validate_spec_extras(spec: dict) -> list:
    errs = []
    sel = spec.get("selector")
    if isinstance(sel, dict) and not (sel.get("matchLabels") or sel.get("matchExpressions")):
        errs.append(invalid("spec.selector", sel, "empty selector is invalid for deployment"))
    errs += validate_strategy(spec.get("strategy") or {})
    rhl = spec.get("revisionHistoryLimit")
    if rhl is not None and (not _is_int(rhl) or rhl < 0):   # zero is a valid RevisionHistoryLimit
        errs.append(invalid("spec.revisionHistoryLimit", rhl, v.NON_NEGATIVE_MSG))
    pds = spec.get("progressDeadlineSeconds")
    if pds is not None:
        if not _is_int(pds) or pds < 0:
            errs.append(invalid("spec.progressDeadlineSeconds", pds, v.NON_NEGATIVE_MSG))
        elif pds <= (spec.get("minReadySeconds") or 0):
            errs.append(invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"))
    return errs


def _drop_empty_selector_required(errs: list, spec: dict) -> list:
    """An empty (but present) selector is "empty selector is invalid for deployment", not the
    ReplicaSet's Required."""
    if isinstance(spec.get("selector"), dict):
        return [e for e in errs if not (e.field == "spec.selector" and e.type == "Required")]
    return errs


def validate(d: dict) -> list:
    """ValidateDeployment."""
    spec = d.get("spec")
    if not isinstance(spec, dict):
        return v.validate_object_meta(d, namespaced=True) + [required("spec")]
    errs = _drop_empty_selector_required(v.validate_replicaset(_as_replicaset(d)), spec)
    return errs + _validate_spec_extras(spec)


def validate_update(new: dict, old: dict) -> list:
    """ValidateDeploymentUpdate, and apps/v1's immutable selector (deploymentStrategy.ValidateUpdate)."""
    spec = new.get("spec")
    if not isinstance(spec, dict):
        return v.validate_object_meta(new, namespaced=True) + [required("spec")]
    errs = _drop_empty_selector_required(v.validate_replicaset_update(_as_replicaset(new), _as_replicaset(old)), spec)
    return errs + _validate_spec_extras(spec)


def validate_status(status: dict, old_status: dict | None = None, field: str = "status") -> list:
    """ValidateDeploymentStatus (+ ValidateDeploymentStatusUpdate's collisionCount rule)."""
    errs = []
    for name in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                 "unavailableReplicas", "terminatingReplicas", "collisionCount"):
        value = status.get(name)
        if value is not None and _is_int(value) and value < 0:
            errs.append(invalid(f"{field}.{name}", value, v.NON_NEGATIVE_MSG))
    replicas = status.get("replicas") or 0
    msg = "cannot be greater than status.replicas"
    for name in ("updatedReplicas", "readyReplicas", "availableReplicas"):
        if (status.get(name) or 0) > replicas:
            errs.append(invalid(f"{field}.{name}", status[name], msg))
    if (status.get("availableReplicas") or 0) > (status.get("readyReplicas") or 0):
        errs.append(invalid(f"{field}.availableReplicas", status["availableReplicas"],
                            "cannot be greater than readyReplicas"))
    old_cc = (old_status or {}).get("collisionCount")
    new_cc = status.get("collisionCount")
    if old_cc is not None and (new_cc is None or new_cc < old_cc):
        errs.append(invalid(f"{field}.collisionCount", new_cc, "cannot be decremented"))
    return errs


class DeploymentStrategy(Strategy):
    default_copies = True   # default_deployment deep-copies first
    tracks_generation = True

    def default(self, obj, ctx):
        return default_deployment(obj)

    def initial_status(self, obj):
        return {}   # DeploymentStatus: every field omitempty

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)

    def spec_changed(self, new, old):
        # deploymentStrategy.PrepareForUpdate: spec or annotations (the old rollback request).
        return (new.get("spec") != old.get("spec")
                or (new["metadata"].get("annotations") or {}) != (old["metadata"].get("annotations") or {}))

    def prepare_for_status_update(self, res, candidate, old, ctx):
        """deploymentStatusStrategy.PrepareForUpdate: the spec and the labels stay the stored
        ones; the status and the annotations are the request's (the controller writes the
        revision annotation so)."""
        new = deep_copy(old)
        new["status"] = deep_copy(candidate.get("status") or {})
        annotations = (candidate.get("metadata") or {}).get("annotations")
        if annotations:
            new["metadata"]["annotations"] = deep_copy(annotations)
        else:
            new["metadata"].pop("annotations", None)
        return new

    def validate_status_update(self, new, old):
        return v.validate_object_meta(new, namespaced=True) + validate_status(new.get("status") or {},
                                                                              old.get("status") or {})


# -- printer (pkg/printers/internalversion/printers.go printDeployment) ------------------------
DEPLOYMENT_COLUMNS = [
    NAME,
    col("Ready", description="Number of the pod with ready state"),
    col("Up-to-date", description="Total number of non-terminating pods targeted by this deployment that have "
                                  "the desired template spec."),
    col("Available", description="Total number of available non-terminating pods (ready for at least "
                                 "minReadySeconds) targeted by this deployment."),
    AGE,
    col("Containers", priority=1, description="Names of each container in the template."),
    col("Images", priority=1, description="Images referenced by each container in the template."),
    col("Selector", priority=1, description="Label selector for pods. Existing ReplicaSets whose pods are selected "
                                            "by this will be the ones affected by this deployment. It must match "
                                            "the pod template's labels."),
]


def deployment_row(d: dict, now: float) -> list[Any]:
    md, spec, st = d.get("metadata", {}), d.get("spec") or {}, d.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    desired = spec.get("replicas") if spec.get("replicas") is not None else 1
    return [md.get("name", ""), f"{int(st.get('readyReplicas') or 0)}/{int(desired)}",
            int(st.get("updatedReplicas") or 0), int(st.get("availableReplicas") or 0),
            since(md.get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers),
            selector_string(spec.get("selector"))]


RESOURCE = Resource("deployments", GROUP, "v1", "Deployment", True, "/registry/deployments/", ("deploy",),
                    "deployment", ("status", "scale"), DeploymentStrategy(), DEPLOYMENT,
                    categories=("all",), selectable_fields=COMMON_FIELDS,
                    printer=Printer(DEPLOYMENT_COLUMNS, deployment_row),
                    scale=ScaleSubresource(selector=lambda d: format_label_selector(
                        (d.get("spec") or {}).get("selector") or {})))
