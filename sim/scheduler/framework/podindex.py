"""The pods placed on nodes, indexed for inter-pod affinity, kept current on every placement.

Upstream's InterPodAffinity walks every pod of every node each cycle (PreFilter's
getIncomingAffinityAntiAffinityCounts, PreScore's processExistingPod).  Here the NodeTable tells
this index of each pod it places on or takes off a row (NodeTable.pod_listeners), and the index
keeps, incrementally:

  term groups   every required/preferred (anti-)affinity term of the placed pods, grouped by
                the term itself (the replicas of one ReplicaSet share theirs), each with how many
                pods carry it on each row: PreFilter/PreScore test the incoming pod against each
                distinct term once, not against every pod;
  queries       the pods matching an incoming pod's term (standing queries, registered on first
                use and updated as pods come and go; least recently used ones are dropped), again
                counted per row; a new pod is only tested against the queries anchored on one of
                its label keys (or on none).

A plugin turns counts per row into counts per topology domain with one np.bincount over the
domain codes of a label column.  Unlike the PodTopologySpread index (sim.scheduler.podindex),
terminating pods count: upstream's InterPodAffinity reads NodeInfo.Pods, all of them.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

from sim.scheduler.framework.affinity_terms import AffinityTerm, positive_key, pod_affinity_terms, selector_matches

REQUIRED_AFFINITY = "requiredAffinity"
REQUIRED_ANTI_AFFINITY = "requiredAntiAffinity"
PREFERRED_AFFINITY = "preferredAffinity"
PREFERRED_ANTI_AFFINITY = "preferredAntiAffinity"
KINDS = (REQUIRED_AFFINITY, REQUIRED_ANTI_AFFINITY, PREFERRED_AFFINITY, PREFERRED_ANTI_AFFINITY)
MAX_QUERIES = 256


class PodGroup:
    """A multiset of pods counted per NodeTable row."""

    __slots__ = ("counts", "size")

    def __init__(self) -> None:
        self.counts = np.zeros(0, np.int64)
        self.size = 0

    def add(self, row: int, delta: int, table) -> None:
        if row >= len(self.counts):
            grown = np.zeros(max(table.cap, row + 1), np.int64)
            grown[:len(self.counts)] = self.counts
            self.counts = grown
        self.counts[row] += delta
        self.size += delta

    def row_counts(self, table) -> np.ndarray:
        """int64 over rows [0, table.high): the group's pods on each node."""
        if len(self.counts) < table.high:
            self.add(table.high - 1, 0, table)
        return self.counts[:table.high]


class TermGroup(PodGroup):
    """The placed pods carrying one (kind, term, weight)."""

    __slots__ = ("kind", "term", "weight")

    def __init__(self, kind: str, term: AffinityTerm, weight: int) -> None:
        super().__init__()
        self.kind, self.term, self.weight = kind, term, weight


# A query part: (namespaces, every namespace?, label selector), matched as an incoming pod's
# (namespace-merged) term matches an existing pod: AffinityTerm.Matches(pod, nil).
QueryPart = tuple


def query_part(term: AffinityTerm) -> QueryPart:
    return (term.namespaces, selector_matches(term.namespace_selector, {}), term.selector)


def _part_matches(part: QueryPart, namespace: str, labels: dict) -> bool:
    namespaces, every, selector = part
    return (every or namespace in namespaces) and selector_matches(selector, labels)


class Query(PodGroup):
    """The placed pods matching every part (a pod's required affinity terms must all be met by
    one pod; other terms are queried one by one)."""

    __slots__ = ("parts", "anchor")

    def __init__(self, parts: tuple, anchor: str | None) -> None:
        super().__init__()
        self.parts, self.anchor = parts, anchor

    def matches(self, namespace: str, labels: dict) -> bool:
        return all(_part_matches(p, namespace, labels) for p in self.parts)


