"""pods/exec (pkg/registry/core/pod/rest/subresources.go, ExecREST): the apiserver checks the
pod and the container, then connects to the kubelet of the pod's node (/exec), which runs the
command in the container.  The HTTP front end carries the streams (cluster/api/execstream.py:
WebSocket, v5.channel.k8s.io).  Without stdin and terminal the command runs to its end
(ExecSync); with either, the kubelet answers a session on the runtime's streaming server
(sim/kubelet/streaming.py) whose streams the front end then carries."""
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

    stdin, tty = flag(q, "stdin"), flag(q, "tty")
    call_kubelet(server, node, {"type": "kubelet.exec", "uid": pod["metadata"].get("uid"), "container": container,
                                "command": command, "stream": stdin or tty, "stdin": stdin, "tty": tty},
                 answered(node, reply))


def flag(query: dict, name: str) -> bool:
    """A boolean option of PodExecOptions / PodAttachOptions as the query carries it."""
    value = query.get(name)
    value = value[0] if isinstance(value, list) and value else value
    return str(value).lower() in ("true", "1")


def answered(node: str, reply):
    """The kubelet's answer as the apiserver's: the command's result, or (stdin or a terminal
    asked for) where its streams are: {"stream": {"node", "token", "tty"}}, which the HTTP front
    end connects to, as kube-apiserver proxies the client's connection to the kubelet's."""
    from sim.apiserver.server import _err

    def answer(msg: dict) -> None:
        if msg.get("type") == "timeout":
            return reply(_err(st.internal(f"error dialing backend: dial tcp {node}:{KUBELET_PORT}: i/o timeout")))
        if msg.get("code", 200) != 200:
            return reply({"code": msg["code"], "body": msg["body"]})
        if msg.get("token"):
            return reply({"code": 200, "stream": {"node": node, "token": msg["token"], "tty": msg.get("tty", False)}})
        reply({"code": 200, "exec": {"exit_code": msg.get("exit_code", 0), "stdout": msg.get("stdout", ""),
                                     "stderr": msg.get("stderr", "")}})
    return answer
