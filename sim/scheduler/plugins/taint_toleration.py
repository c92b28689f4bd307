"""TaintToleration (plugins/tainttoleration).

Filter: the first NoSchedule/NoExecute taint of the node that the pod does not tolerate rejects
it: "node(s) had untolerated taint {key: value}" (UnschedulableAndUnresolvable).
Score: the number of PreferNoSchedule taints the pod does not tolerate, normalized and reversed
(DefaultNormalizeScore(100, reverse=true)): fewer such taints, higher score.
"""
from __future__ import annotations

import numpy as np

from sim.api.podutil import tolerates_taint
from sim.scheduler.framework.helper import (default_normalize_score, default_normalize_score_vec,
                                            do_not_schedule_taint, find_matching_untolerated_taint, taint_dict)
from sim.scheduler.framework.interface import (ADD, MAX_NODE_SCORE, NODE, POD, QUEUE, QUEUE_SKIP,
                                               UNSCHEDULABLE_AND_UNRESOLVABLE, UPDATE_NODE_TAINT,
                                               UPDATE_POD_TOLERATION, ClusterEvent, ClusterEventWithHint,
                                               EnqueueExtensions, FilterPlugin, NodeStatusVector, PreScorePlugin,
                                               ScorePlugin, Status)

PRE_SCORE_STATE_KEY = "PreScoreTaintToleration"


def untolerated_reason(key: str, value: str) -> str:
    return f"node(s) had untolerated taint {{{key}: {value}}}"


def prefer_no_schedule_tolerations(tolerations: list) -> list:
    """getAllTolerationPreferNoSchedule: tolerations with effect PreferNoSchedule or none."""
    return [t for t in tolerations if not t.get("effect") or t.get("effect") == "PreferNoSchedule"]


def _first_untolerated(table, untolerated: list[int]) -> np.ndarray:
    """Per row: 1 + the column of the first (in the node's spec.taints order) untolerated
    taint, or 0."""
    pos = table.taint_pos[:table.high]
    if len(untolerated) == 1:
        t = untolerated[0]
        return np.where(pos[:, t] > 0, t + 1, 0).astype(np.int32)
    sub = pos[:, untolerated].astype(np.int32)
    sub[sub == 0] = 1 << 20
    arg = sub.argmin(axis=1)
    first = sub[np.arange(len(sub)), arg]
    return np.where(first < (1 << 20), np.asarray(untolerated, np.int32)[arg] + 1, 0).astype(np.int32)


class TaintToleration(FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    name = "TaintToleration"
    bounded_scores = True
    has_normalize = True

    # -- Filter ---------------------------------------------------------------------------
    def filter(self, state, pod, node_info):
        taint = find_matching_untolerated_taint(node_info.taints, pod.tolerations)
        if taint is None:
            return None
        return Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (untolerated_reason(taint.get("key") or "", taint.get("value") or ""),))

    def filter_vec(self, state, pod, table):
        keys = table.taint_keys
        untolerated = [t for t, k in enumerate(keys)
                       if k[2] in ("NoSchedule", "NoExecute") and not tolerates_taint(pod.tolerations, taint_dict(k))]
        if not untolerated:
            return None
        def build() -> NodeStatusVector:
            def decode(i: int) -> Status:
                key, value, _ = keys[i - 1]
                return Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (untolerated_reason(key, value),))
            return NodeStatusVector(_first_untolerated(table, untolerated), decode)
        return table.derived(("TaintToleration.filter", tuple(untolerated)), build)

    # -- PreScore / Score -------------------------------------------------------------------
    def pre_score(self, state, pod, nodes):
        state[PRE_SCORE_STATE_KEY] = prefer_no_schedule_tolerations(pod.tolerations)
        return None

    def _tolerations(self, state, pod) -> list:
        t = state.get(PRE_SCORE_STATE_KEY)
        return prefer_no_schedule_tolerations(pod.tolerations) if t is None else t

    def score(self, state, pod, node_info) -> int:
        tolerations = self._tolerations(state, pod)
        return sum(1 for t in node_info.taints
                   if t.get("effect") == "PreferNoSchedule" and not tolerates_taint(tolerations, t))

    def score_vec(self, state, pod, table, rows):
        tolerations = self._tolerations(state, pod)
        cols = [t for t, k in enumerate(table.taint_keys)
                if k[2] == "PreferNoSchedule" and not tolerates_taint(tolerations, taint_dict(k))]
        if not cols:
            return np.zeros(len(rows), np.int64)
        counts = table.derived(("TaintToleration.score", tuple(cols)),
                               lambda: (table.taint_pos[:table.high, cols] > 0).sum(axis=1).astype(np.int64))
        return counts[rows]

    def normalize_score(self, state, pod, scores):
        return default_normalize_score(MAX_NODE_SCORE, True, scores)

    def normalize_score_vec(self, state, pod, scores):
        return default_normalize_score_vec(MAX_NODE_SCORE, True, scores)

    # -- Queueing hints -----------------------------------------------------------------------
    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(NODE, ADD | UPDATE_NODE_TAINT), self._after_node_change),
                ClusterEventWithHint(ClusterEvent(POD, UPDATE_POD_TOLERATION), self._after_pod_toleration_change)]

    @staticmethod
    def _after_node_change(pod, old, new) -> str:
        was = old is None or find_matching_untolerated_taint((old.get("spec") or {}).get("taints") or [], pod.tolerations) is not None
        now = find_matching_untolerated_taint((new.get("spec") or {}).get("taints") or [], pod.tolerations) is not None
        return QUEUE if was and not now else QUEUE_SKIP

    @staticmethod
    def _after_pod_toleration_change(pod, old, new) -> str:
        return QUEUE if new is not None and (new.get("metadata") or {}).get("uid") == pod.uid else QUEUE_SKIP


__all__ = ["TaintToleration", "untolerated_reason", "do_not_schedule_taint"]
