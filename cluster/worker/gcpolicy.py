"""Keeping Python's garbage collector from pausing the server for seconds.

A cluster holds millions of small objects (every pod in several caches: three kube-apiservers'
watch caches, the scheduler's, the informers'), almost all long-lived.  CPython runs a full
(generation 2) collection whenever that generation has grown by a quarter, and a full collection
walks every tracked object: measured here, 2 s with 16,000 pods in the demo, during which
nothing else runs — no HTTP, no frames.

So the worker freezes what has survived (`gc.freeze()`, as Instagram's servers do): every few
seconds it collects the young generations (cheap; short-lived cycles die there) and moves every
tracked object to the permanent generation, which collections skip.  Full collections then walk
only what was allocated since the last freeze (measured: at most about a quarter of a second at
15,000 pods).  Reference counting still frees frozen objects that are no longer used; only
reference cycles among frozen objects wait — for `collect_all`, which the worker runs when a
cluster is deleted or reset (a whole engine's worth of cycles becomes garbage at once).

Even over the unfrozen objects alone, a full collection takes 15-30 ms with a few hundred pods
(measured with gc.callbacks under bench/api.py's 20 creates a second), and CPython starts one
whenever its counters say so: in the middle of a request, which then answers 30 ms late.  So
while the worker runs, automatic full collections are off (`install`) and the freezer runs the
full collection itself, just before it freezes: when no request is in flight (cluster/worker/
foreground.py), or, under a steady stream of requests, at most MAX_DEFER_SECONDS late.  It
covers exactly what the automatic ones covered (every object not yet frozen); the young
generations are still collected automatically, as before.
"""
from __future__ import annotations

import gc
import logging
import time

from cluster.worker.foreground import FOREGROUND, Foreground

log = logging.getLogger("cluster.worker")

FREEZE_INTERVAL_SECONDS = 1.0
MAX_DEFER_SECONDS = 1.0
# The oldest generation's threshold while installed.  It counts collections of the middle
# generation since the last full one, and every freeze's full collection resets that count long
# before it gets there.
NO_AUTOMATIC_FULL_COLLECTION = 1_000_000_000


class GenerationFreezer:
    def __init__(self, interval: float = FREEZE_INTERVAL_SECONDS, foreground: Foreground = FOREGROUND):
        self.interval = interval
        self.foreground = foreground
        self.last = time.monotonic()
        self._saved_threshold: tuple[int, int, int] | None = None

    def install(self) -> None:
        """Turn CPython's automatic full collections off (maybe_freeze runs them instead)."""
        if self._saved_threshold is None:
            self._saved_threshold = gc.get_threshold()
            young, middle, _ = self._saved_threshold
            gc.set_threshold(young, middle, NO_AUTOMATIC_FULL_COLLECTION)
            # What start-up allocated (Django, the engines restored) is collected and frozen now,
            # before requests come: the first freeze would otherwise walk all of it (46 ms).
            self.freeze()

    def freeze(self) -> None:
        gc.collect()  # frozen objects are skipped: this walks only what came since the last freeze
        gc.freeze()
        self.last = time.monotonic()

    def uninstall(self) -> None:
        if self._saved_threshold is not None:
            gc.set_threshold(*self._saved_threshold)
            self._saved_threshold = None

    def maybe_freeze(self) -> None:
        """Collect what is not frozen yet and freeze the survivors, at most once per interval,
        and not while a request is in flight unless it is MAX_DEFER_SECONDS overdue."""
        now = time.monotonic()
        since = now - self.last
        if since < self.interval or (self.foreground.busy and since < self.interval + MAX_DEFER_SECONDS):
            return
        self.freeze()

    @staticmethod
    def collect_all() -> None:
        """Thaw everything and run a full collection (one pause, after a cluster is dropped)."""
        started = time.monotonic()
        gc.unfreeze()
        gc.collect()
        log.info("full garbage collection took %.2fs", time.monotonic() - started)
