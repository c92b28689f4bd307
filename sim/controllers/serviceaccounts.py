"""The serviceaccounts controller (pkg/controller/serviceaccount/serviceaccounts_controller.go):
every Active namespace has a `default` ServiceAccount.  A namespace added or updated, or a
ServiceAccount deleted, queues its namespace; syncing it creates what is missing (AlreadyExists
and a namespace being terminated are not failures)."""
from __future__ import annotations

from sim.workqueue import WorkQueue

SERVICE_ACCOUNTS_TO_ENSURE = ("default",)


class ServiceAccountsController:
    name = "serviceaccount-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.serviceaccounts = cm.shared_informer("serviceaccounts")
        self.queue = WorkQueue(cm, self.sync_namespace)

    def start(self) -> None:
        self.serviceaccounts.handlers(delete=lambda sa: self.queue.add(sa["metadata"].get("namespace", "")))
        self.cm.namespaces.handlers(add=lambda ns: self.queue.add(ns["metadata"]["name"]),
                                    update=lambda old, new: self.queue.add(new["metadata"]["name"]))

    def sync_namespace(self, name: str) -> None:
        ns = self.cm.namespaces.get(None, name)
        if ns is None or (ns.get("status") or {}).get("phase", "Active") != "Active" \
                or ns["metadata"].get("deletionTimestamp"):
            return  # nothing is made in a namespace that is not active
        for sa_name in SERVICE_ACCOUNTS_TO_ENSURE:
            if self.serviceaccounts.get(name, sa_name) is not None:
                continue

            def done(resp: dict, sa_name=sa_name) -> None:
                if resp["code"] == 201:
                    self.queue.forget(name)
                    self.cm.action(f"serviceaccount-controller created ServiceAccount {name}/{sa_name}")
                elif resp["code"] not in (409, 403, 404):  # AlreadyExists, terminating, gone
                    self.queue.add_rate_limited(name)

            self.api.create("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                "metadata": {"name": sa_name, "namespace": name}}, done)
