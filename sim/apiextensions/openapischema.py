"""A CRD version's openAPIV3Schema, checked as ValidateCustomResourceDefinitionOpenAPISchema
and validateCustomResourceDefinitionValidation check it (k8s.io/apiextensions-apiserver/pkg/
apis/apiextensions/validation/validation.go): the OpenAPI subset CRDs allow
(specStandardValidatorV3), the x-kubernetes-* extensions, the structural rules
(structural.py), defaults that validate and are pruned, and x-kubernetes-validations rules
that compile (cel.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sim.api.validation import FieldError, GoSyntax, forbidden, invalid, not_supported, required
from sim.apiextensions import cel, structural
from sim.apiextensions.objectvalidation import validate as validate_value
from sim.apiextensions.pruning import prune
from sim.apiextensions.schemautil import (additional_properties, child, go_value, index, is_set,
                                          items_schema, key, props)
from sim.api.gofmt import go_strings

OPENAPI_V3_TYPES = ("array", "boolean", "integer", "number", "object", "string")   # sets.List: sorted
_META_FIELDS = ("metadata", "kind", "apiVersion")
# allowedFieldsAtRootSchema, as Go field names (the message prints them) and their JSON names.
_ROOT_ALLOWED = ("Description", "Type", "Format", "Title", "Maximum", "ExclusiveMaximum", "Minimum",
                 "ExclusiveMinimum", "MaxLength", "MinLength", "Pattern", "MaxItems", "MinItems",
                 "UniqueItems", "MultipleOf", "Required", "Items", "Properties", "ExternalDocs",
                 "Example", "XPreserveUnknownFields", "XValidations")
# JSONSchemaProps' fields in struct order (the root check stops at the first offender).
_STRUCT_FIELDS = (("id", "ID"), ("$schema", "Schema"), ("$ref", "Ref"), ("description", "Description"),
                  ("type", "Type"), ("format", "Format"), ("title", "Title"), ("default", "Default"),
                  ("maximum", "Maximum"), ("exclusiveMaximum", "ExclusiveMaximum"), ("minimum", "Minimum"),
                  ("exclusiveMinimum", "ExclusiveMinimum"), ("maxLength", "MaxLength"), ("minLength", "MinLength"),
                  ("pattern", "Pattern"), ("maxItems", "MaxItems"), ("minItems", "MinItems"),
                  ("uniqueItems", "UniqueItems"), ("multipleOf", "MultipleOf"), ("enum", "Enum"),
                  ("maxProperties", "MaxProperties"), ("minProperties", "MinProperties"), ("required", "Required"),
                  ("items", "Items"), ("allOf", "AllOf"), ("oneOf", "OneOf"), ("anyOf", "AnyOf"), ("not", "Not"),
                  ("properties", "Properties"), ("additionalProperties", "AdditionalProperties"),
                  ("patternProperties", "PatternProperties"), ("dependencies", "Dependencies"),
                  ("additionalItems", "AdditionalItems"), ("definitions", "Definitions"),
                  ("externalDocs", "ExternalDocs"), ("example", "Example"), ("nullable", "Nullable"),
                  ("x-kubernetes-preserve-unknown-fields", "XPreserveUnknownFields"),
                  ("x-kubernetes-embedded-resource", "XEmbeddedResource"),
                  ("x-kubernetes-int-or-string", "XIntOrString"), ("x-kubernetes-list-map-keys", "XListMapKeys"),
                  ("x-kubernetes-list-type", "XListType"), ("x-kubernetes-map-type", "XMapType"),
                  ("x-kubernetes-validations", "XValidations"))
_SCHEMA_VALUE = GoSyntax("apiextensions.JSONSchemaProps{...}")   # upstream prints the whole struct


@dataclass(frozen=True)
class _Ctx:
    """specStandardValidatorV3's state."""
    allow_defaults: bool = True
    disallow_reason: str = ""
    inside_meta: bool = False
    uncorrelatable: str | None = None   # the first ancestor whose values oldSelf cannot follow


def validate_version_schema(schema: dict | None, status_enabled: bool, path: str) -> list[FieldError]:
    """validateCustomResourceDefinitionValidation for one CustomResourceValidation at `path`
    (".../schema" or "spec.validation"); schema is its openAPIV3Schema."""
    if not isinstance(schema, dict):
        return []
    errs: list[FieldError] = []
    sp = child(path, "openAPIV3Schema")
    if status_enabled:
        errs += _root_with_status(schema, path)
    if schema.get("nullable"):
        errs.append(forbidden(child(path, "openAPIV3Schema.nullable"), "nullable cannot be true at the root"))
    init_errs: list[FieldError] = []
    cel_enabled = False
    init = structural.new_structural_error(schema)
    if init:
        init_errs.append(invalid(sp, "", init))
    else:
        s_errs = structural.validate_structural(schema, sp)
        if s_errs:
            errs += s_errs
        else:
            d_errs = validate_defaults(schema, sp)
            if d_errs:
                errs += d_errs
            else:
                cel_enabled = True   # CEL is checked only over a sound structural schema
    schema_errs, cel_errs = _walk(schema, sp, _Ctx(), True, cel_enabled)
    errs += schema_errs + cel_errs
    if not errs and init_errs:
        errs += init_errs
    return errs


