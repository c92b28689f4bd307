"""The issue's networking scenarios that the per-component modules do not already script, each a
packet's path through sim/datapath.py over a live cluster (docs/networking/datapath.md
"Scenarios" lists every scenario and its test):

- outside -> a LoadBalancer IP -> the cloud's pick of a node -> its NodePort -> kube-proxy ->
  an endpoint, with externalTrafficPolicy Cluster (SNAT, any node) and Local (the client's
  address kept, only nodes with a local endpoint);
- a failing readiness probe, a killed container and a dead node: the endpoint stays in
  rotation until the kubelet / node lifecycle controller, the EndpointSlice controller and
  kube-proxy catch up, and requests in between still go to it;
- headless DNS answers every ready pod, and only those.
"""
from __future__ import annotations

from sim import coredns
from sim.cluster import node_ip
from sim.datapath import trace
from tests.sim.conftest import advance_until, ok
from tests.sim.test_datapath import NGINX, _pod, _start, _web
from tests.sim.test_loadbalancer import assigned, backends, create, lb_service, run_pod

CLIENT = "198.51.100.7"          # a client on the Internet (TEST-NET-2)
WORKERS = {node_ip(i): f"worker-{i}" for i in (1, 2, 3)}


def _outside(c, dst, dport=80, src=CLIENT, proto="tcp"):
    return trace(c, {"src": src, "src_node": None, "dst": dst, "dport": dport, "proto": proto})


def _svc(c, name="web"):
    return ok(c.request({"verb": "get", "resource": "services", "namespace": "default", "name": name}))


def _pods(c, app="web"):
    return ok(c.request({"verb": "list", "resource": "pods", "namespace": "default",
                         "query": {"labelSelector": f"app={app}"}}))["items"]


def _ready(pod):
    return any(x["type"] == "Ready" and x["status"] == "True" for x in pod["status"].get("conditions") or [])


def _slice_ready(c, ip, svc="web"):
    """The EndpointSlice's ready condition for the endpoint `ip` (None: not in any slice)."""
    items = ok(c.request({"verb": "list", "group": "discovery.k8s.io", "resource": "endpointslices",
                          "namespace": "default", "query": {"labelSelector": f"kubernetes.io/service-name={svc}"}}))
    for s in items["items"]:
        for ep in s.get("endpoints") or []:
            if ip in ep["addresses"]:
                return ep["conditions"]["ready"]
    return None


def _in_rules(c, node, ip):
    """Whether kube-proxy on `node` still has a KUBE-SEP DNAT to `ip` in its rules."""
    return f"--to-destination {ip}:" in c.node_iptables(node)["rules"]


# -- external to Service: a cloud load balancer ---------------------------------------------------
def test_a_load_balancer_ip_reaches_the_service_through_a_nodes_node_port(cluster):
    c = cluster
    spec = ok(create(c, lb_service()), 201)["spec"]
    node_port = spec["ports"][0]["nodePort"]
    run_pod(c, "web-a", "worker-3")
    ip = assigned(c)
    advance_until(c, lambda: all(b["healthy"] for b in backends(c).values()), 20)
    pod_ip = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "web-a"}))["status"]["podIP"]
    advance_until(c, lambda: all(_in_rules(c, n, pod_ip) for n in WORKERS.values()), 10)
    entered = set()
    for _ in range(60):
        t = _outside(c, ip)
        assert t.verdict == "delivered" and t.endpoint == f"{pod_ip}:80" and t.pod["name"] == "web-a", t.hops
        # outside -> the cloud's forwarding rule -> a backend node's nodePort -> kube-proxy's DNAT
        assert [h["at"] for h in t.hops[:2]] == ["outside", "cloud"]
        node_addr, port = t.hops[1]["what"].rsplit(" ", 1)[1].split(":")
        assert int(port) == node_port and t.hops[2]["at"] == WORKERS[node_addr]
        entered.add(WORKERS[node_addr])
        dnat = next(h for h in t.hops if "DNATs" in h["what"])
        assert dnat["at"] == WORKERS[node_addr] and "KUBE-SEP-" in dnat["rule"]
        # externalTrafficPolicy Cluster: masqueraded, so a node without the pod can forward it
        # (and the reply comes back through it).
        assert t.snat is not None and t.snat != CLIENT
        assert t.hops[-1] == {"at": "cloud", "what": f"the load balancer answers {CLIENT} from {ip}:80", "rule": None}
        if WORKERS[node_addr] != "worker-3":
            assert any("VXLAN" in h["what"] for h in t.hops)
    assert entered == set(WORKERS.values())   # every healthy backend node takes connections
    # No forwarding rule for the port: nothing answers; the same for an address nobody has.
    assert _outside(c, ip, 81).verdict == "timeout" and _outside(c, ip, 81).hops[-1]["at"] == "cloud"
    assert _outside(c, "203.0.113.200").verdict == "timeout"
    # A UDP connection to a TCP-only load balancer has no forwarding rule either.
    assert _outside(c, ip, proto="udp").verdict == "timeout"


