"""kube-proxy's nftables mode as data: the `table ip kube-proxy` that pkg/proxy/nftables/proxier.go
(setupNFTables, syncProxyRules, writeServiceToEndpointRules) keeps, rendered as
`nft list table ip kube-proxy` prints it (and as knftables' transaction dump, the form upstream's
own unit tests compare), and `route`, which walks one packet through the hooks as the kernel would.

What is upstream's, and where:
- Names (proxier.go hashAndTruncate, servicePortChainNameBase, servicePortEndpointChainNameBase):
  the first 8 base32 characters of sha256(name), "-", then "<ns>/<svc>/<proto>/<port name>"
  (and "__<ip>/<port>" for an endpoint), behind the prefix service- / local- / external- /
  endpoint- / affinity- / firewall-: e.g. service-ULMVA6XW-ns1/svc1/tcp/p80.
- Dispatch through verdict maps: service-ips (daddr . l4proto . dport), service-nodeports
  (l4proto . dport, for the addresses in nodeport-ips: the node's primary IP, the nftables
  mode's default --nodeport-addresses), no-endpoint-services / no-endpoint-nodeports (reject or
  drop, checked in the filter chains), cluster-ips (a ClusterIP's other ports are rejected, an
  unallocated address of the service CIDR dropped: cluster-ips-check).
- Load balancing: `numgen random mod N vmap { 0 : goto endpoint-..., ... }`, uniform: the kernel's
  nft_ng_random draws get_random_u32_below(N); `route` draws with the node kernel's rng.
- ClientIP affinity: one `affinity-...` set per endpoint (flags dynamic,timeout, timeout = the
  Service's timeoutSeconds); the service chain's `ip saddr @affinity-X goto endpoint-X` rules,
  and the endpoint chain's `update @affinity-X { ip saddr }`.
- Partial syncs: the map elements are kept in nftElementStorage (only the difference is written)
  and only the changed Services' chains are rewritten; a chain no longer used is flushed at once
  and deleted by a later sync at least a second afterwards (staleChains, for kernels before 6.2).
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

from sim.kubeproxy_iptables import Endpoint, ServicePort, categorize, endpoint_key, traffic_policy_chains

TABLE = "kube-proxy"
MASQUERADE_MARK = "%#08x" % (1 << 14)  # NewProxier: fmt.Sprintf("%#08x", 1<<masqueradeBit) = 0x004000
AFFINITY_SET_SIZE = 65535  # a dynamic set's default size (nft lists it as `size 65535`)
STALE_CHAIN_DELAY = 1.0   # syncProxyRules deletes stale chains flushed at least a second ago
BASE_CHAINS = (  # nftablesBaseChains: (name, type, hook, priority)
    ("filter-prerouting-pre-dnat", "filter", "prerouting", -110),
    ("filter-output-pre-dnat", "filter", "output", -110),
    ("filter-forward", "filter", "forward", 0),
    ("filter-input", "filter", "input", 0),
    ("filter-output", "filter", "output", 0),
    ("nat-output", "nat", "output", -100),
    ("nat-postrouting", "nat", "postrouting", 100),
    ("nat-prerouting", "nat", "prerouting", -100),
)
JUMP_CHAINS = (  # nftablesJumpChains: (dst chain, src chain, extra args)
    ("nodeport-endpoints-check", "filter-input", "ct state new"),
    ("service-endpoints-check", "filter-input", "ct state new"),
    ("service-endpoints-check", "filter-forward", "ct state new"),
    ("service-endpoints-check", "filter-output", "ct state new"),
    ("firewall-check", "filter-prerouting-pre-dnat", "ct state new"),
    ("firewall-check", "filter-output-pre-dnat", "ct state new"),
    ("services", "nat-output", ""),
    ("services", "nat-prerouting", ""),
    ("masquerading", "nat-postrouting", ""),
    ("cluster-ips-check", "filter-forward", "ct state new"),
    ("cluster-ips-check", "filter-output", "ct state new"),
)
# The sets and maps setupNFTables creates: (kind, name, type, comment), in creation order.
CONTAINERS = (
    ("set", "cluster-ips", "ipv4_addr", "Active ClusterIPs"),
    ("set", "nodeport-ips", "ipv4_addr", "IPs that accept NodePort traffic"),
    ("map", "no-endpoint-services", "ipv4_addr . inet_proto . inet_service : verdict",
     "vmap to drop or reject packets to services with no endpoints"),
    ("map", "no-endpoint-nodeports", "inet_proto . inet_service : verdict",
     "vmap to drop or reject packets to service nodeports with no endpoints"),
    ("map", "firewall-ips", "ipv4_addr . inet_proto . inet_service : verdict",
     "destinations that are subject to LoadBalancerSourceRanges"),
    ("map", "service-ips", "ipv4_addr . inet_proto . inet_service : verdict",
     "ClusterIP, ExternalIP and LoadBalancer IP traffic"),
    ("map", "service-nodeports", "inet_proto . inet_service : verdict", "NodePort traffic"),
)
# The sets and maps each sync fills from the Services (the nftElementStorage ones).
ELEMENT_CONTAINERS = ("cluster-ips", "service-ips", "firewall-ips", "no-endpoint-services",
                      "no-endpoint-nodeports", "service-nodeports")
PRIORITY_NAMES = {-100: "dstnat", 100: "srcnat", 0: "filter"}  # nft's names for the ip family's hooks


def hash_and_truncate(name: str) -> str:
    """proxier.go hashAndTruncate (names here never reach the 240-character limit)."""
    return base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()[:8] + "-" + name


def chain_base(sp: ServicePort) -> str:
    """servicePortChainNameBase: HASH-<ns>/<svc>/<proto>/<port name>."""
    return hash_and_truncate(f"{sp.namespace}/{sp.name}/{sp.protocol.lower()}/{sp.port_name}")


def endpoint_base(sp: ServicePort, ep: Endpoint) -> str:
    """servicePortEndpointChainNameBase: HASH-<ns>/<svc>/<proto>/<port name>__<ip>/<port>."""
    return hash_and_truncate(f"{sp.namespace}/{sp.name}/{sp.protocol.lower()}/{sp.port_name}__{ep.ip}/{ep.port}")


def is_service_chain(name: str) -> bool:
    """isServiceChainName: only the per-Service chains have a "/" in their names."""
    return "/" in name


# -- rules as data ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NftRule:
    """One rule: `text` as kube-proxy writes it (knftables.Concat), an optional comment, and
    what `route` needs to evaluate it: `conds` (all must hold) and `verdict`.
    conds: ("ct_new",), ("daddr", ip), ("saddr", ip|cidr), ("saddr_not", cidr),
      ("saddr_not_in", cidrs), ("saddr_in_set", set), ("daddr_in_set", set), ("daddr_in", cidrs),
      ("daddr_not", cidr), ("fib_saddr_local",), ("mark_clear",).
    verdicts: ("jump"|"goto", chain), ("vmap", map, "daddr"|"port"), ("numgen", chains),
      ("dnat", "ip:port"), ("update", set), ("mark_or",), ("mark_xor",), ("masquerade",),
      ("reject",), ("drop",), ("return",)."""
    text: str
    conds: tuple = ()
    verdict: tuple = ()
    comment: str | None = None

    def written(self) -> str:
        return self.text + (f' comment "{self.comment}"' if self.comment else "")

    def listed(self) -> str:
        """The rule as `nft list` prints it back: meta mark expressions and their hex widths,
        and ", " between a literal map's elements."""
        t = self.text.replace(" , ", ", ")
        mark = "0x%08x" % int(MASQUERADE_MARK, 16)
        t = t.replace(f"mark set mark or {MASQUERADE_MARK}", f"meta mark set meta mark | {mark}")
        t = t.replace(f"mark set mark xor {MASQUERADE_MARK}", f"meta mark set meta mark ^ {mark}")
        t = t.replace(f"mark and {MASQUERADE_MARK} == 0 return", f"meta mark & {mark} == 0x00000000 return")
        return t + (f' comment "{self.comment}"' if self.comment else "")


