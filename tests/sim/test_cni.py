"""Pod networking (sim/cni/, sim/controllers/nodeipam.py): the node IPAM controller's ranges,
host-local's allocation order, NetworkReady until the plugin's agent runs, and each plugin's
routes."""
import pytest

from sim.cluster import Cluster, ClusterConfig, NodeSpec
from sim.cni.hostlocal import HostLocal, IPAMError
from sim.clusterconfig import ConfigError, config_from_spec
from sim.datapath import trace
from tests.sim.conftest import advance_until, ok
from tests.sim.test_datapath import NGINX, _pod, _start


def _nodes(c):
    return {n["metadata"]["name"]: n for n in ok(c.request({"verb": "list", "resource": "nodes"}))["items"]}


def test_node_ipam_gives_each_node_its_own_24(cluster):
    cidrs = {name: n["spec"].get("podCIDR") for name, n in _nodes(cluster).items()}
    assert len(set(cidrs.values())) == 4 and all(c and c.startswith("10.244.") and c.endswith(".0/24")
                                                   for c in cidrs.values())
    for name, n in _nodes(cluster).items():
        assert n["spec"]["podCIDRs"] == [cidrs[name]]
        assert cluster.node_components[name][0].network.pod_cidr == cidrs[name]
    # Every pod's IP is in its node's range.
    pods = ok(cluster.request({"verb": "list", "resource": "pods", "namespace": "kube-system"}))["items"]
    import ipaddress
    for p in pods:
        ip, node = p["status"].get("podIP"), p["spec"].get("nodeName")
        if ip and not p["spec"].get("hostNetwork"):
            assert ipaddress.ip_address(ip) in ipaddress.ip_network(cidrs[node])


def test_a_full_cluster_cidr_is_cidr_not_available_and_a_deleted_node_frees_its_range():
    cfg = ClusterConfig.default(seed=4)
    cfg.pod_subnet = "10.244.0.0/22"          # room for four /24s: the four nodes take them all
    c = Cluster("t", cfg)
    c.advance(10)
    assert len({n["spec"].get("podCIDR") for n in _nodes(c).values()}) == 4
    c.add_node("worker-4")

    def events():
        return [e for e in ok(c.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
                if e["reason"] == "CIDRNotAvailable"]
    advance_until(c, lambda: events(), 20)
    ev = events()[0]
    assert ev["involvedObject"]["name"] == "worker-4" and ev["message"] == "Node worker-4 status is now: CIDRNotAvailable"
    assert not _nodes(c)["worker-4"]["spec"].get("podCIDR")
    freed = _nodes(c)["worker-3"]["spec"]["podCIDR"]
    c.kill_node("worker-3")
    ok(c.request({"verb": "delete", "resource": "nodes", "name": "worker-3"}))
    # worker-4's kubelet posts its status again: the controller tries again, and the freed range fits.
    advance_until(c, lambda: _nodes(c)["worker-4"]["spec"].get("podCIDR") == freed, 30)


def test_host_local_does_not_hand_a_freed_address_out_again_at_once():
    h = HostLocal("cbr0", "10.244.1.0/29")     # .1 is the gateway: .2 - .6 are handed out
    assert [h.get(f"c{i}") for i in range(3)] == ["10.244.1.2", "10.244.1.3", "10.244.1.4"]
    h.release("c0")
    assert h.get("c3") == "10.244.1.5"          # after the last reserved, not the freed .2
    assert h.get("c4") == "10.244.1.6"
    assert h.get("c5") == "10.244.1.2"          # wrapped round: now .2 again
    with pytest.raises(IPAMError, match="no IP addresses available in range set: 10.244.1.1-10.244.1.6"):
        h.get("c6")
    assert h.get("c1") == "10.244.1.3"          # a container asking again keeps its own


def test_a_deleted_pods_address_is_not_the_next_pods(cluster):
    c = cluster
    (a,) = _start(c, _pod("a", "worker-1"))
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "a",
                  "query": {"gracePeriodSeconds": "0"}}))
    advance_until(c, lambda: c.request({"verb": "get", "resource": "pods", "namespace": "default",
                                        "name": "a"})["code"] == 404, 30)
    (b,) = _start(c, _pod("b", "worker-1"))
    assert b["status"]["podIP"] != a["status"]["podIP"]


