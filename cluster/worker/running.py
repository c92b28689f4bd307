"""RunningCluster: one engine plus the worker's bookkeeping for it (clock, frames, log ring,
what has been persisted).

A cluster whose restore failed has no engine: it is `broken` (the error, as text) and serves
only the commands that inspect and repair it (state, reset, delete, retry, delete a stored
key); every other command answers 409 ClusterBroken.  The other clusters run on.
"""
from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field

from cluster.worker.frames import LOG_RING_SIZE, SnapshotClock
from cluster.worker.pacing import LagMeter
from cluster.worker.timeline import Timeline
from cluster.worker.snapdelta import DeltaEncoder


@dataclass
class RunningCluster:
    name: str
    engine: object | None  # sim.cluster.Cluster; None while broken
    speed: float = 1.0
    paused: bool = False
    # Pacing: virtual time = anchor_virtual + (wall - anchor_wall) * speed while running.
    anchor_wall: float = 0.0
    anchor_virtual: float = 0.0
    lag: LagMeter = field(default_factory=LagMeter)
    frame: int = 0
    log: collections.deque = field(default_factory=lambda: collections.deque(maxlen=LOG_RING_SIZE))
    pending_events: list = field(default_factory=list)
    # The snapshot the pages hold after the last frame (the `state` command hands it out with
    # that frame's number); the next frame's snapshot goes as a delta against it.
    last_snapshot: dict | None = None
    deltas: DeltaEncoder = field(default_factory=DeltaEncoder)
    last_sent_time: float | None = None
    snapshots: SnapshotClock = field(default_factory=SnapshotClock)
    clock_changed: bool = True
    # A frame went out without the snapshot of what it changed (the snapshot clock deferred
    # it): a later frame owes the pages that snapshot even if nothing else happens by then (a
    # node killed in a paused cluster would otherwise never be drawn down).
    snapshot_owed: bool = False
    # The configuration the cluster was created with (ClusterConfig.to_json()): "reset" returns to it.
    template: dict | None = None
    # Why the restore failed (None: the engine runs).
    broken: str | None = None
    # Set when the cluster is deleted or reset: long-running commands on it stop.
    closed: bool = False
    # What the persisted row holds (see cluster.worker.durability).
    persisted_revision: int = 0
    persisted_time: float | None = None
    persisted_topology: dict | None = None
    persisted_clock: tuple | None = None
    persisted_disks: dict | None = None
    persisted_lesson: dict = field(default_factory=dict)
    # An etcd snapshot restore not persisted yet: the restored keyspace as entries, which the
    # next frame's write puts in place of the persisted log.  The epoch counts restores, so a
    # write begun before one does not mark the new keyspace's revisions as persisted.
    restored_keyspace: list | None = None
    keyspace_epoch: int = 0
    # Its journal and history of moments (cluster/worker/timeline.py).
    timeline: Timeline = field(default_factory=lambda: Timeline(None, "the run has no origin"))
    # Suspension (cluster/worker/suspension.py): when anything last asked for the cluster (a
    # command: a page's state, an API request), how many pages watch it now, and whether the
    # worker has stopped ticking it because nobody did for a while.
    last_active: float = field(default_factory=time.monotonic)
    watchers: int = 0
    suspended: bool = False
    # What the presenter shows (issue 13, "follow the teacher"): {"view", "selection"} or None.
    follow: dict | None = None

    def reanchor(self) -> None:
        self.anchor_wall = time.monotonic()
        self.anchor_virtual = self.engine.now if self.engine is not None else 0.0

    def target(self, wall: float) -> float:
        """Where the virtual clock should be at wall time `wall`."""
        return self.anchor_virtual + (wall - self.anchor_wall) * self.speed

    def clock(self) -> dict:
        return {"time": self.engine.now if self.engine is not None else 0.0, "speed": self.speed,
                "paused": self.paused, "pace": round(self.lag.ratio, 3)}

    def mark_persisted(self, topology: dict, clock: tuple, time_: float, disks: dict) -> None:
        self.persisted_topology, self.persisted_clock = topology, clock
        self.persisted_time, self.persisted_disks = time_, disks