def test_the_load_balancer_firewall_drops_what_the_source_ranges_leave_out(cluster):
    c = cluster
    ok(create(c, lb_service(loadBalancerSourceRanges=["198.51.100.0/24"])), 201)
    run_pod(c, "web-a", "worker-1")
    ip = assigned(c)
    advance_until(c, lambda: all(b["healthy"] for b in backends(c).values()), 20)
    advance_until(c, lambda: _outside(c, ip).verdict == "delivered", 10)
    t = _outside(c, ip, src="192.0.2.1")
    assert t.verdict == "dropped" and t.hops[-1]["at"] == "cloud" and "loadBalancerSourceRanges" in t.hops[-1]["what"]


def test_external_traffic_policy_local_keeps_the_client_ip_and_only_reaches_nodes_with_an_endpoint(cluster):
    c = cluster
    spec = ok(create(c, lb_service(externalTrafficPolicy="Local")), 201)["spec"]
    node_port = spec["ports"][0]["nodePort"]
    run_pod(c, "web-a", "worker-2")
    ip = assigned(c)
    # The cloud's health checks of healthCheckNodePort find the one node with a ready endpoint.
    advance_until(c, lambda: all(b["checked"] for b in backends(c).values())
                  and [n for n, b in backends(c).items() if b["healthy"]] == ["worker-2"], 30)
    pod_ip = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "web-a"}))["status"]["podIP"]
    for _ in range(30):
        t = _outside(c, ip)
        assert t.verdict == "delivered" and t.endpoint == f"{pod_ip}:80"
        assert t.hops[2]["at"] == "worker-2"    # only the healthy backend
        # No SNAT: the pod sees the client's own address; no cross-node hop.
        assert t.snat is None and not any("MASQUERADE" in h["what"] or "VXLAN" in h["what"] for h in t.hops)
    # Straight at another node's nodePort: that node has no local endpoint and drops it, as
    # kube-proxy's "has no local endpoints" rule says (it does not forward to worker-2).
    t = _outside(c, node_ip(1), node_port)
    assert t.verdict == "dropped" and t.hops[-1]["at"] == "worker-1"
    assert "has no local endpoints" in (t.hops[-1]["rule"] or "")
    t = _outside(c, node_ip(2), node_port)
    assert t.verdict == "delivered" and t.snat is None
    # A second endpoint on worker-1: its health check passes, and the cloud sends there too.
    run_pod(c, "web-b", "worker-1")
    advance_until(c, lambda: backends(c)["worker-1"]["healthy"], 30)
    entered = {_outside(c, ip).hops[2]["at"] for _ in range(40)}
    assert entered == {"worker-1", "worker-2"}


# -- endpoints leaving rotation: the propagation delays -----------------------------------------
PERIOD, FAILURE_THRESHOLD = 2, 3
REQUESTS_PER_STEP = 5      # requests from the client every 0.1 s of virtual time


def _probed_nginx(c, name, probe, **service_spec):
    """A 3-replica nginx Deployment `name` with the readiness probe, behind a Service of its
    name (`service_spec` added to its spec), once its three pods are Ready."""
    labels = {"app": name}
    ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default", "body": {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 3, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [{**NGINX, "readinessProbe": probe}]}}}}}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": labels, "ports": [{"port": 80}], **service_spec}}}))
    advance_until(c, lambda: sum(map(_ready, _pods(c, name))) == 3, 60)


def _probed_web(c):
    """A 3-replica nginx Deployment with an HTTP readiness probe (period 2 s, failureThreshold
    3) behind a ClusterIP Service, and a client pod on worker-1."""
    _probed_nginx(c, "web", {"httpGet": {"path": "/", "port": 80}, "periodSeconds": PERIOD,
                             "failureThreshold": FAILURE_THRESHOLD})
    (client,) = _start(c, _pod("client", "worker-1"))
    advance_until(c, lambda: all(_in_rules(c, "worker-1", p["status"]["podIP"]) for p in _pods(c)), 10)
    return _svc(c), client


