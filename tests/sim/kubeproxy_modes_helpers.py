"""Shared by the IPVS and nftables mode tests: a cluster booted with a kube-proxy mode in which a
pod wgets a Service."""
from __future__ import annotations

import dataclasses

from sim.cluster import Cluster, ClusterConfig
from tests.sim.conftest import advance_until, ok
from tests.sim.test_dns import _exec_in, _pod, _ready_coredns, _running, _web


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
        """The pods the `web` Service's EndpointSlice lists as ready."""
        slices = ok(c.request({"verb": "list", "group": "discovery.k8s.io", "resource": "endpointslices",
                               "namespace": "default", "labelSelector": "kubernetes.io/service-name=web"}))
        ips = {e["addresses"][0] for s in slices["items"] for e in s.get("endpoints") or []
               if (e.get("conditions") or {}).get("ready")}
        pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
        return [p for p in pods if p["status"].get("podIP") in ips]
    advance_until(c, lambda: _running(c, "client") and len(web_ready()) == 2 and len(_ready_coredns(c)) == 2, 60)
    c.advance(3)
    code, out = _exec_in(c, "client", ["wget", "-qO-", "http://web"])
    empty_code, _ = _exec_in(c, "client", ["wget", "-qO-", "http://empty"])
    node = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "client"}))["spec"]["nodeName"]
    return c, node, code, out, empty_code, web_ready()
