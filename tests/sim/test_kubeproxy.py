"""kube-proxy in iptables mode: the rules proxier.go writes (as iptables-save prints them), the
endpoints it chooses, its rate-limited syncs, and packets walked through the rules."""
import copy
import random
from collections import Counter

from sim.component import Component
from sim.kernel import Kernel
from sim.kubeproxy import BoundedFrequencyRunner, EndpointsChangeTracker, ServiceChangeTracker
from sim.kubeproxy_iptables import (build_rules, endpoint_chain, match, service_chain, service_ports,
                                    slice_endpoints)

NODE_IP = "192.168.0.11"


def service(name="svc1", ns="ns1", cluster_ip="172.30.0.41", port=80, port_name="p80", type_="ClusterIP",
            node_port=None, **spec):
    p = {"name": port_name, "port": port, "protocol": "TCP", "targetPort": port}
    if node_port:
        p["nodePort"] = node_port
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"type": type_, "clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "ports": [p], **spec}}


def endpoint(ip, node="worker-2", ready=True, serving=None, terminating=None):
    cond = {"ready": ready}
    if serving is not None:
        cond["serving"] = serving
    if terminating is not None:
        cond["terminating"] = terminating
    return {"addresses": [ip], "conditions": cond, "nodeName": node}


def endpoint_slice(endpoints, name="svc1-abcde", svc="svc1", ns="ns1", port=80, port_name="p80"):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": name, "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
            "ports": [{"name": port_name, "port": port, "protocol": "TCP"}], "endpoints": endpoints}


def tracked(services, slices, node="worker-1"):
    """(service ports, endpoints map) once kube-proxy's change trackers applied the objects."""
    svcs, eps = ServiceChangeTracker(), EndpointsChangeTracker(node)
    for s in services:
        svcs.update(None, s)
    for s in slices:
        eps.update(s, False)
    svcs.apply()
    eps.apply()
    return [p for key in sorted(svcs.ports) for p in svcs.ports[key]], eps.endpoints


def rules_for(services, slices, node="worker-1"):
    ports, endpoints = tracked(services, slices, node)
    return build_rules(ports, endpoints, [NODE_IP], node=node)


THREE = [endpoint("10.180.0.1"), endpoint("10.180.0.2"), endpoint("10.180.0.3")]


def test_chain_names_are_upstreams_hashes():
    # pkg/proxy/iptables/proxier_test.go's names for ns1/svc1:p80 and its endpoint 10.180.0.1:80
    assert service_chain("ns1/svc1:p80", "tcp") == "KUBE-SVC-XPGD46QRK7WJZT7O"
    assert endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80") == "KUBE-SEP-SXIVWICOYRO3J4NJ"