def _watch_until_out_of_rotation(c, client, svc, victim_ip, victim_pod, limit):
    """Every 0.5 ms, then every 0.1 s: when the pod, its EndpointSlice endpoint and the client node's kube-proxy
    rules let the endpoint go, and the verdicts of the requests to it (or failed) until then."""
    start, seen, verdicts = c.now, {}, {}
    while "rules" not in seen:
        assert c.now - start < limit, seen
        # Fine steps at first: here the kubelet hears of a container's exit at once (as the
        # Evented PLEG would; the generic PLEG's 1 s relist is not modelled), so the window
        # between the death and kube-proxy dropping the endpoint can be a few milliseconds.
        fine = c.now - start < 0.05
        c.advance(0.0005 if fine else 0.1)
        if not _in_rules(c, "worker-1", victim_ip):
            seen["rules"] = c.now - start
        else:
            # A killed container's window is a few milliseconds, one or two of the reads below:
            # enough requests then that one reaching it does not hang on the random spread's luck.
            for _ in range(REQUESTS_PER_STEP * 4 if fine else REQUESTS_PER_STEP):
                t = trace(c, {"src": client["status"]["podIP"], "src_node": "worker-1",
                              "dst": svc["spec"]["clusterIP"], "dport": 80})
                if t.endpoint is not None and t.endpoint.startswith(f"{victim_ip}:") or t.verdict != "delivered":
                    verdicts[t.verdict] = verdicts.get(t.verdict, 0) + 1
                    seen["last_hop"] = t.hops[-1]
        # (read after the requests: an API read lets the cluster's clock move on)
        pod = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": victim_pod}))
        if "pod" not in seen and not _ready(pod):
            seen["pod"] = c.now - start
        if "slice" not in seen and _slice_ready(c, victim_ip) is False:
            seen["slice"] = c.now - start
    return seen, verdicts


def test_a_failing_readiness_probe_leaves_rotation_within_upstreams_propagation_delays(cluster):
    """The probe fails failureThreshold times in a row (prober/worker.go) before the kubelet
    marks the pod not Ready; the EndpointSlice controller (--endpoint-updates-batch-period 0)
    writes ready: false at once; kube-proxy applies it within --iptables-min-sync-period (1 s,
    BoundedFrequencyRunner).  Until then the failing endpoint keeps its share of the requests,
    and they reach it: a readiness probe tells the Service, it does not stop the application."""
    c = cluster
    svc, client = _probed_web(c)
    victim = next(p for p in _pods(c) if p["spec"]["nodeName"] != "worker-1")
    victim_ip = victim["status"]["podIP"]
    c.inject_fault("default", victim["metadata"]["name"], {"fault": "unready"})
    seen, verdicts = _watch_until_out_of_rotation(c, client, svc, victim_ip, victim["metadata"]["name"], 30)
    # failureThreshold failures, the first within one period of the fault: between
    # (failureThreshold - 1) and failureThreshold periods.
    assert (FAILURE_THRESHOLD - 1) * PERIOD <= seen["pod"] <= FAILURE_THRESHOLD * PERIOD + 0.2, seen
    assert seen["slice"] - seen["pod"] <= 0.2, seen     # the controller's informer, then one write
    min_sync = c.kube_proxy("worker-1").min_sync_period
    assert min_sync == 1.0 and seen["rules"] - seen["slice"] <= min_sync + 0.2, seen
    # In between, about a third of the requests went to the failing pod, and it answered them.
    assert set(verdicts) == {"delivered"} and verdicts["delivered"] >= 5, verdicts
    # After: the two others take every request.
    for _ in range(30):
        t = trace(c, {"src": client["status"]["podIP"], "src_node": "worker-1", "dst": svc["spec"]["clusterIP"],
                      "dport": 80})
        assert t.verdict == "delivered" and not t.endpoint.startswith(f"{victim_ip}:")
    # The Endpoints mirror, the legacy API, lists it not ready too.
    ep = ok(c.request({"verb": "get", "resource": "endpoints", "namespace": "default", "name": "web"}))
    assert victim_ip in [a["ip"] for ss in ep["subsets"] for a in ss.get("notReadyAddresses") or []]


