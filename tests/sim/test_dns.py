"""Cluster DNS as kubeadm installs it (sim/kubeadm_dns.py): the coredns Deployment of 2, its
Corefile ConfigMap and the kube-dns Service at the service range's 10th address."""
import re

from sim.cluster import Cluster, ClusterConfig
from sim.kubeadm_dns import COREFILE, dns_ip
from tests.sim.conftest import advance_until, ok


def _ready_coredns(c):
    pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "kube-system"}))["items"]
    return [p for p in pods if p["metadata"].get("labels", {}).get("k8s-app") == "kube-dns" and any(x["type"] == "Ready" and x["status"] == "True"
                                   for x in p["status"].get("conditions") or [])]


def test_kubeadm_installs_coredns_behind_kube_dns(cluster):
    c = cluster
    advance_until(c, lambda: len(_ready_coredns(c)) == 2, 60)
    deploy = ok(c.request({"verb": "get", "group": "apps", "resource": "deployments", "namespace": "kube-system",
                           "name": "coredns"}))
    assert deploy["metadata"]["labels"] == {"k8s-app": "kube-dns"}
    assert deploy["spec"]["replicas"] == 2
    spec = deploy["spec"]["template"]["spec"]
    assert spec["priorityClassName"] == "system-cluster-critical" and spec["dnsPolicy"] == "Default"
    (container,) = spec["containers"]
    assert container["image"] == "registry.k8s.io/coredns/coredns:v1.12.1"
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 8181, "scheme": "HTTP"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": 8080, "scheme": "HTTP"}
    cm = ok(c.request({"verb": "get", "resource": "configmaps", "namespace": "kube-system", "name": "coredns"}))
    assert cm["data"] == {"Corefile": COREFILE}
    svc = ok(c.request({"verb": "get", "resource": "services", "namespace": "kube-system", "name": "kube-dns"}))
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    assert svc["metadata"]["labels"] == {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                         "kubernetes.io/name": "CoreDNS"}
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    # kubeadm's preferred pod anti-affinity spreads the two replicas over two nodes.
    pods = _ready_coredns(c)
    assert len({p["spec"]["nodeName"] for p in pods}) == 2
    # Their EndpointSlice carries both pods, so kube-proxy routes 10.96.0.10:53 to them.
    slices = ok(c.request({"verb": "list", "group": "discovery.k8s.io", "resource": "endpointslices",
                           "namespace": "kube-system"}))
    ips = sorted(a for s in slices["items"] if s["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"
                 for e in s.get("endpoints") or [] for a in e["addresses"])
    assert ips == sorted(p["status"]["podIP"] for p in pods)
    advance_until(c, lambda: "kube-system/kube-dns:dns" in c.node_iptables("worker-1")["rules"], 10)


def test_dns_ip_follows_the_service_subnet():
    assert dns_ip("10.96.0.0/12") == "10.96.0.10"
    assert dns_ip("10.100.0.0/16") == "10.100.0.10"
    cfg = ClusterConfig.default(seed=5)
    cfg.service_subnet = "10.100.0.0/16"
    c = Cluster("t", cfg)
    c.advance(5)
    svc = ok(c.request({"verb": "get", "resource": "services", "namespace": "kube-system", "name": "kube-dns"}))
    assert svc["spec"]["clusterIP"] == "10.100.0.10"


def _pod(name, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}], **spec}}


def _resolv(c, name):
    from tests.sim.test_containers import _exec
    return _exec(c, name, "app", ["cat", "/etc/resolv.conf"])


def test_the_kubelet_writes_resolv_conf_by_dns_policy(cluster):
    c = cluster
    pods = {
        "first": _pod("first"),
        "host": _pod("host", dnsPolicy="Default"),
        "none": _pod("none", dnsPolicy="None", dnsConfig={
            "nameservers": ["192.0.2.1", "192.0.2.1"], "searches": ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}),
        "merged": _pod("merged", dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["example.com"],
                                            "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}),
    }
    for body in pods.values():
        ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}))

    def running():
        items = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
        return sum(p["status"].get("phase") == "Running" for p in items if p["metadata"]["name"] in pods) == len(pods)
    advance_until(c, running, 60)
    assert _resolv(c, "first") == (0, "search default.svc.cluster.local svc.cluster.local cluster.local\n"
                                      "nameserver 10.96.0.10\noptions ndots:5\n")
    assert _resolv(c, "host") == (0, "nameserver 192.168.0.1\n")
    # The documentation's dnsConfig example (dns-pod-service): exactly what it lists.
    assert _resolv(c, "none") == (0, "search ns1.svc.cluster-domain.example my.dns.search.suffix\n"
                                     "nameserver 192.0.2.1\noptions ndots:2 edns0\n")
    assert _resolv(c, "merged") == (0, "search default.svc.cluster.local svc.cluster.local cluster.local example.com\n"
                                       "nameserver 10.96.0.10\nnameserver 1.1.1.1\noptions ndots:2 edns0\n")


