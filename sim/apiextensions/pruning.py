"""Pruning: a custom object loses every field its structural schema does not specify
(k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning/algorithm.go).

apiVersion, kind and metadata stay at the resource root and in an embedded resource
(x-kubernetes-embedded-resource); below x-kubernetes-preserve-unknown-fields nothing is
pruned but what a nested, non-preserving schema specifies.  The pruned paths come back in the
form the API server's field validation reports them (`unknown field "spec.foo"`), sorted."""
from __future__ import annotations

import copy

from sim.apiextensions.schemautil import additional_properties, items_schema, props

_META_FIELDS = ("apiVersion", "kind", "metadata")


def prune(obj, schema: dict, is_resource_root: bool = True):
    """PruneWithOptions(obj, schema, isResourceRoot, ReturnPruned): (a pruned deep copy,
    the sorted paths of what was dropped)."""
    out = copy.deepcopy(obj)
    pruned: list[str] = []
    if is_resource_root:
        # The root is an embedded resource of its own: apiVersion, kind and metadata stay.
        schema = {**(schema or {}), "x-kubernetes-embedded-resource": True}
    _prune(out, schema, "", pruned)
    return out, sorted(pruned)


def _join(parent: str, k: str) -> str:
    return f"{parent}.{k}" if parent else k


def _prune(x, s: dict | None, path: str, pruned: list[str]) -> None:
    if s is not None and s.get("x-kubernetes-preserve-unknown-fields"):
        _skip_prune(x, s, path, pruned)
        return
    if isinstance(x, dict):
        if s is None:
            for k in list(x):
                pruned.append(_join(path, k))
                del x[k]
            return
        p = props(s)
        has_ap, ap = additional_properties(s)
        embedded = bool(s.get("x-kubernetes-embedded-resource"))
        for k in list(x):
            v = x[k]
            if embedded and _embedded_meta(k, v):
                continue
            if k in p:
                _prune(v, p[k], _join(path, k), pruned)
            elif has_ap:
                _prune(v, ap, _join(path, k), pruned)
            else:
                pruned.append(_join(path, k))
                del x[k]
    elif isinstance(x, list):
        it = items_schema(s) if s is not None else None
        for i, v in enumerate(x):
            _prune(v, it, f"{path}[{i}]", pruned)


def _embedded_meta(k: str, v) -> bool:
    """An embedded resource keeps its apiVersion and kind strings and its metadata object."""
    if k in ("apiVersion", "kind"):
        return isinstance(v, str)
    return k == "metadata" and isinstance(v, dict)


def _skip_prune(x, s: dict, path: str, pruned: list[str]) -> None:
    """skipPrune: keep unknown fields, but prune inside the ones the schema does specify."""
    if isinstance(x, dict):
        p = props(s)
        has_ap, ap = additional_properties(s)
        for k, v in list(x.items()):
            if s.get("x-kubernetes-embedded-resource") and k in _META_FIELDS:
                continue
            if k in p:
                _prune(v, p[k], _join(path, k), pruned)
            elif has_ap:
                _prune(v, ap, _join(path, k), pruned)
    elif isinstance(x, list):
        it = items_schema(s)
        if it is not None:
            for i, v in enumerate(x):
                _skip_prune(v, it, f"{path}[{i}]", pruned)
