"""PodDisruptionBudgets (pkg/registry/policy/poddisruptionbudget, pkg/apis/policy/validation):
policy/v1, namespaced, short name "pdb", generation tracked, a status subresource the
disruption controller (sim/controllers/disruption.py) and the eviction subresource
(sim/apiserver/eviction.py) write.

spec.minAvailable / spec.maxUnavailable are an int or a percentage (at most one of them);
spec.selector selects the pods (in policy/v1 an empty selector selects every pod of the
namespace for the controller, none for eviction); spec.unhealthyPodEvictionPolicy is
IfHealthyBudget or AlwaysAllow.
"""
from __future__ import annotations

import math
import re
from typing import Any

from sim.api import validation as v
from sim.api.gotypes import INT32, INT64, INT_OR_STRING, STRING, TIME, Map, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, TYPE_META
from sim.api.validation import GoSyntax, invalid, not_supported
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

GROUP = "policy"

# metav1.Condition (apimachinery/pkg/apis/meta/v1/types.go)
CONDITION = struct("v1.Condition", type=STRING, status=enum("v1.ConditionStatus"), observedGeneration=INT64,
                   lastTransitionTime=TIME, reason=STRING, message=STRING)

# k8s.io/api/policy/v1/types.go
POD_DISRUPTION_BUDGET = struct(
    "v1.PodDisruptionBudget", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.PodDisruptionBudgetSpec", minAvailable=INT_OR_STRING, selector=LABEL_SELECTOR,
                maxUnavailable=INT_OR_STRING,
                unhealthyPodEvictionPolicy=enum("v1.UnhealthyPodEvictionPolicyType")),
    status=struct("v1.PodDisruptionBudgetStatus", observedGeneration=INT64, disruptedPods=Map(TIME),
                  disruptionsAllowed=INT32, currentHealthy=INT32, desiredHealthy=INT32, expectedPods=INT32,
                  conditions=Slice(CONDITION)))

# policy/v1 constants
IF_HEALTHY_BUDGET, ALWAYS_ALLOW = "IfHealthyBudget", "AlwaysAllow"
UNHEALTHY_POD_EVICTION_POLICIES = (ALWAYS_ALLOW, IF_HEALTHY_BUDGET)   # sets.List: sorted
DISRUPTION_ALLOWED_CONDITION = "DisruptionAllowed"
SYNC_FAILED_REASON, SUFFICIENT_PODS_REASON, INSUFFICIENT_PODS_REASON = "SyncFailed", "SufficientPods", "InsufficientPods"
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"

_PERCENT_RE = re.compile(r"^[0-9]+%$")
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
               "regex used for validation is '[0-9]+%')")


# -- intstr ------------------------------------------------------------------------------------
def int_or_string(value: Any) -> str:
    """IntOrString.String()."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _go_int_or_string(value: Any) -> GoSyntax:
    """%#v of an intstr.IntOrString (field.Error prints it so: its String() has a pointer receiver)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return GoSyntax(f'intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:""}}')
    return GoSyntax(f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:"{value}"}}')


class IntOrPercentError(ValueError):
    pass


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if not value.endswith("%"):
            raise IntOrPercentError('invalid type: string is not a percentage')
        try:
            pct = int(value[:-1])
        except ValueError:
            raise IntOrPercentError(f'invalid value for IntOrString: invalid value "{value}": '
                                    f'strconv.Atoi: parsing "{value[:-1]}": invalid syntax') from None
        return math.ceil(pct * total / 100) if round_up else math.floor(pct * total / 100)
    raise IntOrPercentError("invalid type: neither int nor percentage")


# -- validation (pkg/apis/policy/validation, pkg/apis/apps/validation) --------------------------
def validate_positive_int_or_percent(value: Any, field: str) -> list:
    """appsvalidation.ValidatePositiveIntOrPercent, then IsNotMoreThan100Percent."""
    errs = []
    if isinstance(value, str):
        if not _PERCENT_RE.match(value):
            errs.append(invalid(field, _go_int_or_string(value), PERCENT_MSG))
        elif int(value[:-1]) > 100:
            errs.append(invalid(field, _go_int_or_string(value), "must not be greater than 100%"))
    elif isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            errs.append(invalid(field, value, v.NON_NEGATIVE_MSG))
    else:
        errs.append(invalid(field, _go_int_or_string(value), "must be an integer or percentage (e.g '5%')"))
    return errs


def _go_spec(spec: dict) -> GoSyntax:
    """%#v of the internal PodDisruptionBudgetSpec (its pointers print as addresses upstream)."""
    def ptr(name, go):
        return f"{name}:(*{go})(0xc000000000)" if spec.get(name[0].lower() + name[1:]) is not None \
            else f"{name}:(*{go})(nil)"
    return GoSyntax("policy.PodDisruptionBudgetSpec{" + ", ".join([
        ptr("MinAvailable", "intstr.IntOrString"), ptr("Selector", "v1.LabelSelector"),
        ptr("MaxUnavailable", "intstr.IntOrString"),
        ptr("UnhealthyPodEvictionPolicy", "policy.UnhealthyPodEvictionPolicyType")]) + "}")


