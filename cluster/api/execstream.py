"""`kubectl exec` and `kubectl attach` over WebSocket: the remotecommand protocol that kubectl
speaks by default (k8s.io/apimachinery/pkg/util/remotecommand, v5.channel.k8s.io; v4 and v3
too): kubectl 1.30 and later.

Every binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the final
Status (JSON), 4 terminal resize; v5 adds 255 "close this stream" (kubectl closes stdin so at
the end of a piped file).  The server writes the command's output on 1 and 2 (with a terminal,
all on 1), then the Status on 3 - Success, or NonZeroExitCode with the exit code as a cause,
from which kubectl takes its own exit code ("command terminated with exit code 3") - and
closes.

Without stdin and terminal, an exec runs to its end in the container (ExecSync,
sim/kubelet/execsession.py): `kubectl exec web -- cat /etc/config/key`.  With `-i` or `-t`,
and for an attach, the apiserver answers a session on the node's streaming server
(sim/kubelet/streaming.py) and this consumer carries it as kube-apiserver proxies the
connection: what the client sends on channel 0 goes in, and the output comes out, asked for
again at once after input and every POLL_SECONDS otherwise, until the process (exec) or the
container (attach) ends.  Resizes are read and ignored (the simulated terminal has no size).
An older kubectl that speaks only SPDY is told which kubectl to use (cluster/api/views.py).
"""
from __future__ import annotations

import asyncio
import codecs
import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from cluster import services
from cluster.api import credentials

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
             "channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
POLL_SECONDS = 0.05
# A session's output is asked for this often at most while nothing comes (wall seconds) ...
MAX_POLL_SECONDS = 0.25
# ... and the connection ends after this long whatever happens (the session is closed).
MAX_SESSION_SECONDS = 4 * 3600.0
MAX_STDIN_CHUNK = 64 * 1024
MAX_PENDING_INPUT = 1024 * 1024


