"""A stop signal always stops the process, within SHUTDOWN_DEADLINE seconds.

SIGTERM and SIGINT ask the worker to finish its frame and persist (cluster/worker/worker.py,
`stop`); that takes a fraction of a second, since engine work runs in short slices.  Should it
not end in time anyway (a database that does not answer, a bug), a watchdog thread ends the
process: what was acknowledged is already persisted, so nothing acknowledged is lost.
"""
from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("cluster.worker")

SHUTDOWN_DEADLINE = 4.0


def arm_shutdown_deadline(seconds: float = SHUTDOWN_DEADLINE, code: int = 1) -> threading.Timer:
    """Start the watchdog; the process exits with `code` if it is still running after `seconds`."""
    def expire() -> None:
        log.error("shutdown did not finish within %.0fs; exiting now", seconds)
        logging.shutdown()
        os._exit(code)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer
