"""Ephemeral containers (`kubectl debug -it web --image=busybox --target=web`): the kubelet
starts each one the pod's spec gained (kuberuntime_manager.go computePodActions,
EphemeralContainersToStart) once, in the running pod's sandbox, and never restarts it; it is
reported in `status.ephemeralContainerStatuses` and counts for neither the pod's phase nor its
readiness.  Its `targetContainerName` names the container whose processes it would see (a
shared process namespace); the simulated container sees its own image's files."""
from __future__ import annotations

from sim.kubelet.podstatus import ContainerRecord, container_status

FIELD = "ephemeralContainers"


def start_added(lifecycle, w: dict) -> None:
    """Start the ephemeral containers the pod gained since the last sync."""
    if w["state"] != "running":
        return
    records = w.setdefault("ephemeral", {})
    for spec in w["pod"]["spec"].get(FIELD) or []:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or spec["name"] in records:
            continue
        rec = records[spec["name"]] = ContainerRecord(spec["name"], spec.get("image", ""))
        lifecycle._start_container(w, spec, rec, field=FIELD)


def statuses(lifecycle, w: dict) -> list[dict]:
    """ephemeralContainerStatuses, in the spec's order (never ready: they have no probes)."""
    records = w.get("ephemeral") or {}
    return [container_status(records[c["name"]], lifecycle.runtime_kind, False)
            for c in w["pod"]["spec"].get(FIELD) or [] if isinstance(c, dict) and c.get("name") in records]
