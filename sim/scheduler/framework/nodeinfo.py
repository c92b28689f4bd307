"""NodeInfo: one node and what the scheduler's cache has placed on it (framework.NodeInfo).

This is the scalar view the reference (per-node) plugin methods read; the NodeTable keeps the
same facts for every node as numpy columns.  The cache updates both on every change.
"""
from __future__ import annotations

from collections import Counter

from sim.scheduler.framework.podinfo import (CPU, EPHEMERAL_STORAGE, MEMORY, PODS, PodInfo,
                                             is_scalar_resource_name, quantity)

DEFAULT_BIND_ALL_HOST_IP = "0.0.0.0"


def allocatable_of(node: dict) -> tuple[dict[str, int], int]:
    """(resources, allowed pod number) from status.allocatable, as Resource.Add keeps them."""
    res: dict[str, int] = {CPU: 0, MEMORY: 0, EPHEMERAL_STORAGE: 0}
    pods = 0
    for name, q in ((node.get("status") or {}).get("allocatable") or {}).items():
        if name == PODS:
            pods = quantity(name, q)
        elif name in (CPU, MEMORY, EPHEMERAL_STORAGE) or is_scalar_resource_name(name):
            res[name] = quantity(name, q)
    return res, pods


def images_of(node: dict) -> dict[str, int]:
    """Every name of every image in status.images -> its size (NodeInfo.ImageStates)."""
    out: dict[str, int] = {}
    for img in (node.get("status") or {}).get("images") or []:
        for n in img.get("names") or []:
            out[n] = int(img.get("sizeBytes") or 0)
    return out


class HostPortInfo:
    """framework.HostPortInfo: ip -> (protocol, port) in use (counted, so removing one of two
    pods that share a port keeps it in use)."""

    __slots__ = ("m",)

    def __init__(self) -> None:
        self.m: dict[str, Counter] = {}

    def add(self, ip: str, protocol: str, port: int) -> None:
        if port <= 0:
            return
        self.m.setdefault(ip or DEFAULT_BIND_ALL_HOST_IP, Counter())[(protocol or "TCP", port)] += 1

    def remove(self, ip: str, protocol: str, port: int) -> None:
        c = self.m.get(ip or DEFAULT_BIND_ALL_HOST_IP)
        pp = (protocol or "TCP", port)
        if c is None or pp not in c:
            return
        c[pp] -= 1
        if c[pp] <= 0:
            del c[pp]
        if not c:
            del self.m[ip or DEFAULT_BIND_ALL_HOST_IP]

    def check_conflict(self, ip: str, protocol: str, port: int) -> bool:
        """HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every address on the port."""
        if port <= 0:
            return False
        ip, pp = ip or DEFAULT_BIND_ALL_HOST_IP, (protocol or "TCP", port)
        if ip == DEFAULT_BIND_ALL_HOST_IP:
            return any(pp in c for c in self.m.values())
        return any(pp in self.m.get(k, ()) for k in (DEFAULT_BIND_ALL_HOST_IP, ip))

    def __len__(self) -> int:
        return sum(len(c) for c in self.m.values())


class NodeInfo:
    __slots__ = ("node", "name", "labels", "taints", "unschedulable", "allocatable", "allowed_pods",
                 "requested", "non0_cpu", "non0_mem", "pods", "used_ports", "images", "row", "generation",
                 "pods_with_affinity", "pods_with_required_anti_affinity")

    def __init__(self, node: dict | None = None):
        self.node: dict | None = None
        self.name = ""
        self.labels: dict = {}
        self.taints: list = []
        self.unschedulable = False
        self.allocatable: dict[str, int] = {CPU: 0, MEMORY: 0, EPHEMERAL_STORAGE: 0}
        self.allowed_pods = 0
        self.requested: dict[str, int] = {CPU: 0, MEMORY: 0, EPHEMERAL_STORAGE: 0}
        self.non0_cpu = 0
        self.non0_mem = 0
        self.pods: dict[tuple[str, str], PodInfo] = {}
        self.used_ports = HostPortInfo()
        self.images: dict[str, int] = {}
        self.row = -1
        self.generation = 0
        self.pods_with_affinity: dict[tuple[str, str], PodInfo] = {}
        self.pods_with_required_anti_affinity: dict[tuple[str, str], PodInfo] = {}
        if node is not None:
            self.set_node(node)

    def set_node(self, node: dict) -> None:
        self.node = node
        self.name = node["metadata"]["name"]
        self.labels = node["metadata"].get("labels") or {}
        spec = node.get("spec") or {}
        self.taints = spec.get("taints") or []
        self.unschedulable = bool(spec.get("unschedulable"))
        self.allocatable, self.allowed_pods = allocatable_of(node)
        self.images = images_of(node)
        self.generation += 1

    def add_pod(self, p: PodInfo) -> None:
        if p.key in self.pods:
            return
        self.pods[p.key] = p
        req = self.requested
        for k, v in p.requests.items():
            if k in (CPU, MEMORY, EPHEMERAL_STORAGE) or is_scalar_resource_name(k):
                req[k] = req.get(k, 0) + v
        self.non0_cpu += p.non0_cpu
        self.non0_mem += p.non0_mem
        for ip, proto, port in p.host_ports:
            self.used_ports.add(ip, proto, port)
        aff = p.affinity
        if aff.get("podAffinity") or aff.get("podAntiAffinity"):
            self.pods_with_affinity[p.key] = p
        if ((aff.get("podAntiAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")):
            self.pods_with_required_anti_affinity[p.key] = p
        self.generation += 1

    def remove_pod(self, key: tuple[str, str]) -> PodInfo | None:
        p = self.pods.pop(key, None)
        if p is None:
            return None
        req = self.requested
        for k, v in p.requests.items():
            if k in req:
                req[k] -= v
        self.non0_cpu -= p.non0_cpu
        self.non0_mem -= p.non0_mem
        for ip, proto, port in p.host_ports:
            self.used_ports.remove(ip, proto, port)
        self.pods_with_affinity.pop(key, None)
        self.pods_with_required_anti_affinity.pop(key, None)
        self.generation += 1
        return p

    def clone(self) -> "NodeInfo":
        """NodeInfo.Snapshot(): a copy whose pod set can change without touching the cache."""
        c = NodeInfo()
        c.node, c.name, c.labels, c.taints = self.node, self.name, self.labels, self.taints
        c.unschedulable, c.allocatable, c.allowed_pods = self.unschedulable, self.allocatable, self.allowed_pods
        c.requested = dict(self.requested)
        c.non0_cpu, c.non0_mem = self.non0_cpu, self.non0_mem
        c.pods = dict(self.pods)
        c.used_ports = HostPortInfo()
        c.used_ports.m = {ip: Counter(cnt) for ip, cnt in self.used_ports.m.items()}
        c.images, c.row, c.generation = self.images, self.row, self.generation
        c.pods_with_affinity = dict(self.pods_with_affinity)
        c.pods_with_required_anti_affinity = dict(self.pods_with_required_anti_affinity)
        return c

    def __repr__(self) -> str:
        return f"NodeInfo({self.name}, pods={len(self.pods)})"
