"""Ingress (networking.k8s.io/v1) and the ingress-nginx controller add-on (sim/ingressnginx.py):
routing by host and path on the Kubernetes documentation's examples, the status address, class
selection and the default IngressClass, and the API's validation."""
from pathlib import Path

import pytest
import yaml

from sim import clusterdns
from sim.cluster import Cluster, ClusterConfig
from sim.ingressnginx import Server, build_servers, select_location, select_server
from tests.sim.conftest import advance_until, ok

EXAMPLES = Path(__file__).parents[1] / "testdata" / "manifests" / "ingress"
NET = "networking.k8s.io"
CONTROLLER_DNS = "ingress-nginx-controller.ingress-nginx.svc.cluster.local"


def example(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())


def of_nginx(name: str) -> dict:
    """A documentation example with ingressClassName: nginx (the add-on's class)."""
    ing = example(name)
    ing["spec"]["ingressClassName"] = "nginx"
    return ing


def _ready(c, namespace, prefix=""):
    pods = ok(c.request({"verb": "list", "resource": "pods", "namespace": namespace}))["items"]
    return [p for p in pods if p["metadata"]["name"].startswith(prefix) and any(
        x["type"] == "Ready" and x["status"] == "True" for x in p["status"].get("conditions") or [])]


def _backend(c, name, target=8080, replicas=1):
    """A Deployment of hello-app (it answers with its pod's name) behind Service `name`, whose
    ports 80, 4200 and 8080 (the ones the documentation's examples name) all reach it."""
    labels = {"app": name}
    ok(c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default", "body": {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels}, "spec": {"containers": [{
                "name": "hello", "image": "gcr.io/google-samples/hello-app:1.0",
                "env": [{"name": "PORT", "value": str(target)}]}]}}}}}))
    ok(c.request({"verb": "create", "resource": "services", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": labels, "ports": [{"name": f"p{port}", "port": port, "targetPort": target}
                                               for port in (80, 4200, 8080)]}}}))


def _ingress(c, body, namespace="default"):
    return c.request({"verb": "create", "group": NET, "resource": "ingresses", "namespace": namespace, "body": body})


@pytest.fixture(scope="module")
def lab():
    """A cluster with the ingress-nginx add-on, a client pod, and service1..3 and test."""
    cfg = ClusterConfig.default(seed=11)
    cfg.addons = ["ingress-nginx"]
    c = Cluster("ing", cfg)
    c.advance(5)
    for name in ("service1", "service2", "service3", "test"):
        _backend(c, name)
    ok(c.request({"verb": "create", "resource": "pods", "namespace": "default", "body": {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}}}))
    advance_until(c, lambda: len(_ready(c, "ingress-nginx")) == 1 and len(_ready(c, "default")) == 5, 90)
    c.advance(3)
    return c


def _client(c):
    pod = ok(c.request({"verb": "get", "resource": "pods", "namespace": "default", "name": "client"}))
    return pod["spec"]["nodeName"], pod["status"]["podIP"]


def get(c, host, path, url_host=CONTROLLER_DNS):
    """A GET from the client pod to the controller's Service with this Host header."""
    node, ip = _client(c)
    resolv = "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
    return clusterdns.http_get(c, node, ip, resolv, f"http://{url_host}{path}", host=host)


def served_by(reply) -> str | None:
    """Which backend answered: hello-app's "Hostname: <pod>" names its Deployment."""
    if reply is None or reply[0] != 200:
        return None
    pod = reply[1].rsplit("Hostname: ", 1)[-1].strip()
    return pod.rsplit("-", 2)[0]


def _delete_all(c):
    for ing in ok(c.request({"verb": "list", "group": NET, "resource": "ingresses", "namespace": "default"}))["items"]:
        ok(c.request({"verb": "delete", "group": NET, "resource": "ingresses", "namespace": "default",
                      "name": ing["metadata"]["name"]}))
    # ... and the controller has synced without them: only the catch-all server, at its 404.
    advance_until(c, lambda: list(_controller(c).servers) == ["_"]
                  and _controller(c).servers["_"].locations[("/", False)].upstream is None, 15)


