"""The snapshot clock (cluster/worker/frames.py SnapshotClock): how often a cluster's frames
carry a snapshot, by what the last one cost in CPU."""
from __future__ import annotations

from cluster.worker.frames import (CHEAP_SNAPSHOT_SECONDS, MAX_SNAPSHOT_DEFER_SECONDS, SNAPSHOT_CPU_SHARE,
                                   SnapshotClock)


def test_a_cheap_snapshot_goes_with_every_frame_however_long_it_took_by_the_clock():
    clock = SnapshotClock()
    # Ten times the cheap limit by the wall clock (other processes had the CPU), cheap in CPU.
    clock.took(100.0 + 10 * CHEAP_SNAPSHOT_SECONDS, cost=CHEAP_SNAPSHOT_SECONDS / 2)
    assert clock.due(100.0 + 10 * CHEAP_SNAPSHOT_SECONDS)


def test_an_expensive_snapshot_waits_until_it_is_its_share_of_the_time():
    clock = SnapshotClock()
    cost = 4 * CHEAP_SNAPSHOT_SECONDS
    clock.took(100.0 + cost, cost=cost)
    next_at = 100.0 + cost + cost * (1 / SNAPSHOT_CPU_SHARE - 1)
    assert not clock.due(next_at - 0.001) and clock.due(next_at)
    clock.force()  # a command changed the cluster: the next frame shows it
    assert clock.due(100.0 + cost)


def test_a_snapshot_waits_for_a_request_in_flight_but_not_for_long():
    clock = SnapshotClock()
    clock.took(100.001, cost=0.001)
    assert not clock.due(100.5, defer=True) and clock.due(100.5)
    assert clock.due(100.001 + MAX_SNAPSHOT_DEFER_SECONDS, defer=True)
