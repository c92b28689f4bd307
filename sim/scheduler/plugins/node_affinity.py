"""NodeAffinity (plugins/nodeaffinity).

PreFilter: Skip when the pod has no nodeSelector, no required node affinity and the profile
adds none; a required term listing node names (matchFields metadata.name In) narrows the nodes
(PreFilterResult); conflicting name terms reject the pod ("pod affinity terms conflict").
Filter: spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution must match
("node(s) didn't match Pod's node affinity/selector"), and the profile's addedAffinity
("node(s) didn't match scheduler-enforced node affinity").
Score: the sum of the weights of the preferred terms the node matches (plus addedAffinity's),
normalized to 0..100 (DefaultNormalizeScore, not reversed).
"""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.helper import (OBJECT_NAME_FIELD, NodeSelector, PreferredSchedulingTerms,
                                            RequiredNodeAffinity, default_normalize_score,
                                            default_normalize_score_vec, parse_node_selector_term)
from sim.scheduler.framework.interface import (ADD, MAX_NODE_SCORE, NODE, QUEUE, QUEUE_SKIP, SKIP_STATUS,
                                               UNSCHEDULABLE_AND_UNRESOLVABLE, UPDATE_NODE_LABEL, ClusterEvent,
                                               ClusterEventWithHint, EnqueueExtensions, FilterPlugin,
                                               NodeStatusVector, PreFilterPlugin, PreFilterResult, PreScorePlugin,
                                               ScorePlugin, Status)

ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
ERR_REASON_CONFLICT = "pod affinity terms conflict"
PRE_FILTER_STATE_KEY = "PreFilterNodeAffinity"
PRE_SCORE_STATE_KEY = "PreScoreNodeAffinity"
_REJECT_POD = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_POD,))
_REJECT_ENFORCED = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_ENFORCED,))


def _required_affinity(pod) -> RequiredNodeAffinity:
    return pod.cached("nodeaffinity.required", lambda: RequiredNodeAffinity(pod.pod))


