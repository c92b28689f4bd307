"""kube-proxy in IPVS mode: the virtual servers, ipsets and iptables rules
pkg/proxy/ipvs/proxier.go programs, rr and persistence as the kernel schedules, graceful
termination, and a cluster running in this mode."""
import random
from collections import Counter

import pytest

from sim.clusterconfig import ConfigError, config_from_spec
from sim.kubeproxy_ipvs import IpvsProxier
from tests.sim.kubeproxy_modes_helpers import wget_through_a_service
from tests.sim.test_kubeproxy import NODE_IP, THREE, endpoint, endpoint_slice, service, tracked

PKT = {"src": "10.244.1.5", "dst": "172.30.0.41", "dport": 80}


def synced(services, slices, now=0.0, proxier=None):
    ports, eps = tracked(services, slices)
    p = proxier or IpvsProxier("worker-1", [NODE_IP], "10.244.0.0/16")
    p.sync(ports, eps, None, now, 30)
    return p


def test_a_cluster_ip_and_node_port_service_with_three_endpoints_as_ipvsadm_lists_it():
    p = synced([service(type_="NodePort", node_port=30080)],
               [endpoint_slice([endpoint("10.180.0.1"), endpoint("10.180.0.2", node="worker-1"),
                                endpoint("10.180.0.3")])])
    rs = "".join("  -> %-28s Masq    1      0          0         \n" % f"10.180.0.{i}:80" for i in (1, 2, 3))
    assert p.ipvsadm() == ("IP Virtual Server version 1.2.1 (size=4096)\n"
                           "Prot LocalAddress:Port Scheduler Flags\n"
                           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
                           "TCP  172.30.0.41:80 rr\n" + rs + f"TCP  {NODE_IP}:30080 rr\n" + rs)
    assert p.dummy == {"172.30.0.41"}  # the ClusterIP on kube-ipvs0; the node's own IP is not
    sets = p.ipset_list()
    assert "Name: KUBE-CLUSTER-IP\nType: hash:ip,port\n" in sets and "\n172.30.0.41,tcp:80\n" in sets
    assert "Name: KUBE-NODE-PORT-TCP\nType: bitmap:port\n" in sets and "\n30080\n" in sets
    # Only this node's endpoint is in KUBE-LOOP-BACK (hairpin masquerade).
    assert "Members:\n10.180.0.2,tcp:80,10.180.0.2\n" in sets
    rules = p.iptables_text().splitlines()
    for line in ('-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port '
                 'for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
                 "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
                 "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT",
                 '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" '
                 "-m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ",
                 '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving '
                 'hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
                 "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
                 "-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT "
                 "--reject-with icmp-port-unreachable"):
        assert line in rules, line
    # The jumps are prepended (iptables -I), so INPUT lists the last one first.
    assert [r for r in rules if r.startswith("-A INPUT ")][0].endswith("-j KUBE-IPVS-FILTER")
    info = p.info()
    assert info["ipvsadm"] == p.ipvsadm() and info["ipset"] == sets and info["kubeIpvs0"] == ["172.30.0.41"]


def test_rr_spreads_requests_exactly_evenly_in_the_real_servers_order():
    p = synced([service()], [endpoint_slice(THREE)])
    rng = random.Random(1)
    picks = [p.route(PKT, rng, 1.0)["endpoint"] for _ in range(300)]
    assert picks[:4] == ["10.180.0.1:80", "10.180.0.2:80", "10.180.0.3:80", "10.180.0.1:80"]
    assert Counter(picks) == {"10.180.0.1:80": 100, "10.180.0.2:80": 100, "10.180.0.3:80": 100}
    # Every connection sits in TIME_WAIT for two minutes: InActConn counts them.
    assert "  -> 10.180.0.1:80                Masq    1      0          100       \n" in p.ipvsadm(1.0)
    assert "Masq    1      0          0         \n" in p.ipvsadm(200.0)


