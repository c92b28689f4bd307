"""IPv4/IPv6 dual-stack clusters (docs/networking/dual-stack.md): kubeadm's "v4,v6" subnets,
node IPAM's /24 + /64, pods with both families, Services' ipFamilies / ipFamilyPolicy as
alloc.go decides them, EndpointSlices per family, kube-proxy's ip6tables rules, the IPv6
datapath and CoreDNS's AAAA answers."""
import copy
import ipaddress
import re

import pytest

from sim.cluster import Cluster, ClusterConfig
from sim.clusterconfig import ConfigError, config_from_spec
from sim.clusterdns import exchange
from sim.datapath import trace
from tests.sim.conftest import advance_until, ok
from tests.sim.test_datapath import NGINX, _pod, _start

POD_SUBNET = "10.244.0.0/16,fd00:10:244::/56"
SERVICE_SUBNET = "10.96.0.0/12,fd00:10:96::/112"


def _dual(cni="flannel", seed=5):
    cfg = ClusterConfig.default(seed=seed)
    cfg.pod_subnet, cfg.service_subnet, cfg.cni = POD_SUBNET, SERVICE_SUBNET, cni
    c = Cluster("ds", cfg)
    c.advance(10)
    return c


@pytest.fixture(scope="module")
def dual():
    return _dual()


def svc(name, **spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}], **spec}}


def create(c, body):
    return c.request({"verb": "create", "resource": "services", "namespace": "default", "body": body})


def message(resp):
    return resp["body"]["message"]


def test_cluster_config_takes_kubeadms_dual_stack_form_with_its_validation():
    cfg = config_from_spec({"podSubnet": POD_SUBNET, "serviceSubnet": SERVICE_SUBNET})
    assert cfg.pod_subnet == POD_SUBNET and cfg.service_subnet == SERVICE_SUBNET and cfg.dual_stack
    for spec, msg in (
            ({"serviceSubnet": "10.96.0.0/12,fd00:10:96::/64"},
             "specified service subnet is too large; for 128-bit addresses, the mask must be >= 108"),
            ({"serviceSubnet": "10.96.0.0/12,10.100.0.0/16"},
             "expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking"),
            ({"podSubnet": "10.244.0.0/16,fd00::/56,fd01::/56"}, "two CIDRs from each family"),
            ({"podSubnet": "10.244.0.0/16,fd00::/40"},
             "pod subnet mask (40) and node-mask (64) difference is greater than 16"),
            ({"podSubnet": "10.244.0.0/16,fd00:10:244::/80"},
             "the size of pod subnet with mask 80 is smaller than the size of node subnet with mask 64"),
            ({"serviceSubnet": "10.96.0.0/29"}, "subnet with 8 address(es) is too small, the minimum is 10"),
            ({"podSubnet": "fd00:10:244::/56,10.244.0.0/16"}, "the primary (first) range must be IPv4")):
        with pytest.raises(ConfigError, match=re.escape(msg)):
            config_from_spec(spec)


