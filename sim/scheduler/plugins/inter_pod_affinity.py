"""InterPodAffinity (pkg/scheduler/framework/plugins/interpodaffinity: plugin.go, filtering.go,
scoring.go, v1.32).

PreFilter counts, per topology pair (a node label key and value):
  existingAntiAffinityCounts  placed pods whose required anti-affinity terms match the incoming
                              pod, on nodes with the term's topology key;
  affinityCounts              placed pods that match ALL the incoming pod's required affinity
                              terms (each term's topology pair counted);
  antiAffinityCounts          placed pods matching each of its required anti-affinity terms.
It is Skip when all three are empty of terms and counts.  Filter rejects a node
  - without a topology key of an affinity term, or where no matching pod shares a term's
    domain: "node(s) didn't match pod affinity rules" (UnschedulableAndUnresolvable) - unless no
    pod anywhere matches and the pod matches its own terms (the first of a group that wants to
    be together may go anywhere with the topology keys);
  - sharing a domain with a pod its anti-affinity terms match: "node(s) didn't match pod
    anti-affinity rules" (Unschedulable);
  - having a label pair where an existing pod's anti-affinity term repels it: "node(s) didn't
    satisfy existing pods anti-affinity rules" (Unschedulable).
PreScore sums, per topology pair, the weights of the incoming pod's preferred terms (affinity
+w, anti-affinity -w) over the pods they match, and of the placed pods' terms that match the
incoming pod (required affinity: hardPodAffinityWeight, default 1; preferred affinity +w,
preferred anti-affinity -w); Skip when nothing matched on a node with the key, or when
ignorePreferredTermsOfExistingPods is set and the pod has no preferred terms.  Score is the sum
over the node's label pairs; NormalizeScore maps [min, max] onto [0, 100].

Vectorised: placed pods are indexed (sim.scheduler.framework.podindex) so a cycle touches the
distinct terms and the pods that match, counted per NodeTable row; per topology key one
np.bincount over the label column's value codes gives the counts per domain (arrays indexed by
value code, with a trailing always-zero slot so that code -1, "no such label", reads 0).
Namespace selectors are resolved against the Namespace objects of the scheduler's namespace
informer (Plugin.informers, handle.lister("namespaces")), as upstream's nsLister.
"""
from __future__ import annotations

import numpy as np

from sim.scheduler.framework.affinity_terms import (parse_pod_affinity_terms, pod_affinity_terms,
                                                    pod_matches_all_affinity_terms)
from sim.scheduler.framework.interface import (ADD, DELETE, MAX_NODE_SCORE, NODE, POD, QUEUE, QUEUE_SKIP, SKIP_STATUS,
                                               UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, UPDATE_NODE_LABEL,
                                               UPDATE_NODE_TAINT, UPDATE_POD_LABEL, ClusterEvent,
                                               ClusterEventWithHint, EnqueueExtensions, FilterPlugin,
                                               NodeStatusVector, PreFilterExtensions, PreFilterPlugin, PreScorePlugin,
                                               ScorePlugin, Status, as_status)
from sim.scheduler.framework.podindex import (PREFERRED_AFFINITY, PREFERRED_ANTI_AFFINITY, REQUIRED_AFFINITY,
                                              REQUIRED_ANTI_AFFINITY, PlacedPodIndex)

NAME = "InterPodAffinity"
PRE_FILTER_STATE_KEY = "PreFilter" + NAME
PRE_SCORE_STATE_KEY = "PreScore" + NAME
ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"
ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"
DEFAULT_HARD_POD_AFFINITY_WEIGHT = 1

_REJECT_AFFINITY = Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (ERR_REASON_AFFINITY_RULES_NOT_MATCH,))
_REJECT_ANTI_AFFINITY = Status(UNSCHEDULABLE, (ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,))
_REJECT_EXISTING = Status(UNSCHEDULABLE, (ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,))
_DECODE = {1: _REJECT_AFFINITY, 2: _REJECT_ANTI_AFFINITY, 3: _REJECT_EXISTING}


