"""LimitRanges (pkg/registry/core/limitrange, pkg/apis/core/validation ValidateLimitRange):
namespaced, short name "limits", no status.  Defaulting fills a Container item's default limit
from its max and its default request from its default limit, then its min
(SetDefaults_LimitRangeItem); the LimitRanger admission plugin
(sim/apiserver/admission/limitranger.py) applies them to pods."""
from __future__ import annotations

from typing import Any

from sim.api import validation as v
from sim.api.gotypes import Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.quantity import QuantityError, canonical, parse_quantity
from sim.api.schema import OBJECT_META, RESOURCE_LIST, TYPE_META
from sim.api.validation import FieldError, forbidden, invalid
from sim.registry.printers import AGE, NAME, Printer, col
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

LIMIT_RANGE_ITEM = struct("v1.LimitRangeItem", type=enum("v1.LimitType"), max=RESOURCE_LIST, min=RESOURCE_LIST,
                          default=RESOURCE_LIST, defaultRequest=RESOURCE_LIST, maxLimitRequestRatio=RESOURCE_LIST)
LIMIT_RANGE = struct("v1.LimitRange", **TYPE_META, metadata=OBJECT_META,
                     spec=struct("v1.LimitRangeSpec", limits=Slice(LIMIT_RANGE_ITEM)))

POD, CONTAINER, PVC = "Pod", "Container", "PersistentVolumeClaim"
STANDARD_LIMIT_TYPES = (POD, CONTAINER, PVC)
CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
MAX_MILLI_VALUE = (1 << 63) // 1000


def default_limit_range(lr: dict) -> dict:
    lr = deep_copy(lr)
    lr["apiVersion"], lr["kind"] = "v1", "LimitRange"
    spec = lr.setdefault("spec", {})
    spec.setdefault("limits", [])
    for item in spec["limits"] or []:
        if item.get("type") != CONTAINER:
            continue
        default = dict(item.get("default") or {})
        request = dict(item.get("defaultRequest") or {})
        for k, q in (item.get("max") or {}).items():
            default.setdefault(k, q)
        for k, q in default.items():
            request.setdefault(k, q)
        for k, q in (item.get("min") or {}).items():
            request.setdefault(k, q)
        if default:
            item["default"] = default
        if request:
            item["defaultRequest"] = request
    return lr


def _resource_name_errors(limit_type: str, name: str, field: str) -> list:
    """validateLimitRangeResourceName."""
    errs = [invalid(field, name, msg) for msg in v.qualified_name_errors(name)]
    if errs or "/" in name:
        return errs
    if limit_type == PVC:
        return [] if name == "storage" else [invalid(field, name, "must be a standard resource type or fully qualified")]
    if name not in CONTAINER_RESOURCES and not name.startswith("hugepages-"):
        return [invalid(field, name, "must be a standard resource for containers")]
    return []


def _parsed(items: dict, field: str, errs: list) -> dict:
    out = {}
    for k in sorted(items or {}):
        try:
            out[k] = parse_quantity(items[k])
        except QuantityError as e:
            errs.append(invalid(f"{field}[{k}]", items[k], str(e)))
    return out


