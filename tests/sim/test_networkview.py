"""The Network view's data (sim/networkview.py, Cluster.snapshot()["networkview"]): nodes with
their podCIDR, InternalIP and the CNI plugin's device; pods by IP; Services fronting their
endpoints by condition; NetworkPolicies with the pods they select; bounds; and the traffic API's
DNS step that the view animates (sim/traffic.py resolve)."""
from sim import networkview
from sim.cluster import Cluster, ClusterConfig
from sim.networkview import endpoint_state
from tests.sim.conftest import advance_until, ok

WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}


def _svc(name="web", **spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}], **spec}}


def _web(c, **spec):
    ok(c.request({"verb": "create", "group": "apps", "version": "v1", "resource": "deployments",
                  "namespace": "default", "body": WEB}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": _svc(**spec)}))
    advance_until(c, lambda: len(_box(c, "web")["endpoints"]) == 3
                  and all(e["state"] == "ready" for e in _box(c, "web")["endpoints"]), 60)


def _view(c):
    return c.snapshot()["networkview"]


def _box(c, name):
    return next((s for s in _view(c)["services"] if s["name"] == name), {"endpoints": []})


def test_endpoint_states_follow_the_endpoint_conditions():
    assert endpoint_state({}) == "ready"                       # a nil ready is ready
    assert endpoint_state({"ready": True, "serving": True, "terminating": False}) == "ready"
    assert endpoint_state({"ready": False, "serving": True, "terminating": True}) == "serving-terminating"
    assert endpoint_state({"ready": False, "serving": False, "terminating": True}) == "terminating"
    assert endpoint_state({"ready": False, "serving": False}) == "not-ready"


def test_nodes_carry_their_cidr_ip_device_and_pods_by_ip(cluster):
    c = cluster
    _web(c, type="NodePort")
    v = _view(c)
    assert v["cni"]["plugin"] == "flannel" and "VXLAN" in v["cni"]["overlay"]
    assert v["cni"]["clusterDNS"] == "10.96.0.10" and v["cni"]["enforcesNetworkPolicy"] is False
    for n in v["nodes"]:
        net = c.node_components[n["name"]][0].network
        assert n["podCIDR"] == net.pod_cidr and n["internalIP"] == net.node_ip
        assert n["device"] == {"name": "flannel.1", "address": net.pod_cidr.split("/")[0]}
        for p in n["pods"]:
            # A pod on the pod network has an address of its node's CIDR; a host-network one the node's.
            if p["hostNetwork"]:
                assert p["ip"] == n["internalIP"]
            elif p["ip"]:
                assert p["ip"].rsplit(".", 1)[0] == n["podCIDR"].rsplit(".", 1)[0]
    web = _box(c, "web")
    assert web["type"] == "NodePort" and web["clusterIP"].startswith("10.")
    assert web["ports"][0]["port"] == 80 and 30000 <= web["ports"][0]["nodePort"] <= 32767
    assert web["selector"] == "app=web" and web["endpointTotal"] == 3
    pods = {p["name"]: p for n in v["nodes"] for p in n["pods"]}
    for e in web["endpoints"]:
        assert pods[e["pod"]]["ip"] == e["ip"] and e["ports"] == [80]


def test_a_terminating_endpoint_is_marked_and_the_view_is_bounded(cluster, monkeypatch):
    c = cluster
    _web(c)
    web = _box(c, "web")
    victim = web["endpoints"][0]["pod"]
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": victim}))
    # nginx takes its grace period to stop: meanwhile the endpoint is terminating (not ready).
    advance_until(c, lambda: any(e["pod"] == victim and e["state"] in ("serving-terminating", "terminating")
                                 for e in _box(c, "web")["endpoints"]), 10, step=0.1)
    # Bounds: the first Services, endpoints and pods only, with totals and counts.
    monkeypatch.setattr(networkview, "SERVICES_SHOWN", 1)
    monkeypatch.setattr(networkview, "ENDPOINTS_SHOWN", 2)
    monkeypatch.setattr(networkview, "PODS_PER_NODE", 1)
    v = _view(c)
    assert len(v["services"]) == 1 and v["totals"]["services"] >= 3   # kubernetes, kube-dns, web
    busy = [n for n in v["nodes"] if n["podTotal"] > 1]
    assert busy and all(n["pods"] is None and sum(n["podCounts"].values()) == n["podTotal"] for n in busy)
    monkeypatch.setattr(networkview, "SERVICES_SHOWN", 40)
    web = _box(c, "web")
    assert len(web["endpoints"]) == 2 and web["endpointTotal"] >= 3
    assert sum(web["endpointCounts"].values()) == web["endpointTotal"]


def test_a_load_balancer_address_and_a_headless_service_are_shown(cluster):
    c = cluster
    # A load balancer of another implementation (a class of its own: the simulated cloud leaves
    # it) writes its address; status.loadBalancer is only for type LoadBalancer.
    _web(c, type="LoadBalancer", loadBalancerClass="example.com/other")
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default",
                  "body": _svc("db", clusterIP="None")}))
    ok(c.request({"verb": "patch", "resource": "services", "namespace": "default", "name": "web",
                  "subresource": "status", "patch_type": "application/merge-patch+json",
                  "body": {"status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.7"}]}}}}))
    c.advance(1)
    assert _box(c, "web")["loadBalancer"] == ["198.51.100.7"]
    db = _box(c, "db")
    assert db["headless"] and db["clusterIP"] == "None"


