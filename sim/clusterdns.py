"""Cluster DNS queries: a pod's stub resolver (its /etc/resolv.conf: nameserver, search path,
ndots) sends each query over UDP to the nameserver; on the way the source node's kube-proxy rules
(`KubeProxy.route`) DNAT 10.96.0.10:53 to a CoreDNS pod, which answers as sim/coredns.py says
(the kubernetes plugin from its informers' view of Services and EndpointSlices, the rest forwarded
to the node's upstream resolver).  A query to the upstream resolver itself (a dnsPolicy Default
pod's nameserver) is answered by it (sim/upstream_dns.py).

- No route to a running CoreDNS (no ready endpoint, so kube-proxy REJECTs or no rule DNATs, or
  the pod is unreachable): the query times out, as the resolver reports after its retries.
- `lookup` is glibc's getaddrinfo (AF_UNSPEC): A and AAAA for each name the search rules give
  (res_nsearch: a name with fewer dots than ndots is tried with each search domain first, then as
  given; a name ending in "." only as given), the first name with an address wins, a timeout ends
  the search, the next nameserver is tried when one does not answer.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sim import coredns, networkpolicy, upstream_dns
from sim.kubelet.dns import HOST_NAMESERVERS
from sim.runtime.process import TIMED_OUT

if TYPE_CHECKING:
    from sim.cluster import Cluster

DNS_PORT = 53
MAXNS = 3            # glibc resolv.h: the resolver reads at most 3 nameservers


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


def _pod_at(cluster: "Cluster", ip: str):
    """(node, runtime, pod uid) of the running sandbox holding `ip`, or None."""
    for node in sorted(cluster.node_components):
        runtime = cluster.node_components[node][0]
        for uid, sb in sorted(runtime.sandboxes.items()):
            if sb.get("ip") == ip:
                return node, runtime, uid
    return None


def exchange(cluster: "Cluster", node: str, src_ip: str, server: str, qname: str, qtype: str = "A") -> dict:
    """One query (`qname`, `qtype`) from a pod at `src_ip` on `node` to `server`:53/UDP: the
    reply {"rcode": "NOERROR" | "NXDOMAIN", "aa": authoritative, "answer": [records as
    sim/upstream_dns.record makes them], "addresses": the answer's A/AAAA data, "endpoint":
    "ip:port" that answered}, or {"rcode": "TIMEOUT"}."""
    if server in HOST_NAMESERVERS:
        # The node's upstream resolver (the network's gateway): outside the cluster, no kube-proxy rule.
        return _reply(upstream_dns.resolve(qname, qtype), f"{server}:{DNS_PORT}")
    dst, port = server, DNS_PORT
    try:
        verdict = cluster.kube_proxy(node).route({"src": src_ip, "dst": server, "dport": DNS_PORT, "proto": "udp"})
    except Exception:  # noqa: BLE001 - a node without kube-proxy: the packet goes as addressed
        verdict = {"verdict": "ACCEPT", "endpoint": None}
    if verdict.get("verdict") != "ACCEPT":
        return {"rcode": "TIMEOUT"}     # REJECTed (no endpoints) or dropped: no answer
    if verdict.get("endpoint"):
        dst, _, p = verdict["endpoint"].rpartition(":")
        port = int(p)
    found = _pod_at(cluster, dst)
    if found is None:
        return {"rcode": "TIMEOUT"}
    dst_node, runtime, uid = found
    if not networkpolicy.filter_connection(cluster, src_ip, node, dst, dst_node, port, "udp").allowed:
        return {"rcode": "TIMEOUT"}     # dropped by the CNI plugin's NetworkPolicy enforcement
    if not cluster.kernel.network.reachable(node, dst_node) or not runtime.running:
        return {"rcode": "TIMEOUT"}
    listener = runtime.listener(uid, port)
    if listener is None or listener.program is None or listener.program.name not in ("coredns", "/coredns"):
        return {"rcode": "TIMEOUT"}     # nothing answering DNS there (UDP: no refusal either)
    return _reply(coredns.answer(cluster, qname, qtype), f"{dst}:{port}")


def _reply(reply: dict, endpoint: str) -> dict:
    return {**reply, "endpoint": endpoint,
            "addresses": [r["data"] for r in reply["answer"] if r["type"] in ("A", "AAAA")]}


def lookup(cluster: "Cluster", node: str, src_ip: str, resolv_conf: str, host: str, server: str | None = None) -> dict:
    """What getaddrinfo finds for `host`: {"server", "status": "ok" | "nxdomain" | "timeout",
    "name" (the name that answered), "addresses" (IPv4 first, as RFC 6724 sorts them for a pod
    without IPv6)}."""
    servers, searches, ndots = parse_resolv_conf(resolv_conf)
    servers = [server] if server else (servers[:MAXNS] or ["127.0.0.1"])
    for name in candidates(host, searches, ndots):
        addrs, answered = [], None
        for qtype in ("A", "AAAA"):
            for s in servers:           # res_send: each nameserver in turn until one answers
                r = exchange(cluster, node, src_ip, s, name, qtype)
                if r["rcode"] != "TIMEOUT":
                    answered = answered or s
                    addrs += [a for a in r["addresses"] if a not in addrs]
                    break
            else:
                return {"server": servers[0], "status": "timeout", "name": host, "addresses": []}
        if addrs:
            return {"server": answered, "status": "ok", "name": name, "addresses": addrs}
    return {"server": servers[0], "status": "nxdomain", "name": host, "addresses": []}


def http_get(cluster: "Cluster", node: str, src_ip: str, resolv_conf: str, url: str,
             host: str | None = None) -> tuple[int, str] | str | None:
    """A pod's HTTP GET of `url` over the pod network: the name resolved as above, the
    connection to ip:port through the source node's kube-proxy rules (a ClusterIP DNATed to the
    endpoint its probabilities pick), to the pod holding the address, whose program answers.
    `host`: the request's Host header (the URL's host when None), which an ingress controller
    routes by.  (status, body), None when nothing answers there (refused, or no route), or
    TIMED_OUT when the CNI plugin drops the connection for a NetworkPolicy (sim/networkpolicy.py)."""
    scheme, rest = url.split("://", 1) if "://" in url else ("http", url)
    hostport, _, path = rest.partition("/")
    host_name, _, port_text = hostport.rpartition("@")[2].partition(":")
    port = int(port_text) if port_text.isdigit() else (443 if scheme == "https" else 80)
    host_header, host = host or host_name, host_name
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host):
        ip = host
    else:
        found = lookup(cluster, node, src_ip, resolv_conf, host)
        if found["status"] != "ok" or not found["addresses"]:
            return None
        ip = found["addresses"][0]
    try:
        verdict = cluster.kube_proxy(node).route({"src": src_ip, "dst": ip, "dport": port, "proto": "tcp"})
    except Exception:  # noqa: BLE001 - no kube-proxy on the node: the packet goes as addressed
        verdict = {"verdict": "ACCEPT", "endpoint": None}
    if verdict.get("verdict") != "ACCEPT":
        return None      # REJECT: a Service without endpoints refuses the connection
    if verdict.get("endpoint"):
        ip, _, p = verdict["endpoint"].rpartition(":")
        port = int(p)
    found_pod = _pod_at(cluster, ip)
    if found_pod is None:
        return None
    dst_node, runtime, uid = found_pod
    if not networkpolicy.filter_connection(cluster, src_ip, node, ip, dst_node, port, "tcp").allowed:
        return TIMED_OUT     # the SYN dropped by the CNI plugin's NetworkPolicy enforcement
    if not cluster.kernel.network.reachable(node, dst_node) or not runtime.running:
        return None
    c = runtime.listener(uid, port)
    if c is None or c.program is None or c.program.http is None:
        return None
    if getattr(c.process, "serve_http", None) is not None:
        # A process that is a simulated component (an ingress controller) answers itself.
        return c.process.serve_http(port, host_header, "/" + path, client=src_ip)
    return c.program.http(c.ctx, "/" + path, cluster.now - (c.started_at or cluster.now))
