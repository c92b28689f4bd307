"""The kind a CustomResourceDefinition defines, as a Resource of the registry - the same door
as every built-in kind (apiextensions-apiserver pkg/apiserver/customresource_handler.go builds a
genericregistry.Store per CRD with pkg/registry/customresource's strategy).

Versions: conversion `None` only; objects are stored at the storage version and served at the
version asked for, the apiVersion alone changing (the server converts, sim/apiserver/server.py).
"""
from __future__ import annotations

from typing import Any

from sim.api import status as st
from sim.api import validation as metavalidation
from sim.api.nested import get_path
from sim.api.fieldtypes import type_info_from_openapi
from sim.api.gotypes import Decoded
from sim.api.meta import deep_copy
from sim.apiextensions import customresource as cr
from sim.apiextensions.status import is_condition_true
from sim.apiextensions.versions import sort_versions
from sim.registry.resource import Resource, ScaleSubresource
from sim.registry.strategy import Strategy, keep_stored_metadata


def _version_of(obj: Any, group: str, fallback: str) -> str:
    api_version = obj.get("apiVersion") if isinstance(obj, dict) else None
    if isinstance(api_version, str) and api_version.startswith(group + "/"):
        return api_version[len(group) + 1:]
    return fallback


class CustomResourceStrategy(Strategy):
    """pkg/registry/customresource strategy.go over the CRD's structural schema."""
    returns_deleted_object = False

    def __init__(self, crd: dict, storage_version: str, status_enabled: bool, terminating: bool):
        self.crd = crd
        self.group = crd["spec"]["group"]
        self.storage_version = storage_version
        self.status_enabled = status_enabled
        self.terminating = terminating
        self.namespaced = crd["spec"].get("scope") == "Namespaced"

    def schema(self, obj: Any) -> dict | None:
        """The schema of the version the object is written in (each version has its own)."""
        return cr.schema_for_version(self.crd, _version_of(obj, self.group, self.storage_version)) or \
            cr.schema_for_version(self.crd, self.storage_version)

    def decode(self, res, obj: Any) -> Decoded:
        """Unknown fields pruned (reported for fieldValidation) and defaults applied, as the
        custom resource handler's decoder does; a metadata that is not an object is a 400."""
        if not isinstance(obj, dict):
            return Decoded(obj, [], "the body of the request must be a JSON object")
        if "metadata" in obj and not isinstance(obj["metadata"], dict):
            return Decoded(obj, [], "json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta")
        value, unknown = cr.prune_and_default(deep_copy(obj), self.schema(obj))
        return Decoded(value, unknown, None)

    def check_create(self, res, obj, ctx):
        if self.terminating:
            return st.status(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating",
                             {"group": res.group, "kind": res.name})
        return None

    def prepare_for_create(self, res, obj, ctx):
        prepared = cr.prepare_for_create(obj, self.status_enabled)
        obj.clear()
        obj.update(prepared)

    def prepare_for_update(self, res, new, old, ctx):
        return cr.prepare_for_update(keep_stored_metadata(new, old), old, self.status_enabled)

    def prepare_for_status_update(self, res, candidate, old, ctx):
        return cr.prepare_for_status_update(candidate, old)

    def field_type_info(self, res):
        """Server-side apply's view of the storage version's structural schema; the main
        resource resets status and /status resets spec (strategy.go GetResetFields)."""
        reset = {"": [("status",)], "status": [("spec",)]} if self.status_enabled else {}
        return type_info_from_openapi(cr.schema_for_version(self.crd, self.storage_version), reset_fields=reset)

    def validate(self, obj):
        return metavalidation.validate_object_meta(obj, self.namespaced) + cr.validate(obj, self.schema(obj))

    def validate_update(self, new, old):
        return metavalidation.validate_object_meta(new, self.namespaced) + cr.validate(new, self.schema(new), old=old)


def served_versions(crd: dict) -> list[str]:
    """The served versions, by Kubernetes' version priority (the preferred one first)."""
    return sort_versions([v["name"] for v in crd["spec"].get("versions") or [] if v.get("served")])


def resource_for(crd: dict) -> Resource | None:
    """The kind `crd` defines, or None while it may not be served (not Established)."""
    spec, status = crd.get("spec") or {}, crd.get("status") or {}
    if not is_condition_true(crd, "Established"):
        return None
    names = status.get("acceptedNames") or spec.get("names") or {}
    storage = next((v for v in spec.get("versions") or [] if v.get("storage")), None)
    versions = served_versions(crd)
    if storage is None or not versions:
        return None
    subresources = storage.get("subresources") or {}
    scale = subresources.get("scale")
    group, plural = spec["group"], names["plural"]
    strategy = CustomResourceStrategy(crd, storage["name"], "status" in subresources,
                                      is_condition_true(crd, "Terminating"))
    return Resource(
        plural, group, storage["name"], names["kind"], spec.get("scope") == "Namespaced",
        f"/registry/{group}/{plural}/", tuple(names.get("shortNames") or ()), names.get("singular") or "",
        tuple(s for s, on in (("status", "status" in subresources), ("scale", scale is not None)) if on),
        strategy, None, categories=tuple(names.get("categories") or ()),
        scale=ScaleSubresource(scale.get("specReplicasPath", ".spec.replicas"),
                               scale.get("statusReplicasPath", ".status.replicas"),
                               _selector_reader(scale.get("labelSelectorPath"))) if scale else None,
        strategic_merge_patch=False,
        openapi_schema=(storage.get("schema") or {}).get("openAPIV3Schema"),
        versions=tuple(versions), source=crd["metadata"]["name"],
        additional_printer_columns=tuple(storage.get("additionalPrinterColumns") or ()))


def _selector_reader(path: str | None):
    def read(obj: dict) -> str:
        if not path:
            return ""
        value = get_path(obj, path)
        return value if isinstance(value, str) else ""
    return read
