"""ResourceQuotas (pkg/registry/core/resourcequota, pkg/apis/core/validation): namespaced, short
name "quota", a status subresource (status.hard and status.used, kept by the resource quota
controller, sim/controllers/resourcequota.py, and charged by the ResourceQuota admission plugin,
sim/apiserver/admission/resourcequota.py).  The printer is NAME AGE REQUEST LIMIT, as
printResourceQuota: "used/hard" per resource, the limits.* ones under LIMIT."""
from __future__ import annotations

from typing import Any

from sim.api import validation as v
from sim.api.gotypes import Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.quantity import QuantityError, canonical, parse_quantity
from sim.api.schema import OBJECT_META, RESOURCE_LIST, STRINGS, TYPE_META
from sim.api.validation import invalid, not_supported
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

# k8s.io/api/core/v1/types.go
SCOPE_SELECTOR = struct("v1.ScopeSelector", matchExpressions=Slice(struct(
    "v1.ScopedResourceSelectorRequirement", scopeName=enum("v1.ResourceQuotaScope"),
    operator=enum("v1.ScopeSelectorOperator"), values=STRINGS)))
RESOURCE_QUOTA = struct(
    "v1.ResourceQuota", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.ResourceQuotaSpec", hard=RESOURCE_LIST, scopes=Slice(enum("v1.ResourceQuotaScope")),
                scopeSelector=SCOPE_SELECTOR),
    status=struct("v1.ResourceQuotaStatus", hard=RESOURCE_LIST, used=RESOURCE_LIST))

# pkg/apis/core/helper/helpers.go
STANDARD_QUOTA_RESOURCES = frozenset((
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "services",
    "replicationcontrollers", "resourcequotas", "secrets", "persistentvolumeclaims", "configmaps",
    "services.nodeports", "services.loadbalancers"))
STANDARD_RESOURCES = STANDARD_QUOTA_RESOURCES | {"storage"}
INTEGER_RESOURCES = frozenset(("pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
                               "configmaps", "persistentvolumeclaims", "services.nodeports",
                               "services.loadbalancers"))
SCOPES = ("BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass",
          "Terminating")
SCOPE_OPERATORS = ("DoesNotExist", "Exists", "In", "NotIn")
INVALID_QUOTA_RESOURCE = "must be a standard resource for quota"


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-") or name.startswith("requests.hugepages-")


def validate_resource_name(name: str, field: str) -> list:
    """validateResourceName: a qualified name; without a "/", a standard resource."""
    errs = [invalid(field, name, msg) for msg in v.qualified_name_errors(name)]
    if errs:
        return errs
    if "/" not in name and name not in STANDARD_RESOURCES and not is_hugepages(name):
        return [invalid(field, name, "must be a standard resource type or fully qualified")]
    return []


def validate_quota_resource_name(name: str, field: str) -> list:
    errs = validate_resource_name(name, field)
    if "/" not in name and name not in STANDARD_QUOTA_RESOURCES and not is_hugepages(name):
        errs.append(invalid(field, name, INVALID_QUOTA_RESOURCE))
    return errs


def validate_quantity_value(name: str, value: Any, field: str) -> list:
    """ValidateResourceQuantityValue: not negative, and whole for the integer resources."""
    try:
        q = parse_quantity(value)
    except QuantityError as e:
        return [invalid(field, value, str(e))]
    if q < 0:
        return [invalid(field, canonical(value), v.NON_NEGATIVE_MSG)]
    if name in INTEGER_RESOURCES and q != q.to_integral_value():
        return [invalid(field, canonical(value), "must be an integer")]
    return []


def validate_resource_list(hard: dict, field: str) -> list:
    errs = []
    for k in sorted(hard or {}):
        errs += validate_quota_resource_name(k, f"{field}[{k}]")
        errs += validate_quantity_value(k, hard[k], f"{field}[{k}]")
    return errs


def validate(rq: dict) -> list:
    """ValidateResourceQuota."""
    errs = v.validate_object_meta(rq, namespaced=True)
    spec = rq.get("spec") or {}
    errs += validate_resource_list(spec.get("hard") or {}, "spec.hard")
    scopes = spec.get("scopes") or []
    for s in scopes:
        if s not in SCOPES:
            errs.append(not_supported("spec.scopes", s, SCOPES))
    if "Terminating" in scopes and "NotTerminating" in scopes:
        errs.append(invalid("spec.scopes", v.GoSyntax("[" + " ".join(scopes) + "]"),
                            "conflicting scopes"))
    if "BestEffort" in scopes and "NotBestEffort" in scopes:
        errs.append(invalid("spec.scopes", v.GoSyntax("[" + " ".join(scopes) + "]"), "conflicting scopes"))
    for i, req in enumerate(((spec.get("scopeSelector") or {}).get("matchExpressions")) or []):
        p = f"spec.scopeSelector.matchExpressions[{i}]"
        if req.get("scopeName") not in SCOPES:
            errs.append(not_supported(f"{p}.scopeName", req.get("scopeName", ""), SCOPES))
        if req.get("operator") not in SCOPE_OPERATORS:
            errs.append(not_supported(f"{p}.operator", req.get("operator", ""), SCOPE_OPERATORS))
        elif req.get("operator") in ("In", "NotIn") and not req.get("values"):
            errs.append(v.required(f"{p}.values", "must be at least one value when `operator` is 'In' or 'NotIn' "
                                                  "for scope selector"))
        elif req.get("operator") in ("Exists", "DoesNotExist") and req.get("values"):
            errs.append(invalid(f"{p}.values", v.GoSyntax("[" + " ".join(req["values"]) + "]"),
                                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
    status = rq.get("status") or {}
    errs += validate_resource_list(status.get("hard") or {}, "status.hard")
    errs += validate_resource_list(status.get("used") or {}, "status.used")
    return errs


class ResourceQuotaStrategy(Strategy):
    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = "v1", "ResourceQuota"
        obj.setdefault("spec", {})
        return obj

    def validate(self, obj):
        return validate(obj)


# -- printer (printers.go printResourceQuota) -------------------------------------------------
QUOTA_COLUMNS = [
    NAME,
    AGE,
    col("Request", description="Request represents a minimum amount of cpu/memory that a container may consume."),
    col("Limit", description="Limits control the maximum amount of cpu/memory that a container may use "
                             "independent of contention on the node."),
]


def _q(value) -> str:
    if value is None:
        return "0"
    try:
        return canonical(value)
    except QuantityError:
        return str(value)


def quota_row(rq: dict, now: float) -> list[Any]:
    md, spec, st = rq.get("metadata", {}), rq.get("spec") or {}, rq.get("status") or {}
    request, limit = [], []
    for name in sorted(spec.get("hard") or {}):
        cell = f"{name}: {_q((st.get('used') or {}).get(name))}/{_q((st.get('hard') or {}).get(name))}"
        (limit if name.split(".")[0] == "limits" and "." in name else request).append(cell)
    return [md.get("name", ""), since(md.get("creationTimestamp"), now), ", ".join(request), ", ".join(limit)]


RESOURCE = Resource("resourcequotas", "", "v1", "ResourceQuota", True, "/registry/resourcequotas/", ("quota",),
                    "resourcequota", ("status",), ResourceQuotaStrategy(), RESOURCE_QUOTA,
                    printer=Printer(QUOTA_COLUMNS, quota_row))
