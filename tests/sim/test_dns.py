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


def _web(c, port=None):
    labels = {"app": "web"}
    ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default", "body": {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": labels, "ports": [port or {"port": 80}]}}}))


def _create(c, body, resource="services", group=""):
    return ok(c.request({"verb": "create", "group": group, "resource": resource, "namespace": "default", "body": body}))


def _running(c, name):
    pod = c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": name})
    return pod["code"] == 200 and pod["body"]["status"].get("phase") == "Running"


def _ready_ips(c, prefix):
    pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]
    return sorted(p["status"]["podIP"] for p in pods if p["metadata"]["name"].startswith(prefix)
                  and any(x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions") or []))


HEAD = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"


def test_busybox_nslookup_prints_what_busybox_prints(cluster):
    """busybox 1.36's nslookup: A and AAAA under every search domain for a dotless name (an
    IPv4-only Service's AAAA is an empty NODATA reply: a blank line), a dotted name only as given
    (so `kubernetes.default` is NXDOMAIN), PTR for an address, the forwarded answers
    non-authoritative, exit 1 when any reply was an error."""
    c = cluster
    _web(c, {"name": "http", "port": 80, "targetPort": 80})
    _create(c, _pod("client"), "pods")
    advance_until(c, lambda: _running(c, "client") and len(_ready_coredns(c)) == 2 and len(_ready_ips(c, "web-")) == 2, 60)
    c.advance(3)   # the EndpointSlices and every kube-proxy catch up
    ip = ok(c.request({"verb": "get", "resource": "services", "namespace": "default", "name": "web"}))["spec"]["clusterIP"]
    nx = "** server can't find {}: NXDOMAIN\n\n"
    web_nx = nx.format("web.svc.cluster.local") + nx.format("web.cluster.local")
    assert _exec_in(c, "client", ["nslookup", "web"]) == (1, HEAD + f"Name:\tweb.default.svc.cluster.local\nAddress: {ip}\n\n"
                                                          + web_nx + "\n" + web_nx)
    assert _exec_in(c, "client", ["nslookup", "web.default.svc.cluster.local"]) == (
        0, HEAD + f"Name:\tweb.default.svc.cluster.local\nAddress: {ip}\n\n\n")
    assert _exec_in(c, "client", ["nslookup", "kubernetes.default"]) == (1, HEAD + nx.format("kubernetes.default") * 2)
    assert _exec_in(c, "client", ["nslookup", "nosuch"]) == (1, HEAD + "".join(
        nx.format(f"nosuch.{d}") for d in ("default.svc.cluster.local", "svc.cluster.local", "cluster.local")) * 2)
    # With a server given, busybox reads no resolv.conf: no search domains.
    assert _exec_in(c, "client", ["nslookup", "web", "10.96.0.10"]) == (1, HEAD + nx.format("web") * 2)
    # SRV for the named port; a dotted name is not searched, so the short form is NXDOMAIN.
    assert _exec_in(c, "client", ["nslookup", "-type=srv", "_http._tcp.web.default.svc.cluster.local"]) == (
        0, HEAD + "_http._tcp.web.default.svc.cluster.local\tservice = 0 100 80 web.default.svc.cluster.local\n\n")
    assert _exec_in(c, "client", ["nslookup", "-type=srv", "_http._tcp.web"]) == (1, HEAD + nx.format("_http._tcp.web"))
    assert _exec_in(c, "client", ["nslookup", "-type=srv", "_nosuch._tcp.web.default.svc.cluster.local"])[0] == 1
    # An address: its PTR, the ClusterIP's Service name.
    assert _exec_in(c, "client", ["nslookup", "10.96.0.10"]) == (
        0, HEAD + "10.0.96.10.in-addr.arpa\tname = kube-dns.kube-system.svc.cluster.local\n\n")
    # Outside the cluster domain: forwarded to the node's resolver, whose answers are not authoritative.
    assert _exec_in(c, "client", ["nslookup", "example.com"]) == (0, HEAD + (
        "Non-authoritative answer:\nName:\texample.com\nAddress: 192.0.2.10\n\n"
        "Non-authoritative answer:\nName:\texample.com\nAddress: 2001:db8::10\n\n"))
    assert _exec_in(c, "client", ["nslookup", "-type=aaaa", "github.com"]) == (0, HEAD + "Non-authoritative answer:\n\n")
    assert _exec_in(c, "client", ["nslookup", "nosuch.example"]) == (1, HEAD + nx.format("nosuch.example") * 2)
    assert _exec_in(c, "client", ["nslookup", "-type=bogus", "web"])[0] == 1
    # No ready CoreDNS: kube-proxy has no endpoint for 10.96.0.10:53; busybox gives up after 5 s.
    ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "kube-system",
                  "name": "coredns", "patchType": "merge", "body": {"spec": {"replicas": 0}}}))
    advance_until(c, lambda: not _ready_coredns(c), 60)
    c.advance(3)
    assert _exec_in(c, "client", ["nslookup", "web"]) == (1, ";; connection timed out; no servers could be reached\n\n")
    assert _exec_in(c, "client", ["wget", "-qO-", "http://web"])[0] == 1


