"""A custom object against its version's openAPIV3Schema, as kube-openapi's
pkg/validation/validate does it and apiextensions-apiserver's pkg/apiserver/validation
(kubeOpenAPIResultToFieldErrors) turns the results into field errors.

kube-openapi names a value by its own path ("spec.replicas", "spec.ports[0].name"; a required
field of the root as ".spec") and words the message with it ("spec.replicas in body should be
less than or equal to 10", pkg/validation/errors/schema.go); the field path is that name with
a leading "." trimmed, and the root itself is field.Path nil, printed "<nil>".

Validators run in kube-openapi's order (type, allOf/anyOf/oneOf/not, string, format, number,
array, enum, object); each but the type validator only for a value of its kind, so a wrong
type is reported once, by the type validator.  Properties are visited in the schema's order
(upstream iterates a Go map, so its order is random).

On an update, validation ratchets (CRDValidationRatcheting, on by default since 1.30,
pkg/apiserver/validation/ratcheting.go): a value equal to its correlated old value is not
validated again, so an object stored before its schema tightened can still be updated
elsewhere.  Values correlate through object keys and the items of x-kubernetes-list-type map
(by their keys) and set (by value) lists; an atomic list's items do not."""
from __future__ import annotations

import base64
import datetime
import ipaddress
import re
import uuid

from sim.api.gofmt import go_float, go_quote
from sim.api.validation import (FieldError, invalid, not_supported, required, too_many, type_invalid)
from sim.apiextensions import goregexp
from sim.apiextensions.schemautil import additional_properties, items_schema, json_text, props

IN = "body"


_NO_OLD = object()   # no correlated old value: validate as on create


def validate(obj, schema: dict, field_prefix: str | None = None, old=_NO_OLD) -> list[FieldError]:
    """ValidateCustomResource(fldPath, obj, NewSchemaValidator(schema)), or with old (the
    stored object) ValidateCustomResourceUpdate with ratcheting: every violation.  fldPath
    (field_prefix) prefixes each error's field, as for a default checked at CRD validation;
    the messages keep kube-openapi's own names."""
    errs: list[FieldError] = []
    if schema:
        _node(obj, schema, "", errs, old)
    if field_prefix is not None:
        for e in errs:
            e.field = field_prefix if e.field == "<nil>" else f"{field_prefix}.{e.field}"
    return errs


def _field(name: str) -> str:
    name = name[1:] if name.startswith(".") else name
    return name if name and name != "." else "<nil>"


def _schema_types(s: dict) -> list[str]:
    if s.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]   # ConvertJSONSchemaProps
    return [s["type"]] if s.get("type") else []