def _controller(c):
    from sim.ingressnginx import IngressNginxController
    (proc,) = [p for p in c.kernel.components.values() if isinstance(p, IngressNginxController) and p.running]
    return proc


def _until_routes(c, host, path, backend, limit=15):
    advance_until(c, lambda: served_by(get(c, host, path)) == backend, limit)


def test_simple_fanout_routes_by_path(lab):
    c = lab
    _delete_all(c)
    ok(_ingress(c, of_nginx("simple-fanout-example")))
    _until_routes(c, "foo.bar.com", "/foo", "service1")
    assert served_by(get(c, "foo.bar.com", "/foo/index.html")) == "service1"
    assert served_by(get(c, "foo.bar.com", "/bar")) == "service2"
    assert served_by(get(c, "foo.bar.com", "/bar/")) == "service2"
    # Prefix matches element by element: /foobar is not under /foo; nothing else: nginx's 404.
    status, body = get(c, "foo.bar.com", "/foobar")
    assert status == 404 and "<center><h1>404 Not Found</h1></center>" in body and "<center>nginx</center>" in body
    assert get(c, "other.com", "/foo")[0] == 404      # another host: the catch-all server
    # The request is logged as ingress-nginx logs it, naming the upstream and the endpoint.
    proc = _controller(c)
    runtime = c.node_components[proc.host][0]
    (cont,) = [x for x in runtime.containers.values() if x.process is proc]
    lines = [line for _, _, line in cont.log if "[default-service1-4200]" in line]
    assert lines and '"GET /foo HTTP/1.1" 200' in lines[0] and ":8080 " in lines[0]


def test_name_based_virtual_hosting_and_the_rule_without_a_host(lab):
    c = lab
    _delete_all(c)
    ok(_ingress(c, of_nginx("name-virtual-host-ingress-no-third-host")))
    _until_routes(c, "first.bar.com", "/", "service1")
    assert served_by(get(c, "second.bar.com", "/x")) == "service2"
    assert served_by(get(c, "third.bar.com", "/")) == "service3"        # no host rule: everything else
    assert served_by(get(c, "FIRST.bar.com:80", "/")) == "service1"     # Host is case-insensitive, port ignored
    # Without a Host header the URL's host is the Host: the catch-all rule again.
    assert served_by(get(c, None, "/")) == "service3"


def test_default_backend_exact_before_prefix_and_wildcard_hosts(lab):
    c = lab
    _delete_all(c)
    ok(_ingress(c, of_nginx("test-ingress")))
    ok(_ingress(c, of_nginx("ingress-wildcard-host")))
    ok(_ingress(c, {"apiVersion": f"{NET}/v1", "kind": "Ingress", "metadata": {"name": "paths"}, "spec": {
        "ingressClassName": "nginx", "rules": [{"host": "paths.example", "http": {"paths": [
            {"path": "/app", "pathType": "Prefix", "backend": {"service": {"name": "service1", "port": {"number": 4200}}}},
            {"path": "/app/v2", "pathType": "ImplementationSpecific",
             "backend": {"service": {"name": "service2", "port": {"number": 8080}}}},
            {"path": "/app", "pathType": "Exact", "backend": {"service": {"name": "service3", "port": {"number": 80}}}},
        ]}}]}}))
    _until_routes(c, "paths.example", "/app", "service3")
    assert served_by(get(c, "paths.example", "/app/")) == "service1"      # Exact is exact: Prefix takes /app/
    assert served_by(get(c, "paths.example", "/app/v2/x")) == "service2"  # the longest prefix wins
    assert served_by(get(c, "paths.example", "/app/v3")) == "service1"
    # The Ingress with only a defaultBackend is the catch-all server's: what no host matches.
    assert served_by(get(c, "nowhere.example", "/anything")) == "test"
    assert get(c, "paths.example", "/other")[0] == 404                   # that host has no "/"
    # *.foo.com: bar.foo.com matches, foo.com itself does not (it falls to the catch-all).
    assert served_by(get(c, "bar.foo.com", "/foo")) == "service2"
    assert served_by(get(c, "foo.com", "/foo")) == "test"
    assert served_by(get(c, "foo.bar.com", "/bar")) == "service1"


