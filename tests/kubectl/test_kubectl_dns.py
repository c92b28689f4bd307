"""Cluster DNS with the machine's real kubectl: kubeadm's CoreDNS in kube-system behind kube-dns
(`get deploy,svc -n kube-system`, `cluster-info`'s CoreDNS line), a pod's /etc/resolv.conf and
`nslookup` asking CoreDNS through kube-proxy (`kubectl exec`, on the versions that exec over
WebSocket)."""
from __future__ import annotations

import json

from tests.conftest import wait_until
from tests.kubectl.conftest import rows


def _speaks_websocket(kubectl) -> bool:
    return kubectl.minor is None or int(kubectl.minor.split(".")[1]) >= 30


def test_coredns_runs_behind_kube_dns(kubectl):
    # kubeadm's addon phase runs right after kube-system exists: a fresh cluster may lack it yet.
    wait_until(lambda: kubectl("get", "svc", "kube-dns", "-n", "kube-system", check=False).returncode == 0,
               30, 0.2, "the kube-dns Service")
    svc = {r[0]: r for r in rows(kubectl("get", "svc", "-n", "kube-system").stdout)}
    assert svc["kube-dns"][:5] == ["kube-dns", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP,9153/TCP"]
    wait_until(lambda: rows(kubectl("get", "deploy", "coredns", "-n", "kube-system").stdout)[1][1] == "2/2",
               60, 0.5, "coredns 2/2")
    out = kubectl("cluster-info").stdout
    assert "CoreDNS" in out and "is running at" in out
    assert "/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy" in out


def test_resolv_conf_and_nslookup_in_a_pod(kubectl_some):
    kubectl = kubectl_some
    if not _speaks_websocket(kubectl):
        return   # (exec over SPDY: see test_kubectl_containers)
    name = f"dns-{kubectl.suffix}"
    kubectl("run", name, "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600")

    def phase():
        return json.loads(kubectl("get", "pod", name, "-o", "json").stdout)["status"].get("phase")
    wait_until(lambda: phase() == "Running", 60, 0.5, f"{name} Running")
    resolv = kubectl("exec", name, "--", "cat", "/etc/resolv.conf").stdout
    assert resolv == ("search default.svc.cluster.local svc.cluster.local cluster.local\n"
                      "nameserver 10.96.0.10\noptions ndots:5\n")
    out = kubectl("exec", name, "--", "nslookup", "kubernetes").stdout
    assert out == ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
                   "Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1\n\n")
    missing = kubectl("exec", name, "--", "nslookup", "nosuch", check=False)
    assert missing.returncode == 1 and "** server can't find nosuch: NXDOMAIN" in missing.stdout
    kubectl("delete", "pod", name, "--wait=false")


def test_run_a_client_that_wgets_the_service_by_name(kubectl_some):
    kubectl = kubectl_some
    web, client = f"web-{kubectl.suffix}", f"client-{kubectl.suffix}"
    kubectl("create", "deployment", web, "--image=nginx:1.27", "--replicas=2")
    kubectl("expose", "deployment", web, "--port=80")

    def ready_endpoints():
        out = json.loads(kubectl("get", "endpointslices", "-l", f"kubernetes.io/service-name={web}",
                                 "-o", "json").stdout)
        return sum(1 for s in out["items"] for e in s.get("endpoints") or []
                   if (e.get("conditions") or {}).get("ready"))
    wait_until(lambda: ready_endpoints() == 2, 60, 0.5, f"{web}'s 2 endpoints")
    kubectl("run", client, "--image=busybox", "--restart=Never", "--", "wget", "-qO-", f"http://{web}")

    def phase():
        return json.loads(kubectl("get", "pod", client, "-o", "json").stdout)["status"].get("phase")
    wait_until(lambda: phase() in ("Succeeded", "Failed"), 60, 0.5, f"{client} finished")
    logs = kubectl("logs", client).stdout
    assert phase() == "Succeeded" and "<title>Welcome to nginx!</title>" in logs, logs
    kubectl("delete", "pod", client, "--wait=false")
    kubectl("delete", "svc,deployment", web, "--wait=false")
