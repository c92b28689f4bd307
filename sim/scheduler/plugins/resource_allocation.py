"""resourceAllocationScorer and the scoring strategies (plugins/noderesources:
resource_allocation.go, least_allocated.go, most_allocated.go, requested_to_capacity_ratio.go,
balanced_allocation.go), each scalar (one NodeInfo) and vectorised (many NodeTable rows).

Per configured resource i: allocatable[i] and requested[i] = what the node has requested plus
the pod's request.  Requested counts the non-zero requests for cpu and memory (100m / 200Mi for
a container without) unless `use_requested` (BalancedAllocation); ephemeral-storage and
extended resources count the real requests, and an extended resource the pod does not ask for
is left out (0, 0).  Resources with allocatable 0 are left out of the weighted average.
"""
from __future__ import annotations

import math

import numpy as np

from sim.scheduler.framework.helper import broken_linear, broken_linear_vec
from sim.scheduler.framework.interface import MAX_NODE_SCORE
from sim.scheduler.framework.podinfo import CPU, EPHEMERAL_STORAGE, MEMORY, is_scalar_resource_name

LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO = "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"
SCORING_STRATEGIES = (LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO)
DEFAULT_RESOURCES = [{"name": CPU, "weight": 1}, {"name": MEMORY, "weight": 1}]
MAX_UTILIZATION = 100
MAX_CUSTOM_PRIORITY_SCORE = 10


def validate_resources(resources, path: str) -> list[str]:
    errors = []
    for i, r in enumerate(resources or []):
        w = r.get("weight")
        if isinstance(w, bool) or not isinstance(w, int) or w <= 0 or w > 100:
            errors.append(f"{path}[{i}].weight: Invalid value: {w!r}: resource weight of {r.get('name')} "
                          f"should be in range [1, 100]")
    return errors


