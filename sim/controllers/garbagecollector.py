"""The garbage collector (pkg/controller/garbagecollector), for what this cluster owns: pods
whose owning ReplicaSet is gone are deleted (background cascading deletion)."""
from __future__ import annotations

from sim.api.podutil import is_deleting


class GarbageCollector:
    name = "garbage-collector-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)  # each controller its own clientset

    def start(self) -> None:
        self.cm.replicasets.handlers(delete=self._owner_deleted)
        self.cm.pods.handlers(add=self._check_pod)

    def _owner_deleted(self, rs: dict) -> None:
        uid = rs["metadata"]["uid"]
        for pod in self.cm.pods.list():
            if any(r.get("uid") == uid for r in pod["metadata"].get("ownerReferences") or []):
                self._collect(pod, rs)

    def _check_pod(self, pod: dict) -> None:
        # A pod created for an owner that vanished meanwhile is collected too.
        for ref in pod["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "ReplicaSet" and self.cm.replicasets.informer.synced:
                rs = self.cm.replicasets.get(pod["metadata"]["namespace"], ref.get("name"))
                if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
                    self.cm.call_later(1.0, lambda pod=pod, ref=ref: self._recheck(pod, ref))

    def _recheck(self, pod: dict, ref: dict) -> None:
        rs = self.cm.replicasets.get(pod["metadata"]["namespace"], ref.get("name"))
        if rs is None or rs["metadata"]["uid"] != ref.get("uid"):
            cur = self.cm.pods.get(pod["metadata"]["namespace"], pod["metadata"]["name"])
            if cur is not None:
                self._collect(cur, None)

    def _collect(self, pod: dict, owner: dict | None) -> None:
        if is_deleting(pod):
            return
        md = pod["metadata"]
        self.cm.action(f"garbage-collector deleting {md['namespace']}/{md['name']} (owner gone)")
        self.api.delete("pods", md["namespace"], md["name"], precondition_uid=md["uid"])
