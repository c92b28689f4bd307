"""A node's kube-proxy rules through the simulator control API:
GET /clusters/<c>/sim/v1/nodes/<node>/iptables."""
from __future__ import annotations

import pytest

from sim.kubeproxy_iptables import service_chain
from tests.conftest import wait_until


def _reader(req, url):
    def read():
        code, got = req("GET", url)
        assert code == 200, got
        return got
    return read


@pytest.fixture(scope="module")
def cluster(pilothouse_server, module_cluster):
    return module_cluster("kubeproxy")


def test_a_nodes_iptables_rules_are_readable(pilothouse_server, cluster):
    req = pilothouse_server.request
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    status, created = req("POST", f"/clusters/{cluster}/api/v1/namespaces/default/services", svc)
    assert status == 201, created
    slc = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
           "metadata": {"name": "web-x1", "labels": {"kubernetes.io/service-name": "web"}},
           "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
           "endpoints": [{"addresses": ["10.244.1.7"], "conditions": {"ready": True}, "nodeName": "worker-1"},
                         {"addresses": ["10.244.2.7"], "conditions": {"ready": True}, "nodeName": "worker-2"}]}
    status, body = req("POST", f"/clusters/{cluster}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", slc)
    assert status == 201, body
    chain = service_chain("default/web", "tcp")
    rules = _reader(req, f"/clusters/{cluster}/sim/v1/nodes/worker-1/iptables")
    wait_until(lambda: chain in rules()["rules"], 30, 0.2, "worker-1's kube-proxy to program web")
    got = rules()
    assert got["node"] == "worker-1" and got["mode"] == "iptables" and got["syncedAt"]
    assert got["services"] >= 1 and got["endpoints"] >= 2
    node_port = created["spec"]["ports"][0]["nodePort"]
    lines = got["rules"].splitlines()
    assert [line.split(" -j ")[0] for line in lines if line.startswith(f"-A {chain} -m comment")] == [
        f"-A {chain} -m comment --comment \"default/web -> 10.244.1.7:8080\" -m statistic --mode random "
        "--probability 0.50000000000",
        f"-A {chain} -m comment --comment \"default/web -> 10.244.2.7:8080\""]
    assert any(line.startswith("-A KUBE-NODEPORTS ") and f"--dport {node_port} " in line for line in lines)
    status, err = req("GET", f"/clusters/{cluster}/sim/v1/nodes/nope/iptables")
    assert status == 404 and err["kind"] == "Status" and err["message"] == 'node "nope" not found'


def test_a_nodes_proxy_rules_show_the_mode_the_text_and_the_sync_metrics(pilothouse_server, cluster):
    req = pilothouse_server.request
    rules = _reader(req, f"/clusters/{cluster}/sim/v1/nodes/worker-2/proxy-rules")
    chain = service_chain("kube-system/kube-dns:dns", "udp")
    wait_until(lambda: chain in rules()["text"], 30, 0.2, "worker-2's kube-proxy to program kube-dns")
    got = rules()
    assert got["node"] == "worker-2" and got["mode"] == "iptables" and got["text"].startswith("*filter\n")
    m = got["metrics"]
    # The first sync is full; the ones after it partial (proxier.go syncProxyRules).
    assert m["sync_full_proxy_rules_duration_seconds_count"] >= 1
    assert m["sync_proxy_rules_duration_seconds_count"] == got["syncs"]
    assert m["sync_proxy_rules_last_timestamp_seconds"] is not None
    assert m["sync_proxy_rules_iptables_last"]["nat"] > 0
    status, err = req("GET", f"/clusters/{cluster}/sim/v1/nodes/nope/proxy-rules")
    assert status == 404 and err["kind"] == "Status" and err["message"] == 'node "nope" not found'


def test_an_ipvs_clusters_proxy_rules_show_ipvsadm_ipset_and_iptables(pilothouse_server):
    req = pilothouse_server.request
    status, err = req("POST", "/sim/v1/clusters", {"name": "kp-bad-mode", "kubeProxyMode": "userspace"})
    assert status == 400 and "kubeProxyMode: Unsupported value: 'userspace'" in err["message"], err
    status, body = req("POST", "/sim/v1/clusters", {"name": "kp-ipvs", "kubeProxyMode": "ipvs"})
    assert status == 201, body
    try:
        status, body = req("POST", "/clusters/kp-ipvs/sim/v1/clock", {"speed": 20})
        assert status == 200, body
        rules = _reader(req, "/clusters/kp-ipvs/sim/v1/nodes/worker-1/proxy-rules")
        # The `kubernetes` Service and kube-dns (10.96.0.10, once CoreDNS is up) get a virtual
        # server per port.
        wait_until(lambda: "UDP  10.96.0.10:53 rr\n  -> " in rules()["ipvsadm"]
                   and "TCP  10.96.0.1:443 rr\n  -> " in rules()["ipvsadm"], 60, 0.2,
                   "worker-1's kube-proxy to program kubernetes and kube-dns in IPVS")
        got = rules()
        assert got["mode"] == "ipvs" and got["text"].startswith("# ipvsadm -Ln\nIP Virtual Server version 1.2.1")
        assert got["ipvsadm"] in got["text"] and got["ipset"] in got["text"] and got["iptables"] in got["text"]
        assert "Name: KUBE-CLUSTER-IP\n" in got["ipset"] and "\n10.96.0.10,udp:53\n" in got["ipset"]
        assert "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT" in got["iptables"]
        assert "10.96.0.10" in got["kubeIpvs0"]
        assert got["metrics"]["sync_proxy_rules_duration_seconds_count"] == got["syncs"]
    finally:
        req("POST", "/clusters/kp-ipvs/sim/v1/clock", {"paused": True})
