"""client-go's flowcontrol.Backoff, as the kubelet uses it for container restarts
(pkg/kubelet/kuberuntime: backOffPeriod 10 s, MaxContainerBackOff 300 s) and image pulls
(pkg/kubelet/images: the same 10 s doubling to 300 s, keyed by pod and image).

`next(key, now)` records one more failure: the first (or the first after the entry expired)
gets the initial period, each later one doubles it up to the maximum.  An entry expires when
nothing touched it for twice the maximum (10 minutes): a container that ran that long starts
again from 10 s.  `in_backoff_since(key, when, now)`: is it still too early to retry a failure
that happened at `when`?
"""
from __future__ import annotations

from dataclasses import dataclass

INITIAL_SECONDS = 10.0
MAX_SECONDS = 300.0


@dataclass
class _Entry:
    period: float
    last_update: float


class Backoff:
    def __init__(self, initial: float = INITIAL_SECONDS, maximum: float = MAX_SECONDS):
        self.initial, self.maximum = initial, maximum
        self.entries: dict[str, _Entry] = {}

    def _expired(self, entry: _Entry, now: float) -> bool:
        return now - entry.last_update > 2 * self.maximum

    def next(self, key: str, now: float) -> float:
        entry = self.entries.get(key)
        if entry is None or self._expired(entry, now):
            entry = self.entries[key] = _Entry(self.initial, now)
        else:
            entry.period = min(entry.period * 2, self.maximum)
            entry.last_update = now
        return entry.period

    def get(self, key: str) -> float:
        entry = self.entries.get(key)
        return entry.period if entry else 0.0

    def in_backoff_since(self, key: str, when: float, now: float) -> bool:
        entry = self.entries.get(key)
        if entry is None or self._expired(entry, now):
            return False
        return now - when < entry.period

    def in_backoff_since_update(self, key: str, now: float) -> bool:
        """IsInBackOffSinceUpdate: still within the period since the entry was last updated
        (the DaemonSet controller's failed-pod backoff)."""
        entry = self.entries.get(key)
        return entry is not None and self.in_backoff_since(key, entry.last_update, now)

    def reset(self, key: str) -> None:
        self.entries.pop(key, None)

    def gc(self, now: float) -> None:
        for key in [k for k, e in self.entries.items() if self._expired(e, now)]:
            del self.entries[key]
