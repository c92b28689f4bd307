"""EndpointSlices and Endpoints with the machine's real kubectl: `get endpointslices -o wide`,
`get endpoints` / `get ep`, and `describe svc` showing the Service's endpoints (kubectl up to
1.32 reads them from the Endpoints object, 1.33+ from the EndpointSlices).  The sequence runs on
the oldest, a Cloud SDK newest and the newest kubectl; a cheap listing on every version."""
from __future__ import annotations

import json
import time

from tests.kubectl.conftest import rows


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    """Poll `predicate` (a bounded wait: the cluster runs at 50x, so this is minutes of
    virtual time); its last truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.2)


def _ready_ips(kubectl, name: str) -> list[str]:
    proc = kubectl("get", "endpoints", name, "-o", "json", check=False)
    if proc.returncode != 0:
        return []
    ep = json.loads(proc.stdout)
    return sorted(a["ip"] for ss in ep.get("subsets") or [] for a in ss.get("addresses") or [])


def test_endpointslices_endpoints_and_describe(kubectl_some):
    kubectl = kubectl_some
    web = f"web-{kubectl.suffix}"
    kubectl("create", "deployment", web, "--image=nginx", "--replicas=2", "--port=80")
    kubectl("expose", "deployment", web, "--port=80")
    ips = wait_for(lambda: len(_ready_ips(kubectl, web)) == 2 and _ready_ips(kubectl, web), what="2 ready endpoints")
    pod_ips = sorted(p["status"]["podIP"] for p in json.loads(
        kubectl("get", "pods", "-l", f"app={web}", "-o", "json").stdout)["items"])
    assert ips == pod_ips

    table = rows(kubectl("get", "endpointslices", "-l", f"kubernetes.io/service-name={web}", "-o", "wide").stdout)
    assert table[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    [row] = table[1:]
    assert row[0].startswith(f"{web}-") and len(row[0]) == len(web) + 6
    assert row[1:3] == ["IPv4", "80"]
    assert sorted(row[3].split(",")) == ips

    table = rows(kubectl("get", "endpoints", web).stdout)
    assert table[0] == ["NAME", "ENDPOINTS", "AGE"]
    assert table[1][0] == web and sorted(table[1][1].split(",")) == sorted(f"{ip}:80" for ip in ips)
    assert rows(kubectl("get", "ep", web).stdout)[1][0] == web   # the short name

    described = kubectl("describe", "svc", web).stdout
    endpoints_line = next(line for line in described.splitlines() if line.startswith("Endpoints:"))
    assert sorted(endpoints_line.split(None, 1)[1].split(",")) == sorted(f"{ip}:80" for ip in ips), described

    # Scaled to zero: the Endpoints lose their addresses; the slice becomes the placeholder (no
    # ports, no endpoints), keeping its name.
    kubectl("scale", "deployment", web, "--replicas=0")
    wait_for(lambda: not _ready_ips(kubectl, web), what="no endpoints")
    assert rows(kubectl("get", "endpoints", web).stdout)[1][1] == "<none>"
    table = wait_for(lambda: (lambda t: len(t) == 2 and t[1][3] == "<unset>" and t)(rows(kubectl(
        "get", "endpointslices", "-l", f"kubernetes.io/service-name={web}").stdout)), what="an empty slice")
    assert table[1][:4] == [row[0], "IPv4", "<unset>", "<unset>"]
    kubectl("delete", "svc", web)
    kubectl("delete", "deployment", web)
    # The slices go with the Service (owner references, the garbage collector).
    wait_for(lambda: "No resources found" in kubectl(
        "get", "endpointslices", "-l", f"kubernetes.io/service-name={web}").stderr, what="slices collected")


def test_get_endpointslices_everywhere(kubectl):
    """Every version lists the kind (discovery.k8s.io/v1) and the kubernetes Service's endpoints."""
    table = rows(kubectl("get", "endpointslices.discovery.k8s.io", "-A").stdout)
    assert table[0] == ["NAMESPACE", "NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    table = rows(kubectl("get", "endpoints", "kubernetes").stdout)
    assert table[0] == ["NAME", "ENDPOINTS", "AGE"] and table[1][1].endswith(":6443")


def test_the_official_python_client_reads_them(kube_env):
    """The `kubernetes` client decodes both kinds into its typed models (the JSON has their shape)."""
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=kube_env["KUBECONFIG"])
    es = client.DiscoveryV1Api(api).read_namespaced_endpoint_slice("kubernetes", "default")
    assert es.address_type == "IPv4" and es.endpoints[0].conditions.ready is True
    assert es.ports[0].port == 6443 and es.ports[0].name == "https"
    ep = client.CoreV1Api(api).read_namespaced_endpoints("kubernetes", "default")
    assert ep.subsets[0].ports[0].port == 6443
    assert [a.ip for a in ep.subsets[0].addresses] == [e.addresses[0] for e in es.endpoints]
