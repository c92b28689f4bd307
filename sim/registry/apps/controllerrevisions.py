"""ControllerRevisions (pkg/registry/apps/controllerrevision, pkg/apis/apps/validation):
apps/v1, namespaced, no status, no generation.  An immutable snapshot of a workload's state -
`data`, a runtime.RawExtension (here: any JSON value, in practice the object patch the
DaemonSet and StatefulSet controllers record) - numbered by `revision`.  The DaemonSet and
StatefulSet controllers (sim/controllers/history.py) write them; `kubectl rollout history`
and `rollout undo` of those kinds read them.
"""
from __future__ import annotations

from typing import Any

from sim.api import validation as v
from sim.api.gotypes import ANY, INT64, struct
from sim.api.meta import deep_copy
from sim.api.podutil import controller_ref
from sim.api.schema import OBJECT_META, TYPE_META
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy

GROUP = "apps"

# k8s.io/api/apps/v1/types.go: Data runtime.RawExtension `json:"data,omitempty"`,
# Revision int64 `json:"revision"` (no omitempty: a revision 0 is written).
CONTROLLER_REVISION = struct("v1.ControllerRevision", **TYPE_META, metadata=OBJECT_META, data=ANY, revision=INT64)


def validate(cr: dict) -> list:
    """ValidateControllerRevision: metadata (a DNS subdomain name), data present, revision >= 0."""
    errs = v.validate_object_meta(cr, namespaced=True)
    if cr.get("data") is None:
        errs.append(v.required("data", "data is mandatory"))
    revision = cr.get("revision", 0)
    if isinstance(revision, int) and revision < 0:
        errs.append(v.invalid("revision", revision, v.NON_NEGATIVE_MSG))
    return errs


def validate_update(new: dict, old: dict) -> list:
    """ValidateControllerRevisionUpdate: the data of a revision never changes (its revision
    number, labels and owners may: the controllers renumber a revision they roll back to)."""
    return validate(new) + v.validate_immutable_field(new.get("data"), old.get("data"), "data")


class ControllerRevisionStrategy(Strategy):
    def default(self, obj, ctx):
        obj = deep_copy(obj)
        obj["apiVersion"], obj["kind"] = f"{GROUP}/v1", "ControllerRevision"
        obj.setdefault("revision", 0)
        return obj

    def validate(self, obj):
        return validate(obj)

    def validate_update(self, new, old):
        return validate_update(new, old)


def format_resource_name(api_version: str, kind: str, name: str) -> str:
    """printers.go formatResourceName(gvk.GroupKind(), name, withKind=true): "daemonset.apps/x"
    (GroupKind.String() is "<Kind>.<group>", or the kind alone in the core group)."""
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    if not kind:
        return name
    return (f"{kind}.{group}" if group else kind).lower() + "/" + name


CONTROLLER_REVISION_COLUMNS = [
    NAME,
    col("Controller", description="Controller of the object"),
    col("Revision", description="Revision indicates the revision of the state represented by Data."),
    AGE,
]


def controller_revision_row(cr: dict, now: float) -> list[Any]:
    """printControllerRevision: the controller as "<kind>.<group>/<name>", or "<none>"."""
    md = cr.get("metadata", {})
    ref = controller_ref(cr)
    controller = format_resource_name(ref.get("apiVersion", ""), ref.get("kind", ""), ref.get("name", "")) \
        if ref else "<none>"
    return [md.get("name", ""), controller, int(cr.get("revision") or 0), since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("controllerrevisions", GROUP, "v1", "ControllerRevision", True, "/registry/controllerrevisions/",
                    (), "controllerrevision", (), ControllerRevisionStrategy(), CONTROLLER_REVISION,
                    printer=Printer(CONTROLLER_REVISION_COLUMNS, controller_revision_row))
