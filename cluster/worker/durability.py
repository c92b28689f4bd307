"""Durability: what each cluster has committed reaches the database, and an acknowledged write
is durable before its answer leaves.

etcd fsyncs its log before it answers a client; Pilothouse's etcd is simulated, so the worker
does the equivalent: the frame loop persists every cluster's newly committed entries (and its
clock, topology and etcd members' disks) once a frame, all clusters in one transaction, and a
command that changed a cluster (a Kubernetes write, an etcd put, a node killed ...) awaits a
persist before it is answered (`Persister.persist`).  Writers that arrive while a persist runs
wait for the next one, which carries all of them at once (a group commit), so a burst of
requests costs a few transactions, not one each.
"""
from __future__ import annotations

import asyncio
import time
from typing import Callable, Iterable

from channels.db import database_sync_to_async

from cluster import persistence
from cluster.worker import lessons
from cluster.worker.running import RunningCluster


class Persister:
    def __init__(self, clusters: Callable[[], Iterable[RunningCluster]]):
        self._clusters = clusters
        self._lock = asyncio.Lock()
        self.last = time.monotonic()  # when the latest persist finished

    def exclusive(self) -> asyncio.Lock:
        """Held while anything else writes a cluster's persisted state wholesale (a reset's new
        keyspace, a delete): no frame's write of the old engine may land after it."""
        return self._lock

    async def persist(self) -> None:
        """Write every cluster's changes since the last persist, in one transaction."""
        async with self._lock:
            writes, marks = [], []
            for rc in list(self._clusters()):
                if rc.engine is None or rc.closed:
                    continue
                write, mark = _frame_write(rc)
                if write is not None:
                    writes.append(write)
                    marks.append(mark)
            if not writes:
                self.last = time.monotonic()
                return
            await database_sync_to_async(persistence.save_frames)(writes)
            self.last = time.monotonic()
            for rc, entries, topology, clock, t, replace, epoch, disks, lesson, timeline in marks:
                rc.mark_persisted(topology, clock, t, disks)
                rc.persisted_lesson = lesson
                rc.timeline.handed(timeline)
                if epoch != rc.keyspace_epoch:
                    continue  # restored while this was written: the next frame replaces the log
                if replace is not None:
                    rc.restored_keyspace = None
                if entries:
                    rc.persisted_revision = max(rc.persisted_revision, max(int(e["revision"]) for e in entries))


def _frame_write(rc: RunningCluster):
    engine = rc.engine
    # Taken together: the disks' (index, term) point is the keyspace these entries bring the
    # persisted log up to.
    entries = engine.committed_since(rc.persisted_revision)
    disks = engine.etcd_disk_states()
    topology = engine.topology()
    clock = (rc.speed, rc.paused)
    replace = rc.restored_keyspace
    # The history, the journal and the lesson playing: what a restart keeps besides etcd.
    lesson = lessons.checkpoint_of(rc)
    if (replace is None and not entries and engine.now == rc.persisted_time and clock == rc.persisted_clock
            and topology == rc.persisted_topology and disks == rc.persisted_disks
            and lesson == rc.persisted_lesson and not rc.timeline.pending()):
        return None, None
    history, timeline = rc.timeline.unpersisted()
    write = persistence.FrameWrite(
        name=rc.name,
        time=engine.now,
        speed=rc.speed,
        paused=rc.paused,
        compacted_revision=engine.compacted_revision,
        entries=entries,
        topology=topology if topology != rc.persisted_topology else None,
        replace_keyspace=replace,
        etcd_disks=disks if disks != rc.persisted_disks else None,
        lesson=lesson if lesson != rc.persisted_lesson else None,
        **history,
    )
    return write, (rc, entries, topology, clock, engine.now, replace, rc.keyspace_epoch, disks, lesson, timeline)
