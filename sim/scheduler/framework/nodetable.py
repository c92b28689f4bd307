"""NodeTable: every node's scheduling facts as numpy columns, so a Filter or Score plugin looks
at all nodes with a few array operations instead of a Python loop per node.

One row per node (rows of deleted nodes are reused).  Columns:
  alloc[r] / requested[r]   int64 per resource: cpu (milli), memory, ephemeral-storage and every
                            extended/scalar resource seen (a column appears on first use)
  non0_cpu / non0_mem       the scheduler's non-zero requests (scoring)
  allowed_pods / pod_count  status.allocatable.pods and the pods placed (bound or assumed)
  unschedulable             spec.unschedulable
  labels[key].codes         int32 per node: the code of the node's value for `key`, -1 if absent
                            (values interned per key: labels[key].values[code])
  taint_pos[r, t]           1 + position of distinct taint t in node r's spec.taints (0: absent);
                            taint_keys[t] = (key, value, effect)
  ports / images            sparse maps (protocol, port) -> row -> addresses, image -> row -> size
The cache (sim.scheduler.cache) keeps the table current incrementally: node add/update/delete
and pod add/remove (assume, bind, delete).  Nothing is rebuilt per scheduling cycle.
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np

from sim.scheduler.framework.podinfo import CPU, EPHEMERAL_STORAGE, MEMORY, PodInfo, is_scalar_resource_name
from sim.scheduler.framework.nodeinfo import DEFAULT_BIND_ALL_HOST_IP, NodeInfo

_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_MISS = object()


def parse_int64(s: str) -> int | None:
    """strconv.ParseInt(s, 10, 64), or None."""
    if not isinstance(s, str) or not _INT_RE.match(s):
        return None
    v = int(s)
    return v if -2**63 <= v < 2**63 else None


class LabelColumn:
    __slots__ = ("codes", "values", "index", "_numeric")

    def __init__(self, cap: int):
        self.codes = np.full(cap, -1, dtype=np.int32)
        self.values: list[str] = []
        self.index: dict[str, int] = {}
        self._numeric: np.ndarray | None = None

    def code(self, value: str) -> int:
        """The code of `value`, or -2 (matches no row) if no node has it."""
        return self.index.get(value, -2)

    def intern(self, value: str) -> int:
        c = self.index.get(value)
        if c is None:
            c = self.index[value] = len(self.values)
            self.values.append(value)
        return c

    def numeric(self) -> np.ndarray:
        """Each value code's integer value (NaN when not an int64): for Gt/Lt."""
        if self._numeric is None or len(self._numeric) != len(self.values):
            self._numeric = np.array([np.nan if (n := parse_int64(v)) is None else float(n) for v in self.values]
                                     + [np.nan], dtype=np.float64)  # the extra slot is for code -1
        return self._numeric


