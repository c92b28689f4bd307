"""Which objects each controller owns, kept current by the watch cache with every event.

The dashboard's Workloads view draws each Deployment with its ReplicaSets and their pods, each
DaemonSet, StatefulSet and Job with its pods, each CronJob with its Jobs.  Finding an owner's
children by scanning every pod would cost a frame of a 100,000-pod cluster what the pods cost;
instead the watch cache hands every event of every kind to this census, which files the object
under its controller's uid (the ownerReference with `controller: true`, as
metav1.GetControllerOf reads it) - whatever the kinds are, built-in or custom.  An owner's
children are then a dict lookup away, and a pod's "chip state" is counted per owner so an owner
of thousands of pods is drawn as counts.

Cost per event: reading one object's ownerReferences (and, for pods, a few status fields).
Memory: one entry per controlled object.
"""
from __future__ import annotations

from typing import Any

# The states a pod's chip is drawn in (static/js/workloads.js), in a rollout's order.
POD_STATES = ("Pending", "ContainerCreating", "Running", "Ready", "Terminating", "Succeeded", "Failed")


def pod_state(pod: dict) -> str:
    """The chip state of a pod: Terminating (being deleted), Succeeded / Failed (terminal),
    Pending (not bound to a node yet), Ready (Running with its Ready condition True), Running
    (running, not ready: probes, minReadySeconds' wait starts later), ContainerCreating (bound,
    its containers not running yet)."""
    md = pod.get("metadata") or {}
    if md.get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    phase = status.get("phase") if isinstance(status, dict) else None
    if phase in ("Succeeded", "Failed"):
        return phase
    spec = pod.get("spec") or {}
    if not (isinstance(spec, dict) and spec.get("nodeName")):
        return "Pending"
    if phase == "Running":
        for c in status.get("conditions") or ():
            if isinstance(c, dict) and c.get("type") == "Ready":
                return "Ready" if c.get("status") == "True" else "Running"
        return "Running"
    return "ContainerCreating"


def controller_uid(obj: dict) -> str | None:
    """The uid of the object's controller (metav1.GetControllerOf), or None."""
    md = obj.get("metadata") if isinstance(obj, dict) else None
    refs = md.get("ownerReferences") if isinstance(md, dict) else None
    if not refs:
        return None
    for ref in refs:
        if isinstance(ref, dict) and ref.get("controller") is True:
            uid = ref.get("uid")
            return uid if isinstance(uid, str) and uid else None
    return None


class OwnerCensus:
    """Controlled objects by controller uid and resource, each with its state ("" for kinds
    other than pods), and per (owner, resource) the count of each state."""

    def __init__(self) -> None:
        # (gr, key) -> (owner uid, state)
        self.filed: dict[tuple[str, tuple[str, str]], tuple[str, str]] = {}
        # owner uid -> gr -> {key: state}
        self.children: dict[str, dict[str, dict[tuple[str, str], str]]] = {}
        # owner uid -> gr -> {state: n}
        self.counts: dict[str, dict[str, dict[str, int]]] = {}

    def set(self, gr: str, key: tuple[str, str], obj: dict | None) -> None:
        """The object at `key` of kind `gr` is now `obj` (None: deleted)."""
        where = (gr, key)
        old = self.filed.get(where)
        new_uid = controller_uid(obj) if obj is not None else None
        new = (new_uid, pod_state(obj) if gr == "pods" else "") if new_uid is not None else None
        if old == new:
            return
        if old is not None:
            del self.filed[where]
            kids = self.children[old[0]]
            del kids[gr][key]
            counts = self.counts[old[0]][gr]
            counts[old[1]] -= 1
            if not counts[old[1]]:
                del counts[old[1]]
            if not kids[gr]:
                del kids[gr]
                del self.counts[old[0]][gr]
                if not kids:
                    del self.children[old[0]]
                    del self.counts[old[0]]
        if new is not None:
            self.filed[where] = new
            self.children.setdefault(new[0], {}).setdefault(gr, {})[key] = new[1]
            counts = self.counts.setdefault(new[0], {}).setdefault(gr, {})
            counts[new[1]] = counts.get(new[1], 0) + 1

    def owned(self, uid: str | None, gr: str) -> dict[tuple[str, str], str]:
        """{key: state} of the objects of kind `gr` that `uid` controls (read-only)."""
        if not uid:
            return {}
        return (self.children.get(uid) or {}).get(gr) or {}

    def counted(self, uid: str | None, gr: str) -> dict[str, int]:
        """{state: n} of the objects of kind `gr` that `uid` controls (read-only)."""
        if not uid:
            return {}
        return (self.counts.get(uid) or {}).get(gr) or {}

    def forget_kind(self, gr: str) -> None:
        """A kind no longer served (its CRD went): its objects leave the census."""
        for where in [w for w in self.filed if w[0] == gr]:
            self.set(gr, where[1], None)

    def describe(self) -> dict[str, Any]:
        return {"owners": len(self.children), "objects": len(self.filed)}
