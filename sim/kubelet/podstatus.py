"""What the kubelet reports of a pod's containers (pkg/kubelet/kubelet_pods.go:
convertToAPIContainerStatuses, getPhase), from its own record of each container.

A ContainerRecord is the kubelet's view of one container of the spec: waiting (with the reason
the last sync gave: ContainerCreating, ErrImagePull, ImagePullBackOff, CrashLoopBackOff, ...),
running, or terminated (exit code and reason), with the restart count and the last termination.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ContainerRecord:
    name: str
    image: str                       # as the spec names it, until pulled: then normalized
    state: str = "waiting"           # waiting | running | terminated
    reason: str = "ContainerCreating"
    message: str = ""
    exit_code: int | None = None
    signal: int | None = None
    started_at: str | None = None    # API timestamps
    finished_at: str | None = None
    finished_virtual: float | None = None
    container_id: str | None = None  # the runtime's id (no scheme)
    image_id: str = ""
    restart_count: int = 0
    last_terminated: dict | None = None
    ever_ran: bool = False
    busy: bool = False               # a CRI call for it is in flight
    extra: dict = field(default_factory=dict)

    def terminated(self) -> dict:
        out = {"exitCode": self.exit_code if self.exit_code is not None else 0, "reason": self.reason}
        if self.message:
            out["message"] = self.message
        out["startedAt"] = self.started_at
        out["finishedAt"] = self.finished_at
        return out


def container_status(rec: ContainerRecord, runtime: str, ready: bool) -> dict:
    """One containerStatuses entry.  Absent states and fields are named with None: the kubelet
    sends its status as a strategic merge patch merging containers by name, where None deletes
    what the previous status had (a terminated container must lose `running`)."""
    scheme = f"{runtime}://"
    state: dict = {"waiting": None, "running": None, "terminated": None}
    if rec.state == "running":
        state["running"] = {"startedAt": rec.started_at}
    elif rec.state == "terminated":
        term = rec.terminated()
        term["containerID"] = scheme + rec.container_id if rec.container_id else None
        state["terminated"] = term
    else:
        state["waiting"] = {"reason": rec.reason, "message": rec.message or None}
    container_id = None
    if rec.container_id and rec.state != "waiting":
        container_id = scheme + rec.container_id
    elif rec.last_terminated and rec.last_terminated.get("containerID"):
        container_id = rec.last_terminated["containerID"]
    return {"name": rec.name, "state": state,
            "lastState": {"terminated": rec.last_terminated} if rec.last_terminated else {},
            "ready": ready, "restartCount": rec.restart_count, "image": rec.image, "imageID": rec.image_id,
            "started": rec.state == "running" and rec.extra.get("started", True), "containerID": container_id}


def pod_phase(records: list[ContainerRecord], restart_policy: str, init_done: bool = True) -> str:
    """getPhase: Pending while any container waits to run for the first time; Running while one
    runs (or will be restarted); Succeeded / Failed once every container is terminated for good."""
    if not init_done:
        return "Pending"
    running = waiting = stopped = succeeded = 0
    for rec in records:
        if rec.state == "running":
            running += 1
        elif rec.state == "terminated":
            stopped += 1
            if rec.exit_code == 0:
                succeeded += 1
        elif rec.last_terminated is not None:
            stopped += 1
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"