def test_missing_service_is_503_and_endpoints_follow_the_pods(lab):
    c = lab
    _delete_all(c)
    ok(_ingress(c, {"apiVersion": f"{NET}/v1", "kind": "Ingress", "metadata": {"name": "gone"}, "spec": {
        "ingressClassName": "nginx", "rules": [{"host": "gone.example", "http": {"paths": [
            {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "nosuch", "port": {"number": 80}}}},
            {"path": "/t", "pathType": "Prefix", "backend": {"service": {"name": "test", "port": {"number": 80}}}}]}}]}}))
    advance_until(c, lambda: get(c, "gone.example", "/")[0] == 503, 15)
    assert "503 Service Temporarily Unavailable" in get(c, "gone.example", "/")[1]
    # ingress-nginx sends to the endpoints, not the ClusterIP: scaled to 0, 503 once it syncs.
    _until_routes(c, "gone.example", "/t", "test")
    ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default",
                  "name": "test", "patchType": "merge", "body": {"spec": {"replicas": 0}}}))
    advance_until(c, lambda: get(c, "gone.example", "/t")[0] == 503, 60)
    ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default",
                  "name": "test", "patchType": "merge", "body": {"spec": {"replicas": 1}}}))
    _until_routes(c, "gone.example", "/t", "test", limit=60)


def test_round_robin_over_the_endpoints(lab):
    c = lab
    _delete_all(c)
    ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default",
                  "name": "service2", "patchType": "merge", "body": {"spec": {"replicas": 3}}}))
    advance_until(c, lambda: len(_ready(c, "default", "service2-")) == 3, 60)
    ok(_ingress(c, {"apiVersion": f"{NET}/v1", "kind": "Ingress", "metadata": {"name": "rr"}, "spec": {
        "ingressClassName": "nginx", "defaultBackend": {"service": {"name": "service2", "port": {"number": 8080}}}}}))

    def three():
        return len({get(c, "x", "/")[1] for _ in range(3)}) == 3
    advance_until(c, three, 30)
    pods = [get(c, "x", "/")[1].rsplit("Hostname: ", 1)[1].strip() for _ in range(6)]
    assert pods[:3] == pods[3:] and len(set(pods)) == 3      # one after another, in turn
    ok(c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default",
                  "name": "service2", "patchType": "merge", "body": {"spec": {"replicas": 1}}}))


def test_status_address_is_the_controller_nodes_ip_and_get_shows_it(lab):
    c = lab
    _delete_all(c)
    ok(_ingress(c, {**of_nginx("simple-fanout-example"), "metadata": {"name": "addressed"}}))
    (pod,) = _ready(c, "ingress-nginx")
    node = ok(c.request({"verb": "get", "resource": "nodes", "name": pod["spec"]["nodeName"]}))
    node_ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")

    def address():
        ing = ok(c.request({"verb": "get", "group": NET, "resource": "ingresses", "namespace": "default",
                            "name": "addressed"}))
        return (ing.get("status") or {}).get("loadBalancer", {}).get("ingress")
    took = advance_until(c, lambda: address() == [{"ip": node_ip}], 70)
    assert took <= 61           # the leader's status sync runs every 60 s
    # kubectl get's columns (printIngress): NAME CLASS HOSTS ADDRESS PORTS AGE.
    from sim.registry.networking.ingresses import RESOURCE
    ing = ok(c.request({"verb": "get", "group": NET, "resource": "ingresses", "namespace": "default",
                        "name": "addressed"}))
    assert [col["name"] for col in RESOURCE.printer.columns] == ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
    assert RESOURCE.printer.row(ing, c.now + c.kernel.epoch_offset)[:5] == ["addressed", "nginx", "foo.bar.com",
                                                                           node_ip, "80"]
    # The leader holds its Lease in its own namespace.
    lease = ok(c.request({"verb": "get", "group": "coordination.k8s.io", "resource": "leases",
                          "namespace": "ingress-nginx", "name": "ingress-nginx-leader"}))
    assert lease["spec"]["holderIdentity"]