class TopologyCounts:
    """topologyToMatchedTermCount / scoreMap: per topology key an int64 array indexed by the
    value codes of the NodeTable's label column for that key, plus a last slot that stays 0."""

    __slots__ = ("table", "by_key")

    def __init__(self, table) -> None:
        self.table = table
        self.by_key: dict[str, np.ndarray] = {}

    def clone(self) -> "TopologyCounts":
        c = TopologyCounts(self.table)
        c.by_key = {k: a.copy() for k, a in self.by_key.items()}
        return c

    def array(self, key: str) -> np.ndarray | None:
        """The key's counts, long enough for every value code the column has now."""
        a = self.by_key.get(key)
        col = self.table.labels.get(key)
        if a is None or col is None:
            return a
        n = len(col.values) + 1
        if len(a) < n:
            grown = np.zeros(n, np.int64)
            grown[:len(a) - 1] = a[:-1]
            a = self.by_key[key] = grown
        return a

    def add_rows(self, key: str, row_counts: np.ndarray, weight: int = 1) -> bool:
        """Count `weight` per pod of `row_counts` in the domain of its node (nodes without the
        key count nowhere).  True when some pod was on a node with the key (a "match")."""
        col = self.table.labels.get(key)
        if col is None:
            return False
        rows = np.flatnonzero(row_counts)        # the rows with such pods
        codes = col.codes[rows]
        on_key = codes >= 0
        if not on_key.any():
            return False
        a = self.by_key.get(key)
        if a is None:
            a = self.by_key[key] = np.zeros(len(col.values) + 1, np.int64)
        else:
            a = self.array(key)
        np.add.at(a, codes[on_key], row_counts[rows[on_key]] * weight)
        return True

    def add_pair(self, key: str, value: str, delta: int) -> None:
        """m[topologyPair{key, value}] += delta (AddPod/RemovePod)."""
        col = self.table.labels.get(key)
        code = col.index.get(value) if col is not None else None
        if code is None:
            return
        a = self.by_key.get(key)
        if a is None:
            a = self.by_key[key] = np.zeros(len(col.values) + 1, np.int64)
        else:
            a = self.array(key)
        a[code] += delta

    def get(self, key: str, value: str) -> int:
        a = self.by_key.get(key)
        if a is None:
            return 0
        code = self.table.labels[key].index.get(value)
        return int(a[code]) if code is not None and code < len(a) - 1 else 0

    def at_rows(self, key: str, rows: np.ndarray | None = None) -> np.ndarray:
        """The count of each row's domain for `key` (0 where the node lacks the key)."""
        a = self.array(key)
        codes = self.table.label_codes(key) if rows is None else self.table.label_codes(key)[rows]
        if a is None:
            return np.zeros(len(codes), np.int64)
        return a[codes]

    def nonempty(self) -> bool:
        """len(m) > 0: some pair has a non-zero count."""
        return any(a.any() for a in self.by_key.values())

    def pairs(self) -> dict[tuple[str, str], int]:
        """{(key, value): count} for the non-zero pairs (upstream's map, for tests and views)."""
        out = {}
        for key, a in self.by_key.items():
            values = self.table.labels[key].values
            for code in np.flatnonzero(a[:-1]).tolist():
                out[(key, values[code])] = int(a[code])
        return out