class ResourceAllocationScorer:
    def __init__(self, resources: list[dict], use_requested: bool = False):
        self.names = [r["name"] for r in resources]
        self.weights = [int(r.get("weight") or 1) for r in resources]
        self.use_requested = use_requested

    # -- pod side ------------------------------------------------------------------------
    def pod_request(self, pod, name: str) -> int:
        """calculatePodResourceRequest."""
        if not self.use_requested and name == CPU:
            return pod.non0_cpu
        if not self.use_requested and name == MEMORY:
            return pod.non0_mem
        return pod.requests.get(name, 0)

    def pod_requests(self, pod) -> list[int]:
        return [self.pod_request(pod, n) for n in self.names]

    @staticmethod
    def is_best_effort(requests: list[int]) -> bool:
        return all(r == 0 for r in requests)

    # -- node side -------------------------------------------------------------------------
    def alloc_req(self, info, name: str, pod_request: int) -> tuple[int, int]:
        """calculateResourceAllocatableRequest for one NodeInfo."""
        if pod_request == 0 and is_scalar_resource_name(name):
            return 0, 0
        if name == CPU:
            return info.allocatable[CPU], (info.requested[CPU] if self.use_requested else info.non0_cpu) + pod_request
        if name == MEMORY:
            return info.allocatable[MEMORY], (info.requested[MEMORY] if self.use_requested else info.non0_mem) + pod_request
        if name == EPHEMERAL_STORAGE:
            return info.allocatable[EPHEMERAL_STORAGE], info.requested[EPHEMERAL_STORAGE] + pod_request
        if name in info.allocatable:
            return info.allocatable[name], info.requested.get(name, 0) + pod_request
        return 0, 0

    def alloc_req_vec(self, table, rows: np.ndarray, name: str, pod_request: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(rows)
        if pod_request == 0 and is_scalar_resource_name(name):
            return np.zeros(n, np.int64), np.zeros(n, np.int64)
        if name == CPU:
            req = table.requested[CPU][rows] if self.use_requested else table.non0_cpu[rows]
        elif name == MEMORY:
            req = table.requested[MEMORY][rows] if self.use_requested else table.non0_mem[rows]
        elif name in table.alloc:
            req = table.requested[name][rows]
        else:
            return np.zeros(n, np.int64), np.zeros(n, np.int64)
        return table.alloc[name][rows], req + pod_request

    def node_lists(self, info, pod_requests: list[int]) -> tuple[list[int], list[int]]:
        """resourceAllocationScorer.score's requested/allocatable slices (0, 0 when alloc is 0)."""
        requested, allocatable = [0] * len(self.names), [0] * len(self.names)
        for i, name in enumerate(self.names):
            alloc, req = self.alloc_req(info, name, pod_requests[i])
            if alloc == 0:
                continue
            allocatable[i], requested[i] = alloc, req
        return requested, allocatable

    def node_arrays(self, table, rows, pod_requests: list[int]) -> tuple[list[np.ndarray], list[np.ndarray], bool]:
        """(requested, allocatable, every allocatable non-zero) over `rows`."""
        requested, allocatable = [], []
        all_valid = True
        for i, name in enumerate(self.names):
            alloc, req = self.alloc_req_vec(table, rows, name, pod_requests[i])
            if alloc.all():
                requested.append(req)
            else:
                all_valid = False
                requested.append(np.where(alloc == 0, 0, req))
            allocatable.append(alloc)
        return requested, allocatable, all_valid


# -- LeastAllocated ------------------------------------------------------------------------
def least_allocated(weights: list[int], requested: list[int], allocatable: list[int]) -> int:
    node_score = weight_sum = 0
    for w, req, alloc in zip(weights, requested, allocatable):
        if alloc == 0:
            continue
        s = 0 if req > alloc else (alloc - req) * MAX_NODE_SCORE // alloc
        node_score += s * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def _weighted_vec(per_resource, weights, requested, allocatable, all_valid: bool) -> np.ndarray:
    """The weighted mean both strategies take over resources, for every node at once:
    sum(score_r * w_r) // sum(w_r), leaving out a resource where the node's allocatable is 0
    (unless `all_valid` says none is).  `per_resource(req, alloc)` is the strategy's 0..100
    score with alloc > 0."""
    if all_valid and weights:
        node_score = 0
        for w, req, alloc in zip(weights, requested, allocatable):
            node_score = node_score + per_resource(req, alloc) * w
        return node_score // sum(weights)
    n = len(requested[0]) if requested else 0
    node_score = np.zeros(n, np.int64)
    weight_sum = np.zeros(n, np.int64)
    for w, req, alloc in zip(weights, requested, allocatable):
        valid = alloc != 0
        s = per_resource(req, np.where(valid, alloc, 1))
        node_score += np.where(valid, s * w, 0)
        weight_sum += np.where(valid, w, 0)
    return np.where(weight_sum > 0, node_score // np.maximum(weight_sum, 1), 0)


def least_allocated_vec(weights, requested, allocatable, all_valid: bool = False) -> np.ndarray:
    # (alloc - req) * 100 // alloc, 0 when over (a negative floor).
    return _weighted_vec(lambda req, alloc: np.maximum((alloc - req) * MAX_NODE_SCORE // alloc, 0),
                         weights, requested, allocatable, all_valid)


# -- MostAllocated -------------------------------------------------------------------------
def most_allocated(weights, requested, allocatable) -> int:
    node_score = weight_sum = 0
    for w, req, alloc in zip(weights, requested, allocatable):
        if alloc == 0:
            continue
        node_score += min(req, alloc) * MAX_NODE_SCORE // alloc * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def most_allocated_vec(weights, requested, allocatable, all_valid: bool = False) -> np.ndarray:
    return _weighted_vec(lambda req, alloc: np.minimum(req, alloc) * MAX_NODE_SCORE // alloc,
                         weights, requested, allocatable, all_valid)


# -- RequestedToCapacityRatio --------------------------------------------------------------
def scaled_shape(shape: list[dict]) -> list[tuple[int, int]]:
    """Shape points scaled from 0..10 to the scheduler's 0..100 (MaxNodeScore / MaxCustomPriorityScore)."""
    return [(int(p["utilization"]), int(p["score"]) * (MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE)) for p in shape]


def _round_div(a: int, b: int) -> int:
    """int64(math.Round(float64(a) / float64(b))) for a >= 0, b > 0 (exact for these sizes)."""
    return (2 * a + b) // (2 * b)


def requested_to_capacity_ratio(shape, weights, requested, allocatable) -> int:
    node_score = weight_sum = 0
    for w, req, alloc in zip(weights, requested, allocatable):
        if alloc == 0:
            continue
        if req > alloc:
            s = broken_linear(shape, MAX_UTILIZATION)
        else:
            s = broken_linear(shape, req * MAX_UTILIZATION // alloc)
        if s > 0:
            node_score += s * w
            weight_sum += w
    return _round_div(node_score, weight_sum) if weight_sum else 0


def requested_to_capacity_ratio_vec(shape, weights, requested, allocatable, all_valid: bool = False) -> np.ndarray:
    n = len(requested[0]) if requested else 0
    node_score = np.zeros(n, np.int64)
    weight_sum = np.zeros(n, np.int64)
    for w, req, alloc in zip(weights, requested, allocatable):
        valid = alloc != 0
        safe = np.where(valid, alloc, 1)
        util = np.where(req > alloc, MAX_UTILIZATION, req * MAX_UTILIZATION // safe)
        s = broken_linear_vec(shape, util)
        use = valid & (s > 0)
        node_score += np.where(use, s * w, 0)
        weight_sum += np.where(use, w, 0)
    ws = np.maximum(weight_sum, 1)
    return np.where(weight_sum > 0, (2 * node_score + ws) // (2 * ws), 0)


# -- BalancedAllocation --------------------------------------------------------------------
def balanced_resource(requested, allocatable) -> int:
    fractions = []
    total = 0.0
    for req, alloc in zip(requested, allocatable):
        if alloc == 0:
            continue
        f = req / alloc
        if f > 1:
            f = 1.0
        total += f
        fractions.append(f)
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = total / len(fractions)
        s = 0.0
        for f in fractions:
            s = s + (f - mean) * (f - mean)
        std = math.sqrt(s / len(fractions))
    return int((1 - std) * MAX_NODE_SCORE)


def balanced_resource_vec(requested, allocatable, all_valid: bool = False) -> np.ndarray:
    if all_valid and len(requested) == 2:
        # The common case: two resources, both allocatable: std = |f1 - f2| / 2.
        f0 = np.minimum(requested[0] / allocatable[0], 1.0)
        f1 = np.minimum(requested[1] / allocatable[1], 1.0)
        return ((1 - np.abs((f0 - f1) / 2)) * MAX_NODE_SCORE).astype(np.int64)
    n = len(requested[0]) if requested else 0
    count = np.zeros(n, np.int64)
    total = np.zeros(n, np.float64)
    first = np.zeros(n, np.float64)
    second = np.zeros(n, np.float64)
    fracs, valids = [], []
    for req, alloc in zip(requested, allocatable):
        valid = alloc != 0
        f = np.minimum(req / np.where(valid, alloc, 1), 1.0)
        f = np.where(valid, f, 0.0)
        first = np.where(valid & (count == 0), f, first)
        second = np.where(valid & (count == 1), f, second)
        total = total + f
        count = count + valid
        fracs.append(f)
        valids.append(valid)
    std = np.where(count == 2, np.abs((first - second) / 2), 0.0)
    many = count > 2
    if many.any():
        mean = total / np.maximum(count, 1)
        s = np.zeros(n, np.float64)
        for f, valid in zip(fracs, valids):
            s = s + np.where(valid, (f - mean) * (f - mean), 0.0)
        std = np.where(many, np.sqrt(s / np.maximum(count, 1)), std)
    return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)