def test_class_selection_and_the_default_class(lab):
    c = lab
    _delete_all(c)
    fanout = example("simple-fanout-example")
    # No class and no default IngressClass: not ingress-nginx's (no --watch-ingress-without-class).
    ok(_ingress(c, {**fanout, "metadata": {"name": "classless"}}))
    # Another controller's class: not its either.
    ok(c.request({"verb": "create", "group": NET, "resource": "ingressclasses", "body": example("external-lb")}))
    other = {**fanout, "metadata": {"name": "other"}, "spec": {**fanout["spec"], "ingressClassName": "external-lb"}}
    other["spec"]["rules"] = [{**fanout["spec"]["rules"][0], "host": "other.example"}]
    ok(_ingress(c, other))
    c.advance(8)
    assert get(c, "foo.bar.com", "/foo")[0] == 404 and get(c, "other.example", "/foo")[0] == 404
    # The deprecated annotation still selects it (with the strategy's warning).
    annotated = {**fanout, "metadata": {"name": "annotated", "annotations": {"kubernetes.io/ingress.class": "nginx"}}}
    annotated["spec"] = {"rules": [{**fanout["spec"]["rules"][0], "host": "annotated.example"}]}
    resp = _ingress(c, annotated)
    assert resp["code"] == 201 and resp["warnings"] == [
        'annotation "kubernetes.io/ingress.class" is deprecated, please use \'spec.ingressClassName\' instead']
    _until_routes(c, "annotated.example", "/foo", "service1")
    # A default IngressClass: the DefaultIngressClass admission plugin names it on new Ingresses.
    ok(c.request({"verb": "create", "group": NET, "resource": "ingressclasses", "body": example("default-ingressclass")}))
    c.advance(1)
    late = {**fanout, "metadata": {"name": "late"}}
    late["spec"] = {"rules": [{**fanout["spec"]["rules"][0], "host": "late.example"}]}
    created = ok(_ingress(c, late))
    assert created["spec"]["ingressClassName"] == "nginx-example"
    # nginx-example's controller is k8s.io/ingress-nginx too: ingress-nginx takes it.
    _until_routes(c, "late.example", "/foo", "service1")
    classless = ok(c.request({"verb": "get", "group": NET, "resource": "ingresses", "namespace": "default",
                              "name": "classless"}))
    assert "ingressClassName" not in classless["spec"]      # only new Ingresses are defaulted
    ok(c.request({"verb": "delete", "group": NET, "resource": "ingressclasses", "name": "nginx-example"}))
    ok(c.request({"verb": "delete", "group": NET, "resource": "ingressclasses", "name": "external-lb"}))


def test_wget_and_curl_send_the_host_header(lab):
    c = lab
    _delete_all(c)
    ok(_ingress(c, of_nginx("name-virtual-host-ingress")))
    _until_routes(c, "bar.foo.com", "/", "service2")
    from tests.sim.test_dns import _exec_in
    code, out = _exec_in(c, "client", ["wget", "-qO-", "--header", "Host: bar.foo.com",
                                       "http://ingress-nginx-controller.ingress-nginx/"])
    assert code == 0 and "Hostname: service2-" in out
    code, out = _exec_in(c, "client", ["wget", "-qO-", "--header=Host: foo.bar.com",
                                       "http://ingress-nginx-controller.ingress-nginx/"])
    assert code == 0 and "Hostname: service1-" in out
    code, out = _exec_in(c, "client", ["wget", "-qO-", "http://ingress-nginx-controller.ingress-nginx/"])
    assert code == 1 and "404 Not Found" in out


# -- the matching alone --------------------------------------------------------------------------
def _ing(name, created, rules=None, default=None):
    spec = {"rules": rules or []}
    if default:
        spec["defaultBackend"] = {"service": {"name": default, "port": {"number": 80}}}
    return {"metadata": {"name": name, "namespace": "ns", "creationTimestamp": created}, "spec": spec}


def _rule(host, *paths):
    return {"host": host, "http": {"paths": [
        {"path": p, "pathType": t, "backend": {"service": {"name": s, "port": {"number": 80}}}} for p, t, s in paths]}}


