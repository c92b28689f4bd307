"""Nested fields by dotted path (".spec.replicas", "metadata.name"), as
unstructured.NestedFieldNoCopy and SetNestedField read and write them: the scale
subresource's replicas and selector paths, a custom kind's selectable fields, field selectors.
Not managedFields' paths (sim/api/fieldpath.py), nor a CRD column's JSONPath with indexes and
filters (sim/registry/printers.json_path)."""
from __future__ import annotations

from typing import Any


def _parts(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def get_path(obj: Any, path: str) -> Any:
    """The value at `path`, or None when a step is missing or not an object."""
    for part in _parts(path):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def set_path(obj: dict, path: str, value: Any) -> None:
    """Writes `value` at `path`, making (or replacing non-object) intermediate steps objects."""
    parts = _parts(path)
    for part in parts[:-1]:
        nxt = obj.get(part)
        if not isinstance(nxt, dict):
            nxt = obj[part] = {}
        obj = nxt
    obj[parts[-1]] = value
