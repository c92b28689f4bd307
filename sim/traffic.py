"""Traffic you can watch: the control API's `POST .../sim/v1/traffic` (Cluster.send_traffic).

    {"from": "pod <ns>/<name>" | "node <name>" | "outside",
     "to": "<service>.<namespace>" | "<ip>" | "<ip>:<port>" | "http://<host>[:<port>]/<path>",
     "port"?: int (default: the URL's, the Service's first port, else 80),
     "protocol"?: "TCP" | "UDP", "count"?: 1..1000}

Each request is one connection traced through sim/datapath.py from its source: a pod (from its
IP, on its node), a node (its InternalIP, host network) or outside the cluster (a client at
198.51.100.10, TEST-NET-2: outside the cloud's load-balancer pool).  A Service name is resolved as CoreDNS's kubernetes plugin answers it.
The answer: every request's trace (hops, verdict, the endpoint and pod that answered, and what
an HTTP server there answered), and a summary per verdict and per endpoint, which is how many
requests show kube-proxy's probabilities spreading the load.

From a pod, a name is resolved for every request as the pod's stub resolver does it (`resolve`:
its resolv.conf's search path, each query a UDP packet to the kube-dns Service, DNATed to a
CoreDNS pod): the request's "dns" says which names were asked, what CoreDNS answered and which
CoreDNS pod answered (the first request of a call also carries each query's hops).  A name that
stops resolving fails the request before it connects: "timeout" (no CoreDNS answered) or
"unresolved" (NXDOMAIN), as `wget: bad address` reports either.
"""
from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from sim import clusterdns, datapath
from sim.coredns import answer as coredns_answer

if TYPE_CHECKING:
    from sim.cluster import Cluster

MAX_COUNT = 1000
OUTSIDE_CLIENT = "198.51.100.10"
BODY_SHOWN = 300          # characters of an HTTP answer kept per request
KEYS = {"from", "to", "port", "protocol", "count"}


class TrafficError(ValueError):
    def __init__(self, message: str, code: int = 400):
        super().__init__(message)
        self.code = code


def _ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def source(cluster: "Cluster", text: Any) -> tuple[str, str | None, str, dict | None]:
    """(src ip, src node or None, label, the pod or None) of `from`."""
    if not isinstance(text, str) or not text.strip():
        raise TrafficError('from: Required value: "pod <namespace>/<name>", "node <name>" or "outside"')
    kind, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    if kind == "outside" and not rest:
        return OUTSIDE_CLIENT, None, "outside", None
    if kind == "node":
        if rest not in cluster.node_components:
            raise TrafficError(f'node "{rest}" not found', 404)
        return cluster.node_components[rest][1].internal_ip, rest, f"node {rest}", None
    if kind == "pod":
        ns, _, name = rest.rpartition("/")
        ns = ns or "default"
        api = cluster.serving_apiserver()
        pod = api.cache.objects("pods").get((ns, name)) if api is not None else None
        if pod is None:
            raise TrafficError(f'pods "{name}" not found in namespace "{ns}"', 404)
        ip, node = (pod.get("status") or {}).get("podIP"), (pod.get("spec") or {}).get("nodeName")
        if not ip or not node:
            raise TrafficError(f"pod {ns}/{name} has no IP yet (not running)", 409)
        return ip, node, f"pod {ns}/{name}", pod
    raise TrafficError(f'from: Invalid value: "{text}": must be "pod <namespace>/<name>", "node <name>" or "outside"')


def destination(cluster: "Cluster", text: Any, port: Any) -> tuple[str, int, str, str | None]:
    """(ip, port, path, the host name when `to` names one) of `to`."""
    if not isinstance(text, str) or not text.strip() or len(text) > 2048:
        raise TrafficError('to: Required value: a Service ("web.default"), an IP, "ip:port" or a URL')
    text, path = text.strip(), "/"
    url_port = None
    m = re.fullmatch(r"(?:https?://)?([^/:\s]+)(?::(\d{1,5}))?(/\S*)?", text)
    if m is None:
        raise TrafficError(f'to: Invalid value: "{text}"')
    host, url_port, path = m.group(1), m.group(2), m.group(3) or "/"
    svc_port, name = None, None
    if _ip(host):
        ip = host
    else:
        name = host.lower().rstrip(".")
        if not name.endswith(".svc.cluster.local"):
            name = name.removesuffix(".svc") + ".svc.cluster.local"
        addrs = [r["data"] for r in coredns_answer(cluster, name, "A")["answer"] if r["type"] == "A"]
        if not addrs:
            raise TrafficError(f'to: Not found: "{host}": no such Service (NXDOMAIN for {name})', 404)
        ip = addrs[0]
        api = cluster.serving_apiserver()
        parts = name.split(".")
        svc = api.cache.objects("services").get((parts[1], parts[0])) if api is not None else None
        ports = ((svc or {}).get("spec") or {}).get("ports") or []
        if ports:
            headless = svc["spec"].get("clusterIP") in (None, "None")
            target = ports[0].get("targetPort")
            # A headless Service's name is its pods' addresses: the connection goes to their port.
            svc_port = target if headless and isinstance(target, int) else ports[0].get("port")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise TrafficError("port: Invalid value: must be an integer from 1 to 65535")
        chosen = port
    elif url_port is not None:
        chosen = int(url_port)
        if not 1 <= chosen <= 65535:
            raise TrafficError("to: Invalid value: the port must be from 1 to 65535")
    else:
        chosen = svc_port or 80
    return ip, int(chosen), path, None if _ip(host) else host


