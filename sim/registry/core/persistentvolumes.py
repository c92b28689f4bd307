"""PersistentVolumes (pkg/registry/core/persistentvolume, pkg/apis/core/validation
ValidatePersistentVolume): cluster-scoped, short name "pv", a status subresource the
persistentvolume binder (sim/controllers/persistentvolume.py) writes.

Defaulting (SetDefaults_PersistentVolume): phase Pending, persistentVolumeReclaimPolicy Retain,
volumeMode Filesystem.  The volume source (hostPath, local, csi, nfs) is immutable; a status
update that changes the phase stamps lastPhaseTransitionTime, as the strategy does since 1.29.
"""
from __future__ import annotations

from typing import Any

from sim.api import storage as stg
from sim.api import validation as v
from sim.api.gotypes import BOOL, STRING, TIME, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import AFFINITY, OBJECT_META, OBJECT_REFERENCE, RESOURCE_LIST, STRING_MAP, STRINGS, TYPE_META
from sim.api.validation import invalid, not_supported, required
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

_NODE_SELECTOR = AFFINITY.fields["nodeAffinity"].fields["requiredDuringSchedulingIgnoredDuringExecution"]
SECRET_REFERENCE = struct("v1.SecretReference", name=STRING, namespace=STRING)

# k8s.io/api/core/v1/types.go: the volume sources simulated here (others are opaque below).
PV_SOURCES = dict(
    hostPath=struct("v1.HostPathVolumeSource", path=STRING, type=enum("v1.HostPathType")),
    local=struct("v1.LocalVolumeSource", path=STRING, fsType=STRING),
    nfs=struct("v1.NFSVolumeSource", server=STRING, path=STRING, readOnly=BOOL),
    csi=struct("v1.CSIPersistentVolumeSource", driver=STRING, volumeHandle=STRING, readOnly=BOOL, fsType=STRING,
               volumeAttributes=STRING_MAP, controllerPublishSecretRef=SECRET_REFERENCE,
               nodeStageSecretRef=SECRET_REFERENCE, nodePublishSecretRef=SECRET_REFERENCE,
               controllerExpandSecretRef=SECRET_REFERENCE, nodeExpandSecretRef=SECRET_REFERENCE),
)
PERSISTENT_VOLUME = struct(
    "v1.PersistentVolume", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.PersistentVolumeSpec", capacity=RESOURCE_LIST, accessModes=Slice(enum("v1.PersistentVolumeAccessMode")),
                claimRef=OBJECT_REFERENCE, persistentVolumeReclaimPolicy=enum("v1.PersistentVolumeReclaimPolicy"),
                storageClassName=STRING, mountOptions=STRINGS, volumeMode=enum("v1.PersistentVolumeMode"),
                nodeAffinity=struct("v1.VolumeNodeAffinity", required=_NODE_SELECTOR),
                volumeAttributesClassName=STRING, **PV_SOURCES),
    status=struct("v1.PersistentVolumeStatus", phase=enum("v1.PersistentVolumePhase"), message=STRING, reason=STRING,
                  lastPhaseTransitionTime=TIME))

VOLUME_MODES = (stg.BLOCK, stg.FILESYSTEM)
HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket")


def validate_access_modes(modes, field: str, empty_msg: str) -> list:
    if not modes:
        return [required(field, empty_msg)]
    errs = []
    for m in modes:
        if m not in stg.ACCESS_MODES:
            errs.append(not_supported(field, m, stg.ACCESS_MODES))
    if stg.RWOP in modes and len(modes) > 1:
        errs.append(v.forbidden(field, "may not use ReadWriteOncePod with other access modes"))
    return errs


def validate_storage_quantity(resources: dict | None, field: str, what: str) -> list:
    """The storage quantity of a capacity / requests list: present, readable, positive."""
    raw = (resources or {}).get("storage")
    if raw is None:
        return [required(f"{field}[storage]", "")] if what == "request" else [required(field, "")]
    errs = v.validate_quantity(raw, f"{field}[storage]")
    if not errs and stg.storage_of(resources) <= 0:
        errs.append(invalid(f"{field}[storage]", raw, v.NOT_POSITIVE_MSG))
    return errs


def volume_source_names(spec: dict) -> list[str]:
    return [k for k in PV_SOURCES if isinstance(spec.get(k), dict)]


