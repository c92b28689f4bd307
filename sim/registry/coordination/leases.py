"""Leases (pkg/registry/coordination/lease): node heartbeats and leader election."""
from __future__ import annotations

from typing import Any

from sim.api import validation
from sim.api.defaults import default_lease
from sim.api.schema import BY_KIND
from sim.registry.printers import AGE, NAME, Printer, col, since
from sim.registry.resource import Resource
from sim.registry.strategy import Strategy


class LeaseStrategy(Strategy):
    default_copies = True  # its defaulter deep-copies first (sim.api.defaults)

    def default(self, obj, ctx):
        return default_lease(obj)

    def validate(self, obj):
        return validation.validate_lease(obj)


LEASE_COLUMNS = [
    NAME,
    col("Holder", description="The holder of the lease"),
    AGE,
]


def lease_row(lease: dict, now: float) -> list[Any]:
    md = lease.get("metadata", {})
    return [md.get("name", ""), lease.get("spec", {}).get("holderIdentity") or "<none>", since(md.get("creationTimestamp"), now)]


RESOURCE = Resource("leases", "coordination.k8s.io", "v1", "Lease", True, "/registry/leases/", (), "lease", (),
                    LeaseStrategy(), BY_KIND["Lease"], indexed_fields=("metadata.name",),
                    printer=Printer(LEASE_COLUMNS, lease_row))
