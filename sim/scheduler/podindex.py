"""The assigned pods by label, per node row: how many pods of a namespace that a label selector
matches sit on each node, for every node at once.

Upstream's PodTopologySpread counts them in PreFilter/PreScore with a loop over every node and
every pod on it (countPodsMatchSelector, common.go).  Done per scheduling cycle over 5,000 nodes
that is the Python loop the scheduler must not have, so this index keeps the answer instead:

  groups     (namespace, labels) -> {row: pods}: assigned, non-terminating pods grouped by their
             exact label set (the pods of one ReplicaSet share one group);
  selectors  (namespace, selector) -> an int64 count per NodeTable row, built from the groups
             the first time a selector is asked for, then kept current on every pod placed on or
             taken off a row (the NodeTable's pod_listeners), least recently used ones dropped.

One index per NodeTable (`AssignedPodIndex.of(table)`), shared by every profile's plugins.
Terminating pods (deletionTimestamp set) are left out, as countPodsMatchSelector bypasses them.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

from sim.api.selectors import SelectorError, labels_match, selector_from_label_selector

MAX_SELECTORS = 256


class Selector:
    """labels.Selector: requirements ANDed; `reqs` None is labels.Nothing() (a nil
    metav1.LabelSelector matches no pod), () is labels.Everything()."""

    __slots__ = ("reqs",)

    def __init__(self, reqs) -> None:
        self.reqs = None if reqs is None else tuple(sorted((k, op, tuple(v)) for k, op, v in reqs))

    @classmethod
    def from_label_selector(cls, sel: dict | None) -> "Selector":
        """metav1.LabelSelectorAsSelector, with labels.NewRequirement's checks (SelectorError)."""
        reqs = selector_from_label_selector(sel)
        for key, op, values in reqs or ():
            if op in ("in", "notin") and not values:
                raise SelectorError(f"values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty")
            if op in ("exists", "!") and values:
                raise SelectorError(f"values: Invalid value: {list(values)}: values set must be empty for exists and does not exist")
        return cls(reqs)

    @classmethod
    def from_set(cls, labels: dict) -> "Selector":
        """labels.SelectorFromSet."""
        return cls([(k, "=", (v,)) for k, v in labels.items()])

    def add(self, other: "Selector") -> "Selector":
        """selector.Add(other.Requirements()...): a Nothing selector has no requirements to add."""
        if other.reqs is None:
            return self
        if self.reqs is None:
            return self
        return Selector(self.reqs + other.reqs)

    def matches(self, labels: dict) -> bool:
        return self.reqs is not None and labels_match(self.reqs, labels)

    def empty(self) -> bool:
        """Selector.Empty(): true for Everything (no requirements), false for Nothing."""
        return self.reqs == ()

    @property
    def key(self):
        return self.reqs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selector) and self.reqs == other.reqs

    def __hash__(self) -> int:
        return hash(self.reqs)

    def __repr__(self) -> str:
        return "Nothing" if self.reqs is None else f"Selector({list(self.reqs)})"


def is_terminating(p) -> bool:
    return bool((p.pod.get("metadata") or {}).get("deletionTimestamp"))


def count_pods_match_selector(pods, selector: Selector, namespace: str) -> int:
    """countPodsMatchSelector (podtopologyspread/common.go): the scalar reference, one node's
    pods at a time."""
    n = 0
    for p in pods:
        if is_terminating(p) or p.namespace != namespace:
            continue
        if selector.matches(p.labels):
            n += 1
    return n


class _Group:
    __slots__ = ("labels", "rows")

    def __init__(self, labels: dict):
        self.labels = labels
        self.rows: dict[int, int] = {}