def test_a_cluster_ip_service_with_three_endpoints_gets_upstreams_rules():
    text = rules_for([service()], [endpoint_slice(THREE)]).text()
    svc = "KUBE-SVC-XPGD46QRK7WJZT7O"
    seps = [endpoint_chain("ns1/svc1:p80", "tcp", f"10.180.0.{i}:80") for i in (1, 2, 3)]
    lines = text.splitlines()
    assert f"-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1:p80 cluster IP\" " \
           f"-m tcp --dport 80 -j {svc}" in lines
    assert [line for line in lines if line.startswith(f"-A {svc} ")] == [
        f"-A {svc} ! -s 10.244.0.0/16 -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1:p80 cluster IP\" "
        "-m tcp --dport 80 -j KUBE-MARK-MASQ",
        f"-A {svc} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m statistic --mode random "
        f"--probability 0.33333333349 -j {seps[0]}",
        f"-A {svc} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.2:80\" -m statistic --mode random "
        f"--probability 0.50000000000 -j {seps[1]}",
        f"-A {svc} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.3:80\" -j {seps[2]}",
    ]
    assert [line for line in lines if line.startswith(f"-A {seps[0]} ")] == [
        f"-A {seps[0]} -s 10.180.0.1/32 -m comment --comment \"ns1/svc1:p80\" -j KUBE-MARK-MASQ",
        f"-A {seps[0]} -p tcp -m comment --comment \"ns1/svc1:p80\" -m tcp -j DNAT --to-destination 10.180.0.1:80",
    ]
    # The static chains, and the nodeports tail-call last in KUBE-SERVICES.
    assert "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000" in lines
    assert ("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" "
            "-j MASQUERADE --random-fully") in lines
    services = [line for line in lines if line.startswith("-A KUBE-SERVICES ")]
    assert services[-1].endswith("-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    assert text.startswith("*filter\n") and "\n*nat\n" in text and text.endswith("COMMIT\n")
    assert f":{svc} - [0:0]" in lines and ":PREROUTING ACCEPT [0:0]" in lines


def test_a_nodeport_service_reaches_its_endpoints_from_outside_and_masquerades():
    rs = rules_for([service(type_="NodePort", node_port=30080)], [endpoint_slice(THREE)])
    lines = rs.text().splitlines()
    ext = service_chain("ns1/svc1:p80", "tcp", "KUBE-EXT-")
    assert f"-A KUBE-NODEPORTS -p tcp -m comment --comment \"ns1/svc1:p80\" -m tcp --dport 30080 -j {ext}" in lines
    assert (f"-A {ext} -m comment --comment \"masquerade traffic for ns1/svc1:p80 external destinations\" "
            "-j KUBE-MARK-MASQ") in lines
    assert f"-A {ext} -j KUBE-SVC-XPGD46QRK7WJZT7O" in lines
    got = match(rs, {"src": "203.0.113.7", "dst": NODE_IP, "dport": 30080}, random.Random(4))
    assert got["verdict"] == "ACCEPT" and got["endpoint"] in {"10.180.0.1:80", "10.180.0.2:80", "10.180.0.3:80"}
    assert got["masquerade"] and "KUBE-NODEPORTS" in got["path"][2]
    # Another port on the node is not the Service's.
    assert match(rs, {"src": "203.0.113.7", "dst": NODE_IP, "dport": 30081}, random.Random(4))["endpoint"] is None


def test_external_traffic_policy_local_uses_only_this_nodes_endpoints():
    eps = [endpoint("10.180.0.1", node="worker-1"), endpoint("10.180.0.2"), endpoint("10.180.0.3")]
    rs = rules_for([service(type_="NodePort", node_port=30080, externalTrafficPolicy="Local")],
                   [endpoint_slice(eps)])
    svl = service_chain("ns1/svc1:p80", "tcp", "KUBE-SVL-")
    assert f"-A {svl} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -j " \
           f"{endpoint_chain('ns1/svc1:p80', 'tcp', '10.180.0.1:80')}" in rs.text().splitlines()
    rng = random.Random(1)
    outside = {match(rs, {"src": "203.0.113.7", "dst": NODE_IP, "dport": 30080}, rng)["endpoint"] for _ in range(30)}
    assert outside == {"10.180.0.1:80"}  # and the client's address is kept (no masquerade)
    assert not match(rs, {"src": "203.0.113.7", "dst": NODE_IP, "dport": 30080}, rng)["masquerade"]
    # No local endpoint: the filter table drops NodePort traffic from outside.
    rs = rules_for([service(type_="NodePort", node_port=30080, externalTrafficPolicy="Local")],
                   [endpoint_slice(eps[1:])])
    assert match(rs, {"src": "203.0.113.7", "dst": NODE_IP, "dport": 30080}, rng)["verdict"] == "DROP"


def test_a_headless_service_gets_no_rules():
    headless = service(cluster_ip="None")
    assert service_ports(headless) == []
    text = rules_for([headless], [endpoint_slice(THREE)]).text()
    assert "KUBE-SVC-" not in text and "KUBE-SEP-" not in text and "ns1/svc1" not in text
    assert service_ports(service(type_="ExternalName", cluster_ip="")) == []


def test_unready_endpoints_leave_and_terminating_ones_are_the_fallback():
    eps = [endpoint("10.180.0.1"), endpoint("10.180.0.2", ready=False, serving=False), endpoint("10.180.0.3")]
    text = rules_for([service()], [endpoint_slice(eps)]).text()
    assert "10.180.0.2" not in text and "--probability 0.50000000000" in text and "0.33333333349" not in text
    # No endpoint ready: the serving-and-terminating ones take the traffic; not-serving ones never.
    eps = [endpoint("10.180.0.1", ready=False, serving=True, terminating=True),
           endpoint("10.180.0.2", ready=False, serving=False, terminating=True)]
    text = rules_for([service()], [endpoint_slice(eps)]).text()
    assert "--to-destination 10.180.0.1:80" in text and "10.180.0.2" not in text
    # None at all: the filter table rejects the ClusterIP.
    rs = rules_for([service()], [endpoint_slice([endpoint("10.180.0.1", ready=False, serving=False)])])
    assert ("-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment \"ns1/svc1:p80 has no endpoints\" "
            "-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable") in rs.text().splitlines()
    got = match(rs, {"src": "10.244.1.5", "dst": "172.30.0.41", "dport": 80}, random.Random(1))
    assert got["verdict"] == "REJECT" and got["endpoint"] is None


def test_the_endpoints_tracker_follows_slice_updates_and_deletes():
    tracker = EndpointsChangeTracker("worker-1")
    first = endpoint_slice(THREE)
    tracker.update(first, False)
    tracker.apply()
    assert [str(e) for e in tracker.endpoints["ns1/svc1:p80/TCP"]] == ["10.180.0.1:80", "10.180.0.2:80",
                                                                        "10.180.0.3:80"]
    unready = endpoint_slice([THREE[0], endpoint("10.180.0.2", ready=False), THREE[2]])
    assert tracker.update(unready, False) and tracker.apply() == {("ns1", "svc1")}
    assert [e.ready for e in tracker.endpoints["ns1/svc1:p80/TCP"]] == [True, False, True]
    assert not tracker.update(unready, False)  # the same slice again: nothing to sync
    tracker.update(unready, True)
    tracker.apply()
    assert "ns1/svc1:p80/TCP" not in tracker.endpoints
    assert slice_endpoints(endpoint_slice(THREE))["ns1/svc1:p80/TCP"][0].local_to("worker-2")


def test_a_service_change_undone_before_the_sync_is_no_change():
    tracker = ServiceChangeTracker()
    svc = service()
    assert tracker.update(None, svc)
    assert not tracker.update(svc, None)  # added and deleted before a sync: nothing pending
    tracker.update(None, svc)
    tracker.apply()
    assert not tracker.update(svc, service())  # same ports
    assert tracker.update(svc, service(port=8080))


def test_six_hundred_requests_spread_as_the_probabilities_say():
    rs = rules_for([service()], [endpoint_slice(THREE)])
    rng = random.Random(12)
    counts = Counter(match(rs, {"src": "10.244.1.5", "dst": "172.30.0.41", "dport": 80}, rng)["endpoint"]
                     for _ in range(600))
    assert set(counts) == {"10.180.0.1:80", "10.180.0.2:80", "10.180.0.3:80"}
    chi2 = sum((n - 200) ** 2 / 200 for n in counts.values())
    assert chi2 < 13.82, counts  # chi-square, 2 degrees of freedom, p = 0.001


def test_client_ip_affinity_keeps_a_client_on_one_endpoint():
    rs = rules_for([service(sessionAffinity="ClientIP")], [endpoint_slice(THREE)])
    svc = "KUBE-SVC-XPGD46QRK7WJZT7O"
    sep = endpoint_chain("ns1/svc1:p80", "tcp", "10.180.0.1:80")
    lines = rs.text().splitlines()
    assert (f"-A {svc} -m comment --comment \"ns1/svc1:p80 -> 10.180.0.1:80\" -m recent --rcheck --seconds 10800 "
            f"--reap --name {sep} --mask 255.255.255.255 --rsource -j {sep}") in lines
    assert (f"-A {sep} -p tcp -m comment --comment \"ns1/svc1:p80\" -m recent --set --name {sep} "
            "--mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.180.0.1:80") in lines
    rng, recent = random.Random(3), {}
    pkt = {"src": "10.244.1.5", "dst": "172.30.0.41", "dport": 80}
    assert len({match(rs, pkt, rng, recent, now=t)["endpoint"] for t in range(20)}) == 1
    # After the timeout the client is spread again.
    later = {match(rs, pkt, rng, {}, now=0)["endpoint"] for _ in range(40)}
    assert len(later) == 3


class _Probe(Component):
    component = "probe"


def test_syncs_are_rate_limited_as_the_bounded_frequency_runner_does():
    kernel = Kernel(seed=1)
    probe = _Probe("node-1")
    kernel.add_component(probe)
    probe.start()
    runs = []
    runner = BoundedFrequencyRunner(probe, lambda: runs.append(kernel.now), 1.0, 30.0, 2)
    runner.start()
    # Many changes in one instant: one sync.
    for _ in range(10):
        runner.run()
    kernel.advance(0.01)
    assert runs == [0.0]
    # Eighteen changes within the next second: the burst's second token at once, then one sync
    # when the next token is due (qps 1/minSyncPeriod) for everything that came after it.
    for i in range(18):
        kernel.run_until(0.05 * (i + 1))
        runner.run()
    kernel.advance(2.0)
    assert len(runs) == 3 and runs[1] == 0.05 and abs(runs[2] - 1.0) < 1e-9, runs
    # Nothing changes: the sync period still syncs.
    kernel.advance(30.0)
    assert len(runs) == 4 and abs(runs[3] - 31.0) < 1e-9, runs


# -- in a cluster --------------------------------------------------------------------------------
def _actions(cluster, text):
    return [e["text"] for e in cluster.kernel.trace if e.get("kind") == "action" and text in e.get("text", "")]


def test_kube_proxy_on_every_node_programs_a_service_and_follows_its_endpoints(cluster):
    from tests.sim.conftest import advance_until, ok
    assert _actions(cluster, "kube-proxy on worker-1 started (iptables mode, --iptables-min-sync-period=1s")
    svc = ok(cluster.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}}), 201)
    vip = svc["spec"]["clusterIP"]
    eps = [{"addresses": [f"10.244.{i}.5"], "conditions": {"ready": True}, "nodeName": f"worker-{i}"}
           for i in (1, 2, 3)]
    body = endpoint_slice(eps, name="web-abcde", svc="web", ns="default", port=8080, port_name="")
    ok(cluster.request({"verb": "create", "resource": "endpointslices", "group": "discovery.k8s.io",
                        "namespace": "default", "body": body}), 201)
    chain = service_chain("default/web", "tcp")
    advance_until(cluster, lambda: all(chain in cluster.node_iptables(n)["rules"]
                                       for n in ("cp-1", "worker-1", "worker-2", "worker-3")), 5)
    info = cluster.node_iptables("worker-1")
    # web, kubernetes and kubeadm's kube-dns; web's 3 endpoints, the kubernetes Service's API
    # server (cp-1) and kube-dns's two CoreDNS pods (on each of its 3 ports)
    assert info["services"] == 3 and info["endpoints"] == 4 + 2 * 3 and info["syncedAt"]
    assert "--probability 0.33333333349" in info["rules"]
    assert _actions(cluster, f"kube-proxy on worker-1 synced {info['natRules']} rules for 3 services")
    proxy = cluster.kube_proxy("worker-2")
    got = proxy.route({"src": "10.244.2.9", "dst": vip, "dport": 80})
    assert got["endpoint"] in {"10.244.1.5:8080", "10.244.2.5:8080", "10.244.3.5:8080"}
    # An endpoint turning unready leaves every node's rules within a sync (minSyncPeriod 1 s).
    current = copy.deepcopy(ok(cluster.request({"verb": "get", "resource": "endpointslices",
                                                "group": "discovery.k8s.io", "namespace": "default",
                                                "name": "web-abcde"})))
    current["endpoints"][1]["conditions"]["ready"] = False
    ok(cluster.request({"verb": "update", "resource": "endpointslices", "group": "discovery.k8s.io",
                        "namespace": "default", "name": "web-abcde", "body": current}))
    took = advance_until(cluster, lambda: all("10.244.2.5" not in cluster.node_iptables(n)["rules"]
                                              for n in ("worker-1", "worker-2", "worker-3")), 3)
    assert took <= 2.0
    assert {proxy.route({"src": "10.244.2.9", "dst": vip, "dport": 80})["endpoint"] for _ in range(30)} == {
        "10.244.1.5:8080", "10.244.3.5:8080"}


