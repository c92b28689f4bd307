"""What a CoreDNS pod answers, with kubeadm's Corefile (sim/kubeadm_dns.py COREFILE): the
`kubernetes cluster.local in-addr.arpa ip6.arpa` plugin (`pods insecure`, `fallthrough in-addr.arpa
ip6.arpa`, `ttl 30`), then `forward . /etc/resolv.conf` to the node's upstream resolver
(sim/upstream_dns.py), `cache 30` and `loadbalance`.

The kubernetes plugin (coredns/plugin/kubernetes) as upstream writes it:
- parseRequest (parse.go): `[_port._proto.|endpoint.]service.namespace.svc.zone` or
  `name.namespace.pod.zone`; anything else under the zone is errInvalidRequest (NXDOMAIN); the apex,
  `svc.zone` and `pod.zone` are NODATA.
- Records / findServices (kubernetes.go): a namespace that does not exist is NXDOMAIN
  (namespaceExposed); a namespace alone is NODATA. A ClusterIP Service gives one record per
  ClusterIP (each family) and matching port; a headless Service, or an endpoint query
  (`web-0.nginx.default.svc...`), one per ready endpoint address (EndpointSliceToEndpoints keeps
  endpoints whose `ready` is true or unset; the EndpointSlice controller already marks them ready
  for publishNotReadyAddresses) matched by endpointHostname (the endpoint's hostname, else its
  dashed IP); an ExternalName Service a CNAME to spec.externalName (none when that is an IP).
  Nothing matching: errNoItems, NXDOMAIN.
- findPods, `pods insecure`: `a-b-c-d.ns.pod.zone` is A a.b.c.d when the namespace exists.
- plugin.A / AAAA / SRV / PTR / CNAME (plugin/backend_lookup.go): a record of the asked family
  (an IPv4-only Service asked for AAAA: NOERROR and no answer - NODATA - not NXDOMAIN); a CNAME is
  chased, inside the zone by the plugin, outside it through CoreDNS itself (the forward plugin);
  SRV weights are 100 / the records sharing a priority, targets the record's name, no SRV for a
  port-less endpoint (port -1); other types are NODATA or NXDOMAIN by a "fake A lookup".
- Reverse (reverse.go): a ClusterIP's name, else every ready endpoint holding the address as
  `<endpointHostname>.<svc>.<ns>.svc.zone`; not found falls through to `forward`.
- Answers are authoritative (handler.go sets Authoritative), TTL 30 (the Corefile's `ttl 30`).
`loadbalance` shuffles the address records of an answer (round_robin); `cache 30` caps a
forwarded answer's TTL at 30 s.  (kubeadm's Corefile disables the cache for cluster.local, so
cluster answers always reflect CoreDNS's informers.)
"""
from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from sim import upstream_dns
from sim.upstream_dns import record

if TYPE_CHECKING:
    from sim.cluster import Cluster

KUBERNETES_TTL = 30        # the Corefile's `ttl 30` (the plugin's default is 5)
CACHE_MAX_TTL = 30         # `cache 30`
REVERSE_ZONES = ("in-addr.arpa", "ip6.arpa")
NXDOMAIN, NOERROR = "NXDOMAIN", "NOERROR"
_MAX_CHASE = 8             # plugin.A: no more than 7 CNAMEs before giving up


class _NameError(Exception):
    """errNoItems / errNsNotExposed / errInvalidRequest: the handler answers NXDOMAIN."""


def _family(host: str) -> str:
    """msg.Service.HostType: A, AAAA, or CNAME when the host is a name."""
    try:
        return "AAAA" if ipaddress.ip_address(host).version == 6 else "A"
    except ValueError:
        return "CNAME"


