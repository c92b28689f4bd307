"""Resource quota evaluation (pkg/quota/v1: resources.go, evaluator/core/pods.go,
generic/evaluator.go), shared by the ResourceQuota admission plugin and the resource quota
controller.

A ResourceList is a dict {resource name: quantity string}; sums keep the format of their first
non-zero operand, as Quantity.Add does, and print as Quantity.String().
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from sim.api.quantity import QuantityError, format_quantity, parse_quantity, quantity_format

PODS = "pods"
POD_OBJECT_COUNT = "count/pods"
# pods.go podResources, and the prefixes of hugepages
POD_RESOURCES = frozenset((PODS, POD_OBJECT_COUNT, "cpu", "memory", "ephemeral-storage", "requests.cpu",
                           "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
                           "limits.ephemeral-storage"))
# the resources whose quota makes every container name them (Constraints' validationSet)
VALIDATION_SET = frozenset(("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"))
# core resources quota counts under their own (legacy) names besides count/<resource>
LEGACY_COUNT = {"services": "services", "secrets": "secrets", "configmaps": "configmaps",
                "persistentvolumeclaims": "persistentvolumeclaims",
                "replicationcontrollers": "replicationcontrollers", "resourcequotas": "resourcequotas"}


def _d(value) -> Decimal:
    try:
        return parse_quantity(value)
    except QuantityError:
        return Decimal(0)


def add(a: dict, b: dict) -> dict:
    """quota.Add."""
    out = dict(a)
    for k, v in b.items():
        if k in out:
            first = out[k] if _d(out[k]) != 0 else v
            out[k] = format_quantity(_d(out[k]) + _d(v), quantity_format(first))
        else:
            out[k] = format_quantity(_d(v), quantity_format(v))
    return out


def subtract(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        base = out.get(k, "0")
        out[k] = format_quantity(_d(base) - _d(v), quantity_format(base if _d(base) != 0 else v))
    return out


def mask(items: dict, names: Iterable[str]) -> dict:
    names = set(names)
    return {k: v for k, v in items.items() if k in names}


def remove_zeros(items: dict) -> dict:
    return {k: v for k, v in items.items() if _d(v) != 0}


def less_than_or_equal(a: dict, b: dict) -> tuple[bool, list[str]]:
    """quota.LessThanOrEqual: the names in `a` (and `b`) over their bound."""
    exceeded = sorted(k for k, v in a.items() if k in b and _d(v) > _d(b[k]))
    return not exceeded, exceeded


def equals(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(_d(a[k]) == _d(b[k]) for k in a)


def pretty_print(items: dict) -> str:
    """prettyPrint: name=quantity, sorted, comma separated."""
    return ",".join(f"{k}={format_quantity(_d(items[k]), quantity_format(items[k]))}" for k in sorted(items))


# -- pods -------------------------------------------------------------------------------------
def _container_resources(c: dict) -> tuple[dict, dict]:
    r = c.get("resources") or {}
    return dict(r.get("requests") or {}), dict(r.get("limits") or {})


def _pod_sum(pod: dict, which: int) -> dict:
    """resourcehelper.PodRequests / PodLimits: the containers' sum, at least any init
    container's (a sidecar's adds), plus the pod overhead."""
    spec = pod.get("spec") or {}
    total: dict = {}
    for c in spec.get("containers") or []:
        total = add(total, _container_resources(c)[which])
    for c in spec.get("initContainers") or []:
        res = _container_resources(c)[which]
        if c.get("restartPolicy") == "Always":
            total = add(total, res)
            continue
        for k, v in res.items():
            if k not in total or _d(v) > _d(total[k]):
                total[k] = format_quantity(_d(v), quantity_format(v))
    if spec.get("overhead"):
        total = add(total, spec["overhead"])
    return total


def compute_usage(requests: dict, limits: dict) -> dict:
    """podComputeUsageHelper."""
    out = {PODS: "1"}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            out[name] = requests[name]
            out[f"requests.{name}"] = requests[name]
        if name in limits:
            out[f"limits.{name}"] = limits[name]
    for k, v in requests.items():
        if k.startswith("hugepages-"):
            out[k] = v
            out[f"requests.{k}"] = v
    return out


def counts_for_quota(pod: dict, now: float | None = None, parse_time=None) -> bool:
    """QuotaV1Pod: terminal pods, and pods past their deletion grace period, use no compute."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    md = pod.get("metadata") or {}
    if md.get("deletionTimestamp") and md.get("deletionGracePeriodSeconds") is not None and now is not None \
            and parse_time is not None:
        at = parse_time(md["deletionTimestamp"])
        if at is not None and now > at + md["deletionGracePeriodSeconds"]:
            return False
    return True


