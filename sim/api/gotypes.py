"""Go types of the API (k8s.io/api), and decoding JSON into them as kube-apiserver does.

One typed schema per kind (sim/api/schema.py) serves both jobs upstream's decoder does at once:
- type errors: a value of the wrong JSON type is an UnmarshalTypeError ("json: cannot unmarshal
  number into Go struct field PodSpec.spec.containers of type []v1.Container"); Go keeps the
  first one in document order and decodes on; an Unmarshaler's own error (a Quantity that does
  not parse) stops decoding at once and wins (encoding/json decode.go, sigs.k8s.io/json);
- unknown fields: a field the struct does not declare is dropped, and reported for
  fieldValidation (Strict: an error, Warn: a warning).
A null is the zero value of any type (never an error).  The decoded value is what the Go object
would serialize back to where it matters here: unknown fields dropped, quantities as strings.
"""
from __future__ import annotations

import base64
import functools
import math
import re
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

from sim.api.gojson import literal
from sim.api.quantity import QuantityError, parse_quantity

INT_RANGES = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1),
              "int": (-(1 << 63), (1 << 63) - 1), "uint16": (0, (1 << 16) - 1)}


@dataclass(frozen=True)
class Scalar:
    """string, bool, an integer or float64, or a named type over one (v1.TaintEffect)."""
    go: str            # reflect's String() of the type: "string", "int32", "v1.TaintEffect"
    json: str          # the JSON type it takes: "string", "int", "bool", "float"


@dataclass(eq=False)
class Struct:
    name: str                                   # "v1.PodSpec" (package-qualified)
    fields: dict[str, Any] = field(default_factory=dict)
    opaque: bool = False                        # an object whose fields are not modelled
    raw: bool = False                           # opaque, and any JSON inside (FieldsV1): not walked

    @functools.cached_property
    def short(self) -> str:
        # Read for every field decoded (error messages name the innermost struct): computed once.
        return self.name.rpartition(".")[2]


@dataclass(frozen=True)
class Slice:
    item: Any


@dataclass(frozen=True)
class Map:
    value: Any
    go: str = ""       # a named map type (v1.ResourceList); "" for map[string]<value>


@dataclass(frozen=True)
class Special:
    """A type with its own UnmarshalJSON: resource.Quantity, intstr.IntOrString, metav1.Time."""
    go: str


STRING = Scalar("string", "string")
BOOL = Scalar("bool", "bool")
INT32 = Scalar("int32", "int")
INT64 = Scalar("int64", "int")
FLOAT64 = Scalar("float64", "float")
QUANTITY = Special("resource.Quantity")
INT_OR_STRING = Special("intstr.IntOrString")
TIME = Special("v1.Time")            # metav1.Time: an RFC 3339 string or null, kept in whole seconds
MICRO_TIME = Special("v1.MicroTime")  # metav1.MicroTime: the same, kept to the microsecond
ANY = Special("interface {}")        # runtime.RawExtension, FieldsV1, free-form JSON
BYTES = Special("[]uint8")           # []byte: a base64 string (encoding/json), re-encoded canonically


def enum(go: str) -> Scalar:
    """A named string type: v1.TaintEffect, v1.RestartPolicy ..."""
    return Scalar(go, "string")


def struct(go: str, /, **fields) -> Struct:
    return Struct(go, dict(fields))


def opaque(name: str) -> Struct:
    """A struct whose shape is checked (an object) but whose fields are not modelled here (the
    volume sources no simulated kubelet mounts)."""
    return Struct(name, opaque=True)


def go_name(t) -> str:
    """reflect.Type.String() of a field's (dereferenced) type."""
    if isinstance(t, Struct):
        return t.name
    if isinstance(t, Slice):
        return "[]" + go_name(t.item)
    if isinstance(t, Map):
        return t.go or "map[string]" + go_name(t.value)
    return t.go


def zero(t) -> Any:
    """The zero value of a Go type, as it serializes (a null item of a list or map decodes to it)."""
    if isinstance(t, Struct):
        return {}
    if isinstance(t, Scalar):
        return {"string": "", "int": 0, "bool": False, "float": 0.0}[t.json]
    if t is QUANTITY:
        return "0"
    if t is INT_OR_STRING:
        return 0
    return None


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _Fatal(Exception):
    """An Unmarshaler's own error: Go's decoder stops there."""


