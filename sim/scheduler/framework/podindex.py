"""The pods placed on nodes, counted per NodeTable row, kept current on every placement: the one
index both PodTopologySpread and InterPodAffinity read.

Upstream's plugins walk every pod of every node each cycle (PodTopologySpread's
countPodsMatchSelector in common.go; InterPodAffinity's getIncomingAffinityAntiAffinityCounts and
processExistingPod).  Here the NodeTable tells this index of each pod it places on or takes off a
row (NodeTable.pod_listeners), and the index keeps, incrementally:

  term groups   every required/preferred (anti-)affinity term of the placed pods, grouped by
                the term itself (the replicas of one ReplicaSet share theirs), each with how many
                pods carry it on each row: PreFilter/PreScore test the incoming pod against each
                distinct term once, not against every pod;
  queries       the pods matching a label selector in some namespaces (an incoming pod's
                affinity terms, or a spread constraint's selector in the pod's namespace):
                standing queries, registered on first use and updated as pods come and go (least
                recently used ones are dropped), counted per row; a new pod is only tested
                against the queries anchored on one of its labels (a key=value an = or In
                requirement needs, or a key Exists needs).

A plugin turns counts per row into counts per topology domain with one np.bincount over the
domain codes of a label column.  Terminating pods (deletionTimestamp set) are a query's choice:
PodTopologySpread leaves them out, as countPodsMatchSelector bypasses them; InterPodAffinity
counts them, as it reads NodeInfo.Pods, all of them.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

from sim.api.selectors import selector_matches
from sim.scheduler.framework.affinity_terms import AffinityTerm, pod_affinity_terms

REQUIRED_AFFINITY = "requiredAffinity"
REQUIRED_ANTI_AFFINITY = "requiredAntiAffinity"
PREFERRED_AFFINITY = "preferredAffinity"
PREFERRED_ANTI_AFFINITY = "preferredAntiAffinity"
KINDS = (REQUIRED_AFFINITY, REQUIRED_ANTI_AFFINITY, PREFERRED_AFFINITY, PREFERRED_ANTI_AFFINITY)
MAX_QUERIES = 512      # affinity terms and spread selectors together (256 each before they shared one index)


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


def selector_anchors(sel: tuple | None) -> list:
    """Tokens every pod the selector matches carries at least one of: (key, value) for an =
    requirement, one per value of an In, (key, None) for Exists; [None] when there is no such
    requirement (the selector may match a pod with any labels); [] for a nil selector."""
    if sel is None:
        return []
    for key, op, values in sel:
        if op == "=":
            return [(key, values[0])]
    for key, op, values in sel:
        if op == "in":
            return [(key, v) for v in values]
    for key, op, values in sel:
        if op == "exists":
            return [(key, None)]
    return [None]


def label_tokens(labels: dict):
    """The anchor tokens a pod with `labels` may be found under."""
    yield None
    for k, v in labels.items():
        yield (k, v)
        yield (k, None)


class Anchored:
    """Items filed under anchor tokens: `candidates(labels)` gives each item that can match a
    pod with those labels once, without looking at the others."""

    __slots__ = ("buckets",)

    def __init__(self) -> None:
        self.buckets: dict = {}

    def add(self, tokens: list, key, item) -> None:
        for t in tokens:
            self.buckets.setdefault(t, {})[key] = item

    def remove(self, tokens: list, key) -> None:
        for t in tokens:
            bucket = self.buckets.get(t)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self.buckets[t]

    def candidates(self, labels: dict):
        buckets = self.buckets
        if not buckets:
            return
        for t in label_tokens(labels):
            bucket = buckets.get(t)
            if bucket:
                yield from bucket.values()


# A query part: (namespaces, every namespace?, label selector), matched as an incoming pod's
# (namespace-merged) term matches an existing pod: AffinityTerm.Matches(pod, nil).
QueryPart = tuple


def is_terminating(p) -> bool:
    """The pod has a deletionTimestamp (countPodsMatchSelector's check)."""
    return bool((p.pod.get("metadata") or {}).get("deletionTimestamp"))


def count_pods_match_selector(pods, selector: tuple | None, namespace: str) -> int:
    """countPodsMatchSelector (podtopologyspread/common.go): the scalar reference, one node's
    pods at a time; terminating pods are not counted."""
    n = 0
    for p in pods:
        if is_terminating(p) or p.namespace != namespace:
            continue
        if selector_matches(selector, p.labels):
            n += 1
    return n


def query_part(term: AffinityTerm) -> QueryPart:
    return (term.namespaces, selector_matches(term.namespace_selector, {}), term.selector)


def _part_matches(part: QueryPart, namespace: str, labels: dict) -> bool:
    namespaces, every, selector = part
    return (every or namespace in namespaces) and selector_matches(selector, labels)


class Query(PodGroup):
    """The placed pods matching every part (a pod's required affinity terms must all be met by
    one pod; other terms are queried one by one), terminating ones only if `terminating`."""

    __slots__ = ("parts", "anchors", "terminating")

    def __init__(self, parts: tuple, anchors: list, terminating: bool = True) -> None:
        super().__init__()
        self.parts, self.anchors, self.terminating = parts, anchors, terminating

    def matches(self, namespace: str, labels: dict) -> bool:
        return all(_part_matches(p, namespace, labels) for p in self.parts)

    def counts_pod(self, p) -> bool:
        return self.matches(p.namespace, p.labels) and (self.terminating or not is_terminating(p))


class PlacedPodIndex:
    def __init__(self, table) -> None:
        self.table = table
        self.pods: dict[tuple[str, str], tuple] = {}          # key -> (PodInfo, row)
        self.by_label: dict[tuple, set] = {}                  # (key, value) and (key, None) -> pod keys
        self.groups: dict[str, dict[tuple, TermGroup]] = {k: {} for k in KINDS}
        self.anchored_groups: dict[str, Anchored] = {k: Anchored() for k in KINDS}
        self.queries: OrderedDict[tuple, Query] = OrderedDict()
        self.anchored_queries = Anchored()
        for row in range(table.high):
            info = table.infos[row]
            if info is not None:
                for p in info.pods.values():
                    self.on_pod(row, p, 1)
        table.pod_listeners.append(self.on_pod)

    @classmethod
    def of(cls, table) -> "PlacedPodIndex":
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
            for t in label_tokens(p.labels):
                if t is not None:
                    self.by_label.setdefault(t, set()).add(p.key)
        else:
            entry = self.pods.pop(p.key, None)
            if entry is None:
                return
            p, row = entry      # the PodInfo this index counted (the table may hold a newer copy)
            for t in label_tokens(p.labels):
                keys = self.by_label.get(t)
                if keys is not None:
                    keys.discard(p.key)
                    if not keys:
                        del self.by_label[t]
        self._update_terms(p, row, delta)
        for q in self.anchored_queries.candidates(p.labels):
            if q.counts_pod(p):
                q.add(row, delta, self.table)

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
                key = (term, weight)
                g = groups.get(key)
                if g is None:
                    if delta < 0:
                        continue
                    g = groups[key] = TermGroup(kind, term, weight)
                    self.anchored_groups[kind].add(selector_anchors(term.selector), key, g)
                g.add(row, delta, table)
                if g.size <= 0:
                    del groups[key]
                    self.anchored_groups[kind].remove(selector_anchors(term.selector), key)

    # -- lookups -------------------------------------------------------------------------------
    def term_groups(self, kind: str, labels: dict):
        """The distinct terms of `kind` that placed pods carry and whose label selector may match
        a pod with `labels` (each TermGroup once; the caller still tests the whole term)."""
        return self.anchored_groups[kind].candidates(labels)

    def has_terms(self, kind: str) -> bool:
        return bool(self.groups[kind])

    def query(self, terms: list[AffinityTerm]) -> Query:
        """The placed pods, terminating ones too, that match all `terms` (an incoming pod's
        terms, namespaces merged)."""
        return self._query(tuple(query_part(t) for t in terms), True)

    def pod_counts(self, namespace: str, selector: tuple | None) -> np.ndarray:
        """int64 over rows [0, table.high): countPodsMatchSelector on every node at once, the
        namespace's non-terminating pods that `selector` matches.  Callers must not modify it."""
        return self._query(((frozenset((namespace,)), False, selector),), False).row_counts(self.table)

    def _query(self, parts: tuple, terminating: bool) -> Query:
        key = (parts, terminating)
        q = self.queries.get(key)
        if q is not None:
            self.queries.move_to_end(key)
            return q
        anchors = next((a for a in (selector_anchors(p[2]) for p in parts) if a != [None]), [None])
        q = Query(parts, anchors, terminating)
        if all(p[2] is not None for p in parts):       # a nil selector matches no pod
            if anchors == [None]:
                candidates = list(self.pods)
            else:
                candidates = list(dict.fromkeys(k for a in anchors for k in self.by_label.get(a, ())))   # In (a, a): once
            for k in candidates:
                p, row = self.pods[k]
                if q.counts_pod(p):
                    q.add(row, 1, self.table)
            self.anchored_queries.add(anchors, key, q)
            self.queries[key] = q
            if len(self.queries) > MAX_QUERIES:
                old_key, old = self.queries.popitem(last=False)
                self.anchored_queries.remove(old.anchors, old_key)
        return q


_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
