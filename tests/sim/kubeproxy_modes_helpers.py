"""Shared by the IPVS and nftables mode tests: a Service's ports and endpoints as kube-proxy's
change trackers hold them, and a small cluster booted with a kube-proxy mode in which a pod
wgets a Service."""
from __future__ import annotations

import dataclasses

from sim.cluster import Cluster, ClusterConfig
from sim.kubeproxy import EndpointsChangeTracker, ServiceChangeTracker
from tests.sim.conftest import advance_until, ok
from tests.sim.test_dns import _exec_in, _pod, _ready_coredns, _running, _web

NODE_IP = "192.168.0.11"


def tracked(services, slices, node="worker-1"):
    """(service ports, endpoints map) after both trackers applied the objects."""
    svcs, eps = ServiceChangeTracker(), EndpointsChangeTracker(node)
    for s in services:
        svcs.update(None, s)
    for s in slices:
        eps.update(s, False)
    svcs.apply()
    eps.apply()
    return [p for key in sorted(svcs.ports) for p in svcs.ports[key]], eps.endpoints


def wget_through_a_service(mode: str):
    """Boot a cluster whose kube-proxies run in `mode`, put two nginx pods behind the Service
    `web` and a client pod beside them; wget http://web from the client (and http://empty, a
    Service with no endpoints).  Returns (cluster, the client's node, wget's code and output,
    the empty Service's wget code)."""
    c = Cluster("t", dataclasses.replace(ClusterConfig.default(seed=3), kube_proxy_mode=mode))
    c.advance(20)
    _web(c)
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": _pod("client")}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty"},
        "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}}}))

    def web_ready():
        pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
        return [p for p in pods if p["metadata"]["name"].startswith("web-") and any(
            x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions") or [])]
    advance_until(c, lambda: _running(c, "client") and len(web_ready()) == 2 and len(_ready_coredns(c)) == 2, 60)
    c.advance(3)
    code, out = _exec_in(c, "client", ["wget", "-qO-", "http://web"])
    empty_code, _ = _exec_in(c, "client", ["wget", "-qO-", "http://empty"])
    node = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "client"}))["spec"]["nodeName"]
    return c, node, code, out, empty_code, web_ready()
