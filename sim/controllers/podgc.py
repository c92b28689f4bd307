"""The pod garbage collector (pkg/controller/podgc/gc_controller.go), the parts a workload
lesson meets:

- gcOrphaned: a pod bound to a node that no longer exists.  A node missing from the informer
  is quarantined for 40 s, then asked of the API server itself; if it really is gone, each of
  its pods is marked Failed with the DisruptionTarget condition (reason DeletionByPodGC) and
  force-deleted (grace period 0).  This is how a DaemonSet's pod leaves a node removed from
  the cluster, and how a StatefulSet's pod on a deleted node finally lets its identity go.
- gcUnscheduledTerminating: a pod being deleted that was never bound is force-deleted (no
  kubelet will ever finish its deletion).

Every gcCheckPeriod (20 s).  gcTerminated (the 12,500 terminated-pod threshold) and the
out-of-service taint are not modelled.
"""
from __future__ import annotations

from sim.api.podutil import is_deleting, is_terminal

GC_CHECK_PERIOD = 20.0   # gcCheckPeriod
QUARANTINE_TIME = 40.0   # quarantineTime
DISRUPTION_TARGET = "DisruptionTarget"


class PodGCController:
    name = "pod-garbage-collector"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.quarantined: dict[str, float] = {}  # node name -> when its pods may be collected

    def start(self) -> None:
        self.cm.call_later(GC_CHECK_PERIOD, self.gc)

    def gc(self) -> None:
        self.cm.call_later(GC_CHECK_PERIOD, self.gc)
        pods = sorted(self.cm.pods.list(), key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
        self.gc_orphaned(pods)
        self.gc_unscheduled_terminating(pods)

    def gc_orphaned(self, pods: list[dict]) -> None:
        existing = {n["metadata"]["name"] for n in self.cm.nodes.list()}
        now = self.cm.now
        for pod in pods:
            node = pod["spec"].get("nodeName")
            if node and node not in existing and node not in self.quarantined:
                self.quarantined[node] = now + QUARANTINE_TIME
        for node in sorted(self.quarantined):
            if node in existing:
                del self.quarantined[node]  # it came back (or was only late in the cache)
            elif self.quarantined[node] <= now:
                del self.quarantined[node]
                # discoverDeletedNodes: the informer may lag; only the API server's NotFound counts.
                self.api.request({"verb": "get", "resource": "nodes", "name": node},
                                 lambda resp, node=node: self._node_checked(node, resp))

    def _node_checked(self, node: str, resp: dict) -> None:
        if resp["code"] != 404:
            return
        for pod in sorted(self.cm.pods.list(), key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"])):
            if pod["spec"].get("nodeName") == node:
                self.mark_failed_and_delete(pod, "DeletionByPodGC", "PodGC: node no longer exists")

    def gc_unscheduled_terminating(self, pods: list[dict]) -> None:
        for pod in pods:
            if is_deleting(pod) and not pod["spec"].get("nodeName"):
                self.mark_failed_and_delete(pod, None, None)

    def mark_failed_and_delete(self, pod: dict, reason: str | None, message: str | None) -> None:
        """markFailedAndDeletePodWithCondition: a pod not yet terminal is Failed first (with the
        DisruptionTarget condition when a reason is given), then deleted with no grace."""
        md = pod["metadata"]
        self.cm.action(f"pod-garbage-collector force-deleting pod {md['namespace']}/{md['name']}")

        def delete(_resp=None) -> None:
            self.api.delete("pods", md["namespace"], md["name"], grace=0, precondition_uid=md.get("uid"))

        if is_terminal(pod):
            return delete()
        status: dict = {"phase": "Failed"}
        if reason:
            status["conditions"] = [{"type": DISRUPTION_TARGET, "status": "True", "reason": reason,
                                     "message": message, "lastTransitionTime": self.cm.timestamp()}]
        self.api.patch("pods", md["namespace"], md["name"], {"status": status}, delete, subresource="status",
                       patch_type="application/strategic-merge-patch+json")
