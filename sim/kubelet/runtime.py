"""containerd as the kubelet sees it through CRI (k8s.io/cri-api): sandboxes, images, containers.

Operations take realistic virtual time: a pause sandbox ~0.5 s, an image pull 1-4 s the first
time on a node (then it is cached on disk), container create/start tens of milliseconds, a stop
as long as the process takes to exit on SIGTERM (capped by the grace period).  Images survive a
node restart; running containers do not.
"""
from __future__ import annotations

import hashlib
from typing import Any

from sim.component import Component

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_size(image: str) -> int:
    """A stable, plausible image size in bytes (20-120 MB) derived from the name."""
    return 20_000_000 + int(_digest(image)[:8], 16) % 100_000_000


class ContainerRuntime(Component):
    component = "containerd"

    def __init__(self, host: str):
        super().__init__(host)
        self.images: set[str] = {PAUSE_IMAGE}     # on disk: kept across restarts
        self.sandboxes: dict[str, dict] = {}      # pod uid -> {"id", "ip", "containers": {name: id}}
        self.next = 0

    def power_off(self) -> None:
        """The node lost power: every running container and sandbox is gone."""
        self.sandboxes.clear()

    def adopt(self, pod_uid: str, ip: str | None, containers: list[str]) -> None:
        """Restore a running sandbox from persisted pod status (a process restart of Pilothouse,
        not of the node)."""
        self.sandboxes[pod_uid] = {"id": _digest(pod_uid)[:13], "ip": ip,
                                   "containers": {c: _digest(pod_uid + c)[:13] for c in containers}}

    def _id(self) -> str:
        self.next += 1
        return _digest(f"{self.host}-{self.incarnation}-{self.next}-{self.rng.random()}")[:64]

    def on_message(self, src: str, msg: dict[str, Any]) -> None:
        t = msg["type"]
        rid = msg["id"]

        def reply(delay: float, **body) -> None:
            self.call_later(delay, lambda: self.send(src, {"type": "cri.reply", "id": rid, **body}, f"{t[4:]} done"))

        if t == "cri.RunPodSandbox":
            sid = self._id()
            sb = self.sandboxes.setdefault(msg["pod_uid"], {"id": sid, "ip": msg.get("ip"), "containers": {}})
            sb["ip"] = msg.get("ip")
            reply(0.3 + self.rng.random() * 0.4, sandbox_id=sb["id"])
        elif t == "cri.ImageStatus":
            reply(0.001, present=msg["image"] in self.images)
        elif t == "cri.PullImage":
            image = msg["image"]
            # A pull of an image already on disk only checks the registry's digest.
            duration = (1.0 + self.rng.random() * 3.0) if image not in self.images else 0.3 + self.rng.random() * 0.4
            self.images.add(image)
            reply(duration, size=image_size(image), duration=round(duration, 3))
        elif t == "cri.CreateContainer":
            sb = self.sandboxes.get(msg["pod_uid"])
            if sb is None:
                reply(0.001, error="sandbox not found")
                return
            cid = self._id()
            sb["containers"][msg["name"]] = cid
            reply(0.02 + self.rng.random() * 0.03, container_id=cid)
        elif t == "cri.StartContainer":
            reply(0.03 + self.rng.random() * 0.05, ok=True)
        elif t == "cri.StopContainer":
            # Most processes exit on SIGTERM within a second; SIGKILL at the grace period.
            exit_after = 0.1 + self.rng.random() * 0.7
            timeout = msg.get("timeout", 30)
            sb = self.sandboxes.get(msg["pod_uid"])
            if sb:
                sb["containers"].pop(msg["name"], None)
            reply(min(exit_after, max(timeout, 0.0)), exit_code=0 if exit_after <= timeout else 137)
        elif t == "cri.StopPodSandbox":
            self.sandboxes.pop(msg["pod_uid"], None)
            reply(0.05, ok=True)
        elif t == "cri.ListPodSandbox":
            reply(0.001, sandboxes={uid: {"ip": sb["ip"], "containers": sorted(sb["containers"])}
                                    for uid, sb in self.sandboxes.items()})