def _jump_masq(conds: tuple, text: str) -> NftRule:
    return NftRule(text + " jump mark-for-masquerade", conds, ("jump", "mark-for-masquerade"))


@dataclass(frozen=True)
class PortObjects:
    """What syncProxyRules writes for one service port: its chains ((name, rules) in creation
    order), its affinity sets ((name, timeout)), and its map / set elements
    ((container, key, value, comment))."""
    chains: tuple
    affinity_sets: tuple
    elements: tuple
    has_endpoints: bool
    endpoints: int


@lru_cache(maxsize=32768)
def port_objects(sp: ServicePort, endpoints: tuple, node: str | None, cluster_cidr: str) -> PortObjects:
    """syncProxyRules' loop body for one service port: a pure function of the port, its
    endpoints, the node (under a Local policy) and the cluster CIDR (the local-traffic
    detector's), so nodes writing the same objects share them."""
    proto = sp.protocol.lower()
    name = sp.service_port_name
    base = chain_base(sp)
    cluster, local, reachable, has_endpoints = categorize(endpoints, sp, node)
    cluster_chain, local_chain = "service-" + base, "local-" + base
    ext_chain, fw_chain = "external-" + base, "firewall-" + base
    uses_cluster = bool(cluster) and sp.uses_cluster_endpoints
    uses_local = bool(local) and sp.uses_local_endpoints
    internal_chain, has_internal, external_policy_chain, has_external = traffic_policy_chains(
        sp, cluster_chain, local_chain, local, has_endpoints)
    uses_ext = has_endpoints and sp.externally_accessible
    if not has_endpoints:
        int_verdict = ext_verdict = "goto reject-chain"
    else:
        int_verdict = "drop" if not has_internal else ""
        ext_verdict = "drop" if not has_external else ""
    elements: list[tuple] = []
    port_key = f"{proto} . {sp.port}"

    def elem(container: str, key: str, value: str = "", comment: str | None = None) -> None:
        elements.append((container, key, value, comment))

    # Capture the clusterIP.
    elem("cluster-ips", sp.cluster_ip)
    if has_internal:
        elem("service-ips", f"{sp.cluster_ip} . {port_key}", f"goto {internal_chain}")
    else:
        elem("no-endpoint-services", f"{sp.cluster_ip} . {port_key}", int_verdict, name)
    # Capture externalIPs.
    for ip in sp.external_ips:
        if has_endpoints:
            elem("service-ips", f"{ip} . {port_key}", f"goto {ext_chain}")
        if not has_external:
            elem("no-endpoint-services", f"{ip} . {port_key}", ext_verdict, name)
    source_ranges = tuple(getattr(sp, "load_balancer_source_ranges", ()) or ())
    uses_fw = bool(sp.load_balancer_ips) and bool(source_ranges)
    # Capture load-balancer ingress.
    for ip in sp.load_balancer_ips:
        if has_endpoints:
            elem("service-ips", f"{ip} . {port_key}", f"goto {ext_chain}")
        if uses_fw:
            elem("firewall-ips", f"{ip} . {port_key}", f"goto {fw_chain}")
    if not has_external:
        for ip in sp.load_balancer_ips:
            elem("no-endpoint-services", f"{ip} . {port_key}", ext_verdict, name)
    # Capture nodeports.
    if sp.node_port:
        if has_endpoints:
            elem("service-nodeports", f"{proto} . {sp.node_port}", f"goto {ext_chain}")
        if not has_external:
            elem("no-endpoint-nodeports", f"{proto} . {sp.node_port}", ext_verdict, name)

    chains: dict[str, list[NftRule]] = {}
    affinity: list[tuple[str, int]] = []
    for ep in reachable:
        chains["endpoint-" + endpoint_base(sp, ep)] = []
        if sp.session_affinity_seconds:
            affinity.append(("affinity-" + endpoint_base(sp, ep), sp.session_affinity_seconds))
    if uses_cluster:
        chains[cluster_chain] = []
    if uses_local:
        chains[local_chain] = []
    if uses_ext:
        chains[ext_chain] = []
    if uses_fw:
        chains[fw_chain] = []
    # Internal traffic: masquerade what does not come from the cluster CIDR (LocalDetector).
    if has_internal:
        chains[internal_chain].append(_jump_masq(
            (("daddr", sp.cluster_ip), ("saddr_not", cluster_cidr)),
            f"ip daddr {sp.cluster_ip} ip saddr != {cluster_cidr}"))
    # External traffic.
    if uses_ext:
        ext = chains[ext_chain]
        if not sp.external_policy_local:
            ext.append(NftRule("jump mark-for-masquerade", (), ("jump", "mark-for-masquerade")))
        else:
            ext.append(NftRule(f"ip saddr {cluster_cidr} goto {cluster_chain}", (("saddr", cluster_cidr),),
                               ("goto", cluster_chain), "short-circuit pod traffic"))
            ext.append(NftRule("fib saddr type local jump mark-for-masquerade", (("fib_saddr_local",),),
                               ("jump", "mark-for-masquerade"), "masquerade local traffic"))
            ext.append(NftRule(f"fib saddr type local goto {cluster_chain}", (("fib_saddr_local",),),
                               ("goto", cluster_chain), "short-circuit local traffic"))
        if has_external:
            ext.append(NftRule(f"goto {external_policy_chain}", (), ("goto", external_policy_chain)))
    if uses_fw:
        sources = list(source_ranges)
        chains[fw_chain].append(NftRule(f"ip saddr != {{ {', '.join(sources)} }} drop",
                                        (("saddr_not_in", tuple(sources)),), ("drop",)))
    for chain, eps in ((cluster_chain, cluster if uses_cluster else ()), (local_chain, local if uses_local else ())):
        if eps:
            chains[chain] += _service_to_endpoints(sp, eps)
    # The per-endpoint chains.
    for ep in reachable:
        epc = chains["endpoint-" + endpoint_base(sp, ep)]
        epc.append(_jump_masq((("saddr", ep.ip),), f"ip saddr {ep.ip}"))  # hairpin
        if sp.session_affinity_seconds:
            aff = "affinity-" + endpoint_base(sp, ep)
            epc.append(NftRule(f"update @{aff} {{ ip saddr }}", (), ("update", aff)))
        epc.append(NftRule(f"meta l4proto {proto} dnat to {ep}", (), ("dnat", str(ep))))
    return PortObjects(tuple((c, tuple(r)) for c, r in chains.items()), tuple(affinity), tuple(elements),
                       has_endpoints, len(reachable))