class PodAffinityIndex:
    def __init__(self, table) -> None:
        self.table = table
        self.pods: dict[tuple[str, str], tuple] = {}          # key -> (PodInfo, row)
        self.by_label_key: dict[str, set] = {}
        self.groups: dict[str, dict[tuple, TermGroup]] = {k: {} for k in KINDS}
        self.queries: OrderedDict[tuple, Query] = OrderedDict()
        self.anchored: dict[str | None, dict[tuple, Query]] = {}
        for row in range(table.high):
            info = table.infos[row]
            if info is not None:
                for p in info.pods.values():
                    self.on_pod(row, p, 1)
        table.pod_listeners.append(self.on_pod)

    @classmethod
    def of(cls, table) -> "PodAffinityIndex":
        """The table's index (one per NodeTable, shared by every profile), made on first use."""
        idx = _INDEXES.get(table)
        if idx is None:
            idx = _INDEXES[table] = cls(table)
        return idx

    # -- following the table -------------------------------------------------------------------
    def on_pod(self, row: int, p, delta: int) -> None:
        if delta > 0:
            old = self.pods.get(p.key)
            if old is not None:
                self.on_pod(old[1], old[0], -1)
            self.pods[p.key] = (p, row)
            for k in p.labels:
                self.by_label_key.setdefault(k, set()).add(p.key)
        else:
            entry = self.pods.pop(p.key, None)
            if entry is None:
                return
            p, row = entry      # the PodInfo this index counted (the table may hold a newer copy)
            for k in p.labels:
                keys = self.by_label_key.get(k)
                if keys is not None:
                    keys.discard(p.key)
                    if not keys:
                        del self.by_label_key[k]
        self._update_terms(p, row, delta)
        self._update_queries(p, row, delta)

    def _update_terms(self, p, row: int, delta: int) -> None:
        terms = pod_affinity_terms(p)
        if terms.empty():
            return
        table = self.table
        for kind, items in ((REQUIRED_AFFINITY, [(t, 0) for t in terms.required_affinity]),
                            (REQUIRED_ANTI_AFFINITY, [(t, 0) for t in terms.required_anti_affinity]),
                            (PREFERRED_AFFINITY, [(w.term, w.weight) for w in terms.preferred_affinity]),
                            (PREFERRED_ANTI_AFFINITY, [(w.term, w.weight) for w in terms.preferred_anti_affinity])):
            groups = self.groups[kind]
            for term, weight in items:
                g = groups.get((term, weight))
                if g is None:
                    if delta < 0:
                        continue
                    g = groups[(term, weight)] = TermGroup(kind, term, weight)
                g.add(row, delta, table)
                if g.size <= 0:
                    del groups[(term, weight)]

    def _update_queries(self, p, row: int, delta: int) -> None:
        if not self.queries:
            return
        table = self.table
        for anchor in (None, *p.labels):
            bucket = self.anchored.get(anchor)
            if not bucket:
                continue
            for q in bucket.values():
                if q.matches(p.namespace, p.labels):
                    q.add(row, delta, table)

    # -- lookups -------------------------------------------------------------------------------
    def term_groups(self, kind: str):
        """The distinct terms of `kind` that placed pods carry (TermGroups with size > 0)."""
        return self.groups[kind].values()

    def query(self, terms: list[AffinityTerm]) -> Query:
        """The placed pods that match all `terms` (an incoming pod's terms, namespaces merged)."""
        parts = tuple(query_part(t) for t in terms)
        q = self.queries.get(parts)
        if q is not None:
            self.queries.move_to_end(parts)
            return q
        anchor = next((k for k in (positive_key(p[2]) for p in parts) if k is not None), None)
        q = Query(parts, anchor)
        if all(p[2] is not None for p in parts):       # a nil selector matches no pod
            candidates = self.by_label_key.get(anchor, ()) if anchor is not None else self.pods.keys()
            for key in candidates:
                p, row = self.pods[key]
                if q.matches(p.namespace, p.labels):
                    q.add(row, 1, self.table)
            self.anchored.setdefault(anchor, {})[parts] = q
            self.queries[parts] = q
            if len(self.queries) > MAX_QUERIES:
                old_parts, old = self.queries.popitem(last=False)
                self.anchored[old.anchor].pop(old_parts, None)
        return q


_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