class _View:
    """The plugin's informers: Services, EndpointSlices and Namespaces from the API server's watch
    cache (the serving one, else the last one CoreDNS heard from - informers keep their store)."""

    def __init__(self, cluster: "Cluster"):
        api = cluster.serving_apiserver() or (cluster.apiservers[0] if cluster.apiservers else None)
        cache = api.cache if api is not None else None
        self.services = cache.objects("services") if cache else {}
        self.namespaces = cache.objects("namespaces") if cache else {}
        self.slices = cache.objects("endpointslices.discovery.k8s.io") if cache else {}

    def namespace_exposed(self, ns: str) -> bool:
        return ("", ns) in self.namespaces

    def endpoints(self, ns: str, svc: str) -> list[tuple[dict, list[dict]]]:
        """EndpointSliceToEndpoints for the Service's slices: (address, ports) of every ready
        endpoint address; a slice without ports gets the sentinel port -1."""
        out = []
        for (sns, _), sl in sorted(self.slices.items()):
            if sns != ns or ((sl.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name") != svc:
                continue
            ports = [{"port": p.get("port", -1), "name": p.get("name") or "", "protocol": p.get("protocol") or "TCP"}
                     for p in sl.get("ports") or []] or [{"port": -1, "name": "", "protocol": ""}]
            for ep in sl.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                for a in ep.get("addresses") or []:
                    out.append(({"ip": a, "hostname": ep.get("hostname") or ""}, ports))
        return out


def endpoint_hostname(addr: dict) -> str:
    """endpointHostname: the endpoint's hostname, else its IP with dashes."""
    if addr.get("hostname"):
        return addr["hostname"]
    return addr["ip"].replace(".", "-").replace(":", "-")


def _matches_port(port: str, protocol: str, p: dict) -> bool:
    """matchPortAndProtocol: an empty request part matches anything."""
    return (port == "" or port.lower() == (p.get("name") or "").lower()) and \
        (protocol == "" or protocol.lower() == (p.get("protocol") or "").lower())


def _parse_request(base: str) -> dict | None:
    """parseRequest of the name without its zone; None for the apex (NODATA)."""
    if base in ("", "svc", "pod"):
        return None
    segs = base.split(".")
    r = {"podOrSvc": segs[-1], "namespace": "", "service": "", "endpoint": "", "port": "", "protocol": ""}
    if r["podOrSvc"] not in ("svc", "pod"):
        raise _NameError
    rest = segs[:-1]
    if rest:
        r["namespace"] = rest.pop()
    if rest:
        r["service"] = rest.pop()
    if len(rest) == 1:
        r["endpoint"] = rest[0]
    elif len(rest) == 2:
        r["port"], r["protocol"] = (s[1:] if s.startswith("_") else s for s in rest)
    elif rest:
        raise _NameError                        # too long
    return r


def _services(view: _View, r: dict, domain: str) -> list[dict]:
    """findServices / findPods: msg.Service-like {"host", "port", "key"}; _NameError for none."""
    ns = r["namespace"]
    if not view.namespace_exposed(ns):
        raise _NameError                        # errNsNotExposed
    if r["podOrSvc"] == "pod":
        name = r["service"]
        if not name:
            return []
        ip = name.replace("-", ".") if name.count("-") == 3 and "--" not in name else name.replace("-", ":")
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise _NameError from None
        return [{"host": ip, "port": 0, "key": f"{name}.{ns}.pod.{domain}"}]
    if not r["service"]:
        return []                               # NODATA
    svc = view.services.get((ns, r["service"]))
    if svc is None:
        raise _NameError
    spec = svc.get("spec") or {}
    name = svc["metadata"]["name"]
    key = f"{name}.{ns}.svc.{domain}"
    if spec.get("type") == "ExternalName":
        target = (spec.get("externalName") or "").rstrip(".")
        if r["endpoint"] or not target or _family(target) != "CNAME":
            raise _NameError
        return [{"host": target, "port": 0, "key": key}]
    out, found = [], False
    if spec.get("clusterIP") == "None" or r["endpoint"]:
        for addr, ports in view.endpoints(ns, name):
            host = endpoint_hostname(addr)
            if r["endpoint"] and r["endpoint"].lower() != host.lower():
                continue
            for p in ports:
                if _matches_port(r["port"], r["protocol"], p):
                    found = True
                    out.append({"host": addr["ip"], "port": p["port"], "key": f"{host}.{key}"})
    else:
        ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        for p in spec.get("ports") or []:
            if _matches_port(r["port"], r["protocol"], {"name": p.get("name"), "protocol": p.get("protocol") or "TCP"}):
                found = True
                out += [{"host": ip, "port": p.get("port"), "key": key} for ip in ips]
    if not found:
        raise _NameError
    return out


def _address_records(cluster, view, qname, qtype, services, domain, chain) -> list[dict]:
    """plugin.A / plugin.AAAA: the asked family's records, CNAMEs chased."""
    records, seen = [], set()
    for s in services:
        kind = _family(s["host"])
        if kind == "CNAME":
            if s["host"].lower() == qname or len(chain) >= _MAX_CHASE - 1 or s["host"] in chain:
                continue
            cname = record(qname, "CNAME", s["host"], KUBERNETES_TTL)
            if s["host"].lower().endswith("." + domain):
                try:
                    nxt = _plugin_records(cluster, view, s["host"].lower(), qtype, domain, chain + [s["host"]])
                except _NameError:
                    continue
                if nxt:
                    records += [cname, *nxt]
                continue
            # Outside the zone: the plugin's Lookup through CoreDNS itself (the forward plugin).
            records += [cname, *answer(cluster, s["host"], qtype, _chain=chain + [s["host"]])["answer"]]
        elif kind == qtype and s["host"] not in seen:
            seen.add(s["host"])
            records.append(record(qname, qtype, s["host"], KUBERNETES_TTL))
    return records


def _srv_records(qname: str, services: list[dict]) -> list[dict]:
    """plugin.SRV: priority 0, weight 100 / (records sharing the priority), deduplicated by
    target and port; port-less endpoints (-1) get none."""
    services = [s for s in services if _family(s["host"]) != "CNAME"]
    weight = max(1, 100 // len(services)) if services else 0
    records, seen = [], set()
    for s in services:
        if s["port"] == -1 or (s["key"], s["port"]) in seen:
            continue
        seen.add((s["key"], s["port"]))
        records.append(record(qname, "SRV", {"priority": 0, "weight": weight, "port": s["port"], "target": s["key"]},
                              KUBERNETES_TTL))
    return records


def _plugin_records(cluster, view, name: str, qtype: str, domain: str, chain: list) -> list[dict]:
    """The kubernetes plugin's answer records for a name in the cluster zone; _NameError for NXDOMAIN."""
    r = _parse_request(name[: -len(domain)].rstrip("."))
    services = _services(view, r, domain) if r is not None else []
    if qtype in ("A", "AAAA"):
        return _address_records(cluster, view, name, qtype, services, domain, chain)
    if qtype == "SRV":
        return _srv_records(name, services)
    if qtype == "CNAME":
        return [record(name, "CNAME", s["host"], KUBERNETES_TTL) for s in services if _family(s["host"]) == "CNAME"]
    return []                                   # other types: NODATA (the fake A lookup found the name)


def _reverse_records(view: _View, name: str, domain: str) -> list[dict]:
    """Reverse / serviceRecordForIP."""
    ip = upstream_dns.address_of_reverse(name)
    if ip is None:
        return []
    for (ns, svc_name), svc in sorted(view.services.items()):
        spec = svc.get("spec") or {}
        if ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
            return [record(name, "PTR", f"{svc_name}.{ns}.svc.{domain}", KUBERNETES_TTL)]
    out = []
    for (ns, svc_name), svc in sorted(view.services.items()):
        for addr, _ in view.endpoints(ns, svc_name):
            if addr["ip"] == ip:
                out.append(record(name, "PTR", f"{endpoint_hostname(addr)}.{svc_name}.{ns}.svc.{domain}", KUBERNETES_TTL))
                break
    return out


def _shuffled(cluster: "Cluster", records: list[dict]) -> list[dict]:
    """The loadbalance plugin's round robin: address records in a random order, others kept first."""
    addrs = [r for r in records if r["type"] in ("A", "AAAA")]
    if len(addrs) < 2:
        return records
    cluster.kernel.rng.shuffle(addrs)
    return [r for r in records if r["type"] not in ("A", "AAAA")] + addrs


def answer(cluster: "Cluster", qname: str, qtype: str = "A", domain: str = "cluster.local",
           _chain: list | None = None) -> dict:
    """A CoreDNS pod's reply to one question: {"rcode": "NOERROR" | "NXDOMAIN", "aa", "answer"}."""
    name = qname.lower().rstrip(".")
    chain = _chain or []
    in_cluster = name == domain or name.endswith("." + domain)
    reverse = any(name == z or name.endswith("." + z) for z in REVERSE_ZONES)
    if (in_cluster or reverse) and len(chain) < _MAX_CHASE:
        view = _View(cluster)
        try:
            if reverse:
                records = _reverse_records(view, name, domain) if qtype == "PTR" else []
                if not records:
                    raise _NameError            # `fallthrough in-addr.arpa ip6.arpa`: on to forward
            else:
                records = _plugin_records(cluster, view, name, qtype, domain, chain)
            return {"rcode": NOERROR, "aa": True, "answer": _shuffled(cluster, records)}
        except _NameError:
            if in_cluster:
                return {"rcode": NXDOMAIN, "aa": True, "answer": []}
    reply = upstream_dns.resolve(name, qtype)       # forward . /etc/resolv.conf
    for r in reply["answer"]:
        r["ttl"] = min(r["ttl"], CACHE_MAX_TTL)
    reply["answer"] = _shuffled(cluster, reply["answer"])
    return reply