class NodeTable:
    def __init__(self, capacity: int = 64):
        self.cap = capacity
        self.high = 0
        self.free_rows: list[int] = []
        self.names: list[str | None] = []
        self.infos: list[NodeInfo | None] = []
        self.row_of: dict[str, int] = {}
        self.alloc: dict[str, np.ndarray] = {r: np.zeros(capacity, np.int64) for r in (CPU, MEMORY, EPHEMERAL_STORAGE)}
        self.requested: dict[str, np.ndarray] = {r: np.zeros(capacity, np.int64) for r in (CPU, MEMORY, EPHEMERAL_STORAGE)}
        # free = alloc - requested, kept in step (the NodeResourcesFit filter's one comparison)
        self.free: dict[str, np.ndarray] = {r: np.zeros(capacity, np.int64) for r in (CPU, MEMORY, EPHEMERAL_STORAGE)}
        self.non0_cpu = np.zeros(capacity, np.int64)
        self.non0_mem = np.zeros(capacity, np.int64)
        self.allowed_pods = np.zeros(capacity, np.int64)
        self.pod_count = np.zeros(capacity, np.int64)
        self.pods_free = np.zeros(capacity, np.int64)     # allowed_pods - pod_count
        self.unschedulable = np.zeros(capacity, bool)
        self.labels: dict[str, LabelColumn] = {}
        self.taint_keys: list[tuple[str, str, str]] = []
        self.taint_index: dict[tuple[str, str, str], int] = {}
        self.taint_pos = np.zeros((capacity, 0), np.int16)
        self.ports: dict[tuple[str, int], dict[int, Counter]] = {}
        self.images: dict[str, dict[int, int]] = {}
        self._row_labels: list[dict] = []
        self._row_taints: list[list[int]] = []
        self._row_images: list[dict] = []
        self._image_cols: dict[str, tuple[int, np.ndarray]] = {}
        self.version = 0   # bumped on node add/update/delete (caches of node-derived columns)
        self._names_snapshot: tuple | None = None
        self._derived: dict = {}
        self._derived_version = -1
        self.name_codes = LabelColumn(capacity)  # metadata.name as a pseudo-label
        # Callbacks (row, PodInfo, +1 | -1) on every pod placed on or taken off a row: indexes
        # that plugins keep beside the table (sim.scheduler.framework.podindex) follow it through them.
        self.pod_listeners: list = []

    # -- rows ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.row_of)

    def _grow(self) -> None:
        old, new = self.cap, self.cap * 2

        def grow(a: np.ndarray, fill=0) -> np.ndarray:
            shape = (new,) + a.shape[1:]
            b = np.full(shape, fill, dtype=a.dtype)
            b[:old] = a
            return b

        for d in (self.alloc, self.requested, self.free):
            for k in d:
                d[k] = grow(d[k])
        self.non0_cpu, self.non0_mem = grow(self.non0_cpu), grow(self.non0_mem)
        self.allowed_pods, self.pod_count = grow(self.allowed_pods), grow(self.pod_count)
        self.pods_free = grow(self.pods_free)
        self.unschedulable = grow(self.unschedulable)
        for col in list(self.labels.values()) + [self.name_codes]:
            col.codes = grow(col.codes, -1)
        self.taint_pos = grow(self.taint_pos)
        self.cap = new

    def _new_row(self) -> int:
        if self.free_rows:
            return self.free_rows.pop()
        if self.high == self.cap:
            self._grow()
        row = self.high
        self.high += 1
        self.names.append(None)
        self.infos.append(None)
        self._row_labels.append({})
        self._row_taints.append([])
        self._row_images.append({})
        return row

    def _resource(self, name: str) -> None:
        if name not in self.alloc:
            self.alloc[name] = np.zeros(self.cap, np.int64)
            self.requested[name] = np.zeros(self.cap, np.int64)
            self.free[name] = np.zeros(self.cap, np.int64)

    def label_column(self, key: str) -> LabelColumn:
        col = self.labels.get(key)
        if col is None:
            col = self.labels[key] = LabelColumn(self.cap)
        return col

    def label_codes(self, key: str) -> np.ndarray:
        """int32 codes over rows [0, high) (all -1 when no node has the key)."""
        col = self.labels.get(key)
        if col is None:
            return np.full(self.high, -1, dtype=np.int32)
        return col.codes[:self.high]

    def taint_column(self, taint: tuple[str, str, str]) -> int:
        t = self.taint_index.get(taint)
        if t is None:
            t = self.taint_index[taint] = len(self.taint_keys)
            self.taint_keys.append(taint)
            self.taint_pos = np.concatenate([self.taint_pos, np.zeros((self.cap, 1), np.int16)], axis=1)
        return t

    # -- nodes --------------------------------------------------------------------------
    def names_snapshot(self) -> tuple:
        """The row -> node name map as an immutable tuple (explanations keep it: rows may be
        reused by other nodes later).  Rebuilt only after nodes come or go."""
        if self._names_snapshot is None:
            self._names_snapshot = tuple(self.names)
        return self._names_snapshot

    def add_node(self, info: NodeInfo) -> int:
        self._names_snapshot = None
        row = self._new_row()
        self.names[row] = info.name
        self.infos[row] = info
        self.row_of[info.name] = row
        info.row = row
        self.name_codes.codes[row] = self.name_codes.intern(info.name)
        self.set_node(row, info)
        for p in info.pods.values():
            self.add_pod(row, p)
        return row

    def set_node(self, row: int, info: NodeInfo) -> None:
        """(Re)load the node-derived columns of `row` from its NodeInfo."""
        self.version += 1
        for name in self.alloc:
            self.alloc[name][row] = 0
        for name, v in info.allocatable.items():
            self._resource(name)
            self.alloc[name][row] = v
        for name in self.alloc:
            self.free[name][row] = self.alloc[name][row] - self.requested[name][row]
        self.allowed_pods[row] = info.allowed_pods
        self.pods_free[row] = info.allowed_pods - self.pod_count[row]
        self.unschedulable[row] = info.unschedulable
        old = self._row_labels[row]
        for k in old:
            if k not in info.labels:
                self.labels[k].codes[row] = -1
        for k, v in info.labels.items():
            col = self.label_column(k)
            col.codes[row] = col.intern(v)
        self._row_labels[row] = dict(info.labels)
        for t in self._row_taints[row]:
            self.taint_pos[row, t] = 0
        cols = []
        for i, taint in enumerate(info.taints):
            t = self.taint_column((taint.get("key") or "", taint.get("value") or "", taint.get("effect") or ""))
            if self.taint_pos[row, t] == 0:
                self.taint_pos[row, t] = i + 1
            cols.append(t)
        self._row_taints[row] = cols
        self._forget_images(row)
        for name, size in info.images.items():
            self.images.setdefault(name, {})[row] = size
        self._row_images[row] = dict(info.images)

    def _forget_images(self, row: int) -> None:
        """Drop the row from the image index (name -> {row: size}) for every image it had."""
        for name in self._row_images[row]:
            rows = self.images.get(name)
            if rows is not None:
                rows.pop(row, None)
                if not rows:
                    del self.images[name]

    def remove_node(self, row: int) -> None:
        self.version += 1
        self._names_snapshot = None
        info = self.infos[row]
        if info is not None:
            self.row_of.pop(info.name, None)
            info.row = -1
            for p in list(info.pods.values()):
                self.remove_pod(row, p)
        for d in (self.alloc, self.requested, self.free):
            for a in d.values():
                a[row] = 0
        self.non0_cpu[row] = self.non0_mem[row] = 0
        self.allowed_pods[row] = self.pod_count[row] = self.pods_free[row] = 0
        self.unschedulable[row] = False
        for k in self._row_labels[row]:
            self.labels[k].codes[row] = -1
        self.name_codes.codes[row] = -1
        for t in self._row_taints[row]:
            self.taint_pos[row, t] = 0
        self._forget_images(row)
        self._row_labels[row], self._row_taints[row], self._row_images[row] = {}, [], {}
        self.names[row] = None
        self.infos[row] = None
        self.free_rows.append(row)

    # -- pods ---------------------------------------------------------------------------
    def add_pod(self, row: int, p: PodInfo) -> None:
        for k, v in p.requests.items():
            if k not in self.requested:
                if not is_scalar_resource_name(k):
                    continue
                self._resource(k)
            self.requested[k][row] += v
            self.free[k][row] -= v
        self.non0_cpu[row] += p.non0_cpu
        self.non0_mem[row] += p.non0_mem
        self.pod_count[row] += 1
        self.pods_free[row] -= 1
        for ip, proto, port in p.host_ports:
            self.ports.setdefault((proto, port), {}).setdefault(row, Counter())[ip or DEFAULT_BIND_ALL_HOST_IP] += 1
        for listener in self.pod_listeners:
            listener(row, p, 1)

    def remove_pod(self, row: int, p: PodInfo) -> None:
        for k, v in p.requests.items():
            if k in self.requested:
                self.requested[k][row] -= v
                self.free[k][row] += v
        self.non0_cpu[row] -= p.non0_cpu
        self.non0_mem[row] -= p.non0_mem
        self.pod_count[row] -= 1
        self.pods_free[row] += 1
        for listener in self.pod_listeners:
            listener(row, p, -1)
        for ip, proto, port in p.host_ports:
            rows = self.ports.get((proto, port))
            if rows is None or row not in rows:
                continue
            c = rows[row]
            c[ip or DEFAULT_BIND_ALL_HOST_IP] -= 1
            if c[ip or DEFAULT_BIND_ALL_HOST_IP] <= 0:
                del c[ip or DEFAULT_BIND_ALL_HOST_IP]
            if not c:
                del rows[row]
            if not rows:
                del self.ports[(proto, port)]

    # -- derived columns ----------------------------------------------------------------
    def derived(self, key, compute):
        """A value computed from node facts only (labels, taints, names, images...), cached
        until a node is added, changed or removed: e.g. one node-affinity mask per distinct
        selector, shared by every pod of a ReplicaSet.  Callers must not modify it."""
        if self._derived_version != self.version:
            self._derived.clear()
            self._derived_version = self.version
        v = self._derived.get(key, _MISS)
        if v is _MISS:
            if len(self._derived) >= 512:
                self._derived.clear()
            v = self._derived[key] = compute()
        return v

    def image_sizes(self, name: str) -> np.ndarray:
        """int64 over rows [0, high): the size of image `name` on each node (0 if absent)."""
        cached = self._image_cols.get(name)
        if cached is not None and cached[0] == self.version and len(cached[1]) == self.high:
            return cached[1]
        col = np.zeros(self.high, np.int64)
        for row, size in (self.images.get(name) or {}).items():
            col[row] = size
        self._image_cols[name] = (self.version, col)
        return col

    def image_num_nodes(self, name: str) -> int:
        return len(self.images.get(name) or ())

    def port_conflicts(self, ip: str, protocol: str, port: int) -> np.ndarray:
        """bool over rows [0, high): HostPortInfo.CheckConflict for every node."""
        mask = np.zeros(self.high, bool)
        if port <= 0:
            return mask
        ip = ip or DEFAULT_BIND_ALL_HOST_IP
        for row, ips in (self.ports.get((protocol or "TCP", port)) or {}).items():
            if ip == DEFAULT_BIND_ALL_HOST_IP or DEFAULT_BIND_ALL_HOST_IP in ips or ip in ips:
                mask[row] = True
        return mask

    def rows_named(self, names) -> np.ndarray:
        return np.array([self.row_of[n] for n in names if n in self.row_of], dtype=np.int64)