def _service_to_endpoints(sp: ServicePort, endpoints) -> list[NftRule]:
    """writeServiceToEndpointRules: affinity checks, then `numgen random mod N vmap {...}`."""
    out = []
    if sp.session_affinity_seconds:
        for ep in endpoints:
            b = endpoint_base(sp, ep)
            out.append(NftRule(f"ip saddr @affinity-{b} goto endpoint-{b}", (("saddr_in_set", "affinity-" + b),),
                               ("goto", "endpoint-" + b)))
    targets = ["endpoint-" + endpoint_base(sp, ep) for ep in endpoints]
    body = " , ".join(f"{i} : goto {c}" for i, c in enumerate(targets))
    out.append(NftRule(f"numgen random mod {len(targets)} vmap {{ {body} }}", (), ("numgen", tuple(targets))))
    return out


# -- the table -------------------------------------------------------------------------------------
@dataclass
class Chain:
    rules: tuple = ()
    base: tuple | None = None       # (type, hook, priority) for a base chain
    comment: str | None = None
    stale_since: float | None = None  # flushed, to be deleted (staleChains)


def _static_chains(cluster_cidr: str, service_cidrs: tuple, nodeport_ips: tuple) -> dict[str, Chain]:
    """setupNFTables: the base chains, their jumps and the top-level chains' fixed rules."""
    chains: dict[str, Chain] = {name: Chain(base=(t, hook, prio)) for name, t, hook, prio in BASE_CHAINS}
    rules: dict[str, list[NftRule]] = {name: [] for name in chains}
    for dst, src, extra in JUMP_CHAINS:
        conds = (("ct_new",),) if extra else ()
        rules[src].append(NftRule(f"{extra} jump {dst}".strip(), conds, ("jump", dst)))
        rules.setdefault(dst, [])
    for name in ("services", "cluster-ips-check", "masquerading", "mark-for-masquerade"):
        rules.setdefault(name, [])
    rules["mark-for-masquerade"].append(NftRule(f"mark set mark or {MASQUERADE_MARK}", (), ("mark_or",)))
    rules["masquerading"] += [NftRule(f"mark and {MASQUERADE_MARK} == 0 return", (("mark_clear",),), ("return",)),
                              NftRule(f"mark set mark xor {MASQUERADE_MARK}", (), ("mark_xor",)),
                              NftRule("masquerade fully-random", (), ("masquerade",))]
    rules["cluster-ips-check"].append(NftRule("ip daddr @cluster-ips reject", (("daddr_in_set", "cluster-ips"),),
                                              ("reject",), "Reject traffic to invalid ports of ClusterIPs"))
    if service_cidrs:
        rules["cluster-ips-check"].append(NftRule(
            f"ip daddr {{ {','.join(service_cidrs)} }} drop", (("daddr_in", service_cidrs),), ("drop",),
            "Drop traffic to unallocated ClusterIPs"))
    rules["reject-chain"] = [NftRule("reject", (), ("reject",))]
    rules["service-endpoints-check"].append(NftRule("ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
                                                    (), ("vmap", "no-endpoint-services", "daddr")))
    rules["nodeport-endpoints-check"].append(NftRule(
        "ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports",
        (("daddr_in_set", "nodeport-ips"),), ("vmap", "no-endpoint-nodeports", "port")))
    rules["firewall-check"].append(NftRule("ip daddr . meta l4proto . th dport vmap @firewall-ips", (),
                                           ("vmap", "firewall-ips", "daddr")))
    rules["services"] += [
        NftRule("ip daddr . meta l4proto . th dport vmap @service-ips", (), ("vmap", "service-ips", "daddr")),
        NftRule("ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
                (("daddr_in_set", "nodeport-ips"),), ("vmap", "service-nodeports", "port"))]
    for name, rs in rules.items():
        c = chains.setdefault(name, Chain())
        c.rules = tuple(rs)
        if name == "reject-chain":
            c.comment = "helper for @no-endpoint-services / @no-endpoint-nodeports"
    return chains


