"""core/v1 Services in virtual time: SetDefaults_Service, ValidateService, the ClusterIP and
NodePort allocators (reservations in etcd, released on delete, refused when taken, a dry run
reserving nothing, no address handed out twice by three API servers, rebuilt at restart) and
the `kubernetes` Service kube-apiserver keeps."""
from __future__ import annotations

import copy

import pytest

from sim.cluster import Cluster, ClusterConfig, NodeSpec
from sim.registry.core.serviceallocator import IP_PREFIX, PORT_PREFIX, IPRange, random_free
from sim.registry.core.services import service_row
from tests.sim.conftest import advance_until, ok


def svc(name, **spec):
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def create(c, body, query=None, namespace="default"):
    req = {"verb": "create", "resource": "services", "namespace": namespace, "body": body}
    if query:
        req["query"] = query
    return c.request(req)


def get(c, name, namespace="default"):
    """The Service (a copy: the reply shares the watch cache's object, never to be changed)."""
    return copy.deepcopy(c.request({"verb": "get", "resource": "services", "namespace": namespace, "name": name}))


def delete(c, name, namespace="default"):
    return c.request({"verb": "delete", "resource": "services", "namespace": namespace, "name": name})


def message(resp):
    assert resp["code"] >= 400, resp
    return resp["body"]["message"]


