"""What the API server does with a custom object, in upstream's order
(k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go and
pkg/registry/customresource/strategy.go, validator.go):

  decode: prune unknown fields (reported for fieldValidation=Strict / Warn), then default;
  validate: the OpenAPI schema, list sets and maps, then x-kubernetes-validations, which run
  only when nothing "blocking" (a wrong type, a missing required field, an unsupported enum
  value, too long, too many) was found: upstream's hasBlockingErr."""
from __future__ import annotations

import copy

from sim.api.nested import get_path
from sim.api.validation import FieldError, invalid
from sim.apiextensions import cel
from sim.apiextensions.defaulting import default
from sim.apiextensions.listtype import validate_list_sets_and_maps
from sim.apiextensions.objectvalidation import validate as validate_schema
from sim.apiextensions.pruning import prune

BLOCKING = ("NotSupported", "Required", "TooLong", "TooMany", "TypeInvalid")
NOT_CHECKED = ("some validation rules were not checked because the object was invalid; "
               "correct the existing errors to complete validation")


def schema_for_version(crd: dict, version: str) -> dict | None:
    """The openAPIV3Schema of a served version, or None."""
    for v in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(v, dict) and v.get("name") == version:
            return ((v.get("schema") or {}).get("openAPIV3Schema")) or None
    return None


def subresources_for_version(crd: dict, version: str) -> dict:
    for v in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(v, dict) and v.get("name") == version:
            return v.get("subresources") or {}
    return {}


def unknown_field_warnings(paths: list[str]) -> list[str]:
    """The API server's words for pruned fields: a Warning header each under Warn, one
    "strict decoding error" under Strict."""
    return [f'unknown field "{p}"' for p in paths]


def prune_and_default(obj: dict, schema: dict | None) -> tuple[dict, list[str]]:
    """(the object pruned then defaulted, the pruned field paths).  A CRD version without a
    schema cannot be created through v1, so None prunes nothing."""
    if not schema:
        return obj, []
    pruned, unknown = prune(obj, schema, is_resource_root=True)
    return default(pruned, schema), unknown


def validate(obj: dict, schema: dict | None, old: dict | None = None,
             budget: int = cel.RUNTIME_STEP_BUDGET) -> list[FieldError]:
    """customResourceStrategy.Validate / ValidateUpdate for the schema's part (the object's
    metadata is the generic registry's): old is the stored object on an update, so
    transition rules (oldSelf) run and unchanged values ratchet."""
    if not schema:
        return []
    errs = validate_schema(obj, schema) if old is None else validate_schema(obj, schema, old=old)
    errs += validate_list_sets_and_maps(obj, schema)
    if _has_rules(schema):
        if any(e.type in BLOCKING for e in errs):
            errs.append(invalid("<nil>", None, NOT_CHECKED))
        else:
            errs += cel.validate(obj, schema, old, budget)
    return errs


def _has_rules(s) -> bool:
    if not isinstance(s, dict):
        return False
    if s.get("x-kubernetes-validations"):
        return True
    subs = list((s.get("properties") or {}).values()) + [s.get("items"), s.get("additionalProperties")]
    return any(_has_rules(x) for x in subs if isinstance(x, dict))


# -- the custom-resource registry's strategy (registry/customresource/strategy.go,
#    status_strategy.go) and its scale subresource (registry/customresource/etcd.go) ----------
def prepare_for_create(obj: dict, status_enabled: bool) -> dict:
    """customResourceStrategy.PrepareForCreate: with a status subresource, a create cannot set
    status; generation is 1."""
    obj = copy.deepcopy(obj)
    if status_enabled:
        obj.pop("status", None)
    obj.setdefault("metadata", {})["generation"] = 1
    return obj


def prepare_for_update(new: dict, old: dict, status_enabled: bool) -> dict:
    """customResourceStrategy.PrepareForUpdate: with a status subresource the old status stays;
    any change outside metadata bumps generation."""
    new = copy.deepcopy(new)
    if status_enabled:
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
    strip = lambda o: {k: v for k, v in o.items() if k != "metadata"}   # copyNonMetadata
    gen = (old.get("metadata") or {}).get("generation") or 0
    new.setdefault("metadata", {})["generation"] = gen + 1 if strip(new) != strip(old) else gen
    return new


def prepare_for_status_update(new: dict, old: dict) -> dict:
    """statusStrategy.PrepareForUpdate: the old object with the new status (or none)."""
    out = copy.deepcopy(old)
    if "status" in new:
        out["status"] = copy.deepcopy(new["status"])
    else:
        out.pop("status", None)
    if "managedFields" in (new.get("metadata") or {}):
        out.setdefault("metadata", {})["managedFields"] = copy.deepcopy(new["metadata"]["managedFields"])
    return out


def _go_type(v) -> str:
    return {bool: "bool", int: "int64", float: "float64", str: "string", list: "[]interface {}",
            dict: "map[string]interface {}"}.get(type(v), "<nil>")


def _nested_int64(obj, path: str):
    """unstructured.NestedInt64: (value, error text)."""
    v = get_path(obj, path)
    if v is None or isinstance(v, int) and not isinstance(v, bool):
        return (v or 0), None
    shown = v if not isinstance(v, (dict, list)) else _go_type(v)
    return 0, f"{path} accessor error: {shown} is of the type {_go_type(v)}, expected int64"


def validate_scale_spec(obj: dict, scale: dict | None) -> list[FieldError]:
    """customResourceValidator.ValidateScaleSpec: the value at specReplicasPath is a
    non-negative int32 (the field path is the JSON path itself, ".spec.replicas")."""
    if not scale:
        return []
    return _replicas_errors(obj, scale.get("specReplicasPath") or "")


def validate_scale_status(obj: dict, scale: dict | None) -> list[FieldError]:
    """ValidateScaleStatus: statusReplicasPath as above, labelSelectorPath a string."""
    if not scale:
        return []
    errs = _replicas_errors(obj, scale.get("statusReplicasPath") or "")
    sel_path = scale.get("labelSelectorPath")
    if sel_path:
        v = get_path(obj, sel_path)
        if v is not None and not isinstance(v, str):
            errs.append(invalid(sel_path, "", f"{sel_path} accessor error: {v} is of the type {_go_type(v)}, expected string"))
    return errs


def _replicas_errors(obj: dict, path: str) -> list[FieldError]:
    if not path:
        return []
    value, err = _nested_int64(obj, path)
    if err:
        return [invalid(path, value, err)]
    if value < 0:
        return [invalid(path, value, "should be a non-negative integer")]
    if value > 2147483647:
        return [invalid(path, value, "should be less than or equal to 2147483647")]
    return []
