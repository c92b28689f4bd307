"""The scheduler's cache (pkg/scheduler/backend/cache): nodes and the pods placed on them, bound
or assumed, as NodeInfo objects and, in step, as rows of the columnar NodeTable.

Assume (AssumePod) counts a pod on its node the moment the scheduling cycle picks the node, so
the next cycle already sees it; the informer's add of the bound pod confirms it; a failed
binding forgets it (ForgetPod).  Node order follows upstream's nodeTree: nodes interleaved
zone by zone, so a cycle that stops after enough feasible nodes samples every zone.
"""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.nodeinfo import NodeInfo
from sim.scheduler.framework.nodetable import NodeTable
from sim.scheduler.framework.podinfo import PodInfo

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")


def zone_key(node: dict) -> str:
    """utilnode.GetZoneKey: "region:\\x00:zone", or "" without either label."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    zone = next((labels[k] for k in ZONE_LABELS if labels.get(k)), "")
    region = next((labels[k] for k in REGION_LABELS if labels.get(k)), "")
    if not zone and not region:
        return ""
    return f"{region}:\x00:{zone}"


def _same_scheduling_facts(a: dict | None, b: dict) -> bool:
    if a is None:
        return False
    am, bm = a.get("metadata") or {}, b.get("metadata") or {}
    asp, bsp = a.get("spec") or {}, b.get("spec") or {}
    ast, bst = a.get("status") or {}, b.get("status") or {}
    return (am.get("labels") == bm.get("labels") and asp.get("taints") == bsp.get("taints")
            and bool(asp.get("unschedulable")) == bool(bsp.get("unschedulable"))
            and ast.get("allocatable") == bst.get("allocatable") and ast.get("images") == bst.get("images"))


def _deleting(p: PodInfo) -> bool:
    return bool((p.pod.get("metadata") or {}).get("deletionTimestamp"))


class NodeTree:
    """nodeTree: zone -> node names in insertion order; list() takes one node of each zone in
    turn until all are listed."""

    def __init__(self) -> None:
        self.tree: dict[str, list[str]] = {}
        self.zones: list[str] = []
        self.num_nodes = 0

    def add(self, name: str, zone: str) -> None:
        names = self.tree.get(zone)
        if names is None:
            self.zones.append(zone)
            names = self.tree[zone] = []
        if name not in names:
            names.append(name)
            self.num_nodes += 1

    def remove(self, name: str, zone: str) -> None:
        names = self.tree.get(zone)
        if names is None or name not in names:
            return
        names.remove(name)
        self.num_nodes -= 1
        if not names:
            del self.tree[zone]
            self.zones.remove(zone)

    def list(self) -> list[str]:
        out: list[str] = []
        lists = [self.tree[z] for z in self.zones]
        i = 0
        while len(out) < self.num_nodes:
            for names in lists:
                if i < len(names):
                    out.append(names[i])
            i += 1
        return out


class SchedulerCache:
    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}     # includes nodes deleted while pods remain on them
        self.table = NodeTable()
        self.tree = NodeTree()
        self._zone: dict[str, str] = {}
        self.pods: dict[tuple[str, str], tuple[PodInfo, str]] = {}   # key -> (pod, node)
        self.assumed: set[tuple[str, str]] = set()
        self._order: np.ndarray | None = None
        self._order_list: list[NodeInfo] | None = None

    # -- snapshot (what plugins see) ---------------------------------------------------
    def num_nodes(self) -> int:
        return len(self.table)

    def image_num_nodes(self, name: str) -> int:
        return self.table.image_num_nodes(name)

    def order(self) -> np.ndarray:
        """Table rows in nodeTree order (rebuilt only after nodes come, go or change zone)."""
        if self._order is None:
            row_of = self.table.row_of
            self._order = np.array([row_of[n] for n in self.tree.list()], dtype=np.int64)
        return self._order

    def node_infos(self) -> list[NodeInfo]:
        """The NodeInfos of all nodes, in nodeTree order (the snapshot's NodeInfos().List())."""
        if self._order_list is None:
            infos = self.table.infos
            self._order_list = [infos[r] for r in self.order().tolist()]
        return self._order_list

    def get(self, name: str) -> NodeInfo | None:
        info = self.nodes.get(name)
        return info if info is not None and info.row >= 0 else None

    def _tree_changed(self) -> None:
        self._order = None
        self._order_list = None

    # -- nodes --------------------------------------------------------------------------
    def add_node(self, node: dict) -> NodeInfo:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is not None and info.row >= 0:
            self.update_node(node)
            return info
        if info is None:
            info = self.nodes[name] = NodeInfo(node)
        else:
            info.set_node(node)
        self.table.add_node(info)
        z = zone_key(node)
        self._zone[name] = z
        self.tree.add(name, z)
        self._tree_changed()
        return info

    def update_node(self, node: dict) -> NodeInfo:
        name = node["metadata"]["name"]
        info = self.nodes.get(name)
        if info is None or info.row < 0:
            return self.add_node(node)
        if _same_scheduling_facts(info.node, node):
            info.node = node    # a heartbeat: nothing the plugins read has changed
            return info
        info.set_node(node)
        self.table.set_node(info.row, info)
        z = zone_key(node)
        if z != self._zone.get(name):
            self.tree.remove(name, self._zone.get(name, ""))
            self.tree.add(name, z)
            self._zone[name] = z
            self._tree_changed()
        return info

    def remove_node(self, name: str) -> None:
        info = self.nodes.get(name)
        if info is None or info.row < 0:
            return
        self.table.remove_node(info.row)
        self.tree.remove(name, self._zone.pop(name, ""))
        self._tree_changed()
        info.node = None
        if not info.pods:
            del self.nodes[name]

    # -- pods ---------------------------------------------------------------------------
    def _place(self, p: PodInfo, node: str) -> None:
        info = self.nodes.get(node)
        if info is None:
            info = self.nodes[node] = NodeInfo()
            info.name = node
        if p.key in info.pods:
            return
        info.add_pod(p)
        if info.row >= 0:
            self.table.add_pod(info.row, p)

    def _unplace(self, key: tuple[str, str], node: str) -> None:
        info = self.nodes.get(node)
        if info is None:
            return
        p = info.remove_pod(key)
        if p is not None and info.row >= 0:
            self.table.remove_pod(info.row, p)
        if info.node is None and not info.pods:
            del self.nodes[node]

    def assume_pod(self, p: PodInfo, node: str) -> None:
        if p.key in self.pods:
            raise ValueError(f"pod {p.full_name} is in the cache, so can't be assumed")
        self.pods[p.key] = (p, node)
        self.assumed.add(p.key)
        self._place(p, node)

    def forget_pod(self, key: tuple[str, str]) -> None:
        if key not in self.assumed:
            return
        p, node = self.pods.pop(key)
        self.assumed.discard(key)
        self._unplace(key, node)

    def is_assumed(self, key: tuple[str, str]) -> bool:
        return key in self.assumed

    def add_pod(self, p: PodInfo) -> None:
        """An assigned pod from the informer (confirms an assumed pod)."""
        cur = self.pods.get(p.key)
        if cur is not None:
            self.assumed.discard(p.key)
            if cur[1] == p.node_name and cur[0].uid == p.uid:
                self._swap(cur[0], p, cur[1])
                return
            self._unplace(p.key, cur[1])
        self.pods[p.key] = (p, p.node_name)
        self._place(p, p.node_name)

    def _swap(self, old: PodInfo, new: PodInfo, node: str) -> None:
        if (old.requests == new.requests and old.host_ports == new.host_ports and old.non0_cpu == new.non0_cpu
                and old.non0_mem == new.non0_mem and old.affinity == new.affinity and old.labels == new.labels
                and _deleting(old) == _deleting(new)):
            info = self.nodes[node]
            info.pods[new.key] = new
            for d in (info.pods_with_affinity, info.pods_with_required_anti_affinity):
                if new.key in d:
                    d[new.key] = new
            self.pods[new.key] = (new, node)
            return
        self._unplace(new.key, node)
        self.pods[new.key] = (new, node)
        self._place(new, node)

    def update_pod(self, p: PodInfo) -> None:
        self.add_pod(p)

    def remove_pod(self, key: tuple[str, str]) -> PodInfo | None:
        cur = self.pods.pop(key, None)
        self.assumed.discard(key)
        if cur is None:
            return None
        self._unplace(key, cur[1])
        return cur[0]

    def pod_node(self, key: tuple[str, str]) -> str | None:
        cur = self.pods.get(key)
        return cur[1] if cur else None
