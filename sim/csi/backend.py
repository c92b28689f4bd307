"""The storage backend behind the simulated CSI driver: network disks, each keyed by its volume
handle, holding files.  It stands outside every node, as a cloud's block store or an NFS server
does: a file a container writes to a volume is in the backend, so it is still there when the pod
is deleted and the volume is attached to another node.  The controller plugin creates, deletes,
attaches (ControllerPublishVolume) and detaches disks; the kubelet's node plugin mounts the
disk's files into containers (NodePublishVolume).

Like the nodes' own disks, the backend lives in the engine's memory: it does not survive a
restart of Pilothouse itself (etcd's objects do)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sim.runtime.process import Volume


@dataclass
class Disk:
    handle: str
    capacity: int
    volume: Volume = field(default_factory=Volume)
    attached_to: set = field(default_factory=set)   # nodes it is published to


class StorageBackend:
    def __init__(self) -> None:
        self.disks: dict[str, Disk] = {}

    def create_volume(self, handle: str, capacity: int) -> Disk:
        """CreateVolume is idempotent: the same name answers the disk made before."""
        disk = self.disks.get(handle)
        if disk is None:
            disk = self.disks[handle] = Disk(handle, capacity)
        return disk

    def delete_volume(self, handle: str) -> None:
        self.disks.pop(handle, None)

    def publish(self, handle: str, node: str) -> str | None:
        """ControllerPublishVolume: None, or the error (the disk does not exist)."""
        disk = self.disks.get(handle)
        if disk is None:
            return f"rpc error: code = NotFound desc = volume {handle} not found"
        disk.attached_to.add(node)
        return None

    def unpublish(self, handle: str, node: str) -> None:
        disk = self.disks.get(handle)
        if disk is not None:
            disk.attached_to.discard(node)

    def files(self, handle: str) -> Volume | None:
        """NodePublishVolume's view: the disk's files (None: no such disk)."""
        disk = self.disks.get(handle)
        return disk.volume if disk is not None else None
