"""PersistentVolumeClaims (pkg/registry/core/persistentvolumeclaim, pkg/apis/core/validation
ValidatePersistentVolumeClaim): namespaced, short name "pvc", a status subresource the
persistentvolume binder writes.

Defaulting (SetDefaults_PersistentVolumeClaim): phase Pending, volumeMode Filesystem.  After
creation the spec is immutable except resources.requests (expansion), a volumeName set on an
unbound claim (binding) and a storageClassName set where there was none (the retroactive
default class), as ValidatePersistentVolumeClaimUpdate allows.
"""
from __future__ import annotations

from typing import Any

from sim.api import storage as stg
from sim.api import validation as v
from sim.api.gotypes import STRING, TIME, Map, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import LABEL_SELECTOR, OBJECT_META, RESOURCE_LIST, TYPE_META
from sim.registry.core.persistentvolumes import VOLUME_MODES, validate_access_modes, validate_storage_quantity
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

TYPED_LOCAL_OBJECT_REFERENCE = struct("v1.TypedLocalObjectReference", apiGroup=STRING, kind=STRING, name=STRING)
PERSISTENT_VOLUME_CLAIM = struct(
    "v1.PersistentVolumeClaim", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.PersistentVolumeClaimSpec", accessModes=Slice(enum("v1.PersistentVolumeAccessMode")),
                selector=LABEL_SELECTOR,
                resources=struct("v1.VolumeResourceRequirements", limits=RESOURCE_LIST, requests=RESOURCE_LIST),
                volumeName=STRING, storageClassName=STRING, volumeMode=enum("v1.PersistentVolumeMode"),
                dataSource=TYPED_LOCAL_OBJECT_REFERENCE,
                dataSourceRef=struct("v1.TypedObjectReference", apiGroup=STRING, kind=STRING, name=STRING,
                                     namespace=STRING),
                volumeAttributesClassName=STRING),
    status=struct("v1.PersistentVolumeClaimStatus", phase=enum("v1.PersistentVolumeClaimPhase"),
                  accessModes=Slice(enum("v1.PersistentVolumeAccessMode")), capacity=RESOURCE_LIST,
                  conditions=Slice(struct("v1.PersistentVolumeClaimCondition",
                                          type=enum("v1.PersistentVolumeClaimConditionType"),
                                          status=enum("v1.ConditionStatus"), lastProbeTime=TIME,
                                          lastTransitionTime=TIME, reason=STRING, message=STRING)),
                  allocatedResources=RESOURCE_LIST, allocatedResourceStatuses=Map(STRING),
                  currentVolumeAttributesClassName=STRING))

IMMUTABLE_MSG = "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"


def validate_spec(spec: dict) -> list:
    """ValidatePersistentVolumeClaimSpec."""
    errs = validate_access_modes(spec.get("accessModes"), "spec.accessModes", "at least 1 access mode is required")
    errs += v.validate_label_selector(spec.get("selector"), "spec.selector")
    errs += validate_storage_quantity((spec.get("resources") or {}).get("requests"), "spec.resources", "request")
    if spec.get("storageClassName"):
        for msg in v.dns1123_subdomain_errors(spec["storageClassName"]):
            errs.append(v.invalid("spec.storageClassName", spec["storageClassName"], msg))
    if spec.get("volumeMode") not in VOLUME_MODES:
        errs.append(v.not_supported("spec.volumeMode", spec.get("volumeMode"), VOLUME_MODES))
    return errs


def validate(pvc: dict) -> list:
    return v.validate_object_meta(pvc, namespaced=True) + validate_spec(pvc.get("spec") or {})


def validate_update(new: dict, old: dict) -> list:
    """ValidatePersistentVolumeClaimUpdate."""
    errs = validate(new)
    ns, os_ = deep_copy(new.get("spec") or {}), deep_copy(old.get("spec") or {})
    if not os_.get("volumeName") and ns.get("volumeName"):
        os_["volumeName"] = ns["volumeName"]                  # binding an unbound claim
    if os_.get("storageClassName") is None and ns.get("storageClassName") is not None:
        os_["storageClassName"] = ns["storageClassName"]      # the retroactive default class
    for spec in (ns, os_):
        (spec.get("resources") or {}).pop("requests", None)
        spec.pop("volumeAttributesClassName", None)
        if not spec.get("resources"):
            spec.pop("resources", None)
    if ns != os_:
        errs.append(v.forbidden("spec", IMMUTABLE_MSG))
    return errs


class PersistentVolumeClaimStrategy(Strategy):
    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = "v1", "PersistentVolumeClaim"
        obj.setdefault("spec", {}).setdefault("volumeMode", stg.FILESYSTEM)
        obj.setdefault("status", {}).setdefault("phase", stg.PENDING)
        return obj

    def initial_status(self, obj):
        return {"phase": stg.PENDING}

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)

    def validate_status_update(self, new, old):
        return v.validate_object_meta(new, namespaced=True)


# -- printer (printers.go printPersistentVolumeClaim) -------------------------------------------
PVC_COLUMNS = [
    NAME, col("Status"), col("Volume"), col("Capacity"), col("Access Modes"), col("StorageClass"),
    col("VolumeAttributesClass"), AGE, col("VolumeMode", priority=1),
]


def pvc_row(pvc: dict, now: float) -> list[Any]:
    md, spec, status = pvc.get("metadata", {}), pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if md.get("deletionTimestamp") else status.get("phase", "")
    capacity, modes = "", ""
    if spec.get("volumeName"):
        modes = stg.access_modes_string(status.get("accessModes"))
        capacity = str((status.get("capacity") or {}).get("storage", ""))
    return [md.get("name", ""), phase, spec.get("volumeName", ""), capacity, modes, stg.pvc_class(pvc),
            spec.get("volumeAttributesClassName") or "<unset>", since(md.get("creationTimestamp"), now),
            spec.get("volumeMode") or "<unset>"]


RESOURCE = Resource("persistentvolumeclaims", "", "v1", "PersistentVolumeClaim", True,
                    "/registry/persistentvolumeclaims/", ("pvc",), "persistentvolumeclaim", ("status",),
                    PersistentVolumeClaimStrategy(), PERSISTENT_VOLUME_CLAIM, printer=Printer(PVC_COLUMNS, pvc_row))
