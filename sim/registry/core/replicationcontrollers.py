"""ReplicationControllers (pkg/registry/core/replicationcontroller): the ReplicaSet's legacy
ancestor in the core group, still served and still in the documentation.  Its selector is a
plain label map (equality only); status and scale subresources; generation tracked.

Defaulting (SetDefaults_ReplicationController): a missing selector, and missing labels on the
controller itself, are taken from the pod template's labels; replicas defaults to 1.
Validation (ValidateReplicationController) is the ReplicaSet's over the map selector, and the
selector must be non-empty and match the template's labels.

Its DefaultGarbageCollectionPolicy is OrphanDependents ("the default behavior before the
server-side garbage collection was implemented"): a DELETE without a propagationPolicy leaves
its pods behind; kubectl asks for Background itself.
"""
from __future__ import annotations

from typing import Any

from sim.api import validation
from sim.api.defaults import default_replicaset
from sim.api.gotypes import INT32, INT64, STRING, TIME, Slice, enum, fields, struct
from sim.api.meta import deep_copy
from sim.api.schema import OBJECT_META, POD_TEMPLATE_SPEC, STRING_MAP, TYPE_META
from sim.registry.apps.replicasets import REPLICASET_COLUMNS, replicaset_row
from sim.registry.printers import Printer
from sim.registry.resource import COMMON_FIELDS, Resource, ScaleSubresource
from sim.registry.strategy import Strategy

REPLICATION_CONTROLLER = struct(
    "v1.ReplicationController", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.ReplicationControllerSpec", replicas=INT32, minReadySeconds=INT32, selector=STRING_MAP,
                template=POD_TEMPLATE_SPEC),
    status=struct("v1.ReplicationControllerStatus",
                  **fields("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", of=INT32),
                  observedGeneration=INT64,
                  conditions=Slice(struct("v1.ReplicationControllerCondition",
                                          type=enum("v1.ReplicationControllerConditionType"),
                                          status=enum("v1.ConditionStatus"), lastTransitionTime=TIME,
                                          reason=STRING, message=STRING))))


def default_replication_controller(rc: dict) -> dict:
    """SetDefaults_ReplicationController, then the pod template's defaults as a ReplicaSet's."""
    rc = deep_copy(rc)
    spec = rc.setdefault("spec", {}) if isinstance(rc.get("spec"), dict) or "spec" not in rc else rc["spec"]
    if not isinstance(spec, dict):
        return rc  # validation says so
    template = spec.get("template")
    tlabels = ((template or {}).get("metadata") or {}).get("labels") or {} if isinstance(template, dict) else {}
    if tlabels:
        if not spec.get("selector"):
            spec["selector"] = dict(tlabels)
        md = rc.setdefault("metadata", {})
        if not md.get("labels"):
            md["labels"] = dict(tlabels)
    had_min_ready = "minReadySeconds" in spec
    out = default_replicaset(rc)
    out["apiVersion"], out["kind"] = "v1", "ReplicationController"
    if not had_min_ready:
        out["spec"].pop("minReadySeconds", None)  # int32 with omitempty, not defaulted
    out["status"] = rc.get("status") or {"replicas": 0}
    return out


def _as_replicaset(rc: dict) -> dict:
    """The same object with its map selector as a LabelSelector, for the shared validation."""
    rs = dict(rc)
    spec = rc.get("spec")
    if isinstance(spec, dict):
        spec = dict(spec)
        sel = spec.get("selector")
        spec["selector"] = {"matchLabels": sel} if isinstance(sel, dict) and sel else None
        rs["spec"] = spec
    return rs


class ReplicationControllerStrategy(Strategy):
    default_copies = True
    tracks_generation = True

    def default(self, obj, ctx):
        return default_replication_controller(obj)

    def initial_status(self, obj):
        return {"replicas": 0}

    def validate(self, obj):
        errs = validation.validate_replicaset(_as_replicaset(obj))
        if not isinstance((obj.get("spec") or {}).get("template"), dict):
            errs.append(validation.required("spec.template"))
        return errs

    def validate_update(self, new, old):
        # ValidateReplicationControllerUpdate: unlike a ReplicaSet's, the selector may change.
        errs = validation.validate_replicaset(_as_replicaset(new))
        return errs


def replication_controller_row(rc: dict, now: float) -> list[Any]:
    """printReplicationController: a ReplicaSet's row, its selector printed from the map."""
    return replicaset_row(_as_replicaset(rc), now)


RESOURCE = Resource("replicationcontrollers", "", "v1", "ReplicationController", True, "/registry/controllers/",
                    ("rc",), "replicationcontroller", ("status", "scale"), ReplicationControllerStrategy(),
                    REPLICATION_CONTROLLER, categories=("all",), gc_policy="OrphanDependents",
                    selectable_fields=COMMON_FIELDS + ("status.replicas",),
                    printer=Printer(REPLICASET_COLUMNS, replication_controller_row),
                    scale=ScaleSubresource(selector=lambda rc: ",".join(
                        f"{k}={v}" for k, v in sorted(((rc.get("spec") or {}).get("selector") or {}).items()))))
