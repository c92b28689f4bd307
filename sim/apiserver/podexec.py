"""pods/exec (pkg/registry/core/pod/rest/subresources.go, ExecREST): the apiserver checks the
pod and the container, then connects to the kubelet of the pod's node (/exec), which runs the
command in the container.  The HTTP front end carries the streams (cluster/api/execstream.py:
WebSocket, v5.channel.k8s.io)."""
from __future__ import annotations

from sim.api import status as st
from sim.apiserver.podlogs import KUBELET_PORT, cached_pod, call_kubelet, container_and_node


def serve(server, res, req: dict, reply) -> None:
    from sim.apiserver.server import _err
    q = req.get("query") or {}
    pod, missing = cached_pod(server, res, req)
    if missing:
        return reply(_err(missing))
    command = q.get("command")
    command = [command] if isinstance(command, str) else list(command or [])
    if not command:
        return reply(_err(st.bad_request("you must specify at least 1 command")))
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return reply(_err(st.bad_request(f"cannot exec into a container in a completed pod; current phase is {phase}")))
    container, node, error = container_and_node(pod, q.get("container") or "")
    if error:
        return reply(_err(st.bad_request(error)))

    def answered(msg: dict) -> None:
        if msg.get("type") == "timeout":
            return reply(_err(st.internal(f"error dialing backend: dial tcp {node}:{KUBELET_PORT}: i/o timeout")))
        if msg.get("code", 200) != 200:
            return reply({"code": msg["code"], "body": msg["body"]})
        reply({"code": 200, "exec": {"exit_code": msg.get("exit_code", 0), "stdout": msg.get("stdout", ""),
                                     "stderr": msg.get("stderr", "")}})

    call_kubelet(server, node, {"type": "kubelet.exec", "uid": pod["metadata"].get("uid"), "container": container,
                                "command": command}, answered)
