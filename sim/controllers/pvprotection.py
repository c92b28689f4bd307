"""The PV protection controller (pkg/controller/volume/pvprotection): a volume being deleted
keeps its kubernetes.io/pv-protection finalizer while it is Bound to a claim (isVolumeInUse);
once it is not, the finalizer is removed and the volume goes.  A live volume without the
finalizer gets it."""
from __future__ import annotations

from sim.api import storage as stg
from sim.api.meta import deep_copy
from sim.workqueue import WorkQueue


class PVProtectionController:
    name = "pv-protection-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.volumes = cm.shared_informer("persistentvolumes")
        self.queue = WorkQueue(cm, self.sync)

    def start(self) -> None:
        self.volumes.handlers(add=lambda pv: self.queue.add(pv["metadata"]["name"]),
                              update=lambda o, n: self.queue.add(n["metadata"]["name"]))

    def sync(self, name: str) -> None:
        pv = self.volumes.get(None, name)
        if pv is None:
            return
        fins = list(pv["metadata"].get("finalizers") or [])
        deleting = bool(pv["metadata"].get("deletionTimestamp"))
        if not deleting and stg.PV_PROTECTION_FINALIZER not in fins:
            new = deep_copy(pv)
            new["metadata"]["finalizers"] = fins + [stg.PV_PROTECTION_FINALIZER]
        elif deleting and stg.PV_PROTECTION_FINALIZER in fins and (pv.get("status") or {}).get("phase") != stg.BOUND:
            new = deep_copy(pv)
            new["metadata"]["finalizers"] = [f for f in fins if f != stg.PV_PROTECTION_FINALIZER]
        else:
            return

        def done(resp: dict) -> None:
            if resp["code"] >= 400 and resp["code"] != 404:
                self.queue.add_rate_limited(name)
            else:
                self.queue.forget(name)
        self.api.update("persistentvolumes", new, done)
