"""The page's kubectl console as its own client (sim/external.py ConsoleClient): its requests
travel from console@client, every other outside request from kubectl@client."""
from sim.external import VIA_CONSOLE

from .conftest import ok


def _hops(cluster, since):
    return [e for e in cluster.kernel.trace[since:] if e.get("kind") == "message"]


def test_a_console_request_travels_from_the_console_and_its_reply_back_to_it(cluster):
    cluster.kernel.trace_enabled = True
    since = len(cluster.kernel.trace)
    resp = cluster.request({"verb": "create", "resource": "configmaps", "namespace": "default", "via": VIA_CONSOLE,
                            "body": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typed"}}})
    ok(resp, 201)
    hops = _hops(cluster, since)
    assert any(h["src"] == "console@client" and h["type"] == "create configmaps" for h in hops), hops
    assert any(h["dst"] == "console@client" for h in hops), "the reply goes back to the console"
    assert not any("kubectl@client" in (h["src"], h["dst"]) for h in hops)


def test_other_clients_requests_still_leave_from_kubectl(cluster):
    cluster.kernel.trace_enabled = True
    since = len(cluster.kernel.trace)
    ok(cluster.request({"verb": "create", "resource": "configmaps", "namespace": "default",
                        "body": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scripted"}}}), 201)
    hops = _hops(cluster, since)
    assert any(h["src"] == "kubectl@client" and h["type"] == "create configmaps" for h in hops), hops
    assert not any("console@client" in (h["src"], h["dst"]) for h in hops)


def test_a_non_resource_request_before_the_watch_cache_is_ready_travels_too():
    """/version asked while kube-apiserver is still loading its cache goes over the network
    like any request (its label names the path); it used to raise KeyError: 'resource'."""
    from sim.cluster import Cluster, ClusterConfig
    c = Cluster("v", ClusterConfig.default(seed=3))
    c.kernel.trace_enabled = True
    resp = c.request({"verb": "nonresource", "path": "/version", "method": "GET"})
    assert resp["code"] == 200, resp
    assert any(e.get("kind") == "message" and e.get("type") == "nonresource /version" for e in c.kernel.trace)
