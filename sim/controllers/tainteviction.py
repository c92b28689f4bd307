"""The taint eviction controller (pkg/controller/tainteviction/taint_eviction.go).

A pod on a node with NoExecute taints is deleted at once if it does not tolerate them all, or
when the shortest matching tolerationSeconds has passed since the taint was added (the default
300 s for not-ready/unreachable, from the DefaultTolerationSeconds admission plugin).  Removing
the taint cancels the pending eviction.
"""
from __future__ import annotations

from sim.api.podutil import is_deleting, tolerates


def _noexecute_taints(node: dict) -> list[dict]:
    """getNoExecuteTaints."""
    return [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]


class TaintEvictionController:
    name = "taint-eviction-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)  # each controller its own clientset
        self.scheduled: dict[tuple[str, str], tuple[float, int]] = {}  # pod key -> (when, handle)
        self.evicting: set[tuple[str, str]] = set()  # deletion requested, not yet observed

    def start(self) -> None:
        self.cm.nodes.handlers(add=self._node_changed, update=self._node_updated)
        self.cm.pods.handlers(add=self._pod_changed, update=lambda o, n: self._pod_changed(n),
                              delete=self._pod_deleted)

    def _noexecute(self, node_name: str) -> list[dict]:
        node = self.cm.nodes.get(None, node_name)
        return _noexecute_taints(node) if node is not None else []

    def _node_updated(self, old: dict, new: dict) -> None:
        """NodeUpdated: only a change of the node's NoExecute taints concerns its pods.  Every
        kubelet's status update (each node every 10 s) is a node update; looking at every pod
        for each of them would cost the cluster's pods times its nodes."""
        if _noexecute_taints(old) != _noexecute_taints(new):
            self._node_changed(new)

    def _node_changed(self, node: dict) -> None:
        name = node["metadata"]["name"]
        for pod in self.cm.pods.list():
            if pod["spec"].get("nodeName") == name:
                self._pod_changed(pod)

    def _pod_deleted(self, pod: dict) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.evicting.discard(key)
        self._cancel(key)

    def _cancel(self, key) -> None:
        entry = self.scheduled.pop(key, None)
        if entry:
            self.cm.cancel_timer(entry[1])

    def _pod_changed(self, pod: dict) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        node = pod["spec"].get("nodeName")
        taints = self._noexecute(node) if node else []
        if is_deleting(pod):
            self.evicting.discard(key)
        if key in self.evicting:
            return
        if not taints or is_deleting(pod):
            self._cancel(key)
            return
        tolerations = pod["spec"].get("tolerations") or []
        deadline = None
        for taint in taints:
            matching = [t for t in tolerations if tolerates(t, taint)]
            if not matching:
                deadline = self.cm.now
                break
            seconds = [t["tolerationSeconds"] for t in matching if t.get("tolerationSeconds") is not None]
            if seconds:
                added = self.cm.parse_time(taint.get("timeAdded")) or self.cm.now
                d = added + max(0, min(seconds))
                deadline = d if deadline is None else min(deadline, d)
        if deadline is None:  # tolerated forever
            self._cancel(key)
            return
        if key in self.scheduled and abs(self.scheduled[key][0] - deadline) < 1e-9:
            return
        self._cancel(key)
        handle = self.cm.call_later(max(0.0, deadline - self.cm.now), lambda: self.evict(key))
        self.scheduled[key] = (deadline, handle)

    def evict(self, key) -> None:
        self.scheduled.pop(key, None)
        pod = self.cm.pods.get(*key)
        if pod is None or is_deleting(pod):
            return
        self.evicting.add(key)
        self.cm.action(f"taint-eviction-controller evicting {key[0]}/{key[1]} from {pod['spec'].get('nodeName')}")
        self.api.event(pod, "TaintManagerEviction", f"Marking for deletion Pod {key[0]}/{key[1]}", self.name)
        cond = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint", "lastTransitionTime": self.cm.timestamp()}
        self.api.patch("pods", key[0], key[1], {"status": {"conditions": [cond]}}, subresource="status",
                       patch_type="application/strategic-merge-patch+json",
                       cb=lambda resp: self.api.delete("pods", key[0], key[1],
                                                       cb=lambda r: self.evicting.discard(key)))