def test_the_node_is_not_ready_until_the_cni_agent_runs():
    c = Cluster("t", ClusterConfig.default(seed=6))
    c.advance(1.5)
    node = _nodes(c)["worker-1"]
    ready = next(x for x in node["status"]["conditions"] if x["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "KubeletNotReady"
    assert ready["message"] == ("container runtime network not ready: NetworkReady=false "
                                "reason:NetworkPluginNotReady message:Network plugin returns error: "
                                "cni plugin not initialized")
    assert {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"} in node["spec"]["taints"]
    ds = ok(c.request({"verb": "get", "group": "apps", "resource": "daemonsets", "namespace": "kube-flannel",
                       "name": "kube-flannel-ds"}))
    assert ds["spec"]["template"]["spec"]["hostNetwork"] is True

    def ready_nodes():
        return [n for n, o in _nodes(c).items() if any(x["type"] == "Ready" and x["status"] == "True"
                                                        for x in o["status"]["conditions"])]
    took = advance_until(c, lambda: len(ready_nodes()) == 4, 15, step=0.25)
    assert c.now < 10, took
    net = c.node_components["worker-1"][0].network
    assert net.conf_file == "10-flannel.conflist" and "FLANNEL_SUBNET" in net.files["/run/flannel/subnet.env"]
    # Once Ready, the taint goes and pods schedule.
    advance_until(c, lambda: not any(t["key"] == "node.kubernetes.io/not-ready"
                                     for t in _nodes(c)["worker-1"]["spec"].get("taints") or []), 10)


def _booted(cni):
    cfg = ClusterConfig.default(seed=7)
    cfg.cni = cni
    c = Cluster("t", cfg)
    c.advance(20)
    return c


def test_calico_routes_are_bgp_and_its_pods_have_their_own_veth_routes():
    c = _booted("calico")
    a, b = _start(c, _pod("a", "worker-1"), _pod("b", "worker-2", containers=[NGINX]))
    routes = c.node_routes("worker-1")
    w2 = c.node_components["worker-2"][0].network
    own = c.node_components["worker-1"][0].network.pod_cidr
    assert routes["cni"] == "calico"
    assert f"{w2.pod_cidr} via {w2.node_ip} dev eth0 proto bird" in routes["routes"].splitlines()
    assert f"blackhole {own} proto bird" in routes["routes"].splitlines()
    assert any(line.startswith(f"{a['status']['podIP']} dev cali") and line.endswith("scope link")
               for line in routes["routes"].splitlines())
    assert "cni0" not in routes["routes"] and "flannel.1" not in routes["routes"]
    t = trace(c, {"src": a["status"]["podIP"], "src_node": "worker-1", "dst": b["status"]["podIP"], "dport": 80})
    assert t.verdict == "delivered" and any("BGP route" in h["what"] and "unencapsulated" in h["what"] for h in t.hops)
    assert not any("VXLAN" in h["what"] for h in t.hops)
    from sim.cni import plugin_for
    assert plugin_for(c).enforces_network_policy is True


def test_flannel_routes_are_vxlan_routes(cluster):
    routes = cluster.node_routes("worker-1")
    w2 = cluster.node_components["worker-2"][0].network
    net = w2.pod_cidr.split("/")[0]
    assert f"{w2.pod_cidr} via {net} dev flannel.1 onlink" in routes["routes"].splitlines()
    from sim.cni import plugin_for
    assert plugin_for(cluster).enforces_network_policy is False


def test_bridge_needs_static_routes_and_its_config_comes_from_the_kubelets_pod_cidr():
    c = _booted("bridge")
    a, b = _start(c, _pod("a", "worker-1"), _pod("b", "worker-2", containers=[NGINX]))
    net = c.node_components["worker-1"][0].network
    assert net.conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": net.pod_cidr}]]
    w2 = c.node_components["worker-2"][0].network
    assert f"{w2.pod_cidr} via {w2.node_ip} dev eth0" in c.node_routes("worker-1")["routes"].splitlines()
    t = trace(c, {"src": a["status"]["podIP"], "src_node": "worker-1", "dst": b["status"]["podIP"], "dport": 80})
    assert t.verdict == "delivered"


def test_cluster_config_validates_cni_and_pod_subnet():
    assert config_from_spec({"cni": "calico", "podSubnet": "10.32.0.0/12"}).cni == "calico"
    for spec, msg in (({"cni": "weave"}, "cni must be one of: bridge, calico, flannel"),
                      ({"podSubnet": "10.244.0.0/25"}, "the size of pod subnet with mask 25 is smaller than the "
                                                       "size of node subnet with mask 24"),
                      ({"podSubnet": "nope"}, "couldn't parse subnet")):
        with pytest.raises(ConfigError, match=msg):
            config_from_spec(spec)