@dataclass
class Decoded:
    value: Any
    unknown: list[str]          # paths of dropped fields, as fieldValidation names them
    error: str | None           # the decoding error, worded as Go's


_MISSING = object()


def _is_time(t) -> bool:
    """A metav1.Time or MicroTime field, whose null Go writes back as null (equality, as the
    Special types compare)."""
    return t.__class__ is Special and (t == TIME or t == MICRO_TIME)


class _Decoder:
    """Decoding walks every field of every write (twice: the request, and the stored value the
    watch brings back), so the common leaves - a string, an in-range integer, a bool, a
    timestamp, a quantity - are decoded inline where their struct, slice or map is, without a
    call of their own or the paths an error message would need; anything else takes the
    general path (`decode`), which words every error."""
    __slots__ = ("unknown", "error")

    def __init__(self):
        self.unknown: list[str] = []
        self.error: str | None = None

    def type_error(self, value, t, struct_name: str, path: tuple[str, ...], number: str = "") -> None:
        if self.error is None:
            kind = _json_kind(value) + (f" {number}" if number else "")
            if struct_name:
                self.error = (f"json: cannot unmarshal {kind} into Go struct field "
                              f"{struct_name}.{'.'.join(path)} of type {go_name(t)}")
            else:
                self.error = f"json: cannot unmarshal {kind} into Go value of type {go_name(t)}"

    def decode(self, value, t, struct_name: str, path: tuple[str, ...], where: str):
        if value is None:
            return None
        cls = t.__class__
        if cls is Struct:
            if not isinstance(value, dict):
                self.type_error(value, t, struct_name, path)
                return None
            if t.opaque:
                return value if t.raw else self.free_form(value, struct_name, path)
            fields = t.fields
            short = t.short
            out = {}
            for key, item in value.items():
                ft = fields.get(key, _MISSING)
                if ft is _MISSING:
                    self.unknown.append(f"{where}.{key}" if where else key)
                    continue
                if item is None:
                    # A null field is the zero value, which Go serializes back as nothing
                    # (omitempty), except a metav1.Time, which it writes as null.
                    if _is_time(ft):
                        out[key] = None
                    continue
                decoded = _leaf(item, ft)
                if decoded is _MISSING:
                    decoded = self.decode(item, ft, short, path + (key,), f"{where}.{key}" if where else key)
                    if decoded is None and not _is_time(ft):
                        continue
                out[key] = decoded
            return out
        if cls is Slice:
            if not isinstance(value, list):
                self.type_error(value, t, struct_name, path)
                return None
            it = t.item
            out = []
            for i, item in enumerate(value):
                if item is None:
                    out.append(zero(it))
                    continue
                decoded = _leaf(item, it)
                if decoded is _MISSING:
                    decoded = self.decode(item, it, struct_name, path, f"{where}[{i}]")
                out.append(decoded)
            return out
        if cls is Map:
            if not isinstance(value, dict):
                self.type_error(value, t, struct_name, path)
                return None
            vt = t.value
            out = {}
            for k, v in value.items():
                if v is None:
                    out[k] = zero(vt)
                    continue
                decoded = _leaf(v, vt)
                if decoded is _MISSING:
                    decoded = self.decode(v, vt, struct_name, path, f"{where}[{k}]")
                out[k] = decoded
            return out
        if cls is Scalar:
            return self.scalar(value, t, struct_name, path)
        return self.special(value, t, struct_name, path)

    def check(self, value, t, struct_name: str, path: tuple[str, ...]) -> None:
        """decode() without building the decoded value or naming unknown fields: the same walk in
        the same order, the same first error (self.error, or a _Fatal).  The type check of a value
        read from etcd (sim/apiserver/storage.py), whose decoded copy nobody would read."""
        if value is None:
            return
        cls = t.__class__
        if cls is Struct:
            if not isinstance(value, dict):
                self.type_error(value, t, struct_name, path)
            elif t.opaque:
                if not t.raw:
                    self.free_form(value, struct_name, path)
            else:
                fields = t.fields
                short = t.short
                for key, item in value.items():
                    ft = fields.get(key, _MISSING)
                    if ft is not _MISSING and item is not None and _leaf(item, ft) is _MISSING:
                        self.check(item, ft, short, path + (key,))
        elif cls is Slice:
            if not isinstance(value, list):
                self.type_error(value, t, struct_name, path)
                return
            it = t.item
            for item in value:
                if item is not None and _leaf(item, it) is _MISSING:
                    self.check(item, it, struct_name, path)
        elif cls is Map:
            if not isinstance(value, dict):
                self.type_error(value, t, struct_name, path)
                return
            vt = t.value
            for v in value.values():
                if v is not None and _leaf(v, vt) is _MISSING:
                    self.check(v, vt, struct_name, path)
        elif cls is Scalar:
            self.scalar(value, t, struct_name, path)
        else:
            self.special(value, t, struct_name, path)

    def scalar(self, value, t: Scalar, struct_name: str, path):
        if t.json == "string":
            ok = isinstance(value, str)
        elif t.json == "bool":
            ok = isinstance(value, bool)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            ok = False
        elif t.json == "float":
            # strconv.ParseFloat: a literal beyond float64 is out of range.
            if math.isfinite(value):
                return float(value)
            self.type_error(value, t, struct_name, path, literal(value))
            return None
        else:
            number = _integer(value)
            lo, hi = INT_RANGES[t.go] if t.go in INT_RANGES else INT_RANGES["int64"]
            if number is None or not lo <= number <= hi:
                self.type_error(value, t, struct_name, path, literal(value))
                return None
            return number
        if not ok:
            self.type_error(value, t, struct_name, path)
            return None
        return value

    def special(self, value, t: Special, struct_name: str, path):
        if t is QUANTITY:
            # Quantity.UnmarshalJSON: the text between the quotes, trimmed, parsed; a number's
            # literal likewise.  Its error ends decoding.
            text = value.strip() if isinstance(value, str) else \
                literal(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            error = _quantity_error(text)
            if error is not None:
                raise _Fatal(error)
            return text
        if t is INT_OR_STRING:
            # IntOrString.UnmarshalJSON: a string, or an int32.
            # (its nested json.Unmarshal's error ends decoding).
            if isinstance(value, str):
                return value
            number = None if isinstance(value, bool) or not isinstance(value, (int, float)) else _integer(value)
            lo, hi = INT_RANGES["int32"]
            if number is None or not lo <= number <= hi:
                kind = _json_kind(value) + (f" {literal(value)}" if _json_kind(value) == "number" else "")
                raise _Fatal(f"json: cannot unmarshal {kind} into Go value of type int32")
            return number
        if t is BYTES:
            # encoding/json's []byte: a JSON string holding standard base64; a bad one is a
            # saved error (the first one wins, decoding goes on), worded as base64's own.
            if not isinstance(value, str):
                self.type_error(value, t, struct_name, path)
                return None
            raw, error = go_base64_decode(value)
            if error is not None:
                if self.error is None:
                    self.error = error
                return None
            return base64.b64encode(raw).decode("ascii")
        if t is TIME or t is MICRO_TIME:
            # metav1.Time.UnmarshalJSON: null, or a string that time.Parse takes as RFC 3339.
            if not isinstance(value, str):
                raise _Fatal(f"json: cannot unmarshal {_json_kind(value)} into Go value of type string")
            if value and not _is_rfc3339(value):
                raise _Fatal(f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse '
                             f'"{value}" as "2006"')
            return _rfc3339_utc(value, t is MICRO_TIME) if value else value
        # interface{} / RawExtension: any JSON, but a number must fit a float64.
        return self.free_form(value, struct_name, path)

    def free_form(self, value, struct_name, path):
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                stack.extend(v.values())
            elif isinstance(v, list):
                stack.extend(v)
            elif isinstance(v, float) and not math.isfinite(v):
                self.type_error(v, FLOAT64, "", (), literal(v))
                return None
        return value


_INT64_RANGE = INT_RANGES["int64"]


def _leaf(value, t):
    """The decoded value of a common leaf that decodes without error: a plain str, int or bool
    of its scalar type (an int in range), a valid timestamp, a quantity that parses; else
    _MISSING, and the general path decides (and words any error).  Exact classes only: a
    number gojson read keeps its literal in a subclass, which the general path handles."""
    cls = t.__class__
    vc = value.__class__
    if cls is Scalar:
        j = t.json
        if j == "string":
            return value if vc is str else _MISSING
        if j == "int":
            if vc is int:
                lo, hi = INT_RANGES.get(t.go, _INT64_RANGE)
                if lo <= value <= hi:
                    return value
            return _MISSING
        if j == "bool":
            return value if vc is bool else _MISSING
        return _MISSING
    if vc is str:
        if t is TIME or t is MICRO_TIME:
            if not value:
                return value
            return _rfc3339_utc(value, t is MICRO_TIME) if _is_rfc3339(value) else _MISSING
        if t is QUANTITY:
            text = value.strip()
            return text if _quantity_error(text) is None else _MISSING
    return _MISSING


@functools.lru_cache(maxsize=8192)   # nodes and pods carry the same few quantities
def _quantity_error(text) -> str | None:
    """ParseQuantity's error for the text (None: it parses)."""
    try:
        parse_quantity(text)
    except QuantityError as e:
        return str(e)
    return None


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


@functools.lru_cache(maxsize=8192)   # the same timestamps are read again and again
def _is_rfc3339(text: str) -> bool:
    """time.Parse(time.RFC3339, text) succeeds."""
    if not _RFC3339.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00")[:19])
    except ValueError:
        return False
    return True


# The forms MarshalJSON writes (years from 1000: strftime writes earlier ones unpadded), which
# are already what _rfc3339_utc would return for them.
_CANONICAL_TIME = re.compile(r"[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_CANONICAL_MICRO_TIME = re.compile(r"[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


@functools.lru_cache(maxsize=8192)   # creation and managedFields times come back on every write
def _rfc3339_utc(text: str, micro: bool) -> str:
    """The time as MarshalJSON writes it back: in UTC, "Z", whole seconds for a metav1.Time
    (time.RFC3339) and microseconds for a MicroTime (RFC3339Micro).  Clients write other forms:
    kopf stamps its Events with Python's isoformat(), "2026-12-06T08:07:58.679893+00:00".
    `text` passed _is_rfc3339; one already in the written form is returned as it is."""
    if (_CANONICAL_MICRO_TIME if micro else _CANONICAL_TIME).fullmatch(text):
        return text
    t = datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def go_base64_decode(text: str) -> tuple[bytes, str | None]:
    """base64.StdEncoding.Decode, with its CorruptInputError offsets ("illegal base64 data at
    input byte 4"): padding required, \r and \n skipped, nothing after the padding."""
    src = text.encode("utf-8")
    out = bytearray()
    si = 0
    n = len(src)

    def corrupt(at: int) -> tuple[bytes, str]:
        return bytes(out), f"illegal base64 data at input byte {at}"

    while si < n:
        dbuf = [0, 0, 0, 0]
        dlen = 4
        j = 0
        end = False
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out), None
                return corrupt(si - j)
            ch = src[si]
            si += 1
            v = _B64.get(chr(ch)) if ch < 128 else None
            if v is not None:
                dbuf[j] = v
                j += 1
                continue
            if ch in (10, 13):
                continue
            if ch != ord("="):
                return corrupt(si - 1)
            if j in (0, 1):
                return corrupt(si - 1)
            if j == 2:
                while si < n and src[si] in (10, 13):
                    si += 1
                if si == n:
                    return corrupt(n)
                if src[si] != ord("="):
                    return corrupt(si - 1)
                si += 1
            while si < n and src[si] in (10, 13):
                si += 1
            if si < n:
                return corrupt(si)
            dlen = j
            end = True
            break
        val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3]
        out += bytes([(val >> 16) & 0xFF, (val >> 8) & 0xFF, val & 0xFF])[:dlen - 1]
        if end:
            break
    return bytes(out), None


def _integer(value) -> int | None:
    """The integer a JSON number's literal spells, as strconv.ParseInt reads it (no fraction,
    no exponent), or None."""
    if isinstance(value, int):
        return value
    text = literal(value)
    if text.lstrip("-").isdigit():
        return int(text) if len(text) <= 40 else None
    return None


def decode(value: Any, t: Struct) -> Decoded:
    """Decode a JSON value into `t` (a kind's root struct)."""
    d = _Decoder()
    try:
        out = d.decode(value, t, "", (), "")
    except _Fatal as e:
        return Decoded(value, d.unknown, str(e))
    return Decoded(out, d.unknown, d.error)


def type_error(value: Any, t: Struct) -> str | None:
    """decode(value, t).error, without building the decoded value."""
    d = _Decoder()
    try:
        d.check(value, t, "", ())
    except _Fatal as e:
        return str(e)
    return d.error


def fields(*names: str, of: Any = STRING) -> dict[str, Any]:
    """Several fields of one type."""
    return {n: of for n in names}

