"""A de-duplicating work queue (client-go util/workqueue): a key waiting in the queue is not
added twice, and keys are processed one at a time in FIFO order."""
from __future__ import annotations

from collections import deque
from typing import Callable, Hashable


class WorkQueue:
    def __init__(self, component, reconcile: Callable[[Hashable], None], delay: float = 0.0005):
        self.component = component
        self.reconcile = reconcile
        self.delay = delay  # virtual time a reconcile takes, so bursts are visible
        self.queue: deque = deque()
        self.queued: set = set()
        self.scheduled = False

    def add(self, key: Hashable) -> None:
        if key in self.queued:
            return
        self.queued.add(key)
        self.queue.append(key)
        self._kick()

    def add_after(self, key: Hashable, delay: float) -> None:
        self.component.call_later(delay, lambda: self.add(key))

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
        self.reconcile(key)
        if self.queue:
            self._kick()
