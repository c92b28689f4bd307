"""pods/portforward (pkg/registry/core/pod/rest/subresources.go, PortForwardREST; the location
from pkg/registry/core/pod/strategy.go PortForwardLocation): the apiserver checks the pod and
its node, then connects to the kubelet of the pod's node (/portForward), which reaches the
program listening on the port (sim/kubelet/portforward.py).  The HTTP front end carries the
streams (cluster/api/portforwardstream.py: SPDY/3.1 tunnelled in a WebSocket) and sends each
forwarded connection's bytes here as `portforward: {"port", "data"}`."""
from __future__ import annotations

from sim.api import status as st
from sim.apiserver.podlogs import KUBELET_PORT, cached_pod, call_kubelet


def serve(server, res, req: dict, reply) -> None:
    from sim.apiserver.server import _err
    pod, missing = cached_pod(server, res, req)
    if missing:
        return reply(_err(missing))
    name = pod["metadata"].get("name", "")
    node = (pod.get("spec") or {}).get("nodeName")
    if not node:
        return reply(_err(st.bad_request(f"pod {name} does not have a host assigned")))
    pf = req.get("portforward") or {}
    port = pf.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        # pkg/kubelet/cri/streaming/portforward: the port header must be a port number.
        return reply(_err(st.bad_request(f'invalid port "{port}"')))

    def answered(msg: dict) -> None:
        if msg.get("type") == "timeout":
            return reply(_err(st.internal(f"error dialing backend: dial tcp {node}:{KUBELET_PORT}: i/o timeout")))
        if msg.get("code", 200) != 200:
            return reply({"code": msg["code"], "body": msg["body"]})
        if msg.get("error"):
            return reply({"code": 200, "portforward": {"error": msg["error"]}})
        reply({"code": 200, "portforward": {"consumed": int(msg.get("consumed") or 0), "data": msg.get("data", ""),
                                            "close": bool(msg.get("close"))}})

    call_kubelet(server, node, {"type": "kubelet.portForward", "uid": pod["metadata"].get("uid"), "pod": name,
                                "port": port, "data": str(pf.get("data") or "")}, answered)
