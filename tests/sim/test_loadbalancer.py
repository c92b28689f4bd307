"""Services of type LoadBalancer in virtual time: cloud-controller-manager's service controller
and the simulated cloud (sim/cloud/), kube-proxy's health servers, and the Service API's load
balancer fields (healthCheckNodePort, allocateLoadBalancerNodePorts, loadBalancerClass,
loadBalancerSourceRanges, the status subresource)."""
from __future__ import annotations

import copy

import pytest

from sim.cloud.loadbalancer import CHECK_INTERVAL, CHECK_TIMEOUT, UNHEALTHY_THRESHOLD
from sim.cloud.provider import PROVISION_SECONDS
from sim.cloud.servicecontroller import LOAD_BALANCER_CLEANUP_FINALIZER
from sim.cluster import Cluster, ClusterConfig, node_ip
from sim.clusterconfig import ConfigError, config_from_spec, config_from_words
from sim.kubeproxy_iptables import service_chain
from tests.builders import MakePod
from tests.sim.conftest import advance_until, ok

WORKERS = ("worker-1", "worker-2", "worker-3")
EXCLUDE = "node.kubernetes.io/exclude-from-external-load-balancers"


def lb_service(name="web", **spec):
    spec.setdefault("ports", [{"port": 80, "targetPort": 80}])
    spec.setdefault("selector", {"app": name})
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"type": "LoadBalancer", **spec}}


def create(c, body):
    return c.request({"verb": "create", "resource": "services", "namespace": "default", "body": body})


def get(c, name="web"):
    return copy.deepcopy(c.request({"verb": "get", "resource": "services", "namespace": "default", "name": name}))


def patch(c, name, body, sub=None, kind="services", namespace="default"):
    return c.request({"verb": "patch", "resource": kind, "namespace": namespace, "name": name, "subresource": sub,
                      "body": body, "patch_type": "application/merge-patch+json"})


def ingress_ip(c, name="web"):
    ing = ((get(c, name)["body"].get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ing[0]["ip"] if ing else None


def reasons(c, name="web"):
    items = ok(c.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
    evs = [e for e in items if e["involvedObject"]["kind"] == "Service" and e["involvedObject"]["name"] == name]
    evs.sort(key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))
    return [e["reason"] for e in evs], evs


def backends(c, name="web"):
    lbs = [lb for lb in c.cloud.describe() if lb["service"] == f"default/{name}"]
    return {b["node"]: b for b in lbs[0]["backends"]} if lbs else None


def run_pod(c, name, node, app="web"):
    body = MakePod().name(name).namespace("default").labels({"app": app}) \
        .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").node(node).manifest()
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)


def assigned(c, name="web", limit=15.0):
    advance_until(c, lambda: ingress_ip(c, name) is not None, limit)
    return ingress_ip(c, name)


def test_a_load_balancer_service_gets_an_external_ip_a_finalizer_and_the_events(cluster):
    spec = ok(create(cluster, lb_service()), 201)["spec"]
    node_port = spec["ports"][0]["nodePort"]
    assert "healthCheckNodePort" not in spec   # policy Cluster: kube-proxy's own /healthz is checked
    assert ingress_ip(cluster) is None          # <pending> while the cloud provisions
    took = advance_until(cluster, lambda: ingress_ip(cluster) is not None, 15)
    assert took >= PROVISION_SECONDS
    svc = get(cluster)["body"]
    assert svc["metadata"]["finalizers"] == [LOAD_BALANCER_CLEANUP_FINALIZER]
    assert svc["status"]["loadBalancer"] == {"ingress": [{"ip": "203.0.113.1", "ipMode": "VIP"}]}
    got, evs = reasons(cluster)
    assert got == ["EnsuringLoadBalancer", "EnsuredLoadBalancer"]
    assert {e["source"]["component"] for e in evs} == {"service-controller"}
    assert [e["message"] for e in evs] == ["Ensuring load balancer", "Ensured load balancer"]
    # The cloud's load balancer: one listener to the node port, every worker a backend (kubeadm
    # labels cp-1 exclude-from-external-load-balancers), checked on kube-proxy's 10256/healthz.
    lb = cluster.cloud.describe()[0]
    assert lb["ip"] == "203.0.113.1" and lb["listeners"] == [{"port": 80, "protocol": "TCP", "nodePort": node_port}]
    assert lb["healthCheck"]["port"] == 10256 and lb["name"] == "a" + svc["metadata"]["uid"].replace("-", "")[:31]
    assert sorted(backends(cluster)) == list(WORKERS)
    advance_until(cluster, lambda: all(b["healthy"] for b in backends(cluster).values()), 2)
    picks = {cluster.cloud.load_balancer("203.0.113.1", 80, "198.51.100.7") for _ in range(60)}
    assert picks == {(node_ip(i), node_port) for i in (1, 2, 3)}
    assert cluster.cloud.load_balancer("203.0.113.1", 81) is None and cluster.cloud.load_balancer("203.0.113.9", 80) is None
    # The cloud-controller-manager is on the control plane, and one of them leads.
    ccms = [c for c in cluster.control_plane if c.component == "cloud-controller-manager"]
    assert [c.host for c in ccms] == ["cp-1"] and ccms[0].leading
    assert any(c["name"] == "cloud-controller-manager" for c in cluster.snapshot()["control_plane"])


def test_backends_follow_nodes_added_excluded_and_cordoned(cluster):
    ok(create(cluster, lb_service()), 201)
    assigned(cluster)
    cluster.add_node("worker-4")
    advance_until(cluster, lambda: "worker-4" in (backends(cluster) or {}), 30)
    assert reasons(cluster)[0][-1] == "UpdatedLoadBalancer"
    # Cordoning leaves it in (readiness and schedulability are the health checks' business) ...
    ok(patch(cluster, "worker-4", {"spec": {"unschedulable": True}}, kind="nodes", namespace=None))
    cluster.advance(5)
    assert "worker-4" in backends(cluster)
    # ... the exclusion label takes it out, and its removal puts it back.
    ok(patch(cluster, "worker-4", {"metadata": {"labels": {EXCLUDE: ""}}}, kind="nodes", namespace=None))
    advance_until(cluster, lambda: "worker-4" not in backends(cluster), 10)
    ok(patch(cluster, "worker-4", {"metadata": {"labels": {EXCLUDE: None}}}, kind="nodes", namespace=None))
    advance_until(cluster, lambda: "worker-4" in backends(cluster), 10)
    # The recorder counts one Event up (the same reason and message): three updates.
    assert [e["count"] for e in reasons(cluster)[1] if e["reason"] == "UpdatedLoadBalancer"] == [3]
    # A deleted Node leaves the pool.
    ok(cluster.request({"verb": "delete", "resource": "nodes", "name": "worker-4"}))
    advance_until(cluster, lambda: "worker-4" not in backends(cluster), 10)


def test_local_policy_health_checks_pick_only_nodes_with_endpoints(cluster):
    spec = ok(create(cluster, lb_service(externalTrafficPolicy="Local")), 201)["spec"]
    hc = spec["healthCheckNodePort"]
    assert 30000 <= hc <= 32767 and hc != spec["ports"][0]["nodePort"]
    run_pod(cluster, "web-a", "worker-2")
    ip = assigned(cluster)
    assert cluster.cloud.describe()[0]["healthCheck"]["port"] == hc
    advance_until(cluster, lambda: all(b["checked"] for b in backends(cluster).values())
                  and backends(cluster)["worker-2"]["healthy"], 30)
    b = backends(cluster)
    assert not b["worker-1"]["healthy"] and not b["worker-3"]["healthy"]
    assert b["worker-1"]["last"] == "503" and b["worker-2"]["last"] == "200"
    # kube-proxy's service health server says why (service_health.go's answer).
    answer = cluster.kube_proxy("worker-2").health_check(hc, "/healthz")
    assert answer["code"] == 200 and answer["headers"]["X-Load-Balancing-Endpoint-Weight"] == "1"
    assert '"localEndpoints": 1' in answer["body"] and '"serviceProxyHealthy": true' in answer["body"]
    assert cluster.kube_proxy("worker-1").health_check(hc)["code"] == 503
    assert cluster.kube_proxy("worker-1").health_check(hc + 1 if hc < 32767 else hc - 1) is None   # refused
    node_port = spec["ports"][0]["nodePort"]
    assert {cluster.cloud.load_balancer(ip, 80, "198.51.100.7") for _ in range(30)} == {(node_ip(2), node_port)}
    # A second pod on worker-3: its node turns healthy at the next check.
    run_pod(cluster, "web-b", "worker-3")
    advance_until(cluster, lambda: backends(cluster)["worker-3"]["healthy"], 2 * CHECK_INTERVAL + 15)
    assert {cluster.cloud.load_balancer(ip, 80) for _ in range(40)} == {(node_ip(2), node_port), (node_ip(3), node_port)}


def test_a_stopped_kube_proxy_is_taken_out_after_three_failed_checks(cluster):
    ok(create(cluster, lb_service()), 201)
    assigned(cluster)
    advance_until(cluster, lambda: all(b["healthy"] for b in backends(cluster).values()), 2)
    cluster.kube_proxy("worker-1").stop()
    start = cluster.now
    took = advance_until(cluster, lambda: not backends(cluster)["worker-1"]["healthy"], 5 * CHECK_INTERVAL)
    # The third failed check in a row (timeouts: a stopped process answers nothing).
    assert (UNHEALTHY_THRESHOLD - 1) * CHECK_INTERVAL <= took <= UNHEALTHY_THRESHOLD * CHECK_INTERVAL + CHECK_TIMEOUT + 0.5
    assert backends(cluster)["worker-1"]["last"] == "timeout" and cluster.now - start == took
    cluster.kube_proxy("worker-1").start()
    advance_until(cluster, lambda: backends(cluster)["worker-1"]["healthy"], CHECK_INTERVAL + 5)


def test_deleting_the_service_deletes_its_load_balancer_first(cluster):
    ok(create(cluster, lb_service()), 201)
    ip = assigned(cluster)
    ok(cluster.request({"verb": "delete", "resource": "services", "namespace": "default", "name": "web"}))
    held = get(cluster)
    assert held["code"] == 200 and held["body"]["metadata"]["deletionTimestamp"]   # the finalizer holds it
    advance_until(cluster, lambda: get(cluster)["code"] == 404, 15)
    assert cluster.cloud.describe() == [] and cluster.cloud.load_balancer(ip, 80) is None
    assert reasons(cluster)[0][-2:] == ["DeletingLoadBalancer", "DeletedLoadBalancer"]
    # Its address is free again: the next load balancer gets it.
    ok(create(cluster, lb_service("other")), 201)
    assert assigned(cluster, "other") == ip


def test_a_type_change_away_from_load_balancer_tears_it_down(cluster):
    ok(create(cluster, lb_service(externalTrafficPolicy="Local")), 201)
    assigned(cluster)
    spec = ok(patch(cluster, "web", {"spec": {"type": "ClusterIP"}}))["spec"]
    # dropTypeDependentFields: the node ports, health check port and policy go with the type.
    for field in ("healthCheckNodePort", "externalTrafficPolicy", "allocateLoadBalancerNodePorts"):
        assert field not in spec
    assert "nodePort" not in spec["ports"][0]
    assert "loadBalancer" not in (get(cluster)["body"].get("status") or {})
    advance_until(cluster, lambda: cluster.cloud.describe() == [], 15)
    advance_until(cluster, lambda: not get(cluster)["body"]["metadata"].get("finalizers"), 5)
    assert reasons(cluster)[0][-2:] == ["DeletingLoadBalancer", "DeletedLoadBalancer"]


def test_a_load_balancer_class_is_someone_elses(cluster):
    ok(create(cluster, lb_service(loadBalancerClass="example.com/internal-vip")), 201)
    cluster.advance(10)
    svc = get(cluster)["body"]
    assert not svc["metadata"].get("finalizers") and not (svc["status"].get("loadBalancer") or {}).get("ingress")
    assert cluster.cloud.describe() == [] and reasons(cluster)[0] == []
    # The class cannot change once set.
    bad = patch(cluster, "web", {"spec": {"loadBalancerClass": "example.com/other"}})
    assert bad["code"] == 422 and "spec.loadBalancerClass: Invalid value: \"example.com/other\": may not change once set" \
        in bad["body"]["message"]


def test_without_a_cloud_provider_the_external_ip_stays_pending():
    c = Cluster("bare", config_from_spec({"cloudProvider": "none", "etcd": {"members": 1}}))
    c.advance(20)
    assert not [x for x in c.control_plane if x.component == "cloud-controller-manager"]
    spec = ok(create(c, lb_service()), 201)["spec"]
    assert spec["ports"][0]["nodePort"]   # the node ports still work
    c.advance(30)
    svc = get(c)["body"]
    assert not svc["metadata"].get("finalizers") and not (svc["status"].get("loadBalancer") or {}).get("ingress")
    from sim.registry.core.services import service_row
    assert service_row(svc, 0)[3] == "<pending>"
    with pytest.raises(ConfigError, match="cloudProvider must be one of: simulated, none"):
        config_from_spec({"cloudProvider": "aws"})
    assert config_from_words(["cloud-provider=none"]).cloud_provider == "none"   # the scenario language


def test_no_node_ports_means_the_simulated_cloud_cannot_balance(cluster):
    spec = ok(create(cluster, lb_service(allocateLoadBalancerNodePorts=False)), 201)["spec"]
    assert "nodePort" not in spec["ports"][0]
    advance_until(cluster, lambda: "SyncLoadBalancerFailed" in reasons(cluster)[0], 15)
    ev = [e for e in reasons(cluster)[1] if e["reason"] == "SyncLoadBalancerFailed"][0]
    assert ev["type"] == "Warning" and ev["message"].startswith(
        "Error syncing load balancer: failed to ensure load balancer: port 80/TCP has no nodePort")
    assert ingress_ip(cluster) is None
    # Retried with the queue's backoff (5 s, then 10 s, ...): a second failure comes later.
    advance_until(cluster, lambda: [e for e in reasons(cluster)[1] if e["reason"] == "SyncLoadBalancerFailed"][0]
                  .get("count", 1) >= 2, 30)


def test_requested_ip_source_ranges_and_client_ip_affinity(cluster):
    ok(create(cluster, lb_service(loadBalancerIP="203.0.113.77", sessionAffinity="ClientIP",
                                  loadBalancerSourceRanges=["198.51.100.0/24"])), 201)
    ip = assigned(cluster)
    assert ip == "203.0.113.77"
    advance_until(cluster, lambda: all(b["healthy"] for b in backends(cluster).values()), 2)
    first = cluster.cloud.load_balancer(ip, 80, "198.51.100.7")
    assert all(cluster.cloud.load_balancer(ip, 80, "198.51.100.7") == first for _ in range(20))
    assert cluster.cloud.load_balancer(ip, 80, "192.0.2.1") is None   # the firewall drops it
    # A taken or outside address is refused by the cloud, as a provider refuses it.
    ok(create(cluster, lb_service("twin", loadBalancerIP="203.0.113.77")), 201)
    ok(create(cluster, lb_service("far", loadBalancerIP="10.1.2.3")), 201)
    advance_until(cluster, lambda: "SyncLoadBalancerFailed" in reasons(cluster, "twin")[0]
                  and "SyncLoadBalancerFailed" in reasons(cluster, "far")[0], 15)
    assert "is in use by another load balancer" in reasons(cluster, "twin")[1][-1]["message"]
    assert "is not in the cloud's external address pool 203.0.113.0/24" in reasons(cluster, "far")[1][-1]["message"]
    # kube-proxy writes the source ranges as a KUBE-FW-* chain for the load balancer IP.
    fw = service_chain("default/web", "tcp", "KUBE-FW-")
    run_pod(cluster, "web-a", "worker-1")
    advance_until(cluster, lambda: f":{fw} - [0:0]" in cluster.node_iptables("worker-2")["rules"], 30)
    rules = cluster.node_iptables("worker-2")["rules"].splitlines()
    assert f"-A {fw} -s 198.51.100.0/24 -m comment --comment \"default/web loadbalancer IP\" -j " \
           f"{service_chain('default/web', 'tcp', 'KUBE-EXT-')}" in rules
    assert f"-A KUBE-PROXY-FIREWALL -d {ip}/32 -p tcp -m comment --comment \"default/web traffic not accepted by " \
           f"{fw}\" -m tcp --dport 80 -j DROP" in rules
    proxy = cluster.kube_proxy("worker-2")
    assert proxy.route({"src": "192.0.2.1", "dst": ip, "dport": 80})["verdict"] == "DROP"
    assert proxy.route({"src": "198.51.100.7", "dst": ip, "dport": 80})["endpoint"]


def test_the_node_port_packet_the_load_balancer_sends_reaches_an_endpoint(cluster):
    spec = ok(create(cluster, lb_service()), 201)["spec"]
    run_pod(cluster, "web-a", "worker-3")
    ip = assigned(cluster)
    pod_ip = lambda: ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "default",  # noqa: E731
                                         "name": "web-a"}))["status"].get("podIP")
    advance_until(cluster, lambda: pod_ip() and pod_ip() in cluster.node_iptables("worker-1")["rules"], 30)
    node, node_port = cluster.cloud.load_balancer(ip, 80, "198.51.100.7")
    assert node_port == spec["ports"][0]["nodePort"]
    worker = {node_ip(i): f"worker-{i}" for i in (1, 2, 3)}[node]
    got = cluster.kube_proxy(worker).route({"src": "198.51.100.7", "dst": node, "dport": node_port})
    assert got["endpoint"] == f"{pod_ip()}:80" and got["masquerade"]   # policy Cluster: SNAT
    assert any("-A KUBE-NODEPORTS" in r for r in got["path"]) and any("KUBE-EXT-" in r for r in got["path"])
    # From inside the cluster the load balancer IP is caught by kube-proxy at once (ipMode VIP).
    inside = cluster.kube_proxy("worker-1").route({"src": "10.244.1.9", "dst": ip, "dport": 80})
    assert inside["endpoint"] == f"{pod_ip()}:80" and "loadbalancer IP" in inside["path"][1]


