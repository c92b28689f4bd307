"""LoadBalancer Services with the real kubectl (1.27, a Cloud SDK newest, the newest):
`expose deployment --type=LoadBalancer`, EXTERNAL-IP from the cloud-controller-manager and the
simulated cloud, `describe svc` with the service controller's events, delete through the
load-balancer-cleanup finalizer, a loadBalancerClass Service left <pending>, a type change."""
from __future__ import annotations

import json
import re

from tests.conftest import wait_until
from tests.kubectl.conftest import rows

# A Service another load balancer implementation owns: the cloud's service controller leaves it.
CLASSED = """apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: LoadBalancer
  loadBalancerClass: example.com/metal
  selector:
    app: {name}
  ports:
    - port: 80
"""


def _svc(kubectl, name: str) -> dict:
    return json.loads(kubectl("get", "svc", name, "-o", "json").stdout)


def _external_ip(kubectl, name: str) -> str:
    table = rows(kubectl("get", "svc", name).stdout)
    return table[1][3] if len(table) > 1 else ""


def test_expose_a_deployment_as_a_load_balancer(kubectl_some):
    kubectl = kubectl_some
    web = f"web-{kubectl.suffix}"
    kubectl("create", "deployment", web, "--image=nginx")
    out = kubectl("expose", "deployment", web, "--type=LoadBalancer", "--port=80")
    assert out.stdout.strip() == f"service/{web} exposed"
    ip = wait_until(lambda: re.fullmatch(r"203\.0\.113\.\d+", _external_ip(kubectl, web)) and _external_ip(kubectl, web),
                    timeout=30, message="the load balancer's address")
    svc = _svc(kubectl, web)
    node_port = svc["spec"]["ports"][0]["nodePort"]
    table = rows(kubectl("get", "svc", web).stdout)
    assert table[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert table[1][1:5] == ["LoadBalancer", svc["spec"]["clusterIP"], ip, f"80:{node_port}/TCP"]
    assert svc["metadata"]["finalizers"] == ["service.kubernetes.io/load-balancer-cleanup"]
    assert svc["status"]["loadBalancer"]["ingress"][0]["ip"] == ip
    described = kubectl("describe", "svc", web).stdout
    assert re.search(rf"LoadBalancer Ingress:\s+{re.escape(ip)}", described), described
    assert re.search(r"External Traffic Policy:\s+Cluster", described), described
    for reason, message in (("EnsuringLoadBalancer", "Ensuring load balancer"),
                            ("EnsuredLoadBalancer", "Ensured load balancer")):
        assert re.search(rf"Normal\s+{reason}\s+\S+\s+service-controller\s+{message}", described), described
    # Deleting the Service waits for the finalizer: the load balancer goes first.
    deleted = kubectl("delete", "svc", web)
    assert kubectl.deleted(f'service "{web}"', "default") in deleted.stdout
    assert kubectl("get", "svc", web, check=False).returncode != 0
    kubectl("delete", "deployment", web, "--wait=false")


def test_a_class_of_its_own_stays_pending_and_a_type_change_tears_down(kubectl_some, tmp_path):
    kubectl = kubectl_some
    name = f"metal-{kubectl.suffix}"
    (tmp_path / "svc.yaml").write_text(CLASSED.format(name=name))
    kubectl("apply", "-f", str(tmp_path / "svc.yaml"))
    lb = f"lb-{kubectl.suffix}"
    kubectl("create", "service", "loadbalancer", lb, "--tcp=80:8080")
    wait_until(lambda: _external_ip(kubectl, lb).startswith("203.0.113."), timeout=30, message="the address")
    # By then the class's Service has been seen and left alone by the cloud's controller.
    assert _external_ip(kubectl, name) == "<pending>"
    assert not _svc(kubectl, name)["metadata"].get("finalizers")
    # A LoadBalancer turned ClusterIP loses its node port, its address and its load balancer.
    kubectl("patch", "svc", lb, "-p", '{"spec":{"type":"ClusterIP"}}')
    spec = _svc(kubectl, lb)["spec"]
    assert spec["type"] == "ClusterIP" and "nodePort" not in spec["ports"][0]
    assert _external_ip(kubectl, lb) == "<none>"
    wait_until(lambda: "DeletedLoadBalancer" in kubectl("describe", "svc", lb).stdout, timeout=30,
               message="the load balancer deleted")
    wait_until(lambda: not _svc(kubectl, lb)["metadata"].get("finalizers"), timeout=30, message="the finalizer gone")
    kubectl("delete", "svc", lb, name)
