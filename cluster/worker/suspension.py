"""Suspending clusters nobody uses (issue 13, "Sandboxes"): a class makes a cluster per student,
and one process runs them all, so a cluster that no page watches and no request reaches for
PILOTHOUSE["SUSPEND_AFTER_SECONDS"] stops being run.  The worker skips it in its frames (no
advance, no frame) as it skips a paused one's advance, without touching its own pause: the
first command for it (a page opening: its state; a Kubernetes API request) resumes it where its
clock stood, as a laptop wakes from sleep, not as if the time asleep had passed.

Pages count as watchers while their frames WebSocket is open (cluster/consumers.py tells the
worker with the "cluster.watch" command); every other command counts as a use."""
from __future__ import annotations

import time

from django.conf import settings

from cluster.worker.running import RunningCluster


def suspend_after() -> float:
    """Seconds without a watcher or a request before a cluster is suspended (0: never)."""
    return float(getattr(settings, "PILOTHOUSE", {}).get("SUSPEND_AFTER_SECONDS", 600) or 0)


def touch(rc: RunningCluster) -> bool:
    """Something asked for the cluster: note it, and resume it if it was suspended (True)."""
    rc.last_active = time.monotonic()
    if not rc.suspended:
        return False
    rc.suspended = False
    if rc.engine is not None:
        rc.reanchor()   # its clock goes on from where it stopped
    rc.clock_changed = True
    rc.pending_events.append({"kind": "action", "component": "pilothouse",
                              "t": rc.engine.now if rc.engine is not None else 0.0,
                              "text": f"cluster {rc.name} resumed"})
    return True


def maybe_suspend(rc: RunningCluster, now: float | None = None) -> bool:
    """Suspend the cluster if nobody has watched or used it for suspend_after() seconds."""
    after = suspend_after()
    if rc.suspended or after <= 0 or rc.watchers > 0:
        return rc.suspended
    if (now if now is not None else time.monotonic()) - rc.last_active >= after:
        rc.suspended = True
    return rc.suspended


def watch(rc: RunningCluster, delta: int) -> int:
    """A page's frames socket opened (+1) or closed (-1)."""
    rc.watchers = max(0, rc.watchers + (1 if delta > 0 else -1))
    touch(rc)
    return rc.watchers