@pytest.fixture(scope="module")
def refusing():
    """One booted cluster for the refused creates (a refused write changes nothing)."""
    c = Cluster("refusing", ClusterConfig.default(seed=3))
    c.advance(20)
    return c


@pytest.mark.parametrize("spec,expected", [
    ({"type": "ClusterIP", "healthCheckNodePort": 31000},
     "spec.healthCheckNodePort: Invalid value: 31000: may only be set when `type` is 'LoadBalancer' and "
     "`externalTrafficPolicy` is 'Local'"),
    ({"externalTrafficPolicy": "Cluster", "healthCheckNodePort": 31000}, "spec.healthCheckNodePort: Invalid value"),
    ({"type": "NodePort", "allocateLoadBalancerNodePorts": False},
     "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"),
    ({"type": "ClusterIP", "loadBalancerClass": "a.b/c"},
     "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"),
    ({"loadBalancerClass": "not a name"}, "spec.loadBalancerClass: Invalid value: \"not a name\""),
    ({"loadBalancerSourceRanges": ["10.0.0.0/8", "bogus"]},
     "spec.LoadBalancerSourceRanges[1]: Invalid value: \"bogus\": must be a valid CIDR value"),
    ({"type": "ClusterIP", "loadBalancerSourceRanges": ["10.0.0.0/8"]},
     "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"),
    ({"loadBalancerIP": "300.1.1.1"}, "spec.loadBalancerIP: Invalid value: \"300.1.1.1\": must be a valid IP address"),
])
def test_bad_load_balancer_fields_are_refused(refusing, spec, expected):
    resp = create(refusing, lb_service(**spec))
    assert resp["code"] == 422, resp
    assert expected in resp["body"]["message"]
    assert resp["body"]["details"]["causes"]