def pod_usage(pod: dict, now: float | None = None, parse_time=None) -> dict:
    """PodUsageFunc."""
    result = {POD_OBJECT_COUNT: "1"}
    if not counts_for_quota(pod, now, parse_time):
        return result
    return add(result, compute_usage(_pod_sum(pod, 0), _pod_sum(pod, 1)))


def pod_matching_resources(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n in POD_RESOURCES or n.startswith("hugepages-")
                  or n.startswith("requests.hugepages-"))


def pod_constraints(required: Iterable[str], pod: dict) -> str | None:
    """podEvaluator.Constraints: with cpu or memory quota'd, every container must name them."""
    required = set(required) & VALIDATION_SET
    missing: dict[str, set] = {}
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        have = set(compute_usage(*_container_resources(c)))
        for r in required - have:
            missing.setdefault(r, set()).add(c.get("name", ""))
    if not missing:
        return None
    return "must specify " + "; ".join(f"{r} for: {','.join(sorted(missing[r]))}" for r in sorted(missing))


def _is_best_effort(pod: dict) -> bool:
    for c in ((pod.get("spec") or {}).get("containers") or []) + ((pod.get("spec") or {}).get("initContainers") or []):
        req, lim = _container_resources(c)
        if any(k in ("cpu", "memory") for k in list(req) + list(lim)):
            return False
    return True


def pod_matches_scope(pod: dict, scope: str, operator: str = "Exists", values: Iterable[str] = ()) -> bool:
    """podMatchesScopeFunc."""
    spec = pod.get("spec") or {}
    if scope == "Terminating":
        return spec.get("activeDeadlineSeconds") is not None and spec["activeDeadlineSeconds"] >= 0
    if scope == "NotTerminating":
        return spec.get("activeDeadlineSeconds") is None or spec["activeDeadlineSeconds"] < 0
    if scope == "BestEffort":
        return _is_best_effort(pod)
    if scope == "NotBestEffort":
        return not _is_best_effort(pod)
    if scope == "PriorityClass":
        name = spec.get("priorityClassName") or ""
        if operator == "Exists":
            return bool(name)
        if operator == "DoesNotExist":
            return not name
        if operator == "In":
            return name in values
        if operator == "NotIn":
            return name not in values
    if scope == "CrossNamespacePodAffinity":
        return False
    return False


def scope_selectors(quota: dict) -> list[tuple[str, str, tuple]]:
    spec = quota.get("spec") or {}
    out = [(s, "Exists", ()) for s in spec.get("scopes") or []]
    for req in ((spec.get("scopeSelector") or {}).get("matchExpressions") or []):
        out.append((req.get("scopeName"), req.get("operator"), tuple(req.get("values") or ())))
    return out


def quota_matches_pod(quota: dict, pod: dict) -> bool:
    return all(pod_matches_scope(pod, s, op, vals) for s, op, vals in scope_selectors(quota))


# -- object counts ----------------------------------------------------------------------------
def count_names(resource: str, group: str) -> list[str]:
    """The names an object of (group, resource) is counted under: count/<resource>[.<group>],
    and a core kind's legacy name."""
    names = [f"count/{resource}.{group}" if group else f"count/{resource}"]
    if not group and resource in LEGACY_COUNT:
        names.append(LEGACY_COUNT[resource])
    return names


def counted_kinds(names: Iterable[str]) -> list[tuple[str, str, str]]:
    """(quota resource name, group, resource) for each object count a quota names (pods aside)."""
    out = []
    for n in names:
        if n in LEGACY_COUNT.values():
            out.append((n, "", n))
        elif n.startswith("count/") and n != POD_OBJECT_COUNT:
            resource, _, group = n[len("count/"):].partition(".")
            out.append((n, group, resource))
    return out
