"""Reading and writing the persisted clusters: synchronous ORM code the worker runs in a thread.

The worker calls these through `database_sync_to_async`, so each runs on Django's
thread-sensitive executor and the event loop keeps serving while SQLite or PostgreSQL writes.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef

from cluster.models import EtcdEntry, HistoryMoment, JournalEntry, SimCluster

log = logging.getLogger("cluster.worker")


@dataclass
class PersistedCluster:
    """Everything `sim.cluster.Cluster.restore` needs, plus the clock settings."""

    name: str
    topology: dict
    time: float
    speed: float
    paused: bool
    compacted_revision: int
    persisted_revision: int
    etcd_log: list[dict[str, Any]]
    etcd_disks: dict[str, dict]
    # The cluster's configuration when it was created (ClusterConfig.to_json()): "reset" goes
    # back to it.  Empty for clusters persisted before templates were kept.
    template: dict | None = None
    # Why the row could not be read (None: it could).  The worker serves such a cluster broken.
    error: str | None = None
    # The run's timeline (SimCluster.timeline), its journal ({"t", "events", "op", "args"}, in
    # order) and its history's moments (HistoryMoment rows as dicts, oldest first): what
    # cluster/worker/timeline.py Timeline.restored takes.
    timeline: dict | None = None
    journal: list[dict] | None = None
    moments: list[dict] | None = None
    # The lesson that was playing (Player.checkpoint()), {} none.
    lesson: dict | None = None


def _encode_value(value: Any) -> str | None:
    # etcd stores bytes; the engine hands us JSON-compatible values (or None for a delete).
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _decode_value(text: str | None) -> Any:
    """The engine's value (a string: the stored object's JSON) from its column.  A column that
    is not what _encode_value wrote (a hand-edited or damaged database) is handed to the engine
    as the raw text, as etcd hands back whatever bytes it holds: kube-apiserver then reports
    that object as corrupt instead of the whole cluster failing to load."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) or value is None else text


def load_all() -> list[PersistedCluster]:
    """Every persisted cluster with its whole committed etcd log, oldest revision first.  A row
    that cannot be read comes back with `error` set instead of failing the others."""
    return [_load(row) for row in SimCluster.objects.all()]


def load_one(name: str) -> PersistedCluster | None:
    row = SimCluster.objects.filter(name=name).first()
    return None if row is None else _load(row)


def _load(row: SimCluster) -> PersistedCluster:
    try:
        log = [
            {"revision": rev, "key": key, "value": _decode_value(value)}
            for rev, key, value in row.etcd_entries.order_by("revision", "id").values_list(
                "revision", "key", "value"
            )
        ]
        error = None
        if not isinstance(row.topology, dict) or not isinstance(row.topology.get("config"), dict):
            error = "the stored topology is not a cluster's topology"
    except Exception as e:  # a damaged database: serve the cluster broken, load the others
        log, error = [], f"{type(e).__name__}: {e}"
    try:
        journal, moments = _load_timeline(row)
        meta = row.timeline if isinstance(row.timeline, dict) else {}
    except Exception:  # a damaged history loses the history, not the cluster
        journal, moments, meta = [], [], {}
    return PersistedCluster(
        name=row.name,
        topology=row.topology if isinstance(row.topology, dict) else {},
        time=row.time,
        speed=row.speed,
        paused=row.paused,
        compacted_revision=row.compacted_revision,
        persisted_revision=row.persisted_revision,
        etcd_log=log,
        etcd_disks=row.etcd_disks if isinstance(row.etcd_disks, dict) else {},
        template=row.template if isinstance(row.template, dict) and row.template else None,
        error=error,
        timeline=meta,
        journal=journal,
        moments=moments,
        lesson=row.lesson if isinstance(row.lesson, dict) else {},
    )


def _load_timeline(row: SimCluster) -> tuple[list[dict], list[dict]]:
    """The journal (up to the first entry missing, if a write of it failed: what follows would
    replay out of order) and the moments."""
    journal = []
    for seq, t, events, op, args in row.journal_entries.order_by("seq").values_list("seq", "time", "events", "op", "args"):
        if seq != len(journal):
            break
        journal.append({"t": t, "events": events, "op": op, "args": args})
    moments = [dict(m, blob=bytes(m["blob"])) for m in row.history_moments.order_by("seq").values(
        "seq", "time", "frame", "events", "revision", "journal", "replayable", "blob")]
    return journal, moments


def stored_keys(name: str, limit: int = 200) -> list[str]:
    """The newest keys of a cluster's persisted keyspace (for the repair of a broken one)."""
    return list(EtcdEntry.objects.filter(cluster__name=name).order_by("-revision")
                .values_list("key", flat=True).distinct()[:limit])


def delete_cluster(name: str) -> None:
    SimCluster.objects.filter(name=name).delete()  # its entries go with it (CASCADE)


def delete_key(name: str, key: str) -> int:
    """Remove every persisted revision of `key` (an offline repair); how many rows went."""
    deleted, _ = EtcdEntry.objects.filter(cluster__name=name, key=key).delete()
    return deleted


def cluster_exists(name: str) -> bool:
    return SimCluster.objects.filter(name=name).exists()


