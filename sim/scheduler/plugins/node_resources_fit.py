"""NodeResourcesFit (plugins/noderesources/fit.go).

Filter: the node must have room for the pod's requests: allocatable - requested >= request for
cpu, memory, ephemeral-storage and every extended resource the pod asks for, and one more pod
under allocatable.pods.  Reasons, in upstream's order: "Too many pods", "Insufficient cpu",
"Insufficient memory", "Insufficient ephemeral-storage", "Insufficient <resource>"
(Unschedulable: preemption may help).
Score: the scoringStrategy of the plugin args: LeastAllocated (default), MostAllocated or
RequestedToCapacityRatio (a broken-linear shape of utilization), over `resources` with weights.
"""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.interface import (ADD, DELETE, NODE, POD, QUEUE, QUEUE_SKIP, UNSCHEDULABLE,
                                               UPDATE_NODE_ALLOCATABLE, ClusterEvent, ClusterEventWithHint,
                                               EnqueueExtensions, FilterPlugin, NodeStatusVector, PreFilterPlugin,
                                               PreScorePlugin, ScorePlugin, Status)
from sim.scheduler.framework.nodeinfo import NodeInfo
from sim.scheduler.framework.podinfo import (CPU, EPHEMERAL_STORAGE, MEMORY, PodInfo, is_extended_resource_name,
                                             is_scalar_resource_name)
from sim.scheduler.plugins.resource_allocation import (DEFAULT_RESOURCES, LEAST_ALLOCATED, MAX_CUSTOM_PRIORITY_SCORE,
                                                       MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO,
                                                       SCORING_STRATEGIES, ResourceAllocationScorer, least_allocated,
                                                       least_allocated_vec, most_allocated, most_allocated_vec,
                                                       requested_to_capacity_ratio,
                                                       requested_to_capacity_ratio_vec, scaled_shape,
                                                       validate_resources)

PRE_FILTER_STATE_KEY = "PreFilterNodeResourcesFit"
PRE_SCORE_STATE_KEY = "PreScoreNodeResourcesFit"
TOO_MANY_PODS = "Too many pods"


class FitRequest:
    """preFilterState: the pod's requests the filter checks, extended resources in the pod's
    order (Go iterates a map; any fixed order is as good)."""

    __slots__ = ("cpu", "memory", "ephemeral", "scalars", "empty")

    def __init__(self, pod: PodInfo, ignored: set[str], ignored_groups: set[str]):
        r = pod.requests
        self.cpu, self.memory, self.ephemeral = r.get(CPU, 0), r.get(MEMORY, 0), r.get(EPHEMERAL_STORAGE, 0)
        scalars = []
        has_scalars = False
        for name, q in r.items():
            if name in (CPU, MEMORY, EPHEMERAL_STORAGE) or not is_scalar_resource_name(name):
                continue
            has_scalars = True
            if q == 0:
                continue
            if is_extended_resource_name(name) and (name in ignored or name.split("/")[0] in ignored_groups):
                continue
            scalars.append((name, q))
        self.scalars = scalars
        self.empty = self.cpu == 0 and self.memory == 0 and self.ephemeral == 0 and not has_scalars

    def reasons(self) -> list[str]:
        return ["Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage"] + \
            [f"Insufficient {n}" for n, _ in self.scalars]


def fits_request(req: FitRequest, info: NodeInfo) -> list[str]:
    """fitsRequest: the insufficient resources' reasons."""
    out = []
    if len(info.pods) + 1 > info.allowed_pods:
        out.append(TOO_MANY_PODS)
    if req.empty:
        return out
    alloc, used = info.allocatable, info.requested
    if req.cpu > 0 and req.cpu > alloc[CPU] - used[CPU]:
        out.append("Insufficient cpu")
    if req.memory > 0 and req.memory > alloc[MEMORY] - used[MEMORY]:
        out.append("Insufficient memory")
    if req.ephemeral > 0 and req.ephemeral > alloc[EPHEMERAL_STORAGE] - used[EPHEMERAL_STORAGE]:
        out.append("Insufficient ephemeral-storage")
    for name, q in req.scalars:
        if q > alloc.get(name, 0) - used.get(name, 0):
            out.append(f"Insufficient {name}")
    return out


