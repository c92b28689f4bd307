"""The LimitRanger admission plugin (plugin/pkg/admission/limitranger/admission.go).

Mutating, on pod creation: each LimitRange of the namespace fills in the container requests and
limits a container does not set from its Container item's defaultRequest / default, and says so
in the pod's `kubernetes.io/limit-ranger` annotation.  Validating: every container (Container
items) and the pod as a whole (Pod items) must lie within min / max and maxLimitRequestRatio;
the first LimitRange refusing answers 403 with its reasons ("maximum cpu usage per Container is
1, but limit is 2").  Pod updates are not its business (containers cannot change), nor are
subresources.
"""
from __future__ import annotations

from sim.api import quota
from sim.api.quantity import QuantityError, canonical, milli_value, value as q_value
from sim.apiserver.admission import CREATE, Attributes, forbidden

PLUGIN_NAME = "LimitRanger"
ANNOTATION = "kubernetes.io/limit-ranger"
MAX_MILLI_VALUE = ((1 << 63) - 1) // 1000


def _values(req, lim, enforced) -> tuple[int, int, int]:
    """requestLimitEnforcedValues: milli-units when nothing overflows, else units."""
    def v(q, milli):
        if q is None:
            return 0
        try:
            return milli_value(q) if milli else q_value(q)
        except QuantityError:
            return 0
    r, l, e = v(req, False), v(lim, False), v(enforced, False)
    if r <= MAX_MILLI_VALUE and l <= MAX_MILLI_VALUE and e <= MAX_MILLI_VALUE:
        return v(req, True), v(lim, True), v(enforced, True)
    return r, l, e


def _s(q) -> str:
    try:
        return canonical(q)
    except QuantityError:
        return str(q)


def min_constraint(limit_type: str, name: str, enforced, request: dict, limit: dict) -> str | None:
    req, lim = request.get(name), limit.get(name)
    r, l, e = _values(req, lim, enforced)
    if req is None:
        return f"minimum {name} usage per {limit_type} is {_s(enforced)}.  No request is specified"
    if r < e:
        return f"minimum {name} usage per {limit_type} is {_s(enforced)}, but request is {_s(req)}"
    if lim is not None and l < e:
        return f"minimum {name} usage per {limit_type} is {_s(enforced)}, but limit is {_s(lim)}"
    return None


def max_constraint(limit_type: str, name: str, enforced, request: dict, limit: dict) -> str | None:
    req, lim = request.get(name), limit.get(name)
    r, l, e = _values(req, lim, enforced)
    if lim is None:
        return f"maximum {name} usage per {limit_type} is {_s(enforced)}.  No limit is specified"
    if l > e:
        return f"maximum {name} usage per {limit_type} is {_s(enforced)}, but limit is {_s(lim)}"
    if req is not None and r > e:
        return f"maximum {name} usage per {limit_type} is {_s(enforced)}, but request is {_s(req)}"
    return None


def ratio_constraint(limit_type: str, name: str, enforced, request: dict, limit: dict) -> str | None:
    req, lim = request.get(name), limit.get(name)
    r, l, _ = _values(req, lim, enforced)
    if req is None or r == 0:
        return (f"{name} max limit to request ratio per {limit_type} is {_s(enforced)}, but no request is "
                f"specified or request is 0")
    if lim is None or l == 0:
        return (f"{name} max limit to request ratio per {limit_type} is {_s(enforced)}, but no limit is "
                f"specified or limit is 0")
    observed = l / r
    display = observed
    max_ratio = float(q_value(enforced))
    if q_value(enforced) <= MAX_MILLI_VALUE:
        observed *= 1000
        max_ratio = float(milli_value(enforced))
    if observed > max_ratio:
        return f"{name} max limit to request ratio per {limit_type} is {_s(enforced)}, but provided ratio is {display:f}"
    return None


def _check(limit_type: str, item: dict, request: dict, limit: dict) -> list[str]:
    errs = []
    for fn, part in ((min_constraint, "min"), (max_constraint, "max"), (ratio_constraint, "maxLimitRequestRatio")):
        for k in sorted(item.get(part) or {}):
            e = fn(limit_type, k, item[part][k], request, limit)
            if e:
                errs.append(e)
    return errs


def default_requirements(lr: dict) -> tuple[dict, dict]:
    """defaultContainerResourceRequirements: (requests, limits) of its Container items."""
    requests, limits = {}, {}
    for item in ((lr.get("spec") or {}).get("limits") or []):
        if item.get("type") == "Container":
            requests.update(item.get("defaultRequest") or {})
            limits.update(item.get("default") or {})
    return requests, limits


def merge_container_resources(c: dict, requests: dict, limits: dict, prefix: str, notes: list[str]) -> None:
    """mergeContainerResources."""
    res = c.setdefault("resources", {})
    lim = res.setdefault("limits", {})
    req = res.setdefault("requests", {})
    set_limits = sorted(k for k in limits if k not in lim)
    set_requests = sorted(k for k in requests if k not in req)
    for k in set_limits:
        lim[k] = limits[k]
    for k in set_requests:
        req[k] = requests[k]
    if not lim:
        res.pop("limits")
    if not req:
        res.pop("requests")
    if set_requests:
        notes.append(", ".join(set_requests) + f" request for {prefix} {c.get('name', '')}")
    if set_limits:
        notes.append(", ".join(set_limits) + f" limit for {prefix} {c.get('name', '')}")


class LimitRanger:
    name = PLUGIN_NAME

    def __init__(self, lister_for):
        self.limit_ranges = lister_for("limitranges")  # a Lister over the watch cache

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    def _applies(self, a: Attributes) -> bool:
        return not a.subresource and a.group == "" and a.resource == "pods" and a.obj is not None

    def _ranges(self, a: Attributes) -> list[dict]:
        return [lr for lr in self.limit_ranges.list() if lr["metadata"].get("namespace") == a.namespace]

    def admit(self, a: Attributes) -> None:
        if not self._applies(a):
            return
        for lr in self._ranges(a):
            requests, limits = default_requirements(lr)
            if not requests and not limits:
                continue
            notes: list[str] = []
            spec = a.obj.setdefault("spec", {})
            for c in spec.get("containers") or []:
                merge_container_resources(c, requests, limits, "container", notes)
            for c in spec.get("initContainers") or []:
                merge_container_resources(c, requests, limits, "init container", notes)
            if notes:
                md = a.obj.setdefault("metadata", {})
                md.setdefault("annotations", {})[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)

    def validate(self, a: Attributes) -> None:
        if not self._applies(a):
            return
        for lr in self._ranges(a):
            errs = self.pod_validate(lr, a.obj)
            if errs:
                raise forbidden(a, errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]")

    @staticmethod
    def pod_validate(lr: dict, pod: dict) -> list[str]:
        """PodValidateLimitFunc."""
        errs: list[str] = []
        spec = pod.get("spec") or {}
        for item in ((lr.get("spec") or {}).get("limits") or []):
            t = item.get("type")
            if t == "Container":
                for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
                    res = c.get("resources") or {}
                    errs += _check(t, item, res.get("requests") or {}, res.get("limits") or {})
            elif t == "Pod":
                errs += _check(t, item, quota._pod_sum(pod, 0), quota._pod_sum(pod, 1))
        return errs
