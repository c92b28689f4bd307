"""etcd's MVCC keyspace: every write makes a new revision; nothing is overwritten.

Mirrors etcd's mvcc package in what a student can observe: the store revision starts at 1 and
each put/delete increments it; a key has create_revision, mod_revision and version; reads and
watches can start from an older revision until it is compacted away, after which they fail with
ErrCompacted ("mvcc: required revision has been compacted").
"""
from __future__ import annotations

import bisect
from typing import Callable
from dataclasses import dataclass


class CompactedError(Exception):
    def __init__(self, compact_revision: int):
        super().__init__("mvcc: required revision has been compacted")
        self.compact_revision = compact_revision


class FutureRevisionError(Exception):
    def __init__(self):
        super().__init__("mvcc: required revision is a future revision")


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: str
    create_revision: int
    mod_revision: int
    version: int


@dataclass(frozen=True)
class Event:
    revision: int
    key: str
    value: str | None          # None: a delete (tombstone)
    prev: KeyValue | None = None


class MVCCStore:
    def __init__(self):
        self.revision = 1  # etcd's first revision; the first write makes revision 2
        self.compact_revision = 0
        self.current: dict[str, KeyValue] = {}
        self.log: list[Event] = []           # every event after compact_revision, by revision
        self.history: dict[str, list[tuple[int, KeyValue | None]]] = {}
        self.sorted_keys: list[str] = []     # live keys, sorted, for prefix ranges
        self.size = 0                        # bytes of the live keys and values (dbSize), kept as written
        # Called with (revision, key, value or None) after every write: how the simulator
        # learns what to persist (etcd's own backend would fsync here).
        self.on_commit: list = []

    # -- writes ------------------------------------------------------------------------
    def put(self, key: str, value: str) -> int:
        self.revision += 1
        prev = self.current.get(key)
        kv = KeyValue(key, value, prev.create_revision if prev else self.revision, self.revision,
                      prev.version + 1 if prev else 1)
        if prev is None:
            bisect.insort(self.sorted_keys, key)
        else:
            self.size -= len(prev.key) + len(prev.value)
        self.size += len(key) + len(value)
        self.current[key] = kv
        self.history.setdefault(key, []).append((self.revision, kv))
        self.log.append(Event(self.revision, key, value, prev))
        for fn in self.on_commit:
            fn(self.revision, key, value)
        return self.revision

    def delete(self, key: str) -> int | None:
        prev = self.current.pop(key, None)
        if prev is None:
            return None
        self.revision += 1
        self.size -= len(prev.key) + len(prev.value)
        i = bisect.bisect_left(self.sorted_keys, key)
        del self.sorted_keys[i]
        self.history[key].append((self.revision, None))
        self.log.append(Event(self.revision, key, None, prev))
        for fn in self.on_commit:
            fn(self.revision, key, None)
        return self.revision

    def txn(self, key: str, compare: str, target: int, value: str | None) -> tuple[bool, int, KeyValue | None]:
        """If the key's `compare` ("create" = create_revision, "mod" = mod_revision, "none" =
        always) equals `target`, put `value` (or delete when None).  Returns (succeeded,
        revision, current kv) as etcd's Txn response does."""
        cur = self.current.get(key)
        if compare == "create":
            ok = (cur.create_revision if cur else 0) == target
        elif compare == "mod":
            ok = (cur.mod_revision if cur else 0) == target
        else:
            ok = True
        if not ok:
            return False, self.revision, cur
        if value is None:
            if cur is None:
                return True, self.revision, None
            self.delete(key)
        else:
            self.put(key, value)
        return True, self.revision, self.current.get(key)

    # -- reads -------------------------------------------------------------------------
    def _check_rev(self, rev: int) -> None:
        if rev and rev < self.compact_revision:
            raise CompactedError(self.compact_revision)
        if rev > self.revision:
            raise FutureRevisionError()

    def get(self, key: str, rev: int = 0) -> KeyValue | None:
        self._check_rev(rev)
        if not rev or rev == self.revision:
            return self.current.get(key)
        hist = self.history.get(key, [])
        i = bisect.bisect_right(hist, rev, key=lambda h: h[0]) - 1
        return hist[i][1] if i >= 0 else None

    def range(self, prefix: str, rev: int = 0) -> list[KeyValue]:
        self._check_rev(rev)
        if not rev or rev == self.revision:
            i = bisect.bisect_left(self.sorted_keys, prefix)
            out = []
            keys = self.sorted_keys
            while i < len(keys) and keys[i].startswith(prefix):
                out.append(self.current[keys[i]])
                i += 1
            return out
        return [kv for k in sorted(self.history) if k.startswith(prefix)
                for kv in [self.get(k, rev)] if kv is not None]

    def events_since(self, start_revision: int, prefix: str = "") -> list[Event]:
        """Events with revision >= start_revision (an etcd watch's start)."""
        if start_revision and start_revision <= self.compact_revision:
            raise CompactedError(self.compact_revision)
        i = bisect.bisect_left(self.log, start_revision, key=lambda e: e.revision)
        return [e for e in self.log[i:] if e.key.startswith(prefix)]

    # -- compaction --------------------------------------------------------------------
    def compact(self, rev: int) -> None:
        """Drop history before `rev`: reads and watches from older revisions fail afterwards."""
        if rev <= self.compact_revision:
            raise CompactedError(self.compact_revision)
        if rev > self.revision:
            raise FutureRevisionError()
        self.compact_revision = rev
        i = bisect.bisect_left(self.log, rev, key=lambda e: e.revision)
        self.log = self.log[i:]
        for key in list(self.history):
            hist = self.history[key]
            j = bisect.bisect_right(hist, rev, key=lambda h: h[0]) - 1
            if j > 0:
                hist = hist[j:]
            if len(hist) == 1 and hist[0][1] is None and hist[0][0] <= rev:
                del self.history[key]
            else:
                self.history[key] = hist

    # -- persistence -------------------------------------------------------------------
    def replay(self, revision: int, key: str, value: str | None) -> None:
        """Re-apply a committed entry loaded from storage (revisions must come in order)."""
        if revision != self.revision + 1:
            # Revisions burnt by failed txns never reach storage: jump to keep numbering.
            self.revision = revision - 1
        if value is None:
            if self.delete(key) is None:
                self.revision += 1
        else:
            self.put(key, value)

    # -- snapshots -----------------------------------------------------------------------
    # The whole keyspace as a Raft snapshot's data (etcd sends its bolt database file, the
    # mvcc backend, to a follower that fell behind the leader's log compaction).  Everything
    # kept since the last compaction is in it - every revision's history and event log - so a
    # follower restored from it answers reads, txn compares (create_revision, version) and
    # watches exactly as the leader would.  JSON-compatible; a KeyValue is
    # [key, value, create_revision, mod_revision, version].

    def to_snapshot(self) -> dict:
        return self.snapshot_view()()

    def snapshot_view(self) -> Callable[[], dict]:
        """The keyspace as it is now, made into to_snapshot's form only when called (a Raft
        snapshot's data is read only when a follower needs it).  Capturing it costs one small
        tuple per key: a key's history list and the log are only ever appended to in place
        (compact() makes new lists), so their first n items stay what they are now, and
        KeyValue and Event are frozen.  A large keyspace snapshotted every --snapshot-count
        writes would otherwise be copied whole each time."""
        revision, compact_revision = self.revision, self.compact_revision
        histories = [(key, hist, len(hist)) for key, hist in self.history.items()]
        log, log_length = self.log, len(self.log)

        def kv(k: KeyValue | None):
            return None if k is None else [k.key, k.value, k.create_revision, k.mod_revision, k.version]

        def make() -> dict:
            return {"revision": revision, "compactRevision": compact_revision,
                    "history": [[key, [[rev, kv(k)] for rev, k in hist[:n]]] for key, hist, n in histories],
                    "log": [[e.revision, e.key, e.value, kv(e.prev)] for e in log[:log_length]]}
        return make

    @classmethod
    def from_snapshot(cls, data: dict) -> "MVCCStore":
        store = cls()
        store.restore(data)
        return store

    def restore(self, data: dict) -> None:
        """Replace this keyspace by a snapshot's (etcd mvcc store.Restore), in place: whoever
        holds this store (and its on_commit listeners) keeps it.  `data` is left untouched."""
        def kv(x) -> KeyValue | None:
            return None if x is None else KeyValue(*x)

        self.revision = data["revision"]
        self.compact_revision = data["compactRevision"]
        self.history = {key: [(rev, kv(k)) for rev, k in hist] for key, hist in data["history"]}
        self.current = {key: hist[-1][1] for key, hist in self.history.items() if hist[-1][1] is not None}
        self.sorted_keys = sorted(self.current)
        self.size = sum(len(kv.key) + len(kv.value) for kv in self.current.values())
        self.log = [Event(rev, key, value, kv(prev)) for rev, key, value, prev in data["log"]]