def test_the_status_subresource_validates_the_ingress_and_keeps_the_spec(cluster):
    ok(create(cluster, lb_service(loadBalancerClass="example.com/mine")), 201)
    bad = patch(cluster, "web", {"status": {"loadBalancer": {"ingress": [{"ip": "not-an-ip"}]}}}, sub="status")
    assert bad["code"] == 422 and "status.loadBalancer.ingress[0].ip: Invalid value: \"not-an-ip\"" in bad["body"]["message"]
    bad = patch(cluster, "web", {"status": {"loadBalancer": {"ingress": [{"hostname": "10.0.0.1"}]}}}, sub="status")
    assert "must be a DNS name, not an IP address" in bad["body"]["message"]
    # Another implementation writes its address (and may not touch the spec through status).
    done = ok(patch(cluster, "web", {"spec": {"type": "NodePort"}, "metadata": {"labels": {"lb": "mine"}},
                                     "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}}, sub="status"))
    assert done["spec"]["type"] == "LoadBalancer" and done["metadata"]["labels"] == {"lb": "mine"}
    assert done["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.10", "ipMode": "VIP"}]
    nodeport = ok(create(cluster, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
                                   "spec": {"type": "NodePort", "ports": [{"port": 80}]}}), 201)
    assert nodeport["spec"]["type"] == "NodePort"
    bad = patch(cluster, "np", {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.11"}]}}}, sub="status")
    assert "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'" \
        in bad["body"]["message"]


def test_a_node_may_not_take_the_clouds_name(cluster):
    from sim.cluster import ClusterError
    with pytest.raises(ClusterError, match="already exists"):
        cluster.add_node("cloud")
    with pytest.raises(ConfigError, match="is the name of a host outside the cluster"):
        config_from_spec({"nodes": [{"name": "cp-1", "role": "control-plane"}, {"name": "cloud"}]})
    assert ClusterConfig.from_json({k: v for k, v in ClusterConfig.default().to_json().items()
                                    if k != "cloud_provider"}).cloud_provider == "simulated"