def test_an_unknown_node_has_no_rules(cluster):
    import pytest

    from sim.cluster import ClusterError
    with pytest.raises(ClusterError) as e:
        cluster.node_iptables("nope")
    assert e.value.code == 404


def test_the_runner_never_spins_on_a_token_due_at_the_same_instant():
    # A token due "now" can read 0.99999... in floating point; waiting for the rest would come
    # back at the same virtual instant forever (the clock cannot step by 1e-17).
    kernel = Kernel(seed=2, start_time=1_700_000_000.0)
    probe = _Probe("node-1")
    kernel.add_component(probe)
    probe.start()
    runs = []
    runner = BoundedFrequencyRunner(probe, lambda: runs.append(kernel.now), 1.0, 30.0, 2)
    runner.start()
    rng = random.Random(5)
    t = kernel.now
    for _ in range(300):
        t += rng.choice([0.1, 0.3, 0.7, 1.0 / 3, 0.05])
        kernel.run_until(t)
        runner.run()
    kernel.advance(5)
    assert kernel.events_run < 2000 and len(runs) > 50
    gaps = [b - a for a, b in zip(runs[2:], runs[3:])]
    assert min(gaps) >= 0.5  # at most 2 in a burst, then one per second


def test_a_token_a_rounding_error_short_of_one_is_a_token():
    kernel = Kernel(seed=2, start_time=2.0)
    probe = _Probe("node-1")
    kernel.add_component(probe)
    probe.start()
    runs = []
    runner = BoundedFrequencyRunner(probe, lambda: runs.append(kernel.now), 1.0, 30.0, 2)
    runner.tokens, runner.stamp = 0.9999999999999999, kernel.now  # 0.05 + 0.95 in floating point
    runner.run()
    kernel.run_until(kernel.now + 0.5, stop=lambda: kernel.events_run > 1000)
    assert runs == [2.0] and kernel.events_run < 1000


