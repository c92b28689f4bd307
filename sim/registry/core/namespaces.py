"""Namespaces (pkg/registry/core/namespace): deletion marks one Terminating and leaves the
`kubernetes` finalizer to the namespace controller, which empties it first; the four system
namespaces may not be deleted."""
from __future__ import annotations

from typing import Any

from sim.api import status as st
from sim.api import validation
from sim.api.defaults import default_namespace
from sim.api.meta import deep_copy
from sim.api.schema import BY_KIND
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import COMMON_FIELDS, Resource
from sim.registry.strategy import Strategy

PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class NamespaceStrategy(Strategy):
    default_copies = True  # its defaulter deep-copies first (sim.api.defaults)
    returns_deleted_object = True

    def default(self, obj, ctx):
        return default_namespace(obj)

    def prepare_for_create(self, res, obj, ctx):
        """Active, with the `kubernetes` finalizer (set by defaulting, which also runs on update)."""

    def validate(self, obj):
        return validation.validate_namespace(obj)

    def check_delete(self, res, name, req, ctx):
        # The NamespaceLifecycle admission plugin's immortal namespaces.
        if name in PROTECTED_NAMESPACES:
            return st.forbidden("namespaces", name, "this namespace may not be deleted")
        return None

    def gc_finalizers(self, res, md, orphan_opt, policy):
        return md.get("finalizers")

    def deletes_on_update(self, new):
        """ShouldDeleteNamespaceDuringUpdate: also only once spec.finalizers is empty (a status
        write to a terminating namespace must not delete it)."""
        return not (new.get("spec") or {}).get("finalizers") and super().deletes_on_update(new)

    def delete_action(self, res, cur, fins, grace, ctx):
        """namespace REST.Delete: the first delete sets deletionTimestamp and phase Terminating;
        once the controller has emptied spec.finalizers, a delete removes it."""
        md = cur["metadata"]
        if md.get("deletionTimestamp"):
            if not (cur.get("spec") or {}).get("finalizers"):
                return "delete", cur
            return "noop", cur
        new = deep_copy(cur)
        new["metadata"]["deletionTimestamp"] = ctx.timestamp()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        new["status"] = {"phase": "Terminating"}
        return "update", new


NAMESPACE_COLUMNS = [
    NAME,
    col("Status", description="The status of the namespace"),
    AGE,
]


def namespace_row(ns: dict, now: float) -> list[Any]:
    md = ns.get("metadata", {})
    return [md.get("name", ""), ns.get("status", {}).get("phase", ""), since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("namespaces", "", "v1", "Namespace", False, "/registry/namespaces/", ("ns",), "namespace",
                    ("status",), NamespaceStrategy(), BY_KIND["Namespace"],
                    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
                    selectable_fields=COMMON_FIELDS + ("status.phase",),
                    printer=Printer(NAMESPACE_COLUMNS, namespace_row))
