"""ControllerExpectations (pkg/controller/controller_utils.go): the creates and deletes a
controller has asked for and not yet seen through its informer.  A controller syncs a key only
when its expectations are satisfied (or have expired after 5 minutes), so it never acts twice on
a cache that has not caught up with its own writes.  Shared by every workload controller."""
from __future__ import annotations

from typing import Callable, Hashable

EXPECTATIONS_TIMEOUT = 300.0  # ExpectationsTimeout


class ControllerExpectations:
    def __init__(self, now: Callable[[], float]):
        self.now = now
        self._exp: dict[Hashable, list] = {}  # key -> [adds, dels, set_at]

    def expect_creations(self, key: Hashable, adds: int) -> None:
        self._exp[key] = [adds, 0, self.now()]

    def expect_deletions(self, key: Hashable, dels: int) -> None:
        self._exp[key] = [0, dels, self.now()]

    def set_expectations(self, key: Hashable, adds: int, dels: int) -> None:
        """SetExpectations: both at once (the DaemonSet controller creates and deletes in one sync)."""
        self._exp[key] = [adds, dels, self.now()]

    def creation_observed(self, key: Hashable) -> None:
        self.lower(key, 1, 0)

    def deletion_observed(self, key: Hashable) -> None:
        self.lower(key, 0, 1)

    def lower(self, key: Hashable, adds: int, dels: int) -> None:
        """LowerExpectations: creates or deletes that will never be seen (failed, skipped)."""
        exp = self._exp.get(key)
        if exp is not None:
            exp[0] -= adds
            exp[1] -= dels

    def counts(self, key: Hashable) -> tuple[int, int] | None:
        """GetExpectations: (creates, deletes) still expected, or None when none were set."""
        exp = self._exp.get(key)
        return None if exp is None else (exp[0], exp[1])

    def pending(self, key: Hashable) -> bool:
        exp = self._exp.get(key)
        return bool(exp) and (exp[0] > 0 or exp[1] > 0)

    def satisfied(self, key: Hashable) -> bool:
        """SatisfiedExpectations: fulfilled, expired, or never set."""
        exp = self._exp.get(key)
        if exp is None:
            return True
        return (exp[0] <= 0 and exp[1] <= 0) or self.now() - exp[2] > EXPECTATIONS_TIMEOUT

    def delete(self, key: Hashable) -> None:
        self._exp.pop(key, None)