class NodeResourcesFit(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    name = "NodeResourcesFit"
    bounded_scores = True

    def __init__(self, args=None, handle=None):
        super().__init__(args, handle)
        args = self.args
        self.ignored = set(args.get("ignoredResources") or [])
        self.ignored_groups = set(args.get("ignoredResourceGroups") or [])
        strategy = args["scoringStrategy"]
        self.strategy = strategy["type"]
        self.scorer = ResourceAllocationScorer(strategy["resources"])
        if self.strategy == REQUESTED_TO_CAPACITY_RATIO:
            self.shape = scaled_shape(strategy["requestedToCapacityRatio"]["shape"])

    @classmethod
    def default_args(cls, args):
        """SetDefaults_NodeResourcesFitArgs."""
        args = dict(args or {})
        strategy = args.get("scoringStrategy")
        if strategy is None:
            strategy = {"type": LEAST_ALLOCATED, "resources": [dict(r) for r in DEFAULT_RESOURCES]}
        else:
            strategy = dict(strategy)
            if not strategy.get("resources"):
                strategy["resources"] = [dict(r) for r in DEFAULT_RESOURCES]
            strategy["resources"] = [dict(r, weight=r.get("weight") or 1) for r in strategy["resources"]]
        args["scoringStrategy"] = strategy
        return args

    @classmethod
    def validate_args(cls, args, path):
        """ValidateNodeResourcesFitArgs."""
        errors = []
        strategy = (args or {}).get("scoringStrategy") or {}
        t = strategy.get("type")
        if t not in SCORING_STRATEGIES:
            errors.append(f'{path}.scoringStrategy.type: Unsupported value: "{t}": supported values: '
                          + ", ".join(f'"{s}"' for s in SCORING_STRATEGIES))
        errors += validate_resources(strategy.get("resources"), f"{path}.scoringStrategy.resources")
        if t == REQUESTED_TO_CAPACITY_RATIO:
            shape = ((strategy.get("requestedToCapacityRatio") or {}).get("shape")) or []
            spath = f"{path}.scoringStrategy.requestedToCapacityRatio.shape"
            if not shape:
                errors.append(f"{spath}: Required value: at least one point must be specified")
            for i in range(1, len(shape)):
                if shape[i - 1].get("utilization", 0) >= shape[i].get("utilization", 0):
                    errors.append(f"{spath}[{i}].utilization: Invalid value: {shape[i].get('utilization')}: "
                                  "utilization values must be sorted in increasing order")
                    break
            for i, p in enumerate(shape):
                u, s = p.get("utilization"), p.get("score")
                if not isinstance(u, int) or not 0 <= u <= 100:
                    errors.append(f"{spath}[{i}].utilization: Invalid value: {u!r}: not in valid range [0, 100]")
                if not isinstance(s, int) or not 0 <= s <= MAX_CUSTOM_PRIORITY_SCORE:
                    errors.append(f"{spath}[{i}].score: Invalid value: {s!r}: not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]")
        for r in (args or {}).get("ignoredResources") or []:
            if not isinstance(r, str) or not r:
                errors.append(f"{path}.ignoredResources: Invalid value: {r!r}: must be a resource name")
        return errors

    # -- PreFilter / Filter ------------------------------------------------------------------
    def _request(self, state, pod) -> FitRequest:
        req = state.get(PRE_FILTER_STATE_KEY)
        if req is None:
            req = FitRequest(pod, self.ignored, self.ignored_groups)
        return req

    def pre_filter(self, state, pod, nodes):
        state[PRE_FILTER_STATE_KEY] = FitRequest(pod, self.ignored, self.ignored_groups)
        return None, None

    def filter(self, state, pod, node_info):
        reasons = fits_request(self._request(state, pod), node_info)
        if reasons:
            return Status(UNSCHEDULABLE, reasons)
        return None

    def filter_vec(self, state, pod, table):
        req = self._request(state, pod)
        n = table.high
        bits = (table.pods_free[:n] < 1).astype(np.int32)
        if not req.empty:
            free = table.free
            for bit, q, name in ((2, req.cpu, CPU), (4, req.memory, MEMORY), (8, req.ephemeral, EPHEMERAL_STORAGE)):
                if q > 0:
                    bits += (free[name][:n] < q) * np.int32(bit)
            for j, (name, q) in enumerate(req.scalars):
                if name in free:
                    bits += (free[name][:n] < q) * np.int32(16 << j)
                else:
                    bits += np.int32(16 << j)
        if not bits.any():
            return None
        names = req.reasons()

        def decode(b: int) -> Status:
            reasons = [TOO_MANY_PODS] if b & 1 else []
            reasons += [names[k] for k in range(len(names)) if b & (2 << k)]
            return Status(UNSCHEDULABLE, reasons)
        return NodeStatusVector(bits, decode)

    # -- PreScore / Score ----------------------------------------------------------------------
    def pre_score(self, state, pod, nodes):
        state[PRE_SCORE_STATE_KEY] = self.scorer.pod_requests(pod)
        return None

    def _pod_requests(self, state, pod) -> list[int]:
        r = state.get(PRE_SCORE_STATE_KEY)
        return self.scorer.pod_requests(pod) if r is None else r

    def score(self, state, pod, node_info) -> int:
        requested, allocatable = self.scorer.node_lists(node_info, self._pod_requests(state, pod))
        w = self.scorer.weights
        if self.strategy == LEAST_ALLOCATED:
            return least_allocated(w, requested, allocatable)
        if self.strategy == MOST_ALLOCATED:
            return most_allocated(w, requested, allocatable)
        return requested_to_capacity_ratio(self.shape, w, requested, allocatable)

    def score_vec(self, state, pod, table, rows):
        requested, allocatable, all_valid = self.scorer.node_arrays(table, rows, self._pod_requests(state, pod))
        w = self.scorer.weights
        if self.strategy == LEAST_ALLOCATED:
            return least_allocated_vec(w, requested, allocatable, all_valid)
        if self.strategy == MOST_ALLOCATED:
            return most_allocated_vec(w, requested, allocatable, all_valid)
        return requested_to_capacity_ratio_vec(self.shape, w, requested, allocatable, all_valid)

    # -- Queueing hints ------------------------------------------------------------------------
    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(POD, DELETE), self._after_pod_event),
                ClusterEventWithHint(ClusterEvent(NODE, ADD | UPDATE_NODE_ALLOCATABLE), self._after_node_change)]

    @staticmethod
    def _after_pod_event(pod, old, new) -> str:
        """A scheduled pod's deletion may free room; an unscheduled one's cannot."""
        if new is None:
            return QUEUE if old is not None and (old.get("spec") or {}).get("nodeName") else QUEUE_SKIP
        return QUEUE_SKIP

    def _after_node_change(self, pod, old, new) -> str:
        """isSchedulableAfterNodeChange: the pod fits the (empty) node, and on an update some
        resource it asks for (or the pod count) grew."""
        req = FitRequest(pod, self.ignored, self.ignored_groups)
        new_info = NodeInfo(new)
        if fits_request(req, new_info):
            return QUEUE_SKIP
        if old is None:
            return QUEUE
        old_info = NodeInfo(old)
        if new_info.allowed_pods > old_info.allowed_pods:
            return QUEUE
        if req.empty:
            return QUEUE_SKIP
        for name, q in [(CPU, req.cpu), (MEMORY, req.memory), (EPHEMERAL_STORAGE, req.ephemeral)] + req.scalars:
            if q > 0 and new_info.allocatable.get(name, 0) > old_info.allocatable.get(name, 0):
                return QUEUE
        return QUEUE_SKIP
