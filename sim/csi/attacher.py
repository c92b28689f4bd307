"""The external-attacher sidecar (kubernetes-csi/external-attacher) of the simulated driver:
a VolumeAttachment for this driver is attached (ControllerPublishVolume on the backend, then
status.attached: true) after it gets the attacher's finalizer; one being deleted is detached
(ControllerUnpublishVolume) and its finalizer removed, so the attach-detach controller's delete
completes.  A failed publish is written to status.attachError, which the kubelet reports."""
from __future__ import annotations

from sim.api import storage as stg
from sim.api.meta import deep_copy

ATTACH_SECONDS = 0.5   # how long ControllerPublishVolume takes on the simulated backend


class ExternalAttacher:
    def __init__(self, c, driver: str):
        self.c, self.driver = c, driver
        self.api = c.api.client_for("csi-attacher")
        self.finalizer = "external-attacher/" + driver.replace("/", "-")
        self.in_flight: set[str] = set()

    def start(self) -> None:
        self.volumes = self.c.informer("persistentvolumes")
        self.attachments = self.c.informer("volumeattachments", group=stg.STORAGE_GROUP, on_add=self.sync,
                                           on_update=lambda o, n: self.sync(n))
        self.volumes.start()
        self.attachments.start()

    def _handle(self, va: dict) -> str:
        pv = self.volumes.get(None, ((va.get("spec") or {}).get("source") or {}).get("persistentVolumeName", ""))
        src = stg.csi_source(pv) if pv is not None else None
        return (src or {}).get("volumeHandle", "")

    def sync(self, va: dict) -> None:
        md, spec = va["metadata"], va.get("spec") or {}
        if spec.get("attacher") != self.driver or md["name"] in self.in_flight:
            return
        fins = list(md.get("finalizers") or [])
        if md.get("deletionTimestamp"):
            if self.finalizer in fins:
                self._detach(va)
            return
        if (va.get("status") or {}).get("attached"):
            return
        self.in_flight.add(md["name"])
        node = spec.get("nodeName", "")
        self.c.action(f"csi-attacher: ControllerPublishVolume {self._handle(va)} to node {node}")

        def published() -> None:
            error = self.c.backend.publish(self._handle(va), node)
            new = deep_copy(va)
            if self.finalizer not in fins:
                new["metadata"]["finalizers"] = fins + [self.finalizer]

            def with_finalizer(resp: dict) -> None:
                if resp["code"] >= 400:
                    self.in_flight.discard(md["name"])
                    return
                obj = deep_copy(resp["body"])
                obj["status"] = {"attached": True} if error is None else \
                    {"attached": False, "attachError": {"time": self.c.timestamp(), "message": error}}
                self.api.update("volumeattachments", obj, lambda r: self.in_flight.discard(md["name"]),
                                group=stg.STORAGE_GROUP, subresource="status")
            self.api.update("volumeattachments", new, with_finalizer, group=stg.STORAGE_GROUP)
        self.c.call_later(ATTACH_SECONDS, published)

    def _detach(self, va: dict) -> None:
        md = va["metadata"]
        self.in_flight.add(md["name"])
        node = (va.get("spec") or {}).get("nodeName", "")
        self.c.action(f"csi-attacher: ControllerUnpublishVolume {self._handle(va)} from node {node}")

        def unpublished() -> None:
            self.c.backend.unpublish(self._handle(va), node)
            new = deep_copy(va)
            new["metadata"]["finalizers"] = [f for f in md.get("finalizers") or [] if f != self.finalizer]
            self.api.update("volumeattachments", new, lambda r: self.in_flight.discard(md["name"]),
                            group=stg.STORAGE_GROUP)
        self.c.call_later(ATTACH_SECONDS, unpublished)