def _answer(c, name, qtype="A"):
    from sim import coredns
    r = coredns.answer(c, name, qtype)
    return r["rcode"], sorted((x["type"], str(x["data"])) for x in r["answer"])


def test_coredns_answers_each_record_type_as_the_kubernetes_plugin_does(cluster):
    c = cluster
    labels = {"app": "nginx"}
    # The StatefulSet documentation's example: headless `nginx` with the named port `web`.
    _create(c, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx"},
                "spec": {"clusterIP": "None", "selector": labels, "ports": [{"name": "web", "port": 80}]}})
    _create(c, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
                "spec": {"serviceName": "nginx", "replicas": 2, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels},
                                      "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}},
            "statefulsets", "apps")
    # publishNotReadyAddresses: a pod that never gets ready is still published.
    _create(c, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "peers"},
                "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": {"app": "slow"}}})
    _create(c, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "slow", "labels": {"app": "slow"}},
                "spec": {"containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                         "readinessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1}}]}},
            "pods")
    _create(c, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "docs"},
                "spec": {"type": "ExternalName", "externalName": "www.example.com"}})
    # An IPv6 endpoint (a selectorless headless Service and its own EndpointSlice).
    _create(c, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "v6"}, "spec": {"clusterIP": "None"}})
    _create(c, {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": "v6-1", "labels": {"kubernetes.io/service-name": "v6"}},
                "addressType": "IPv6", "endpoints": [{"addresses": ["fd00::5"]}], "ports": []},
            "endpointslices", "discovery.k8s.io")
    advance_until(c, lambda: len(_ready_ips(c, "web-")) == 2 and _running(c, "slow"), 90)
    c.advance(3)
    pods = {p["metadata"]["name"]: p for p in ok(c.request({"verb": "list", "resource": "pods", "namespace": "default"}))["items"]}
    web0, web1, slow = (pods[n]["status"]["podIP"] for n in ("web-0", "web-1", "slow"))
    d = "default.svc.cluster.local"
    # Headless: every ready endpoint; a StatefulSet pod by <hostname>.<subdomain>.
    assert _answer(c, f"nginx.{d}") == ("NOERROR", sorted([("A", web0), ("A", web1)]))
    assert _answer(c, f"web-0.nginx.{d}") == ("NOERROR", [("A", web0)])
    assert _answer(c, f"web-9.nginx.{d}") == ("NXDOMAIN", [])
    # An IPv4-only name asked for AAAA: NOERROR, no answer (NODATA), not NXDOMAIN.
    assert _answer(c, f"web-0.nginx.{d}", "AAAA") == ("NOERROR", [])
    # SRV: one per endpoint, weight 100 / 2, the target its endpoint name.
    assert _answer(c, f"_web._tcp.nginx.{d}", "SRV") == ("NOERROR", sorted(
        ("SRV", str({"priority": 0, "weight": 50, "port": 80, "target": f"{h}.nginx.{d}"})) for h in ("web-0", "web-1")))
    assert _answer(c, f"_web._udp.nginx.{d}", "SRV") == ("NXDOMAIN", [])
    assert _answer(c, f"peers.{d}") == ("NOERROR", [("A", slow)])
    # ExternalName: a CNAME, chased through the forward plugin's upstream.
    assert _answer(c, f"docs.{d}") == ("NOERROR", sorted([("CNAME", "www.example.com"), ("CNAME", "example.com"),
                                                          ("A", "192.0.2.10")]))
    assert _answer(c, f"docs.{d}", "SRV") == ("NOERROR", [])
    assert _answer(c, f"v6.{d}", "AAAA") == ("NOERROR", [("AAAA", "fd00::5")])
    assert _answer(c, f"v6.{d}", "A") == ("NOERROR", [])
    # pods insecure: <a-b-c-d>.<ns>.pod.<domain>, for an existing namespace.
    dashed = web0.replace(".", "-")
    assert _answer(c, f"{dashed}.default.pod.cluster.local") == ("NOERROR", [("A", web0)])
    assert _answer(c, f"{dashed}.nosuch.pod.cluster.local") == ("NXDOMAIN", [])
    assert _answer(c, "not-an-ip.default.pod.cluster.local") == ("NXDOMAIN", [])
    # NXDOMAIN and NODATA as parseRequest and namespaceExposed decide.
    assert _answer(c, "default.svc.cluster.local") == ("NOERROR", [])
    assert _answer(c, "nosuch.svc.cluster.local") == ("NXDOMAIN", [])
    assert _answer(c, "web.cluster.local") == ("NXDOMAIN", [])
    assert _answer(c, "a.b.c.nginx.default.svc.cluster.local") == ("NXDOMAIN", [])
    # Reverse: an endpoint's address gives its endpoint name; an unknown one falls through.
    rev = ".".join(reversed(web0.split("."))) + ".in-addr.arpa"
    assert _answer(c, rev, "PTR") == ("NOERROR", [("PTR", f"web-0.nginx.{d}")])
    assert _answer(c, "9.9.9.10.in-addr.arpa", "PTR") == ("NXDOMAIN", [])
    # The kubernetes plugin's answers carry the Corefile's `ttl 30` and are authoritative.
    from sim import coredns
    r = coredns.answer(c, f"web-0.nginx.{d}", "A")
    assert r["aa"] is True and r["answer"][0]["ttl"] == 30
    # The pod's /etc/hosts names its FQDN, as the kubelet writes it for a pod with a subdomain.
    from tests.sim.test_containers import _exec
    hosts = _exec(c, "web-0", "nginx", ["cat", "/etc/hosts"])[1]
    assert f"{web0}\tweb-0.nginx.default.svc.cluster.local\tweb-0\n" in hosts
    # From a pod: busybox's view of the same records.
    _create(c, _pod("client"), "pods")
    advance_until(c, lambda: _running(c, "client"), 60)
    assert _exec_in(c, "client", ["nslookup", f"web-0.nginx.{d}"]) == (
        0, HEAD + f"Name:\tweb-0.nginx.{d}\nAddress: {web0}\n\n\n")
    code, out = _exec_in(c, "client", ["nslookup", "-type=srv", f"_web._tcp.nginx.{d}"])
    assert code == 0 and sorted(re.findall(r"service = (.*)\n", out)) == [f"0 50 80 web-{i}.nginx.{d}" for i in (0, 1)]
    assert _exec_in(c, "client", ["nslookup", f"docs.{d}"])[1] == HEAD + (
        f"docs.{d}\tcanonical name = www.example.com\nwww.example.com\tcanonical name = example.com\n"
        "Name:\texample.com\nAddress: 192.0.2.10\n\n"
        f"docs.{d}\tcanonical name = www.example.com\nwww.example.com\tcanonical name = example.com\n"
        "Name:\texample.com\nAddress: 2001:db8::10\n\n")