def test_a_network_policy_lists_the_pods_it_selects(cluster):
    c = cluster
    assert _view(c)["policies"] == [] and _view(c)["totals"]["policies"] == 0
    _web(c)
    ok(c.request({"verb": "create", "group": "networking.k8s.io", "version": "v1", "resource": "networkpolicies",
                  "namespace": "default", "body": {
                      "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                      "metadata": {"name": "web-deny", "namespace": "default"},
                      "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}}}))
    c.advance(1)
    (p,) = _view(c)["policies"]
    assert p["name"] == "web-deny" and p["podSelector"] == "app=web" and p["policyTypes"] == ["Ingress"]
    assert p["selectedTotal"] == 3 and all(n.startswith("web-") for n in p["selects"])


def test_traffic_from_a_pod_resolves_the_name_through_coredns_first(cluster):
    c = cluster
    _web(c)
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}}))
    advance_until(c, lambda: (ok(c.request({"verb": "get", "resource": "pods", "namespace": "default",
                                            "name": "client"}))["status"].get("phase") == "Running"), 60)
    got = c.send_traffic({"from": "pod default/client", "to": "web.default", "count": 3})
    cluster_ip = _box(c, "web")["clusterIP"]
    first, second = got["requests"][0], got["requests"][1]
    dns = first["dns"]
    assert dns["server"] == "10.96.0.10" and dns["status"] == "ok" and dns["addresses"] == [cluster_ip]
    # ndots:5 and the namespace's search path: web.default.default.svc... first (NXDOMAIN).
    assert [q["qname"] for q in dns["queries"]] == ["web.default.default.svc.cluster.local",
                                                    "web.default.svc.cluster.local"]
    assert [q["rcode"] for q in dns["queries"]] == ["NXDOMAIN", "NOERROR"]
    q = dns["queries"][1]
    assert q["pod"]["name"].startswith("coredns-") and q["endpoint"].endswith(":53")
    assert any("kube-proxy DNATs 10.96.0.10:53" in h["what"] for h in q["hops"])
    assert "hops" not in second["dns"]["queries"][1]   # the hops ride on the first request only
    # The connection then goes to the answer, and kube-proxy's hop lists every rule it matched.
    dnat = next(h for h in first["hops"] if h["what"].startswith("kube-proxy DNATs"))
    assert first["packet"]["dst"] == cluster_ip
    assert dnat["path"][-1] == dnat["rule"] or dnat["rule"] in dnat["path"]
    assert any(" -j KUBE-SVC-" in r for r in dnat["path"])
    # CoreDNS without a ready pod: the name no longer resolves, the request fails before it connects.
    ok(c.request({"verb": "patch", "group": "apps", "version": "v1", "resource": "deployments",
                  "namespace": "kube-system", "name": "coredns", "subresource": "scale",
                  "patch_type": "application/merge-patch+json", "body": {"spec": {"replicas": 0}}}))
    advance_until(c, lambda: c.send_traffic({"from": "pod default/client", "to": "web.default"})
                  ["requests"][0]["verdict"] == "timeout", 60)
    got = c.send_traffic({"from": "pod default/client", "to": "web.default"})
    (r,) = got["requests"]
    assert r["dns"]["status"] == "timeout" and "bad address 'web.default'" in r["hops"][-1]["what"]