class _Counts:
    __slots__ = ("selector", "counts", "matched")

    def __init__(self, selector: Selector, cap: int):
        self.selector = selector
        self.counts = np.zeros(cap, np.int64)
        self.matched: dict = {}     # group key -> does the selector match that label set?

    def matches(self, gkey, labels: dict) -> bool:
        m = self.matched.get(gkey)
        if m is None:
            if len(self.matched) >= 4096:      # pods with labels of their own: do not grow forever
                self.matched.clear()
            m = self.matched[gkey] = self.selector.matches(labels)
        return m


_INDEXES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class AssignedPodIndex:
    def __init__(self, table):
        self.table = table
        self.groups: dict[tuple, _Group] = {}
        self.counted: dict[tuple, tuple] = {}            # pod key -> (group key, row) it is counted in
        self.by_namespace: dict[str, OrderedDict] = {}   # namespace -> selector key -> _Counts
        self.num_selectors = 0
        for row in range(table.high):
            info = table.infos[row]
            if info is not None:
                for p in info.pods.values():
                    self.on_pod(row, p, 1)
        table.pod_listeners.append(self.on_pod)

    @classmethod
    def of(cls, table) -> "AssignedPodIndex":
        idx = _INDEXES.get(table)
        if idx is None:
            idx = _INDEXES[table] = cls(table)
        return idx

    # -- following the table ----------------------------------------------------------------
    def on_pod(self, row: int, p, delta: int) -> None:
        if delta > 0:
            if is_terminating(p) or p.key in self.counted:
                return
            gkey = (p.namespace, frozenset(p.labels.items()))
            g = self.groups.get(gkey)
            if g is None:
                g = self.groups[gkey] = _Group(dict(p.labels))
            self.counted[p.key] = (gkey, row)
        else:
            # Take off what was counted when the pod came (its PodInfo may have changed since).
            entry = self.counted.get(p.key)
            if entry is None or entry[1] != row:
                return
            del self.counted[p.key]
            gkey = entry[0]
            g = self.groups[gkey]
        n = g.rows.get(row, 0) + delta
        if n > 0:
            g.rows[row] = n
        else:
            g.rows.pop(row, None)
            if not g.rows:
                del self.groups[gkey]
        entries = self.by_namespace.get(gkey[0])
        if entries:
            for e in entries.values():
                if e.matches(gkey, g.labels):
                    if row >= len(e.counts):
                        e.counts = _grown(e.counts, self.table.cap)
                    e.counts[row] += delta

    # -- queries ------------------------------------------------------------------------------
    def counts(self, namespace: str, selector: Selector) -> np.ndarray:
        """int64 over rows [0, table.high): the namespace's non-terminating pods on each row that
        `selector` matches.  Callers must not modify it."""
        high = self.table.high
        if selector.reqs is None:
            return np.zeros(high, np.int64)
        entries = self.by_namespace.get(namespace)
        if entries is None:
            entries = self.by_namespace[namespace] = OrderedDict()
        e = entries.get(selector.key)
        if e is None:
            e = self._build(namespace, selector)
            entries[selector.key] = e
            self.num_selectors += 1
            if self.num_selectors > MAX_SELECTORS:
                self._evict()
        else:
            entries.move_to_end(selector.key)
        if len(e.counts) < high:
            e.counts = _grown(e.counts, self.table.cap)
        return e.counts[:high]

    def _build(self, namespace: str, selector: Selector) -> _Counts:
        e = _Counts(selector, self.table.cap)
        for gkey, g in self.groups.items():
            if gkey[0] == namespace and e.matches(gkey, g.labels):
                for row, n in g.rows.items():
                    e.counts[row] += n
        return e

    def _evict(self) -> None:
        """Drop the least recently used selector of the namespace holding the most."""
        ns = max(self.by_namespace, key=lambda k: len(self.by_namespace[k]))
        self.by_namespace[ns].popitem(last=False)
        self.num_selectors -= 1


def _grown(a: np.ndarray, cap: int) -> np.ndarray:
    b = np.zeros(max(cap, len(a)), a.dtype)
    b[:len(a)] = a
    return b