@dataclass
class Table:
    """`table ip kube-proxy` as the node's kernel holds it."""
    chains: dict = field(default_factory=dict)
    # set / map name -> {key: (value, comment)}; the static sets' and maps' in CONTAINERS order
    elements: dict = field(default_factory=lambda: {name: {} for _k, name, _t, _c in CONTAINERS})
    affinity_sets: dict = field(default_factory=dict)  # name -> timeout seconds

    def dump(self) -> str:
        """knftables' Fake.Dump(): the table as the `add` commands that recreate it (the form
        pkg/proxy/nftables/proxier_test.go compares)."""
        p = f"ip {TABLE}"
        out = [f'add table {p} {{ comment "rules for kube-proxy" ; }}']
        for kind, name, typ, comment in CONTAINERS:
            out.append(f'add {kind} {p} {name} {{ type {typ} ; comment "{comment}" ; }}')
        for name in sorted(self.affinity_sets):
            out.append(f"add set {p} {name} {{ type ipv4_addr ; flags dynamic,timeout ; "
                       f"timeout {self.affinity_sets[name]}s ; }}")
        for name in self._chain_order():
            c = self.chains[name]
            opts = []
            if c.base:
                opts.append(f"type {c.base[0]} hook {c.base[1]} priority {c.base[2]} ;")
            if c.comment:
                opts.append(f'comment "{c.comment}" ;')
            out.append(f"add chain {p} {name}" + (f" {{ {' '.join(opts)} }}" if opts else ""))
        for name in self._chain_order():
            out += [f"add rule {p} {name} {r.written()}" for r in self.chains[name].rules]
        for _k, name, _t, _c in CONTAINERS:
            for key in _sorted_keys(self.elements[name]):
                value, comment = self.elements[name][key]
                c = f' comment "{comment}"' if comment else ""
                out.append(f"add element {p} {name} {{ {key}{c}" + (f" : {value} }}" if value else " }"))
        return "\n".join(out) + "\n"

    def listing(self) -> str:
        """`nft list table ip kube-proxy`."""
        out = [f"table ip {TABLE} {{", '\tcomment "rules for kube-proxy"']
        for kind, name, typ, comment in CONTAINERS:
            out.append(f"\t{kind} {name} {{")
            out.append(f"\t\ttype {typ}")
            out.append(f'\t\tcomment "{comment}"')
            out += _listed_elements(self.elements[name])
            out.append("\t}")
            out.append("")
        for name in sorted(self.affinity_sets):
            out += [f"\tset {name} {{", "\t\ttype ipv4_addr", f"\t\tsize {AFFINITY_SET_SIZE}", "\t\tflags dynamic,timeout",
                    f"\t\ttimeout {_nft_time(self.affinity_sets[name])}", "\t}", ""]
        for name in self._chain_order():
            c = self.chains[name]
            out.append(f"\tchain {name} {{")
            if c.comment:
                out.append(f'\t\tcomment "{c.comment}"')
            if c.base:
                out.append(f"\t\ttype {c.base[0]} hook {c.base[1]} priority {_priority(c.base[2])}; policy accept;")
            out += [f"\t\t{r.listed()}" for r in c.rules]
            out.append("\t}")
            out.append("")
        if out[-1] == "":
            out.pop()
        out.append("}")
        return "\n".join(out) + "\n"

    def _chain_order(self) -> list[str]:
        base = [n for n, *_ in BASE_CHAINS if n in self.chains]
        top = sorted(n for n in self.chains if n not in base and not is_service_chain(n))
        return base + top + sorted(n for n in self.chains if is_service_chain(n))

    def rule_count(self) -> int:
        return sum(len(c.rules) for c in self.chains.values())


