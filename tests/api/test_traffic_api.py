"""Traffic and routes through the simulator control API: POST /clusters/<c>/sim/v1/traffic and
GET /clusters/<c>/sim/v1/nodes/<node>/routes."""
from __future__ import annotations

import pytest

from tests.conftest import wait_until


@pytest.fixture(scope="module")
def cluster(pilothouse_server, module_cluster):
    return module_cluster("traffic")


def _nginx_behind_a_service(req, cluster, name, replicas, **service_spec):
    """An nginx Deployment `name` and a Service of its name on port 80 (`service_spec` added to
    its spec); the created Service."""
    labels = {"app": name}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
               "metadata": {"labels": labels}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}
    status, body = req("POST", f"/clusters/{cluster}/apis/apps/v1/namespaces/default/deployments", dep)
    assert status == 201, body
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
           "spec": {"selector": labels, "ports": [{"port": 80}], **service_spec}}
    status, svc = req("POST", f"/clusters/{cluster}/api/v1/namespaces/default/services", svc)
    assert status == 201, svc
    return svc


def test_a_nodes_routes_show_the_flannel_overlay(pilothouse_server, cluster):
    req = pilothouse_server.request

    def routes():
        code, got = req("GET", f"/clusters/{cluster}/sim/v1/nodes/worker-1/routes")
        assert code == 200, got
        return got
    wait_until(lambda: "flannel.1" in routes()["routes"], 30, 0.2, "flanneld to write worker-1's routes")
    got = routes()
    assert got["cni"] == "flannel" and got["networkReady"] is True and got["podCIDR"].endswith("/24")
    assert got["routes"].startswith("default via 192.168.0.1 dev eth0")
    assert any(r["dev"] == "flannel.1" and r["line"].endswith("onlink") for r in got["table"])
    status, err = req("GET", f"/clusters/{cluster}/sim/v1/nodes/nope/routes")
    assert status == 404 and err["kind"] == "Status"


def test_traffic_from_outside_to_a_nodeport_and_bad_input(pilothouse_server, cluster):
    req = pilothouse_server.request
    svc = _nginx_behind_a_service(req, cluster, "web", 2, type="NodePort")
    url = f"/clusters/{cluster}/sim/v1/traffic"

    def send(body):
        return req("POST", url, body)

    def delivered():
        code, got = send({"from": "node worker-1", "to": "web.default", "count": 20})
        return code == 200 and got["summary"]["verdicts"]["delivered"] == 20 and len(got["summary"]["endpoints"]) == 2
    wait_until(delivered, 60, 0.5, "web's two pods to answer through kube-proxy")
    code, got = send({"from": "node worker-1", "to": "web.default", "count": 20})
    assert got["dst"] == svc["spec"]["clusterIP"] and got["dport"] == 80 and got["count"] == 20
    assert sum(e["count"] for e in got["summary"]["endpoints"]) == 20
    first = got["requests"][0]
    assert first["verdict"] == "delivered" and first["pod"]["name"].startswith("web-")
    assert any(h["rule"] and "KUBE-SEP" in h["rule"] for h in first["hops"])
    assert "Welcome to nginx!" in first["response"]["body"]
    node_port = svc["spec"]["ports"][0]["nodePort"]
    code, got = send({"from": "outside", "to": f"192.168.0.12:{node_port}", "count": 3})
    assert code == 200 and got["summary"]["verdicts"]["delivered"] == 3
    assert got["requests"][0]["hops"][0]["at"] == "outside"
    for bad, want in (({"from": "outside", "to": "web.default", "count": 1001}, 400),
                      ({"from": "somewhere", "to": "web.default"}, 400),
                      ({"from": "outside", "to": "nosuch.default"}, 404),
                      ({"from": "pod default/ghost", "to": "web.default"}, 404),
                      ({"from": "outside", "to": "web.default", "colour": "red"}, 400),
                      ([1, 2], 400)):
        code, err = send(bad)
        assert code == want and err["kind"] == "Status" and err["message"], (bad, err)


def test_traffic_from_outside_to_a_load_balancer_ip(pilothouse_server, cluster):
    """outside -> the load balancer's address -> the cloud picks a healthy node -> its nodePort
    -> kube-proxy -> an endpoint; externalTrafficPolicy Local keeps the client's address and the
    cloud sends only to nodes with a local endpoint."""
    req = pilothouse_server.request
    _nginx_behind_a_service(req, cluster, "lb", 1, type="LoadBalancer", externalTrafficPolicy="Local")

    def external_ip():
        _, got = req("GET", f"/clusters/{cluster}/api/v1/namespaces/default/services/lb")
        ing = (got.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
        return ing[0]["ip"] if ing else None
    wait_until(external_ip, 60, 0.5, "the cloud's external IP")
    ip = external_ip()

    def send():
        code, got = req("POST", f"/clusters/{cluster}/sim/v1/traffic", {"from": "outside", "to": ip, "count": 10})
        assert code == 200, got
        return got
    # Until the health checks find the node with the pod, the load balancer fails open and the
    # nodes without one drop the packets (kube-proxy's "has no local endpoints").
    wait_until(lambda: send()["summary"]["verdicts"]["delivered"] == 10, 60, 0.5, "the health checks to settle")
    got = send()
    assert got["dst"] == ip and got["dport"] == 80 and len(got["summary"]["endpoints"]) == 1
    first = got["requests"][0]
    assert [h["at"] for h in first["hops"][:2]] == ["outside", "cloud"]
    assert first["snat"] is None and "Welcome to nginx!" in first["response"]["body"]
    assert first["hops"][-1]["what"] == f"the load balancer answers 198.51.100.10 from {ip}:80"
    node = first["pod"]["node"]
    assert {r["hops"][2]["at"] for r in got["requests"]} == {node}
    # A port the load balancer has no forwarding rule for: nothing answers.
    code, got = req("POST", f"/clusters/{cluster}/sim/v1/traffic", {"from": "outside", "to": f"{ip}:81"})
    assert code == 200 and got["summary"]["verdicts"]["timeout"] == 1
