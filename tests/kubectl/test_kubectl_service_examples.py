"""The Kubernetes documentation's Service examples with the real kubectl (1.27, 1.33, 1.37):
`apply -f` of each manifest of the Service page (docs/examples/services/: my-service, the
NodePort with nodePort 30007, the LoadBalancer, the ExternalName, the Service without a
selector and its hand-made EndpointSlice) and the StatefulSet tutorial's headless Service, then
`get svc,endpointslices -o wide` over them."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import wait_until
from tests.kubectl.conftest import rows

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "services"


def _apply(kubectl, ns: str, tmp_path: Path, name: str, edit=lambda text: text, check: bool = True):
    path = tmp_path / f"{name}.yaml"
    path.write_text(edit((EXAMPLES / f"{name}.yaml").read_text()))
    return kubectl("apply", "-n", ns, "-f", str(path), check=check)


def _svc(kubectl, ns: str, name: str = "my-service") -> dict:
    return json.loads(kubectl("get", "svc", "-n", ns, name, "-o", "json").stdout)


def _tables(output: str) -> list[list[list[str]]]:
    """`kubectl get a,b` prints one table per kind, a blank line between them."""
    return [rows(block) for block in output.strip().split("\n\n")]


def test_apply_the_documentations_service_examples(kubectl_some, tmp_path):
    kubectl = kubectl_some
    ns, s = f"svc-docs-{kubectl.suffix}", kubectl.suffix
    kubectl("create", "namespace", ns)
    # "Defining a Service": a ClusterIP from the service CIDR, targetPort 9376.
    assert _apply(kubectl, ns, tmp_path, "my-service").stdout.strip() == "service/my-service created"
    spec = _svc(kubectl, ns)["spec"]
    assert spec["type"] == "ClusterIP" and spec["clusterIP"].startswith("10.")
    assert spec["selector"] == {"app.kubernetes.io/name": "MyApp"}
    assert spec["ports"] == [{"protocol": "TCP", "port": 80, "targetPort": 9376}]
    # The NodePort example over it: the same Service becomes a NodePort one on 30007 (a port
    # every kubectl version of this module asks for: one at a time, each deletes it after).
    assert _apply(kubectl, ns, tmp_path, "nodeport").stdout.strip() == "service/my-service configured"
    spec = _svc(kubectl, ns)["spec"]
    assert spec["type"] == "NodePort" and spec["externalTrafficPolicy"] == "Cluster"
    assert spec["ports"] == [{"protocol": "TCP", "port": 80, "targetPort": 80, "nodePort": 30007}]
    # The LoadBalancer example as printed names a clusterIP of the docs' cluster, outside this
    # one's 10.96.0.0/12; on a fresh Service the allocator refuses it (the docs' status is not
    # the client's to write: a create drops it).
    kubectl("delete", "-n", ns, "svc", "my-service")
    refused = _apply(kubectl, ns, tmp_path, "loadbalancer", check=False)
    assert refused.returncode != 0
    assert ('The Service "my-service" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.171.239"}: '
            "failed to allocate IP 10.0.171.239: the provided IP (10.0.171.239) is not in the valid range. "
            "The range of valid IPs is 10.96.0.0/12") in refused.stderr, refused.stderr
    out = _apply(kubectl, ns, tmp_path, "loadbalancer", lambda t: t.replace("  clusterIP: 10.0.171.239\n", ""))
    assert out.stdout.strip() == "service/my-service created"
    svc = _svc(kubectl, ns)
    assert svc["spec"]["type"] == "LoadBalancer" and svc["spec"]["ports"][0]["nodePort"] >= 30000
    # The simulated cloud's cloud-controller-manager gives it an address of its own pool.
    wait_until(lambda: (_svc(kubectl, ns)["status"].get("loadBalancer") or {}).get("ingress"), 60, 0.5,
               "an external IP from the cloud")
    [ingress] = _svc(kubectl, ns)["status"]["loadBalancer"]["ingress"]
    assert ingress["ip"].startswith("203.0.113.") and ingress["ip"] != "192.0.2.127"
    # ExternalName (the docs put it in `prod`: here this test's namespace).
    ext_ns = f"prod-{s}"
    kubectl("create", "namespace", ext_ns)
    out = _apply(kubectl, ext_ns, tmp_path, "externalname", lambda t: t.replace("namespace: prod", f"namespace: {ext_ns}"))
    assert out.stdout.strip() == "service/my-service created"
    table = rows(kubectl("get", "svc", "-n", ext_ns, "my-service").stdout)
    assert table[1][:5] == ["my-service", "ExternalName", "<none>", "my.database.example.com", "<none>"]
    # Without a selector: the Service and the EndpointSlice the user writes for it.
    bare_ns = f"bare-{s}"
    kubectl("create", "namespace", bare_ns)
    out = _apply(kubectl, bare_ns, tmp_path, "without-selector").stdout.strip().splitlines()
    assert out == ["service/my-service created", "endpointslice.discovery.k8s.io/my-service-1 created"]
    # The StatefulSet tutorial's headless Service: no ClusterIP.
    assert _apply(kubectl, bare_ns, tmp_path, "headless").stdout.strip() == "service/nginx created"
    # get svc,endpointslices -o wide: a table per kind.
    svcs, slices = _tables(kubectl("get", "svc,endpointslices", "-n", bare_ns, "-o", "wide").stdout)
    assert svcs[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    by_name = {r[0]: r for r in svcs[1:]}
    assert by_name["service/nginx"][1:5] == ["ClusterIP", "None", "<none>", "80/TCP"]
    assert by_name["service/nginx"][6] == "app=nginx"
    assert by_name["service/my-service"][1] == "ClusterIP" and by_name["service/my-service"][6] == "<none>"
    assert slices[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    by_name = {r[0]: r for r in slices[1:]}
    assert by_name["endpointslice.discovery.k8s.io/my-service-1"][1:4] == ["IPv4", "9376", "10.4.5.6,10.1.2.3"]
    # The headless Service selects no pod: the EndpointSlice controller writes its placeholder.
    wait_until(lambda: any(n.startswith("endpointslice.discovery.k8s.io/nginx-") for n in {r[0] for r in _tables(
        kubectl("get", "svc,endpointslices", "-n", bare_ns).stdout)[-1][1:]}), 30, 0.5, "nginx's slice")
    kubectl("delete", "namespace", ns, ext_ns, bare_ns, "--wait=false")
