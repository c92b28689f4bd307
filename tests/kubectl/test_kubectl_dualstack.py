"""Dual-stack with the real kubectl (1.27, 1.33, 1.37) on a cluster of kubeadm's dual-stack shape
(podSubnet and serviceSubnet "v4,v6"): a pod's status.podIPs of both families, and the
documentation's dual-stack Service examples (docs/examples/dual-stack/, from "IPv4/IPv6
dual-stack" in the Kubernetes documentation) applied with `kubectl apply -f` and described."""
from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.kubectl.conftest import kube_env_for

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "dual-stack"
DUAL_STACK = {"podSubnet": "10.244.0.0/16,fd00:10:244::/56", "serviceSubnet": "10.96.0.0/12,fd00:10:96::/112"}


@pytest.fixture(scope="module")
def kube_cluster(module_cluster):
    return module_cluster("kubectl-dualstack", speed=20, spec=DUAL_STACK)


@pytest.fixture(scope="module")
def kube_env(pilothouse_server, kube_cluster, tmp_path_factory) -> dict:
    return kube_env_for(pilothouse_server, kube_cluster, tmp_path_factory.mktemp("dualstack-home"))


def test_a_pods_ips_are_of_both_families(kubectl_some):
    kubectl = kubectl_some
    name = f"both-{kubectl.suffix}"
    kubectl("run", name, "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600")
    wait_until(lambda: kubectl("get", "pod", name, "-o", "jsonpath={.status.podIP}").stdout, timeout=30,
               message=f"pod {name} has an IP")
    ips = json.loads(kubectl("get", "pod", name, "-o", "jsonpath={.status.podIPs}").stdout)
    assert [ipaddress.ip_address(p["ip"]).version for p in ips] == [4, 6]
    assert kubectl("get", "pod", name, "-o", "jsonpath={.status.podIP}").stdout == ips[0]["ip"]


def test_the_documentations_dual_stack_services(kubectl_some, tmp_path):
    kubectl = kubectl_some
    ns = f"ds-{kubectl.suffix}"
    kubectl("create", "namespace", ns)
    out = kubectl("apply", "-n", ns, "-f", str(EXAMPLES / "dual-stack-preferred-svc.yaml"))
    assert out.stdout.strip() == "service/my-service created"
    described = kubectl("describe", "svc", "my-service", "-n", ns).stdout
    lines = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
             for line in described.splitlines() if ":" in line}
    assert lines["IP Family Policy"] == "PreferDualStack" and lines["IP Families"] == "IPv4,IPv6"
    v4, v6 = lines["IPs"].split(",")
    assert lines["IP"] == v4 and ipaddress.ip_address(v4) in ipaddress.ip_network("10.96.0.0/12")
    assert ipaddress.ip_address(v6) in ipaddress.ip_network("fd00:10:96::/112")
    # Applying it again changes nothing; the default Service is single-stack of the primary family.
    again = kubectl("apply", "-n", ns, "-f", str(EXAMPLES / "dual-stack-preferred-svc.yaml"))
    assert again.stdout.strip() == "service/my-service unchanged"
    path = tmp_path / "default.yaml"
    path.write_text((EXAMPLES / "dual-stack-default-svc.yaml").read_text().replace("my-service", "my-default"))
    kubectl("apply", "-n", ns, "-f", str(path))
    got = json.loads(kubectl("get", "svc", "my-default", "-n", ns, "-o", "json").stdout)["spec"]
    assert got["ipFamilyPolicy"] == "SingleStack" and got["ipFamilies"] == ["IPv4"] and len(got["clusterIPs"]) == 1
    # RequireDualStack with one family asked for: the other is added.
    path = tmp_path / "require.yaml"
    path.write_text((EXAMPLES / "dual-stack-preferred-svc.yaml").read_text()
                    .replace("my-service", "my-required").replace("PreferDualStack", "RequireDualStack"))
    kubectl("apply", "-n", ns, "-f", str(path))
    got = json.loads(kubectl("get", "svc", "my-required", "-n", ns, "-o", "json").stdout)["spec"]
    assert got["ipFamilies"] == ["IPv4", "IPv6"]