def test_a_load_balancer_ip_leads_to_the_services_endpoints():
    svc = service(type_="LoadBalancer", node_port=31000)
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.50"}]}}
    rs = rules_for([svc], [endpoint_slice(THREE)])
    ext = service_chain("ns1/svc1:p80", "tcp", "KUBE-EXT-")
    assert (f"-A KUBE-SERVICES -d 203.0.113.50/32 -p tcp -m comment --comment \"ns1/svc1:p80 loadbalancer IP\" "
            f"-m tcp --dport 80 -j {ext}") in rs.text().splitlines()
    rng = random.Random(7)
    seen = {match(rs, {"src": "198.51.100.9", "dst": "203.0.113.50", "dport": 80}, rng)["endpoint"] for _ in range(40)}
    assert seen == {"10.180.0.1:80", "10.180.0.2:80", "10.180.0.3:80"}
    # From the node itself to the ClusterIP: nat OUTPUT, and masqueraded (not from a pod).
    got = match(rs, {"src": NODE_IP, "dst": "172.30.0.41", "dport": 80}, rng)
    assert got["path"][0].startswith("nat -A OUTPUT ") and got["endpoint"] and got["masquerade"]


def test_pods_behind_a_service_reach_every_nodes_rules_and_a_deleted_one_leaves(cluster):
    from tests.builders import MakePod
    from tests.sim.conftest import advance_until, ok
    for i in range(3):
        body = MakePod().name(f"web-{i}").namespace("default").labels({"app": "web"}) \
            .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest()
        ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}), 201)
    ok(cluster.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}}}), 201)
    chain = service_chain("default/web", "tcp")

    def web_endpoints(node):
        return [line for line in cluster.node_iptables(node)["rules"].splitlines() if line.startswith(f"-A {chain} -m")]
    nodes = ("cp-1", "worker-1", "worker-2", "worker-3")
    advance_until(cluster, lambda: all(len(web_endpoints(n)) == 3 for n in nodes), 30)
    assert "--probability 0.33333333349" in web_endpoints("worker-1")[0]
    pod = ok(cluster.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "web-1"}))
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "web-1"}))
    # The terminating pod's endpoint turns not ready at once: the EndpointSlice controller
    # writes it, every kube-proxy syncs within its minSyncPeriod.
    took = advance_until(cluster, lambda: all(len(web_endpoints(n)) == 2 for n in nodes), 10)
    assert took <= 3.0
    assert all(pod["status"]["podIP"] not in cluster.node_iptables(n)["rules"] for n in nodes)


