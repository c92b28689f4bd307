"""Services with the machine's real kubectl (the oldest, a Cloud SDK newest and the newest): `create service clusterip|nodeport`
(protobuf bodies from 1.32), `expose deployment`, `get svc -o wide`, `describe svc`,
`cluster-info`, `apply -f` of the documentation's Service, delete."""
from __future__ import annotations

import json
import re

from tests.conftest import wait_until
from tests.kubectl.conftest import rows

# https://kubernetes.io/docs/concepts/services-networking/service/ "Defining a Service"
DOCS_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  selector:
    app.kubernetes.io/name: MyApp
  ports:
    - protocol: TCP
      port: 80
      targetPort: 9376
"""


def _svc(kubectl, name: str) -> dict:
    return json.loads(kubectl("get", "svc", name, "-o", "json").stdout)


def test_create_service_clusterip_and_nodeport(kubectl):
    s = kubectl.suffix
    out = kubectl("create", "service", "clusterip", f"x-{s}", "--tcp=80:8080")
    assert out.stdout.strip() == f"service/x-{s} created"
    svc = _svc(kubectl, f"x-{s}")
    spec = svc["spec"]
    assert spec["type"] == "ClusterIP" and spec["selector"] == {"app": f"x-{s}"}
    assert spec["ports"] == [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}]
    assert spec["clusterIP"].startswith("10.") and spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"

    out = kubectl("create", "service", "nodeport", f"np-{s}", "--tcp=80:80")
    assert out.stdout.strip() == f"service/np-{s} created"
    np = _svc(kubectl, f"np-{s}")["spec"]
    node_port = np["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767 and np["externalTrafficPolicy"] == "Cluster"
    table = rows(kubectl("get", "svc", f"x-{s}", f"np-{s}").stdout)
    assert table[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    by_name = {r[0]: r for r in table[1:]}
    assert by_name[f"x-{s}"][1:5] == ["ClusterIP", spec["clusterIP"], "<none>", "80/TCP"]
    assert by_name[f"np-{s}"][1:5] == ["NodePort", np["clusterIP"], "<none>", f"80:{node_port}/TCP"]

    # The same node port again is refused with the allocator's message.
    taken = kubectl("create", "service", "nodeport", f"np2-{s}", "--tcp=80:80", f"--node-port={node_port}",
                    check=False)
    assert taken.returncode != 0
    assert (f'error: failed to create NodePort service: Service "np2-{s}" is invalid: spec.ports[0].nodePort: '
            f"Invalid value: {node_port}: provided port is already allocated") in taken.stderr
    kubectl("delete", "svc", f"x-{s}", f"np-{s}")


def test_expose_get_wide_describe_delete(kubectl_some):
    kubectl = kubectl_some
    web = f"web-{kubectl.suffix}"
    kubectl("create", "deployment", web, "--image=nginx")
    out = kubectl("expose", "deployment", web, "--port=80", "--target-port=80")
    assert out.stdout.strip() == f"service/{web} exposed"
    spec = _svc(kubectl, web)["spec"]
    assert spec["selector"] == {"app": web}
    assert spec["ports"] == [{"protocol": "TCP", "port": 80, "targetPort": 80}]
    table = rows(kubectl("get", "svc", web, "-o", "wide").stdout)
    assert table[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert table[1][:5] == [web, "ClusterIP", spec["clusterIP"], "<none>", "80/TCP"]
    assert table[1][6] == f"app={web}"
    described = kubectl("describe", "svc", web).stdout
    for line in (f"Name:", "Namespace:", "Selector:", "Type:", "IP Family Policy:", "IP Families:", "IP:",
                 "Port:", "TargetPort:", "Session Affinity:"):
        assert line in described, described
    assert spec["clusterIP"] in described and f"app={web}" in described and "SingleStack" in described
    deleted = kubectl("delete", "svc", web)
    assert kubectl.deleted(f'service "{web}"', "default") in deleted.stdout
    assert kubectl("get", "svc", web, check=False).returncode != 0
    kubectl("delete", "deployment", web, "--wait=false")


def test_the_kubernetes_service_and_cluster_info(kubectl):
    # kube-apiserver creates it once it serves (a fresh cluster may be a moment from that).
    wait_until(lambda: kubectl("get", "svc", "kubernetes", check=False).returncode == 0, timeout=30,
               message="the kubernetes Service")
    table = rows(kubectl("get", "svc", "kubernetes").stdout)
    assert table[1][:5] == ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"]
    svc = _svc(kubectl, "kubernetes")
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    assert svc["spec"]["ports"] == [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}]
    # cluster-info: the control plane (the kubeconfig's server), then every kube-system Service
    # labelled kubernetes.io/cluster-service=true: kubeadm's kube-dns, the CoreDNS line.
    # (colored, ct.ChangeColor, by the versions that do so when the terminal is not known)
    def info():
        return re.sub(r"\x1b\[[0-9;]*m", "", kubectl("cluster-info").stdout)
    wait_until(lambda: "CoreDNS" in info(), timeout=30, message="cluster-info's CoreDNS line")
    out = info()
    assert re.fullmatch(r"Kubernetes control plane is running at (http://\S+/clusters/kubectl-services)\n"
                        r"CoreDNS is running at \1/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy\n\n"
                        r"To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n", out), out
    # Its address is taken.
    dup = kubectl("create", "service", "clusterip", f"dup-{kubectl.suffix}", "--tcp=80", "--clusterip=10.96.0.1",
                  check=False)
    assert dup.returncode != 0 and (
        f'error: failed to create ClusterIP service: Service "dup-{kubectl.suffix}" is invalid: spec.clusterIPs: '
        'Invalid value: []string{"10.96.0.1"}: failed to allocate IP 10.96.0.1: provided IP is already allocated'
    ) in dup.stderr, dup.stderr


def test_apply_the_documentation_service(kubectl_some, tmp_path):
    kubectl = kubectl_some
    ns = f"docs-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    (tmp_path / "svc.yaml").write_text(DOCS_SERVICE)
    out = kubectl("apply", "-n", ns, "-f", str(tmp_path / "svc.yaml"))
    assert out.stdout.strip() == "service/my-service created"
    svc = json.loads(kubectl("get", "-n", ns, "svc", "my-service", "-o", "json").stdout)
    assert svc["spec"]["ports"] == [{"protocol": "TCP", "port": 80, "targetPort": 9376}]
    # Applied again unchanged: nothing to do (the allocated ClusterIP is no change of the user's).
    again = kubectl("apply", "-n", ns, "-f", str(tmp_path / "svc.yaml"))
    assert again.stdout.strip() == "service/my-service unchanged"
    ip = svc["spec"]["clusterIP"]
    # Changing the ClusterIP is refused.
    patched = kubectl("patch", "-n", ns, "svc", "my-service", "--type=merge",
                      "-p", '{"spec":{"clusterIP":"10.96.7.7","clusterIPs":["10.96.7.7"]}}', check=False)
    assert patched.returncode != 0 and "field is immutable" in patched.stderr, patched.stderr
    assert json.loads(kubectl("get", "-n", ns, "svc", "my-service", "-o", "json").stdout)["spec"]["clusterIP"] == ip
    kubectl("delete", "namespace", ns, "--wait=false")
