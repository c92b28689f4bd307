"""The resource quota controller (pkg/controller/resourcequota/resource_quota_controller.go).

For each ResourceQuota it writes status.hard = spec.hard and status.used = what the namespace
uses of each resource named there, counted from its informers (pkg/quota/v1 CalculateUsage:
pods and their compute requests and limits, count/<resource>[.<group>] objects, every resource
at 0 when nothing uses it), with one status update when anything changed.  A quota is synced
when it is created, when its spec.hard changes (or its status.hard is not its spec.hard), when
something it counts is released (the replenishment controller: a pod deleted or finished, an
object deleted), and every --resource-quota-sync-period (5 minutes).  Usage going up is charged
by the ResourceQuota admission plugin as objects are created, not here.
"""
from __future__ import annotations

from sim.api import quota
from sim.api.meta import deep_copy
from sim.workqueue import WorkQueue

RESYNC_PERIOD = 300.0  # --resource-quota-sync-period


class ResourceQuotaController:
    name = "resourcequota-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.queue = WorkQueue(cm, self.reconcile)
        self.quotas = cm.shared_informer("resourcequotas")
        self.counted: set[tuple[str, str]] = set()  # (group, resource) with a replenishment handler

    def start(self) -> None:
        self.quotas.handlers(add=self._enqueue, update=self._quota_updated)
        self.cm.pods.handlers(update=self._pod_updated, delete=self._replenish)
        self.counted.add(("", "pods"))
        self.cm.call_later(RESYNC_PERIOD, self._resync)

    @staticmethod
    def _key(obj: dict) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def _enqueue(self, q: dict) -> None:
        self.queue.add(self._key(q))

    def _quota_updated(self, old: dict, new: dict) -> None:
        """updateQuota: only a change of spec.hard (or a status that does not show it yet)."""
        hard = (new.get("spec") or {}).get("hard") or {}
        if not quota.equals(hard, (old.get("spec") or {}).get("hard") or {}) or \
                not quota.equals(hard, (new.get("status") or {}).get("hard") or {}):
            self._enqueue(new)

    def _resync(self) -> None:
        for q in self.quotas.list():
            self._enqueue(q)
        self.cm.call_later(RESYNC_PERIOD, self._resync)

    def _pod_updated(self, old: dict, new: dict) -> None:
        """The pods replenishment: a pod that became terminal frees its compute."""
        terminal = ("Succeeded", "Failed")
        if (new.get("status") or {}).get("phase") in terminal and (old.get("status") or {}).get("phase") not in terminal:
            self._replenish(new)

    def _replenish(self, obj: dict) -> None:
        ns = obj["metadata"].get("namespace")
        for q in self.quotas.list():
            if q["metadata"]["namespace"] == ns:
                self._enqueue(q)

    def _informer_for(self, group: str, resource: str):
        """The shared informer of a kind counted by count/<resource>[.<group>]; a new one gets a
        replenishment handler."""
        if (group, resource) == ("", "pods"):
            return self.cm.pods
        inf = self.cm.shared_informer(resource, group=group)
        if (group, resource) not in self.counted:
            self.counted.add((group, resource))
            inf.handlers(delete=self._replenish)
        return inf

    # -- sync --------------------------------------------------------------------------------
    def reconcile(self, key) -> None:
        q = self.quotas.get(*key)
        if q is None:
            return
        ns = key[0]
        hard = dict((q.get("spec") or {}).get("hard") or {})
        used, complete = self.calculate_usage(q, ns, hard)
        if not complete:
            self.queue.add_after(key, 1.0)  # an informer has not listed yet (or its kind is not served)
        previous = (q.get("status") or {})
        merged = quota.mask(dict(previous.get("used") or {}), hard)
        merged.update(used)
        if quota.equals(hard, previous.get("hard") or {}) and set(hard) == set(previous.get("hard") or {}) \
                and quota.equals(merged, previous.get("used") or {}):
            return
        new = deep_copy(q)
        new["status"] = {}
        if hard:
            new["status"]["hard"] = hard
        if merged:
            new["status"]["used"] = merged
        done = self.queue.defer(key)

        def written(resp: dict) -> None:
            done()
            if resp["code"] >= 400:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)

        self.api.update("resourcequotas", new, written, subresource="status")

    def calculate_usage(self, q: dict, ns: str, hard: dict) -> tuple[dict, bool]:
        """quota.CalculateUsage over the informers: {resource: used} for every resource named in
        hard that an evaluator knows, and False when an informer it needs has not synced (its
        resource is left out)."""
        used: dict = {}
        pod_names = quota.pod_matching_resources(hard)
        if pod_names:
            total = {n: "0" for n in pod_names}
            for pod in self.cm.pods.list():
                if pod["metadata"].get("namespace") != ns or not quota.quota_matches_pod(q, pod):
                    continue
                total = quota.add(total, quota.mask(quota.pod_usage(pod, self.cm.now, self.cm.parse_time), pod_names))
            used.update(total)
        if quota.scope_selectors(q):
            return used, True  # object counts match only unscoped quotas
        complete = True
        for name, group, resource in quota.counted_kinds(hard):
            inf = self._informer_for(group, resource)
            if not inf.informer.synced:
                complete = False
                continue
            used[name] = str(sum(1 for o in inf.list() if o["metadata"].get("namespace") == ns))
        return used, complete