# -- partial syncs (proxier.go: only the changed Services' chains are rewritten) ------------------
from hypothesis import example, given, settings, strategies as st  # noqa: E402

from sim.kubeproxy_iptables import IptablesProxier, sync_rules  # noqa: E402

_SVC_NAMES = ("a", "b", "c", "d")
_CHANGE_FIELDS = (st.sampled_from(_SVC_NAMES), st.integers(0, 4), st.sampled_from(("ClusterIP", "NodePort")),
                  st.booleans(),
                  st.lists(st.tuples(st.integers(1, 6), st.sampled_from(("worker-1", "worker-2")), st.booleans()),
                           max_size=4))
_change = st.tuples(st.sampled_from(("svc", "slice", "delete-svc", "delete-slice")), *_CHANGE_FIELDS)


def _apply_change(svcs, eps, live, change):
    kind, name, port_shift, type_, local, ends = change
    ip = f"172.30.0.{_SVC_NAMES.index(name) + 10}"
    if kind == "svc":
        extra = {"externalTrafficPolicy": "Local"} if local and type_ == "NodePort" else {}
        body = service(name=name, cluster_ip=ip, port=80 + port_shift, type_=type_,
                       node_port=30000 + _SVC_NAMES.index(name) if type_ == "NodePort" else None, **extra)
        svcs.update(live["svc"].get(name), body)
        live["svc"][name] = body
    elif kind == "delete-svc" and name in live["svc"]:
        svcs.update(live["svc"].pop(name), None)
    elif kind == "slice":
        body = endpoint_slice([endpoint(f"10.244.{i}.{_SVC_NAMES.index(name) + 2}", node=n, ready=r) for i, n, r in ends],
                              name=f"{name}-x", svc=name, port=80 + port_shift)
        eps.update(body, False)
        live["slice"][name] = body
    elif kind == "delete-slice" and name in live["slice"]:
        eps.update(live["slice"].pop(name), True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_change, min_size=1, max_size=4), min_size=1, max_size=8))
