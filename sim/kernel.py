"""The deterministic kernel: virtual clock, one event queue, one seeded RNG, the trace.

Events are ordered by (virtual time, sequence number), so two events at the same instant run in
the order they were scheduled.  Nothing here reads the wall clock: the same seed and the same
commands give the same trace, byte for byte (tests/sim/test_kernel.py).

Failures stay where they belong.  An exception raised by one event's callback (one message, one
timer of one component) is recovered here, as Go's utilruntime.HandleCrash recovers a panic in a
goroutine: it is recorded in `errors`, traced as {"kind": "error", "component", "message"},
logged, and the run goes on with the next event, so whoever happens to be running the kernel (an
HTTP request, a frame) never receives another object's error.  `really_crash` (upstream's
utilruntime.ReallyCrash, which tests set) re-raises instead: tests/sim/conftest.py sets it so an
unexpected exception still fails a test loudly.

Bounded slices.  `run_until(t, max_events=N)` runs at most N events and answers whether it reached
`t`; a caller that must stay responsive (the Channels worker) loops on it, yielding in between,
and gets the very same trace as one uninterrupted run.
"""
from __future__ import annotations

import heapq
import json
import logging
import random
import traceback
from typing import Any, Callable

log = logging.getLogger("sim")

# How many recovered errors a kernel keeps (the trace has every one; this is for inspection).
MAX_ERRORS = 100


class Kernel:
    # utilruntime.ReallyCrash: re-raise recovered errors instead of carrying on (tests).
    really_crash = False

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
        # Recovered errors, newest last: {"t", "component", "message", "traceback"}.
        self.errors: list[dict[str, Any]] = []
        self.error_counts: dict[tuple[str | None, str], int] = {}  # (component, message) -> times
        # Events run since the kernel was made (the caller's measure of work done).
        self.events_run = 0
        from sim.network import Network  # local import: network needs the kernel type only

        self.network = Network(self)

    # -- event queue -------------------------------------------------------------------
    def call_at(self, when: float, fn: Callable[[], None]) -> int:
        self._seq += 1
        heapq.heappush(self._queue, (max(when, self.now), self._seq, fn))
        return self._seq

    def call_later(self, delay: float, fn: Callable[[], None]) -> int:
        return self.call_at(self.now + max(0.0, delay), fn)

    def reserve(self) -> int:
        """The sequence number the next call_at would take, taken now for an event queued later
        with call_reserved: it then runs exactly where it would have run had it been queued now.
        A caller with many timers that mostly never matter (client request timeouts) keeps them
        in order itself and queues only the earliest."""
        self._seq += 1
        return self._seq

    def call_reserved(self, when: float, seq: int, fn: Callable[[], None]) -> None:
        """Queue `fn` at `when` with a number from reserve(); `when` must not be before any
        event already run (the caller queues it no later than at the event before it)."""
        heapq.heappush(self._queue, (max(when, self.now), seq, fn))

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
            self.events_run += 1
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - one event's failure must not stop the run
                self.handle_crash(e)
            return True
        return False

    def run_until(self, until: float, stop: Callable[[], bool] | None = None,
                  max_events: int | None = None) -> bool:
        """Run every event due at or before `until`, then set the clock to `until`; True.

        With `stop`, return (True) as soon as it answers True: the clock stays at that event.
        With `max_events`, run at most that many events: if some are still due at or before
        `until`, return False with the clock at the last event run (call again to go on; the
        events and the trace are exactly those of one uninterrupted run).  An exception in an
        event is recovered (handle_crash) and the run goes on."""
        queue = self._queue
        cancelled = self._cancelled
        budget = -1 if max_events is None else max(0, int(max_events))
        while queue and queue[0][0] <= until:
            if budget == 0:
                return False
            when, seq, fn = heapq.heappop(queue)
            if seq in cancelled:
                cancelled.discard(seq)
                continue
            budget -= 1
            self.now = when
            self.events_run += 1
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - one event's failure must not stop the run
                self.handle_crash(e)
            if stop is not None and stop():
                return True
        if until > self.now:
            self.now = until
        return True

    def handle_crash(self, exc: BaseException, component: str | None = None) -> None:
        """Recover from an exception in one event's handler (utilruntime.HandleCrash): record
        it, trace it, log it, go on.  With `really_crash`, re-raise it (tests)."""
        if self.really_crash:
            raise exc
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        message = f"{type(exc).__name__}: {exc}"
        self.errors.append({"t": round(self.now, 6), "component": component, "message": message,
                            "traceback": tb})
        del self.errors[:-MAX_ERRORS]
        self.emit("error", component=component, message=message)
        # The log gets the traceback the first time and a count every 100th time after: a
        # handler failing on every event must not flood it.
        if len(self.error_counts) >= MAX_ERRORS * 10:
            self.error_counts.clear()
        n = self.error_counts[(component, message)] = self.error_counts.get((component, message), 0) + 1
        if n == 1:
            log.error("simulation: %s recovered from %s at t=%.6f\n%s", component or "kernel", message, self.now, tb)
        elif n % 100 == 0:
            log.error("simulation: %s recovered from %s %d times (latest at t=%.6f)", component or "kernel",
                      message, n, self.now)

    def advance(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    # -- components --------------------------------------------------------------------
    def add_component(self, component) -> None:
        if component.address in self.components:
            raise ValueError(f"component {component.address} exists")
        self.components[component.address] = component
        component.attach(self)

    def remove_component(self, component) -> None:
        """Forget a component that is gone for good (a pod's process whose container ended):
        messages to its address are then dropped as to any unknown host."""
        if self.components.get(component.address) is component:
            del self.components[component.address]

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
