"""The external-attacher sidecar (kubernetes-csi/external-attacher) of the simulated driver:
a VolumeAttachment for this driver is attached (ControllerPublishVolume on the backend, then
status.attached: true) after it gets the attacher's finalizer; one being deleted is detached
(ControllerUnpublishVolume) and its finalizer removed, so the attach-detach controller's delete
completes.  A failed publish is written to status.attachError, which the kubelet reports."""
from __future__ import annotations

from sim.api import storage as stg
from sim.api.meta import deep_copy

ATTACH_SECONDS = 0.5   # how long ControllerPublishVolume takes on the simulated backend
MAX_RETRY_SECONDS = 300.0


class ExternalAttacher:
    def __init__(self, c, driver: str):
        self.c, self.driver = c, driver
        self.api = c.api.client_for("csi-attacher")
        self.finalizer = "external-attacher/" + driver.replace("/", "-")
        self.in_flight: set[str] = set()
        self.failures: dict[str, int] = {}   # attachment name -> failed attaches in a row

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
        name = md["name"]
        if spec.get("attacher") != self.driver or name in self.in_flight:
            return
        fins = list(md.get("finalizers") or [])
        if md.get("deletionTimestamp"):
            if self.finalizer in fins:
                self._detach(va)
            return
        if (va.get("status") or {}).get("attached"):
            self.failures.pop(name, None)
            return
        self.in_flight.add(name)
        node = spec.get("nodeName", "")
        # A failed attach is tried again after the attacher's back-off (1 s doubling to 5 min).
        failures = self.failures.get(name, 0)
        delay = ATTACH_SECONDS if not failures else min(2.0 ** (failures - 1), MAX_RETRY_SECONDS)

        def published() -> None:
            cur = self.attachments.get(None, name)
            if cur is None or cur["metadata"].get("deletionTimestamp"):
                return self._settled(name)
            self.c.action(f"csi-attacher: ControllerPublishVolume {self._handle(cur)} to node {node}")
            error = self.c.backend.publish(self._handle(cur), node)
            if error is not None:
                self.failures[name] = failures + 1
            new = deep_copy(cur)
            cur_fins = list(cur["metadata"].get("finalizers") or [])
            if self.finalizer not in cur_fins:
                new["metadata"]["finalizers"] = cur_fins + [self.finalizer]

            def with_finalizer(resp: dict) -> None:
                if resp["code"] >= 400:
                    return self._settled(name)
                obj = deep_copy(resp["body"])
                obj["status"] = {"attached": True} if error is None else \
                    {"attached": False, "attachError": {"time": self.c.timestamp(), "message": error}}
                self.api.update("volumeattachments", obj, lambda r: self._settled(name),
                                group=stg.STORAGE_GROUP, subresource="status")
            if new == cur:
                with_finalizer({"code": 200, "body": cur})
            else:
                self.api.update("volumeattachments", new, with_finalizer, group=stg.STORAGE_GROUP)
        self.c.call_later(delay, published)

    def _settled(self, name: str) -> None:
        """A write answered (or failed): look at the attachment again, as its watch event may
        have come while this one was in flight."""
        self.in_flight.discard(name)
        cur = self.attachments.get(None, name)
        if cur is not None:
            self.sync(cur)

    def _detach(self, va: dict) -> None:
        md = va["metadata"]
        self.in_flight.add(md["name"])
        node = (va.get("spec") or {}).get("nodeName", "")
        self.c.action(f"csi-attacher: ControllerUnpublishVolume {self._handle(va)} from node {node}")

        def unpublished() -> None:
            cur = self.attachments.get(None, md["name"])
            if cur is None:
                return self._settled(md["name"])
            self.c.backend.unpublish(self._handle(cur), node)
            new = deep_copy(cur)
            new["metadata"]["finalizers"] = [f for f in cur["metadata"].get("finalizers") or []
                                             if f != self.finalizer]
            self.api.update("volumeattachments", new, lambda r: self._settled(md["name"]),
                            group=stg.STORAGE_GROUP)
        self.c.call_later(ATTACH_SECONDS, unpublished)
