"""`manage.py demo`: the embedded deployment in one process.

Daphne serves config.asgi on 127.0.0.1:$PORT (default 8000) and, once its reactor runs, the
simulation worker runs on the same asyncio loop, so both share the in-memory channel layer.
DESIGN.md: Daphne has no ASGI lifespan hook, hence this command instead of `daphne config.asgi`.

Ctrl-C (SIGINT) or SIGTERM stops the reactor; a "before shutdown" trigger lets the worker persist
its clusters one last time before the loop ends.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal

from django.core.management.base import BaseCommand

log = logging.getLogger("cluster.demo")


def _escape(path) -> str:
    """A path inside a Twisted endpoint description (':' and '=' are its separators)."""
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


class Command(BaseCommand):
    help = "Serve Pilothouse (HTTP, WebSockets) with the simulation worker in one process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--tls-port", type=int, default=int(os.environ.get("TLS_PORT", "0")),
                            help="also serve over HTTPS on this port (self-signed, cluster/tls.py): kubectl "
                                 "sends a kubeconfig's token only to an https server; 0: no HTTPS")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="serve HTTP/WebSockets only (scaled out: run `manage.py runsimworker` elsewhere)",
        )

    def handle(self, *args, host, port, no_worker, tls_port=0, **options):
        # daphne.server installs Twisted's asyncio reactor on import: import it before anything
        # else touches twisted.internet.reactor.
        from daphne.server import Server
        from twisted.internet import defer, reactor

        from cluster.worker.shutdown import install_stop_signals
        from config.asgi import application

        worker = None
        if not no_worker:
            from cluster.worker import SimulationWorker

            worker = SimulationWorker()

        def start_worker():
            loop = asyncio.get_event_loop()
            task = loop.create_task(worker.run())

            def done(t):
                if not t.cancelled() and t.exception() is not None:
                    log.error("simulation worker crashed", exc_info=t.exception())
                    reactor.stop()

            task.add_done_callback(done)

        def before_shutdown():
            # Returning a Deferred makes Twisted wait for the last persist before stopping.
            return defer.Deferred.fromFuture(asyncio.ensure_future(worker.stop()))

        def ready():
            # Replace Twisted's signal handlers (installed by now): ours arm the shutdown
            # watchdog at once, whatever the loop is doing, then ask the reactor to stop.
            install_stop_signals(lambda: reactor.callFromThread(reactor.stop))
            if worker is not None:
                reactor.callWhenRunning(start_worker)
                reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)
            self.stdout.write(f"Pilothouse on http://{host}:{port}/  (Ctrl-C to stop)")
            if tls_port:
                self.stdout.write(f"Kubernetes API over TLS on https://{host}:{tls_port}/clusters/<name>")
            self.stdout.flush()

        # Twisted only takes over SIGINT when it still has Python's default handler; a process
        # started in the background by a non-interactive shell inherits SIGINT as *ignored*,
        # and Ctrl-C (or `kill -INT`) would then do nothing.  This server is meant to stop on
        # Ctrl-C, persisting first, wherever it was started from.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        endpoints = [f"tcp:port={port}:interface={host}"]
        if tls_port:
            from cluster.tls import ensure_certificate
            cert, key = ensure_certificate(host)
            os.environ["PILOTHOUSE_TLS_PORT"] = str(tls_port)  # for the kubeconfig the control API makes
            endpoints.append(f"ssl:port={tls_port}:interface={host}:privateKey={_escape(key)}:certKey={_escape(cert)}")
        server = Server(
            application=application,
            endpoints=endpoints,
            signal_handlers=True,
            ready_callable=ready,
            application_close_timeout=5,
        )
        server.run()
        self.stdout.write("Pilothouse stopped.")
