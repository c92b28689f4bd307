"""Ingress with the machine's real kubectl (1.27, 1.33 and 1.37): `apply -f` of the Kubernetes
documentation's Ingress and IngressClass examples (tests/testdata/manifests/ingress), `create
ingress` (a protobuf body from 1.32), `get ing`, `get ingressclass`, `describe ing`, and a
server-side validation error as kubectl prints it."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import wait_until
from tests.kubectl.conftest import SOME, kubectl_runner, rows

EXAMPLES = Path(__file__).parents[1] / "testdata" / "manifests" / "ingress"
INGRESS_NGINX = Path(__file__).parents[2] / "docs" / "examples" / "ingress-nginx.yaml"
INGRESSES = ("minimal-ingress", "ingress-resource-backend", "ingress-wildcard-host", "simple-fanout-example",
             "name-virtual-host-ingress", "name-virtual-host-ingress-no-third-host", "test-ingress",
             "tls-example-ingress")


def test_apply_the_documentation_examples_and_get_them(kubectl_some):
    kubectl = kubectl_some
    ns = f"ing-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    out = kubectl("apply", "-f", str(EXAMPLES / "external-lb.yaml")).stdout
    assert out.strip() in ("ingressclass.networking.k8s.io/external-lb created",
                           "ingressclass.networking.k8s.io/external-lb unchanged")
    files = [a for name in INGRESSES for a in ("-f", str(EXAMPLES / f"{name}.yaml"))]
    out = kubectl("apply", "-n", ns, *files).stdout
    assert out.strip().splitlines() == [f"ingress.networking.k8s.io/{name} created" for name in INGRESSES]
    table = rows(kubectl("get", "ing", "-n", ns).stdout)
    assert table[0] == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    by_name = {r[0]: r for r in table[1:]}
    assert set(by_name) == set(INGRESSES)
    # ADDRESS is empty (no controller of these classes runs): the row has one cell fewer.
    assert by_name["minimal-ingress"][:4] == ["minimal-ingress", "nginx-example", "*", "80"]
    assert by_name["ingress-wildcard-host"][:4] == ["ingress-wildcard-host", "<none>", "foo.bar.com,*.foo.com", "80"]
    assert by_name["name-virtual-host-ingress-no-third-host"][2] == "first.bar.com,second.bar.com"
    assert by_name["tls-example-ingress"][2:4] == ["https-example.foo.com", "80, 443"]
    classes = rows(kubectl("get", "ingressclass", "external-lb").stdout)
    assert classes[0] == ["NAME", "CONTROLLER", "PARAMETERS", "AGE"]
    assert classes[1][:3] == ["external-lb", "example.com/ingress-controller", "IngressParameters.k8s.example.com/external-lb"]
    ic = json.loads(kubectl("get", "ingressclass", "external-lb", "-o", "json").stdout)
    assert ic["spec"]["parameters"]["scope"] == "Cluster"
    # A resource backend, as the documentation's ingress-resource-backend shows it.
    ing = json.loads(kubectl("get", "ing", "ingress-resource-backend", "-n", ns, "-o", "json").stdout)
    assert ing["spec"]["defaultBackend"] == {"resource": {"apiGroup": "k8s.example.com", "kind": "StorageBucket",
                                                          "name": "static-assets"}}
    kubectl("delete", "namespace", ns, "--wait=false")


def test_create_get_and_describe_ingress(kubectl_some):
    kubectl = kubectl_some
    name = f"simple-{kubectl.suffix}"
    out = kubectl("create", "ingress", name, "--rule=foo.com/bar=svc1:8080")
    assert out.stdout.strip() == f"ingress.networking.k8s.io/{name} created"
    ing = json.loads(kubectl("get", "ing", name, "-o", "json").stdout)
    assert ing["spec"]["rules"] == [{"host": "foo.com", "http": {"paths": [
        {"path": "/bar", "pathType": "Exact", "backend": {"service": {"name": "svc1", "port": {"number": 8080}}}}]}}]
    assert ing["metadata"]["generation"] == 1
    table = rows(kubectl("get", "ing", name).stdout)
    assert table[0] == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    assert table[1][:4] == [name, "<none>", "foo.com", "80"]
    text = kubectl("describe", "ing", name).stdout
    assert f"Name:             {name}" in text
    assert "Rules:" in text and "foo.com" in text and "/bar   svc1:8080" in text
    # A prefix rule with a class, a TLS secret and a default backend.
    out = kubectl("create", "ingress", f"{name}-2", "--class=nginx", "--rule=foo.com/path*=svc:8080,tls=my-cert",
                  "--default-backend=defaultsvc:http")
    ing = json.loads(kubectl("get", "ing", f"{name}-2", "-o", "json").stdout)
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["pathType"] == "Prefix"
    assert ing["spec"]["tls"] == [{"hosts": ["foo.com"], "secretName": "my-cert"}]
    assert ing["spec"]["defaultBackend"] == {"service": {"name": "defaultsvc", "port": {"name": "http"}}}
    kubectl("delete", "ing", name, f"{name}-2")


def test_validation_errors_as_kubectl_prints_them(kubectl_some, tmp_path):
    kubectl = kubectl_some
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bad-{kubectl.suffix}
spec:
  rules:
  - host: "*.*.foo.com"
    http:
      paths:
      - path: relative
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
""")
    proc = kubectl("apply", "-f", str(bad), check=False)
    assert proc.returncode == 1
    assert f'The Ingress "bad-{kubectl.suffix}" is invalid' in proc.stderr
    assert "spec.rules[0].host: Invalid value: \"*.*.foo.com\": a wildcard DNS-1123 subdomain" in proc.stderr
    assert 'spec.rules[0].http.paths[0].path: Invalid value: "relative": must be an absolute path' in proc.stderr