def validate(lr: dict) -> list[FieldError]:
    """ValidateLimitRange."""
    errs = v.validate_object_meta(lr, namespaced=True)
    seen = set()
    for i, item in enumerate(((lr.get("spec") or {}).get("limits")) or []):
        p = f"spec.limits[{i}]"
        t = item.get("type") or ""
        type_errs = [invalid(f"{p}.type", t, msg) for msg in v.qualified_name_errors(t)]
        if not type_errs and "/" not in t and t not in STANDARD_LIMIT_TYPES:
            type_errs.append(invalid(f"{p}.type", t, "must be a standard limit type or fully qualified"))
        errs += type_errs
        if t in seen:
            errs.append(FieldError(f"{p}.type", "Duplicate", t))
        seen.add(t)
        parsed = {}
        for part in ("max", "min", "default", "defaultRequest"):
            for k in sorted(item.get(part) or {}):
                errs += _resource_name_errors(t, k, f"{p}.{part}[{k}]")
            parsed[part] = _parsed(item.get(part) or {}, f"{p}.{part}", errs)
        if t == POD:
            if item.get("default"):
                errs.append(forbidden(f"{p}.default", "may not be specified when `type` is 'Pod'"))
            if item.get("defaultRequest"):
                errs.append(forbidden(f"{p}.defaultRequest", "may not be specified when `type` is 'Pod'"))
            ratios = {}
        else:
            for k in sorted(item.get("maxLimitRequestRatio") or {}):
                errs += _resource_name_errors(t, k, f"{p}.maxLimitRequestRatio[{k}]")
            ratios = _parsed(item.get("maxLimitRequestRatio") or {}, f"{p}.maxLimitRequestRatio", errs)
        mx, mn, df, dr = parsed["max"], parsed["min"], parsed["default"], parsed["defaultRequest"]
        raw = {part: item.get(part) or {} for part in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")}
        s = lambda part, k: canonical(raw[part][k])  # noqa: E731
        for k in sorted(set(mx) | set(mn) | set(df) | set(dr) | set(ratios)):
            if k in mn and k in mx and mn[k] > mx[k]:
                errs.append(invalid(f"{p}.min[{k}]", s("min", k), f"min value {s('min', k)} is greater than max value {s('max', k)}"))
            if k in dr and k in mn and mn[k] > dr[k]:
                errs.append(invalid(f"{p}.defaultRequest[{k}]", s("defaultRequest", k),
                                    f"min value {s('min', k)} is greater than default request value {s('defaultRequest', k)}"))
            if k in dr and k in mx and dr[k] > mx[k]:
                errs.append(invalid(f"{p}.defaultRequest[{k}]", s("defaultRequest", k),
                                    f"default request value {s('defaultRequest', k)} is greater than max value {s('max', k)}"))
            if k in dr and k in df and dr[k] > df[k]:
                errs.append(invalid(f"{p}.defaultRequest[{k}]", s("defaultRequest", k),
                                    f"default request value {s('defaultRequest', k)} is greater than default limit value {s('default', k)}"))
            if k in df and k in mn and mn[k] > df[k]:
                errs.append(invalid(f"{p}.default[{k}]", s("min", k), f"min value {s('min', k)} is greater than default value {s('default', k)}"))
            if k in df and k in mx and df[k] > mx[k]:
                errs.append(invalid(f"{p}.default[{k}]", s("max", k), f"default value {s('default', k)} is greater than max value {s('max', k)}"))
            if k in ratios and ratios[k] < 1:
                errs.append(invalid(f"{p}.maxLimitRequestRatio[{k}]", s("maxLimitRequestRatio", k),
                                    f"ratio {s('maxLimitRequestRatio', k)} is less than 1"))
            if k in ratios and k in mn and k in mx and mn[k] > 0:
                limit = float(mx[k]) / float(mn[k])
                if float(ratios[k]) > limit:
                    errs.append(invalid(f"{p}.maxLimitRequestRatio[{k}]", s("maxLimitRequestRatio", k),
                                        f"ratio {s('maxLimitRequestRatio', k)} is greater than max/min = {limit:f}"))
    return errs


class LimitRangeStrategy(Strategy):
    def default(self, obj, ctx):
        return default_limit_range(obj)

    def validate(self, obj):
        return validate(obj)


# printers.go printLimitRange: the creation time itself, not an age.
LIMITRANGE_COLUMNS = [
    NAME,
    col("Created At", "date", description=AGE["description"]),
]


def limitrange_row(lr: dict, now: float) -> list[Any]:
    md = lr.get("metadata", {})
    return [md.get("name", ""), md.get("creationTimestamp")]


RESOURCE = Resource("limitranges", "", "v1", "LimitRange", True, "/registry/limitranges/", ("limits",),
                    "limitrange", (), LimitRangeStrategy(), LIMIT_RANGE,
                    printer=Printer(LIMITRANGE_COLUMNS, limitrange_row))