def test_the_older_ingress_keeps_a_conflicting_path_and_a_host_root_takes_its_ingress_default():
    servers = build_servers([
        _ing("new", "2026-01-02T00:00:00Z", [_rule("a.com", ("/x", "Prefix", "new"))]),
        _ing("old", "2026-01-01T00:00:00Z", [_rule("a.com", ("/x/", "Prefix", "old"))], default="olddef"),
    ])
    server = select_server(servers, "a.com")
    assert select_location(server, "/x/y").upstream == "ns-old-80"      # /x/ and /x are one Prefix path
    assert select_location(server, "/z").upstream == "ns-olddef-80"     # the host's root: its Ingress's default
    assert select_location(select_server(servers, "b.com"), "/").upstream is None   # the controller's 404
    assert isinstance(servers["_"], Server)


def test_wildcards_take_the_longest_suffix_and_any_depth_as_nginx_does():
    servers = build_servers([_ing("w", "2026-01-01T00:00:00Z", [
        _rule("*.foo.com", ("/", "Prefix", "one")), _rule("*.bar.foo.com", ("/", "Prefix", "two"))])])
    assert select_location(select_server(servers, "x.foo.com"), "/").upstream == "ns-one-80"
    assert select_location(select_server(servers, "x.bar.foo.com"), "/").upstream == "ns-two-80"
    assert select_location(select_server(servers, "y.x.foo.com"), "/").upstream == "ns-one-80"
    assert select_server(servers, "foo.com").hostname == "_"


# -- validation -------------------------------------------------------------------------------------
def _causes(resp):
    assert resp["code"] == 422, resp
    return [(c_["field"], c_["message"]) for c_ in resp["body"]["details"]["causes"]]


@pytest.fixture(scope="module")
def bare():
    c = Cluster("ing-v", ClusterConfig.default(seed=2))
    c.advance(3)
    return c


def _paths(*paths):
    return {"apiVersion": f"{NET}/v1", "kind": "Ingress", "metadata": {"name": "bad"},
            "spec": {"rules": [{"host": "foo.com", "http": {"paths": list(paths)}}]}}


SVC = {"service": {"name": "web", "port": {"number": 80}}}


def test_validation_of_paths_and_path_types(bare):
    c = bare
    causes = _causes(_ingress(c, _paths({"path": "/a", "backend": SVC})))
    assert causes == [("spec.rules[0].http.paths[0].pathType", "Required value: pathType must be specified")]
    causes = _causes(_ingress(c, _paths({"path": "a", "pathType": "Prefix", "backend": SVC},
                                        {"path": "/a//b", "pathType": "Exact", "backend": SVC},
                                        {"path": "/a/..", "pathType": "Prefix", "backend": SVC},
                                        {"path": "rel", "pathType": "ImplementationSpecific", "backend": SVC},
                                        {"path": "/a", "pathType": "Regex", "backend": SVC})))
    assert causes == [
        ("spec.rules[0].http.paths[0].path", 'Invalid value: "a": must be an absolute path'),
        ("spec.rules[0].http.paths[1].path", "Invalid value: \"/a//b\": must not contain '//'"),
        ("spec.rules[0].http.paths[2].path", "Invalid value: \"/a/..\": cannot end with '/..'"),
        ("spec.rules[0].http.paths[3].path", 'Invalid value: "rel": must be an absolute path'),
        ("spec.rules[0].http.paths[4].pathType",
         'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'),
    ]