def test_nodes_get_a_24_and_a_64_and_addresses_of_both_families(dual):
    nodes = ok(dual.request({"verb": "list", "resource": "nodes"}))["items"]
    v6_ranges = set()
    for n in nodes:
        cidrs = n["spec"]["podCIDRs"]
        assert n["spec"]["podCIDR"] == cidrs[0] and len(cidrs) == 2
        v4, v6 = (ipaddress.ip_network(c) for c in cidrs)
        assert v4.prefixlen == 24 and v4.subnet_of(ipaddress.ip_network("10.244.0.0/16"))
        assert v6.prefixlen == 64 and v6.subnet_of(ipaddress.ip_network("fd00:10:244::/56"))
        v6_ranges.add(v6)
        internal = [a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"]
        assert [ipaddress.ip_address(a).version for a in internal] == [4, 6]
    assert len(v6_ranges) == len(nodes)


def test_dual_stack_pods_get_both_families(dual):
    (pod,) = _start(dual, _pod("both", "worker-1", containers=[
        {"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
         "env": [{"name": "IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}}]}]))
    ips = [p["ip"] for p in pod["status"]["podIPs"]]
    assert pod["status"]["podIP"] == ips[0]
    assert [ipaddress.ip_address(ip).version for ip in ips] == [4, 6]
    node = ok(dual.request({"verb": "get", "resource": "nodes", "name": "worker-1"}))
    for ip, cidr in zip(ips, node["spec"]["podCIDRs"]):
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
    assert [h["ip"] for h in pod["status"]["hostIPs"]] == [
        a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
    # The downward API's status.podIPs: every address, comma-separated.
    runtime = dual.node_components["worker-1"][0]
    c = next(c for c in runtime.containers.values() if c.pod_uid == pod["metadata"]["uid"])
    assert c.ctx.env["IPS"] == ",".join(ips)


def test_service_ip_families_default_and_allocate_as_alloc_go_does(dual):
    single = ok(create(dual, svc("single")), 201)["spec"]
    assert single["ipFamilyPolicy"] == "SingleStack" and single["ipFamilies"] == ["IPv4"]
    assert len(single["clusterIPs"]) == 1
    prefer = ok(create(dual, svc("prefer", ipFamilyPolicy="PreferDualStack")), 201)["spec"]
    assert prefer["ipFamilies"] == ["IPv4", "IPv6"] and prefer["clusterIP"] == prefer["clusterIPs"][0]
    v4, v6 = prefer["clusterIPs"]
    assert ipaddress.ip_address(v4) in ipaddress.ip_network("10.96.0.0/12")
    assert ipaddress.ip_address(v6) in ipaddress.ip_network("fd00:10:96::/112")
    v6_first = ok(create(dual, svc("v6first", ipFamilyPolicy="RequireDualStack", ipFamilies=["IPv6"])), 201)["spec"]
    assert v6_first["ipFamilies"] == ["IPv6", "IPv4"] and ":" in v6_first["clusterIP"]
    only6 = ok(create(dual, svc("only6", ipFamilies=["IPv6"])), 201)["spec"]
    assert only6["ipFamilyPolicy"] == "SingleStack" and len(only6["clusterIPs"]) == 1 and ":" in only6["clusterIP"]
    # Inferred from a requested address; errors worded as upstream's.
    asked = ok(create(dual, svc("asked", ipFamilyPolicy="PreferDualStack", clusterIP="fd00:10:96::99",
                                clusterIPs=["fd00:10:96::99"])), 201)["spec"]
    assert asked["ipFamilies"] == ["IPv6", "IPv4"] and asked["clusterIPs"][0] == "fd00:10:96::99"
    bad = create(dual, svc("bad", ipFamilyPolicy="SingleStack", ipFamilies=["IPv4", "IPv6"]))
    assert bad["code"] == 422 and ('spec.ipFamilyPolicy: Invalid value: "SingleStack": must be \'RequireDualStack\' '
                                   "or 'PreferDualStack' when multiple IP families are specified") in message(bad)
    two4 = create(dual, svc("two4", ipFamilyPolicy="RequireDualStack", clusterIP="10.96.0.50",
                            clusterIPs=["10.96.0.50", "10.96.0.51"]))
    assert "may specify no more than one IP for each IP family" in message(two4)
    # The `kubernetes` Service stays single-stack of the primary family.
    k = ok(dual.request({"verb": "get", "resource": "services", "namespace": "default", "name": "kubernetes"}))
    assert k["spec"]["ipFamilyPolicy"] == "SingleStack" and k["spec"]["clusterIPs"] == ["10.96.0.1"]
    assert k["spec"]["ipFamilies"] == ["IPv4"]


def test_upgrade_and_downgrade_follow_the_update_rules(dual):
    s = copy.deepcopy(ok(create(dual, svc("grow")), 201))    # the engine answers its stored object
    s["spec"]["ipFamilyPolicy"] = "PreferDualStack"
    up = copy.deepcopy(ok(dual.request({"verb": "update", "resource": "services", "namespace": "default",
                                        "name": "grow", "body": s})))
    assert up["spec"]["ipFamilies"] == ["IPv4", "IPv6"] and len(up["spec"]["clusterIPs"]) == 2
    assert up["spec"]["clusterIPs"][0] == s["spec"]["clusterIP"]
    # Dropping the secondary needs SingleStack.
    down = dict(up, spec=dict(up["spec"], clusterIPs=up["spec"]["clusterIPs"][:1]))
    resp = dual.request({"verb": "update", "resource": "services", "namespace": "default", "name": "grow", "body": down})
    assert resp["code"] == 422
    assert "must be 'SingleStack' to release the secondary cluster IP" in message(resp)
    down["spec"]["ipFamilyPolicy"] = "SingleStack"
    kept = dict(down, spec=dict(down["spec"], clusterIPs=up["spec"]["clusterIPs"], ipFamilies=up["spec"]["ipFamilies"]))
    done = ok(dual.request({"verb": "update", "resource": "services", "namespace": "default", "name": "grow",
                            "body": kept}))
    assert done["spec"]["clusterIPs"] == up["spec"]["clusterIPs"][:1] and done["spec"]["ipFamilies"] == ["IPv4"]
    # The released IPv6 address can be asked for again.
    advance_until(dual, lambda: create(dual, svc("reuse", ipFamilies=["IPv6"], clusterIP=up["spec"]["clusterIPs"][1],
                                                 clusterIPs=[up["spec"]["clusterIPs"][1]]))["code"] == 201, 10)


def test_headless_selectorless_is_dual_stack_even_on_a_single_stack_cluster(cluster):
    body = svc("hl", clusterIP="None")
    del body["spec"]["selector"]
    spec = ok(create(cluster, body), 201)["spec"]
    assert spec["ipFamilyPolicy"] == "RequireDualStack" and spec["ipFamilies"] == ["IPv4", "IPv6"]
    assert spec["clusterIPs"] == ["None"]


def test_require_dual_stack_on_a_single_stack_cluster_is_refused(cluster):
    resp = create(cluster, svc("req", ipFamilyPolicy="RequireDualStack"))
    assert resp["code"] == 422 and message(resp) == (
        'Service "req" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": '
        "this cluster is not configured for dual-stack services")
    resp = create(cluster, svc("six", ipFamilies=["IPv6"]))
    assert 'spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster' in message(resp)
    # PreferDualStack settles for the one family there is.
    prefer = ok(create(cluster, svc("pref", ipFamilyPolicy="PreferDualStack")), 201)["spec"]
    assert prefer["ipFamilies"] == ["IPv4"] and len(prefer["clusterIPs"]) == 1


def test_a_v6_request_reaches_an_endpoint_through_the_service_and_aaaa_is_answered(dual):
    client, server = _start(dual, _pod("client6", "worker-1"), _pod("web6", "worker-2", containers=[NGINX]))
    s = ok(create(dual, svc("web6", ipFamilyPolicy="PreferDualStack")), 201)["spec"]
    v6_cluster_ip = s["clusterIPs"][1]
    server_v6 = server["status"]["podIPs"][1]["ip"]

    def slices():
        items = ok(dual.request({"verb": "list", "group": "discovery.k8s.io", "resource": "endpointslices",
                                 "namespace": "default", "labelSelector": "kubernetes.io/service-name=web6"}))["items"]
        return {sl["addressType"]: [a for e in sl.get("endpoints") or [] for a in e["addresses"]] for sl in items}
    advance_until(dual, lambda: slices().get("IPv6") == [server_v6] and slices().get("IPv4"), 20)
    client_v6 = client["status"]["podIPs"][1]["ip"]

    def reaches():
        t = trace(dual, {"src": client_v6, "src_node": "worker-1", "dst": v6_cluster_ip, "dport": 80})
        return t if t.verdict == "delivered" else None
    t = advance_until(dual, reaches, 10) and reaches()
    assert t.pod["name"] == "web6" and t.endpoint == f"[{server_v6}]:80"
    assert "DNAT --to-destination [" + server_v6 + "]:80" in t.hops[1]["rule"]
    rules = dual.node_iptables("worker-1")
    assert f"-d {v6_cluster_ip}/128" in rules["ipv6"]["rules"] and v6_cluster_ip not in rules["rules"]
    assert rules["families"] == ["IPv4", "IPv6"]
    # CoreDNS answers AAAA from the IPv6 ClusterIP, A from the IPv4 one.
    dns_ip = ok(dual.request({"verb": "get", "resource": "services", "namespace": "kube-system",
                              "name": "kube-dns"}))["spec"]["clusterIP"]
    name = "web6.default.svc.cluster.local"

    def answered(qtype):
        r = exchange(dual, "worker-1", client["status"]["podIP"], dns_ip, name, qtype)
        return r if r["rcode"] == "NOERROR" else None
    advance_until(dual, lambda: answered("AAAA"), 30)
    assert answered("AAAA")["addresses"] == [v6_cluster_ip]
    assert answered("A")["addresses"] == [s["clusterIPs"][0]]
