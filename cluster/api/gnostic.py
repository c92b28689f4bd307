"""A Swagger 2.0 document (a JSON-shaped dict) in gnostic's protobuf encoding, the only form of
/openapi/v2 kubectl accepts (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf).

Field numbers from github.com/google/gnostic-models openapiv2/OpenAPIv2.proto: Document
{swagger 1, info 2, paths 8, definitions 9}, Info {title 1, version 2}, Definitions and
Properties {additional_properties 1: NamedSchema {name 1, value 2}}, and Schema's 31 fields
below.  Free-form values (default, enum, example, vendor extensions) are gnostic's Any
{yaml 2}: kube-openapi (pkg/util/proto) reads them back with a YAML parser, so JSON text, which
is YAML, is what goes there.  Only what a Schema can hold is encoded; paths are written empty
(kubectl reads its v2 models from the definitions, by x-kubernetes-group-version-kind).
"""
from __future__ import annotations

import json
import struct
from typing import Any


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s as two's complement, as protobuf does
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _str(number: int, value: str) -> bytes:
    return _bytes(number, value.encode())


def _uint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(int(value))


def _double(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", float(value))


def _any(number: int, value: Any) -> bytes:
    """gnostic Any {yaml = 2}."""
    return _bytes(number, _str(2, json.dumps(value)))


def _named_any(number: int, name: str, value: Any) -> bytes:
    return _bytes(number, _str(1, name) + _any(2, value))


_STRINGS = {"$ref": 1, "format": 2, "title": 3, "description": 4, "pattern": 13, "discriminator": 26}
_DOUBLES = {"multipleOf": 6, "maximum": 7, "minimum": 9}
_INTS = {"maxLength": 11, "minLength": 12, "maxItems": 14, "minItems": 15, "maxProperties": 17,
         "minProperties": 18}
_BOOLS = {"exclusiveMaximum": 8, "exclusiveMinimum": 10, "uniqueItems": 16, "readOnly": 27}


def schema(s: dict) -> bytes:
    """openapi_v2.Schema."""
    out = bytearray()
    for key, value in s.items():
        if key in _STRINGS and isinstance(value, str):
            out += _str(_STRINGS[key], value)
        elif key in _DOUBLES and isinstance(value, (int, float)):
            out += _double(_DOUBLES[key], value)
        elif key in _INTS and isinstance(value, int):
            out += _uint(_INTS[key], value)
        elif key in _BOOLS and isinstance(value, bool):
            if value:
                out += _uint(_BOOLS[key], 1)
        elif key == "default":
            out += _any(5, value)
        elif key == "required":
            for name in value:
                out += _str(19, name)
        elif key == "enum":
            for item in value:
                out += _any(20, item)
        elif key == "additionalProperties":
            # AdditionalPropertiesItem {schema 1 | boolean 2}
            inner = _bytes(1, schema(value)) if isinstance(value, dict) else _uint(2, bool(value))
            out += _bytes(21, inner)
        elif key == "type":
            types = value if isinstance(value, list) else [value]
            out += _bytes(22, b"".join(_str(1, t) for t in types))  # TypeItem {value 1}
        elif key == "items":
            items = value if isinstance(value, list) else [value]
            out += _bytes(23, b"".join(_bytes(1, schema(i)) for i in items))  # ItemsItem {schema 1}
        elif key == "allOf":
            for sub in value:
                out += _bytes(24, schema(sub))
        elif key == "properties":
            out += _bytes(25, named_schemas(value))
        elif key == "externalDocs" and isinstance(value, dict):
            docs = b"".join(_str(n, value[k]) for k, n in (("description", 1), ("url", 2)) if k in value)
            out += _bytes(29, docs)
        elif key == "example":
            out += _any(30, value)
        elif key.startswith("x-"):
            out += _named_any(31, key, value)
    return bytes(out)


def named_schemas(schemas: dict[str, dict]) -> bytes:
    """Properties / Definitions {additional_properties 1: NamedSchema {name 1, value 2}}."""
    return b"".join(_bytes(1, _str(1, name) + _bytes(2, schema(s))) for name, s in schemas.items())


def document(doc: dict) -> bytes:
    """openapi_v2.Document: swagger, info, (empty) paths, definitions."""
    info = doc.get("info", {})
    out = _str(1, doc.get("swagger", "2.0"))
    out += _bytes(2, b"".join(_str(n, info[k]) for k, n in (("title", 1), ("version", 2)) if k in info))
    out += _bytes(8, b"")
    out += _bytes(9, named_schemas(doc.get("definitions", {})))
    return out
