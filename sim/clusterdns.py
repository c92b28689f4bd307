"""Cluster DNS queries: a pod's stub resolver (its /etc/resolv.conf: nameserver, search path,
ndots) sends each query over UDP to the nameserver; on the way the source node's kube-proxy rules
(`KubeProxy.route`) DNAT 10.96.0.10:53 to a CoreDNS pod, whose kubernetes plugin answers from
its informers' view of Services and EndpointSlices (here the serving apiserver's watch cache).

- `<svc>.<ns>.svc.<domain>`: A of the ClusterIP; a headless Service (clusterIP None): A of every
  ready endpoint address (coredns/plugin/kubernetes: endpoints the EndpointSlice marks ready);
  anything else under the cluster domain: NXDOMAIN.  Names outside it go to the `forward`
  plugin's upstream, which knows none of them here (NXDOMAIN).
- No route to a running CoreDNS (no ready endpoint, so kube-proxy REJECTs or no rule DNATs, or
  the pod is unreachable): the query times out, as the resolver reports after its retries.
- The search path as glibc / musl / busybox apply it: a name with fewer dots than ndots is
  tried with each search domain first, then as given; a name ending in "." only as given.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sim import datapath

if TYPE_CHECKING:
    from sim.cluster import Cluster

DNS_PORT = 53


def parse_resolv_conf(text: str) -> tuple[list[str], list[str], int]:
    """(nameservers, search domains, ndots) of a resolv.conf (ndots defaults to 1)."""
    servers, searches, ndots = [], [], 1
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith(("#", ";")):
            continue
        if words[0] == "nameserver" and len(words) > 1:
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            searches = words[1:]
        elif words[0] == "options":
            for o in words[1:]:
                m = re.fullmatch(r"ndots:(\d+)", o)
                if m:
                    ndots = min(int(m.group(1)), 15)
    return servers, searches, ndots


def candidates(host: str, searches: list[str], ndots: int) -> list[str]:
    """The fully qualified names the resolver tries, in order."""
    if host.endswith("."):
        return [host.rstrip(".")]
    with_search = [f"{host}.{s.rstrip('.')}" for s in searches]
    if host.count(".") >= ndots:
        return [host, *with_search]
    return [*with_search, host]


def kubernetes_answer(cluster: "Cluster", qname: str, domain: str = "cluster.local") -> list[str] | None:
    """The kubernetes plugin's A records for `qname`, or None for NXDOMAIN."""
    api = cluster.serving_apiserver()
    if api is None:
        return None
    name = qname.lower().rstrip(".")
    suffix = f".svc.{domain}"
    if not name.endswith(suffix):
        return None
    parts = name[: -len(suffix)].split(".")
    if len(parts) != 2:
        return None      # (<endpoint>.<svc>.<ns>.svc names are not modelled)
    svc_name, ns = parts
    svc = api.cache.objects("services").get((ns, svc_name))
    if svc is None:
        return None
    spec = svc.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return None      # a CNAME to spec.externalName, which the upstream does not know here
    ip = spec.get("clusterIP")
    if ip and ip != "None":
        return [ip]
    from sim.registry import BUILTIN
    gr = BUILTIN.lookup("discovery.k8s.io", "endpointslices").gr
    addrs = []
    for (sns, _), sl in sorted(api.cache.objects(gr).items()):
        if sns != ns or ((sl.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name") != svc_name:
            continue
        for ep in sl.get("endpoints") or []:
            if (ep.get("conditions") or {}).get("ready") is not False:
                addrs.extend(a for a in ep.get("addresses") or [] if a not in addrs)
    return addrs or None


def exchange(cluster: "Cluster", node: str, src_ip: str, server: str, qname: str) -> dict:
    """One query for `qname` from a pod at `src_ip` on `node` to `server`:53/UDP, over the
    packet path (sim/datapath.py: kube-proxy's DNAT to a CoreDNS pod, the CNI hop).
    {"rcode": "NOERROR" | "NXDOMAIN", "addresses": [...], "endpoint": "ip:port", "trace"} or
    {"rcode": "TIMEOUT", "trace"}."""
    t = datapath.trace(cluster, {"src": src_ip, "src_node": node, "dst": server, "dport": DNS_PORT, "proto": "udp"})
    listener = t.listener
    if t.verdict != "delivered" or listener.program is None or listener.program.name not in ("coredns", "/coredns"):
        return {"rcode": "TIMEOUT", "trace": t}     # no answer (UDP: no refusal either)
    addrs = kubernetes_answer(cluster, qname)
    if addrs is None:
        return {"rcode": "NXDOMAIN", "addresses": [], "endpoint": t.endpoint, "trace": t}
    return {"rcode": "NOERROR", "addresses": addrs, "endpoint": t.endpoint, "trace": t}


def lookup(cluster: "Cluster", node: str, src_ip: str, resolv_conf: str, host: str, server: str | None = None) -> dict:
    """What a stub resolver finds for `host`: {"server", "status": "ok" | "nxdomain" |
    "timeout", "name" (the name that answered), "addresses"}."""
    servers, searches, ndots = parse_resolv_conf(resolv_conf)
    server = server or (servers[0] if servers else "127.0.0.1")
    for name in candidates(host, searches, ndots):
        r = exchange(cluster, node, src_ip, server, name)
        if r["rcode"] == "TIMEOUT":
            return {"server": server, "status": "timeout", "name": host, "addresses": []}
        if r["rcode"] == "NOERROR":
            return {"server": server, "status": "ok", "name": name, "addresses": r["addresses"]}
    return {"server": server, "status": "nxdomain", "name": host, "addresses": []}


def http_get(cluster: "Cluster", node: str, src_ip: str, resolv_conf: str, url: str) -> tuple[int, str] | None:
    """A pod's HTTP GET of `url` over the pod network: the name resolved as above, the
    connection to ip:port through the source node's kube-proxy rules (a ClusterIP DNATed to the
    endpoint its probabilities pick), to the pod holding the address, whose program answers.
    (status, body), or None when nothing answers there (refused, or no route)."""
    scheme, rest = url.split("://", 1) if "://" in url else ("http", url)
    hostport, _, path = rest.partition("/")
    host, _, port_text = hostport.rpartition("@")[2].partition(":")
    port = int(port_text) if port_text.isdigit() else (443 if scheme == "https" else 80)
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host):
        ip = host
    elif host.lower() == "localhost":
        ip = "127.0.0.1"     # /etc/hosts, which the kubelet writes into every container
    else:
        found = lookup(cluster, node, src_ip, resolv_conf, host)
        if found["status"] != "ok" or not found["addresses"]:
            return None
        ip = found["addresses"][0]
    t = datapath.trace(cluster, {"src": src_ip, "src_node": node, "dst": ip, "dport": port, "proto": "tcp"})
    c = t.listener
    if t.verdict != "delivered" or c.program is None or c.program.http is None:
        return None
    return c.program.http(c.ctx, "/" + path, cluster.now - (c.started_at or cluster.now))