def validate_spec(spec: dict, field: str = "spec") -> list:
    """ValidatePodDisruptionBudgetSpec."""
    errs = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        errs.append(invalid(field, _go_spec(spec), "minAvailable and maxUnavailable cannot be both set"))
    for name in ("minAvailable", "maxUnavailable"):
        if spec.get(name) is not None:
            errs += validate_positive_int_or_percent(spec[name], f"{field}.{name}")
    errs += v.validate_label_selector(spec.get("selector"), f"{field}.selector")
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
        errs.append(not_supported(f"{field}.unhealthyPodEvictionPolicy", policy, UNHEALTHY_POD_EVICTION_POLICIES))
    return errs


def validate(pdb: dict) -> list:
    """ValidatePodDisruptionBudget (the generic store validates the ObjectMeta)."""
    return v.validate_object_meta(pdb, namespaced=True) + validate_spec(pdb.get("spec") or {})


def validate_status(status: dict, field: str = "status") -> list:
    """ValidatePodDisruptionBudgetStatusUpdate (policy/v1): conditions, no negative counts."""
    errs = []
    for i, c in enumerate(status.get("conditions") or []):
        p = f"{field}.conditions[{i}]"
        if not c.get("type"):
            errs.append(v.required(f"{p}.type"))
        if c.get("status") not in ("True", "False", "Unknown"):
            errs.append(not_supported(f"{p}.status", c.get("status", ""), ("False", "True", "Unknown")))
        if not c.get("lastTransitionTime"):
            errs.append(v.required(f"{p}.lastTransitionTime", "must be set"))
        if not c.get("reason"):
            errs.append(v.required(f"{p}.reason"))
    for name in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        if (status.get(name) or 0) < 0:
            errs.append(invalid(f"{field}.{name}", status[name], v.NON_NEGATIVE_MSG))
    return errs


def initial_status() -> dict:
    """PodDisruptionBudgetStatus{}: the four counts have no omitempty."""
    return {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}


class PodDisruptionBudgetStrategy(Strategy):
    tracks_generation = True

    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = f"{GROUP}/v1", "PodDisruptionBudget"
        obj.setdefault("spec", {})
        return obj

    def initial_status(self, obj):
        return initial_status()

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate(new)

    def validate_status_update(self, new, old):
        return v.validate_object_meta(new, namespaced=True) + validate_status(new.get("status") or {})


# -- pkg/apis/policy/helper: the DisruptionAllowed condition -------------------------------------
def set_status_condition(conditions: list, cond: dict, now: str) -> None:
    """apimeta.SetStatusCondition: a new condition gets `now` as its transition time; an
    existing one gets it only when its status changes; reason, message and observedGeneration
    follow."""
    for c in conditions:
        if c.get("type") == cond["type"]:
            if c.get("status") != cond["status"]:
                c["status"] = cond["status"]
                c["lastTransitionTime"] = cond.get("lastTransitionTime") or now
            c["reason"], c["message"] = cond["reason"], cond.get("message", "")
            c["observedGeneration"] = cond.get("observedGeneration", 0)
            return
    conditions.append({"type": cond["type"], "status": cond["status"],
                       "observedGeneration": cond.get("observedGeneration", 0),
                       "lastTransitionTime": cond.get("lastTransitionTime") or now,
                       "reason": cond["reason"], "message": cond.get("message", "")})


def update_disruption_allowed_condition(pdb: dict, now: str) -> None:
    """pdbhelper.UpdateDisruptionAllowedCondition."""
    status = pdb.setdefault("status", {})
    conditions = status.setdefault("conditions", [])
    allowed = (status.get("disruptionsAllowed") or 0) > 0
    set_status_condition(conditions, {"type": DISRUPTION_ALLOWED_CONDITION, "status": "True" if allowed else "False",
                                      "reason": SUFFICIENT_PODS_REASON if allowed else INSUFFICIENT_PODS_REASON,
                                      "observedGeneration": status.get("observedGeneration", 0)}, now)


def conditions_are_up_to_date(pdb: dict) -> bool:
    """pdbhelper.ConditionsAreUpToDate."""
    status = pdb.get("status") or {}
    cond = next((c for c in status.get("conditions") or [] if c.get("type") == DISRUPTION_ALLOWED_CONDITION), None)
    if cond is None or status.get("observedGeneration", 0) != pdb["metadata"].get("generation", 0):
        return False
    if (status.get("disruptionsAllowed") or 0) > 0:
        return cond.get("status") == "True" and cond.get("reason") == SUFFICIENT_PODS_REASON
    return cond.get("status") == "False" and cond.get("reason") == INSUFFICIENT_PODS_REASON


# -- printer (printers.go printPodDisruptionBudget) -------------------------------------------
PDB_COLUMNS = [
    NAME,
    col("Min Available", description="The minimum number of pods that must be available."),
    col("Max Unavailable", description="The maximum number of pods that may be unavailable."),
    col("Allowed Disruptions", "integer", description="Calculated number of pods that may be disrupted at this time."),
    AGE,
]


def pdb_row(pdb: dict, now: float) -> list[Any]:
    md, spec, st = pdb.get("metadata", {}), pdb.get("spec") or {}, pdb.get("status") or {}
    min_available = int_or_string(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A"
    max_unavailable = int_or_string(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A"
    return [md.get("name", ""), min_available, max_unavailable, int(st.get("disruptionsAllowed") or 0),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("poddisruptionbudgets", GROUP, "v1", "PodDisruptionBudget", True,
                    "/registry/poddisruptionbudgets/", ("pdb",), "poddisruptionbudget", ("status",),
                    PodDisruptionBudgetStrategy(), POD_DISRUPTION_BUDGET,
                    printer=Printer(PDB_COLUMNS, pdb_row))