def test_client_ip_affinity_is_ipvs_persistence():
    svc = service(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
    p = synced([svc], [endpoint_slice(THREE)])
    assert "TCP  172.30.0.41:80 rr persistent 60\n" in p.ipvsadm()
    rng = random.Random(1)
    a = [p.route({**PKT, "src": "10.244.1.5"}, rng, t)["endpoint"] for t in range(0, 100, 10)]
    b = p.route({**PKT, "src": "10.244.2.5"}, rng, 100.0)["endpoint"]
    assert set(a) == {"10.180.0.1:80"} and b == "10.180.0.2:80"
    # The template expires 60 s after its last connection: rr picks again.
    assert p.route({**PKT, "src": "10.244.1.5"}, rng, 200.0)["endpoint"] == "10.180.0.3:80"


def test_a_service_without_endpoints_rejects():
    p = synced([service(), service(name="svc6", ns="ns6", cluster_ip="172.30.0.46")], [endpoint_slice(THREE)])
    assert "TCP  172.30.0.46:80 rr\nTCP" not in p.ipvsadm() and p.ipvsadm().endswith("TCP  172.30.0.46:80 rr\n")
    got = p.route({**PKT, "dst": "172.30.0.46"}, random.Random(1), 1.0)
    assert got["verdict"] == "REJECT" and got["rule"] == "ipvs TCP  172.30.0.46:80 rr (no destination available)"
    # Another port of a Service address: KUBE-IPVS-FILTER rejects it before IPVS.
    other = p.route({**PKT, "dport": 22}, random.Random(1), 1.0)
    assert other["verdict"] == "REJECT" and "KUBE-IPVS-FILTER" in other["rule"]


def test_a_terminating_endpoint_drains_at_weight_0_and_goes_at_the_graceful_check():
    p = synced([service()], [endpoint_slice(THREE)], now=0.0)
    rng = random.Random(1)
    for _ in range(3):
        p.route(PKT, rng, 10.0)
    gone = [endpoint("10.180.0.1"), endpoint("10.180.0.2"),
            endpoint("10.180.0.3", ready=False, serving=True, terminating=True)]
    synced([service()], [endpoint_slice(gone)], now=20.0, proxier=p)
    assert "  -> 10.180.0.3:80                Masq    0      0          1         \n" in p.ipvsadm(20.0)
    assert {p.route(PKT, rng, 21.0)["endpoint"] for _ in range(10)} == {"10.180.0.1:80", "10.180.0.2:80"}
    # The minute checks at 60 s and 120 s find its connection still in TIME_WAIT; at 180 s it goes.
    assert "10.180.0.3:80" in p.ipvsadm(125.0)
    assert "10.180.0.3:80" not in p.ipvsadm(180.0)


def test_a_bad_kube_proxy_mode_is_a_config_error():
    with pytest.raises(ConfigError, match='kubeProxyMode: Unsupported value: \'userspace\': supported values: '
                                          '"iptables", "ipvs", "nftables"'):
        config_from_spec({"kubeProxyMode": "userspace"})
    assert config_from_spec({"kubeProxyMode": "ipvs"}).kube_proxy_mode == "ipvs"


def test_a_pod_wgets_a_service_in_an_ipvs_cluster():
    c, node, code, out, empty_code, web = wget_through_a_service("ipvs")
    assert code == 0 and "<title>Welcome to nginx!</title>" in out
    assert empty_code == 1  # no real server: ICMP port unreachable
    got = c.node_proxy_rules(node)
    assert got["mode"] == "ipvs" and got["text"].startswith("# ipvsadm -Ln\nIP Virtual Server version 1.2.1")
    svc = c.request({"verb": "get", "resource": "services", "namespace": "default", "name": "web"})["body"]
    assert f"TCP  {svc['spec']['clusterIP']}:80 rr\n" in got["ipvsadm"]
    assert all(f"  -> {p['status']['podIP']}:80 " in got["ipvsadm"] for p in web)
    # The IPVS proxier has no partial syncs: only sync_proxy_rules_duration_seconds is observed.
    assert "sync_partial_proxy_rules_duration_seconds_count" not in got["metrics"]
    assert got["metrics"]["sync_proxy_rules_duration_seconds_count"] == got["syncs"]
    cm = c.request({"verb": "get", "resource": "configmaps", "namespace": "kube-system", "name": "kube-proxy"})
    assert "\nmode: ipvs\n" in cm["body"]["data"]["config.conf"]
    assert "server: https://192.168.0.10:6443\n" in cm["body"]["data"]["kubeconfig.conf"]
