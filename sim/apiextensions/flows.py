"""The API server's steps for CustomResourceDefinitions and custom objects, each a pure function
from a request body (and the stored object) to the object to store and the field errors:
what kube-apiserver's apiextensions registry and CR handler do between decoding and etcd
(registry/customresourcedefinition/strategy.go, apiserver/customresource_handler.go,
registry/customresource/strategy.go).  The generic parts (resourceVersion, uid, timestamps,
metadata update rules, admission) stay the server's.

A Result with decode_error is a 400 (BadRequest, "json: cannot unmarshal ..."); with errors a
422 Invalid Status of kind CustomResourceDefinition or the CRD's kind; `unknown` lists the
fields dropped, for fieldValidation: Strict refuses them ("strict decoding error: unknown field
\"spec.foo\""), Warn (the default) sends a Warning header per field, Ignore nothing."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from sim.api.gotypes import decode
from sim.api.validation import FieldError, validate_object_meta
from sim.apiextensions import customresource, defaults, status, strategy, validation
from sim.apiextensions.types import CUSTOM_RESOURCE_DEFINITION


@dataclass
class Result:
    obj: dict | None
    errors: list[FieldError] = dc_field(default_factory=list)
    unknown: list[str] = dc_field(default_factory=list)
    decode_error: str | None = None


def _decode_crd(body: dict) -> Result | None:
    d = decode(body, CUSTOM_RESOURCE_DEFINITION)
    if d.error:
        return Result(None, decode_error=d.error, unknown=d.unknown)
    return Result(d.value, unknown=d.unknown)


# -- CustomResourceDefinitions ---------------------------------------------------------------
def create_crd(body: dict) -> Result:
    """POST .../customresourcedefinitions: decode, default, PrepareForCreate, validate."""
    r = _decode_crd(body)
    if r.decode_error:
        return r
    crd = strategy.prepare_for_create(defaults.set_defaults(r.obj))
    return Result(crd, validation.validate_crd(crd), r.unknown)


def update_crd(body: dict, old: dict) -> Result:
    """PUT .../customresourcedefinitions/<name>: status is kept from old."""
    r = _decode_crd(body)
    if r.decode_error:
        return r
    crd = strategy.prepare_for_update(defaults.set_defaults(r.obj), old)
    return Result(crd, validation.validate_crd_update(crd, old), r.unknown)


def update_crd_status(body: dict, old: dict) -> Result:
    """PUT .../customresourcedefinitions/<name>/status: only status changes."""
    r = _decode_crd(body)
    if r.decode_error:
        return r
    crd = strategy.prepare_for_status_update(r.obj, old)
    return Result(crd, validation.validate_crd_status_update(crd, old), r.unknown)


def controllers_status(crd: dict, stored_crds: list[dict], now: str) -> dict:
    """The CRD as the naming and establishing controllers leave it (acceptedNames,
    NamesAccepted, Established); the server writes it through update_crd_status, and serves the
    custom resource once Established is True."""
    return status.apply_naming(crd, stored_crds, now)


# -- custom objects ---------------------------------------------------------------------------
def _version_of(obj: dict) -> str:
    return (obj.get("apiVersion") or "").rpartition("/")[2]


def _parts(crd: dict, version: str):
    schema = customresource.schema_for_version(crd, version)
    subs = customresource.subresources_for_version(crd, version)
    namespaced = ((crd.get("spec") or {}).get("scope")) == "Namespaced"
    return schema, subs.get("status") is not None, subs.get("scale"), namespaced


def create_custom(body: dict, crd: dict) -> Result:
    """POST of a custom object: prune and default (decoding), PrepareForCreate, then the
    strategy's Validate: metadata, schema, list types, rules, scale spec."""
    schema, status_on, scale, namespaced = _parts(crd, _version_of(body))
    obj, unknown = customresource.prune_and_default(body, schema)
    obj = customresource.prepare_for_create(obj, status_on)
    errs = validate_object_meta(obj, namespaced) + customresource.validate(obj, schema)
    errs += customresource.validate_scale_spec(obj, scale)
    return Result(obj, errs, unknown)


def update_custom(body: dict, old: dict, crd: dict) -> Result:
    """PUT / PATCH result of a custom object: as on create, with old for transition rules and
    ratcheting; with a status subresource the old status stays."""
    schema, status_on, scale, namespaced = _parts(crd, _version_of(body))
    obj, unknown = customresource.prune_and_default(body, schema)
    obj = customresource.prepare_for_update(obj, old, status_on)
    errs = validate_object_meta(obj, namespaced) + customresource.validate(obj, schema, old=old)
    errs += customresource.validate_scale_spec(obj, scale)
    return Result(obj, errs, unknown)


def update_custom_status(body: dict, old: dict, crd: dict) -> Result:
    """PUT .../<name>/status: the old object with the new status, validated whole."""
    schema, _, scale, namespaced = _parts(crd, _version_of(body))
    obj, unknown = customresource.prune_and_default(body, schema)
    obj = customresource.prepare_for_status_update(obj, old)
    errs = validate_object_meta(obj, namespaced) + customresource.validate(obj, schema, old=old)
    errs += customresource.validate_scale_status(obj, scale)
    return Result(obj, errs, unknown)