def _kind(v) -> str:
    """The JSON type kube-openapi infers from a decoded value (schemaInfoForType)."""
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _num(x) -> str:
    """%v of a bound or value: an int64 as an integer, a float64 as Go prints it."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    return go_float(float(x))


def _same(a, b) -> bool:
    """apiequality.Semantic.DeepEqual of two decoded JSON values (true is not 1)."""
    return json_text(a) == json_text(b)


def _node(data, s: dict, name: str, errs: list[FieldError], old=_NO_OLD) -> None:
    if old is not _NO_OLD and _same(data, old):
        return   # ratcheting: an unchanged value is not validated again
    types = _schema_types(s)
    if data is None:
        # typeValidator and the common (enum) validator are the only ones run on null.
        if types and "null" not in types and not s.get("nullable"):
            errs.append(type_invalid(_field(name), "null", f"{name} in {IN} must be of type {','.join(types)}: \"null\""))
        _enum(data, s, name, errs)
        return
    kind = _kind(data)
    # A type error is recorded; the value's own kind's validators still run, as upstream's do.
    _type_ok(data, kind, s, types, name, errs)
    _junctors(data, s, name, errs, old)
    if kind == "string":
        _string(data, s, name, errs)
        _format(data, s, name, errs)
    if kind in ("integer", "number"):
        _number(data, s, name, errs)
    if kind == "array":
        _array(data, s, name, errs, old)
    _enum(data, s, name, errs)
    if kind == "object":
        _object(data, s, name, errs, old)


def _type_ok(data, kind: str, s: dict, types: list[str], name: str, errs: list[FieldError]) -> bool:
    """typeValidator.Validate: applies when the schema has a type or a format."""
    fmt = s.get("format") or ""
    if not types and not fmt:
        return True
    data_format = {"integer": "int64", "number": "double"}.get(kind, "")
    is_float_int = kind == "number" and float(data).is_integer() and "integer" in types
    is_int_float = kind == "integer" and "number" in types
    if kind not in ("string", "array") and fmt and not (kind in types or data_format == fmt or is_float_int
                                                        or is_int_float or (fmt == "float" and data_format == "double")):
        errs.append(type_invalid(_field(name), data_format, f"{name} in {IN} must be of type {fmt}: {go_quote(data_format)}"))
        return False
    if not ("number" in types or "integer" in types) and fmt and kind in ("string", "array"):
        return True
    if not (kind in types or is_float_int or is_int_float):
        errs.append(type_invalid(_field(name), kind, f"{name} in {IN} must be of type {','.join(types)}: {go_quote(kind)}"))
        return False
    return True


def _junctors(data, s: dict, name: str, errs: list[FieldError], old=_NO_OLD) -> None:
    """schemaPropsValidator: allOf, anyOf, oneOf, not (messages of schema_messages.go)."""
    def sub_errs(sub) -> list[FieldError]:
        out: list[FieldError] = []
        if isinstance(sub, dict):
            _node(data, sub, name, out, old)
        return out
    all_of = s.get("allOf") or []
    if all_of:
        failures = [e for sub in all_of for e in sub_errs(sub)]
        if failures:
            errs.extend(failures)
            errs.append(invalid(_field(name), "", f"{name} in {IN} must validate all the schemas (allOf)"))
    any_of = s.get("anyOf") or []
    if any_of and all(sub_errs(sub) for sub in any_of):
        errs.append(invalid(_field(name), "", f"{name} in {IN} must validate at least one schema (anyOf)"))
    one_of = s.get("oneOf") or []
    if one_of:
        passing = sum(1 for sub in one_of if not sub_errs(sub))
        if passing != 1:
            errs.append(invalid(_field(name), "", f"{name} in {IN} must validate one and only one schema (oneOf)"))
    if isinstance(s.get("not"), dict) and not sub_errs(s["not"]):
        errs.append(invalid(_field(name), "", f"{name} in {IN} must not validate the schema (not)"))


def _string(data: str, s: dict, name: str, errs: list[FieldError]) -> None:
    """stringValidator: maxLength, then minLength, then pattern; the first failure only.
    Lengths count characters (utf8.RuneCountInString); patterns are Go's (RE2), unanchored."""
    n = len(data)
    if s.get("maxLength") is not None and n > s["maxLength"]:
        # field.TooLong (1.32 words it "may not be more than N bytes" and omits the value).
        unit = "byte" if s["maxLength"] == 1 else "bytes"
        errs.append(FieldError(_field(name), "TooLong", None, f"may not be more than {s['maxLength']} {unit}"))
        return
    if s.get("minLength") is not None and n < s["minLength"]:
        errs.append(invalid(_field(name), data, f"{name} in {IN} should be at least {s['minLength']} chars long"))
        return
    pattern = s.get("pattern")
    if pattern:
        try:
            ok = goregexp.search(pattern, data)
        except goregexp.PatternError:
            ok = True   # the CRD's validation refuses a bad pattern; nothing to hold the object to
        if not ok:
            errs.append(invalid(_field(name), data, f"{name} in {IN} should match '{pattern}'"))


def _number(data, s: dict, name: str, errs: list[FieldError]) -> None:
    """numberValidator: multipleOf, maximum, minimum (exclusive* as OpenAPI 3.0's booleans)."""
    m = s.get("multipleOf")
    if m:
        if isinstance(data, int) and isinstance(m, int):
            off = data % m != 0
        else:   # swag.IsFloat64AJSONInteger: an integer within float error
            q = data / m
            off = abs(q - round(q)) > 1e-9 * max(1.0, abs(q))
        if off:
            errs.append(invalid(_field(name), data, f"{name} in {IN} should be a multiple of {_num(m)}"))
    mx = s.get("maximum")
    if mx is not None:
        excl = bool(s.get("exclusiveMaximum"))
        if data > mx or (excl and data == mx):
            rel = "less than" if excl else "less than or equal to"
            errs.append(invalid(_field(name), data, f"{name} in {IN} should be {rel} {_num(mx)}"))
    mn = s.get("minimum")
    if mn is not None:
        excl = bool(s.get("exclusiveMinimum"))
        if data < mn or (excl and data == mn):
            rel = "greater than" if excl else "greater than or equal to"
            errs.append(invalid(_field(name), data, f"{name} in {IN} should be {rel} {_num(mn)}"))


def _old_items(s: dict, data: list, old) -> list:
    """The correlated old value of each item: by key in a map list, by value in a set."""
    if not isinstance(old, list):
        return [_NO_OLD] * len(data)
    lt = s.get("x-kubernetes-list-type")
    if lt == "set":
        olds = {json_text(o) for o in old}
        return [v if json_text(v) in olds else _NO_OLD for v in data]
    if lt == "map":
        keys = s.get("x-kubernetes-list-map-keys") or []
        k = lambda item: json_text({x: item.get(x) for x in keys}) if isinstance(item, dict) else None
        by_key = {k(o): o for o in old}
        return [by_key.get(k(v), _NO_OLD) for v in data]
    return [_NO_OLD] * len(data)


