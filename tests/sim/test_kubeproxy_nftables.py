"""kube-proxy in nftables mode: the `table ip kube-proxy` pkg/proxy/nftables/proxier.go writes,
its partial syncs, packets through the hooks, and a cluster running in this mode."""
import random
from collections import Counter

from sim.kubeproxy_nftables import NftablesProxier, chain_base, endpoint_base
from tests.sim.kubeproxy_modes_helpers import wget_through_a_service
from tests.sim.test_kubeproxy import NODE_IP, THREE, endpoint, endpoint_slice, service, tracked

SVC = "service-ULMVA6XW-ns1/svc1/tcp/p80"
EXT = "external-ULMVA6XW-ns1/svc1/tcp/p80"
EP1 = "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
EP2 = "endpoint-2ZNDXFAB-ns1/svc1/tcp/p80__10.180.0.2/80"
EP3 = "endpoint-WUHIZN2H-ns1/svc1/tcp/p80__10.180.0.3/80"


def synced(services, slices, now=0.0, proxier=None, changed=None):
    ports, eps = tracked(services, slices)
    p = proxier or NftablesProxier("worker-1", [NODE_IP], "10.244.0.0/16", ("172.30.0.0/16",))
    p.sync(ports, eps, changed, now, 30)
    return p


def test_names_are_upstreams_hashes():
    # pkg/proxy/nftables/proxier_test.go's names for ns1/svc1:p80 and its endpoint 10.180.0.1:80
    sp = tracked([service()], [])[0][0]
    assert chain_base(sp) == "ULMVA6XW-ns1/svc1/tcp/p80"
    from sim.kubeproxy_iptables import Endpoint
    assert endpoint_base(sp, Endpoint("10.180.0.1", 80)) == "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"


def test_a_cluster_ip_and_node_port_service_with_three_endpoints_gets_upstreams_table():
    p = synced([service(type_="NodePort", node_port=30080)], [endpoint_slice(THREE)])
    lines = p.dump().splitlines()
    P = "ip kube-proxy"
    # The service's own objects, as knftables' dump (the form upstream's tests compare) has them.
    assert [line for line in lines if "svc1" in line] == [
        f"add chain {P} {EP2}", f"add chain {P} {EP1}", f"add chain {P} {EP3}",
        f"add chain {P} {EXT}", f"add chain {P} {SVC}",
        f"add rule {P} {EP2} ip saddr 10.180.0.2 jump mark-for-masquerade",
        f"add rule {P} {EP2} meta l4proto tcp dnat to 10.180.0.2:80",
        f"add rule {P} {EP1} ip saddr 10.180.0.1 jump mark-for-masquerade",
        f"add rule {P} {EP1} meta l4proto tcp dnat to 10.180.0.1:80",
        f"add rule {P} {EP3} ip saddr 10.180.0.3 jump mark-for-masquerade",
        f"add rule {P} {EP3} meta l4proto tcp dnat to 10.180.0.3:80",
        f"add rule {P} {EXT} jump mark-for-masquerade",
        f"add rule {P} {EXT} goto {SVC}",
        f"add rule {P} {SVC} ip daddr 172.30.0.41 ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
        f"add rule {P} {SVC} numgen random mod 3 vmap {{ 0 : goto {EP1} , 1 : goto {EP2} , 2 : goto {EP3} }}",
        f"add element {P} service-ips {{ 172.30.0.41 . tcp . 80 : goto {SVC} }}",
        f"add element {P} service-nodeports {{ tcp . 30080 : goto {EXT} }}"]
    # setupNFTables' base chains, jumps, maps and fixed rules.
    for line in (
            f'add table {P} {{ comment "rules for kube-proxy" ; }}',
            f"add chain {P} nat-prerouting {{ type nat hook prerouting priority -100 ; }}",
            f"add chain {P} filter-prerouting-pre-dnat {{ type filter hook prerouting priority -110 ; }}",
            f"add rule {P} nat-prerouting jump services",
            f"add rule {P} filter-forward ct state new jump service-endpoints-check",
            f"add rule {P} services ip daddr . meta l4proto . th dport vmap @service-ips",
            f"add rule {P} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
            f"add rule {P} masquerading mark and 0x004000 == 0 return",
            f"add rule {P} masquerading masquerade fully-random",
            f'add rule {P} cluster-ips-check ip daddr @cluster-ips reject comment '
            '"Reject traffic to invalid ports of ClusterIPs"',
            f"add element {P} cluster-ips {{ 172.30.0.41 }}",
            f"add element {P} nodeport-ips {{ {NODE_IP} }}"):
        assert line in lines, line
    # `nft list table ip kube-proxy` prints the same rules back in nft's own spelling.
    text = p.text()
    assert text.startswith('table ip kube-proxy {\n\tcomment "rules for kube-proxy"\n')
    assert (f"\tchain {SVC} {{\n\t\tip daddr 172.30.0.41 ip saddr != 10.244.0.0/16 jump mark-for-masquerade\n"
            f"\t\tnumgen random mod 3 vmap {{ 0 : goto {EP1}, 1 : goto {EP2}, 2 : goto {EP3} }}\n\t}}") in text
    assert "\t\ttype nat hook prerouting priority dstnat; policy accept;" in text
    assert "\t\ttype filter hook prerouting priority dstnat - 10; policy accept;" in text
    assert "\t\tmeta mark set meta mark | 0x00004000\n" in text


