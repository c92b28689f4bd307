"""`manage.py runsimworker`: the simulation worker alone (scaled-out deployment).

Front ends (`manage.py demo --no-worker`, or plain `daphne config.asgi:application`) reach it
through the shared channel layer, which must then be Redis (PILOTHOUSE_CHANNEL_LAYER=redis).
"""
from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the simulation worker (no HTTP) against the configured channel layer."

    def add_arguments(self, parser):
        parser.add_argument("--channel", action="append", dest="channels",
                            help="command channel(s) to serve (default: worker_channel_for())")

    def handle(self, *args, channels=None, **options):
        asyncio.run(self._run(channels))

    async def _run(self, channels):
        from cluster.worker import SimulationWorker
        from cluster.worker.shutdown import install_stop_signals

        worker = SimulationWorker(channels=channels)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        install_stop_signals(lambda: loop.call_soon_threadsafe(stop.set))
        task = asyncio.ensure_future(worker.run())
        await worker.wait_started_or(task)
        self.stdout.write(f"simulation worker serving {', '.join(worker.channels)}; clusters: {', '.join(sorted(worker.clusters))}")
        self.stdout.flush()
        done, _ = await asyncio.wait({task, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # surface a crash
        await worker.stop()
        self.stdout.write("simulation worker stopped")
