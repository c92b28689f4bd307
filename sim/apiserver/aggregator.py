"""kube-apiserver's aggregation layer (k8s.io/kube-aggregator) for the one aggregated API a
cluster has: metrics.k8s.io/v1beta1, the APIService v1beta1.metrics.k8s.io backed by
metrics-server (sim/metricsserver.py).  A request for that group is proxied to it; when it is
not reachable the aggregator answers 503 "the server is currently unable to handle the request"
(the proxy handler's ServiceUnavailable), as `kubectl top` then reports.
"""
from __future__ import annotations

from sim.api import metricsapi
from sim.api import status as st
from sim.apiserver.podlogs import call_backend

PROXY_TIMEOUT = 10.0


def handles(req: dict) -> bool:
    return req.get("group") == metricsapi.GROUP


def serve(server, req: dict, reply) -> None:
    from sim.apiserver.server import _err
    if metricsapi.lookup(req.get("group", ""), req.get("resource", "")) is None or req.get("subresource") \
            or req.get("version", metricsapi.VERSION) != metricsapi.VERSION:
        return reply(_err(st.status(404, "NotFound", "the server could not find the requested resource")))
    if req.get("verb") not in ("get", "list"):
        return reply(_err(st.method_not_allowed()))
    backend = getattr(server, "metrics_server", None)
    if backend is None:
        return reply(_err(st.unavailable("the server is currently unable to handle the request")))
    forwarded = {k: req.get(k) for k in ("verb", "resource", "namespace", "name", "query")}

    def answered(msg: dict) -> None:
        if msg.get("type") == "timeout":
            return reply(_err(st.unavailable("the server is currently unable to handle the request")))
        code = msg.get("code", 500)
        reply({"code": code, "body": msg.get("body")} if code < 400 else _err(msg.get("body")))
    call_backend(server, backend, {"type": "metrics.request", "req": forwarded}, answered, PROXY_TIMEOUT)