def test_numgen_spreads_requests_uniformly_within_a_chi_square_bound():
    p = synced([service()], [endpoint_slice(THREE)])
    rng = random.Random(7)
    got = Counter(p.route({"src": "10.244.1.5", "dst": "172.30.0.41", "dport": 80}, rng, 1.0)["endpoint"]
                  for _ in range(600))
    assert set(got) == {"10.180.0.1:80", "10.180.0.2:80", "10.180.0.3:80"}
    chi2 = sum((n - 200) ** 2 / 200 for n in got.values())
    assert chi2 < 13.82  # 2 degrees of freedom, p = 0.001


def test_a_service_without_endpoints_rejects_and_other_ports_of_a_cluster_ip_too():
    p = synced([service(), service(name="svc6", ns="ns6", cluster_ip="172.30.0.46", type_="NodePort",
                                   node_port=30046)], [endpoint_slice(THREE)])
    assert 'add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" ' \
           ': goto reject-chain }' in p.dump()
    rng = random.Random(1)
    for dst, port, chain in (("172.30.0.46", 80, "reject-chain"), (NODE_IP, 30046, "reject-chain"),
                             ("172.30.0.41", 443, "cluster-ips-check")):
        got = p.route({"src": "10.244.1.5", "dst": dst, "dport": port}, rng, 1.0)
        assert got["verdict"] == "REJECT" and got["rule"].startswith(chain), got
    # An address of the service CIDR no Service holds is dropped.
    assert p.route({"src": "10.244.1.5", "dst": "172.30.0.99", "dport": 80}, rng, 1.0)["verdict"] == "DROP"


def test_nodeport_traffic_is_masqueraded_and_hairpin_traffic_too():
    p = synced([service(type_="NodePort", node_port=30080)], [endpoint_slice([endpoint("10.180.0.1")])])
    rng = random.Random(1)
    outside = p.route({"src": "203.0.113.2", "dst": NODE_IP, "dport": 30080}, rng, 1.0)
    assert outside["endpoint"] == "10.180.0.1:80" and outside["masquerade"]
    pod = p.route({"src": "10.244.1.5", "dst": "172.30.0.41", "dport": 80}, rng, 1.0)
    assert pod["endpoint"] == "10.180.0.1:80" and not pod["masquerade"]
    hairpin = p.route({"src": "10.180.0.1", "dst": "172.30.0.41", "dport": 80}, rng, 1.0)
    assert hairpin["endpoint"] == "10.180.0.1:80" and hairpin["masquerade"]


def test_client_ip_affinity_keeps_a_client_on_its_endpoint_until_the_timeout():
    svc = service(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
    p = synced([svc], [endpoint_slice(THREE)])
    aff = "affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
    assert f"add set ip kube-proxy {aff} {{ type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }}" in p.dump()
    assert f"add rule ip kube-proxy {SVC} ip saddr @{aff} goto {EP1}" in p.dump()
    rng = random.Random(3)
    pkt = {"src": "10.244.1.5", "dst": "172.30.0.41", "dport": 80}
    first = p.route(pkt, rng, 0.0)["endpoint"]
    assert {p.route(pkt, rng, t)["endpoint"] for t in range(1, 50)} == {first}
    # 60 s after the last connection the set's element has expired: numgen decides again.
    assert len({p.route(pkt, rng, 200.0 + 100 * i)["endpoint"] for i in range(30)}) == 3


def test_a_partial_sync_rewrites_only_changed_services_and_deletes_stale_chains_a_second_later():
    p = synced([service(), service(name="svc2", cluster_ip="172.30.0.42")],
               [endpoint_slice(THREE), endpoint_slice(THREE, name="svc2-x", svc="svc2")])
    full = p.written
    # svc1 loses an endpoint: a partial sync rewrites svc1's chains and flushes the stale one.
    synced([service(), service(name="svc2", cluster_ip="172.30.0.42")],
           [endpoint_slice(THREE[:2]), endpoint_slice(THREE, name="svc2-x", svc="svc2")],
           now=5.0, proxier=p, changed={("ns1", "svc1")})
    assert p.written < full / 2
    assert p.table.chains[EP3].rules == () and p.table.chains[EP3].stale_since == 5.0
    assert f"\tchain {EP3} {{\n\t}}" in p.text()
    # A sync at least a second later deletes it.
    synced([service(), service(name="svc2", cluster_ip="172.30.0.42")],
           [endpoint_slice(THREE[:2]), endpoint_slice(THREE, name="svc2-x", svc="svc2")],
           now=6.5, proxier=p, changed=set())
    assert EP3 not in p.table.chains
    # The result equals a full rebuild.
    fresh = synced([service(), service(name="svc2", cluster_ip="172.30.0.42")],
                   [endpoint_slice(THREE[:2]), endpoint_slice(THREE, name="svc2-x", svc="svc2")])
    assert p.dump() == fresh.dump()


def test_a_pod_wgets_a_service_in_an_nftables_cluster():
    c, node, code, out, empty_code, web = wget_through_a_service("nftables")
    assert code == 0 and "<title>Welcome to nginx!</title>" in out
    assert empty_code == 1  # no endpoints: reject-chain
    got = c.node_proxy_rules(node)
    assert got["mode"] == "nftables" and got["text"].startswith("table ip kube-proxy {")
    assert all(f"dnat to {p['status']['podIP']}:80" in got["text"] for p in web)
    m = got["metrics"]
    assert m["sync_full_proxy_rules_duration_seconds_count"] == 1  # only the first sync is full
    assert m["sync_partial_proxy_rules_duration_seconds_count"] >= 1
    cm = c.request({"verb": "get", "resource": "configmaps", "namespace": "kube-system", "name": "kube-proxy"})
    assert "\nmode: nftables\n" in cm["body"]["data"]["config.conf"]
