"""Persistent storage's vocabulary, shared by the kinds (sim/registry/core/persistentvolume*.py,
sim/registry/storage/), the controllers (persistentvolume binder, attach-detach, protection),
the CSI driver (sim/csi/), the scheduler's VolumeBinding plugin and the kubelet: annotation and
finalizer names, access modes, and the helpers upstream keeps in
pkg/api/v1/persistentvolume, pkg/apis/core/v1/helper and
pkg/controller/volume/persistentvolume/util.
"""
from __future__ import annotations

import hashlib

from sim.api.quantity import parse_quantity

STORAGE_GROUP = "storage.k8s.io"

# Access modes, in the order GetAccessModesAsString prints them.
RWO, ROX, RWX, RWOP = "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"
ACCESS_MODES = (RWO, ROX, RWX, RWOP)
ACCESS_MODE_SHORT = {RWO: "RWO", ROX: "ROX", RWX: "RWX", RWOP: "RWOP"}

RETAIN, DELETE, RECYCLE = "Retain", "Delete", "Recycle"
RECLAIM_POLICIES = (DELETE, RECYCLE, RETAIN)
FILESYSTEM, BLOCK = "Filesystem", "Block"
IMMEDIATE, WAIT_FOR_FIRST_CONSUMER = "Immediate", "WaitForFirstConsumer"

# PersistentVolume / PersistentVolumeClaim phases.
PENDING, AVAILABLE, BOUND, RELEASED, FAILED, LOST = "Pending", "Available", "Bound", "Released", "Failed", "Lost"

# Finalizers (pkg/volume/util: PVCProtectionFinalizer, PVProtectionFinalizer).
PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"
PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection"

# Annotations (pkg/controller/volume/persistentvolume/util, storage/v1 helpers).
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
ANN_DEFAULT_STORAGE_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_BETA_DEFAULT_STORAGE_CLASS = "storageclass.beta.kubernetes.io/is-default-class"


def access_modes_string(modes) -> str:
    """GetAccessModesAsString: the modes present, short, in a fixed order."""
    modes = modes or []
    return ",".join(ACCESS_MODE_SHORT[m] for m in ACCESS_MODES if m in modes)


def pv_class(pv: dict) -> str:
    """GetPersistentVolumeClass: the beta annotation wins over spec.storageClassName."""
    ann = (pv.get("metadata") or {}).get("annotations") or {}
    if ANN_BETA_STORAGE_CLASS in ann:
        return ann[ANN_BETA_STORAGE_CLASS]
    return (pv.get("spec") or {}).get("storageClassName") or ""


def pvc_class(pvc: dict) -> str:
    """GetPersistentVolumeClaimClass."""
    return pv_class(pvc)


def pvc_class_is_unset(pvc: dict) -> bool:
    """No class asked for at all (nil, not ""): what the DefaultStorageClass plugin fills in."""
    ann = (pvc.get("metadata") or {}).get("annotations") or {}
    return ANN_BETA_STORAGE_CLASS not in ann and (pvc.get("spec") or {}).get("storageClassName") is None


def is_default_class(sc: dict) -> bool:
    """storageutil.IsDefaultAnnotation."""
    ann = (sc.get("metadata") or {}).get("annotations") or {}
    return ann.get(ANN_DEFAULT_STORAGE_CLASS) == "true" or ann.get(ANN_BETA_DEFAULT_STORAGE_CLASS) == "true"


def default_class(classes, is_default=is_default_class) -> dict | None:
    """GetDefaultClass: of several default classes the newest wins (then the name).  The
    DefaultIngressClass plugin's getDefaultClass is the same over IngressClasses (`is_default`:
    what marks a class the default)."""
    defaults = [c for c in classes if is_default(c)]
    if not defaults:
        return None
    return max(defaults, key=lambda c: (c["metadata"].get("creationTimestamp") or "", c["metadata"]["name"]))


def storage_of(resources: dict | None) -> int:
    """The storage quantity in a ResourceList, in bytes (0 when absent or unreadable)."""
    raw = (resources or {}).get("storage")
    try:
        return int(parse_quantity(str(raw))) if raw is not None else 0
    except (ValueError, ArithmeticError):
        return 0


def claim_request(pvc: dict) -> int:
    return storage_of(((pvc.get("spec") or {}).get("resources") or {}).get("requests"))


def pv_capacity(pv: dict) -> int:
    return storage_of((pv.get("spec") or {}).get("capacity"))


def claim_key(pvc: dict) -> str:
    md = pvc["metadata"]
    return f"{md.get('namespace', '')}/{md['name']}"


def claim_ref_key(pv: dict) -> str | None:
    ref = (pv.get("spec") or {}).get("claimRef")
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}" if isinstance(ref, dict) else None


def pod_claim_volumes(pod: dict) -> list[tuple[str, str]]:
    """(volume name, claim name) of a pod's persistentVolumeClaim volumes and of its generic
    ephemeral volumes, whose claim is `<pod name>-<volume name>` (ephemeral.VolumeClaimName)."""
    out = []
    pod_name = (pod.get("metadata") or {}).get("name", "")
    for v in (pod.get("spec") or {}).get("volumes") or []:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            continue
        src = v.get("persistentVolumeClaim")
        if isinstance(src, dict) and isinstance(src.get("claimName"), str) and src["claimName"]:
            out.append((v["name"], src["claimName"]))
        elif isinstance(v.get("ephemeral"), dict):
            out.append((v["name"], f"{pod_name}-{v['name']}"))
    return out


def pod_claim_names(pod: dict) -> list[str]:
    """The PVCs a pod's volumes use."""
    return [claim for _vol, claim in pod_claim_volumes(pod)]


def claims_in(namespace: str, names: list[str], pvcs) -> dict[str, dict | None]:
    """The claims `names` of `namespace` among `pvcs` (a lister's objects): name -> the claim,
    or None when it does not exist."""
    wanted = set(names)
    found = {c["metadata"]["name"]: c for c in pvcs
             if c["metadata"].get("namespace") == namespace and c["metadata"]["name"] in wanted}
    return {name: found.get(name) for name in names}


def pod_uses_claim(pod: dict, namespace: str, name: str) -> bool:
    return (pod.get("metadata") or {}).get("namespace") == namespace and name in pod_claim_names(pod)


def csi_source(pv: dict) -> dict | None:
    src = (pv.get("spec") or {}).get("csi")
    return src if isinstance(src, dict) else None


def attachment_name(volume_handle: str, driver: str, node: str) -> str:
    """The CSI attacher's VolumeAttachment name (pkg/volume/csi/csi_attacher.go
    getAttachmentName): csi-<sha256(volume handle, driver, node)>; the attach-detach controller
    and the kubelet compute the same name, so they agree without asking each other."""
    return "csi-" + hashlib.sha256(f"{volume_handle}{driver}{node}".encode()).hexdigest()