def _priority(p: int) -> str:
    for value, name in sorted(PRIORITY_NAMES.items(), key=lambda kv: abs(p - kv[0])):
        d = p - value
        if abs(d) <= 10:
            return name if d == 0 else f"{name} {'+' if d > 0 else '-'} {abs(d)}"
    return str(p)


def _nft_time(seconds: int) -> str:
    """nft's time format: 10800 -> 3h, 90 -> 1m30s."""
    out, rest = "", int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


def _sort_key(key: str) -> tuple:
    parts = []
    for p in key.split(" . "):
        try:
            parts.append((0, int(ipaddress.ip_address(p)), ""))
        except ValueError:
            parts.append((1, int(p), "") if p.isdigit() else (2, 0, p))
    return tuple(parts)


def _sorted_keys(d: dict) -> list[str]:
    return sorted(d, key=_sort_key)


def _listed_elements(elements: dict) -> list[str]:
    """nft's `elements = { a,\\n\\t\\t\\t     b }` (the continuation lines aligned under the first)."""
    if not elements:
        return []
    items = []
    for key in _sorted_keys(elements):
        value, comment = elements[key]
        items.append(key + (f' comment "{comment}"' if comment else "") + (f" : {value}" if value else ""))
    first, rest = "\t\telements = { " + items[0], items[1:]
    lines = [first]
    for item in rest:
        lines[-1] += ","
        lines.append("\t\t\t     " + item)
    lines[-1] += " }"
    return lines


# -- walking a packet ------------------------------------------------------------------------------
class _Packet:
    def __init__(self, src: str, dst: str, dport: int, proto: str):
        self.src, self.dst, self.dport, self.proto = src, dst, dport, proto
        self.mark = 0
        self.endpoint: str | None = None
        self.masquerade = False
        self.path: list[str] = []
        self.dnat_rule: str | None = None


def _in(addr: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(addr) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


class NftablesProxier:
    """pkg/proxy/nftables/proxier.go's state on one node: the table in the kernel (which
    outlives kube-proxy), the affinity sets' contents, the stale chains awaiting deletion."""
    mode = "nftables"
    partial_syncs = True            # syncProxyRules' tryPartialSync
    full_sync_period = None         # no periodic full resync: only at start and after a failure
    default_min_sync_period = 1.0   # KubeProxyNFTablesConfiguration.MinSyncPeriod default
    large = False                   # no large-cluster mode in nftables

    @staticmethod
    def max_sync_interval(sync_period: float) -> float:
        """NewProxier: the BoundedFrequencyRunner's maxInterval is an hour (time.Hour)."""
        return 3600.0

    def __init__(self, node: str, node_ips: list[str], cluster_cidr: str, service_cidrs: tuple = ()):
        self.node, self.node_ips, self.cluster_cidr = node, list(node_ips), cluster_cidr
        self.service_cidrs = tuple(service_cidrs)
        self.table: Table | None = None
        self.affinity: dict[str, dict[str, float]] = {}   # set -> {client ip: expiry}
        self.written = 0
        self._text: str | None = None
        self.services = self.endpoints = 0

    def process_started(self) -> None:
        """A (re)started kube-proxy: its staleChains map starts empty; the table stays."""

    def sync(self, ports: list[ServicePort], endpoints: dict, changed: set | None, now: float,
             sync_period: float) -> dict:
        """One syncProxyRules: full (`changed` None: setupNFTables, every chain and element
        rewritten) or partial (elements by difference, only the changed Services' chains)."""
        old = self.table
        full = changed is None or old is None
        ops = 0
        table = Table()
        if old is not None:
            table.chains = dict(old.chains)
            table.affinity_sets = dict(old.affinity_sets)
        # Stale chains flushed by an earlier sync at least a second ago are deleted first.
        for name in [n for n, c in table.chains.items() if c.stale_since is not None
                     and now - c.stale_since >= STALE_CHAIN_DELAY]:
            del table.chains[name]
            ops += 1
        static = _static_chains(self.cluster_cidr, self.service_cidrs, tuple(self.node_ips))
        if full:
            table.chains.update(static)
            ops += sum(2 + len(c.rules) for c in static.values())  # add + flush + rules
        else:
            for name, c in static.items():
                table.chains.setdefault(name, c)
        table.elements["nodeport-ips"] = {ip: ("", None) for ip in self.node_ips}
        new_elements: dict[str, dict] = {name: {} for name in ELEMENT_CONTAINERS}
        active: set[str] = set()
        active_affinity: dict[str, int] = {}
        services = eps_total = 0
        for sp in sorted(ports, key=lambda s: (s.service_port_name, s.protocol)):
            eps = endpoints.get(endpoint_key(sp.namespace, sp.name, sp.port_name, sp.protocol), ())
            po = port_objects(sp, tuple(eps), self.node if sp.uses_local_endpoints else None, self.cluster_cidr)
            if po.has_endpoints:
                services += 1
                eps_total += po.endpoints
            for container, key, value, comment in po.elements:
                new_elements[container][key] = (value, comment)
            for name, timeout in po.affinity_sets:
                active_affinity[name] = timeout
            skip = not full and (sp.namespace, sp.name) not in changed
            for name, rules in po.chains:
                active.add(name)
                if not skip:
                    table.chains[name] = Chain(rules=rules)
                    ops += 2 + len(rules)
        # Chains no longer used: flushed now, deleted by a sync at least a second later.
        for name, c in list(table.chains.items()):
            if is_service_chain(name) and name not in active and c.stale_since is None:
                table.chains[name] = Chain(stale_since=now)
                ops += 1
        # Affinity sets no longer used are deleted at once.
        ops += len(set(table.affinity_sets) ^ set(active_affinity))
        table.affinity_sets = active_affinity
        self.affinity = {k: v for k, v in self.affinity.items() if k in active_affinity}
        # nftElementStorage: a full sync flushes every container and adds each element; a
        # partial one adds what is new or changed and deletes what is left over.
        for name in ELEMENT_CONTAINERS:
            before = {} if old is None else old.elements[name]
            after = new_elements[name]
            if full:
                ops += 1 + len(after)
            else:
                ops += sum(1 for k, v in after.items() if before.get(k) != v) + sum(1 for k in before if k not in after)
            table.elements[name] = after
        differs = old is None or table.chains != old.chains or table.elements != old.elements \
            or table.affinity_sets != old.affinity_sets
        self.table = table
        self.written = ops
        self.services, self.endpoints = services, eps_total
        if differs:
            self._text = None
        return {"written": ops, "differs": differs, "services": services,
                "summary": f"{table.rule_count()} rules, {sum(len(v) for v in table.elements.values())} elements"}

    # -- reads -----------------------------------------------------------------------------------
    def text(self, now: float | None = None) -> str:
        if self.table is None:
            return ""
        if self._text is None:
            self._text = self.table.listing()
        return self._text

    def dump(self) -> str:
        return self.table.dump() if self.table else ""

    def info(self) -> dict:
        t = self.table
        return {"nftables": self.text(), "services": self.services, "endpoints": self.endpoints,
                "nftRules": t.rule_count() if t else 0}

    def iptables_info(self) -> dict:
        """In nftables mode kube-proxy writes no iptables rules at all."""
        return {"rules": "", "services": self.services, "endpoints": self.endpoints, "natRules": 0}

    def metrics(self) -> dict:
        return {"sync_proxy_rules_nftables_last": self.written}

    # -- the packet path -------------------------------------------------------------------------
    def route(self, packet: dict, rng, now: float) -> dict:
        """One connection's first packet through the hooks in priority order: from the node
        itself filter-output-pre-dnat, nat-output, filter-output; else filter-prerouting-pre-dnat,
        nat-prerouting, then filter-input (the destination is one of the node's addresses) or
        filter-forward; and nat-postrouting.  Returns what the iptables mode's `match` returns."""
        pkt = _Packet(packet["src"], packet["dst"], int(packet["dport"]), (packet.get("proto") or "tcp").lower())
        if self.table is None:
            return {"verdict": "ACCEPT", "endpoint": None, "rule": None, "path": [], "masquerade": False}
        local = set(self.node_ips) | {"127.0.0.1"}
        from_local = pkt.src in local
        hooks = ["filter-output-pre-dnat", "nat-output", "filter-output"] if from_local else \
            ["filter-prerouting-pre-dnat", "nat-prerouting", None]
        for hook in hooks:
            if hook is None:
                hook = "filter-input" if pkt.dst in local else "filter-forward"
            verdict = self._run(pkt, hook, rng, now, local)
            if verdict in ("drop", "reject"):
                return {"verdict": verdict.upper(), "endpoint": None, "rule": pkt.path[-1], "path": pkt.path,
                        "masquerade": False}
        self._run(pkt, "nat-postrouting", rng, now, local)
        return {"verdict": "ACCEPT", "endpoint": pkt.endpoint, "rule": pkt.dnat_rule, "path": pkt.path,
                "masquerade": pkt.masquerade}

    def _run(self, pkt: _Packet, chain: str, rng, now: float, local: set, depth: int = 0) -> str | None:
        """A chain's verdict: "accept" (a dnat ends the nat chain), "drop", "reject", "return",
        or None when it ran out."""
        c = self.table.chains.get(chain)
        if c is None or depth > 16:
            return None
        for r in c.rules:
            if not all(self._cond(pkt, cond, now, local) for cond in r.conds):
                continue
            v = r.verdict
            kind = v[0]
            target = None
            if kind == "vmap":
                key = f"{pkt.dst} . {pkt.proto} . {pkt.dport}" if v[2] == "daddr" else f"{pkt.proto} . {pkt.dport}"
                hit = self.table.elements.get(v[1], {}).get(key)
                if hit is None:
                    continue
                pkt.path.append(f"{chain} {r.listed()}  ({key} : {hit[0]})")
                target = hit[0]
            elif kind == "numgen":
                # nft_ng_random_eval: get_random_u32_below(modulus)
                pick = rng.randrange(len(v[1]))
                pkt.path.append(f"{chain} {r.listed()}  (numgen {pick})")
                target = f"goto {v[1][pick]}"
            else:
                pkt.path.append(f"{chain} {r.listed()}")
            if target is not None:
                word, _, dest = target.partition(" ")
                kind, v = (word, (word, dest)) if dest else (target, (target,))
            if kind in ("jump", "goto"):
                got = self._run(pkt, v[1], rng, now, local, depth + 1)
                if got == "return" or (got is None and kind == "jump"):
                    if kind == "goto":
                        return None
                    continue
                return got
            if kind == "dnat":
                pkt.endpoint = v[1]
                pkt.dnat_rule = f"{chain} {r.listed()}"
                ip, _, port = v[1].rpartition(":")
                pkt.dst, pkt.dport = ip, int(port)
                return "accept"
            if kind == "update":
                timeout = self.table.affinity_sets.get(v[1], 0)
                members = self.affinity.setdefault(v[1], {})
                if len(members) >= AFFINITY_SET_SIZE:  # the set's size: expired elements go first
                    members = self.affinity[v[1]] = {ip: t for ip, t in members.items() if t > now}
                if len(members) < AFFINITY_SET_SIZE or pkt.src in members:
                    members[pkt.src] = now + timeout
            elif kind == "mark_or":
                pkt.mark |= 1 << 14
            elif kind == "mark_xor":
                pkt.mark ^= 1 << 14
            elif kind == "masquerade":
                pkt.masquerade = True
                return "accept"
            elif kind in ("reject", "drop", "return"):
                return kind
        return None

    def _cond(self, pkt: _Packet, cond: tuple, now: float, local: set) -> bool:
        kind = cond[0]
        if kind == "ct_new":
            return True  # every packet walked is a connection's first
        if kind == "daddr":
            return pkt.dst == cond[1]
        if kind == "saddr":
            return _in(pkt.src, cond[1] if "/" in cond[1] else cond[1] + "/32")
        if kind == "saddr_not":
            return not _in(pkt.src, cond[1])
        if kind == "saddr_not_in":
            return not any(_in(pkt.src, c) for c in cond[1])
        if kind == "daddr_in":
            return any(_in(pkt.dst, c) for c in cond[1])
        if kind == "daddr_in_set":
            return pkt.dst in self.table.elements.get(cond[1], {})
        if kind == "saddr_in_set":
            return self.affinity.get(cond[1], {}).get(pkt.src, float("-inf")) > now
        if kind == "fib_saddr_local":
            return pkt.src in local
        if kind == "mark_clear":
            return not pkt.mark & (1 << 14)
        raise ValueError(f"unknown condition {cond!r}")