def _preferred_terms(pod) -> PreferredSchedulingTerms | None:
    def build():
        terms = ((pod.affinity.get("nodeAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution"))
        return PreferredSchedulingTerms(terms) if terms is not None else None
    return pod.cached("nodeaffinity.preferred", build)


def _decode(i: int) -> Status:
    return _REJECT_POD if i == 1 else _REJECT_ENFORCED


def _affinity_key(pod) -> str:
    """What the required part of node affinity depends on (pods of one template share it)."""
    def build():
        spec = pod.pod.get("spec") or {}
        required = (pod.affinity.get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        return repr((sorted((spec.get("nodeSelector") or {}).items()), spec.get("nodeSelector") is None, required))
    return pod.cached("nodeaffinity.key", build)


class NodeAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    name = "NodeAffinity"
    bounded_scores = True
    has_normalize = True

    def __init__(self, args=None, handle=None):
        super().__init__(args, handle)
        added = (args or {}).get("addedAffinity") or {}
        req = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        self.added_node_selector = NodeSelector(req) if req is not None else None
        pref = added.get("preferredDuringSchedulingIgnoredDuringExecution")
        self.added_pref_terms = PreferredSchedulingTerms(pref) if pref else None

    @classmethod
    def default_args(cls, args):
        return {} if args is None else args

    @classmethod
    def validate_args(cls, args, path):
        errors = []
        added = (args or {}).get("addedAffinity") or {}
        req = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        if req is not None:
            for i, t in enumerate(req.get("nodeSelectorTerms") or []):
                for e in parse_node_selector_term(t).errors:
                    errors.append(f"{path}.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]: Invalid value: {e}")
        for i, t in enumerate(added.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
            for e in parse_node_selector_term(t.get("preference") or {}).errors:
                errors.append(f"{path}.addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[{i}]: Invalid value: {e}")
        return errors

    # -- PreFilter / Filter ------------------------------------------------------------------
    def pre_filter(self, state, pod, nodes):
        spec = pod.pod.get("spec") or {}
        required = (pod.affinity.get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is None and self.added_node_selector is None and spec.get("nodeSelector") is None:
            return None, SKIP_STATUS
        state[PRE_FILTER_STATE_KEY] = _required_affinity(pod)
        terms = (required or {}).get("nodeSelectorTerms") or []
        if required is None or not terms:
            return None, None
        node_names: set[str] | None = None
        for t in terms:
            term_names: set[str] | None = None
            for r in t.get("matchFields") or []:
                if r.get("key") == OBJECT_NAME_FIELD and r.get("operator") == "In":
                    s = set(r.get("values") or [])
                    term_names = s if term_names is None else term_names & s
            if term_names is None:
                return None, None    # a term without node names: every node may match (terms are ORed)
            node_names = term_names if node_names is None else node_names | term_names
        if node_names is not None and not node_names:
            return None, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_CONFLICT,))
        return PreFilterResult(node_names), None

    def filter(self, state, pod, node_info):
        if self.added_node_selector is not None and not self.added_node_selector.match(node_info.labels, node_info.name):
            return _REJECT_ENFORCED
        req = state.get(PRE_FILTER_STATE_KEY) or _required_affinity(pod)
        if not req.match(node_info.labels, node_info.name):
            return _REJECT_POD
        return None

    def filter_vec(self, state, pod, table):
        req = state.get(PRE_FILTER_STATE_KEY) or _required_affinity(pod)

        def compute():
            ids = np.zeros(table.high, np.int32)
            ids[~req.match_vec(table)] = 1
            if self.added_node_selector is not None:
                ids[~self.added_node_selector.match_vec(table)] = 2
            return NodeStatusVector(ids, _decode) if ids.any() else None
        return table.derived(("NodeAffinity.filter", id(self), _affinity_key(pod)), compute)

    # -- PreScore / Score ----------------------------------------------------------------------
    def pre_score(self, state, pod, nodes):
        pref = _preferred_terms(pod)
        if pref is None and self.added_pref_terms is None:
            return SKIP_STATUS
        state[PRE_SCORE_STATE_KEY] = pref
        return None

    def score(self, state, pod, node_info) -> int:
        count = 0
        if self.added_pref_terms is not None:
            count += self.added_pref_terms.score(node_info.labels, node_info.name)
        pref = state[PRE_SCORE_STATE_KEY] if PRE_SCORE_STATE_KEY in state else _preferred_terms(pod)
        if pref is not None:
            count += pref.score(node_info.labels, node_info.name)
        return count

    def score_vec(self, state, pod, table, rows):
        pref = state[PRE_SCORE_STATE_KEY] if PRE_SCORE_STATE_KEY in state else _preferred_terms(pod)

        def compute():
            every = np.arange(table.high)
            out = np.zeros(table.high, np.int64)
            if self.added_pref_terms is not None:
                out += self.added_pref_terms.score_vec(table, every)
            if pref is not None:
                out += pref.score_vec(table, every)
            return out
        key = ("NodeAffinity.score", id(self), repr(((pod.affinity.get("nodeAffinity") or {})
                                                      .get("preferredDuringSchedulingIgnoredDuringExecution"))))
        return table.derived(key, compute)[rows]

    def normalize_score(self, state, pod, scores):
        return default_normalize_score(MAX_NODE_SCORE, False, scores)

    def normalize_score_vec(self, state, pod, scores):
        return default_normalize_score_vec(MAX_NODE_SCORE, False, scores)

    # -- Queueing hints ------------------------------------------------------------------------
    def events_to_register(self):
        return [ClusterEventWithHint(ClusterEvent(NODE, ADD | UPDATE_NODE_LABEL), self._after_node_change)]

    def _after_node_change(self, pod, old, new) -> str:
        def matches(node):
            labels, name = (node.get("metadata") or {}).get("labels") or {}, node["metadata"]["name"]
            if self.added_node_selector is not None and not self.added_node_selector.match(labels, name):
                return False
            return _required_affinity(pod).match(labels, name)
        if not matches(new):
            return QUEUE_SKIP
        if old is None:
            return QUEUE
        return QUEUE_SKIP if matches(old) else QUEUE