def validate_spec(spec: dict) -> list:
    """ValidatePersistentVolumeSpec."""
    errs = validate_access_modes(spec.get("accessModes"), "spec.accessModes", "")
    capacity = spec.get("capacity")
    if not capacity:
        # Upstream says both: Required, then len(capacity) != 1 with the nil map it printed.
        errs.append(required("spec.capacity", ""))
        errs.append(not_supported("spec.capacity", v.GoSyntax("core.ResourceList(nil)"), ["storage"]))
    else:
        for k in capacity:
            if k != "storage":
                errs.append(not_supported("spec.capacity", k, ["storage"]))
        errs += validate_storage_quantity(capacity, "spec.capacity", "capacity")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy not in stg.RECLAIM_POLICIES:
        errs.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, stg.RECLAIM_POLICIES))
    if spec.get("storageClassName"):
        for msg in v.dns1123_subdomain_errors(spec["storageClassName"]):
            errs.append(invalid("spec.storageClassName", spec["storageClassName"], msg))
    if spec.get("volumeMode") not in VOLUME_MODES:
        errs.append(not_supported("spec.volumeMode", spec.get("volumeMode"), VOLUME_MODES))
    sources = volume_source_names(spec)
    if not sources:
        errs.append(required("spec", "must specify a volume type"))
    elif len(sources) > 1:
        errs.append(v.forbidden(f"spec.{sources[1]}", "may not specify more than 1 volume type"))
    hp = spec.get("hostPath")
    if isinstance(hp, dict):
        if not hp.get("path"):
            errs.append(required("spec.hostPath.path", ""))
        if hp.get("type") not in (None, *HOST_PATH_TYPES):
            errs.append(not_supported("spec.hostPath.type", hp.get("type"), HOST_PATH_TYPES[1:]))
    local = spec.get("local")
    if isinstance(local, dict):
        if not local.get("path"):
            errs.append(required("spec.local.path", ""))
        if not ((spec.get("nodeAffinity") or {}).get("required")):
            errs.append(required("spec.nodeAffinity", "Local volume requires node affinity"))
    csi = spec.get("csi")
    if isinstance(csi, dict):
        if not csi.get("driver"):
            errs.append(required("spec.csi.driver", ""))
        if not csi.get("volumeHandle"):
            errs.append(required("spec.csi.volumeHandle", ""))
    required_aff = (spec.get("nodeAffinity") or {}).get("required")
    if required_aff is not None:
        errs += v.validate_node_selector(required_aff, "spec.nodeAffinity.required")
    return errs


def validate(pv: dict) -> list:
    return v.validate_object_meta(pv, namespaced=False) + validate_spec(pv.get("spec") or {})


def validate_update(new: dict, old: dict) -> list:
    """ValidatePersistentVolumeUpdate: the volume source and volumeMode never change."""
    errs = validate(new)
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    if {k: ns.get(k) for k in PV_SOURCES} != {k: os_.get(k) for k in PV_SOURCES}:
        errs.append(v.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"))
    if ns.get("volumeMode") != os_.get("volumeMode"):
        errs.append(invalid("spec.volumeMode", ns.get("volumeMode"), "field is immutable"))
    return errs


class PersistentVolumeStrategy(Strategy):
    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = "v1", "PersistentVolume"
        spec = obj.setdefault("spec", {})
        spec.setdefault("persistentVolumeReclaimPolicy", stg.RETAIN)
        spec.setdefault("volumeMode", stg.FILESYSTEM)
        status = obj.setdefault("status", {})
        status.setdefault("phase", stg.PENDING)
        return obj

    def prepare_for_create(self, res, obj, ctx):
        """persistentvolumeStrategy.PrepareForCreate: a new volume is Pending since now."""
        obj["status"] = {"phase": stg.PENDING, "lastPhaseTransitionTime": ctx.timestamp()}

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)

    def validate_status_update(self, new, old):
        return v.validate_object_meta(new, namespaced=False)

    def prepare_for_status_update(self, res, candidate, old, ctx):
        """persistentvolumeStatusStrategy.PrepareForUpdate: a phase change stamps the time."""
        new = super().prepare_for_status_update(res, candidate, old, ctx)
        if (new.get("status") or {}).get("phase") != (old.get("status") or {}).get("phase"):
            new["status"]["lastPhaseTransitionTime"] = ctx.timestamp()
        return new


# -- printer (printers.go printPersistentVolume) ----------------------------------------------
PV_COLUMNS = [
    NAME,
    col("Capacity"), col("Access Modes"), col("Reclaim Policy"), col("Status"), col("Claim"),
    col("StorageClass"), col("VolumeAttributesClass"), col("Reason"), AGE,
    col("VolumeMode", priority=1),
]


def pv_row(pv: dict, now: float) -> list[Any]:
    md, spec, status = pv.get("metadata", {}), pv.get("spec") or {}, pv.get("status") or {}
    ref = spec.get("claimRef")
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if isinstance(ref, dict) else ""
    phase = "Terminating" if md.get("deletionTimestamp") else status.get("phase", "")
    return [md.get("name", ""), str((spec.get("capacity") or {}).get("storage", "")),
            stg.access_modes_string(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy", ""),
            phase, claim, stg.pv_class(pv), spec.get("volumeAttributesClassName") or "<unset>",
            status.get("reason", ""), since(md.get("creationTimestamp"), now), spec.get("volumeMode") or "<unset>"]


RESOURCE = Resource("persistentvolumes", "", "v1", "PersistentVolume", False, "/registry/persistentvolumes/",
                    ("pv",), "persistentvolume", ("status",), PersistentVolumeStrategy(), PERSISTENT_VOLUME,
                    selectable_fields=("metadata.name",), printer=Printer(PV_COLUMNS, pv_row))