def test_a_killed_container_refuses_connections_until_kube_proxy_catches_up(cluster):
    """The process dies (SIGKILL, exit 137): nothing listens on the pod's port, so connections
    kube-proxy still sends there are refused (the RST) until the kubelet sees the exit, marks the
    pod not Ready, and the EndpointSlice and kube-proxy follow (here milliseconds: the kubelet
    hears of the exit at once, where the generic PLEG's relist would take up to 1 s)."""
    c = cluster
    svc, pods = _web(c)
    (client,) = _start(c, _pod("client", "worker-1"))
    advance_until(c, lambda: all(_in_rules(c, "worker-1", p["status"]["podIP"]) for p in pods), 10)
    victim = next(p for p in pods if p["spec"]["nodeName"] != "worker-1")
    victim_ip = victim["status"]["podIP"]
    c.inject_fault("default", victim["metadata"]["name"], {"fault": "crash", "exitCode": 137})
    seen, verdicts = _watch_until_out_of_rotation(c, client, svc, victim_ip, victim["metadata"]["name"], 10)
    assert seen["rules"] <= 1.0 + 0.2 + 1.0, seen    # relist + the writes + min sync period
    assert verdicts.get("refused", 0) >= 1 and set(verdicts) <= {"delivered", "refused"}, verdicts
    assert "connection refused" in seen["last_hop"]["what"]


def test_a_dead_nodes_endpoints_lose_packets_until_the_node_lifecycle_controller_marks_them(cluster):
    """A node powered off: its pods' endpoints stay ready until the node lifecycle controller,
    node-monitor-grace-period after the node's last Lease renewal, marks its pods not Ready
    (checking every node-monitor-period); packets kube-proxy sends there meanwhile are lost on
    the way to the dead node (the overlay route still leads to it)."""
    c = cluster
    svc, pods = _web(c)
    (client,) = _start(c, _pod("client", "worker-1"))
    advance_until(c, lambda: all(_in_rules(c, "worker-1", p["status"]["podIP"]) for p in pods), 10)
    victim = next(p for p in pods if p["spec"]["nodeName"] != "worker-1")
    victim_ip, dead = victim["status"]["podIP"], victim["spec"]["nodeName"]
    c.kill_node(dead)
    seen, verdicts = _watch_until_out_of_rotation(c, client, svc, victim_ip, victim["metadata"]["name"], 120)
    grace, period = c.config.node_monitor_grace_period, c.config.node_monitor_period
    lease_renew = 10.0      # the kubelet renews its Lease every nodeLeaseDurationSeconds / 4
    assert grace - lease_renew <= seen["pod"] <= grace + period + 0.5, seen
    assert seen["rules"] - seen["pod"] <= 1.0 + 0.3, seen
    assert verdicts.get("dropped", 0) >= 10 and set(verdicts) == {"dropped"}, verdicts
    assert seen["last_hop"] == {"at": "worker-1", "what": f"node {dead} is down: the packet is lost", "rule": None}


# -- DNS: a headless Service -------------------------------------------------------------------------
def test_headless_dns_answers_every_ready_pod_and_only_those(cluster):
    c = cluster
    _probed_nginx(c, "db", {"exec": {"command": ["true"]}, "periodSeconds": 1, "failureThreshold": 1},
                  clusterIP="None")
    name = "db.default.svc.cluster.local"

    def a_records():
        return sorted(r["data"] for r in coredns.answer(c, name, "A")["answer"] if r["type"] == "A")
    advance_until(c, lambda: len(a_records()) == 3, 15)
    pods = sorted(_pods(c, "db"), key=lambda p: p["metadata"]["name"])
    assert a_records() == sorted(p["status"]["podIP"] for p in pods)
    assert _svc(c, "db")["spec"]["clusterIP"] == "None"
    # One goes unready: the answer drops it (no ClusterIP, no kube-proxy: DNS is the balancing).
    c.inject_fault("default", pods[0]["metadata"]["name"], {"fault": "unready"})
    advance_until(c, lambda: len(a_records()) == 2, 15)
    assert a_records() == sorted(p["status"]["podIP"] for p in pods[1:])
    # Ready again: back in the answer.
    c.inject_fault("default", pods[0]["metadata"]["name"], {"fault": "recover"})
    advance_until(c, lambda: len(a_records()) == 3, 15)
