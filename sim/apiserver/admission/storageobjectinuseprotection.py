"""The StorageObjectInUseProtection admission plugin (plugin/pkg/admission/storage/
storageobjectinuseprotection): every new PersistentVolumeClaim gets the
kubernetes.io/pvc-protection finalizer and every new PersistentVolume kubernetes.io/pv-protection,
so neither is removed while in use; the pvc-protection and pv-protection controllers
(sim/controllers/pvcprotection.py, pvprotection.py) take the finalizer off once it is not."""
from __future__ import annotations

from sim.api.storage import PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER
from sim.apiserver.admission import CREATE, Attributes

PLUGIN_NAME = "StorageObjectInUseProtection"
FINALIZERS = {"persistentvolumeclaims": PVC_PROTECTION_FINALIZER, "persistentvolumes": PV_PROTECTION_FINALIZER}


class StorageObjectInUseProtection:
    name = PLUGIN_NAME

    def __init__(self, lister_for=None):
        pass

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    def admit(self, a: Attributes) -> None:
        finalizer = FINALIZERS.get(a.resource) if a.group == "" and not a.subresource else None
        if finalizer is None or a.obj is None:
            return
        md = a.obj.setdefault("metadata", {})
        fins = list(md.get("finalizers") or [])
        if finalizer not in fins:
            md["finalizers"] = fins + [finalizer]
