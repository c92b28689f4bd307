"""Small helpers the apiextensions modules share: field paths written as field.Path writes them
(k8s.io/apimachinery/pkg/util/validation/field/path.go), Go's zero values (a JSON schema field
that is unset, null, false, "" or empty counts as absent, as the Go struct's zero value does),
and the Go renderings upstream's messages quote."""
from __future__ import annotations

import json
from typing import Any

from sim.api.gofmt import go_quote


def child(path: str, name: str) -> str:
    """field.Path.Child: "a.b"; a root path ("") is just the name."""
    return f"{path}.{name}" if path else name


def key(path: str, k: str) -> str:
    """field.Path.Key: "a[k]" (no quotes)."""
    return f"{path}[{k}]"


def index(path: str, i: int) -> str:
    """field.Path.Index: "a[0]"."""
    return f"{path}[{i}]"


def is_set(schema: dict, name: str) -> bool:
    """The Go field is not its zero value.  0 is a value (minimum: 0), false / "" / [] / {} /
    null are not (the JSONSchemaProps fields are pointers, bools, strings, slices and maps)."""
    v = schema.get(name)
    return v is not None and v is not False and v != "" and v != [] and v != {}


def props(schema: dict | None) -> dict:
    p = (schema or {}).get("properties")
    return p if isinstance(p, dict) else {}


def items_schema(schema: dict | None) -> dict | None:
    it = (schema or {}).get("items")
    return it if isinstance(it, dict) else None


def additional_properties(schema: dict | None):
    """(present, sub-schema or None): JSONSchemaPropsOrBool, whose `true` has no schema."""
    if not schema or "additionalProperties" not in schema or schema["additionalProperties"] is None:
        return False, None
    ap = schema["additionalProperties"]
    return True, (ap if isinstance(ap, dict) else None)


def go_bool(v) -> str:
    return "true" if v else "false"


def go_validation_rule(rule: dict) -> str:
    """%#v of an apiextensions.ValidationRule, the value upstream quotes for a rule it refuses."""
    reason = rule.get("reason")
    reason_s = ("(*apiextensions.FieldValueErrorReason)(nil)" if reason is None
                else f"(*apiextensions.FieldValueErrorReason)({go_quote(str(reason))})")
    oos = rule.get("optionalOldSelf")
    oos_s = "(*bool)(nil)" if oos is None else f"(*bool)({go_bool(oos)})"
    return ("apiextensions.ValidationRule{"
            f"Rule:{go_quote(str(rule.get('rule') or ''))}, Message:{go_quote(str(rule.get('message') or ''))}, "
            f"MessageExpression:{go_quote(str(rule.get('messageExpression') or ''))}, Reason:{reason_s}, "
            f"FieldPath:{go_quote(str(rule.get('fieldPath') or ''))}, OptionalOldSelf:{oos_s}}}")


def json_text(v: Any) -> str:
    """json.Marshal of a decoded JSON value (what upstream shows for a non-string enum value)."""
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def go_value(v: Any) -> str:
    """%#v of a decoded JSON value (map[string]interface {}{...}, []interface {}{...}), as
    field errors print a value that is not a scalar."""
    if v is None:
        return "interface {}(nil)"
    if isinstance(v, bool):
        return go_bool(v)
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        from sim.api.gofmt import go_float
        return go_float(v)
    if isinstance(v, dict):
        return "map[string]interface {}{" + ", ".join(f"{go_quote(k)}:{go_value(v[k])}" for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[]interface {}{" + ", ".join(go_value(x) for x in v) + "}"
    return str(v)
