"""The namespace controller (pkg/controller/namespace): a Terminating namespace has its
contents deleted, then its `kubernetes` finalizer removed, which lets the API server delete it."""
from __future__ import annotations

from sim.workqueue import WorkQueue

CONTENT = (("pods", ""), ("replicasets", "apps"), ("events", ""), ("leases", "coordination.k8s.io"))


class NamespaceController:
    name = "namespace-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)  # each controller its own clientset
        self.queue = WorkQueue(cm, self.reconcile)

    def start(self) -> None:
        self.cm.namespaces.handlers(add=self._changed, update=lambda o, n: self._changed(n))

    def _changed(self, ns: dict) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self.queue.add(ns["metadata"]["name"])

    def reconcile(self, name: str) -> None:
        ns = self.cm.namespaces.get(None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        remaining = [0]

        def listed(resp: dict, resource: str, group: str) -> None:
            items = resp.get("body", {}).get("items", []) if resp["code"] == 200 else []
            remaining[0] += len(items)
            for obj in items:
                if not obj["metadata"].get("deletionTimestamp"):
                    self.api.delete(resource, name, obj["metadata"]["name"], group=group)
            pending[0] -= 1
            if pending[0] == 0:
                if remaining[0] == 0:
                    finalize()
                else:
                    self.queue.add_after(name, 2.0)

        def finalize() -> None:
            spec = dict(ns.get("spec") or {})
            spec["finalizers"] = []
            self.api.update("namespaces", dict(ns, spec=spec), lambda r: self.api.delete("namespaces", None, name))

        pending = [len(CONTENT)]
        for resource, group in CONTENT:
            self.api.request({"verb": "list", "group": group, "resource": resource, "namespace": name},
                             lambda resp, r=resource, g=group: listed(resp, r, g))
