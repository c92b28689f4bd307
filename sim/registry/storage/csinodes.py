"""CSINodes (pkg/registry/storage/csinode): storage.k8s.io/v1, cluster-scoped, one per node,
named after it: the CSI drivers registered on that node (the kubelet's plugin watcher writes it
when a driver's node plugin registers)."""
from __future__ import annotations

from typing import Any

from sim.api import storage as stg
from sim.api import validation as v
from sim.api.gotypes import INT32, STRING, Slice, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, STRINGS, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

CSI_NODE = struct(
    "v1.CSINode", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.CSINodeSpec", drivers=Slice(struct(
        "v1.CSINodeDriver", name=STRING, nodeID=STRING, topologyKeys=STRINGS,
        allocatable=struct("v1.VolumeNodeResources", count=INT32)))))


class CSINodeStrategy(Strategy):
    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = f"{stg.STORAGE_GROUP}/v1", "CSINode"
        obj.setdefault("spec", {}).setdefault("drivers", [])
        return obj

    def validate(self, obj):
        errs = v.validate_object_meta(obj, namespaced=False)
        for i, d in enumerate((obj.get("spec") or {}).get("drivers") or []):
            if not d.get("name"):
                errs.append(v.required(f"spec.drivers[{i}].name", ""))
            if not d.get("nodeID"):
                errs.append(v.required(f"spec.drivers[{i}].nodeID", ""))
        return errs


CSINODE_COLUMNS = [NAME, col("Drivers", "integer"), AGE]


def csinode_row(n: dict, now: float) -> list[Any]:
    md = n.get("metadata", {})
    return [md.get("name", ""), len((n.get("spec") or {}).get("drivers") or []), since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("csinodes", stg.STORAGE_GROUP, "v1", "CSINode", False, "/registry/csinodes/", (), "csinode", (),
                    CSINodeStrategy(), CSI_NODE, printer=Printer(CSINODE_COLUMNS, csinode_row))
