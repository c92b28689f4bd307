"""Helpers over Pod and Node objects shared by the scheduler, kubelet and controllers
(k8s.io/component-helpers, pkg/api/v1/pod, pkg/scheduler/util)."""
from __future__ import annotations

from sim.api.quantity import milli_value, value

# Scoring treats a container without requests as asking for this much (pkg/scheduler/util/pod_resources.go).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


def pod_requests(pod: dict, non_zero: bool = False) -> tuple[int, int]:
    """(milli-CPU, memory bytes) the pod requests: the sum over containers, at least the max of
    any init container (resourcehelper.PodRequests)."""
    cpu = mem = 0
    spec = pod.get("spec") or {}
    for c in spec.get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        c_cpu = milli_value(req["cpu"]) if "cpu" in req else (DEFAULT_MILLI_CPU_REQUEST if non_zero else 0)
        c_mem = value(req["memory"]) if "memory" in req else (DEFAULT_MEMORY_REQUEST if non_zero else 0)
        cpu += c_cpu
        mem += c_mem
    for c in spec.get("initContainers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu = max(cpu, milli_value(req.get("cpu", 0)))
        mem = max(mem, value(req.get("memory", 0)))
    return cpu, mem


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_deleting(obj: dict) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def condition(obj: dict, ctype: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def is_pod_ready(pod: dict) -> bool:
    c = condition(pod, "Ready")
    return bool(c and c.get("status") == "True")


def is_pod_available(pod: dict, min_ready_seconds: int | float, now: float) -> bool:
    """podutil.IsPodAvailable: ready, and ready for at least minReadySeconds (the Ready
    condition's lastTransitionTime that long ago).  `now` is on the API's clock (seconds as
    parse_timestamp counts them: the component's now plus the kernel's epoch_offset).  Every
    workload controller counts its available replicas with it."""
    c = condition(pod, "Ready")
    if not (c and c.get("status") == "True"):
        return False
    if not min_ready_seconds:
        return True
    from sim.api.meta import parse_timestamp
    since = parse_timestamp(c.get("lastTransitionTime"))
    return since is not None and since + min_ready_seconds <= now


def node_ready_status(node: dict) -> str:
    c = condition(node, "Ready")
    return c.get("status", "Unknown") if c else "Unknown"


def tolerates(toleration: dict, taint: dict) -> bool:
    """v1helper.Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerates_taint(tolerations: list[dict], taint: dict) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def controller_ref(obj: dict) -> dict | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def node_allocatable(node: dict) -> tuple[int, int, int]:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return (milli_value(alloc.get("cpu", "0")), value(alloc.get("memory", "0")), value(alloc.get("pods", "110")))
