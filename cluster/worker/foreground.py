"""Foreground work: the requests this process is answering right now.

The simulation's own advance (the frame loop running each cluster toward its wall-clock
target) is background work: it shares the event loop with HTTP, the channel layer and the
worker's commands, and yields to them every few milliseconds.  An API request crosses the loop
a dozen times (the HTTP read, the view, the channel layer, the worker, the engine, the persist,
the answer), and if the background takes its few milliseconds at every crossing, a request that
needs 11 ms of work answers in 70 (measured: POST of a pod at 20/s, p50 11 ms paused, p99 80 ms
running).  So while a request is in flight, the background advance steps aside - for at most
MAX_PAUSE_SECONDS at a time, then it runs a burst again, so that a steady stream of requests
slows a cluster (the page shows it falling behind) but never stops it.

An HTTP request counts from its arrival until its response starts (a watch's stream starts at
once, so a long watch does not count); a worker command counts while it is answered (with a
worker in its own process, that is what its loop sees of the requests); and so does a frame
while this process hands it to its pages (cluster/fanout.py: with hundreds of viewers that is
most of a frame's interval, and the simulation's advance would otherwise delay every page).
"""
from __future__ import annotations

import asyncio

MAX_PAUSE_SECONDS = 0.02
POLL_SECONDS = 0.001


class Foreground:
    def __init__(self) -> None:
        self.count = 0

    @property
    def busy(self) -> bool:
        return self.count > 0

    def enter(self) -> None:
        self.count += 1

    def leave(self) -> None:
        self.count = max(0, self.count - 1)

    async def step_aside(self, deadline: float) -> None:
        """Wait while foreground work is in flight: at most MAX_PAUSE_SECONDS, and not past the
        loop-clock `deadline` (the end of the background's slice)."""
        loop = asyncio.get_running_loop()
        until = min(deadline, loop.time() + MAX_PAUSE_SECONDS)
        while self.busy and loop.time() < until:
            await asyncio.sleep(POLL_SECONDS)


FOREGROUND = Foreground()


class TrackRequests:
    """ASGI middleware: each HTTP request is foreground work until its response starts."""

    def __init__(self, app, foreground: Foreground = FOREGROUND):
        self.app, self.foreground = app, foreground

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        foreground = self.foreground
        foreground.enter()
        counted = True

        async def tracked_send(message):
            nonlocal counted
            if counted and message.get("type") == "http.response.start":
                counted = False
                foreground.leave()
            await send(message)
        try:
            return await self.app(scope, receive, tracked_send)
        finally:
            if counted:
                foreground.leave()
