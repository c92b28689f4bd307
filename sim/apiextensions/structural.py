"""Structural schemas: the rules a CRD's openAPIV3Schema must keep so the server can prune,
default and validate with it (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/convert.go
NewStructural, validation.go ValidateStructural, complete.go).

A structural schema says `type` on every node (bar x-kubernetes-int-or-string and
x-kubernetes-preserve-unknown-fields), keeps the shape (type, properties, items,
additionalProperties, defaults, descriptions, nullable, extensions) out of the logical
junctors allOf/anyOf/oneOf/not, names nothing there it does not name outside them, and says
nothing about metadata but name and generateName.

This module also re-exports the custom-object functions the API server needs
(objectvalidation.validate, pruning.prune, defaulting.default), so `structural` is the one
import for "a schema and an object"."""
from __future__ import annotations

from sim.api.validation import FieldError, forbidden, invalid, required
from sim.apiextensions import goregexp
from sim.apiextensions.schemautil import (additional_properties, child, index, is_set, items_schema,
                                          key, props)

ROOT, ITEM, FIELD = "root", "item", "field"

# The fields NewStructural refuses (validateUnsupportedFields), in its order.
_UNSUPPORTED = (("id", "id"), ("$schema", "schema"), ("$ref", "$ref"),
                ("patternProperties", "patternProperties"), ("dependencies", "dependencies"),
                ("additionalItems", "additionalItems"), ("definitions", "definitions"))
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]
# What ValueValidation holds (everything NewStructural keeps that is not shape).
_VALUE_VALIDATION = ("format", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
                     "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
                     "multipleOf", "maxProperties", "minProperties", "required", "enum", "allOf",
                     "anyOf", "oneOf", "not")


def new_structural_error(schema: dict) -> str | None:
    """NewStructural's error for a schema it cannot convert (a field API validation refuses
    anyway), or None."""
    def walk(s):
        if not isinstance(s, dict):
            return None
        for name, label in _UNSUPPORTED:
            if is_set(s, name):
                return f"OpenAPIV3Schema '{label}' is not supported"
        if isinstance(s.get("items"), list) and s["items"]:
            return "OpenAPIV3Schema 'items' must be a schema, but is an array"
        if s.get("x-kubernetes-preserve-unknown-fields") is False:
            return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
        subs = [s.get("not"), items_schema(s), additional_properties(s)[1]]
        subs += [x for j in ("allOf", "anyOf", "oneOf") for x in (s.get(j) or [])]
        subs += list(props(s).values())
        for sub in subs:
            err = walk(sub)
            if err:
                return err
        return None
    return walk(schema)


def validate_structural(schema: dict, path: str) -> list[FieldError]:
    """ValidateStructural: the invariants, then completeness, sorted by message as upstream
    sorts them (its maps iterate in random order)."""
    errs = _invariants(schema, ROOT, path) + _completeness(schema, path)
    return sorted(errs, key=lambda e: e.text())