def test_a_partial_sync_yields_exactly_the_rules_a_full_rebuild_yields(rounds):
    svcs, eps = ServiceChangeTracker(), EndpointsChangeTracker("worker-1")
    live = {"svc": {}, "slice": {}}
    proxier = IptablesProxier("worker-1", [NODE_IP], "10.244.0.0/16")
    for i, round_ in enumerate(rounds):
        for change in round_:
            _apply_change(svcs, eps, live, change)
        changed = svcs.apply() | eps.apply()
        ports = [p for key in sorted(svcs.ports) for p in svcs.ports[key]]
        proxier.sync(ports, eps.endpoints, None if i == 0 else changed, float(i), 30.0)
        full = build_rules(ports, eps.endpoints, [NODE_IP], node="worker-1")
        assert proxier.text() == full.text()


# Mostly endpoint changes: a Service change gives a new ports list, which takes sync_rules' walk.
_endpoints_change = st.tuples(st.sampled_from(("slice",) * 5 + ("delete-slice", "svc", "delete-svc")),
                              *_CHANGE_FIELDS)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(_endpoints_change, min_size=1, max_size=3), st.integers(0, 40),
                          st.integers(0, 9).map(lambda n: n == 0)), min_size=2, max_size=14),
       st.sampled_from((4, 1000)))
