"""The packet path (sim/datapath.py): localhost inside a pod, pod to pod across nodes over the
CNI plugin's routes, kube-proxy's DNAT spread, partitions and the outside world."""
from sim.cluster import Cluster, ClusterConfig
from sim.datapath import trace
from tests.sim.conftest import advance_until, ok
from tests.sim.test_dns import _exec_in


def _pod(name, node=None, containers=None):
    spec = {"containers": containers or [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                             "labels": {"app": name}}, "spec": spec}


def _get(c, name):
    return ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": name}))


def _running(c, *names):
    return all(_get(c, n)["status"].get("phase") == "Running" for n in names)


def _start(c, *bodies):
    for b in bodies:
        ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": b}))
    advance_until(c, lambda: _running(c, *[b["metadata"]["name"] for b in bodies]), 60)
    return [_get(c, b["metadata"]["name"]) for b in bodies]


NGINX = {"name": "web", "image": "nginx:1.27"}


def test_containers_of_one_pod_reach_each_other_on_localhost(cluster):
    c = cluster
    (pod,) = _start(c, _pod("duo", containers=[NGINX, {"name": "app", "image": "busybox:1.36",
                                                       "command": ["sleep", "3600"]}]))
    code, out = _exec_in(c, "duo", ["wget", "-qO-", "http://localhost"])
    assert code == 0 and "Welcome to nginx!" in out
    t = trace(c, {"src": pod["status"]["podIP"], "src_node": pod["spec"]["nodeName"], "dst": "127.0.0.1",
                  "dport": 80, "proto": "tcp"})
    assert t.verdict == "delivered" and t.pod["name"] == "duo"
    assert "loopback" in t.hops[1]["what"] and all(h["at"] == "default/duo" for h in t.hops)
    # Nothing on 8080 inside the pod: refused, never leaving the namespace.
    t = trace(c, {"src": pod["status"]["podIP"], "src_node": pod["spec"]["nodeName"], "dst": "127.0.0.1",
                  "dport": 8080, "proto": "tcp"})
    assert t.verdict == "refused"


def test_a_pod_reaches_a_pod_on_another_node_through_the_vxlan_overlay(cluster):
    c = cluster
    a, b = _start(c, _pod("a", "worker-1"), _pod("b", "worker-2", containers=[NGINX]))
    t = trace(c, {"src": a["status"]["podIP"], "src_node": "worker-1", "dst": b["status"]["podIP"], "dport": 80})
    assert t.verdict == "delivered" and t.pod["name"] == "b" and t.endpoint == f"{b['status']['podIP']}:80"
    encap = next(h for h in t.hops if "VXLAN" in h["what"])
    assert encap["at"] == "worker-1" and "outer 192.168.0.11 -> 192.168.0.12 UDP dport 8472" in encap["what"]
    b_cidr = c.node_components["worker-2"][0].network.pod_cidr
    assert encap["rule"] == f"{b_cidr} via {b_cidr.split('/')[0]} dev flannel.1 onlink"
    assert any(h["at"] == "worker-2" and "decapsulates" in h["what"] for h in t.hops)
    # From inside the pod, wget goes the same way.
    code, out = _exec_in(c, "a", ["wget", "-qO-", f"http://{b['status']['podIP']}"])
    assert code == 0 and "Welcome to nginx!" in out
    # Same node: the bridge, no encapsulation.
    (a2,) = _start(c, _pod("a2", "worker-1", containers=[NGINX]))
    t = trace(c, {"src": a["status"]["podIP"], "src_node": "worker-1", "dst": a2["status"]["podIP"], "dport": 80})
    assert t.verdict == "delivered" and not any("VXLAN" in h["what"] for h in t.hops)
    assert any("cni0 bridge" in h["what"] for h in t.hops)


def test_a_partitioned_node_drops_the_packets(cluster):
    c = cluster
    a, b = _start(c, _pod("a", "worker-1"), _pod("b", "worker-2", containers=[NGINX]))
    c.partition([["worker-1"], ["worker-2"]])
    t = trace(c, {"src": a["status"]["podIP"], "src_node": "worker-1", "dst": b["status"]["podIP"], "dport": 80})
    assert t.verdict == "dropped" and "partition" in t.hops[-1]["what"]
    c.heal()
    t = trace(c, {"src": a["status"]["podIP"], "src_node": "worker-1", "dst": b["status"]["podIP"], "dport": 80})
    assert t.verdict == "delivered"


def _web(c, replicas=3):
    labels = {"app": "web"}
    ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default", "body": {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [NGINX]}}}}}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": labels, "ports": [{"port": 80}]}}}))

    def ready():
        pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default",
                             "query": {"labelSelector": "app=web"}}))["items"]
        return [p for p in pods if any(x["type"] == "Ready" and x["status"] == "True"
                                       for x in p["status"].get("conditions") or [])]
    advance_until(c, lambda: len(ready()) == replicas, 60)
    c.advance(3)   # EndpointSlices and every kube-proxy catch up
    return ok(c.request({"verb": "get", "resource": "services", "namespace": "default", "name": "web"})), ready()


def test_600_requests_spread_as_kube_proxy_probabilities_say(cluster):
    c = cluster
    svc, pods = _web(c)
    (client,) = _start(c, _pod("client", "worker-1"))
    counts: dict[str, int] = {}
    for _ in range(600):
        t = trace(c, {"src": client["status"]["podIP"], "src_node": "worker-1", "dst": svc["spec"]["clusterIP"],
                      "dport": 80})
        assert t.verdict == "delivered"
        counts[t.pod["name"]] = counts.get(t.pod["name"], 0) + 1
    assert sorted(counts) == sorted(p["metadata"]["name"] for p in pods)
    # KUBE-SVC's rules: 1/3, then 1/2 of the rest, then the rest: 1/3 each.  Pearson's
    # chi-square against that, 2 degrees of freedom: under 13.82 (the 0.999 quantile).
    expected = 600 / 3
    chi2 = sum((n - expected) ** 2 / expected for n in counts.values())
    assert chi2 < 13.82, counts


def test_outside_reaches_a_nodeport_and_is_masqueraded(cluster):
    c = cluster
    svc, pods = _web(c)
    port = svc["spec"]["ports"][0]["nodePort"]
    t = trace(c, {"src": "203.0.113.7", "src_node": None, "dst": "192.168.0.11", "dport": port})
    assert t.verdict == "delivered" and t.hops[0]["at"] == "outside"
    assert any("DNAT" in h["what"] and "KUBE-SEP" in (h["rule"] or "") for h in t.hops)
    assert t.snat is not None   # external traffic is masqueraded (externalTrafficPolicy Cluster)
    # An address nobody has: no answer.
    t = trace(c, {"src": "203.0.113.7", "src_node": None, "dst": "198.51.100.1", "dport": 80})
    assert t.verdict == "timeout"


def test_a_node_reaches_a_pod_from_the_host_network(cluster):
    c = cluster
    (b,) = _start(c, _pod("b", "worker-2", containers=[NGINX]))
    t = trace(c, {"src": "192.168.0.11", "src_node": "worker-1", "dst": b["status"]["podIP"], "dport": 80})
    assert t.verdict == "delivered" and t.hops[0]["at"] == "worker-1" and "host network" in t.hops[0]["what"]
