"""What the API server does with a custom object, in upstream's order
(k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go and
pkg/registry/customresource/strategy.go, validator.go):

  decode: prune unknown fields (reported for fieldValidation=Strict / Warn), then default;
  validate: the OpenAPI schema, list sets and maps, then x-kubernetes-validations, which run
  only when nothing "blocking" (a wrong type, a missing required field, an unsupported enum
  value, too long, too many) was found: upstream's hasBlockingErr."""
from __future__ import annotations

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
    transition rules (oldSelf) run."""
    if not schema:
        return []
    errs = validate_schema(obj, schema)
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