@dataclass
class FrameWrite:
    """One frame's worth of changes for one cluster, written in one transaction."""

    name: str
    time: float
    speed: float
    paused: bool
    compacted_revision: int
    entries: list[dict[str, Any]]  # Cluster.committed_since(): {"revision", "key", "value"}
    topology: dict | None = None  # only when it changed (or on create)
    # After an etcd snapshot restore: the restored keyspace as entries (oldest first, see
    # cluster.etcdsnapshot.keyspace_entries).  They replace every persisted entry of the
    # cluster, in this frame's transaction, before `entries` (written since the restore) are
    # appended; the compaction point starts again from `compacted_revision`.
    replace_keyspace: list[dict[str, Any]] | None = None
    # Cluster.etcd_disk_states() at the moment `entries` were taken (only when they changed).
    etcd_disks: dict[str, dict] | None = None
    # On create (and reset): the configuration "reset" returns to.
    template: dict | None = None
    # The timeline (cluster/worker/timeline.py Timeline.unpersisted()): SimCluster.timeline when
    # it changed, the journal entries and moments kept since the last write ({"seq", ...}), and
    # the moments the ring let go (each seq below `moments_from`, and each of `moments_dropped`).
    timeline: dict | None = None
    journal: list[dict] | None = None
    moments: list[dict] | None = None
    moments_from: int | None = None
    moments_dropped: list[int] | None = None
    # A new run (a reset): the old journal and history go first.
    new_run: bool = False
    # The lesson playing (Player.checkpoint()) when it changed; {} when it stopped.
    lesson: dict | None = None


def save_frames(writes: list[FrameWrite], create: bool = False) -> None:
    """Persist the new etcd entries and the clock of each cluster, all in ONE transaction.

    With create=True the cluster rows are created first (a newly seeded cluster).  A write
    with `replace_keyspace` (an etcd snapshot restore) first replaces the cluster's whole
    persisted log with it, in the same transaction."""
    if not writes:
        return
    with transaction.atomic():
        for w in writes:
            if create:
                row = SimCluster.objects.create(
                    name=w.name,
                    topology=w.topology or {},
                    time=w.time,
                    speed=w.speed,
                    paused=w.paused,
                    template=w.template or {},
                )
            else:
                row = SimCluster.objects.select_for_update().get(name=w.name)
            if w.template is not None:
                row.template = w.template
            if w.replace_keyspace is not None and not create:
                # A restored snapshot: the old log goes, revisions and all (the restored
                # keyspace may reuse revisions the old one had).
                EtcdEntry.objects.filter(cluster=row).delete()
                _insert(row, w.replace_keyspace)
                row.persisted_revision = max((int(e["revision"]) for e in w.replace_keyspace), default=0)
                row.compacted_revision = 0
            if w.entries:
                _insert(row, w.entries)
                row.persisted_revision = max(row.persisted_revision, max(int(e["revision"]) for e in w.entries))
            if w.compacted_revision > row.compacted_revision:
                _compact(row, w.compacted_revision)
            try:
                with transaction.atomic():   # a savepoint: a failed history write loses history, not etcd
                    _write_timeline(row, w)
            except DatabaseError:
                log.exception("cluster %s: its history could not be written", w.name)
            row.time = w.time
            row.speed = w.speed
            row.paused = w.paused
            row.compacted_revision = w.compacted_revision
            if w.etcd_disks is not None:
                row.etcd_disks = w.etcd_disks
            if w.topology is not None:
                row.topology = w.topology
            row.save()


def _write_timeline(row: SimCluster, w: FrameWrite) -> None:
    if w.new_run:
        JournalEntry.objects.filter(cluster=row).delete()
        HistoryMoment.objects.filter(cluster=row).delete()
    if w.timeline is not None:
        row.timeline = w.timeline
    if w.lesson is not None:
        row.lesson = w.lesson
    if w.journal:
        JournalEntry.objects.bulk_create(
            [JournalEntry(cluster=row, seq=e["seq"], time=e["t"], events=e["events"], op=e["op"], args=e["args"])
             for e in w.journal], batch_size=500)
    if w.moments_dropped:
        HistoryMoment.objects.filter(cluster=row, seq__in=w.moments_dropped).delete()
    if w.moments:
        HistoryMoment.objects.bulk_create([HistoryMoment(cluster=row, **m) for m in w.moments], batch_size=100)
    if w.moments_from is not None:
        HistoryMoment.objects.filter(cluster=row, seq__lt=w.moments_from).delete()


def _insert(row: SimCluster, entries: list[dict[str, Any]]) -> None:
    EtcdEntry.objects.bulk_create(
        [
            EtcdEntry(
                cluster=row,
                revision=int(e["revision"]),
                key=str(e["key"]),
                value=_encode_value(e.get("value")),
            )
            for e in entries
        ],
        batch_size=500,
    )


def _compact(row: SimCluster, revision: int) -> None:
    """Drop what etcd's compaction drops: every entry at or below `revision` that a later entry
    at or below it supersedes, then the tombstones at or below it.  What remains restores the
    same keyspace (etcd keeps the latest version of each live key).  The newest entry is always
    kept, so the restored store's revision never goes backwards."""
    upto = min(revision, row.persisted_revision - 1)
    if upto <= 0:
        return
    newer = EtcdEntry.objects.filter(
        cluster=row, key=OuterRef("key"), revision__gt=OuterRef("revision"), revision__lte=upto
    )
    EtcdEntry.objects.filter(cluster=row, revision__lte=upto).filter(Exists(newer)).delete()
    EtcdEntry.objects.filter(cluster=row, revision__lte=upto, value__isnull=True).delete()
