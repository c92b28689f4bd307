"""Checking an etcd snapshot before it is restored (POST /clusters/<n>/sim/v1/etcd/snapshot/restore).

A snapshot is what `GET .../etcd/snapshot` (`Cluster.etcd_snapshot_save`) returns:

    {"member": "etcd-1", "revision": 412, "kvs": [[key, value, mod_revision], ...]}

`parse(data)` returns it normalised ({"revision", "kvs"}, kvs ordered by mod_revision, then
key) or raises `SnapshotInvalid`, whose `causes` are Kubernetes-style field causes
({"type", "field", "message"}) for a 422 Status.  Everything is checked before anything is
restored, so a bad file changes nothing:

* revision is an integer >= 1; kvs is a list of [key, value, mod_revision];
* a key is a non-empty string of at most 512 characters (what cluster.models.EtcdEntry
  holds), and appears once;
* a value is a string; under /registry/ (what kube-apiserver reads back) it is a JSON object
  with metadata.name, as the apiserver stores every object;
* 1 <= mod_revision <= revision.
"""
from __future__ import annotations

import json
from typing import Any

MAX_KEY_LENGTH = 512  # cluster.models.EtcdEntry.key
MAX_CAUSES = 10
SHAPE = 'expected {"revision": <int>, "kvs": [[key, value, mod_revision], ...]} as GET .../etcd/snapshot returns it'


class SnapshotInvalid(ValueError):
    """The snapshot cannot be restored; `causes` say where."""

    def __init__(self, causes: list[dict[str, str]], more: int = 0):
        self.causes = causes
        self.more = more
        first = "; ".join(f"{c['field']}: {c['message']}" for c in causes[:3])
        rest = len(causes) - 3 + more
        super().__init__(f"not a restorable etcd snapshot: {first}" + (f" (and {rest} more)" if rest > 0 else ""))
        self.message = str(self)


def _cause(field: str, message: str, kind: str = "FieldValueInvalid") -> dict[str, str]:
    return {"type": kind, "field": field, "message": message}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse(data: Any) -> dict[str, Any]:
    """The snapshot normalised for Cluster.etcd_snapshot_restore, or SnapshotInvalid."""
    if not isinstance(data, dict):
        raise SnapshotInvalid([_cause("<body>", SHAPE, "FieldValueTypeInvalid")])
    causes: list[dict[str, str]] = []
    more = 0

    def bad(field: str, message: str, kind: str = "FieldValueInvalid") -> None:
        nonlocal more
        if len(causes) < MAX_CAUSES:
            causes.append(_cause(field, message, kind))
        else:
            more += 1

    revision = data.get("revision")
    if "revision" not in data:
        bad("revision", "Required value", "FieldValueRequired")
    elif not _is_int(revision) or revision < 1:
        bad("revision", f"must be an integer >= 1, not {json.dumps(revision)[:40]}")
        revision = None
    kvs = data.get("kvs")
    if "kvs" not in data:
        bad("kvs", "Required value", "FieldValueRequired")
        kvs = []
    elif not isinstance(kvs, list):
        bad("kvs", "must be a list of [key, value, mod_revision]", "FieldValueTypeInvalid")
        kvs = []
    seen: set[str] = set()
    out: list[tuple[int, str, str]] = []
    for i, kv in enumerate(kvs):
        where = f"kvs[{i}]"
        if not isinstance(kv, list) or len(kv) != 3:
            bad(where, "must be [key, value, mod_revision]", "FieldValueTypeInvalid")
            continue
        key, value, mod = kv
        ok = True
        if not isinstance(key, str) or not key:
            bad(f"{where}[0]", "key must be a non-empty string")
            ok = False
        elif len(key) > MAX_KEY_LENGTH:
            bad(f"{where}[0]", f"key is longer than {MAX_KEY_LENGTH} characters", "FieldValueTooLong")
            ok = False
        elif key in seen:
            bad(f"{where}[0]", f"duplicate key {key!r}", "FieldValueDuplicate")
            ok = False
        if not isinstance(value, str):
            bad(f"{where}[1]", "value must be a string", "FieldValueTypeInvalid")
            ok = False
        elif isinstance(key, str) and key.startswith("/registry/"):
            try:
                obj = json.loads(value)
            except ValueError:
                obj = None
            md = obj.get("metadata") if isinstance(obj, dict) else None
            if not isinstance(md, dict) or not isinstance(md.get("name"), str) or not md["name"]:
                bad(f"{where}[1]", f"{key}: a Kubernetes object must be stored as JSON with metadata.name")
                ok = False
        if not _is_int(mod) or mod < 1:
            bad(f"{where}[2]", "mod_revision must be an integer >= 1")
            ok = False
        elif _is_int(revision) and mod > revision:
            bad(f"{where}[2]", f"mod_revision {mod} is after the snapshot's revision {revision}")
            ok = False
        if ok:
            seen.add(key)
            out.append((mod, key, value))
    if causes:
        raise SnapshotInvalid(causes, more)
    out.sort()
    return {"revision": revision, "kvs": [[key, value, mod] for mod, key, value in out]}


def keyspace_entries(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """A parsed snapshot as persisted etcd entries ({"revision", "key", "value"}, oldest
    first), for cluster.persistence to replace a cluster's log with.

    Replaying them rebuilds the keyspace at the snapshot's revision: when that revision is
    past the newest mod_revision (the last writes were deletes), a tombstone of a key that
    never existed at the snapshot's revision carries the revision, as a compacted log keeps
    its newest entry."""
    entries = [{"revision": mod, "key": key, "value": value} for key, value, mod in snapshot["kvs"]]
    newest = max((e["revision"] for e in entries), default=0)
    if snapshot["revision"] > newest and snapshot["revision"] > 1:
        live = {e["key"] for e in entries}
        mark = RESTORE_MARK
        while mark in live:  # never delete a live key
            mark += "~"
        entries.append({"revision": snapshot["revision"], "key": mark, "value": None})
    return entries


# The key of that tombstone: outside /registry/, so no Kubernetes component reads it.
RESTORE_MARK = "/pilothouse/snapshot-restore"
