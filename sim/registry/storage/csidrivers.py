"""CSIDrivers (pkg/registry/storage/csidriver): storage.k8s.io/v1, cluster-scoped: what a CSI
driver tells Kubernetes about itself (whether volumes must be attached first, ...).
Defaulting (SetDefaults_CSIDriver): attachRequired true, podInfoOnMount false,
storageCapacity false, requiresRepublish false, seLinuxMount false, fsGroupPolicy
ReadWriteOnceWithFSType, volumeLifecycleModes [Persistent]."""
from __future__ import annotations

from typing import Any

from sim.api import storage as stg
from sim.api import validation as v
from sim.api.gotypes import BOOL, INT64, STRING, Slice, enum, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

CSI_DRIVER = struct(
    "v1.CSIDriver", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.CSIDriverSpec", attachRequired=BOOL, podInfoOnMount=BOOL,
                volumeLifecycleModes=Slice(enum("v1.VolumeLifecycleMode")), storageCapacity=BOOL,
                fsGroupPolicy=enum("v1.FSGroupPolicy"),
                tokenRequests=Slice(struct("v1.TokenRequest", audience=STRING, expirationSeconds=INT64)),
                requiresRepublish=BOOL, seLinuxMount=BOOL, nodeAllocatableUpdatePeriodSeconds=INT64))


class CSIDriverStrategy(Strategy):
    tracks_generation = True

    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = f"{stg.STORAGE_GROUP}/v1", "CSIDriver"
        spec = obj.setdefault("spec", {})
        for k, d in (("attachRequired", True), ("podInfoOnMount", False), ("storageCapacity", False),
                     ("requiresRepublish", False), ("seLinuxMount", False),
                     ("fsGroupPolicy", "ReadWriteOnceWithFSType")):
            spec.setdefault(k, d)
        spec.setdefault("volumeLifecycleModes", ["Persistent"])
        return obj

    def validate(self, obj):
        errs = v.validate_object_meta(obj, namespaced=False)
        if (obj.get("spec") or {}).get("attachRequired") is None:
            errs.append(v.required("spec.attachRequired", ""))
        return errs

    def validate_update(self, new, old):
        errs = self.validate(new)
        if (new.get("spec") or {}).get("attachRequired") != (old.get("spec") or {}).get("attachRequired"):
            errs.append(v.invalid("spec.attachRequired", (new.get("spec") or {}).get("attachRequired"),
                                  "field is immutable"))
        return errs


CSIDRIVER_COLUMNS = [NAME, col("AttachRequired", "boolean"), col("PodInfoOnMount", "boolean"),
                     col("StorageCapacity", "boolean"), col("TokenRequests"), col("RequiresRepublish", "boolean"),
                     col("Modes"), AGE]


def csidriver_row(d: dict, now: float) -> list[Any]:
    md, spec = d.get("metadata", {}), d.get("spec") or {}
    tokens = ",".join(t.get("audience", "") for t in spec.get("tokenRequests") or []) or "<unset>"
    return [md.get("name", ""), bool(spec.get("attachRequired", True)), bool(spec.get("podInfoOnMount", False)),
            bool(spec.get("storageCapacity", False)), tokens, bool(spec.get("requiresRepublish", False)),
            ",".join(spec.get("volumeLifecycleModes") or []), since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("csidrivers", stg.STORAGE_GROUP, "v1", "CSIDriver", False, "/registry/csidrivers/", (),
                    "csidriver", (), CSIDriverStrategy(), CSI_DRIVER, printer=Printer(CSIDRIVER_COLUMNS, csidriver_row))
