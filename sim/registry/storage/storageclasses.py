"""StorageClasses (pkg/registry/storage/storageclass, pkg/apis/storage/validation):
storage.k8s.io/v1, cluster-scoped, short name "sc".  Defaulting (SetDefaults_StorageClass):
reclaimPolicy Delete, volumeBindingMode Immediate.  provisioner, parameters, reclaimPolicy and
volumeBindingMode are immutable once created."""
from __future__ import annotations

from typing import Any

from sim.api import storage as stg
from sim.api import validation as v
from sim.api.gotypes import BOOL, STRING, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, STRING_MAP, STRINGS, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

STORAGE_CLASS = struct(
    "v1.StorageClass", **TYPE_META, metadata=OBJECT_META, provisioner=STRING, parameters=STRING_MAP,
    reclaimPolicy=enum("v1.PersistentVolumeReclaimPolicy"), mountOptions=STRINGS, allowVolumeExpansion=BOOL,
    volumeBindingMode=enum("v1.VolumeBindingMode"),
    allowedTopologies=Slice(struct("v1.TopologySelectorTerm", matchLabelExpressions=Slice(
        struct("v1.TopologySelectorLabelRequirement", key=STRING, values=STRINGS)))))

BINDING_MODES = (stg.IMMEDIATE, stg.WAIT_FOR_FIRST_CONSUMER)
CLASS_RECLAIM_POLICIES = (stg.DELETE, stg.RETAIN)  # Recycle is not allowed for a class


def validate(sc: dict) -> list:
    """ValidateStorageClass."""
    errs = v.validate_object_meta(sc, namespaced=False)
    prov = sc.get("provisioner")
    if not prov:
        errs.append(v.required("provisioner", ""))
    else:
        for msg in v.qualified_name_errors(prov.lower()):  # validateProvisioner
            errs.append(v.invalid("provisioner", prov, msg))
    if sc.get("reclaimPolicy") not in CLASS_RECLAIM_POLICIES:
        errs.append(v.not_supported("reclaimPolicy", sc.get("reclaimPolicy"), CLASS_RECLAIM_POLICIES))
    if sc.get("volumeBindingMode") not in BINDING_MODES:
        errs.append(v.not_supported("volumeBindingMode", sc.get("volumeBindingMode"), BINDING_MODES))
    return errs


def validate_update(new: dict, old: dict) -> list:
    """ValidateStorageClassUpdate."""
    errs = validate(new)
    for field, msg in (("parameters", "updates to parameters are forbidden."),
                       ("provisioner", "updates to provisioner are forbidden."),
                       ("reclaimPolicy", "updates to reclaimPolicy are forbidden."),
                       ("volumeBindingMode", "field is immutable")):
        if (new.get(field) or None) != (old.get(field) or None):
            errs.append(v.forbidden(field, msg) if field != "volumeBindingMode"
                        else v.invalid(field, new.get(field), msg))
    return errs


class StorageClassStrategy(Strategy):
    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = f"{stg.STORAGE_GROUP}/v1", "StorageClass"
        obj.setdefault("reclaimPolicy", stg.DELETE)
        obj.setdefault("volumeBindingMode", stg.IMMEDIATE)
        return obj

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)


# printers.go printStorageClass: a default class's name says so.
SC_COLUMNS = [NAME, col("Provisioner"), col("ReclaimPolicy"), col("VolumeBindingMode"),
              col("AllowVolumeExpansion"), AGE]


def storageclass_row(sc: dict, now: float) -> list[Any]:
    md = sc.get("metadata", {})
    name = md.get("name", "") + (" (default)" if stg.is_default_class(sc) else "")
    return [name, sc.get("provisioner", ""), sc.get("reclaimPolicy") or stg.DELETE,
            sc.get("volumeBindingMode") or stg.IMMEDIATE, bool(sc.get("allowVolumeExpansion", False)),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("storageclasses", stg.STORAGE_GROUP, "v1", "StorageClass", False, "/registry/storageclasses/",
                    ("sc",), "storageclass", (), StorageClassStrategy(), STORAGE_CLASS,
                    printer=Printer(SC_COLUMNS, storageclass_row))
