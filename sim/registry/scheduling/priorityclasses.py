"""PriorityClasses (pkg/registry/scheduling/priorityclass): cluster-scoped, short name "pc",
no status; the system ones may not be deleted one by one."""
from __future__ import annotations

from typing import Any

from sim.api import status as st
from sim.api import validation
from sim.api.defaults import default_priority_class
from sim.api.scheduling import GROUP, SYSTEM_PRIORITY_CLASS_NAMES
from sim.api.schema import BY_KIND
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy


class PriorityClassStrategy(Strategy):
    default_copies = True  # its defaulter deep-copies first (sim.api.defaults)
    tracks_generation = True  # PrepareForCreate sets 1; it has no spec to change

    def default(self, obj, ctx):
        return default_priority_class(obj)

    def validate(self, obj):
        return validation.validate_priority_class(obj)

    def validate_update(self, new, old):
        return validation.validate_priority_class_update(new, old)

    def check_delete(self, res, name, req, ctx):
        """priorityclass storage REST.Delete.  Not on deletecollection: the generic store's
        DeleteCollection calls its own Delete, so upstream deletes them too (they come back
        when an apiserver restarts and its post-start hook runs)."""
        if name in SYSTEM_PRIORITY_CLASS_NAMES and not req.get("_collection"):
            return st.status(403, "Forbidden", f'priorityclasses.{res.group} "{name}" is forbidden: '
                                               f"this is a system priority class and cannot be deleted",
                             {"name": name, "group": res.group, "kind": res.name})
        return None


PRIORITYCLASS_COLUMNS = [
    NAME,
    col("Value", "integer", description="value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."),
    col("Global-Default", "boolean", description="globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority."),
    AGE,
    col("PreemptionPolicy", description="preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
]


def priorityclass_row(pc: dict, now: float) -> list[Any]:
    md = pc.get("metadata", {})
    return [md.get("name", ""), int(pc.get("value") or 0), bool(pc.get("globalDefault", False)),
            since(md.get("creationTimestamp"), now), pc.get("preemptionPolicy") or ""]


RESOURCE = Resource("priorityclasses", GROUP, "v1", "PriorityClass", False, "/registry/priorityclasses/", ("pc",),
                    "priorityclass", (), PriorityClassStrategy(), BY_KIND["PriorityClass"],
                    printer=Printer(PRIORITYCLASS_COLUMNS, priorityclass_row))
