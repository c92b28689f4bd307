"""The API server's watch cache (k8s.io/apiserver/pkg/storage/cacher).

It mirrors etcd through one watch, keeps the current objects of every resource and a bounded
history of events, serves lists and watches from memory, and fans events out to watchers.
Watchers that select one exact value of an indexed field (every kubelet watches pods with
`spec.nodeName=<node>` and its own Node with `metadata.name=<node>`) are indexed by that value,
as upstream's cacher indexes them by trigger, so one event does not visit every kubelet.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from sim.apiserver.ownercensus import OwnerCensus

HISTORY = 10_000  # events kept per resource for watches that resume from a resourceVersion


@dataclass
class Watcher:
    wid: Any
    resource: str
    match: Callable[[dict], bool]
    send: Callable[[list[dict]], None]
    index: tuple[str, str] | None = None  # (field, value) this watcher requires, if indexed
    expires: float = float("inf")


@dataclass
class ResourceCache:
    objects: dict[tuple[str, str], dict] = field(default_factory=dict)
    history: deque = field(default_factory=lambda: deque(maxlen=HISTORY))  # (rv, type, obj, old)
    oldest_rv: int = 0  # watches from before this revision are "too old"
    # Values in etcd that do not decode (sim.apiserver.storage.CorruptObject), by object key:
    # served to nobody, reported by gets and lists until they are deleted or overwritten.
    corrupt: dict[tuple[str, str], Any] = field(default_factory=dict)
    # The keys in order (etcd's key order: namespace, then name), sorted again only after a key
    # came or went: a list page starts at its continue key by bisection instead of sorting
    # every object for every page.
    _sorted: list[tuple[str, str]] | None = None

    def sorted_keys(self) -> list[tuple[str, str]]:
        """The keys in order.  The list is shared: do not change it."""
        if self._sorted is None:
            self._sorted = sorted(self.objects)
        return self._sorted


class PodCensus:
    """How many pods each node has in each phase ("Terminating" for a pod being deleted; node
    None: not bound yet), kept up to date with every event, so that a dashboard frame of a
    cluster with 200,000 pods costs what one of 200 does (Cluster.snapshot(pod_limit=...))."""

    def __init__(self):
        self.bucket: dict[tuple[str, str], tuple] = {}
        self.counts: dict[Any, dict[str, int]] = {}
        self.unbound: set[tuple[str, str]] = set()

    @staticmethod
    def bucket_of(pod: dict) -> tuple:
        md, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
        node = spec.get("nodeName") if isinstance(spec, dict) else None
        phase = "Terminating" if md.get("deletionTimestamp") else (
            status.get("phase") if isinstance(status, dict) else None) or "Pending"
        return (node if isinstance(node, str) and node else None, str(phase))

    def set(self, key: tuple[str, str], pod: dict | None) -> None:
        old = self.bucket.pop(key, None)
        if old is not None:
            node_counts = self.counts[old[0]]
            node_counts[old[1]] -= 1
            if not node_counts[old[1]]:
                del node_counts[old[1]]
            if old[0] is None:
                self.unbound.discard(key)
        if pod is None:
            return
        new = self.bucket[key] = self.bucket_of(pod)
        node_counts = self.counts.setdefault(new[0], {})
        node_counts[new[1]] = node_counts.get(new[1], 0) + 1
        if new[0] is None:
            self.unbound.add(key)


def with_rv(obj: dict, rv: int) -> dict:
    md = dict(obj["metadata"])
    md["resourceVersion"] = str(rv)
    out = dict(obj)
    out["metadata"] = md
    return out


class WatchCache:
    """Keyed by GroupResource ("pods", "replicasets.apps"); `kinds` are sim.registry Resources,
    whose `indexed_fields` index watchers and whose `cache_observer` (a census such as
    PodCensus) is kept current with every event.  `owners` (an OwnerCensus) files every
    controlled object of every kind under its controller, for the dashboard's Workloads view."""

    def __init__(self, kinds):
        self.rv = 0
        self.owners = OwnerCensus()
        self.resources: dict[str, ResourceCache] = {}
        self.watchers: dict[str, dict[Any, Watcher]] = {}
        self.indexed_fields: dict[str, tuple[str, ...]] = {}
        self.observers: dict[str, Any] = {}
        self.indexed: dict[tuple[str, str, str], dict[Any, Watcher]] = {}  # (resource, field, value)
        for res in kinds:
            self.add_kind(res)

    def add_kind(self, res) -> None:
        """A kind served from now on (a CustomResourceDefinition established): empty until its
        objects arrive (initial list or watch events)."""
        if res.gr in self.resources:
            return
        self.resources[res.gr] = ResourceCache()
        self.watchers[res.gr] = {}
        self.indexed_fields[res.gr] = tuple(res.indexed_fields)
        if res.cache_observer is not None:
            self.observers[res.gr] = res.cache_observer()

    def remove_kind(self, gr: str) -> list[Watcher]:
        """A kind no longer served: its objects are forgotten; returns its watchers to close."""
        self.resources.pop(gr, None)
        closed = list(self.watchers.pop(gr, {}).values())
        for key in [k for k in self.indexed if k[0] == gr]:
            closed.extend(self.indexed.pop(key).values())
        self.observers.pop(gr, None)
        self.indexed_fields.pop(gr, None)
        self.owners.forget_kind(gr)
        return closed

    # -- reads -------------------------------------------------------------------------
    def objects(self, gr: str) -> dict[tuple[str, str], dict]:
        rc = self.resources.get(gr)
        return rc.objects if rc is not None else {}

    def sorted_keys(self, gr: str) -> list[tuple[str, str]]:
        """The kind's object keys in order (read-only)."""
        rc = self.resources.get(gr)
        return rc.sorted_keys() if rc is not None else []

    def corrupt(self, gr: str) -> dict:
        rc = self.resources.get(gr)
        return rc.corrupt if rc is not None else {}

    def oldest_rv(self, gr: str) -> int:
        rc = self.resources.get(gr)
        return rc.oldest_rv if rc is not None else 0

    # -- fill --------------------------------------------------------------------------
    def replace(self, resource: str, key, obj: dict) -> None:
        """Initial load: no events."""
        rc = self.resources[resource]
        if key not in rc.objects:
            rc._sorted = None
        rc.objects[key] = obj
        observer = self.observers.get(resource)
        if observer is not None:
            observer.set(key, obj)
        self.owners.set(resource, key, obj)

    def replace_corrupt(self, resource: str, key, corrupt) -> None:
        """Initial load of a value that does not decode: no events."""
        self.resources[resource].corrupt[key] = corrupt

    def mark_corrupt(self, rev: int, resource: str, key, corrupt) -> None:
        """A committed write whose value does not decode: the object it replaces, if any, is
        gone for every watcher (DELETED), and the key is reported as corrupt."""
        self.apply(rev, resource, key, None)
        self.resources[resource].corrupt[key] = corrupt

    def apply(self, rev: int, resource: str, key, obj: dict | None) -> None:
        """One committed etcd event; `obj` is the decoded value (None: deleted)."""
        rc = self.resources[resource]
        if rc.corrupt:
            rc.corrupt.pop(key, None)  # overwritten or deleted: whatever was corrupt is gone
        old = rc.objects.get(key)
        if obj is None:
            if old is None:
                return
            del rc.objects[key]
            rc._sorted = None
            ev_obj, ev_type = with_rv(old, rev), "DELETED"
        else:
            obj = with_rv(obj, rev)
            if old is None:
                rc._sorted = None
            rc.objects[key] = obj
            ev_obj, ev_type = obj, ("MODIFIED" if old is not None else "ADDED")
        observer = self.observers.get(resource)
        if observer is not None:
            observer.set(key, obj)
        self.owners.set(resource, key, obj)
        if len(rc.history) == rc.history.maxlen:
            rc.oldest_rv = rc.history[0][0]
        rc.history.append((rev, ev_type, ev_obj, old))
        self.dispatch(resource, ev_type, ev_obj, old)

    # -- watches -----------------------------------------------------------------------
    def add_watcher(self, w: Watcher) -> None:
        if w.index is not None:
            self.indexed.setdefault((w.resource, *w.index), {})[w.wid] = w
        else:
            self.watchers[w.resource][w.wid] = w

    def remove_watcher(self, w: Watcher) -> None:
        if w.index is not None:
            self.indexed.get((w.resource, *w.index), {}).pop(w.wid, None)
        else:
            self.watchers[w.resource].pop(w.wid, None)

    def dispatch(self, resource: str, ev_type: str, obj: dict, old: dict | None) -> None:
        targets = list(self.watchers[resource].values())
        if self.indexed:
            for field in self.indexed_fields.get(resource, ()):
                values = {index_value(obj, field)}
                if old is not None:
                    values.add(index_value(old, field))
                for v in values:
                    ws = self.indexed.get((resource, field, v)) if v else None
                    if ws:
                        targets.extend(ws.values())
        for w in targets:
            ev = transform(ev_type, obj, old, w.match)
            if ev is not None:
                w.send([ev])

    def events_since(self, resource: str, rv: int, match: Callable[[dict], bool]) -> list[dict] | None:
        """Watch events after `rv`, or None when `rv` is older than the history holds."""
        rc = self.resources[resource]
        if rv < rc.oldest_rv:
            return None
        out = []
        for ev_rv, ev_type, obj, old in rc.history:
            if ev_rv > rv:
                ev = transform(ev_type, obj, old, match)
                if ev is not None:
                    out.append(ev)
        return out

    def initial_events(self, resource: str, match: Callable[[dict], bool]) -> list[dict]:
        rc = self.resources[resource]
        objects = rc.objects
        return [{"type": "ADDED", "object": objects[k]} for k in rc.sorted_keys() if match(objects[k])]


def index_value(obj: dict, field: str) -> str | None:
    part, _, key = field.partition(".")
    return (obj.get(part) or {}).get(key)


def transform(ev_type: str, obj: dict, old: dict | None, match: Callable[[dict], bool]) -> dict | None:
    """Filter one event for a watcher's selector, as the cacher does: an object that stops
    matching is DELETED for that watcher, one that starts matching is ADDED."""
    if ev_type == "DELETED":
        return {"type": "DELETED", "object": obj} if match(obj) else None
    now_matches = match(obj)
    was = old is not None and match(old)
    if now_matches and was:
        return {"type": "MODIFIED", "object": obj}
    if now_matches:
        return {"type": "ADDED", "object": obj}
    if was:
        return {"type": "DELETED", "object": obj}
    return None
