"""What the CRD registry does to a CustomResourceDefinition before validating it
(k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition/strategy.go)."""
from __future__ import annotations

import copy


def _storage_version(crd: dict) -> str | None:
    for v in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(v, dict) and v.get("storage"):
            return v.get("name")
    return None


def empty_status() -> dict:
    """A zero CustomResourceDefinitionStatus as v1 serialises it: acceptedNames' plural and
    kind and storedVersions have no omitempty."""
    return {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": []}


def prepare_for_create(crd: dict) -> dict:
    """PrepareForCreate: status starts empty but for the storage version in storedVersions;
    generation is 1."""
    crd = copy.deepcopy(crd)
    crd["status"] = empty_status()
    crd.setdefault("metadata", {})["generation"] = 1
    storage = _storage_version(crd)
    if storage is not None:
        crd["status"]["storedVersions"].append(storage)
    return crd


def prepare_for_update(new: dict, old: dict) -> dict:
    """PrepareForUpdate: the status is the old one (it has its own subresource), a spec change
    bumps generation, and a new storage version joins storedVersions."""
    new = copy.deepcopy(new)
    new["status"] = copy.deepcopy(old.get("status") or empty_status())
    md = new.setdefault("metadata", {})
    old_gen = (old.get("metadata") or {}).get("generation") or 0
    md["generation"] = old_gen + 1 if new.get("spec") != old.get("spec") else old_gen
    storage = _storage_version(new)
    stored = new["status"].setdefault("storedVersions", [])
    if storage is not None and storage not in stored:
        stored.append(storage)
    return new


def prepare_for_status_update(new: dict, old: dict) -> dict:
    """statusStrategy.PrepareForUpdate: only status changes."""
    out = copy.deepcopy(old)
    out["status"] = copy.deepcopy(new.get("status") or empty_status())
    return out