def test_dns_policy_decides_who_answers(cluster):
    """Default: the node's resolver, which knows the Internet and not the cluster; ClusterFirst on
    the host network falls back to it; ClusterFirstWithHostNet keeps CoreDNS; None: dnsConfig only.
    More nameservers than 3 are cut, with a DNSConfigForming event."""
    c = cluster
    pods = {
        "host": _pod("host", dnsPolicy="Default"),
        "hostnet": _pod("hostnet", hostNetwork=True),
        "hostnet-cf": _pod("hostnet-cf", hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"),
        "none": _pod("none", dnsPolicy="None", dnsConfig={"nameservers": ["10.96.0.10"], "searches": ["default.svc.cluster.local"]}),
        "many": _pod("many", dnsConfig={"nameservers": ["192.0.2.1", "192.0.2.2", "192.0.2.3"]}),
    }
    for body in pods.values():
        _create(c, body, "pods")
    advance_until(c, lambda: all(_running(c, n) for n in pods) and len(_ready_coredns(c)) == 2, 60)
    c.advance(3)
    host_head = "Server:\t\t192.168.0.1\nAddress:\t192.168.0.1:53\n\n"
    assert _exec_in(c, "host", ["nslookup", "-type=a", "kubernetes.io"]) == (
        0, host_head + "Non-authoritative answer:\nName:\tkubernetes.io\nAddress: 198.51.100.10\n\n")
    assert _exec_in(c, "host", ["nslookup", "-type=a", "kubernetes.default.svc.cluster.local"]) == (
        1, host_head + "** server can't find kubernetes.default.svc.cluster.local: NXDOMAIN\n\n")
    assert _resolv(c, "hostnet") == (0, "nameserver 192.168.0.1\n")
    assert _resolv(c, "hostnet-cf")[1].startswith("search default.svc.cluster.local svc.cluster.local cluster.local\n"
                                                  "nameserver 10.96.0.10\n")
    assert _resolv(c, "none") == (0, "search default.svc.cluster.local\nnameserver 10.96.0.10\n")
    assert _exec_in(c, "none", ["nslookup", "-type=a", "kubernetes"]) == (
        0, HEAD + "Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n\n")
    # ClusterFirst's 10.96.0.10 plus three: the kubelet keeps the first three and says so.
    assert _resolv(c, "many")[1].count("nameserver ") == 3
    events = ok(c.request({"verb": "list", "resource": "events", "namespace": "default"}))["items"]
    assert [e["message"] for e in events if e["reason"] == "DNSConfigForming" and e["involvedObject"]["name"] == "many"] == [
        "Nameserver limits were exceeded, some nameservers have been omitted, "
        "the applied nameserver line is: 10.96.0.10 192.0.2.1 192.0.2.2"]


def test_the_kubelet_cuts_search_paths_to_upstream_limits():
    from sim.kubelet.dns import resolv_conf
    long = [f"d{i}.example.com" for i in range(40)]
    text = resolv_conf(_pod("p", dnsConfig={"searches": long[:30]}), ["10.96.0.10"])
    search = text.splitlines()[0].split()[1:]
    assert len(search) == 32 and search[:3] == ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert search[3:] == long[:29]


def test_pod_dns_fields_are_validated(cluster):
    c = cluster
    cases = [
        ({"dnsPolicy": "None"}, "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"),
        ({"dnsPolicy": "None", "dnsConfig": {}},
         "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None"),
        ({"dnsPolicy": "Sometimes"}, 'spec.dnsPolicy: Unsupported value: "Sometimes": supported values: '
                                     '"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"'),
        ({"dnsConfig": {"nameservers": ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"]}},
         'spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"}: '
         "must not have more than 3 nameservers"),
        ({"dnsConfig": {"nameservers": ["dns.example"]}},
         'spec.dnsConfig.nameservers[0]: Invalid value: "dns.example": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
        ({"dnsConfig": {"searches": ["Bad_Domain"]}}, 'spec.dnsConfig.searches[0]: Invalid value: "Bad_Domain"'),
        ({"dnsConfig": {"options": [{"value": "2"}]}}, "spec.dnsConfig.options[0]: Required value: must not be empty"),
        ({"hostname": "Web_0"}, 'spec.hostname: Invalid value: "Web_0"'),
    ]
    for spec, message in cases:
        resp = c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": _pod("bad", **spec)})
        assert resp["code"] == 422 and message in resp["body"]["message"], (spec, resp["body"]["message"])
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default",
                  "body": _pod("good", dnsConfig={"searches": ["example.com."], "options": [{"name": "edns0"}]})}))


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
