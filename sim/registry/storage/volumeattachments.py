"""VolumeAttachments (pkg/registry/storage/volumeattachment): storage.k8s.io/v1,
cluster-scoped, a status subresource.  The attach-detach controller creates one per CSI volume
and node (sim/controllers/attachdetach.py); the driver's external-attacher marks it attached
(sim/csi/attacher.py); the kubelet waits for that before it mounts.  The spec is immutable."""
from __future__ import annotations

from typing import Any

from sim.api import storage as stg
from sim.api import validation as v
from sim.api.gotypes import BOOL, STRING, TIME, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, STRING_MAP, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

VOLUME_ERROR = struct("v1.VolumeError", time=TIME, message=STRING)
VOLUME_ATTACHMENT = struct(
    "v1.VolumeAttachment", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.VolumeAttachmentSpec", attacher=STRING, nodeName=STRING,
                source=struct("v1.VolumeAttachmentSource", persistentVolumeName=STRING)),
    status=struct("v1.VolumeAttachmentStatus", attached=BOOL, attachmentMetadata=STRING_MAP,
                  attachError=VOLUME_ERROR, detachError=VOLUME_ERROR))


def validate(va: dict) -> list:
    """ValidateVolumeAttachment (inline volume specs are not simulated)."""
    errs = v.validate_object_meta(va, namespaced=False)
    spec = va.get("spec") or {}
    if not spec.get("attacher"):
        errs.append(v.required("spec.attacher", ""))
    if not spec.get("nodeName"):
        errs.append(v.required("spec.nodeName", ""))
    if not (spec.get("source") or {}).get("persistentVolumeName"):
        errs.append(v.required("spec.source", "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
    return errs


class VolumeAttachmentStrategy(Strategy):
    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = f"{stg.STORAGE_GROUP}/v1", "VolumeAttachment"
        return obj

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        errs = validate(new)
        if new.get("spec") != old.get("spec"):
            errs.append(v.invalid("spec", "", "field is immutable"))
        return errs

    def validate_status_update(self, new, old):
        return v.validate_object_meta(new, namespaced=False)


VA_COLUMNS = [NAME, col("Attacher"), col("PV"), col("Node"), col("Attached"), AGE]


def volumeattachment_row(va: dict, now: float) -> list[Any]:
    md, spec = va.get("metadata", {}), va.get("spec") or {}
    return [md.get("name", ""), spec.get("attacher", ""), (spec.get("source") or {}).get("persistentVolumeName", ""),
            spec.get("nodeName", ""), bool((va.get("status") or {}).get("attached", False)),
            since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("volumeattachments", stg.STORAGE_GROUP, "v1", "VolumeAttachment", False,
                    "/registry/volumeattachments/", (), "volumeattachment", ("status",), VolumeAttachmentStrategy(),
                    VOLUME_ATTACHMENT, printer=Printer(VA_COLUMNS, volumeattachment_row))