def _status(message: str | None = None, exit_code: int | None = None, reason: str = "") -> dict:
    if exit_code is None and message is None:
        return {"metadata": {}, "status": "Success"}
    if exit_code is not None:
        return {"metadata": {}, "status": "Failure", "message": message or f"command terminated with non-zero exit code: "
                f"error executing command, exit code {exit_code}", "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]}}
    return {"metadata": {}, "status": "Failure", "message": message, "reason": reason or "BadRequest"}


def _flag(query: dict, name: str, default: bool = False) -> bool:
    value = (query.get(name) or [""])[0]
    return default if value == "" else value in ("true", "1")


class ExecConsumer(AsyncWebsocketConsumer):
    subresource = "exec"

    async def connect(self):
        self.session = None
        self.pump = None
        offered = self.scope.get("subprotocols") or []
        chosen = next((p for p in PROTOCOLS if p in offered), None)
        if chosen is None:
            await self.close(code=4400)
            return
        await self.accept(subprotocol=chosen)
        kw = self.scope["url_route"]["kwargs"]
        self.cluster = kw["cluster"]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        command = query.get("command", [])
        self.command = command
        self.stdin, self.tty = _flag(query, "stdin"), _flag(query, "tty")
        self.want = {STDOUT: _flag(query, "stdout", True), STDERR: _flag(query, "stderr", True)}
        api_query = {"container": (query.get("container") or [""])[0], "stdin": str(self.stdin).lower(),
                     "tty": str(self.tty).lower()}
        if self.subresource == "exec":
            api_query["command"] = command
        request = {"verb": "create", "group": "", "version": "v1", "resource": "pods", "namespace": kw["namespace"],
                   "name": kw["pod"], "subresource": self.subresource, "body": None, "patch_type": None,
                   "query": api_query, "credentials": credentials.of_scope(self.scope)}
        try:
            resp = await services.cluster_api(self.cluster, request)
        except services.SimulationError as e:
            await self._finish(_status(str(e), reason="NotFound"))
            return
        if resp.get("code") != 200:
            body = resp.get("body") or {}
            await self._finish(_status(body.get("message", f"{self.subresource} failed"),
                                       reason=body.get("reason", "")))
            return
        if "stream" in resp:
            self.session = resp["stream"]
            self.tty = bool(self.session.get("tty"))
            self.input: list[str] = []
            self.input_chars = 0
            self.stdin_closed = self.close_sent = False
            self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self.wake = asyncio.Event()
            self.pump = asyncio.ensure_future(self._pump())
            return
        result = resp["exec"]
        if result.get("stdout"):
            await self.send(bytes_data=bytes([STDOUT]) + result["stdout"].encode())
        if result.get("stderr"):
            await self.send(bytes_data=bytes([STDERR]) + result["stderr"].encode())
        await self._finish(self._exit_status(int(result.get("exit_code") or 0)))

    def _exit_status(self, code: int) -> dict:
        if code == 0:
            return _status()
        return _status(f"command terminated with non-zero exit code: error executing command "
                       f"{json.dumps(self.command)}, exit code {code}", exit_code=code)

    async def _finish(self, status: dict) -> None:
        await self.send(bytes_data=bytes([ERROR]) + json.dumps(status).encode())
        await self.close()

    # -- a session --------------------------------------------------------------------
    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_SESSION_SECONDS
        wait = POLL_SECONDS
        node, token = self.session["node"], self.session["token"]
        while loop.time() < deadline:
            self.wake.clear()  # input from now on wakes the wait below
            data, self.input, self.input_chars = "".join(self.input), [], 0
            close_stdin = self.stdin_closed and not self.close_sent
            self.close_sent = self.stdin_closed
            try:
                answer = await services.stream(self.cluster, node, token, data, close_stdin)
            except services.SimulationError as e:
                self.session = None
                await self._finish(_status(str(e), reason="InternalError"))
                return
            if answer is None:
                self.session = None
                await self._finish(_status("error: the session ended: the container or its node is gone",
                                           reason="InternalError"))
                return
            for stream, text in answer["output"]:
                channel = STDOUT if self.tty or stream == "stdout" else STDERR
                if self.want.get(channel, True) or self.tty:
                    await self.send(bytes_data=bytes([channel]) + text.encode())
            if answer["done"]:
                self.session = None
                if answer.get("error"):
                    await self._finish(_status(answer["error"], reason="InternalError"))
                elif self.subresource == "attach":
                    await self._finish(_status())  # kubectl run -it reads the exit code from the pod
                else:
                    await self._finish(self._exit_status(int(answer.get("exit_code") or 0)))
                return
            # Output that came is likely followed by more; otherwise ask less often.
            wait = POLL_SECONDS if answer["output"] or data else min(wait * 1.5, MAX_POLL_SECONDS)
            try:
                await asyncio.wait_for(self.wake.wait(), wait)
                wait = POLL_SECONDS
            except asyncio.TimeoutError:
                pass
        await self._finish(_status("the session lasted longer than the server allows", reason="Timeout"))

    async def receive(self, text_data=None, bytes_data=None):
        if self.pump is None or not bytes_data:
            return  # a finished exec reads no input
        channel, payload = bytes_data[0], bytes_data[1:]
        if channel == STDIN and self.stdin and not self.stdin_closed:
            if self.input_chars < MAX_PENDING_INPUT:   # beyond, dropped: the session is not reading
                text = self.decoder.decode(payload[:MAX_STDIN_CHUNK])
                self.input.append(text)
                self.input_chars += len(text)
            self.wake.set()
        elif channel == CLOSE and payload[:1] == bytes([STDIN]):
            self.stdin_closed = True
            self.wake.set()
        # RESIZE: {"Width", "Height"}; the simulated terminal has no size to change.

    async def disconnect(self, code):
        if self.pump is not None:
            self.pump.cancel()
        if self.session is not None:
            session, self.session = self.session, None
            try:
                await services.stream(self.cluster, session["node"], session["token"], close=True)
            except services.SimulationError:
                pass


class AttachConsumer(ExecConsumer):
    """pods/attach: the container's main process (PodAttachOptions: container, stdin, stdout,
    stderr, tty)."""
    subresource = "attach"
