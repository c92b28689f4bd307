"""pods/attach (pkg/registry/core/pod/rest/subresources.go, AttachREST): the apiserver checks
the pod and the container, then connects to the kubelet of the pod's node (/attach), which
attaches to the container's main process through the runtime's streaming server
(sim/kubelet/streaming.py).  Stdin is the attach stream only if the container has `stdin:
true`; the terminal is the container's own (`tty: true`)."""
from __future__ import annotations

from sim.api import status as st
from sim.apiserver.podexec import answered, flag
from sim.apiserver.podlogs import cached_pod, call_kubelet, container_and_node


def serve(server, res, req: dict, reply) -> None:
    from sim.apiserver.server import _err
    q = req.get("query") or {}
    pod, missing = cached_pod(server, res, req)
    if missing:
        return reply(_err(missing))
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        return reply(_err(st.bad_request(f"cannot attach a container in a completed pod; current phase is {phase}")))
    container, node, error = container_and_node(pod, q.get("container") or "")
    if error:
        return reply(_err(st.bad_request(error)))
    call_kubelet(server, node, {"type": "kubelet.attach", "uid": pod["metadata"].get("uid"), "container": container,
                                "stdin": flag(q, "stdin")}, answered(node, reply))