# An endpoint's chain left stale (large-cluster mode, no clean-up due), then used again: kept.
@example([([("svc", "a", 0, "ClusterIP", False, []),
            ("slice", "a", 0, "ClusterIP", False, [(i, "worker-2", True) for i in (1, 2, 3, 4, 5)])], 0, False),
          ([("slice", "a", 0, "ClusterIP", False, [(i, "worker-2", True) for i in (1, 2, 3, 4, 6)])], 1, False),
          ([("slice", "a", 0, "ClusterIP", False, [(i, "worker-2", True) for i in (1, 2, 3, 4, 5)])], 1, False),
          ([("slice", "b", 0, "ClusterIP", False, [])], 40, False)], 4)
# A Service with endpoints deleted: its endpoints no longer count towards large-cluster mode.
@example([([("svc", "a", 0, "ClusterIP", False, []), ("svc", "b", 0, "ClusterIP", False, []),
            ("slice", "a", 0, "ClusterIP", False, [(i, "worker-2", True) for i in (1, 2, 3)]),
            ("slice", "b", 0, "ClusterIP", False, [(i, "worker-2", True) for i in (1, 2)])], 0, False),
          ([("delete-svc", "b", 0, "ClusterIP", False, [])], 1, False)], 4)
def test_a_tracked_partial_sync_is_sync_rules_done_on_the_changed_services_only(rounds, threshold):
    """IptablesProxier.sync(tracked=True) (sim/kubeproxy_iptables_partial.py) against the same
    syncs through sync_rules: the same rules, written counts, deletions, large-cluster mode and
    `differs`, including when large-cluster mode flips (a low threshold) and clean-ups wait."""
    from unittest import mock

    from sim import kubeproxy_iptables, kubeproxy_iptables_partial
    from sim.kubeproxy_healthcheck import ServiceHealthServer
    svcs, eps = ServiceChangeTracker(), EndpointsChangeTracker("worker-1")
    live = {"svc": {}, "slice": {}}
    fast = IptablesProxier("worker-1", [NODE_IP], "10.244.0.0/16")
    ref = IptablesProxier("worker-1", [NODE_IP], "10.244.0.0/16")
    health, health_ref = ServiceHealthServer(), ServiceHealthServer()
    now = 0.0
    with mock.patch.object(kubeproxy_iptables, "LARGE_CLUSTER_ENDPOINTS", threshold), \
            mock.patch.object(kubeproxy_iptables_partial, "LARGE_CLUSTER_ENDPOINTS", threshold):
        for i, (round_, step, full) in enumerate(rounds):
            for change in round_:
                _apply_change(svcs, eps, live, change)
            changed = svcs.apply() | eps.apply()
            now += step
            arg = None if i == 0 or full else changed
            got = fast.sync(svcs.port_list(), eps.endpoints, arg, now, 30.0, tracked=True)
            want = ref.sync([p for key in sorted(svcs.ports) for p in svcs.ports[key]], eps.endpoints, arg, now, 30.0)
            assert got == want
            assert fast.text() == ref.text()
            assert (fast.large, fast.last_written, fast.nat_rules, fast.last_cleanup) == \
                (ref.large, ref.last_written, ref.nat_rules, ref.last_cleanup)
            assert fast.ruleset.chains == ref.ruleset.chains
            health.sync(svcs.port_list(), eps.endpoints, "worker-1", arg, eps.keys)
            health_ref.sync(svcs.port_list(), eps.endpoints, "worker-1")
            assert (health.services, health.local_endpoints) == (health_ref.services, health_ref.local_endpoints)


def _many_endpoints(n_services, per_service):
    svcs, eps = ServiceChangeTracker(), EndpointsChangeTracker("worker-1")
    for s in range(n_services):
        svcs.update(None, service(name=f"s{s}", cluster_ip=f"172.30.{s // 200}.{s % 200 + 1}"))
        eps.update(endpoint_slice([endpoint(f"10.244.{s // 200}.{e + s % 200 * 8}") for e in range(per_service)],
                                  name=f"s{s}-x", svc=f"s{s}"), False)
    svcs.apply()
    eps.apply()
    return svcs, eps


