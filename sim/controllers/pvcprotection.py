"""The PVC protection controller (pkg/controller/volume/pvcprotection): a claim being deleted
keeps its kubernetes.io/pvc-protection finalizer (added at creation by the
StorageObjectInUseProtection admission plugin) while a scheduled pod names it in a
persistentVolumeClaim volume, whatever that pod's phase (podUsesPVC: the kubelet never starts a
pod whose claim is being deleted, so only pods already on a node count).  Once the last such pod
is gone, the finalizer is removed and the claim goes.  A live claim without the finalizer gets
it (addFinalizer)."""
from __future__ import annotations

from sim.api import storage as stg
from sim.api.meta import deep_copy
from sim.workqueue import WorkQueue


class PVCProtectionController:
    name = "pvc-protection-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.claims = cm.shared_informer("persistentvolumeclaims")
        self.queue = WorkQueue(cm, self.sync)

    def start(self) -> None:
        self.claims.handlers(add=self._enqueue, update=lambda o, n: self._enqueue(n))
        self.cm.pods.handlers(add=self._pod_changed, update=lambda o, n: self._pod_changed(n),
                              delete=self._pod_changed)

    def _enqueue(self, pvc: dict) -> None:
        self.queue.add(stg.claim_key(pvc))

    def _pod_changed(self, pod: dict) -> None:
        ns = pod["metadata"].get("namespace", "")
        for name in stg.pod_claim_names(pod):
            self.queue.add(f"{ns}/{name}")

    def in_use(self, namespace: str, name: str) -> bool:
        return any((p.get("spec") or {}).get("nodeName") and stg.pod_uses_claim(p, namespace, name)
                   for p in self.cm.pods.list())

    def sync(self, key: str) -> None:
        ns, _, name = key.partition("/")
        pvc = self.claims.get(ns, name)
        if pvc is None:
            return
        fins = list(pvc["metadata"].get("finalizers") or [])
        deleting = bool(pvc["metadata"].get("deletionTimestamp"))
        if not deleting and stg.PVC_PROTECTION_FINALIZER not in fins:
            new = deep_copy(pvc)
            new["metadata"]["finalizers"] = fins + [stg.PVC_PROTECTION_FINALIZER]
        elif deleting and stg.PVC_PROTECTION_FINALIZER in fins and not self.in_use(ns, name):
            new = deep_copy(pvc)
            new["metadata"]["finalizers"] = [f for f in fins if f != stg.PVC_PROTECTION_FINALIZER]
            self.cm.action(f"pvc-protection-controller: claim {key} is not in use; removing its finalizer")
        else:
            return

        def done(resp: dict) -> None:
            if resp["code"] >= 400 and resp["code"] != 404:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
        self.api.update("persistentvolumeclaims", new, done)