def test_install_ingress_nginx_as_its_docs_do_and_route_through_it(kube_env):
    """kubectl apply -f the controller's manifest, wait for it as ingress-nginx's docs say, then
    an Ingress of class nginx gets the controller node's address.  (One kubectl, the newest: the
    controller's work does not depend on the client.)"""
    kubectl = kubectl_runner(SOME[-1] if SOME else None, kube_env)
    kubectl("apply", "-f", str(INGRESS_NGINX))
    kubectl("wait", "--namespace", "ingress-nginx", "--for=condition=ready", "pod",
            "--selector=app.kubernetes.io/component=controller", "--timeout=120s", timeout=130)
    classes = rows(kubectl("get", "ingressclass", "nginx").stdout)
    assert classes[1][:3] == ["nginx", "k8s.io/ingress-nginx", "<none>"]
    svc = json.loads(kubectl("get", "svc", "ingress-nginx-controller", "-n", "ingress-nginx", "-o", "json").stdout)
    assert svc["spec"]["type"] == "NodePort" and [p["name"] for p in svc["spec"]["ports"]] == ["http", "https"]
    name = f"web-{kubectl.suffix}"
    kubectl("create", "ingress", name, "--class=nginx", "--rule=demo.localdev.me/*=demo:80")

    def address() -> str:
        return kubectl("get", "ing", name, "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}").stdout
    wait_until(lambda: address() != "", 30, interval=0.5, message="the controller writes the Ingress address")
    pod = json.loads(kubectl("get", "pods", "-n", "ingress-nginx", "-l", "app.kubernetes.io/component=controller",
                             "-o", "json").stdout)["items"][0]
    node = json.loads(kubectl("get", "node", pod["spec"]["nodeName"], "-o", "json").stdout)
    assert address() == next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
    assert rows(kubectl("get", "ing", name).stdout)[1][:5] == [name, "nginx", "demo.localdev.me", address(), "80"]
    logs = kubectl("logs", "-n", "ingress-nginx", pod["metadata"]["name"]).stdout
    assert "NGINX Ingress controller" in logs and "Release:       v1.12.1" in logs
    kubectl("delete", "ing", name)