def test_a_partial_sync_writes_only_the_changed_services_chains():
    svcs, eps = _many_endpoints(20, 3)
    ports = [p for key in sorted(svcs.ports) for p in svcs.ports[key]]
    first = sync_rules(None, ports, eps.endpoints, [NODE_IP], "worker-1")
    assert not first.large
    eps.update(endpoint_slice([endpoint("10.244.9.1")], name="s3-x", svc="s3"), False)
    changed = eps.apply()
    partial = sync_rules(first.ruleset, ports, eps.endpoints, [NODE_IP], "worker-1", changed=changed)
    # The top-level chains in full (20 ClusterIP jumps, the nodeports tail-call, the static
    # KUBE-POSTROUTING / KUBE-MARK-MASQ rules) and s3's two chains - not the other 19 Services'.
    assert partial.written["nat"] == 20 + 1 + 4 + (2 + 2) and first.written["nat"] > 20 * 7
    assert partial.ruleset.text() == build_rules(ports, eps.endpoints, [NODE_IP], node="worker-1").text()
    # Three deleted endpoint chains: gone at once (not in large-cluster mode).
    assert partial.deleted_chains == 3


def test_large_cluster_mode_drops_comments_and_keeps_stale_chains_until_a_sync_period():
    svcs, eps = _many_endpoints(101, 10)  # 1,010 endpoints: more than largeClusterEndpointsThreshold
    ports = [p for key in sorted(svcs.ports) for p in svcs.ports[key]]
    proxier = IptablesProxier("worker-1", [NODE_IP], "10.244.0.0/16")
    proxier.sync(ports, eps.endpoints, None, 0.0, 30.0)
    assert proxier.large
    svc = service_chain("ns1/s0:p80", "tcp")
    lines = proxier.text().splitlines()
    # appendServiceCommentLocked: no "-m comment" in the endpoint and load-balancing rules.
    assert [line for line in lines if line.startswith(f"-A {svc} ")][1].startswith(
        f"-A {svc} -m statistic --mode random --probability 0.10000000009 -j KUBE-SEP-")
    gone = endpoint_chain("ns1/s0:p80", "tcp", str(eps.endpoints["ns1/s0:p80/TCP"][0]))
    eps.update(endpoint_slice([endpoint(f"10.244.0.{e}") for e in range(1, 10)], name="s0-x", svc="s0"), False)
    proxier.sync(ports, eps.endpoints, eps.apply(), 10.0, 30.0)
    # The stale endpoint chain stays (unreferenced) until the clean-up a sync period later.
    text = proxier.text()
    assert f":{gone} - [0:0]" in text and f"-j {gone}" not in text
    proxier.sync(ports, eps.endpoints, set(), 31.0, 30.0)
    assert f":{gone} - [0:0]" not in proxier.text()


def test_in_a_cluster_the_first_sync_is_full_and_the_next_ones_partial(cluster):
    from tests.sim.conftest import advance_until, ok
    proxy = cluster.kube_proxy("worker-1")
    advance_until(cluster, lambda: proxy.syncs >= 1, 10)
    assert proxy.full_syncs == 1
    before = proxy.partial_syncs
    ok(cluster.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}}), 201)
    advance_until(cluster, lambda: "default/web has no endpoints" in proxy.proxy_rules()["text"], 5)
    got = proxy.proxy_rules()
    assert proxy.full_syncs == 1 and proxy.partial_syncs > before
    assert got["metrics"]["sync_partial_proxy_rules_duration_seconds_count"] == proxy.partial_syncs
    # The partial sync left the kernel holding exactly what a full rebuild would write.
    ports = [p for key in sorted(proxy.services.ports) for p in proxy.services.ports[key]]
    assert got["text"] == build_rules(ports, proxy.endpoints.endpoints, proxy.node_ips, node="worker-1").text()
