"""pods/log (pkg/registry/core/pod/rest/log.go, LogREST.Get): the options checked here, the
log itself read by the kubelet of the pod's node (the apiserver connects to its port 10250,
/containerLogs/<namespace>/<pod>/<container>: pkg/kubelet/server), the answer plain text.

The kubelet's side is sim/kubelet/logs.py.  A node that does not answer (down, cut off) is
upstream's 500 with the dial error, after the connection's timeout.
"""
from __future__ import annotations

from sim.api import status as st
from sim.api.validation import invalid

# How long the apiserver waits for a kubelet (the proxy transport's dial and response timeout).
KUBELET_TIMEOUT = 10.0
KUBELET_PORT = 10250


def _int_option(query: dict, name: str, minimum: int) -> tuple[int | None, dict | None]:
    raw = query.get(name)
    if raw in (None, ""):
        return None, None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None, st.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax')
    if value < minimum:
        # validation.ValidatePodLogOptions
        detail = "must be greater than or equal to 0" if minimum == 0 else "must be greater than 0"
        return None, st.invalid("PodLogOptions", "", [invalid(name, value, detail)])
    return min(value, 1 << 62), None


def cached_pod(server, res, req: dict) -> tuple[dict | None, dict | None]:
    """The pod a pods/log or pods/exec request names, from the watch cache, or its 404."""
    name = req.get("name", "")
    pod = server._get_cached(res, req.get("namespace"), name)
    return (pod, None) if pod is not None else (None, st.not_found("pods", name))


def serve(server, res, req: dict, reply) -> None:
    from sim.apiserver.server import _err
    q = req.get("query") or {}
    ns, name = req.get("namespace"), req.get("name", "")
    pod, missing = cached_pod(server, res, req)
    if missing:
        return reply(_err(missing))
    options = {"previous": str(q.get("previous", "")).lower() == "true",
               "timestamps": str(q.get("timestamps", "")).lower() == "true"}
    for option, minimum in (("tailLines", 0), ("limitBytes", 1), ("sinceSeconds", 1)):
        options[option], error = _int_option(q, option, minimum)
        if error:
            return reply(_err(error))
    if q.get("sinceSeconds") and q.get("sinceTime"):
        return reply(_err(st.bad_request("at most one of `sinceTime` or `sinceSeconds` may be specified")))
    if q.get("sinceTime"):
        since = server.parse_time(q["sinceTime"])
        if since is None:
            return reply(_err(st.bad_request(f'parsing time "{q["sinceTime"]}" as "2006-01-02T15:04:05Z07:00": '
                                             f'cannot parse "{q["sinceTime"]}" as "2006"')))
        options["sinceTime"] = since + server.kernel.epoch_offset
    container, node, error = container_and_node(pod, q.get("container") or "")
    if error:
        return reply(_err(st.bad_request(error)))
    options.update(namespace=ns, pod=name, uid=pod["metadata"].get("uid"), container=container,
                   after=req.get("log_after"))  # a follower's cursor (cluster/api/podlogs.py)
    url = f"https://{node}:{KUBELET_PORT}/containerLogs/{ns}/{name}/{container}"

    def answered(msg: dict) -> None:
        if msg.get("type") == "timeout":
            return reply(_err(st.internal(f'Get "{url}": dial tcp {node}:{KUBELET_PORT}: i/o timeout')))
        if msg.get("code", 200) != 200:
            return reply({"code": msg["code"], "body": msg["body"]})
        reply({"code": 200, "text": msg.get("text", ""), "next": msg.get("next"), "running": msg.get("running")})

    call_kubelet(server, node, {"type": "kubelet.containerLogs", **options}, answered)


def container_and_node(pod: dict, container: str) -> tuple[str, str, str | None]:
    """The container a log or exec request means (the only one when none is named) and the
    pod's node, or the error upstream answers (400)."""
    name = (pod.get("metadata") or {}).get("name", "")
    spec = pod.get("spec") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    inits = [c.get("name") for c in spec.get("initContainers") or []]
    ephemeral = [c.get("name") for c in spec.get("ephemeralContainers") or []]
    if not container:
        if len(containers) != 1:
            message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
            return "", "", message
        container = containers[0]
    if container not in containers and container not in inits and container not in ephemeral:
        return container, "", f"container {container} is not valid for pod {name}"
    if not spec.get("nodeName"):
        return container, "", f"pod {name} does not have a host assigned"
    return container, spec["nodeName"], None


def call_kubelet(server, node: str, msg: dict, callback) -> None:
    """One request to a node's kubelet, answered by its "kubelet.reply" or, after
    KUBELET_TIMEOUT, by {"type": "timeout"}."""
    call_backend(server, f"kubelet@{node}", msg, callback)


def call_backend(server, address: str, msg: dict, callback, timeout: float = KUBELET_TIMEOUT) -> None:
    """One request to a component behind the apiserver (a kubelet, an aggregated API server),
    answered by its reply (type "kubelet.reply" or "metrics.reply") or {"type": "timeout"}."""
    server.next_id += 1
    rid = server.next_id
    pending = server.kubelet_pending

    def timed_out() -> None:
        entry = pending.pop(rid, None)
        if entry is not None:
            entry({"type": "timeout"})

    pending[rid] = callback
    server.call_later(timeout, timed_out)
    server.send(address, {**msg, "id": rid}, msg["type"].partition(".")[2])


def kubelet_replied(server, msg: dict) -> None:
    callback = server.kubelet_pending.pop(msg.get("id"), None)
    if callback is not None:
        callback(msg)
