"""Server-side printing helpers shared by every kind's printer (pkg/printers/internalversion/
printers.go upstream): column definitions, ages on the cluster's virtual clock, selectors.

A kind's module declares its printer (`Printer(columns, row)`); cluster/api/tables.py turns a
response into the meta.k8s.io Table with it.  Ages are measured against the cluster's VIRTUAL
clock, not the wall clock: a pod created 5 simulated minutes ago is "5m" old even at 50x speed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from sim.api.meta import parse_timestamp
from sim.api.selectors import SelectorError, format_label_selector


@dataclass(frozen=True)
class Printer:
    columns: list[dict]                                  # metav1.TableColumnDefinition
    row: Callable[[dict, float], list[Any]]              # (object, virtual now) -> cells


# -- k8s.io/apimachinery/pkg/util/duration.HumanDuration -----------------------------------
def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: float) -> str:
    """translateTimestampSince: "<unknown>" for a missing timestamp."""
    t = parse_timestamp(timestamp)
    return "<unknown>" if t is None else human_duration(now - t)


def col(name: str, typ: str = "string", priority: int = 0, fmt: str = "", description: str = "") -> dict:
    return {"name": name, "type": typ, "format": fmt, "description": description, "priority": priority}


NAME = col("Name", fmt="name", description="Name must be unique within a namespace.")
AGE = col("Age", description="CreationTimestamp is a timestamp representing the server time when this object was created.")



def selector_string(selector: dict | None) -> str:
    """metav1.FormatLabelSelector, as `kubectl get rs -o wide` prints it."""
    if not selector:
        return "<none>"
    try:
        return format_label_selector(selector)
    except SelectorError:
        return "<error>"


def name_age_printer() -> Printer:
    """NAME and AGE: what a kind without a printer of its own shows (the custom resource
    table convertor's fixed columns, apiextensions-apiserver pkg/registry/customresource/
    tableconvertor)."""
    return Printer([NAME, AGE], lambda obj, now: [(obj.get("metadata") or {}).get("name", ""),
                                                    since((obj.get("metadata") or {}).get("creationTimestamp"), now)])


# -- a custom kind's additionalPrinterColumns (apiextensions-apiserver tableconvertor) --------
_SEGMENT = re.compile(r"""\.([^.\[]+)|\[(\d+)\]|\[\?\(@\.([\w.-]+)\s*==\s*['"]([^'"]*)['"]\)\]|\['([^']+)'\]""")


def json_path(obj: Any, path: str) -> Any:
    """The first result of a CRD column's JSONPath (".spec.replicas",
    ".status.conditions[?(@.type=="Ready")].status", ".metadata.labels['app']"); None when
    nothing matches."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    pos = 0
    cur = obj
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None:
            return None
        pos = m.end()
        field, index, fkey, fval, quoted = m.groups()
        if field is not None or quoted is not None:
            cur = cur.get(field if field is not None else quoted) if isinstance(cur, dict) else None
        elif index is not None:
            cur = cur[int(index)] if isinstance(cur, list) and int(index) < len(cur) else None
        else:
            cur = next((e for e in cur if isinstance(e, dict) and str(json_path(e, "." + fkey)) == fval), None) \
                if isinstance(cur, list) else None
        if cur is None:
            return None
    return cur


def _cell(typ: str, value: Any, now: float) -> Any:
    """cellForJSONValue: a value of the column's type, else None (kubectl prints <none>); a
    date becomes an age (metatable.ConvertToHumanReadableDateType)."""
    if value is None:
        return None
    if typ == "integer":
        return value if isinstance(value, int) and not isinstance(value, bool) else (
            int(value) if isinstance(value, float) and value.is_integer() else None)
    if typ == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if typ == "boolean":
        return value if isinstance(value, bool) else None
    if typ == "date":
        if not isinstance(value, str):
            return None
        t = parse_timestamp(value)
        return "<invalid>" if t is None else human_duration(now - t)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value if isinstance(value, str) else json.dumps(value)


def columns_printer(columns) -> Printer:
    """NAME, then each additionalPrinterColumn ({name, type, format, description, priority,
    jsonPath}), as a CRD's table convertor prints them."""
    defs = [NAME] + [col(c["name"], c.get("type", "string"), int(c.get("priority") or 0), c.get("format") or "",
                         c.get("description") or "") for c in columns]

    def row(obj: dict, now: float) -> list[Any]:
        return [(obj.get("metadata") or {}).get("name", "")] + [
            _cell(c.get("type", "string"), json_path(obj, c.get("jsonPath", "")), now) for c in columns]

    return Printer(defs, row)
