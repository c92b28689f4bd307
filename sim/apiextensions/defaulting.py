"""Defaulting: a custom object gets the `default` of every property it lacks, or holds as null
where the property is not nullable (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/
defaulting/algorithm.go).  The server applies it after pruning, so a default is itself pruned
(CRD validation requires defaults to be pruned already)."""
from __future__ import annotations

import copy

from sim.apiextensions.schemautil import additional_properties, items_schema, props


def default(obj, schema: dict):
    """Default(x, s): a defaulted deep copy of obj."""
    out = copy.deepcopy(obj)
    _default(out, schema)
    return out


def _non_nullable_null(v, s: dict | None) -> bool:
    return v is None and s is not None and not s.get("nullable")


def _has_default(s: dict | None) -> bool:
    return isinstance(s, dict) and s.get("default") is not None


def _default(x, s: dict | None) -> None:
    if not isinstance(s, dict):
        return
    if isinstance(x, dict):
        p = props(s)
        for k, prop in p.items():
            if not _has_default(prop):
                continue
            if k not in x or _non_nullable_null(x[k], prop):
                x[k] = copy.deepcopy(prop["default"])
        _, ap = additional_properties(s)
        for k, v in list(x.items()):
            if k in p:
                _default(v, p[k])
            elif ap is not None:
                if _non_nullable_null(v, ap) and _has_default(ap):
                    x[k] = copy.deepcopy(ap["default"])
                _default(x[k], ap)
    elif isinstance(x, list):
        it = items_schema(s)
        for i, v in enumerate(x):
            if _non_nullable_null(v, it) and _has_default(it):
                x[i] = copy.deepcopy(it["default"])
            _default(x[i], it)