def _invariants(s: dict | None, lvl: str, path: str) -> list[FieldError]:
    if not isinstance(s, dict):
        return []
    errs: list[FieldError] = []
    typ = s.get("type") or ""
    if typ == "array" and items_schema(s) is None:
        errs.append(required(child(path, "items"), "must be specified"))
    errs += _invariants(items_schema(s), ITEM, child(path, "items"))
    for k, v in props(s).items():
        errs += _invariants(v, FIELD, key(child(path, "properties"), k))
    has_ap, ap = additional_properties(s)
    if has_ap:
        if lvl == ROOT:
            errs.append(forbidden(child(path, "additionalProperties"), "must not be used at the root"))
        if ap is not None:
            errs += _invariants(ap, FIELD, child(path, "additionalProperties"))
    int_or_string = bool(s.get("x-kubernetes-int-or-string"))
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    embedded = bool(s.get("x-kubernetes-embedded-resource"))
    # validateExtensions
    if int_or_string and preserve:
        errs.append(invalid(child(path, "x-kubernetes-preserve-unknown-fields"), True,
                            "must be false if x-kubernetes-int-or-string is true"))
    if int_or_string and embedded:
        errs.append(invalid(child(path, "x-kubernetes-embedded-resource"), True,
                            "must be false if x-kubernetes-int-or-string is true"))
    skip_any_of = s.get("anyOf") == _INT_OR_STRING_ANY_OF
    all_of = s.get("allOf") or []
    skip_first_all_of_any_of = bool(all_of) and isinstance(all_of[0], dict) and all_of[0].get("anyOf") == _INT_OR_STRING_ANY_OF
    errs += _value_validation(s, skip_any_of, skip_first_all_of_any_of, lvl, path)
    check_metadata = lvl == ROOT or embedded
    if embedded and typ != "object":
        if not typ:
            errs.append(required(child(path, "type"), "must be object if x-kubernetes-embedded-resource is true"))
        else:
            errs.append(invalid(child(path, "type"), typ, "must be object if x-kubernetes-embedded-resource is true"))
    elif not typ and not int_or_string and not preserve:
        detail = {ROOT: "must not be empty at the root", ITEM: "must not be empty for specified array items",
                  FIELD: "must not be empty for specified object fields"}[lvl]
        errs.append(required(child(path, "type"), detail))
    if embedded and has_ap:
        errs.append(forbidden(child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"))
    if lvl == ROOT and typ and typ != "object":
        errs.append(invalid(child(path, "type"), typ, "must be object at the root"))
    p = props(s)
    for name in ("kind", "apiVersion"):
        if name in p and check_metadata and (p[name] or {}).get("type") != "string":
            errs.append(invalid(child(key(child(path, "properties"), name), "type"), (p[name] or {}).get("type") or "", "must be string"))
    if "metadata" in p:
        errs += _metadata_invariants(p["metadata"] or {}, check_metadata, lvl, key(child(path, "properties"), "metadata"))
    if embedded and not preserve and not p:
        errs.append(required(child(path, "properties"),
                             "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"))
    return errs


def _metadata_invariants(s: dict, check_metadata: bool, lvl: str, path: str) -> list[FieldError]:
    """validateStructuralMetadataInvariants: at the root, metadata may say type object and
    restrict name and generateName, nothing else."""
    errs: list[FieldError] = []
    if check_metadata and s.get("type") != "object":
        errs.append(invalid(child(path, "type"), s.get("type") or "", "must be object"))
    if lvl == ROOT:
        rest = {k: v for k, v in s.items() if k not in ("type", "default", "example", "externalDocs")}
        p = props(s)
        if p and set(p) <= {"name", "generateName"}:
            rest.pop("properties", None)
        if any(is_set(rest, k) for k in rest):
            errs.append(forbidden(path, "must not specify anything other than name and generateName, "
                                        "but metadata is implicitly specified"))
    return errs


def _value_validation(v: dict, skip_any_of: bool, skip_first_all_of_any_of: bool, lvl: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not skip_any_of:
        for i, x in enumerate(v.get("anyOf") or []):
            errs += _nested(x, False, False, lvl, index(child(path, "anyOf"), i))
    for i, x in enumerate(v.get("allOf") or []):
        errs += _nested(x, skip_first_all_of_any_of and i == 0, False, lvl, index(child(path, "allOf"), i))
    for i, x in enumerate(v.get("oneOf") or []):
        errs += _nested(x, False, False, lvl, index(child(path, "oneOf"), i))
    errs += _nested(v.get("not"), False, False, lvl, child(path, "not"))
    pattern = v.get("pattern")
    if pattern:
        try:
            goregexp.compile(pattern)
        except goregexp.PatternError as e:
            errs.append(invalid(child(path, "pattern"), pattern, f"must be a valid regular expression, but isn't: {e}"))
    return errs


# (JSON name, message) of what a junctor's schema may not say (ForbiddenGenerics / Extensions).
_NESTED_FORBIDDEN = (("type", "must be empty to be structural"),
                     ("default", "must be undefined to be structural"),
                     ("title", "must be empty to be structural"),
                     ("description", "must be empty to be structural"),
                     ("nullable", "must be false to be structural"),
                     ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
                     ("x-kubernetes-embedded-resource", "must be false to be structural"),
                     ("x-kubernetes-int-or-string", "must be false to be structural"),
                     ("x-kubernetes-list-map-keys", "must be empty to be structural"),
                     ("x-kubernetes-list-type", "must be undefined to be structural"),
                     ("x-kubernetes-map-type", "must be undefined to be structural"),
                     ("x-kubernetes-validations", "must be empty to be structural"))


def _nested(v, skip_any_of: bool, skip_all_of_any_of: bool, lvl: str, path: str) -> list[FieldError]:
    """validateNestedValueValidation: a junctor's schema restricts values only."""
    if not isinstance(v, dict):
        return []
    errs = _value_validation(v, skip_any_of, skip_all_of_any_of, lvl, path)
    errs += _nested(items_schema(v), False, False, lvl, child(path, "items"))
    for k, sub in props(v).items():
        errs += _nested(sub, False, False, FIELD, key(child(path, "properties"), k))
    for name, msg in _NESTED_FORBIDDEN:
        if is_set(v, name):
            errs.append(forbidden(child(path, name), msg))
    has_ap, _ = additional_properties(v)
    if has_ap:
        errs.append(forbidden(child(path, "additionalProperties"), "must be undefined to be structural"))
    if "metadata" in props(v):
        errs.append(forbidden(key(child(path, "properties"), "metadata"), "must not be specified in a nested context"))
    return errs


def _completeness(s: dict, path: str) -> list[FieldError]:
    """validateStructuralCompleteness: what the root's junctors name must exist outside them.
    Upstream checks the root's junctors only; so does this."""
    return _value_completeness(s, s, path, path)


def _value_completeness(v: dict, s: dict | None, s_path: str, v_path: str) -> list[FieldError]:
    if not isinstance(v, dict):
        return []
    if s is None:
        return [required(s_path, f"because it is defined in {v_path}")]
    errs: list[FieldError] = []
    errs += _nested_completeness(v.get("not"), s, s_path, child(v_path, "not"))
    for j in ("allOf", "anyOf", "oneOf"):
        for i, x in enumerate(v.get(j) or []):
            errs += _nested_completeness(x, s, s_path, index(child(v_path, j), i))
    return errs


def _nested_completeness(v, s: dict | None, s_path: str, v_path: str) -> list[FieldError]:
    if not isinstance(v, dict):
        return []
    if s is None:
        return [required(s_path, f"because it is defined in {v_path}")]
    errs = _value_completeness(v, s, s_path, v_path)
    if items_schema(v) is not None:
        errs += _nested_completeness(items_schema(v), items_schema(s), child(s_path, "items"), child(v_path, "items"))
    sp = props(s)
    for k, sub in props(v).items():
        if k not in sp:
            errs.append(required(key(child(s_path, "properties"), k),
                                 f"because it is defined in {key(child(v_path, 'properties'), k)}"))
        else:
            errs += _nested_completeness(sub, sp[k], key(child(s_path, "properties"), k), key(child(v_path, "properties"), k))
    return errs


# The custom-object side, re-exported (see the module docstring).
from sim.apiextensions.objectvalidation import validate  # noqa: E402,F401
from sim.apiextensions.pruning import prune  # noqa: E402,F401
from sim.apiextensions.defaulting import default  # noqa: E402,F401