def _root_with_status(schema: dict, path: str) -> list[FieldError]:
    """With the status subresource, the root may only say what survives extracting
    properties[status] (and type must be object)."""
    for json_name, go_name in _STRUCT_FIELDS:
        if not is_set(schema, json_name) and not (json_name in ("maximum", "minimum") and schema.get(json_name) == 0):
            continue
        if go_name == "Type":
            if schema["type"] != "object":
                return [invalid(child(path, "openAPIV3Schema.type"), schema["type"],
                                'only "object" is allowed as the type at the root of the schema if the status subresource is enabled')]
            continue
        if go_name not in _ROOT_ALLOWED:
            return [invalid(child(path, "openAPIV3Schema"), _SCHEMA_VALUE,
                            f"only [{' '.join(_ROOT_ALLOWED)}] fields are allowed at the root of the schema "
                            "if the status subresource is enabled")]
    return []


def _standard(s: dict, path: str, ctx: _Ctx) -> list[FieldError]:
    """specStandardValidatorV3.validate: the OpenAPI v3 features CRDs leave out."""
    errs: list[FieldError] = []
    typ = s.get("type") or ""
    if typ and typ not in OPENAPI_V3_TYPES:
        errs.append(not_supported(child(path, "type"), typ, OPENAPI_V3_TYPES))
    if s.get("default") is not None and not ctx.allow_defaults:
        detail = "must not be set" + (" " + ctx.disallow_reason if ctx.disallow_reason else "")
        errs.append(forbidden(child(path, "default"), detail))
    if is_set(s, "id"):
        errs.append(forbidden(child(path, "id"), "id is not supported"))
    if "additionalItems" in s and s["additionalItems"] is not None:
        errs.append(forbidden(child(path, "additionalItems"), "additionalItems is not supported"))
    if is_set(s, "patternProperties"):
        errs.append(forbidden(child(path, "patternProperties"), "patternProperties is not supported"))
    if is_set(s, "definitions"):
        errs.append(forbidden(child(path, "definitions"), "definitions is not supported"))
    if s.get("dependencies") is not None:
        errs.append(forbidden(child(path, "dependencies"), "dependencies is not supported"))
    if s.get("$ref") is not None:
        errs.append(forbidden(child(path, "$ref"), "$ref is not supported"))
    if typ == "null":
        errs.append(forbidden(child(path, "type"), "type cannot be set to null, use nullable as an alternative"))
    if isinstance(s.get("items"), list) and s["items"]:
        errs.append(forbidden(child(path, "items"), "items must be a schema object and not an array"))
    if ctx.inside_meta and s.get("x-kubernetes-embedded-resource"):
        errs.append(forbidden(child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"))
    return errs


def _walk(s, path: str, ctx: _Ctx, is_root: bool, cel_enabled: bool) -> tuple[list[FieldError], list[FieldError]]:
    """ValidateCustomResourceDefinitionOpenAPISchema: (schema errors, CEL errors)."""
    if not isinstance(s, dict):
        return [], []
    errs = _standard(s, path, ctx)
    cel_errs: list[FieldError] = []

    def merge(result):
        errs.extend(result[0])
        cel_errs.extend(result[1])

    if s.get("uniqueItems"):
        errs.append(forbidden(child(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
    has_ap, ap = additional_properties(s)
    if has_ap:
        if props(s) and (s["additionalProperties"] is False or ap is not None):
            errs.append(forbidden(child(path, "additionalProperties"), "additionalProperties and properties are mutual exclusive"))
        sub = replace(ctx, allow_defaults=False, disallow_reason="inside additionalProperties applying to object metadata") \
            if ctx.inside_meta else ctx
        merge(_walk(ap, child(path, "additionalProperties"), sub, False, cel_enabled))
    map_type = s.get("x-kubernetes-map-type")
    for name, sub_schema in props(s).items():
        sub = ctx
        if map_type not in (None, "granular", "atomic") and sub.uncorrelatable is None:
            sub = replace(sub, uncorrelatable=path)
        if (is_root or s.get("x-kubernetes-embedded-resource")) and name in _META_FIELDS:
            sub = replace(sub, inside_meta=True)
            if is_root:
                sub = replace(sub, allow_defaults=False, disallow_reason=f"in top-level {name}")
        merge(_walk(sub_schema, key(child(path, "properties"), name), sub, False, cel_enabled))
    merge(_walk(s.get("not"), child(path, "not"), ctx, False, False))
    for j in ("allOf", "oneOf", "anyOf"):
        for i, x in enumerate(s.get(j) or []):
            merge(_walk(x, index(child(path, j), i), ctx, False, False))
    for name, x in (s.get("definitions") or {}).items():
        merge(_walk(x, key(child(path, "definitions"), name), ctx, False, False))
    it = items_schema(s)
    if it is not None:
        sub = ctx
        if s.get("x-kubernetes-list-type") != "map" and sub.uncorrelatable is None:
            sub = replace(sub, uncorrelatable=path)
        merge(_walk(it, child(path, "items"), sub, False, cel_enabled))
    for name, x in (s.get("dependencies") or {}).items():
        if isinstance(x, dict):
            merge(_walk(x, key(child(path, "dependencies"), name), ctx, False, False))
    errs += _extensions(s, path)
    errs += _map_list_keys_map_set(s, path)
    rules = s.get("x-kubernetes-validations") or []
    if rules:
        errs += _rules_static(s, rules, path)
        if not errs and cel_enabled:
            cel_errs += cel.compile_errors(rules, path, ctx.uncorrelatable, s, is_root)
    return errs, cel_errs


def _extensions(s: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    typ = s.get("type") or ""
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        errs.append(invalid(child(path, "x-kubernetes-preserve-unknown-fields"), False, "must be true or undefined"))
    map_type = s.get("x-kubernetes-map-type")
    if map_type is not None and typ != "object":
        if not typ:
            errs.append(required(child(path, "type"), "must be object if x-kubernetes-map-type is specified"))
        else:
            errs.append(invalid(child(path, "type"), typ, "must be object if x-kubernetes-map-type is specified"))
    if map_type is not None and map_type not in ("atomic", "granular"):
        errs.append(not_supported(child(path, "x-kubernetes-map-type"), map_type, ["atomic", "granular"]))
    list_type = s.get("x-kubernetes-list-type")
    it = items_schema(s)
    if list_type is not None and typ != "array":
        if not typ:
            errs.append(required(child(path, "type"), "must be array if x-kubernetes-list-type is specified"))
        else:
            errs.append(invalid(child(path, "type"), typ, "must be array if x-kubernetes-list-type is specified"))
    elif list_type == "set" and it is not None:
        if it.get("type") == "array" and it.get("x-kubernetes-list-type") not in (None, "atomic"):
            errs.append(invalid(child(child(path, "items"), "x-kubernetes-list-type"), it.get("x-kubernetes-list-type"),
                                "must be atomic as item of a list with x-kubernetes-list-type=set"))
        if it.get("type") == "object" and it.get("x-kubernetes-map-type") != "atomic":
            errs.append(invalid(child(child(path, "items"), "x-kubernetes-map-type"), it.get("x-kubernetes-list-type"),
                                "must be atomic as item of a list with x-kubernetes-list-type=set"))
    if list_type is not None and list_type not in ("atomic", "set", "map"):
        errs.append(not_supported(child(path, "x-kubernetes-list-type"), list_type, ["atomic", "set", "map"]))
    keys = s.get("x-kubernetes-list-map-keys") or []
    if keys:
        if list_type is None:
            errs.append(required(child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"))
        elif list_type != "map":
            errs.append(invalid(child(path, "x-kubernetes-list-type"), list_type, "must be map if x-kubernetes-list-map-keys is non-empty"))
    if list_type == "map":
        if not keys:
            errs.append(required(child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"))
        if "items" not in s or s["items"] is None:
            errs.append(required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map"))
        elif it is None:
            errs.append(invalid(child(path, "items"), GoSyntax("&apiextensions.JSONSchemaPropsOrArray{...}"),
                                "must only have a single schema if x-kubernetes-list-type is map"))
        if it is not None and it.get("type") != "object":
            errs.append(invalid(child(child(path, "items"), "type"), it.get("type") or "",
                                "must be object if parent array's x-kubernetes-list-type is map"))
        if it is not None and it.get("type") == "object":
            seen = set()
            for k in keys:
                ip = props(it)
                if k in ip:
                    if (ip[k] or {}).get("type") in ("array", "object"):
                        errs.append(invalid(child(key(child(child(path, "items"), "properties"), k), "type"), it.get("type"),
                                            "must be a scalar type if parent array's x-kubernetes-list-type is map"))
                else:
                    errs.append(invalid(child(path, "x-kubernetes-list-map-keys"), GoSyntax(go_strings(keys)),
                                        "entries must all be names of item properties"))
                if k in seen:
                    errs.append(invalid(child(path, "x-kubernetes-list-map-keys"), GoSyntax(go_strings(keys)),
                                        "must not contain duplicate entries"))
                seen.add(k)
    return errs


def _map_list_keys_map_set(s: dict, path: str) -> list[FieldError]:
    """validateMapListKeysMapSet: set and map items are not nullable, map keys are required or
    defaulted and not nullable."""
    it = items_schema(s)
    list_type = s.get("x-kubernetes-list-type")
    if it is None or list_type not in ("set", "map"):
        return []
    errs: list[FieldError] = []
    if it.get("nullable"):
        errs.append(forbidden(child(child(path, "items"), "nullable"), "cannot be nullable when x-kubernetes-list-type is " + list_type))
    if list_type == "map":
        req = set(it.get("required") or [])
        for k in s.get("x-kubernetes-list-map-keys") or []:
            p = props(it).get(k)
            if p is None:
                continue
            kp = key(child(child(path, "items"), "properties"), k)
            if k not in req and p.get("default") is None:
                errs.append(required(child(kp, "default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"))
            if p.get("nullable"):
                errs.append(forbidden(child(kp, "nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"))
    return errs


_NEWLINES = re.compile(r"[\n\r]+")


def _rules_static(s: dict, rules: list, path: str) -> list[FieldError]:
    """The x-kubernetes-validations checks that need no compiler."""
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        rule = rule if isinstance(rule, dict) else {}
        rp = index(child(path, "x-kubernetes-validations"), i)
        r = (rule.get("rule") or "").strip()
        msg = rule.get("message") or ""
        if not r:
            errs.append(required(child(rp, "rule"), "rule is not specified"))
        elif msg and not msg.strip():
            errs.append(invalid(child(rp, "message"), msg, "message must be non-empty if specified"))
        elif _NEWLINES.search(msg.strip()):
            errs.append(invalid(child(rp, "message"), msg, "message must not contain line breaks"))
        elif _NEWLINES.search(r) and not msg.strip():
            errs.append(required(child(rp, "message"), "message must be specified if rule contains line breaks"))
        me = rule.get("messageExpression") or ""
        if me and not me.strip():
            errs.append(required(child(rp, "messageExpression"), "messageExpression must be non-empty if specified"))
        reason = rule.get("reason")
        if reason is not None and reason not in cel.SUPPORTED_REASONS:
            errs.append(not_supported(child(rp, "reason"), reason, cel.SUPPORTED_REASONS))
        fp = rule.get("fieldPath") or ""
        if fp and not fp.strip():
            errs.append(invalid(child(rp, "fieldPath"), fp, "fieldPath must be non-empty if specified"))
        if _NEWLINES.search(fp):
            errs.append(invalid(child(rp, "fieldPath"), fp, "fieldPath must not contain line breaks"))
        if fp and fp.strip() and not valid_field_path(fp, s):
            errs.append(invalid(child(rp, "fieldPath"), fp, "fieldPath must be a valid path"))
    return errs


_FIELD_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]")


def valid_field_path(fp: str, s: dict) -> bool:
    """cel.ValidFieldPath: ".a.b" and "['k']" steps through properties and additionalProperties."""
    pos = 0
    node = s
    while pos < len(fp):
        m = _FIELD_PATH_TOKEN.match(fp, pos)
        if not m:
            return False
        name = m.group(1) if m.group(1) is not None else m.group(2).replace("\\'", "'").replace("\\\\", "\\")
        has_ap, ap = additional_properties(node)
        if props(node):
            if name not in props(node):
                return False
            node = props(node)[name]
        elif has_ap and ap is not None:
            node = ap
        else:
            return False
        pos = m.end()
    return True


def validate_defaults(schema: dict, path: str) -> list[FieldError]:
    """structuraldefaulting.ValidateDefaults: every default is pruned and validates against
    its own schema.  Not followed into additionalProperties or metadata, as upstream."""
    errs: list[FieldError] = []

    def walk(s, p: str, is_root: bool):
        if not isinstance(s, dict):
            return
        if s.get("default") is not None:
            d = s["default"]
            if not is_root:
                pruned, unknown = prune(d, s, bool(s.get("x-kubernetes-embedded-resource")))
                if unknown:
                    errs.append(invalid(child(p, "default"), _value(d), "must not have unknown fields"))
                errs.extend(validate_value(d, s, field_prefix=child(p, "default")))
        for name, sub in props(s).items():
            if is_root and name == "metadata":
                continue
            walk(sub, key(child(p, "properties"), name), False)
        walk(items_schema(s), child(p, "items"), False)
    walk(schema, path, True)
    return errs


def _value(v):
    return v if isinstance(v, (str, int, float, bool)) or v is None else GoSyntax(go_value(v))