def test_defaults(cluster):
    spec = ok(create(cluster, svc("web", selector={"app": "web"})), 201)["spec"]
    assert spec["type"] == "ClusterIP" and spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["internalTrafficPolicy"] == "Cluster" and "externalTrafficPolicy" not in spec
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert IPRange("10.96.0.0/12").contains(spec["clusterIP"]) and spec["clusterIPs"] == [spec["clusterIP"]]
    np = ok(create(cluster, svc("np", type="NodePort", sessionAffinity="ClientIP",
                                ports=[{"port": 80, "targetPort": "http"}])), 201)["spec"]
    assert np["externalTrafficPolicy"] == "Cluster"
    assert np["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert np["ports"][0]["targetPort"] == "http" and 30000 <= np["ports"][0]["nodePort"] <= 32767
    lb = ok(create(cluster, svc("lb", type="LoadBalancer")), 201)["spec"]
    assert lb["allocateLoadBalancerNodePorts"] is True and lb["ports"][0]["nodePort"]


@pytest.mark.parametrize("spec,expected", [
    ({"ports": [{"port": 80}, {"port": 81}]}, "spec.ports[0].name: Required value"),
    ({"ports": [{"port": 0}]}, "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"),
    ({"ports": [{"port": 80, "protocol": "ICMP"}]},
     'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'),
    ({"type": "Foo"}, 'spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", '
                      '"LoadBalancer", "NodePort"'),
    ({"selector": {"app": "a b"}}, 'spec.selector: Invalid value: "a b"'),
    ({"type": "ExternalName"}, "spec.externalName: Required value"),
    ({"type": "NodePort", "clusterIP": "None"},
     "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"),
    ({"ports": []}, "spec.ports: Required value"),
    ({"ports": [{"port": 80, "nodePort": 30001}]},
     "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"),
])
def test_validation(cluster, spec, expected):
    assert expected in message(create(cluster, svc("bad", **spec)))


def test_the_cluster_ip_is_immutable(cluster):
    ok(create(cluster, svc("web")), 201)
    cur = ok(get(cluster, "web"))
    cur["spec"]["clusterIP"], cur["spec"]["clusterIPs"] = "10.96.5.5", ["10.96.5.5"]
    resp = cluster.request({"verb": "update", "resource": "services", "namespace": "default", "name": "web",
                            "body": cur})
    assert 'spec.clusterIPs[0]: Invalid value: "10.96.5.5": field is immutable' in message(resp)


def test_allocation_release_and_a_requested_ip_already_allocated(cluster):
    # kubeadm's kube-dns holds the range's 10th address from the start.
    assert message(create(cluster, svc("dns", clusterIP="10.96.0.10"))).endswith(
        "failed to allocate IP 10.96.0.10: provided IP is already allocated")
    ip = ok(create(cluster, svc("a", clusterIP="10.96.0.20")), 201)["spec"]["clusterIP"]
    assert ip == "10.96.0.20" and cluster.store.get(IP_PREFIX + ip) is not None
    assert message(create(cluster, svc("b", clusterIP="10.96.0.20"))) == (
        'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.20"}: '
        "failed to allocate IP 10.96.0.20: provided IP is already allocated")
    assert "the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12" in \
        message(create(cluster, svc("c", clusterIP="10.0.0.1")))
    # A dry run reserves nothing.
    ok(create(cluster, svc("d", clusterIP="10.96.0.11"), query={"dryRun": "All"}), 201)
    assert cluster.store.get(IP_PREFIX + "10.96.0.11") is None
    ok(delete(cluster, "a"))
    cluster.advance(1)
    assert cluster.store.get(IP_PREFIX + ip) is None
    assert ok(create(cluster, svc("b", clusterIP="10.96.0.20")), 201)["spec"]["clusterIP"] == ip


def test_node_ports(cluster):
    spec = ok(create(cluster, svc("np", type="NodePort", ports=[{"name": "http", "port": 80},
                                                                  {"name": "https", "port": 443,
                                                                   "nodePort": 30443}])), 201)["spec"]
    first = spec["ports"][0]["nodePort"]
    assert 30000 <= first <= 32767 and spec["ports"][1]["nodePort"] == 30443
    assert cluster.store.get(PORT_PREFIX + "30443") is not None
    assert service_row(ok(get(cluster, "np")), cluster.api_time)[4] == f"80:{first}/TCP,443:30443/TCP"
    assert "spec.ports[0].nodePort: Invalid value: 30443: provided port is already allocated" in \
        message(create(cluster, svc("np2", type="NodePort", ports=[{"port": 80, "nodePort": 30443}])))
    assert ("spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. "
            "The range of valid ports is 30000-32767") in \
        message(create(cluster, svc("np3", type="NodePort", ports=[{"port": 80, "nodePort": 29999}])))
    # NodePort -> ClusterIP gives the ports back; ClusterIP -> NodePort takes new ones.
    cur = ok(get(cluster, "np"))
    cur["spec"]["type"] = "ClusterIP"
    cur["spec"].pop("externalTrafficPolicy")
    for p in cur["spec"]["ports"]:
        p.pop("nodePort")
    ok(cluster.request({"verb": "update", "resource": "services", "namespace": "default", "name": "np", "body": cur}))
    cluster.advance(1)
    assert cluster.store.get(PORT_PREFIX + "30443") is None
    ok(create(cluster, svc("np2", type="NodePort", ports=[{"port": 80, "nodePort": 30443}])), 201)
    patched = ok(cluster.request({"verb": "patch", "resource": "services", "namespace": "default", "name": "np",
                                  "patch_type": "application/merge-patch+json", "body": {"spec": {"type": "NodePort"}}}))
    assert all(30000 <= p["nodePort"] <= 32767 and p["nodePort"] != 30443 for p in patched["spec"]["ports"])


def test_headless_and_external_name(cluster):
    headless = ok(create(cluster, svc("db", clusterIP="None", selector={"app": "db"})), 201)["spec"]
    assert headless["clusterIP"] == "None" and headless["clusterIPs"] == ["None"]
    assert headless["ipFamilyPolicy"] == "SingleStack"
    selectorless = ok(create(cluster, svc("db2", clusterIP="None", ports=[])), 201)["spec"]
    assert selectorless["ipFamilyPolicy"] == "RequireDualStack"
    ext = ok(create(cluster, svc("ext", type="ExternalName", externalName="my.database.example.com", ports=[])),
             201)
    assert "clusterIP" not in ext["spec"] and "ipFamilies" not in ext["spec"]
    row = service_row(ext, cluster.api_time)
    assert row[1:5] == ["ExternalName", "<none>", "my.database.example.com", "<none>"]
    assert service_row(ok(get(cluster, "db")), cluster.api_time)[1:5] == ["ClusterIP", "None", "<none>", "80/TCP"]


def test_the_kubernetes_service(cluster):
    k = ok(get(cluster, "kubernetes"))
    assert k["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    assert k["spec"]["clusterIP"] == "10.96.0.1" and k["spec"]["type"] == "ClusterIP"
    assert k["spec"]["ports"] == [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}]
    # Deleted, it comes back within the controller's 10 s; its ports put back when changed.
    ok(delete(cluster, "kubernetes"))
    advance_until(cluster, lambda: get(cluster, "kubernetes")["code"] == 200, 11)
    assert ok(get(cluster, "kubernetes"))["spec"]["clusterIP"] == "10.96.0.1"
    ok(cluster.request({"verb": "patch", "resource": "services", "namespace": "default", "name": "kubernetes",
                        "patch_type": "application/merge-patch+json",
                        "body": {"spec": {"ports": [{"name": "https", "port": 8443, "targetPort": 6443}]}}}))
    advance_until(cluster, lambda: ok(get(cluster, "kubernetes"))["spec"]["ports"][0]["port"] == 443, 11)


def test_random_free_prefers_the_upper_band():
    import random
    r = IPRange("10.96.0.0/24")   # 254 addresses, a static band of the first 16
    picks = {random_free(random.Random(i), r, lambda ip: False) for i in range(50)}
    assert all(r.index(ip) >= 16 for ip in picks) and len(picks) > 20
    taken = {r.item(i) for i in range(16, 254)}
    assert r.index(random_free(random.Random(1), r, lambda ip: ip in taken)) < 16
    assert random_free(random.Random(1), r, lambda ip: True) is None


def _ha(subnet="10.96.0.0/29"):
    nodes = [NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in (1, 2, 3)] + [NodeSpec("worker-1")]
    cfg = ClusterConfig(seed=7, nodes=nodes, etcd_members=3, service_subnet=subnet)
    c = Cluster("ha", cfg)
    c.advance(30)
    return c


def _at_once(c, reqs):
    """Each (api server, request) sent at the same virtual moment; their replies."""
    rids = [c.client.send_request(api.address, req) for api, req in reqs]
    c.kernel.run_until(c.now + 30, stop=lambda: all(r in c.client.replies for r in rids))
    return [c.client.take_reply(r) for r in rids]


def test_three_api_servers_never_hand_out_one_address_twice():
    c = _ha()   # a /29: 6 addresses, 10.96.0.1 the kubernetes Service's, 5 left
    apis = [c.cp_components[h][0] for h in ("cp-1", "cp-2", "cp-3")]
    assert all(a.synced for a in apis)
    replies = _at_once(c, [(apis[i % 3], {"verb": "create", "resource": "services", "namespace": "default",
                                          "body": svc(f"s{i}")}) for i in range(6)])
    created = [r["body"]["spec"]["clusterIP"] for r in replies if r["code"] == 201]
    assert len(created) == 5 and len(set(created)) == 5 and "10.96.0.1" not in created
    failed = [r for r in replies if r["code"] != 201]
    assert [r["code"] for r in failed] == [500]
    assert failed[0]["body"]["message"] == "Internal error occurred: failed to allocate a serviceIP: range is full"
    # One address asked of two servers at once: one gets it.
    for r in replies:
        if r["code"] == 201:
            ok(delete(c, r["body"]["metadata"]["name"]))
    c.advance(1)
    replies = _at_once(c, [(apis[0], {"verb": "create", "resource": "services", "namespace": "default",
                                      "body": svc("x", clusterIP=created[0])}),
                           (apis[1], {"verb": "create", "resource": "services", "namespace": "default",
                                      "body": svc("y", clusterIP=created[0])})])
    assert sorted(r["code"] for r in replies) == [201, 422]


def test_a_restarted_api_server_rebuilds_the_reservations(cluster):
    ip = ok(create(cluster, svc("web", clusterIP="10.96.0.20")), 201)["spec"]["clusterIP"]
    api = cluster.cp_components["cp-1"][0]
    # The reservation lost (a cluster from before the allocators wrote them): the repair at start
    # puts it back from the stored Service.
    api.etcd_call({"type": "etcd.txn", "key": IP_PREFIX + ip, "compare": "none", "value": None}, lambda r: None)
    cluster.advance(1)
    assert cluster.store.get(IP_PREFIX + ip) is None
    cluster.kill_component("cp-1", "kube-apiserver")
    cluster.advance(1)
    advance_until(cluster, lambda: api.running and api.synced and cluster.store.get(IP_PREFIX + ip) is not None, 60)
    assert "provided IP is already allocated" in message(create(cluster, svc("other", clusterIP=ip)))
    assert ok(create(cluster, svc("other")), 201)["spec"]["clusterIP"] != ip


def test_the_service_subnet_is_settable():
    from sim.clusterconfig import ConfigError, config_from_spec
    assert config_from_spec({"serviceSubnet": "10.100.0.0/16"}).service_subnet == "10.100.0.0/16"
    for bad in ("10.0.0.0/8", "10.96.0.1/12", "fd00::/112", 12):
        with pytest.raises(ConfigError):
            config_from_spec({"serviceSubnet": bad})
    c = Cluster("sub", ClusterConfig(seed=3, nodes=[NodeSpec("cp-1", "control-plane", "4", "16Gi")],
                                     service_subnet="10.100.0.0/16"))
    c.advance(20)
    assert ok(get(c, "kubernetes"))["spec"]["clusterIP"] == "10.100.0.1"
    assert IPRange("10.100.0.0/16").contains(ok(create(c, svc("web")), 201)["spec"]["clusterIP"])


def test_a_second_create_of_one_name_keeps_the_first_ones_address(cluster):
    ip = ok(create(cluster, svc("web")), 201)["spec"]["clusterIP"]
    resp = create(cluster, svc("web", clusterIP=ip))
    assert resp["code"] == 422 and "provided IP is already allocated" in message(resp)
    assert create(cluster, svc("web"))["code"] == 409
    cluster.advance(1)
    assert cluster.store.get(IP_PREFIX + ip) is not None
    assert ok(get(cluster, "web"))["spec"]["clusterIP"] == ip
