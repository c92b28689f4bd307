"""The DefaultStorageClass admission plugin (plugin/pkg/admission/storage/storageclass/setdefault):
a new PersistentVolumeClaim that asks for no class at all (storageClassName unset, not "") gets
the default StorageClass's name - the one annotated storageclass.kubernetes.io/is-default-class:
"true", the newest when there are several.  With no default class it stays unset, and the
binder then only binds it to a volume without a class."""
from __future__ import annotations

from sim.api.storage import STORAGE_GROUP, default_class, pvc_class_is_unset
from sim.apiserver.admission import CREATE, Attributes, Lister

PLUGIN_NAME = "DefaultStorageClass"


class DefaultStorageClass:
    name = PLUGIN_NAME

    def __init__(self, lister_for):
        self.classes: Lister = lister_for(f"storageclasses.{STORAGE_GROUP}")

    @staticmethod
    def handles(operation: str) -> bool:
        return operation == CREATE

    def admit(self, a: Attributes) -> None:
        if a.group != "" or a.resource != "persistentvolumeclaims" or a.subresource or a.obj is None:
            return
        if not pvc_class_is_unset(a.obj):
            return
        sc = default_class(self.classes.list())
        if sc is not None:
            a.obj.setdefault("spec", {})["storageClassName"] = sc["metadata"]["name"]
