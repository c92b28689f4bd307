"""NodeResourcesBalancedAllocation (plugins/noderesources/balanced_allocation.go): favours nodes
whose resource fractions (requested / allocatable, the pod included, capped at 1) are close to
each other: score = (1 - std) * 100 (for two resources std = |f1 - f2| / 2).  Uses the real
requests (not the non-zero defaults), and skips best-effort pods (no requests at all) so they
do not all land on one node (kubernetes#129138)."""
from __future__ import annotations

from sim.scheduler.framework.interface import SKIP_STATUS, PreScorePlugin, ScorePlugin
from sim.scheduler.plugins.resource_allocation import (DEFAULT_RESOURCES, ResourceAllocationScorer,
                                                       balanced_resource, balanced_resource_vec, validate_resources)

PRE_SCORE_STATE_KEY = "PreScoreNodeResourcesBalancedAllocation"


class NodeResourcesBalancedAllocation(PreScorePlugin, ScorePlugin):
    name = "NodeResourcesBalancedAllocation"
    bounded_scores = True

    def __init__(self, args=None, handle=None):
        super().__init__(args, handle)
        args = self.args
        self.scorer = ResourceAllocationScorer(args["resources"], use_requested=True)

    @classmethod
    def default_args(cls, args):
        """SetDefaults_NodeResourcesBalancedAllocationArgs."""
        args = dict(args or {})
        if not args.get("resources"):
            args["resources"] = [dict(r) for r in DEFAULT_RESOURCES]
        else:
            args["resources"] = [dict(r, weight=r.get("weight") or 1) for r in args["resources"]]
        return args

    @classmethod
    def validate_args(cls, args, path):
        return validate_resources((args or {}).get("resources"), f"{path}.resources")

    def pre_score(self, state, pod, nodes):
        requests = self.scorer.pod_requests(pod)
        if self.scorer.is_best_effort(requests):
            return SKIP_STATUS
        state[PRE_SCORE_STATE_KEY] = requests
        return None

    def _requests(self, state, pod):
        r = state.get(PRE_SCORE_STATE_KEY)
        return self.scorer.pod_requests(pod) if r is None else r

    def score(self, state, pod, node_info) -> int:
        requests = self._requests(state, pod)
        if self.scorer.is_best_effort(requests):
            return 0
        requested, allocatable = self.scorer.node_lists(node_info, requests)
        return balanced_resource(requested, allocatable)

    def score_vec(self, state, pod, table, rows):
        import numpy as np
        requests = self._requests(state, pod)
        if self.scorer.is_best_effort(requests):
            return np.zeros(len(rows), np.int64)
        requested, allocatable, all_valid = self.scorer.node_arrays(table, rows, requests)
        return balanced_resource_vec(requested, allocatable, all_valid)