def _exec_in(c, name, argv):
    """A command exec'd in the pod's container (kubectl exec): its context carries the pod's
    network, so its lookups go to the nameserver of its resolv.conf."""
    from sim.runtime import programs
    from sim.runtime.process import run_to_exit
    pod = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": name}))
    runtime, kubelet = c.node_components[pod["spec"]["nodeName"]][:2]
    rec = kubelet.workers[pod["metadata"]["uid"]]["containers"]["app"]
    cont = runtime.container(rec.container_id)
    ctx = runtime.exec_context(cont, argv)
    code, out, _ = run_to_exit(programs.program_for(argv, cont.image.config.binaries).run(ctx))
    return code, out


def _web(c):
    labels = {"app": "web"}
    ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default", "body": {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": labels, "ports": [{"port": 80}]}}}))


def _running(c, name):
    pod = c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": name})
    return pod["code"] == 200 and pod["body"]["status"].get("phase") == "Running"


def test_nslookup_asks_coredns_through_kube_proxy(cluster):
    c = cluster
    _web(c)
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-headless"},
        "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 80}]}}}))
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": _pod("client")}))
    advance_until(c, lambda: _running(c, "client") and len(_ready_coredns(c)) == 2, 60)
    svc = ok(c.request({"verb": "get", "resource": "services", "namespace": "default", "name": "web"}))

    def web_ready():
        pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
        return sorted(p["status"]["podIP"] for p in pods if p["metadata"]["name"].startswith("web-")
                      and any(x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions") or []))
    advance_until(c, lambda: len(web_ready()) == 2, 60)
    c.advance(3)   # the EndpointSlices and every kube-proxy catch up
    code, out = _exec_in(c, "client", ["nslookup", "web"])
    assert (code, out) == (0, "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
                              f"Name:\tweb.default.svc.cluster.local\nAddress: {svc['spec']['clusterIP']}\n\n")
    code, out = _exec_in(c, "client", ["nslookup", "kubernetes.default"])
    assert code == 0 and "Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n" in out
    # Headless: every ready endpoint's address.
    code, out = _exec_in(c, "client", ["nslookup", "web-headless"])
    assert code == 0 and sorted(re.findall(r"Address: (\S+)", out)) == web_ready()
    code, out = _exec_in(c, "client", ["nslookup", "nosuch"])
    assert (code, out) == (1, "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find nosuch: NXDOMAIN\n\n")
    # wget resolves the same way (and says so when it cannot).
    code, _ = _exec_in(c, "client", ["wget", "-qO-", "http://nosuch"])
    assert code == 1
    # No ready CoreDNS: kube-proxy has no endpoint for 10.96.0.10:53 and the query times out.
    ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "kube-system",
                  "name": "coredns", "patchType": "merge", "body": {"spec": {"replicas": 0}}}))
    advance_until(c, lambda: _exec_in(c, "client", ["nslookup", "web"])[0] == 1, 60)
    assert _exec_in(c, "client", ["nslookup", "web"]) == (1, ";; connection timed out; no servers could be reached\n\n")


def test_wget_reaches_the_service_and_kube_proxy_spreads_the_requests(cluster):
    c = cluster
    _web(c)
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": _pod("client")}))

    def web_ready():
        pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
        return [p for p in pods if p["metadata"]["name"].startswith("web-") and any(
            x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions") or [])]
    advance_until(c, lambda: _running(c, "client") and len(web_ready()) == 2 and len(_ready_coredns(c)) == 2, 60)
    c.advance(3)
    code, out = _exec_in(c, "client", ["wget", "-qO-", "http://web"])
    assert code == 0 and "<title>Welcome to nginx!</title>" in out
    # Each connection goes where the source node's KUBE-SVC rule's probability sends it.
    proxy = c.kube_proxy(ok(c.request({"verb": "get", "resource": "pods", "namespace": "default",
                                       "name": "client"}))["spec"]["nodeName"])
    svc = ok(c.request({"verb": "get", "resource": "services", "namespace": "default", "name": "web"}))
    picked = {proxy.route({"src": "10.244.9.9", "dst": svc["spec"]["clusterIP"], "dport": 80})["endpoint"]
              for _ in range(40)}
    assert picked == {f"{p['status']['podIP']}:80" for p in web_ready()}
    # A Service without endpoints: kube-proxy REJECTs, wget reports the refusal.
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty"},
        "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}}}))
    c.advance(3)
    code, _ = _exec_in(c, "client", ["wget", "-qO-", "http://empty"])
    assert code == 1