def _array(data: list, s: dict, name: str, errs: list[FieldError], old=_NO_OLD) -> None:
    """schemaSliceValidator: items, then minItems, maxItems, uniqueItems."""
    it = items_schema(s)
    if it is not None:
        olds = _old_items(s, data, old)
        for i, v in enumerate(data):
            _node(v, it, f"{name}[{i}]", errs, olds[i])
    if s.get("minItems") is not None and len(data) < s["minItems"]:
        errs.append(invalid(_field(name), len(data), f"{name} in {IN} should have at least {s['minItems']} items"))
    if s.get("maxItems") is not None and len(data) > s["maxItems"]:
        errs.append(too_many(_field(name), len(data), s["maxItems"]))
    if s.get("uniqueItems"):
        seen = [json_text(v) for v in data]
        if len(set(seen)) != len(seen):
            errs.append(invalid(_field(name), "", f"{name} in {IN} shouldn't contain duplicates"))


def _enum_equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    return a == b


def _enum(data, s: dict, name: str, errs: list[FieldError]) -> None:
    """basicCommonValidator: the value must be one of enum; NotSupported lists them, a string
    as itself, anything else as its JSON."""
    enum = s.get("enum")
    if not enum:
        return
    if any(_enum_equal(data, e) for e in enum):
        return
    values = [e if isinstance(e, str) else json_text(e) for e in enum]
    errs.append(not_supported(_field(name), data, values))


def _object(data: dict, s: dict, name: str, errs: list[FieldError], old=_NO_OLD) -> None:
    """objectValidator: min/maxProperties (and stop), additionalProperties, properties, required."""
    n = len(data)
    if s.get("minProperties") is not None and n < s["minProperties"]:
        errs.append(invalid(_field(name), n, f"{name} in {IN} should have at least {s['minProperties']} properties"))
        return
    if s.get("maxProperties") is not None and n > s["maxProperties"]:
        errs.append(too_many(_field(name), n, s["maxProperties"]))
        return
    p = props(s)
    has_ap, ap = additional_properties(s)
    if has_ap and s["additionalProperties"] is False:
        for k in data:
            if k not in p:
                errs.append(invalid(_field(name), k, f"{name}.{k} in {IN} is a forbidden property"))
    old_map = old if isinstance(old, dict) else {}
    if not has_ap or s["additionalProperties"] is not False:
        if ap is not None:
            for k, v in data.items():
                if k not in p:
                    _node(v, ap, f"{name}.{k}", errs, old_map.get(k, _NO_OLD))
    for k, sub in p.items():
        if k in data and isinstance(sub, dict):
            _node(data[k], sub, k if not name else f"{name}.{k}", errs, old_map.get(k, _NO_OLD))
    for k in s.get("required") or []:
        if k not in data:
            errs.append(required(_field(f"{name}.{k}")))


# -- formats (kube-openapi pkg/validation/strfmt, the ones CRDs keep:
#    apiextensions-apiserver's supportedFormats) -----------------------------------------
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")
_HEXCOLOR = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_RGBCOLOR = re.compile(r"^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$")
_UUIDS = {"uuid": None, "uuid3": 3, "uuid4": 4, "uuid5": 5}


def _valid_format(fmt: str, v: str) -> bool | None:
    """True / False for a format this knows, None for one it does not (not checked, as
    kube-openapi skips a format its registry lacks)."""
    try:
        if fmt == "date-time":
            if not _RFC3339.match(v):
                return False
            datetime.datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00").replace("t", "T"))
            return True
        if fmt == "date":
            datetime.date.fromisoformat(v)
            return len(v) == 10
        if fmt == "duration":
            return bool(_DURATION.match(v))
        if fmt in _UUIDS:
            u = uuid.UUID(v)
            return len(v) == 36 and (_UUIDS[fmt] is None or u.version == _UUIDS[fmt])
        if fmt == "ipv4":
            ipaddress.IPv4Address(v)
            return True
        if fmt == "ipv6":
            ipaddress.IPv6Address(v)
            return True
        if fmt == "cidr":
            ipaddress.ip_network(v, strict=False)
            return "/" in v
        if fmt == "mac":
            return bool(_MAC.match(v))
        if fmt == "email":
            return bool(_EMAIL.match(v))
        if fmt == "hostname":
            return 0 < len(v) <= 255 and all(0 < len(p) <= 63 and re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?", p)
                                             for p in v.rstrip(".").split("."))
        if fmt == "byte":
            base64.b64decode(v, validate=True)
            return True
        if fmt == "hexcolor":
            return bool(_HEXCOLOR.match(v))
        if fmt == "rgbcolor":
            return bool(_RGBCOLOR.match(v))
        if fmt in ("password", "uri", "int-or-string"):
            return True
    except (ValueError, TypeError):
        return False
    return None


def _format(data: str, s: dict, name: str, errs: list[FieldError]) -> None:
    """formatValidator: a string in a known format; "must be of type <format>: %q"."""
    fmt = s.get("format") or ""
    if fmt and _valid_format(fmt, data) is False:
        errs.append(type_invalid(_field(name), data, f"{name} in {IN} must be of type {fmt}: {go_quote(data)}"))
