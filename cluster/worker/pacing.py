"""Pacing: how far each cluster's virtual clock should be, and running its engine there in
bounded slices of wall time.

A cluster runs at `speed` x the wall clock: virtual = anchor_virtual + (wall - anchor_wall) x
speed.  Each frame the worker gives a cluster a slice of wall time (`slice_seconds`); an
engine with more work than that (a 100,000-replica ReplicaSet being filled, say) stops at the
slice's end, and its clock falls behind.  Then the anchor moves to where the engine really is,
so the debt is never paid back in a burst that would starve HTTP and the WebSocket, and the
LagMeter reports the ratio the cluster really runs at, which the page shows ("running at 0.4x
of the speed asked").

The engine (sim/) never reads the wall clock: the worker runs it in chunks of a bounded number
of events (Cluster.run_until(t, max_events=...)), looks at the wall clock between them, and
lets the event loop serve everything else every few milliseconds.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from cluster.worker.foreground import Foreground

# Down to 0.01x, so that a Raft election (a 100 ms heartbeat becomes 10 s) can be followed by eye.
MIN_SPEED, MAX_SPEED = 0.01, 50.0
# Of each frame's interval, the share the engines may use between them; the rest is left for
# HTTP, the WebSocket, persistence and the frame itself.
ENGINE_SHARE = 0.5
# A slice is never shorter than this, however many clusters share a frame.
MIN_SLICE_SECONDS = 0.005
# The wall clock is read between chunks of this many kernel events.  An event such as a
# kubelet's status update, decoded, patched and validated by the apiserver, costs up to 1.5 ms;
# when a node's image pull ends and thirty pods start at once, a chunk of 20 of them held the
# loop for 30 ms, and a request arriving meanwhile waited for it (creates at 20/s: p99 41-46 ms
# at 20, 37-38 ms at 4).  Reading the clock costs a microsecond or so a chunk ...
CHUNK_EVENTS = 4
# ... and the event loop gets a turn at least this often: an HTTP request takes several turns
# of the loop (the accept, the read, the view, the channel layer, the worker's answer), each of
# which would otherwise wait for a whole slice; the first few come before the request counts as
# foreground (cluster/worker/foreground.py).  At 5 ms, creates at 20/s had a p90 of 23-46 ms;
# at 2 ms, 15-25 ms.
YIELD_SECONDS = 0.002
# Below this ratio of the speed asked, a cluster is reported as falling behind.
BEHIND_RATIO = 0.95


async def run_sliced(step, seconds: float, foreground: "Foreground | None" = None):
    """Call `step()` (a chunk of engine work: a result when done, None to go on) for at most
    about `seconds` of wall time, yielding to the event loop every YIELD_SECONDS so that HTTP and
    the WebSocket are served meanwhile.  Its result, or None when the time ran out first.

    Background work passes `foreground` (cluster/worker/foreground.py): while a request is in
    flight it steps aside instead, then runs one burst before it may step aside again."""
    deadline = time.monotonic() + seconds
    burst_end = min(deadline, time.monotonic() + YIELD_SECONDS)
    aside_after = 0.0
    while (result := step()) is None:
        now = time.monotonic()
        if now >= deadline:
            return None
        if foreground is not None and foreground.busy and now >= aside_after:
            await foreground.step_aside(deadline)
            aside_after = burst_end = min(deadline, time.monotonic() + YIELD_SECONDS)
        elif now >= burst_end:
            await asyncio.sleep(0)
            burst_end = min(deadline, time.monotonic() + YIELD_SECONDS)
    return result


async def run_slice(engine, until: float, seconds: float, foreground: "Foreground | None" = None) -> bool:
    """Run `engine` toward virtual time `until` (chunks of CHUNK_EVENTS kernel events) for at
    most about `seconds` of wall time.  True when it got there.  `foreground`: see run_sliced."""
    return bool(await run_sliced(lambda: engine.run_until(until, max_events=CHUNK_EVENTS) or None, seconds,
                                 foreground))


async def run_request_slice(engine, pending, seconds: float) -> dict | None:
    """Run `engine` until the begun request (Cluster.begin_request) is answered, for at most
    about `seconds` of wall time: its response, or None when the slice ended first."""
    return await run_sliced(lambda: engine.run_request(pending, max_events=CHUNK_EVENTS), seconds)


@dataclass
class LagMeter:
    """The ratio of virtual time a cluster got to the virtual time it was asked for, smoothed
    over about a second of frames (an exponential moving average)."""

    ratio: float = 1.0
    smoothing: float = 0.1

    def record(self, asked: float, got: float) -> None:
        if asked <= 0:
            return
        self.ratio += self.smoothing * (min(1.0, max(0.0, got / asked)) - self.ratio)

    @property
    def behind(self) -> bool:
        return self.ratio < BEHIND_RATIO

    def reset(self) -> None:
        self.ratio = 1.0