def test_validation_of_backends_hosts_and_tls(bare):
    c = bare
    causes = _causes(_ingress(c, _paths(
        {"path": "/", "pathType": "Prefix", "backend": {}},
        {"path": "/", "pathType": "Prefix", "backend": {**SVC, "resource": {"kind": "Bucket", "name": "b"}}},
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http", "number": 80}}}},
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {}}}},
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "Web_1", "port": {"number": 70000}}}})))
    assert causes == [
        ("spec.rules[0].http.paths[0].backend", 'Invalid value: "": resource or service backend is required'),
        ("spec.rules[0].http.paths[1].backend", 'Invalid value: "": cannot set both resource and service backends'),
        ("spec.rules[0].http.paths[2].backend", 'Invalid value: "": cannot set both port name & port number'),
        ("spec.rules[0].http.paths[3].backend", "Required value: port name or number is required"),
        ("spec.rules[0].http.paths[4].backend.service.name", causes[4][1]),
        ("spec.rules[0].http.paths[4].backend.service.port.number",
         "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ]
    assert "a DNS-1035 label must consist of lower case alphanumeric characters" in causes[4][1]
    bad_hosts = {"apiVersion": f"{NET}/v1", "kind": "Ingress", "metadata": {"name": "bad"}, "spec": {
        "rules": [{"host": "1.2.3.4"}, {"host": "*.*.foo.com"}, {"host": "*"}, {"host": "*.foo.com"}],
        "tls": [{"hosts": ["*.ok.com", "Bad_Host"], "secretName": "Bad!"}]}}
    fields = [f for f, _ in _causes(_ingress(c, bad_hosts))]
    assert fields == ["spec.rules[0].host", "spec.rules[1].host", "spec.rules[2].host", "spec.tls[0].hosts[1]",
                      "spec.tls[0].secretName"]
    causes = _causes(_ingress(c, {"apiVersion": f"{NET}/v1", "kind": "Ingress", "metadata": {"name": "bad"},
                                  "spec": {}}))
    assert causes == [("spec", "Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` "
                               "must be specified")]
    # The deprecated annotation must agree with the field.
    causes = _causes(_ingress(c, {"apiVersion": f"{NET}/v1", "kind": "Ingress", "metadata": {
        "name": "bad", "annotations": {"kubernetes.io/ingress.class": "a"}}, "spec": {
        "ingressClassName": "b", "defaultBackend": SVC}}))
    assert causes == [("annotations.kubernetes.io/ingress.class",
                       'Invalid value: "a": must match `ingressClassName` when both are specified')]
    # The documentation's examples are all valid.
    for name in ("minimal-ingress", "ingress-resource-backend", "ingress-wildcard-host", "simple-fanout-example",
                 "name-virtual-host-ingress", "name-virtual-host-ingress-no-third-host", "test-ingress",
                 "tls-example-ingress"):
        ok(_ingress(c, example(name)), 201)


def test_ingress_class_validation_defaults_and_immutability(bare):
    c = bare
    created = ok(c.request({"verb": "create", "group": NET, "resource": "ingressclasses", "body": example("external-lb")}))
    assert created["spec"]["parameters"]["scope"] == "Cluster"       # SetDefaults_IngressClass
    resp = c.request({"verb": "patch", "group": NET, "resource": "ingressclasses", "name": "external-lb",
                      "patchType": "merge", "body": {"spec": {"controller": "example.com/other"}}})
    assert _causes(resp) == [("spec.controller", 'Invalid value: "example.com/other": field is immutable')]
    bad = {"apiVersion": f"{NET}/v1", "kind": "IngressClass", "metadata": {"name": "bad"},
           "spec": {"controller": "no-domain", "parameters": {"kind": "K", "name": "n", "scope": "Namespace"}}}
    assert _causes(c.request({"verb": "create", "group": NET, "resource": "ingressclasses", "body": bad})) == [
        ("spec.controller", 'Invalid value: "no-domain": must be a domain-prefixed path (such as "acme.io/foo")'),
        ("spec.parameters.namespace", "Required value: `parameters.scope` is set to 'Namespace'")]


def test_the_addon_is_a_cluster_setting():
    from sim.clusterconfig import ConfigError, config_from_spec, config_from_words
    assert config_from_spec({"addons": ["ingress-nginx"]}).addons == ["ingress-nginx"]
    assert config_from_words(["addons=ingress-nginx"]).addons == ["ingress-nginx"]
    for bad in (["traefik"], "ingress-nginx", ["ingress-nginx", "ingress-nginx"]):
        with pytest.raises(ConfigError, match="addons must be a list of distinct add-ons of: ingress-nginx"):
            config_from_spec({"addons": bad})
