"""ReplicaSets (pkg/registry/apps/replicaset): generation tracked, status and scale
subresources, background garbage collection of their pods by default."""
from __future__ import annotations

from typing import Any

from sim.api import validation
from sim.api.defaults import default_replicaset
from sim.api.schema import BY_KIND
from sim.api.selectors import format_label_selector
from sim.registry.printers import AGE, NAME, Printer, col, selector_string, since
from sim.registry.resource import COMMON_FIELDS, Resource, ScaleSubresource
from sim.registry.strategy import Strategy


class ReplicaSetStrategy(Strategy):
    default_copies = True  # its defaulter deep-copies first (sim.api.defaults)
    tracks_generation = True

    def default(self, obj, ctx):
        return default_replicaset(obj)

    def initial_status(self, obj):
        return {"replicas": 0}  # ReplicaSetStatus{}: replicas has no omitempty

    def validate(self, obj):
        return validation.validate_replicaset(obj)

    def validate_update(self, new, old):
        return validation.validate_replicaset_update(new, old)


REPLICASET_COLUMNS = [
    NAME,
    col("Desired", "integer", description="Replicas is the number of desired pods."),
    col("Current", "integer", description="Replicas is the most recently observed number of replicas."),
    col("Ready", "integer", description="The number of ready replicas for this replica set."),
    AGE,
    col("Containers", priority=1, description="Names of each container in the template."),
    col("Images", priority=1, description="Images referenced by each container in the template."),
    col("Selector", priority=1, description="Selector is a label query over pods that should match the replica count."),
]


def replicaset_row(rs: dict, now: float) -> list[Any]:
    md, spec, st = rs.get("metadata", {}), rs.get("spec", {}), rs.get("status", {})
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    return [
        md.get("name", ""),
        int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1),
        int(st.get("replicas", 0)),
        int(st.get("readyReplicas", 0)),
        since(md.get("creationTimestamp"), now),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
        selector_string(spec.get("selector")),
    ]


RESOURCE = Resource("replicasets", "apps", "v1", "ReplicaSet", True, "/registry/replicasets/", ("rs",),
                    "replicaset", ("status", "scale"), ReplicaSetStrategy(), BY_KIND["ReplicaSet"],
                    categories=("all",), selectable_fields=COMMON_FIELDS + ("status.replicas",),
                    printer=Printer(REPLICASET_COLUMNS, replicaset_row),
                    scale=ScaleSubresource(selector=lambda rs: format_label_selector((rs.get("spec") or {}).get("selector") or {})))
