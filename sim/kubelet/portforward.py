"""Port forwarding on the node: the kubelet's /portForward and the runtime's PortForward.

Upstream, kube-apiserver upgrades the client's connection through to the kubelet's streaming
server (pkg/kubelet/cri/streaming/portforward/httpstream.go), which for each forwarded
connection asks the runtime's PortForward (containerd: sandbox_portforward_linux.go) to dial
localhost:<port> inside the pod's network namespace and copy bytes both ways.  Here each call
carries the bytes the client sent that the program has not yet used, and the answer carries the
program's reply (sim/runtime/connection.py); the HTTP front end keeps the connection
(cluster/api/portforwardstream.py).  A call with no bytes is the dial.

A port nothing listens on is refused with the runtime's own words, which the kubelet wraps as
httpstream.go's portForward does: "error forwarding port 80 to pod <sandbox id>, uid : ...";
the uid is empty because the CRI streaming server knows only the sandbox.
"""
from __future__ import annotations

import uuid

from sim.api import status as st
from sim.runtime import connection

# A reply larger than this is cut (a forwarded connection carries pages, not bulk data).
MAX_REPLY_BYTES = 1024 * 1024


# -- the kubelet --------------------------------------------------------------------------
def port_forward(kubelet, msg: dict, answer) -> None:
    """answer({"code": 200, "consumed", "data", "close"} or {"code": 200, "error"} for a
    connection that failed, or {"code", "body": Status} for a request the kubelet refuses)."""
    w = kubelet.worker_for(msg.get("uid"))
    if w is None:
        # server.go getPortForward: the pod is not on this node (any more).
        return answer({"code": 404, "body": st.not_found("pods", msg.get("pod", ""))})
    port = int(msg.get("port") or 0)

    def done(r: dict) -> None:
        if r.get("error"):
            return answer({"code": 200, "error": f"error forwarding port {port} to pod {r.get('sandbox_id', '')}, "
                                                 f"uid : {r['error']}"})
        answer({"code": 200, "consumed": r.get("consumed", 0), "data": r.get("data", ""), "close": r.get("close")})

    kubelet.cri("cri.PortForward", {"pod_uid": w["uid"], "port": port, "data": msg.get("data") or ""}, done)


# -- the container runtime ------------------------------------------------------------------
def refused(kind: str, sandbox_id: str, port: int) -> str:
    """The runtime's error for a port nothing in the pod listens on."""
    if kind == "docker":
        # cri-dockerd forwards through socat in the sandbox's namespace (dockershim's portforward).
        return (f"exit status 1: socat[1] E connect(5, AF=2 127.0.0.1:{port}, 16): Connection refused")
    netns = uuid.UUID(sandbox_id[:32].ljust(32, "0"))
    # containerd's sandbox_portforward_linux.go (CRI-O's words are close to these).
    return (f'failed to execute portforward in network namespace "/var/run/netns/cni-{netns}": failed to connect to '
            f'localhost:{port} inside namespace "{sandbox_id}", IPv4: dial tcp4 127.0.0.1:{port}: connect: '
            f"connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection refused ")


def forward(runtime, msg: dict, reply) -> None:
    """The runtime's side: the bytes go to the pod's program that listens on the port."""
    uid, port = msg.get("pod_uid"), int(msg.get("port") or 0)
    sandbox = runtime.sandboxes.get(uid)
    if sandbox is None:
        return reply(0.001, error=f'failed to find sandbox "{uid}" in store: not found')
    c = runtime.listener(uid, port)
    if c is None:
        return reply(0.001, sandbox_id=sandbox["id"], error=refused(runtime.kind, sandbox["id"], port))
    if "hang" in runtime.container_faults(c):
        # A hung program (the page's "hang" fault) accepts the connection and never answers.
        return None
    data = str(msg.get("data") or "").encode("latin-1", "replace")
    try:
        ex = connection.serve(c.program, c.ctx, data, runtime.now - (c.started_at or runtime.now))
    except Exception as e:  # noqa: BLE001 - a program's bug resets its connection, not the node
        return reply(0.001, sandbox_id=sandbox["id"], error=f"read: connection reset by peer ({type(e).__name__})")
    for stream, line in ex.log:   # one line per request answered
        runtime.write_log(c, line + "\n", stream)
        runtime.served_request(c)
    reply(0.002, sandbox_id=sandbox["id"], consumed=ex.consumed, data=ex.reply[:MAX_REPLY_BYTES].decode("latin-1"),
          close=ex.close)
