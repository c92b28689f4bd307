"""A stop signal always stops the process, within SHUTDOWN_DEADLINE seconds.

SIGTERM and SIGINT ask the worker to finish its frame and persist (cluster/worker/worker.py,
`stop`); that takes a fraction of a second, since engine work runs in short slices.  The
handlers (`install_stop_signals`) arm a watchdog the moment the signal arrives.  Should it
not end in time anyway (a database that does not answer, a bug), a watchdog thread ends the
process: what was acknowledged is already persisted, so nothing acknowledged is lost.
"""
from __future__ import annotations

import faulthandler
import logging
import os
import signal
import threading

log = logging.getLogger("cluster.worker")

SHUTDOWN_DEADLINE = 4.0


def arm_shutdown_deadline(seconds: float = SHUTDOWN_DEADLINE, code: int = 1) -> threading.Timer:
    """Start the watchdog; the process exits with `code` if it is still running after `seconds`."""
    def expire() -> None:
        log.error("shutdown did not finish within %.0fs; exiting now (where each thread was: below)", seconds)
        faulthandler.dump_traceback(all_threads=True)   # to stderr: what held the stop up
        logging.shutdown()
        os._exit(code)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def install_stop_signals(request_stop) -> None:
    """SIGTERM and SIGINT: the first arms the watchdog and calls `request_stop()` (which must
    only schedule the graceful stop, thread-safely); a second one exits at once.

    Python runs a signal handler in the main thread between two bytecodes, even while the event
    loop is busy in a long computation, so the watchdog is armed whatever the loop is doing;
    a handler that only schedules work on the loop (Twisted's, asyncio's add_signal_handler)
    would wait for the loop."""
    received = []

    def handler(signum, frame) -> None:
        if received:
            log.warning("second stop signal: exiting now")
            logging.shutdown()
            os._exit(1)
        received.append(signum)
        arm_shutdown_deadline()
        request_stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
