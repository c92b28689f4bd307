"""Cluster DNS with the machine's real kubectl: kubeadm's CoreDNS in kube-system behind kube-dns
(`get deploy,svc -n kube-system`, `cluster-info`'s CoreDNS line), a pod's /etc/resolv.conf and
busybox's `nslookup` asking CoreDNS through kube-proxy (`kubectl exec`, on the versions that exec
over WebSocket): a Service by its short name, SRV for its named port, a StatefulSet pod's name.
Nothing here differs by kubectl version, so 1.27, 1.33 and 1.37 run it."""
from __future__ import annotations

import json
import re

from tests.conftest import wait_until
from tests.kubectl.conftest import rows


def _speaks_websocket(kubectl) -> bool:
    return kubectl.minor is None or int(kubectl.minor.split(".")[1]) >= 30


def test_coredns_runs_behind_kube_dns(kubectl_some):
    kubectl = kubectl_some
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


MANIFEST = """apiVersion: v1
kind: Service
metadata:
  name: web-{s}
spec:
  selector:
    app: web-{s}
  ports:
  - name: http
    port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-{s}
spec:
  clusterIP: None
  selector:
    app: nginx-{s}
  ports:
  - name: web
    port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db-{s}
spec:
  serviceName: nginx-{s}
  replicas: 1
  selector:
    matchLabels:
      app: nginx-{s}
  template:
    metadata:
      labels:
        app: nginx-{s}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
"""


def test_resolv_conf_and_nslookup_in_a_pod(kubectl_some, tmp_path):
    kubectl = kubectl_some
    if not _speaks_websocket(kubectl):
        return   # (exec over SPDY: see test_kubectl_containers)
    s = kubectl.suffix
    name, web, sts = f"dns-{s}", f"web-{s}", f"db-{s}"
    manifest = tmp_path / "dns.yaml"
    manifest.write_text(MANIFEST.format(s=s))
    kubectl("apply", "-f", str(manifest))
    kubectl("run", name, "--image=busybox:1.36", "--restart=Never", "--", "sleep", "3600")

    def phase(pod):
        return json.loads(kubectl("get", "pod", pod, "-o", "json").stdout)["status"].get("phase")
    wait_until(lambda: phase(name) == "Running", 60, 0.5, f"{name} Running")
    resolv = kubectl("exec", name, "--", "cat", "/etc/resolv.conf").stdout
    assert resolv == ("search default.svc.cluster.local svc.cluster.local cluster.local\n"
                      "nameserver 10.96.0.10\noptions ndots:5\n")
    ip = json.loads(kubectl("get", "svc", web, "-o", "json").stdout)["spec"]["clusterIP"]
    head = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
    # busybox asks A and AAAA under every search domain: the answer, NXDOMAIN for the other two
    # domains, an empty (NODATA) AAAA reply; it exits 1 because some replies were errors.
    short = kubectl("exec", name, "--", "nslookup", web, check=False)
    nx = "".join(f"** server can't find {web}.{d}: NXDOMAIN\n\n" for d in ("svc.cluster.local", "cluster.local"))
    assert (short.returncode, short.stdout) == (
        1, head + f"Name:\t{web}.default.svc.cluster.local\nAddress: {ip}\n\n" + nx + "\n" + nx)
    srv = kubectl("exec", name, "--", "nslookup", "-type=srv", f"_http._tcp.{web}.default.svc.cluster.local").stdout
    assert srv == head + f"_http._tcp.{web}.default.svc.cluster.local\tservice = 0 100 80 {web}.default.svc.cluster.local\n\n"
    # A dotted name is never searched by busybox: the short SRV name is NXDOMAIN.
    short_srv = kubectl("exec", name, "--", "nslookup", "-type=srv", f"_http._tcp.{web}", check=False)
    assert short_srv.returncode == 1 and f"** server can't find _http._tcp.{web}: NXDOMAIN" in short_srv.stdout
    # The StatefulSet's pod by <hostname>.<subdomain>: its endpoint in the headless Service.
    wait_until(lambda: phase(f"{sts}-0") == "Running", 60, 0.5, f"{sts}-0 Running")
    pod_ip = json.loads(kubectl("get", "pod", f"{sts}-0", "-o", "json").stdout)["status"]["podIP"]
    fqdn = f"{sts}-0.nginx-{s}.default.svc.cluster.local"

    def found():
        r = kubectl("exec", name, "--", "nslookup", fqdn, check=False)
        return r.returncode == 0 and re.findall(r"Address: (\S+)", r.stdout.split("\n\n", 1)[1]) == [pod_ip]
    wait_until(found, 30, 0.5, f"{fqdn} in DNS")   # once the pod is ready and its endpoint published
    missing = kubectl("exec", name, "--", "nslookup", "nosuch", check=False)
    assert missing.returncode == 1 and "** server can't find nosuch.default.svc.cluster.local: NXDOMAIN" in missing.stdout
    kubectl("delete", "pod", name, "--wait=false")
    kubectl("delete", "-f", str(manifest), "--wait=false")


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
