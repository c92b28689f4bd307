"""`kubectl exec` over WebSocket: the remotecommand protocol that kubectl speaks
by default (k8s.io/apimachinery/pkg/util/remotecommand, v5.channel.k8s.io; v4 and v3 too): kubectl 1.30 and later.

Every binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the final
Status (JSON), 4 terminal resize; v5 adds 255 "close this stream".  The server writes the
command's output on 1 and 2, then the Status on 3 - Success, or NonZeroExitCode with the exit
code as a cause, from which kubectl takes its own exit code ("command terminated with exit code
3") - and closes.

The command runs to its end in the container (sim/kubelet/execsession.py): `kubectl exec web --
cat /etc/config/key`, `env`, `ls`, a script with `sh -c`.  An interactive shell (`-it`) is not
simulated yet: with a terminal asked for, the answer says so on channel 3.  An older kubectl
that speaks only SPDY is told which kubectl to use (cluster/api/views.py).
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from cluster import services

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
             "channel.k8s.io")
STDOUT, STDERR, ERROR = 1, 2, 3


def _status(message: str | None = None, exit_code: int | None = None, reason: str = "") -> dict:
    if exit_code is None and message is None:
        return {"metadata": {}, "status": "Success"}
    if exit_code is not None:
        return {"metadata": {}, "status": "Failure", "message": message or f"command terminated with non-zero exit code: "
                f"error executing command, exit code {exit_code}", "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]}}
    return {"metadata": {}, "status": "Failure", "message": message, "reason": reason or "BadRequest"}


class ExecConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        offered = self.scope.get("subprotocols") or []
        chosen = next((p for p in PROTOCOLS if p in offered), None)
        if chosen is None:
            await self.close(code=4400)
            return
        await self.accept(subprotocol=chosen)
        kw = self.scope["url_route"]["kwargs"]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        command = query.get("command", [])
        if (query.get("tty") or [""])[0] in ("true", "1") and (query.get("stdin") or [""])[0] in ("true", "1"):
            await self._finish(_status("an interactive terminal (kubectl exec -it) is not simulated yet: run the "
                                       "command without -it, e.g. kubectl exec POD -- sh -c '...'"))
            return
        request = {"verb": "create", "group": "", "version": "v1", "resource": "pods", "namespace": kw["namespace"],
                   "name": kw["pod"], "subresource": "exec", "body": None, "patch_type": None,
                   "query": {"command": command, "container": (query.get("container") or [""])[0]}}
        try:
            resp = await services.cluster_api(kw["cluster"], request)
        except services.SimulationError as e:
            await self._finish(_status(str(e), reason="NotFound"))
            return
        if resp.get("code") != 200:
            body = resp.get("body") or {}
            await self._finish(_status(body.get("message", "exec failed"), reason=body.get("reason", "")))
            return
        result = resp["exec"]
        if result.get("stdout"):
            await self.send(bytes_data=bytes([STDOUT]) + result["stdout"].encode())
        if result.get("stderr"):
            await self.send(bytes_data=bytes([STDERR]) + result["stderr"].encode())
        code = int(result.get("exit_code") or 0)
        await self._finish(_status() if code == 0 else _status(
            f"command terminated with non-zero exit code: error executing command {json.dumps(command)}, "
            f"exit code {code}", exit_code=code))

    async def _finish(self, status: dict) -> None:
        await self.send(bytes_data=bytes([ERROR]) + json.dumps(status).encode())
        await self.close()

    async def receive(self, text_data=None, bytes_data=None):
        pass  # stdin and resizes: the command has no terminal and reads no input
