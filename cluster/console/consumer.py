"""The console's WebSocket, /clusters/<name>/console/ws: a command line in, kubectl's output out.

Only this site's pages may open it (AllowedHostsOriginValidator in config/asgi.py, as for the
page's frames socket).  JSON text messages:

  client -> {"type": "run", "line": "kubectl get pods", "stdin": "<optional input, e.g. YAML>"}
            {"type": "interrupt"}                              Ctrl-C: SIGINT, then SIGKILL
            {"type": "stdin", "data": "ls\r"}                    typed into an interactive command
            {"type": "eof"}                                    Ctrl-D: end of its input
  server -> {"type": "ready", "max_output", "timeout", "watch_timeout"}
            {"type": "started", "argv": [...], "interactive": bool, "tty": bool}
            {"type": "output", "stream": "stdout" | "stderr", "data": "..."}
            {"type": "exit", "code": n | null, "reason": "" | "interrupted" | "timeout" |
             "output-limit" | "failed", "message": "..."}
            {"type": "refused", "message": "why"}          the command did not run
            {"type": "error", "message": "..."}            a message that was not understood

One command at a time per socket; at most CONSOLE_MAX_SESSIONS sockets per server process
(beyond, the socket is closed with 4429 after saying why).  Bounds: docs/console.md."""
from __future__ import annotations

import asyncio
import json
import logging

from channels.generic.websocket import AsyncWebsocketConsumer

from cluster import access, services
from cluster.console import commandline, kubeconfig
from cluster.console.process import Bounds, KubectlProcess

log = logging.getLogger("cluster.console")

CLOSE_TOO_MANY = 4429
MAX_MESSAGE = 1024 * 1024   # a command line and its pasted input
DEFAULTS = {"CONSOLE_TIMEOUT": 60.0, "CONSOLE_WATCH_TIMEOUT": 600.0, "CONSOLE_MAX_OUTPUT": 1024 * 1024,
            "CONSOLE_MAX_SESSIONS": 16, "CONSOLE_GRACE": 2.0}

_sessions: set = set()   # the open consoles of this process


def _opt(name: str):
    return kubeconfig.option(name, DEFAULTS[name])


class KubectlConsoleConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.cluster = self.scope["url_route"]["kwargs"]["cluster"]
        self.process: KubectlProcess | None = None
        self.task: asyncio.Task | None = None
        self.interrupted = False   # Ctrl-C that came before the command's kubectl started
        await self.accept()
        if len(_sessions) >= int(_opt("CONSOLE_MAX_SESSIONS")):
            await self._send("error", message=f"too many consoles are open on this server "
                                              f"({len(_sessions)}); try again later")
            await self.close(code=CLOSE_TOO_MANY)
            return
        _sessions.add(self)
        # Whose kubectl this is (cluster/access.py): the token the page brings (its presenter or
        # student link's cookie), resolved when a command runs.  Without one kubectl is
        # anonymous, which the API server of an owned cluster refuses (403), as upstream's does.
        self.token = access.token_of_scope(self.scope, self.cluster)
        await self._send("ready", max_output=int(_opt("CONSOLE_MAX_OUTPUT")), timeout=float(_opt("CONSOLE_TIMEOUT")),
                         watch_timeout=float(_opt("CONSOLE_WATCH_TIMEOUT")))

    async def disconnect(self, code) -> None:
        _sessions.discard(self)
        if self.process is not None:
            self.process.kill()   # nobody reads its output any more

    async def _send(self, kind: str, **fields) -> None:
        await self.send(text_data=json.dumps({"type": kind, **fields}))

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self not in _sessions:
            return
        try:
            if text_data is None or len(text_data) > MAX_MESSAGE:
                raise ValueError("send JSON text of at most 1 MiB")
            message = json.loads(text_data)
            if not isinstance(message, dict):
                raise ValueError("send a JSON object")
        except ValueError as e:
            await self._send("error", message=f"message not understood: {e}")
            return
        kind = message.get("type")
        if kind == "interrupt":
            if self.process is not None:
                self.process.stop("interrupted")
            elif self.task is not None and not self.task.done():
                self.interrupted = True   # Ctrl-C before kubectl was started: _execute stops it
        elif kind in ("stdin", "eof"):
            await self._input(kind, message)
        elif kind == "run":
            await self._run(message)
        else:
            await self._send("error", message=f"unknown message type {kind!r}: run or interrupt")

    async def _input(self, kind: str, message: dict) -> None:
        """What the student types while an interactive command (exec/attach/run -i) runs."""
        process = self.process
        if process is None or not process.interactive:
            await self._send("error", message="no interactive command is running (kubectl exec -it ... starts one)")
            return
        if kind == "eof":
            await process.close_stdin()
            return
        data = message.get("data")
        if not isinstance(data, str):
            await self._send("error", message="stdin: data must be a string")
            return
        if not await process.write_stdin(data):
            await self._send("error", message="the command's input is closed")

    async def _run(self, message: dict) -> None:
        if self.task is not None and not self.task.done():
            await self._send("refused", message="a command is still running: press Ctrl-C to stop it first")
            return
        line, stdin = message.get("line"), message.get("stdin")
        if not isinstance(line, str) or not (stdin is None or isinstance(stdin, str)):
            await self._send("refused", message="line (and stdin, if given) must be strings")
            return
        try:
            argv = commandline.split(line)
        except commandline.Refused as e:
            await self._send("refused", message=str(e))
            return
        why = commandline.refusal(argv)
        if why:
            await self._send("refused", message=why)
            return
        self.interrupted = False
        self.task = asyncio.ensure_future(self._execute(argv, stdin))

    async def _execute(self, argv: list[str], stdin: str | None) -> None:
        try:
            token = (await access.resolve(self.cluster, self.token, identify=True)).api_token if self.token else ""
            home = kubeconfig.console_home(self.cluster, token)
            server, ca = kubeconfig.server_url(self.scope, self.cluster, secure=bool(token))
            config = kubeconfig.write_kubeconfig(home, self.cluster, server, ca, token)
        except (OSError, ValueError, services.SimulationError) as e:
            await self._send("exit", code=None, reason="failed", message=f"the console cannot run kubectl: {e}")
            return
        seconds = _opt("CONSOLE_WATCH_TIMEOUT") if commandline.is_streaming(argv) else _opt("CONSOLE_TIMEOUT")
        bounds = Bounds(float(seconds), int(_opt("CONSOLE_MAX_OUTPUT")), float(_opt("CONSOLE_GRACE")))
        interactive, tty = commandline.terminal_mode(argv)
        self.process = KubectlProcess([str(kubeconfig.kubectl_binary()), *argv[1:]],
                                      kubeconfig.environment(home, config), str(home), bounds,
                                      interactive=interactive, tty=tty)
        if self.interrupted:
            self.process.stop("interrupted")   # remembered, and carried out once it starts
        await self._send("started", argv=argv, interactive=interactive or tty, tty=tty)

        async def output(stream: str, text: str) -> None:
            await self._send("output", stream=stream, data=text)

        try:
            ended = await self.process.run(output, stdin)
            await self._send("exit", code=ended.exit_code, reason=ended.reason, message=ended.message)
        except Exception:   # the socket may be gone; the process is stopped by disconnect()
            log.exception("console command failed: %s", argv)
        finally:
            self.process = None
