"""x-kubernetes-list-type set and map: no two items of a set are equal, no two items of a map
list share their keys (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype/
validation.go ValidateListSetsAndMaps)."""
from __future__ import annotations

import json

from sim.api.validation import FieldError, GoSyntax, duplicate
from sim.apiextensions.schemautil import additional_properties, go_value, items_schema, props


def validate_list_sets_and_maps(obj, schema: dict | None, path: str | None = None) -> list[FieldError]:
    errs: list[FieldError] = []
    _walk(obj, schema, path, errs)
    return errs


def _walk(obj, s, path, errs) -> None:
    if not isinstance(s, dict) or obj is None:
        return
    if isinstance(obj, dict):
        p = props(s)
        _, ap = additional_properties(s)
        for k, v in obj.items():
            sub = p.get(k) if k in p else ap
            sub_path = k if path is None else f"{path}.{k}"
            if k not in p and ap is not None:
                sub_path = f"{path or '<nil>'}[{k}]"
            _walk(v, sub, sub_path, errs)
    elif isinstance(obj, list):
        base = path or "<nil>"
        lt = s.get("x-kubernetes-list-type")
        if lt == "set":
            seen = set()
            for i, v in enumerate(obj):
                k = json.dumps(v, sort_keys=True)
                if k in seen:
                    errs.append(duplicate(f"{base}[{i}]", v if not isinstance(v, (dict, list)) else GoSyntax(go_value(v))))
                seen.add(k)
        elif lt == "map":
            keys = s.get("x-kubernetes-list-map-keys") or []
            seen = set()
            for i, v in enumerate(obj):
                if not isinstance(v, dict):
                    continue
                kv = {k: v[k] for k in keys if k in v}
                k = json.dumps(kv, sort_keys=True)
                if k in seen:
                    errs.append(duplicate(f"{base}[{i}]", GoSyntax(go_value(kv))))
                seen.add(k)
        it = items_schema(s)
        for i, v in enumerate(obj):
            _walk(v, it, f"{base}[{i}]", errs)
