"""The deterministic kernel: virtual clock, one event queue, one seeded RNG, the trace.

Events are ordered by (virtual time, sequence number), so two events at the same instant run in
the order they were scheduled.  Nothing here reads the wall clock: the same seed and the same
commands give the same trace, byte for byte (tests/sim/test_determinism.py).
"""
from __future__ import annotations

import heapq
import json
import random
from typing import Any, Callable


class Kernel:
    def __init__(self, seed: int = 1, start_time: float = 0.0):
        self.seed = seed
        self.now = float(start_time)
        # Seconds from sim.api.meta.EPOCH to virtual time 0: API timestamps read
        # EPOCH + epoch_offset + now.  A setting, never the wall clock, so traces stay reproducible.
        self.epoch_offset = 0.0
        self.rng = random.Random(seed)
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self._cancelled: set[int] = set()
        self.trace: list[dict[str, Any]] = []
        self.trace_enabled = True
        self.components: dict[str, Any] = {}
        from sim.network import Network  # local import: network needs the kernel type only

        self.network = Network(self)

    # -- event queue -------------------------------------------------------------------
    def call_at(self, when: float, fn: Callable[[], None]) -> int:
        self._seq += 1
        heapq.heappush(self._queue, (max(when, self.now), self._seq, fn))
        return self._seq

    def call_later(self, delay: float, fn: Callable[[], None]) -> int:
        return self.call_at(self.now + max(0.0, delay), fn)

    def cancel(self, handle: int) -> None:
        self._cancelled.add(handle)

    def next_time(self) -> float | None:
        while self._queue and self._queue[0][1] in self._cancelled:
            self._cancelled.discard(heapq.heappop(self._queue)[1])
        return self._queue[0][0] if self._queue else None

    def step(self) -> bool:
        """Run the next event; False when the queue is empty."""
        while self._queue:
            when, seq, fn = heapq.heappop(self._queue)
            if seq in self._cancelled:
                self._cancelled.discard(seq)
                continue
            self.now = when
            fn()
            return True
        return False

    def run_until(self, until: float, stop: Callable[[], bool] | None = None) -> None:
        """Run every event due at or before `until`, then set the clock to `until`.

        With `stop`, return as soon as it answers True (the clock stays at that event)."""
        queue = self._queue
        cancelled = self._cancelled
        while queue and queue[0][0] <= until:
            when, seq, fn = heapq.heappop(queue)
            if seq in cancelled:
                cancelled.discard(seq)
                continue
            self.now = when
            fn()
            if stop is not None and stop():
                return
        if until > self.now:
            self.now = until

    def advance(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    # -- components --------------------------------------------------------------------
    def add_component(self, component) -> None:
        if component.address in self.components:
            raise ValueError(f"component {component.address} exists")
        self.components[component.address] = component
        component.attach(self)

    # -- trace -------------------------------------------------------------------------
    def emit(self, kind: str, **fields: Any) -> None:
        """Record one typed trace event.  Field values must be JSON-compatible."""
        if self.trace_enabled:
            fields["t"] = round(self.now, 6)
            fields["kind"] = kind
            self.trace.append(fields)

    def drain_trace(self) -> list[dict[str, Any]]:
        out, self.trace = self.trace, []
        return out

    @staticmethod
    def trace_bytes(events: list[dict[str, Any]]) -> bytes:
        return "\n".join(json.dumps(e, sort_keys=True, separators=(",", ":")) for e in events).encode()
