"""Nodes: upstream's NodeWrapper (pkg/scheduler/testing/wrappers.go).

    MakeNode().name("worker-1").labels({"kubernetes.io/hostname": "worker-1"})
              .taints([]).allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()

The node starts as {"metadata": {}}; spec and status appear as their fields are set.
"""
from __future__ import annotations

from tests.builders.generic import Builder


class MakeNode(Builder):
    API_VERSION, KIND = "v1", "Node"

    def spec(self, **fields) -> "MakeNode":
        """Creates spec (empty if no fields) and sets the fields as given."""
        self._section("spec").update(fields)
        return self

    def status(self, **fields) -> "MakeNode":
        self._section("status").update(fields)
        return self

    def taints(self, taints: list | None) -> "MakeNode":
        """spec.taints is exactly `taints` ([] for None)."""
        return self.spec(taints=list(taints or []))

    def taint(self, key: str, value: str | None = None, effect: str = "NoSchedule") -> "MakeNode":
        t = {"key": key}
        if value is not None:
            t["value"] = value
        t["effect"] = effect
        self._section("spec").setdefault("taints", []).append(t)
        return self

    def unschedulable(self, unschedulable: bool = True) -> "MakeNode":
        return self.spec(unschedulable=unschedulable)

    def allocatable(self, resources: dict) -> "MakeNode":
        """status.allocatable exactly as given (quantities as strings)."""
        return self.status(allocatable=dict(resources))

    def capacity(self, resources: dict | None = None) -> "MakeNode":
        """Upstream's Capacity(resMap): 32 pods unless told otherwise, as both capacity and
        allocatable."""
        res = {"pods": "32", **(resources or {})}
        return self.status(capacity=dict(res), allocatable=dict(res))

    def images(self, images: dict | list) -> "MakeNode":
        """Upstream's Images(map name -> size), or a list of v1.ContainerImage as given."""
        if isinstance(images, dict):
            images = [{"names": [n], "sizeBytes": size} for n, size in images.items()]
        return self.status(images=list(images))

    def condition(self, type: str, status: str, reason: str | None = None) -> "MakeNode":
        c = {"type": type, "status": status}
        if reason is not None:
            c["reason"] = reason
        self._section("status").setdefault("conditions", []).append(c)
        return self
