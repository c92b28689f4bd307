"""The EndpointSlice and Endpoints controllers (pkg/controller/endpointslice,
pkg/controller/endpoint) in virtual time: a Deployment behind a Service, its endpoints following
readiness, termination, deletion and node death; named target ports; slices of at most 100
endpoints; headless Services; Services without a selector left alone."""
from __future__ import annotations

from sim.api.podutil import is_pod_ready
from sim.controllers.endpointslice import EndpointSliceController
from sim.registry.discovery.endpointslices import endpoint_slice_row, validate as validate_slice
from tests.sim.conftest import advance_until, ok

NS = "default"
GROUP = "discovery.k8s.io"


def deployment(name="web", replicas=3, port=80, probe=True, command=None, image="busybox:1.36"):
    container = {"name": "app", "image": image, "command": command or ["sleep", "3600"],
                 "ports": [{"name": "http", "containerPort": port}],
                 "resources": {"requests": {"cpu": "10m"}}}
    if probe:
        container["readinessProbe"] = {"exec": {"command": ["true"]}, "periodSeconds": 1, "failureThreshold": 1}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}


def create(c, body, resource, group=""):
    return ok(c.request({"verb": "create", "group": group, "resource": resource, "namespace": NS, "body": body}))


def service(name="web", selector=None, ports=None, **spec):
    spec = {"ports": [{"port": 80, "targetPort": "http"}] if ports is None else ports, **spec}
    if selector is not False:
        spec["selector"] = selector or {"app": name}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def slices(c, svc="web"):
    body = ok(c.request({"verb": "list", "group": GROUP, "resource": "endpointslices", "namespace": NS,
                         "query": {"labelSelector": f"kubernetes.io/service-name={svc}"}}))
    return sorted(body["items"], key=lambda s: s["metadata"]["name"])


def endpoints_obj(c, svc="web"):
    resp = c.request({"verb": "get", "resource": "endpoints", "namespace": NS, "name": svc})
    return resp["body"] if resp["code"] == 200 else None


def pods(c, app="web"):
    body = ok(c.request({"verb": "list", "resource": "pods", "namespace": NS, "query": {"labelSelector": f"app={app}"}}))
    return body["items"]


def all_endpoints(c, svc="web"):
    """{pod name: endpoint} over every slice of the Service."""
    return {ep["targetRef"]["name"]: ep for s in slices(c, svc) for ep in s.get("endpoints") or []}


def ready_names(c, svc="web"):
    return sorted(n for n, ep in all_endpoints(c, svc).items() if ep["conditions"]["ready"])


def web(c, replicas=3, **kw):
    create(c, deployment(replicas=replicas, **kw), "deployments", "apps")
    create(c, service(), "services")
    advance_until(c, lambda: len(ready_names(c)) == replicas, 90)


def assert_trigger_time(md, svc):
    """endpoints.kubernetes.io/last-change-trigger-time: set by a write a change (a pod's Ready
    transition, the Service's creation) triggered, cleared by one nothing new triggered
    (reconciler.go addTriggerTimeAnnotation, the Endpoints controller's syncService) - which of
    the two came last depends on the run's timing; when set, it is not before the Service."""
    trigger = (md.get("annotations") or {}).get("endpoints.kubernetes.io/last-change-trigger-time")
    assert trigger is None or trigger >= svc["metadata"]["creationTimestamp"]