class PreFilterState:
    """preFilterState: the three counts, the incoming pod's required terms (namespaceSelector
    merged into namespaces) and its namespace's labels."""

    def __init__(self, table, pod, affinity_terms, anti_affinity_terms, namespace_labels):
        self.existing_anti_affinity_counts = TopologyCounts(table)
        self.affinity_counts = TopologyCounts(table)
        self.anti_affinity_counts = TopologyCounts(table)
        self.pod = pod
        self.affinity_terms = affinity_terms
        self.anti_affinity_terms = anti_affinity_terms
        self.namespace_labels = namespace_labels
        self.matches_own_terms = pod_matches_all_affinity_terms(affinity_terms, pod.namespace, pod.labels)

    def clone(self) -> "PreFilterState":
        c = PreFilterState.__new__(PreFilterState)
        c.__dict__.update(self.__dict__)
        c.existing_anti_affinity_counts = self.existing_anti_affinity_counts.clone()
        c.affinity_counts = self.affinity_counts.clone()
        c.anti_affinity_counts = self.anti_affinity_counts.clone()
        return c

    def update_with_pod(self, p, node_labels: dict, multiplier: int) -> None:
        """preFilterState.updateWithPod: a (nominated) pod added to or a victim removed from a
        node with `node_labels`."""
        def update(counts: TopologyCounts, key: str) -> None:
            if key in node_labels:
                counts.add_pair(key, node_labels[key], multiplier)
        for t in pod_affinity_terms(p).required_anti_affinity:
            if t.matches(self.pod.namespace, self.pod.labels, self.namespace_labels):
                update(self.existing_anti_affinity_counts, t.topology_key)
        if pod_matches_all_affinity_terms(self.affinity_terms, p.namespace, p.labels):
            for t in self.affinity_terms:
                update(self.affinity_counts, t.topology_key)
        for t in self.anti_affinity_terms:
            if t.matches(p.namespace, p.labels, None):
                update(self.anti_affinity_counts, t.topology_key)

    # -- the per-node checks (filtering.go) ----------------------------------------------------
    def satisfy_pod_affinity(self, labels: dict) -> bool:
        pods_exist = True
        for t in self.affinity_terms:
            if t.topology_key not in labels:
                return False          # all topology labels must exist on the node
            if self.affinity_counts.get(t.topology_key, labels[t.topology_key]) <= 0:
                pods_exist = False
        if not pods_exist:
            # The first pod of a group with affinity to itself: allowed when no pod anywhere
            # matches the terms and the pod matches them itself.
            return not self.affinity_counts.nonempty() and self.matches_own_terms
        return True

    def satisfy_pod_anti_affinity(self, labels: dict) -> bool:
        if self.anti_affinity_counts.nonempty():
            for t in self.anti_affinity_terms:
                k = t.topology_key
                if k in labels and self.anti_affinity_counts.get(k, labels[k]) > 0:
                    return False
        return True

    def satisfy_existing_pods_anti_affinity(self, labels: dict) -> bool:
        counts = self.existing_anti_affinity_counts
        if counts.nonempty():
            for k, v in labels.items():
                if counts.get(k, v) > 0:
                    return False
        return True


class PreScoreState:
    """preScoreState: topologyScore (weighted sums per pair) and whether any term matched."""

    def __init__(self, table):
        self.topology_score = TopologyCounts(table)
        self.keys: set[str] = set()     # topology keys with a match (len(topologyScore))

    def clone(self) -> "PreScoreState":
        return self     # read-only after PreScore, as upstream's Clone


class InterPodAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions,
                       PreFilterExtensions):
    name = NAME
    has_normalize = True
    bounded_scores = True
    informers = ("namespaces",)     # nsLister: namespaceSelector terms, the pod's namespace labels

    def __init__(self, args=None, handle=None):
        super().__init__(args, handle)
        args = self.args
        self.hard_pod_affinity_weight = int(args["hardPodAffinityWeight"])
        self.ignore_preferred_terms_of_existing_pods = bool(args.get("ignorePreferredTermsOfExistingPods"))

    @classmethod
    def default_args(cls, args):
        """SetDefaults_InterPodAffinityArgs: hardPodAffinityWeight 1."""
        args = dict(args or {})
        if args.get("hardPodAffinityWeight") is None:
            args["hardPodAffinityWeight"] = DEFAULT_HARD_POD_AFFINITY_WEIGHT
        return args

    @classmethod
    def validate_args(cls, args, path):
        """ValidateInterPodAffinityArgs (hardPodAffinityWeight in [0, 100])."""
        errors = []
        w = (args or {}).get("hardPodAffinityWeight")
        if w is not None:
            if isinstance(w, bool) or not isinstance(w, int):
                errors.append(f"{path}.hardPodAffinityWeight: Invalid value: {w!r}: must be an integer")
            elif not 0 <= w <= 100:
                errors.append(f"{path}.hardPodAffinityWeight: Invalid value: {w}: not in valid range [0-100]")
        ignore = (args or {}).get("ignorePreferredTermsOfExistingPods")
        if ignore is not None and not isinstance(ignore, bool):
            errors.append(f"{path}.ignorePreferredTermsOfExistingPods: Invalid value: {ignore!r}: must be a boolean")
        return errors

    # -- helpers -------------------------------------------------------------------------------
    def _table(self):
        return self.handle.snapshot.table

    def _index(self) -> PlacedPodIndex:
        table = self._table()
        cached = self.__dict__.get("_cached_index")
        if cached is None or cached.table is not table:
            cached = self._cached_index = PlacedPodIndex.of(table)
        return cached

    def _namespace_lister(self):
        handle = self.handle
        return (lambda: handle.lister("namespaces")) if hasattr(handle, "lister") else None

    def namespace_labels(self, namespace: str) -> dict:
        """GetNamespaceLabelsSnapshot: the namespace's labels, empty when it is not known."""
        lister = self._namespace_lister()
        for ns in (lister() if lister is not None else ()):
            md = ns.get("metadata") or {}
            if md.get("name") == namespace:
                return dict(md.get("labels") or {})
        return {}

    # -- PreFilter / Filter ----------------------------------------------------------------------
    def pre_filter(self, state, pod, nodes):
        terms = pod_affinity_terms(pod)
        if terms.errors:
            return None, Status(UNSCHEDULABLE_AND_UNRESOLVABLE, (f"parsing pod: {terms.error}",))
        index = self._index()
        if not terms.required_affinity and not terms.required_anti_affinity and not index.has_terms(REQUIRED_ANTI_AFFINITY):
            return None, SKIP_STATUS       # no terms either way: nothing to count
        lister = self._namespace_lister()
        affinity = [t.merged(lister) for t in terms.required_affinity]
        anti_affinity = [t.merged(lister) for t in terms.required_anti_affinity]
        table = index.table
        s = PreFilterState(table, pod, affinity, anti_affinity, self.namespace_labels(pod.namespace))
        # getExistingAntiAffinityCounts: each distinct term the placed pods carry, tested once.
        for g in index.term_groups(REQUIRED_ANTI_AFFINITY, pod.labels):
            if g.term.matches(pod.namespace, pod.labels, s.namespace_labels):
                s.existing_anti_affinity_counts.add_rows(g.term.topology_key, g.row_counts(table))
        # getIncomingAffinityAntiAffinityCounts.
        if affinity:
            q = index.query(affinity)
            if q.size:
                for t in affinity:
                    s.affinity_counts.add_rows(t.topology_key, q.row_counts(table))
        for t in anti_affinity:
            q = index.query([t])
            if q.size:
                s.anti_affinity_counts.add_rows(t.topology_key, q.row_counts(table))
        if not s.existing_anti_affinity_counts.nonempty() and not affinity and not anti_affinity:
            return None, SKIP_STATUS
        state[PRE_FILTER_STATE_KEY] = s
        return None, None

    def pre_filter_extensions(self):
        return self

    def add_pod(self, state, pod_to_schedule, pod_to_add, node_info):
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return as_status(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found')
        s.update_with_pod(pod_to_add, node_info.labels, 1)
        return None

    def remove_pod(self, state, pod_to_schedule, pod_to_remove, node_info):
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return as_status(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found')
        s.update_with_pod(pod_to_remove, node_info.labels, -1)
        return None

    def filter(self, state, pod, node_info):
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return as_status(f'error reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found')
        labels = node_info.labels
        if not s.satisfy_pod_affinity(labels):
            return _REJECT_AFFINITY
        if not s.satisfy_pod_anti_affinity(labels):
            return _REJECT_ANTI_AFFINITY
        if not s.satisfy_existing_pods_anti_affinity(labels):
            return _REJECT_EXISTING
        return None

    def filter_vec(self, state, pod, table):
        s = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return super().filter_vec(state, pod, table)     # every node: the same Error status
        n = table.high
        ids = np.zeros(n, np.int32)
        # Later checks first, so that the first failing check's id is the one left.
        existing = s.existing_anti_affinity_counts
        for key in existing.by_key:
            ids[existing.at_rows(key) > 0] = 3
        anti = s.anti_affinity_counts
        if anti.nonempty():
            for t in s.anti_affinity_terms:
                ids[anti.at_rows(t.topology_key) > 0] = 2
        if s.affinity_terms:
            aff = s.affinity_counts
            missing = np.zeros(n, bool)
            pods_exist = np.ones(n, bool)
            for t in s.affinity_terms:
                missing |= table.label_codes(t.topology_key) < 0
                pods_exist &= aff.at_rows(t.topology_key) > 0
            if not aff.nonempty() and s.matches_own_terms:
                ids[missing] = 1
            else:
                ids[missing | ~pods_exist] = 1
        if not ids.any():
            return None
        return NodeStatusVector(ids, _DECODE.__getitem__)

    # -- PreScore / Score ---------------------------------------------------------------------
    def pre_score(self, state, pod, nodes):
        s = self._pre_score_state(pod)
        if isinstance(s, Status):
            return s
        state[PRE_SCORE_STATE_KEY] = s
        return None

    def _pre_score_state(self, pod):
        pa = pod.affinity.get("podAffinity") or {}
        paa = pod.affinity.get("podAntiAffinity") or {}
        has_constraints = bool(pa.get("preferredDuringSchedulingIgnoredDuringExecution")
                               or paa.get("preferredDuringSchedulingIgnoredDuringExecution"))
        if self.ignore_preferred_terms_of_existing_pods and not has_constraints:
            return SKIP_STATUS
        terms = pod_affinity_terms(pod)
        if terms.errors:
            return as_status(f"failed to parse pod: {terms.error}")
        index = self._index()
        if not has_constraints and not index.has_terms(PREFERRED_AFFINITY) and not index.has_terms(PREFERRED_ANTI_AFFINITY) \
                and not (self.hard_pod_affinity_weight > 0 and index.has_terms(REQUIRED_AFFINITY)):
            return SKIP_STATUS             # no term either way can match anything
        lister = self._namespace_lister()
        ns_labels = self.namespace_labels(pod.namespace)
        table = index.table
        s = PreScoreState(table)
        score = s.topology_score

        def add(key: str, row_counts: np.ndarray, weight: int) -> None:
            if score.add_rows(key, row_counts, weight):
                s.keys.add(key)

        # The incoming pod's preferred terms, over the pods they match (processTerms with
        # existingPod as the target).
        for sign, weighted in ((1, terms.preferred_affinity), (-1, terms.preferred_anti_affinity)):
            for w in weighted:
                t = w.term.merged(lister)
                q = index.query([t])
                if q.size:
                    add(t.topology_key, q.row_counts(table), sign * w.weight)
        # The placed pods' terms that match the incoming pod.
        if self.hard_pod_affinity_weight > 0:
            for g in index.term_groups(REQUIRED_AFFINITY, pod.labels):
                if g.term.matches(pod.namespace, pod.labels, ns_labels):
                    add(g.term.topology_key, g.row_counts(table), self.hard_pod_affinity_weight)
        for sign, kind in ((1, PREFERRED_AFFINITY), (-1, PREFERRED_ANTI_AFFINITY)):
            for g in index.term_groups(kind, pod.labels):
                if g.term.matches(pod.namespace, pod.labels, ns_labels):
                    add(g.term.topology_key, g.row_counts(table), sign * g.weight)
        if not s.keys:
            return SKIP_STATUS
        return s

    def _score_state(self, state, pod) -> PreScoreState | None:
        s = state.get(PRE_SCORE_STATE_KEY)
        if s is None:
            s = self._pre_score_state(pod)
            if isinstance(s, Status):
                return None
        return s

    def score(self, state, pod, node_info) -> int:
        s = self._score_state(state, pod)
        if s is None:
            return 0
        labels = node_info.labels
        return sum(s.topology_score.get(k, labels[k]) for k in s.topology_score.by_key if k in labels)

    def score_vec(self, state, pod, table, rows):
        out = np.zeros(len(rows), np.int64)
        s = self._score_state(state, pod)
        if s is None:
            return out
        for key in s.topology_score.by_key:
            out += s.topology_score.at_rows(key, rows)
        return out

    def normalize_score(self, state, pod, scores):
        s = self._score_state(state, pod)
        if s is None or not s.keys or not scores:
            return list(scores)
        lo, hi = min(scores), max(scores)
        diff = hi - lo
        return [int(MAX_NODE_SCORE * ((x - lo) / diff)) if diff > 0 else 0 for x in scores]

    def normalize_score_vec(self, state, pod, scores):
        s = self._score_state(state, pod)
        if s is None or not s.keys or not len(scores):
            return scores
        lo, hi = int(scores.min()), int(scores.max())
        if hi == lo:
            return np.zeros(len(scores), np.int64)
        # float64(MaxNodeScore) * (float64(score-min) / float64(max-min)), truncated as int64().
        return (float(MAX_NODE_SCORE) * ((scores - lo).astype(np.float64) / float(hi - lo))).astype(np.int64)

    # -- Queueing hints (plugin.go) --------------------------------------------------------------
    def events_to_register(self):
        # Pod: Delete (an existing pod's anti-affinity, or one the pod's anti-affinity repels,
        # goes), UpdatePodLabel and Add (a pod its affinity wants appears).  Node: Add and label
        # changes (a node with the topology key), and UpdateNodeTaint as upstream's workaround
        # for NodeAdd events that preCheck filters out.
        return [ClusterEventWithHint(ClusterEvent(POD, ADD | UPDATE_POD_LABEL | DELETE), self.is_schedulable_after_pod_change),
                ClusterEventWithHint(ClusterEvent(NODE, ADD | UPDATE_NODE_LABEL | UPDATE_NODE_TAINT),
                                     self.is_schedulable_after_node_change)]

    def is_schedulable_after_pod_change(self, pod, old, new) -> str:
        """isSchedulableAfterPodChange.  Beyond v1.32 it also queues when a deleted pod's own
        required anti-affinity repelled the pod (upstream #135325), and counts a pod as matching
        anti-affinity when it matches any one term, not all (upstream #139161)."""
        def node_name(obj):
            return (obj.get("spec") or {}).get("nodeName") if obj is not None else None
        if (new is not None and not node_name(new)) or (old is not None and not node_name(old)):
            return QUEUE_SKIP      # an unscheduled pod's change makes no room
        terms = pod_affinity_terms(pod)
        if terms.required_error:
            return QUEUE
        affinity, anti_affinity = terms.required_affinity, terms.required_anti_affinity

        def meta(obj):
            md = obj.get("metadata") or {}
            return md.get("namespace") or "", md.get("labels") or {}

        def matches_all(obj) -> bool:
            return pod_matches_all_affinity_terms(affinity, *meta(obj))

        def matches_any_anti(obj) -> bool:
            ns, labels = meta(obj)
            return any(t.matches(ns, labels, None) for t in anti_affinity)

        if new is not None and old is not None:
            if not matches_all(old) and matches_all(new):
                return QUEUE
            if matches_any_anti(old) and not matches_any_anti(new):
                return QUEUE
            return QUEUE_SKIP
        if new is not None:
            return QUEUE if matches_all(new) else QUEUE_SKIP
        if old is None:
            return QUEUE
        if matches_any_anti(old):
            return QUEUE
        old_ns, _ = meta(old)
        old_terms = parse_pod_affinity_terms(old_ns, (old.get("spec") or {}).get("affinity"))
        ns_labels = self.namespace_labels(pod.namespace)
        if any(t.matches(pod.namespace, pod.labels, ns_labels) for t in old_terms.required_anti_affinity):
            return QUEUE
        return QUEUE_SKIP

    def is_schedulable_after_node_change(self, pod, old, new) -> str:
        """isSchedulableAfterNodeChange: a node that has a topology key of one of the pod's
        required (anti-)affinity terms."""
        if new is None:
            return QUEUE_SKIP
        terms = pod_affinity_terms(pod)
        if terms.required_error:
            return QUEUE
        labels = (new.get("metadata") or {}).get("labels") or {}
        for t in (*terms.required_affinity, *terms.required_anti_affinity):
            if t.topology_key in labels:
                return QUEUE
        return QUEUE_SKIP
