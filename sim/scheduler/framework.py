"""The scheduling framework's shared types (pkg/scheduler/framework/interface.go, types.go).

A Filter plugin answers per node with a Status (Success, or Unschedulable with reasons); a
Score plugin gives each feasible node 0..100, later multiplied by the plugin's weight.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sim.api.podutil import node_allocatable, pod_requests

MAX_NODE_SCORE = 100


@dataclass
class Status:
    code: str = "Success"  # Success | Unschedulable | UnschedulableAndUnresolvable | Error
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "Success"


SUCCESS = Status()


def unschedulable(plugin: str, *reasons: str, unresolvable: bool = False) -> Status:
    return Status("UnschedulableAndUnresolvable" if unresolvable else "Unschedulable", tuple(reasons), plugin)


@dataclass
class NodeInfo:
    """A node plus what the scheduler's cache says is placed on it (framework.NodeInfo)."""
    node: dict
    alloc_cpu: int = 0
    alloc_mem: int = 0
    alloc_pods: int = 110
    req_cpu: int = 0
    req_mem: int = 0
    nz_cpu: int = 0  # non-zero requests, for scoring
    nz_mem: int = 0
    pods: dict = field(default_factory=dict)  # pod key -> (cpu, mem, nz_cpu, nz_mem)
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.node["metadata"]["name"]

    def set_node(self, node: dict) -> None:
        self.node = node
        self.name = node["metadata"]["name"]
        self.alloc_cpu, self.alloc_mem, self.alloc_pods = node_allocatable(node)

    def add_pod(self, key, pod: dict) -> None:
        if key in self.pods:
            return
        cpu, mem = pod_requests(pod)
        nz_cpu, nz_mem = pod_requests(pod, non_zero=True)
        self.pods[key] = (cpu, mem, nz_cpu, nz_mem)
        self.req_cpu += cpu
        self.req_mem += mem
        self.nz_cpu += nz_cpu
        self.nz_mem += nz_mem

    def remove_pod(self, key) -> None:
        r = self.pods.pop(key, None)
        if r is None:
            return
        self.req_cpu -= r[0]
        self.req_mem -= r[1]
        self.nz_cpu -= r[2]
        self.nz_mem -= r[3]


class CycleState(dict):
    """Data computed once per scheduling cycle and shared by plugins (framework.CycleState)."""

    @classmethod
    def for_pod(cls, pod: dict) -> "CycleState":
        state = cls()
        state["requests"] = pod_requests(pod)
        state["nonzero_requests"] = pod_requests(pod, non_zero=True)
        return state


class Plugin:
    name = "Plugin"

    def filter(self, state: CycleState, pod: dict, node: NodeInfo) -> Status:  # pragma: no cover - interface
        return SUCCESS

    def score(self, state: CycleState, pod: dict, node: NodeInfo) -> int:  # pragma: no cover - interface
        return 0