def test_slice_and_endpoints_follow_a_deployment(cluster):
    c = cluster
    web(c)
    [es] = slices(c)
    svc = ok(c.request({"verb": "get", "resource": "services", "namespace": NS, "name": "web"}))
    md = es["metadata"]
    assert md["name"].startswith("web-") and len(md["name"]) == len("web-") + 5   # generateName
    assert md["labels"] == {"kubernetes.io/service-name": "web",
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    assert md["ownerReferences"] == [{"apiVersion": "v1", "kind": "Service", "name": "web",
                                      "uid": svc["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    assert_trigger_time(md, svc)
    assert es["addressType"] == "IPv4"
    assert es["ports"] == [{"name": "", "protocol": "TCP", "port": 80}]
    live = {p["metadata"]["name"]: p for p in pods(c)}
    for name, ep in all_endpoints(c).items():
        pod = live[name]
        assert ep["addresses"] == [pod["status"]["podIP"]]
        assert ep["conditions"] == {"ready": True, "serving": True, "terminating": False}
        assert ep["nodeName"] == pod["spec"]["nodeName"]
        assert ep["targetRef"] == {"kind": "Pod", "namespace": NS, "name": name, "uid": pod["metadata"]["uid"]}
    assert validate_slice(es) == []
    ep = endpoints_obj(c)
    [subset] = ep["subsets"]
    assert sorted(a["ip"] for a in subset["addresses"]) == sorted(p["status"]["podIP"] for p in live.values())
    assert subset["ports"] == [{"port": 80, "protocol": "TCP"}]
    assert_trigger_time(ep["metadata"], svc)
    # A sync that changes nothing writes nothing.
    rv = (es["metadata"]["resourceVersion"], ep["metadata"]["resourceVersion"])
    c.advance(30)
    assert (slices(c)[0]["metadata"]["resourceVersion"], endpoints_obj(c)["metadata"]["resourceVersion"]) == rv
    # kubectl's columns
    row = endpoint_slice_row(slices(c)[0], c.now)
    assert row[1:3] == ["IPv4", "80"] and row[3].count(",") == 2


def test_a_failing_readiness_probe_takes_the_endpoint_out_of_rotation(cluster):
    c = cluster
    web(c)
    victim = sorted(ready_names(c))[0]
    c.inject_fault(NS, victim, {"fault": "unready"})
    advance_until(c, lambda: victim not in ready_names(c), 15)
    ep = all_endpoints(c)[victim]
    assert ep["conditions"] == {"ready": False, "serving": False, "terminating": False}
    subset_ips = {f: [a["targetRef"]["name"] for ss in endpoints_obj(c)["subsets"] for a in ss.get(f) or []]
                  for f in ("addresses", "notReadyAddresses")}
    assert victim in subset_ips["notReadyAddresses"] and victim not in subset_ips["addresses"]
    c.inject_fault(NS, victim, {"fault": "recover"})
    advance_until(c, lambda: victim in ready_names(c), 15)


def test_termination_then_deletion(cluster):
    c = cluster
    web(c)   # `sleep` as PID 1 ignores SIGTERM: the pods terminate for their 30 s grace period
    victim = sorted(ready_names(c))[0]
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": NS, "name": victim}))
    advance_until(c, lambda: all_endpoints(c).get(victim, {}).get("conditions", {}).get("terminating"), 10)
    ep = all_endpoints(c)[victim]
    pod = next((p for p in pods(c) if p["metadata"]["name"] == victim), None)
    assert ep["conditions"]["ready"] is False          # never ready while terminating
    assert ep["conditions"]["serving"] is is_pod_ready(pod)
    # The legacy Endpoints drop a terminating pod at once (publishNotReadyAddresses is false).
    names = [a["targetRef"]["name"] for ss in endpoints_obj(c)["subsets"]
             for f in ("addresses", "notReadyAddresses") for a in ss.get(f) or []]
    assert victim not in names
    # Gone from the slice once the pod is gone; the ReplicaSet's replacement joins.
    advance_until(c, lambda: victim not in all_endpoints(c) and len(ready_names(c)) == 3, 60)


def test_serving_while_terminating_with_publish_not_ready_addresses(cluster):
    c = cluster
    create(c, deployment(replicas=1), "deployments", "apps")
    create(c, service(publishNotReadyAddresses=True), "services")
    advance_until(c, lambda: len(ready_names(c)) == 1, 90)
    [victim] = ready_names(c)
    ok(c.request({"verb": "delete", "resource": "pods", "namespace": NS, "name": victim}))
    advance_until(c, lambda: all_endpoints(c).get(victim, {}).get("conditions", {}).get("terminating"), 10)
    # publishNotReadyAddresses: ready stays true; the Endpoints keep it as an address.
    assert all_endpoints(c)[victim]["conditions"]["ready"] is True
    assert victim in [a["targetRef"]["name"] for ss in endpoints_obj(c)["subsets"] for a in ss.get("addresses") or []]


def test_node_death_makes_its_endpoints_not_ready(cluster):
    c = cluster
    web(c)
    node = all_endpoints(c)[ready_names(c)[0]]["nodeName"]
    on_node = sorted(n for n, ep in all_endpoints(c).items() if ep["nodeName"] == node)
    c.kill_node(node)
    # The node lifecycle controller marks the node's pods not ready once the node is unreachable
    # (node-monitor-grace-period), and the endpoints follow.
    advance_until(c, lambda: not set(on_node) & set(ready_names(c)), 120)
    assert all(not all_endpoints(c)[n]["conditions"]["ready"] for n in on_node if n in all_endpoints(c))


def test_named_target_ports_resolve_per_pod(cluster):
    c = cluster
    a = deployment(name="a", replicas=1, port=8080)
    b = deployment(name="b", replicas=1, port=9090)
    for d in (a, b):
        d["spec"]["template"]["metadata"]["labels"]["tier"] = "api"
        create(c, d, "deployments", "apps")
    create(c, service(name="api", selector={"tier": "api"}), "services")
    advance_until(c, lambda: len(ready_names(c, "api")) == 2, 90)
    got = sorted((s["ports"][0]["port"], len(s["endpoints"])) for s in slices(c, "api"))
    assert got == [(8080, 1), (9090, 1)]   # one slice per port mapping
    ports = sorted(ss["ports"][0]["port"] for ss in endpoints_obj(c, "api")["subsets"])
    assert ports == [8080, 9090]


def test_more_than_100_endpoints_are_split_into_slices(cluster):
    c = cluster
    web(c, replicas=105, probe=False)
    sizes = sorted(len(s["endpoints"]) for s in slices(c))
    assert sizes == [5, 100]
    # Scaled down to 90: the endpoints leave the slices they were in (a slice left empty is
    # deleted), none is ever over 100.
    ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": NS, "name": "web",
                  "body": {"spec": {"replicas": 90}}, "patch_type": "application/merge-patch+json"}))
    advance_until(c, lambda: len(all_endpoints(c)) == 90, 120)
    assert all(0 < len(s["endpoints"]) <= 100 for s in slices(c))


def test_reconciler_packs_slices_like_upstream():
    """reconcileByPortMapping on its own: 250 new endpoints make 100 + 100 + 50; a later 20
    fit the fullest existing slice with room instead of a new one."""
    ctrl = EndpointSliceController.__new__(EndpointSliceController)
    svc = {"metadata": {"name": "web", "namespace": NS, "uid": "u"}, "spec": {"clusterIP": "10.96.0.10"}}
    ports = [{"name": "", "protocol": "TCP", "port": 80}]

    def eps(lo, hi):
        return {f"{NS}/p{i}": {"addresses": [f"10.0.{i // 250}.{i % 250 + 1}"], "conditions": {"ready": True},
                               "targetRef": {"kind": "Pod", "namespace": NS, "name": f"p{i}"}} for i in range(lo, hi)}

    creates, updates, deletes = ctrl._reconcile_port_mapping(svc, "IPv4", ports, eps(0, 250), [])
    assert sorted(len(s["endpoints"]) for s in creates) == [50, 100, 100] and not updates and not deletes
    existing = []
    for i, s in enumerate(creates):
        s = dict(s, metadata=dict(s["metadata"], name=f"web-{i}"))
        existing.append(s)
    creates, updates, deletes = ctrl._reconcile_port_mapping(svc, "IPv4", ports, eps(0, 270), existing)
    assert not creates and not deletes
    assert [len(s["endpoints"]) for s in updates] == [70]


def test_headless_service_and_selectorless_service(cluster):
    c = cluster
    create(c, deployment(replicas=2), "deployments", "apps")
    create(c, service(clusterIP="None"), "services")
    create(c, service(name="manual", selector=False), "services")
    advance_until(c, lambda: len(ready_names(c)) == 2, 90)
    [es] = slices(c)
    assert es["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
    assert endpoints_obj(c)["metadata"]["labels"] == {"service.kubernetes.io/headless": ""}
    # No selector: neither controller touches it (its endpoints are the user's to write).
    c.advance(10)
    assert slices(c, "manual") == [] and endpoints_obj(c, "manual") is None


def test_a_service_without_pods_gets_a_placeholder_slice(cluster):
    c = cluster
    create(c, service(name="empty"), "services")
    advance_until(c, lambda: len(slices(c, "empty")) == 1, 10)
    [es] = slices(c, "empty")
    assert es["endpoints"] == [] if "endpoints" in es else True
    assert not es.get("ports")
    assert endpoint_slice_row(es, c.now)[1:4] == ["IPv4", "<unset>", "<unset>"]
    assert endpoints_obj(c, "empty").get("subsets") in (None, [])


def kubernetes_ips(c):
    ep = endpoints_obj(c, "kubernetes")
    ips = [a["ip"] for ss in (ep or {}).get("subsets") or [] for a in ss.get("addresses") or []]
    es = ok(c.request({"verb": "get", "group": GROUP, "resource": "endpointslices", "namespace": NS,
                       "name": "kubernetes"})) if ep else {}
    assert [a for e in es.get("endpoints") or [] for a in e["addresses"]] == ips   # the two agree
    return ips


def test_the_kubernetes_service_endpoints_are_the_api_servers(cluster):
    c = cluster
    advance_until(c, lambda: kubernetes_ips(c), 15)
    ep = endpoints_obj(c, "kubernetes")
    assert ep["metadata"]["labels"] == {"endpointslice.kubernetes.io/skip-mirror": "true"}
    assert ep["subsets"] == [{"addresses": [{"ip": "192.168.0.10"}],
                              "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
    es = ok(c.request({"verb": "get", "group": GROUP, "resource": "endpointslices", "namespace": NS,
                       "name": "kubernetes"}))
    assert es["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
    assert es["endpoints"] == [{"addresses": ["192.168.0.10"], "conditions": {"ready": True}}]
    assert es["ports"] == [{"name": "https", "protocol": "TCP", "port": 6443}]


def test_a_dead_api_server_leaves_the_kubernetes_endpoints():
    from sim.cluster import Cluster, ClusterConfig, NodeSpec
    nodes = [NodeSpec(f"cp-{i}", "control-plane", "4", "16Gi") for i in (1, 2, 3)] + [NodeSpec("worker-1")]
    c = Cluster("ha", ClusterConfig(seed=31, nodes=nodes, etcd_members=3, etcd_topology="stacked"))
    c.advance(30)
    advance_until(c, lambda: len(kubernetes_ips(c)) == 3, 20)
    assert kubernetes_ips(c) == ["192.168.0.10", "192.168.0.11", "192.168.0.12"]
    c.kill_node("cp-3")
    # Its master lease (15 s) runs out, then the next reconcile (every 10 s) of a live one drops it.
    took = advance_until(c, lambda: kubernetes_ips(c) == ["192.168.0.10", "192.168.0.11"], 30)
    assert took >= 5


def test_validation_through_the_api(cluster):
    c = cluster
    bad = {"apiVersion": f"{GROUP}/v1", "kind": "EndpointSlice", "metadata": {"name": "bad", "namespace": NS},
           "addressType": "IPv4",
           "endpoints": [{"addresses": ["127.0.0.1"]}, {"addresses": []}],
           "ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81, "protocol": "ICMP"}]}
    resp = c.request({"verb": "create", "group": GROUP, "resource": "endpointslices", "namespace": NS, "body": bad})
    assert resp["code"] == 422, resp
    msg = resp["body"]["message"]
    for part in ('endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range',
                 "endpoints[1].addresses: Required value: must contain at least 1 address",
                 "ports[1].name: Duplicate value", 'ports[1].protocol: Unsupported value: "ICMP"'):
        assert part in msg, msg
    good = dict(bad, endpoints=[{"addresses": ["10.1.2.3"]}], ports=[{"port": 80}])
    es = ok(c.request({"verb": "create", "group": GROUP, "resource": "endpointslices", "namespace": NS, "body": good}))
    assert es["ports"] == [{"name": "", "protocol": "TCP", "port": 80}]   # SetDefaults_EndpointPort
    resp = c.request({"verb": "update", "group": GROUP, "resource": "endpointslices", "namespace": NS, "name": "bad",
                      "body": dict(es, addressType="IPv6", endpoints=[])})
    assert resp["code"] == 422 and "addressType: Invalid value" in resp["body"]["message"]
    ep = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "bad", "namespace": NS},
          "subsets": [{"ports": [{"port": 80}]}]}
    resp = c.request({"verb": "create", "resource": "endpoints", "namespace": NS, "body": ep})
    assert resp["code"] == 422 and "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`" \
        in resp["body"]["message"], resp


def test_deleting_the_namespace_takes_everything_with_it(cluster):
    c = cluster
    ok(c.request({"verb": "create", "resource": "namespaces", "body": {"apiVersion": "v1", "kind": "Namespace",
                                                                       "metadata": {"name": "shop"}}}))
    d, s = deployment(replicas=2), service()
    d["metadata"]["namespace"] = s["metadata"]["namespace"] = "shop"
    ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "shop", "body": d}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "shop", "body": s}))

    def listed(resource, group=""):
        return ok(c.request({"verb": "list", "group": group, "resource": resource, "namespace": "shop"}))["items"]

    advance_until(c, lambda: sum(len(es.get("endpoints") or []) for es in listed("endpointslices", GROUP)) == 2, 90)
    assert listed("endpoints")
    ok(c.request({"verb": "delete", "resource": "namespaces", "name": "shop"}))
    advance_until(c, lambda: c.request({"verb": "get", "resource": "namespaces", "name": "shop"})["code"] == 404, 120)


def test_a_slice_deleted_by_hand_is_put_back(cluster):
    c = cluster
    web(c, replicas=2)
    [es] = slices(c)
    ok(c.request({"verb": "delete", "group": GROUP, "resource": "endpointslices", "namespace": NS,
                  "name": es["metadata"]["name"]}))
    advance_until(c, lambda: len(ready_names(c)) == 2 and slices(c)[0]["metadata"]["name"] != es["metadata"]["name"], 10)
    assert len(slices(c)) == 1
