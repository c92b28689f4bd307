"""A de-duplicating, rate-limited work queue (client-go util/workqueue): a key waiting in the
queue is not added twice, and keys are processed one at a time in FIFO order.

A key is never processed twice at once: one added while it is being processed is marked dirty
and queued again when its processing is done.  A reconcile whose work goes on after it returns
(the ReplicaSet controller's slow-start batches wait for their replies, as upstream's sync
blocks its worker) takes `done = queue.defer(key)` and calls `done()` at the end.

A key whose processing failed goes back with `add_rate_limited`, after the per-item exponential
backoff of workqueue.DefaultControllerRateLimiter's ItemExponentialFailureRateLimiter (5 ms,
doubling per failure, at most 1000 s) until `forget` says it succeeded.  A reconcile that raises
is recovered like a panic in a controller's worker (utilruntime.HandleCrash: the kernel records
it) and its key requeued the same way, so one bad object never stops the controller.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Hashable

BASE_DELAY = 0.005  # ItemExponentialFailureRateLimiter(5*time.Millisecond, 1000*time.Second)
MAX_DELAY = 1000.0


class WorkQueue:
    def __init__(self, component, reconcile: Callable[[Hashable], None], delay: float = 0.0005,
                 base_delay: float = BASE_DELAY, max_delay: float = MAX_DELAY):
        self.component = component
        # The ItemExponentialFailureRateLimiter's (baseDelay, maxDelay): a controller that
        # builds its own (the service controller's 5 s .. 300 s) passes them.
        self.base_delay, self.max_delay = base_delay, max_delay
        self.reconcile = reconcile
        self.delay = delay  # virtual time a reconcile takes, so bursts are visible
        self.queue: deque = deque()
        self.queued: set = set()
        self.scheduled = False
        self.failures: dict[Hashable, int] = {}
        self.processing: set = set()
        self.dirty: set = set()      # added while processing: queued again when done
        self.deferred: set = set()   # processing goes on after reconcile returned
        self.waiting: dict = {}      # add_after: key -> (ready time, timer)

    def add(self, key: Hashable) -> None:
        if key in self.processing:
            self.dirty.add(key)
            return
        if key in self.queued:
            return
        self.queued.add(key)
        self.queue.append(key)
        self._kick()

    def add_after(self, key: Hashable, delay: float) -> None:
        """The delaying queue's AddAfter: `key` is added once `delay` has passed.  A key already
        waiting keeps the earlier of its two ready times (client-go's waitForPriorityQueue keeps
        one entry per key), so two requeues for the same moment make one sync, not two."""
        ready = self.component.now + delay
        waiting = self.waiting.get(key)
        if waiting is not None:
            if waiting[0] <= ready:
                return
            self.component.cancel_timer(waiting[1])
        self.waiting[key] = (ready, self.component.call_later(delay, lambda: self._ready(key)))

    def _ready(self, key: Hashable) -> None:
        self.waiting.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: Hashable) -> None:
        """Requeue `key` after its backoff: base x 2^(failures so far), at most the maximum
        (5 ms and 1000 s by default)."""
        n = self.failures.get(key, 0)
        self.failures[key] = n + 1
        self.add_after(key, min(self.base_delay * 2 ** min(n, 40), self.max_delay))

    def forget(self, key: Hashable) -> None:
        """`key` was processed successfully: its backoff starts over."""
        self.failures.pop(key, None)

    def num_requeues(self, key: Hashable) -> int:
        return self.failures.get(key, 0)

    def defer(self, key: Hashable) -> Callable[[], None]:
        """Called from reconcile(key): the key stays in processing until the returned `done`."""
        self.deferred.add(key)
        return lambda: self._done(key)

    def _done(self, key: Hashable) -> None:
        self.deferred.discard(key)
        self.processing.discard(key)
        if key in self.dirty:
            self.dirty.discard(key)
            self.add(key)

    def _kick(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            self.component.call_later(self.delay, self._process)

    def _process(self) -> None:
        self.scheduled = False
        if not self.queue:
            return
        key = self.queue.popleft()
        self.queued.discard(key)
        self.processing.add(key)
        try:
            self.reconcile(key)
        except Exception as e:  # noqa: BLE001 - one key's failure is that key's alone
            self._done(key)
            if self.queue:
                self._kick()  # the rest of the queue goes on even under really_crash
            self.component.kernel.handle_crash(e, self.component.address)
            self.add_rate_limited(key)
            return
        if key not in self.deferred:
            self._done(key)
        if self.queue:
            self._kick()
