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

from sim import coredns, datapath, upstream_dns
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


def exchange(cluster: "Cluster", node: str, src_ip: str, server: str, qname: str, qtype: str = "A") -> dict:
    """One query (`qname`, `qtype`) from a pod at `src_ip` on `node` to `server`:53/UDP, over the
    packet path (sim/datapath.py: kube-proxy's DNAT to a CoreDNS pod, NetworkPolicy, the CNI
    hop): the reply {"rcode": "NOERROR" | "NXDOMAIN", "aa": authoritative, "answer": [records as
    sim/upstream_dns.record makes them], "addresses": the answer's A/AAAA data, "endpoint":
    "ip:port" that answered, "trace"}, or {"rcode": "TIMEOUT", "trace"}."""
    if server in HOST_NAMESERVERS:
        # The node's upstream resolver (the network's gateway): outside the cluster, no kube-proxy rule.
        return _reply(upstream_dns.resolve(qname, qtype), f"{server}:{DNS_PORT}")
    t = datapath.trace(cluster, {"src": src_ip, "src_node": node, "dst": server, "dport": DNS_PORT, "proto": "udp"})
    listener = t.listener
    if t.verdict != "delivered" or listener.program is None or listener.program.name not in ("coredns", "/coredns"):
        return {"rcode": "TIMEOUT", "trace": t}     # no answer (UDP: no refusal either)
    return {**_reply(coredns.answer(cluster, qname, qtype), t.endpoint), "trace": t}


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
    routes by.  (status, body), None when it is refused (a RST, kube-proxy's REJECT), or
    TIMED_OUT when the SYN is lost: dropped by the CNI plugin for a NetworkPolicy
    (sim/networkpolicy.py), a partition, no route.  An IPv6 literal goes in brackets
    (http://[fd00:10:96::a]:80/)."""
    scheme, rest = url.split("://", 1) if "://" in url else ("http", url)
    hostport, _, path = rest.partition("/")
    hostport = hostport.rpartition("@")[2]
    if hostport.startswith("[") and "]" in hostport:
        host_name, _, tail = hostport[1:].partition("]")
        port_text = tail.removeprefix(":")
    else:
        host_name, _, port_text = hostport.partition(":")
    port = int(port_text) if port_text.isdigit() else (443 if scheme == "https" else 80)
    host_header, host = host or host_name, host_name
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host) or ":" in host:
        ip = host
    elif host.lower() == "localhost":
        ip = "127.0.0.1"     # /etc/hosts, which the kubelet writes into every container
    else:
        found = lookup(cluster, node, src_ip, resolv_conf, host)
        if found["status"] != "ok" or not found["addresses"]:
            return None
        ip = found["addresses"][0]
    t = datapath.trace(cluster, {"src": src_ip, "src_node": node, "dst": ip, "dport": port, "proto": "tcp"})
    if t.verdict in ("timeout", "dropped"):
        return TIMED_OUT     # the SYN is lost (a NetworkPolicy, a partition, no route): wget times out
    c = t.listener
    if t.verdict != "delivered" or c.program is None or c.program.http is None:
        return None
    if getattr(c.process, "serve_http", None) is not None:
        # A process that is a simulated component (an ingress controller) answers itself.
        return c.process.serve_http(port, host_header, "/" + path, client=src_ip)
    return c.program.http(c.ctx, "/" + path, cluster.now - (c.started_at or cluster.now))