def resolve(cluster: "Cluster", src: str, node: str, pod: dict, host: str, hops: bool = True) -> dict:
    """What the pod's stub resolver does for `host` before it connects: the queries its
    /etc/resolv.conf makes (the kubelet's: the kube-dns ClusterIP, the namespace's search path,
    ndots:5), each a UDP packet to the kube-dns Service that the node's kube-proxy DNATs to a
    CoreDNS pod (sim/clusterdns.py exchange), in the search order, until one answers.

    {"name": host, "server", "status": "ok" | "nxdomain" | "timeout", "addresses",
     "queries": [{"qname", "type": "A", "rcode", "answer": [ip], "endpoint": the CoreDNS pod's
                  "ip:53", "pod": that pod ({"namespace", "name", "node", "ip"}) or None,
                  "hops": the query's path there (with `hops`)}]}"""
    from sim.kubelet.dns import resolv_conf
    cluster_dns = cluster.node_components[node][1].cluster_dns
    servers, searches, ndots = clusterdns.parse_resolv_conf(resolv_conf(pod, [cluster_dns] if cluster_dns else []))
    server = servers[0] if servers else "127.0.0.1"
    out: dict[str, Any] = {"name": host, "server": server, "status": "nxdomain", "addresses": [], "queries": []}
    for qname in clusterdns.candidates(host, searches, ndots):
        r = clusterdns.exchange(cluster, node, src, server, qname)
        t = r.get("trace")
        q = {"qname": qname, "type": "A", "rcode": r["rcode"], "answer": list(r.get("addresses") or ()),
             "endpoint": r.get("endpoint"), "pod": getattr(t, "pod", None)}
        if hops and t is not None:
            q["hops"] = t.to_json()["hops"]
        out["queries"].append(q)
        if r["rcode"] == "TIMEOUT":
            out["status"] = "timeout"
            return out
        if r["rcode"] == "NOERROR" and q["answer"]:
            out.update(status="ok", addresses=q["answer"])
            return out
    return out


def send(cluster: "Cluster", body: Any) -> dict:
    if not isinstance(body, dict):
        raise TrafficError('the body must be a JSON object: {"from", "to", "count"?, "port"?, "protocol"?}')
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise TrafficError(f'unknown field "{unknown[0]}"; known: {", ".join(sorted(KEYS))}')
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise TrafficError(f"count: Invalid value: must be an integer from 1 to {MAX_COUNT}")
    proto = body.get("protocol", "TCP")
    if proto not in ("TCP", "UDP"):
        raise TrafficError('protocol: Unsupported value: supported values: "TCP", "UDP"')
    src, src_node, label, pod = source(cluster, body.get("from"))
    dst, dport, path, host = destination(cluster, body.get("to"), body.get("port"))
    requests, summary, endpoints = [], {v: 0 for v in (*datapath.VERDICTS, "unresolved")}, {}
    for i in range(count):
        dns = None
        if host is not None and pod is not None:
            # A pod resolves the name through CoreDNS for each request (busybox's wget and curl
            # keep no cache); a node's or an outside client's resolver does not ask the cluster
            # DNS, so their names are the Service's address as `destination` found it.
            dns = resolve(cluster, src, src_node, pod, host, hops=i == 0)
            if dns["status"] != "ok":
                entry = {"packet": {"src": src, "src_node": src_node, "dst": None, "dport": dport,
                                    "proto": proto.lower()},
                         "hops": [{"at": label.removeprefix("pod "), "rule": None,
                                   "what": f"the name {host} does not resolve ({dns['status']} from {dns['server']}:53): "
                                           f"wget: bad address '{host}'"}],
                         "verdict": "timeout" if dns["status"] == "timeout" else "unresolved", "endpoint": None,
                         "pod": None, "snat": None, "dns": dns}
                requests.append(entry)
                summary[entry["verdict"]] += 1
                continue
            dst = dns["addresses"][0]
        t = datapath.trace(cluster, {"src": src, "src_node": src_node, "dst": dst, "dport": dport,
                                     "proto": proto.lower()})
        entry = t.to_json()
        if dns is not None:
            entry["dns"] = dns
        c = t.listener
        if t.verdict == "delivered" and proto == "TCP" and c is not None and c.program is not None \
                and c.program.http is not None:
            status, text = c.program.http(c.ctx, path, cluster.now - (c.started_at or cluster.now))
            entry["response"] = {"status": status, "body": text[:BODY_SHOWN]}
        requests.append(entry)
        summary[t.verdict] += 1
        if t.endpoint:
            e = endpoints.setdefault(t.endpoint, {"endpoint": t.endpoint, "pod": t.pod, "count": 0})
            e["count"] += 1
    per_endpoint = sorted(endpoints.values(), key=lambda e: e["endpoint"])
    for e in per_endpoint:
        e["share"] = round(e["count"] / count, 4)
    return {"kind": "TrafficResult", "from": label, "to": body.get("to"), "dst": dst, "dport": dport,
            "protocol": proto, "count": count, "cni": datapath.plugin_name(cluster),
            "summary": {"verdicts": summary, "endpoints": per_endpoint}, "requests": requests}
