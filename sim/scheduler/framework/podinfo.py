"""PodInfo: a pod plus what the scheduler derives from it once (framework.PodInfo).

Requests follow k8s.io/component-helpers/resource.PodRequests: the containers' requests summed,
sidecars (init containers with restartPolicy Always) added, every regular init container taken
as a maximum together with the sidecars started before it, plus spec.overhead.  The scheduler's
"non-zero" requests (PodInfo.CalculateResource, NonMissingContainerRequests) count a container
that asks for no CPU or memory as asking for 100m and 200Mi, so empty pods still spread.
"""
from __future__ import annotations

from typing import Any

from sim.api.quantity import QuantityError, milli_value, value

DEFAULT_MILLI_CPU_REQUEST = 100               # pkg/scheduler/util/pod_resources.go
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
CPU, MEMORY, EPHEMERAL_STORAGE, PODS = "cpu", "memory", "ephemeral-storage", "pods"
HUGEPAGES_PREFIX = "hugepages-"
ATTACHABLE_VOLUMES_PREFIX = "attachable-volumes-"


def is_native_resource(name: str) -> bool:
    """v1helper.IsNativeResource: no domain, or a kubernetes.io/ one."""
    return "/" not in name or "kubernetes.io/" in name


def is_extended_resource_name(name: str) -> bool:
    """v1helper.IsExtendedResourceName: a domain-prefixed name outside kubernetes.io."""
    return not is_native_resource(name) and not name.startswith("requests.")


def is_scalar_resource_name(name: str) -> bool:
    """schedutil.IsScalarResourceName: extended, hugepages-*, attachable-volumes-* or prefixed
    native resources, kept in Resource.ScalarResources."""
    return (is_extended_resource_name(name) or name.startswith(HUGEPAGES_PREFIX)
            or "kubernetes.io/" in name or name.startswith(ATTACHABLE_VOLUMES_PREFIX))


def quantity(name: str, q: Any) -> int:
    """The scheduler's int64 for a quantity: MilliValue() for cpu, Value() otherwise."""
    try:
        return milli_value(q) if name == CPU else value(q)
    except QuantityError:
        return 0


def resource_list(rl: dict | None) -> dict[str, int]:
    return {k: quantity(k, v) for k, v in (rl or {}).items()}


def _add(into: dict[str, int], rl: dict[str, int]) -> None:
    for k, v in rl.items():
        into[k] = into.get(k, 0) + v


def _max(into: dict[str, int], rl: dict[str, int]) -> None:
    for k, v in rl.items():
        if k not in into or v > into[k]:
            into[k] = v


def pod_requests(pod: dict, non_missing: dict[str, int] | None = None) -> dict[str, int]:
    """resourcehelper.PodRequests(pod, {NonMissingContainerRequests: non_missing})."""
    spec = pod.get("spec") or {}

    def container_requests(c: dict) -> dict[str, int]:
        reqs = resource_list((c.get("resources") or {}).get("requests"))
        if non_missing:
            for k, v in non_missing.items():
                reqs.setdefault(k, v)
        return reqs

    reqs: dict[str, int] = {}
    for c in spec.get("containers") or []:
        _add(reqs, container_requests(c))
    restartable: dict[str, int] = {}
    init_max: dict[str, int] = {}
    for c in spec.get("initContainers") or []:
        creqs = container_requests(c)
        if c.get("restartPolicy") == "Always":
            # A sidecar runs beside the containers, and beside every init container after it.
            _add(reqs, creqs)
            _add(restartable, creqs)
            creqs = dict(restartable)
        else:
            tmp = dict(creqs)
            _add(tmp, restartable)
            creqs = tmp
        _max(init_max, creqs)
    _max(reqs, init_max)
    _add(reqs, resource_list(spec.get("overhead")))
    return reqs


class PodInfo:
    """The pod and its scheduling-relevant facts, parsed once per pod version."""

    __slots__ = ("pod", "key", "uid", "namespace", "name", "labels", "priority", "scheduler_name",
                 "requests", "non0_cpu", "non0_mem", "host_ports", "tolerations", "images",
                 "node_name", "nominated_node_name", "affinity", "_extra")

    def __init__(self, pod: dict):
        self.update(pod)

    def update(self, pod: dict) -> None:
        md = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        self.pod = pod
        self.namespace = md.get("namespace") or ""
        self.name = md.get("name") or ""
        self.key = (self.namespace, self.name)
        self.uid = md.get("uid") or ""
        self.labels = md.get("labels") or {}
        self.priority = int(spec.get("priority") or 0)
        self.scheduler_name = spec.get("schedulerName") or "default-scheduler"
        self.node_name = spec.get("nodeName") or ""
        self.nominated_node_name = (pod.get("status") or {}).get("nominatedNodeName") or ""
        self.tolerations = spec.get("tolerations") or []
        self.affinity = spec.get("affinity") or {}
        self.requests = pod_requests(pod)
        non0 = pod_requests(pod, {CPU: DEFAULT_MILLI_CPU_REQUEST, MEMORY: DEFAULT_MEMORY_REQUEST})
        self.non0_cpu = non0.get(CPU, 0)
        self.non0_mem = non0.get(MEMORY, 0)
        ports = []
        # The containers' host ports and the sidecars' (init containers that keep running).
        sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
        for c in sidecars + (spec.get("containers") or []):
            for p in c.get("ports") or []:
                hp = p.get("hostPort") or 0
                if hp > 0:
                    ports.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(hp)))
        self.host_ports = ports
        self.images = [c.get("image") or "" for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]
        self._extra = {}

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    def cached(self, key: str, compute):
        """Per-pod memo for plugins (e.g. parsed affinity terms): computed once per version."""
        v = self._extra.get(key, _MISSING)
        if v is _MISSING:
            v = self._extra[key] = compute()
        return v

    def __repr__(self) -> str:
        return f"PodInfo({self.full_name})"


_MISSING = object()
