"""kube-proxy's iptables mode as data: the rules pkg/proxy/iptables/proxier.go (syncProxyRules)
writes from Services and EndpointSlices, rendered as `iptables-save` prints them, and `match`,
which walks them for one packet as netfilter would.

What is upstream's, and where:
- Chain names (proxier.go servicePortChainName & co.): a prefix and the first 16 characters of
  base32(sha256(servicePortName + protocol [+ endpoint])), e.g. KUBE-SVC-XPGD46QRK7WJZT7O.
- Endpoints (pkg/proxy/endpointslicecache.go): one per address[0]:port of every slice of the
  Service; ready / serving / terminating from the slice's conditions (ready and serving default
  to true when unset, terminating to false); ordered by "ip:port".
- Which endpoints each policy uses (pkg/proxy/topology.go CategorizeEndpoints): ready ones, and
  serving-and-terminating ones only when none is ready.
- Load balancing (writeServiceToEndpointRules): endpoint i of n gets `-m statistic --mode random
  --probability 1/(n-i)` written with %0.10f, the last none.  The kernel (xt_statistic) keeps the
  probability as lround(2^31 * p) and compares it with 31 random bits; iptables-save prints that
  stored value back with %.11f, hence 0.33333333349 for 1/3.  `match` draws the same way.
- iptables-save's shape: the IP header matches first (`! -s`, `-d` with /32, `-p`), then the
  `-m` matches in the order they were written, then `-j`; a comment is quoted unless it is only
  letters, digits, `_` and `-` (xtables_save_string); MARK --or-mark prints as --set-xmark.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from sim.ipfamily import IPV4, of_family, parse_address, parse_network

KUBE_SERVICES, KUBE_NODEPORTS, KUBE_EXTERNAL_SERVICES = "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES"
KUBE_MARK_MASQ, KUBE_POSTROUTING, KUBE_FORWARD = "KUBE-MARK-MASQ", "KUBE-POSTROUTING", "KUBE-FORWARD"
KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"
MASQUERADE_MARK = "0x4000"  # --iptables-masquerade-bit 14
DEFAULT_AFFINITY_SECONDS = 10800  # v1.DefaultClientIPServiceAffinitySeconds
BUILTIN = {"nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"), "filter": ("INPUT", "FORWARD", "OUTPUT")}
TERMINAL = {"ACCEPT", "DROP", "REJECT", "DNAT", "MASQUERADE"}


def port_proto_hash(service_port_name: str, protocol: str, endpoint: str = "") -> str:
    """proxier.go portProtoHash / servicePortEndpointChainName: 16 base32 characters."""
    digest = hashlib.sha256((service_port_name + protocol + endpoint).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def service_chain(spn: str, protocol: str, prefix: str = "KUBE-SVC-") -> str:
    """KUBE-SVC- (cluster policy), KUBE-SVL- (local policy), KUBE-EXT- (external), KUBE-FW-."""
    return prefix + port_proto_hash(spn, protocol)


def endpoint_chain(spn: str, protocol: str, endpoint: str) -> str:
    return "KUBE-SEP-" + port_proto_hash(spn, protocol, endpoint)


def probability(n: int) -> str:
    """proxier.go probability(n): what kube-proxy writes for 1/n."""
    return "%0.10f" % (1.0 / n)


def kernel_probability(written: str) -> int:
    """libxt_statistic's parse: the probability as the kernel stores it (of 2^31)."""
    return int(float(written) * 0x80000000 + 0.5)  # lround, for p >= 0


def saved_probability(stored: int) -> str:
    """libxt_statistic's save: what iptables-save prints for a stored probability."""
    return "%.11f" % (stored / 0x80000000)


_NO_QUOTE = set("_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _save_string(value: str) -> str:
    """xtables_save_string: bare when safe, else double-quoted with \\ escapes."""
    if value and set(value) <= _NO_QUOTE:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'") + '"'


def _cache_hash(obj, fields: tuple) -> int:
    """A frozen dataclass's hash, kept once computed (as a str keeps its own): dataclass(frozen=True)
    hashes every field on every call, and the proxier looks the same ServicePort and Endpoint
    up in its caches at every sync of every node.  `fields`: the values eq compares."""
    h = hash(fields)
    object.__setattr__(obj, "_hash", h)
    return h


def _state_without_hash(self) -> dict:
    """What pickle and copy keep: not the cached hash (a str's hash differs between processes)."""
    return {k: v for k, v in self.__dict__.items() if k != "_hash"}


# -- the model: a Service port and its endpoints, as kube-proxy's change trackers hold them ------
@dataclass(frozen=True)
class ServicePort:
    """pkg/proxy/serviceport.go BaseServicePortInfo, for one port of one Service."""
    namespace: str
    name: str
    port_name: str
    protocol: str  # "TCP"
    cluster_ip: str
    port: int
    node_port: int = 0
    session_affinity_seconds: int = 0  # 0: no ClientIP affinity
    external_policy_local: bool = False
    internal_policy_local: bool = False
    load_balancer_ips: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    # spec.healthCheckNodePort, for a LoadBalancer Service of externalTrafficPolicy Local
    # (serviceport.go: set when apiservice.NeedsHealthCheck): sim/kubeproxy_healthcheck.py serves it.
    health_check_node_port: int = 0

    def __hash__(self) -> int:
        try:
            return self.__dict__["_hash"]
        except KeyError:
            return _cache_hash(self, (
                self.namespace, self.name, self.port_name, self.protocol, self.cluster_ip, self.port, self.node_port,
                self.session_affinity_seconds, self.external_policy_local, self.internal_policy_local,
                self.load_balancer_ips, self.external_ips, self.load_balancer_source_ranges,
                self.health_check_node_port))

    __getstate__ = _state_without_hash

    @property
    def service_port_name(self) -> str:
        """proxy.ServicePortName.String(): ns/name, with :port when the port has a name."""
        return f"{self.namespace}/{self.name}" + (f":{self.port_name}" if self.port_name else "")

    @property
    def externally_accessible(self) -> bool:
        return bool(self.node_port or self.load_balancer_ips or self.external_ips)

    @property
    def uses_cluster_endpoints(self) -> bool:
        return not self.internal_policy_local or self.externally_accessible

    @property
    def uses_local_endpoints(self) -> bool:
        return self.internal_policy_local or (self.externally_accessible and self.external_policy_local)


@dataclass(frozen=True)
class Endpoint:
    """pkg/proxy/endpoint.go BaseEndpointInfo."""
    ip: str
    port: int
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    node_name: str = ""

    def __hash__(self) -> int:
        try:
            return self.__dict__["_hash"]
        except KeyError:
            return _cache_hash(self, (self.ip, self.port, self.ready, self.serving, self.terminating, self.node_name))

    __getstate__ = _state_without_hash

    def __str__(self) -> str:
        """net.JoinHostPort: ip:port, [ip]:port for IPv6 (the DNAT target and chain hash too)."""
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    def local_to(self, node: str | None) -> bool:
        """BaseEndpointInfo.IsLocal(): the endpoint runs on `node` (kube-proxy's own)."""
        return bool(node) and self.node_name == node


def service_ports(svc: dict, family: str = IPV4) -> list[ServicePort]:
    """The ports one family's proxier proxies for one core/v1 Service (servicechangetracker.go
    serviceToServiceMap, serviceport.go newBaseServiceInfo): none for ExternalName or a
    headless Service (clusterIP None), nor for one without a ClusterIP of `family`
    (GetClusterIPByFamily); its external and load-balancer IPs of that family only (a dual-stack
    kube-proxy runs one proxier per family: the meta-proxier)."""
    spec, md = svc.get("spec") or {}, svc.get("metadata") or {}
    if spec.get("type") == "ExternalName" or spec.get("clusterIP") in (None, "", "None"):
        return []
    ips = spec.get("clusterIPs") or [spec["clusterIP"]]
    cluster_ip = next(iter(of_family(ips, family)), "")
    if not cluster_ip:
        return []
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
        affinity = int(cfg.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)
    svc_type = spec.get("type") or "ClusterIP"
    lb_ips = tuple(of_family([i["ip"] for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")
                              or [] if i.get("ip")], family)) if svc_type == "LoadBalancer" else ()
    local = spec.get("externalTrafficPolicy") == "Local"
    hc_port = int(spec.get("healthCheckNodePort") or 0) if svc_type == "LoadBalancer" and local else 0
    source_ranges = tuple(of_family([r.strip() for r in spec.get("loadBalancerSourceRanges") or ()
                                     if isinstance(r, str)], family)) if svc_type == "LoadBalancer" else ()
    out = []
    for p in spec.get("ports") or []:
        out.append(ServicePort(
            namespace=md.get("namespace") or "default", name=md["name"], port_name=p.get("name") or "",
            protocol=p.get("protocol") or "TCP", cluster_ip=cluster_ip, port=int(p["port"]),
            node_port=int(p.get("nodePort") or 0) if svc_type in ("NodePort", "LoadBalancer") else 0,
            session_affinity_seconds=affinity,
            external_policy_local=local,
            internal_policy_local=spec.get("internalTrafficPolicy") == "Local",
            load_balancer_ips=lb_ips, external_ips=tuple(of_family(spec.get("externalIPs"), family)),
            load_balancer_source_ranges=source_ranges, health_check_node_port=hc_port))
    return out


SERVICE_NAME_LABEL = "kubernetes.io/service-name"


_SLICE_MEMO_MAX = 50_000


def slice_endpoints(slc: dict, family: str = IPV4, memo: dict | None = None) -> dict[str, tuple[Endpoint, ...]]:
    """One EndpointSlice's endpoints by service port key (endpoint_key: "ns/svc:port/TCP")
    (endpointslicecache.go newEndpointSliceInfo / addEndpoints).  Which node each endpoint is
    on stays data (`node_name`): every node's kube-proxy reads the same slice, so the parse of
    one stored version (uid, resourceVersion) is done once and shared through `memo`, one per
    cluster (two clusters of one seed make slices of the same uid and resourceVersion).  A proxier reads only
    the slices of its family's addressType (endpointschangetracker.go EndpointSliceUpdate)."""
    if slc.get("addressType", IPV4) != family:
        return {}
    md = slc.get("metadata") or {}
    key = (md.get("uid"), md.get("resourceVersion"))
    if memo is not None and key[0] and key[1]:
        got = memo.get(key)
        if got is None:
            if len(memo) >= _SLICE_MEMO_MAX:
                memo.clear()
            got = memo[key] = _parse_slice(slc)
        return got
    return _parse_slice(slc)


def _parse_slice(slc: dict) -> dict[str, tuple[Endpoint, ...]]:
    md = slc.get("metadata") or {}
    svc = (md.get("labels") or {}).get(SERVICE_NAME_LABEL)
    if not svc:
        return {}
    out: dict[str, list[Endpoint]] = {}
    for p in slc.get("ports") or []:
        if p.get("port") is None:
            continue
        key = endpoint_key(md.get("namespace") or "default", svc, p.get("name") or "", p.get("protocol") or "TCP")
        eps = out.setdefault(key, [])
        for ep in slc.get("endpoints") or []:
            addrs = ep.get("addresses") or []
            if not addrs:
                continue
            cond = ep.get("conditions") or {}
            node = ep.get("nodeName") or ""
            eps.append(Endpoint(ip=addrs[0], port=int(p["port"]), ready=cond.get("ready") is not False,
                                serving=cond.get("serving") is not False,
                                terminating=cond.get("terminating") is True, node_name=node))
    return {k: tuple(v) for k, v in out.items()}


def categorize(endpoints, sp: ServicePort, node: str | None) -> tuple[list, list, list, bool]:
    """pkg/proxy/topology.go CategorizeEndpoints(endpoints, svcInfo, nodeName, ...) (without
    topology hints): (cluster, local, all locally reachable, has any)."""
    cluster: list[Endpoint] = []
    local: list[Endpoint] = []
    has_any = False
    if sp.uses_cluster_endpoints:
        cluster = [e for e in endpoints if e.ready]
        if not cluster:  # no ready endpoint anywhere: serving-and-terminating ones instead
            cluster = [e for e in endpoints if e.serving and e.terminating]
        has_any = bool(cluster)
    if not sp.uses_local_endpoints:
        return cluster, local, cluster, has_any
    local_ready = local_st = False
    for e in endpoints:
        if e.ready:
            has_any = True
            local_ready = local_ready or e.local_to(node)
        elif e.serving and e.terminating:
            has_any = True
            local_st = local_st or e.local_to(node)
    if local_ready:
        local = [e for e in endpoints if e.local_to(node) and e.ready]
    elif local_st:
        local = [e for e in endpoints if e.local_to(node) and e.serving and e.terminating]
    if not sp.uses_cluster_endpoints:
        return cluster, local, local, has_any
    merged = {str(e): e for e in cluster}
    merged.update({str(e): e for e in local})
    return cluster, local, [merged[k] for k in sorted(merged)], has_any


# -- rules ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One `-A` line.  `matches` in the order written: ("comment", text), ("tcp", dport|None),
    ("statistic", stored probability), ("recent", "set"|"rcheck", name, seconds),
    ("addrtype", "src"|"dst", "LOCAL"[, negated]), ("mark", negated, "0x4000/0x4000"), ("conntrack", states),
    ("set", name, "dst,dst", negated) (an ipset match, which the IPVS proxier writes), ("physdev",)
    (`! --physdev-is-in`)."""
    table: str
    chain: str
    target: str
    target_args: str = ""
    src: str | None = None
    src_neg: bool = False
    dst: str | None = None
    proto: str | None = None
    matches: tuple = ()

    def text(self) -> str:
        return self.saved

    @cached_property
    def saved(self) -> str:
        """The line as iptables-save prints it (a rule is immutable: rendered once)."""
        out = ["-A", self.chain]
        if self.src:
            out += (["!"] if self.src_neg else []) + ["-s", _cidr(self.src)]
        if self.dst:
            out += ["-d", _cidr(self.dst)]
        if self.proto:
            out += ["-p", self.proto]
        for m in self.matches:
            kind = m[0]
            if kind == "comment":
                out += ["-m", "comment", "--comment", _save_string(m[1])]
            elif kind == "tcp" or kind == "udp" or kind == "sctp":
                out += ["-m", kind] + (["--dport", str(m[1])] if m[1] else [])
            elif kind == "statistic":
                out += ["-m", "statistic", "--mode", "random", "--probability", saved_probability(m[1])]
            elif kind == "recent":
                _, mode, name, seconds = m
                out += ["-m", "recent"] + (["--set"] if mode == "set" else
                                           ["--rcheck", "--seconds", str(seconds), "--reap"])
                out += ["--name", name, "--mask", "255.255.255.255", "--rsource"]
            elif kind == "addrtype":
                out += ["-m", "addrtype"] + (["!"] if len(m) > 3 and m[3] else []) + [f"--{m[1]}-type", m[2]]
            elif kind == "physdev":
                out += ["-m", "physdev", "!", "--physdev-is-in"]
            elif kind == "mark":
                out += ["-m", "mark"] + (["!"] if m[1] else []) + ["--mark", m[2]]
            elif kind == "conntrack":
                out += ["-m", "conntrack", "--ctstate", m[1]]
            elif kind == "set":
                out += ["-m", "set"] + (["!"] if m[3] else []) + ["--match-set", m[1], m[2]]
        if self.target:  # a rule with no target only counts (KUBE-FW-*'s last one)
            out += ["-j", self.target] + ([self.target_args] if self.target_args else [])
        return " ".join(out)


def _cidr(addr: str) -> str:
    """An address as iptables-save / ip6tables-save print it: /32, or /128 for IPv6."""
    return addr if "/" in addr else f"{addr}/128" if ":" in addr else f"{addr}/32"


@dataclass
class Ruleset:
    """Both tables as the node's kernel holds them (iptables-save would list them), plus what
    `match` needs to know.  `ipsets` (name -> an object with `members` and `probe(flags, src,
    dst, proto, dport)`, the member a packet would be) are the IPVS proxier's."""
    chains: dict[str, dict[str, list[Rule]]] = field(default_factory=lambda: {"filter": {}, "nat": {}})
    local_addresses: frozenset = frozenset()
    services: int = 0  # Service ports with rules (proxier.go's serviceNoLocalEndpoints & co. count these)
    endpoints: int = 0
    ipsets: dict = field(default_factory=dict)

    def chain(self, table: str, name: str) -> list[Rule]:
        return self.chains[table].setdefault(name, [])

    def add(self, table: str, chain: str, target: str, target_args: str = "", **kw) -> None:
        self.chain(table, chain).append(Rule(table, chain, target, target_args, **kw))

    def rules(self, table: str | None = None) -> list[Rule]:
        tables = [table] if table else ["filter", "nat"]
        return [r for t in tables for c in _chain_order(t, self.chains[t]) for r in self.chains[t][c]]

    def text(self) -> str:
        """iptables-save: per table the builtin chains with their policy, then the others
        sorted (libiptc's order), then every chain's rules in that order."""
        lines: list[str] = []
        for table in ("filter", "nat"):
            chains = self.chains[table]
            lines.append(f"*{table}")
            order = _chain_order(table, chains)
            for c in order:
                lines.append(f":{c} ACCEPT [0:0]" if c in BUILTIN[table] else f":{c} - [0:0]")
            for c in order:
                lines += [r.saved for r in chains[c]]
            lines.append("COMMIT")
        return "\n".join(lines) + "\n"


def _chain_order(table: str, chains: dict) -> list[str]:
    builtin = list(BUILTIN[table])
    return builtin + sorted(c for c in chains if c not in BUILTIN[table])


def _comment(text: str) -> tuple:
    return ("comment", text)


# The chains every sync writes in full ("top-level" in proxier.go); a Service's own chains
# (KUBE-SVC/SVL/EXT/FW/SEP) are written only when it changed, on a partial sync.
TOP_LEVEL = {"filter": (KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL),
             "nat": (KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ)}
SERVICE_CHAIN_PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-")  # isServiceChainName
LARGE_CLUSTER_ENDPOINTS = 1000  # proxier.go largeClusterEndpointsThreshold


@dataclass(frozen=True)
class PortRules:
    """What syncProxyRules writes for one service port: its rules in the top-level chains
    (`top`, in order) and its own nat chains (`chains`: (name, rules) in creation order)."""
    top: tuple
    chains: tuple
    has_endpoints: bool
    endpoints: int


class _PortWriter:
    """Collects one service port's rules the way proxier.go writes them into its line buffers."""

    def __init__(self, large: bool):
        self.large = large
        self.top: list[Rule] = []
        self.own: dict[str, list[Rule]] = {}
        self.services = self.endpoints = 0

    def chain(self, table: str, name: str) -> list[Rule]:
        return self.own.setdefault(name, [])

    def add(self, table: str, chain: str, target: str, target_args: str = "", **kw) -> None:
        rule = Rule(table, chain, target, target_args, **kw)
        if chain in TOP_LEVEL[table]:
            self.top.append(rule)
        else:
            self.own.setdefault(chain, []).append(rule)

    def comment(self, text: str) -> tuple:
        """appendServiceCommentLocked: no comment in large-cluster mode (it saves 40% of the
        restore input)."""
        return () if self.large else (_comment(text),)


@lru_cache(maxsize=32768)
def port_rules(sp: ServicePort, endpoints: tuple, node: str | None, cluster_cidr: str, large: bool,
               node_ips: tuple = ()) -> PortRules:
    """One service port's rules: a pure function of the port, its endpoints, the node (only
    under a Local traffic policy does it matter) and large-cluster mode - so nodes writing the
    same rules share them."""
    w = _PortWriter(large)
    _write_service_port(w, sp, endpoints, cluster_cidr, node, node_ips)
    return PortRules(tuple(w.top), tuple((c, tuple(rs)) for c, rs in w.own.items()), bool(w.services), w.endpoints)


def rules_for_port(sp: ServicePort, endpoints, node: str, cluster_cidr: str, large: bool,
                   node_ips=()) -> PortRules:
    # The node's IPs matter only to a load balancer's source ranges (allowFromNode).
    ips = tuple(node_ips) if sp.load_balancer_source_ranges and sp.load_balancer_ips else ()
    return port_rules(sp, tuple(endpoints), node if sp.uses_local_endpoints else None, cluster_cidr, large, ips)


def _static_rules(rs: Ruleset) -> None:
    """The builtin chains' jumps and the static rules (proxier.go iptablesJumpChains,
    writeIptablesRules' KUBE-POSTROUTING / KUBE-MARK-MASQ / KUBE-FORWARD)."""
    for t in ("filter", "nat"):
        for c in BUILTIN[t]:
            rs.chain(t, c)
    _jump_chains(rs)
    for c in (KUBE_NODEPORTS, KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_PROXY_FIREWALL):
        rs.chain("filter", c)
    for c in (KUBE_NODEPORTS, KUBE_SERVICES, KUBE_MARK_MASQ, KUBE_POSTROUTING):
        rs.chain("nat", c)
    rs.add("nat", KUBE_MARK_MASQ, "MARK", f"--set-xmark {MASQUERADE_MARK}/{MASQUERADE_MARK}")
    rs.add("nat", KUBE_POSTROUTING, "RETURN", matches=(("mark", True, f"{MASQUERADE_MARK}/{MASQUERADE_MARK}"),))
    rs.add("nat", KUBE_POSTROUTING, "MARK", f"--set-xmark {MASQUERADE_MARK}/0x0")
    rs.add("nat", KUBE_POSTROUTING, "MASQUERADE", "--random-fully",
           matches=(_comment("kubernetes service traffic requiring SNAT"),))
    rs.add("filter", KUBE_FORWARD, "DROP", matches=(("conntrack", "INVALID"),))
    rs.add("filter", KUBE_FORWARD, "ACCEPT", matches=(_comment("kubernetes forwarding rules"),
                                                      ("mark", False, f"{MASQUERADE_MARK}/{MASQUERADE_MARK}")))
    rs.add("filter", KUBE_FORWARD, "ACCEPT", matches=(_comment("kubernetes forwarding conntrack rule"),
                                                      ("conntrack", "RELATED,ESTABLISHED")))


@dataclass
class Restore:
    """One sync's iptables-restore (--noflush): what it wrote and what the kernel then holds."""
    ruleset: Ruleset
    full: bool
    large: bool
    written: dict  # table -> rules in the restore input (sync_proxy_rules_iptables_last)
    deleted_chains: int
    cleaned: bool  # stale chains were looked for (iptables-save) this time


def service_key(sp: ServicePort) -> tuple[str, str]:
    return (sp.namespace, sp.name)


def sync_rules(current: Ruleset | None, ports: list[ServicePort], endpoints: dict, node_ips: list[str],
               node: str = "", cluster_cidr: str = "10.244.0.0/16", changed: set | None = None,
               cleanup_due: bool = True, memo: dict | None = None) -> Restore:
    """proxier.go syncProxyRules and the iptables-restore it runs, on the node's `current`
    rules.  `changed`: the Services (namespace, name) changed since the last sync, for a
    partial sync (None: a full sync).  Every sync rewrites the top-level chains in full; a
    partial one leaves the own chains of unchanged Services as they are in the kernel.  Chains
    no longer used are deleted (`-X`) unless large-cluster mode (more than 1,000 endpoints) is
    on and the last clean-up is less than a sync period old (`cleanup_due` False).  `memo`: the
    node's last PortRules by service port, reused while its endpoints are the same object."""
    total = sum(len(endpoints.get(_spn_key(sp), ())) for sp in ports)
    large = total > LARGE_CLUSTER_ENDPOINTS
    rs = Ruleset(local_addresses=frozenset(list(node_ips) + ["127.0.0.1", "::1"]))
    _static_rules(rs)
    nat = dict(current.chains["nat"]) if current is not None else {}
    nat.update(rs.chains["nat"])  # the top-level chains' lines flush them: rewritten below
    rs.chains["nat"] = nat
    written = {"filter": 0, "nat": sum(len(rs.chains["nat"][c]) for c in TOP_LEVEL["nat"] if c in rs.chains["nat"])}
    active: set[str] = set()
    for sp in sorted(ports, key=lambda s: (s.service_port_name, s.protocol)):
        eps = endpoints.get(_spn_key(sp), ())
        last = memo.get(sp) if memo is not None else None
        if last is not None and last[0] is eps and last[1] == large:
            pr = last[2]
        else:
            pr = rules_for_port(sp, eps, node, cluster_cidr, large, node_ips)
            if memo is not None:
                memo[sp] = (eps, large, pr)
        for r in pr.top:
            rs.chains[r.table][r.chain].append(r)
            written[r.table] += r.table == "nat"
        if pr.has_endpoints:
            rs.services += 1
            rs.endpoints += pr.endpoints
        write = changed is None or service_key(sp) in changed
        for name, rules in pr.chains:
            active.add(name)
            if write:
                nat[name] = rules  # a tuple shared by every node writing the same rules
                written["nat"] += len(rules)
    # Finally, the tail-call to the nodeports chain: after every other service portal rule.
    rs.add("nat", KUBE_SERVICES, KUBE_NODEPORTS, matches=(
        _comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain"),
        ("addrtype", "dst", "LOCAL")))
    written["nat"] += 1
    written["filter"] = sum(len(v) for k, v in rs.chains["filter"].items() if k in TOP_LEVEL["filter"])
    deleted = 0
    cleaned = not large or cleanup_due
    if cleaned:
        for name in [c for c in nat if c.startswith(SERVICE_CHAIN_PREFIXES) and c not in active]:
            del nat[name]
            deleted += 1
    return Restore(rs, changed is None, large, written, deleted, cleaned)


def build_rules(ports: list[ServicePort], endpoints: dict, node_ips: list[str],
                cluster_cidr: str = "10.244.0.0/16", node: str = "") -> Ruleset:
    """proxier.go syncProxyRules for one node, from scratch: `endpoints` by service port key.
    Service ports are written in name order (upstream ranges over a map; any order is equally
    upstream's)."""
    return sync_rules(None, ports, endpoints, node_ips, node, cluster_cidr).ruleset


def endpoint_key(namespace: str, name: str, port_name: str, protocol: str) -> str:
    """The key of the endpoints map: the service port name and its protocol."""
    return f"{namespace}/{name}" + (f":{port_name}" if port_name else "") + f"/{protocol}"


def _spn_key(sp: ServicePort) -> str:
    return endpoint_key(sp.namespace, sp.name, sp.port_name, sp.protocol)


def _jump_chains(rs: Ruleset) -> None:
    """proxier.go iptablesJumpChains: the builtin chains' jumps into kube-proxy's."""
    new = ("conntrack", "NEW")
    for chain in ("INPUT", "FORWARD", "OUTPUT"):
        rs.add("filter", chain, KUBE_PROXY_FIREWALL, matches=(new, _comment("kubernetes load balancer firewall")))
        if chain == "INPUT":
            rs.add("filter", chain, KUBE_NODEPORTS, matches=(_comment("kubernetes health check service ports"),))
        if chain == "FORWARD":
            rs.add("filter", chain, KUBE_FORWARD, matches=(_comment("kubernetes forwarding rules"),))
        if chain in ("FORWARD", "OUTPUT"):
            rs.add("filter", chain, KUBE_SERVICES, matches=(new, _comment("kubernetes service portals")))
        if chain in ("INPUT", "FORWARD"):
            rs.add("filter", chain, KUBE_EXTERNAL_SERVICES,
                   matches=(new, _comment("kubernetes externally-visible service portals")))
    for chain in ("PREROUTING", "OUTPUT"):
        rs.add("nat", chain, KUBE_SERVICES, matches=(_comment("kubernetes service portals"),))
    rs.add("nat", "POSTROUTING", KUBE_POSTROUTING, matches=(_comment("kubernetes postrouting rules"),))


def traffic_policy_chains(sp: ServicePort, cluster_chain: str, local_chain: str, local: list,
                          has_endpoints: bool) -> tuple[str, bool, str, bool]:
    """syncProxyRules' (iptables and nftables alike) internalPolicyChain / hasInternalEndpoints and
    externalPolicyChain / hasExternalEndpoints: the Local policy's chain and whether this node
    has a local endpoint for it, else the Cluster policy's."""
    internal_chain, has_internal = cluster_chain, has_endpoints
    if sp.internal_policy_local:
        internal_chain, has_internal = local_chain, bool(local)
    external_chain, has_external = cluster_chain, has_endpoints
    if sp.external_policy_local:
        external_chain, has_external = local_chain, bool(local)
    return internal_chain, has_internal, external_chain, has_external


def _write_service_port(rs: _PortWriter, sp: ServicePort, all_endpoints, cluster_cidr: str,
                        node: str | None, node_ips: tuple = ()) -> None:
    protocol = sp.protocol.lower()
    name = sp.service_port_name
    cluster, local, reachable, has_endpoints = categorize(all_endpoints, sp, node)
    cluster_chain = service_chain(name, protocol)
    local_chain = service_chain(name, protocol, "KUBE-SVL-")
    ext_chain = service_chain(name, protocol, "KUBE-EXT-")
    uses_cluster_chain = bool(cluster) and sp.uses_cluster_endpoints
    uses_local_chain = bool(local) and sp.uses_local_endpoints
    internal_chain, has_internal, external_policy_chain, has_external = traffic_policy_chains(
        sp, cluster_chain, local_chain, local, has_endpoints)
    uses_ext_chain = has_endpoints and sp.externally_accessible
    int_filter = ext_filter = None
    if not has_endpoints:
        int_filter = ext_filter = ("REJECT", f"{name} has no endpoints")
    else:
        if not has_internal:
            int_filter = ("DROP", f"{name} has no local endpoints")
        if not has_external:
            ext_filter = ("DROP", f"{name} has no local endpoints")
    if has_endpoints:
        rs.services += 1
        rs.endpoints += len(reachable)
    tcp = (protocol, sp.port)

    # Capture the clusterIP.
    if has_internal:
        rs.add("nat", KUBE_SERVICES, internal_chain, dst=sp.cluster_ip, proto=protocol,
               matches=(_comment(f"{name} cluster IP"), tcp))
    else:
        rs.add("filter", KUBE_SERVICES, int_filter[0], _reject_args(int_filter[0], sp), dst=sp.cluster_ip,
               proto=protocol, matches=(_comment(int_filter[1]), tcp))
    # Capture externalIPs and load-balancer ingress IPs.
    # loadBalancerSourceRanges: the load balancer IPs' traffic goes through KUBE-FW-* first,
    # which lets in only those sources (proxier.go usesFWChain / loadBalancerTrafficChain).
    fw_chain = service_chain(name, protocol, "KUBE-FW-")
    uses_fw_chain = has_endpoints and bool(sp.load_balancer_ips) and bool(sp.load_balancer_source_ranges)
    for ips, what in ((sp.external_ips, "external IP"), (sp.load_balancer_ips, "loadbalancer IP")):
        lb = what == "loadbalancer IP"
        for ip in ips:
            if uses_ext_chain:
                rs.add("nat", KUBE_SERVICES, fw_chain if lb and uses_fw_chain else ext_chain, dst=ip, proto=protocol,
                       matches=(_comment(f"{name} {what}"), tcp))
            if lb and uses_fw_chain:
                rs.add("filter", KUBE_PROXY_FIREWALL, "DROP", dst=ip, proto=protocol,
                       matches=(_comment(f"{name} traffic not accepted by {fw_chain}"), tcp))
            if not has_external:
                rs.add("filter", KUBE_EXTERNAL_SERVICES, ext_filter[0], _reject_args(ext_filter[0], sp), dst=ip,
                       proto=protocol, matches=(_comment(ext_filter[1]), tcp))
    # Capture nodeports.
    if sp.node_port:
        if has_endpoints:
            rs.add("nat", KUBE_NODEPORTS, ext_chain, proto=protocol, matches=(_comment(name), (protocol, sp.node_port)))
        if not has_external:
            rs.add("filter", KUBE_EXTERNAL_SERVICES, ext_filter[0], _reject_args(ext_filter[0], sp), proto=protocol,
                   matches=(_comment(ext_filter[1]), ("addrtype", "dst", "LOCAL"), (protocol, sp.node_port)))
    if not has_endpoints:
        return
    # Internal traffic: masquerade what comes from outside the cluster CIDR (LocalDetector).
    if has_internal:
        rs.add("nat", internal_chain, KUBE_MARK_MASQ, src=cluster_cidr, src_neg=True, dst=sp.cluster_ip,
               proto=protocol, matches=(_comment(f"{name} cluster IP"), tcp))
    # External traffic.
    if uses_ext_chain:
        rs.chain("nat", ext_chain)
        if not sp.external_policy_local:
            rs.add("nat", ext_chain, KUBE_MARK_MASQ,
                   matches=(_comment(f"masquerade traffic for {name} external destinations"),))
        else:
            rs.add("nat", ext_chain, cluster_chain, src=cluster_cidr,
                   matches=(_comment(f"pod traffic for {name} external destinations"),))
            rs.add("nat", ext_chain, KUBE_MARK_MASQ,
                   matches=(_comment(f"masquerade LOCAL traffic for {name} external destinations"),
                            ("addrtype", "src", "LOCAL")))
            rs.add("nat", ext_chain, cluster_chain,
                   matches=(_comment(f"route LOCAL traffic for {name} external destinations"),
                            ("addrtype", "src", "LOCAL")))
        if has_external:
            rs.add("nat", ext_chain, external_policy_chain)
    if uses_fw_chain:
        # Only VIP-like load balancers that keep the client's address meet these rules; one that
        # sends to the node ports (as sim/cloud's does) filters by source itself.
        rs.chain("nat", fw_chain)
        for cidr in sp.load_balancer_source_ranges:
            rs.add("nat", fw_chain, ext_chain, src=cidr, matches=(_comment(f"{name} loadbalancer IP"),))
        if any(_in(n, cidr) for cidr in sp.load_balancer_source_ranges for n in node_ips):
            for ip in sp.load_balancer_ips:  # allowFromNode: a node's own request loops back from the VIP
                rs.add("nat", fw_chain, ext_chain, src=ip, matches=(_comment(f"{name} loadbalancer IP"),))
        rs.add("nat", fw_chain, "", matches=(_comment(f"other traffic to {name} will be dropped by KUBE-PROXY-FIREWALL"),))
    if uses_cluster_chain:
        _write_service_to_endpoints(rs, sp, cluster_chain, cluster)
    if uses_local_chain:
        _write_service_to_endpoints(rs, sp, local_chain, local)
    # The per-endpoint chains.
    for ep in reachable:
        sep = endpoint_chain(name, protocol, str(ep))
        rs.add("nat", sep, KUBE_MARK_MASQ, src=ep.ip, matches=rs.comment(name))  # hairpin
        m: tuple = rs.comment(name)
        if sp.session_affinity_seconds:
            m += (("recent", "set", sep, 0),)
        rs.add("nat", sep, "DNAT", f"--to-destination {ep}", proto=protocol, matches=m + ((protocol, None),))


def _reject_args(target: str, sp: ServicePort) -> str:
    """REJECT's default as iptables-save prints it (ip6tables-save: the ICMPv6 one)."""
    if target != "REJECT":
        return ""
    return "--reject-with icmp6-port-unreachable" if ":" in sp.cluster_ip else "--reject-with icmp-port-unreachable"


def _write_service_to_endpoints(rs: _PortWriter, sp: ServicePort, chain: str, endpoints: list[Endpoint]) -> None:
    """proxier.go writeServiceToEndpointRules: affinity checks first, then the random spread."""
    name, protocol = sp.service_port_name, sp.protocol.lower()
    rs.chain("nat", chain)
    if sp.session_affinity_seconds:
        for ep in endpoints:
            sep = endpoint_chain(name, protocol, str(ep))
            rs.add("nat", chain, sep, matches=rs.comment(f"{name} -> {ep}") + (
                ("recent", "rcheck", sep, sp.session_affinity_seconds),))
    n = len(endpoints)
    for i, ep in enumerate(endpoints):
        m: tuple = rs.comment(f"{name} -> {ep}")
        if i < n - 1:
            m += (("statistic", kernel_probability(probability(n - i))),)
        rs.add("nat", chain, endpoint_chain(name, protocol, str(ep)), matches=m)


# -- walking the rules ----------------------------------------------------------------------------
@dataclass
class _Walk:
    rs: Ruleset
    packet: dict
    rng: object
    recent: dict
    now: float
    path: list = field(default_factory=list)
    mark: int = 0
    dst: str = ""
    dport: int = 0
    endpoint: str | None = None
    masquerade: bool = False


def _in(addr: str, cidr: str) -> bool:
    try:
        return parse_address(addr) in parse_network(_cidr(cidr), strict=False)
    except ValueError:
        return False


def _matches(w: _Walk, r: Rule, src: str, proto: str) -> bool:
    if r.src is not None and _in(src, r.src) == r.src_neg:
        return False
    if r.dst is not None and not _in(w.dst, r.dst):
        return False
    if r.proto is not None and r.proto != proto:
        return False
    local = w.rs.local_addresses
    for m in r.matches:
        kind = m[0]
        if kind in ("tcp", "udp", "sctp"):
            if kind != proto or (m[1] and m[1] != w.dport):
                return False
        elif kind == "addrtype":
            negated = len(m) > 3 and m[3]
            if (((src if m[1] == "src" else w.dst) in local) != (m[2] == "LOCAL")) != negated:
                return False
        elif kind == "physdev":
            if w.packet.get("bridged"):  # "! --physdev-is-in": not from a bridge port
                return False
        elif kind == "set":
            s = w.rs.ipsets.get(m[1])
            if (s is not None and s.probe(m[2], src, w.dst, proto, w.dport) in s.members) == m[3]:
                return False
        elif kind == "conntrack":
            if "NEW" not in m[1].split(","):
                return False  # every packet walked is a connection's first
        elif kind == "mark":
            value, mask = (int(x, 16) for x in m[2].split("/"))
            if ((w.mark & mask) == value) == m[1]:
                return False
        elif kind == "recent":
            seen = w.recent.setdefault(m[2], {})
            if m[1] == "set":
                seen[src] = w.now
            else:
                last = seen.get(src)
                if last is None or w.now - last > m[3]:
                    seen.pop(src, None)  # --reap
                    return False
        elif kind == "statistic":
            # xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability
            if (w.rng.getrandbits(32) & 0x7FFFFFFF) >= m[1]:
                return False
    return True


def _walk(w: _Walk, table: str, chain: str, src: str, proto: str, depth: int = 0) -> str | None:
    """Run `chain`: a terminal verdict, "RETURN", or None when the chain ran out."""
    if depth > 32:
        return "DROP"  # a loop: iptables-restore refuses those
    for r in w.rs.chains[table].get(chain, []):
        if not _matches(w, r, src, proto):
            continue
        w.path.append(f"{table} {r.text()}")
        t = r.target
        if t in w.rs.chains[table] and t not in BUILTIN[table]:
            verdict = _walk(w, table, t, src, proto, depth + 1)
            if verdict is not None and verdict != "RETURN":
                return verdict
        elif t == "RETURN":
            return "RETURN"
        elif t == "MARK":
            value, mask = (int(x, 16) for x in r.target_args.split()[-1].split("/"))
            w.mark = (w.mark & ~mask) ^ value
        elif t == "DNAT":
            w.endpoint = r.target_args.split()[-1]
            ip, _, port = w.endpoint.rpartition(":")
            ip = ip.strip("[]")
            w.dst, w.dport = ip, int(port)
            return "DNAT"
        elif t == "MASQUERADE":
            w.masquerade = True
            return "ACCEPT"
        elif t in TERMINAL:
            return t
    return None


def match(rs: Ruleset, packet: dict, rng, recent: dict | None = None, now: float = 0.0) -> dict:
    """Walk one packet - {"src", "dst", "dport", "proto"?: "tcp"} - through the node's rules as
    netfilter does for a new connection: nat PREROUTING (OUTPUT when the node itself sends),
    filter INPUT / FORWARD / OUTPUT, nat POSTROUTING.  `rng`: the kernel's (the statistic
    match's draws); `recent`: the node's xt_recent lists (ClientIP affinity), updated in place.
    Returns {"verdict": "ACCEPT" | "DROP" | "REJECT", "endpoint": "ip:port" | None (no DNAT),
    "rule": the KUBE-SEP DNAT rule (or the rule that dropped it), "path": every rule matched,
    "masquerade": bool}."""
    src, proto = packet["src"], (packet.get("proto") or "tcp").lower()
    w = _Walk(rs, packet, rng, {} if recent is None else recent, now, dst=packet["dst"], dport=int(packet["dport"]))
    from_local = src in rs.local_addresses
    verdict = _walk(w, "nat", "OUTPUT" if from_local else "PREROUTING", src, proto)
    dnat_rule = w.path[-1] if verdict == "DNAT" else None
    if from_local:
        hook = "OUTPUT"
    else:
        hook = "INPUT" if w.dst in rs.local_addresses else "FORWARD"
    fverdict = _walk(w, "filter", hook, src, proto)
    if fverdict in ("DROP", "REJECT"):
        return {"verdict": fverdict, "endpoint": None, "rule": w.path[-1], "path": w.path, "masquerade": False}
    _walk(w, "nat", "POSTROUTING", src, proto)
    return {"verdict": "ACCEPT", "endpoint": w.endpoint, "rule": dnat_rule, "path": w.path,
            "masquerade": w.masquerade}


# -- the proxier: the node's kernel state and how a sync changes it -------------------------------
FULL_SYNC_PERIOD = 3600.0  # pkg/proxy/util FullSyncPeriod: a full resync at least hourly


class IptablesProxier:
    """pkg/proxy/iptables/proxier.go's state on one node: the rules in the kernel (which outlive
    kube-proxy), the xt_recent lists, and when stale chains were last cleaned up.

    The per-mode interface KubeProxy drives (shared with kubeproxy_ipvs / kubeproxy_nftables):
    sync(ports, endpoints, changed, now, sync_period), text(now), info(), metrics(),
    route(packet, rng, now), process_started(), and the class attributes below."""
    mode = "iptables"
    partial_syncs = True             # MinimizeIPTablesRestore
    tracks_changes = True            # sync(..., tracked=True): KubeProxy's trackers name what changed
    full_sync_period = FULL_SYNC_PERIOD
    default_min_sync_period = 1.0    # KubeProxyIPTablesConfiguration.MinSyncPeriod default

    @staticmethod
    def max_sync_interval(sync_period: float) -> float:
        return sync_period           # --iptables-sync-period

    def process_started(self) -> None:
        """A (re)started kube-proxy: nothing of the process's lives here (the rules do)."""

    def __init__(self, node: str, node_ips: list[str], cluster_cidr: str):
        self.node, self.node_ips, self.cluster_cidr = node, list(node_ips), cluster_cidr
        self.ruleset: Ruleset | None = None
        self.recent: dict = {}
        self.large = False
        self.last_cleanup = float("-inf")
        self.nat_rules = 0  # the nat table's rules (stale chains' included)
        self.last_written: dict = {"filter": 0, "nat": 0}  # sync_proxy_rules_iptables_last{table}
        self._text: str | None = None
        self._memo: dict = {}
        self._partial = None   # PartialSyncState of the last tracked sync

    def sync(self, ports: list[ServicePort], endpoints: dict, changed: set | None, now: float,
             sync_period: float, tracked: bool = False) -> dict:
        """One syncProxyRules: a full sync (`changed` None) or a partial one.  `tracked`: the
        caller's `changed` names every Service whose ports or endpoints changed since the last
        sync, and `ports` is the same list object as long as no Service's ports changed, never
        changed in place (KubeProxy's trackers); a partial sync then redoes only those Services' rules
        (sim/kubeproxy_iptables_partial.py), with the same result as sync_rules."""
        from sim.kubeproxy_iptables_partial import PartialSyncState
        before = self.ruleset
        cleanup_due = now - self.last_cleanup > sync_period
        state, got = self._partial, None
        if tracked and changed is not None and state is not None and state.ruleset is before:
            got = state.partial_sync(ports, endpoints, changed, cleanup_due, self.node, self.cluster_cidr,
                                     self.node_ips, self._memo)
        if got is not None:
            restore, differs = got
            rs = restore.ruleset
            self.nat_rules = state.nat_rules
        else:
            restore = sync_rules(before, ports, endpoints, self.node_ips, self.node, self.cluster_cidr, changed,
                                 cleanup_due=cleanup_due, memo=self._memo)
            rs = restore.ruleset
            self.nat_rules = sum(map(len, rs.chains["nat"].values()))  # what the nat table now holds
            differs = before is None or any(before.chains[t].get(c) != rules for t in ("filter", "nat")
                                            for c, rules in rs.chains[t].items()) \
                or any(c not in rs.chains["nat"] for c in before.chains["nat"])
            self._partial = PartialSyncState(restore, ports, endpoints, self._memo, self.node_ips) if tracked else None
        if len(self._memo) > 2 * len(ports) + 64:
            self._memo.clear()  # Services gone: forget their rules
        if restore.cleaned:
            self.last_cleanup = now
        self.ruleset, self.large, self.last_written = rs, restore.large, restore.written
        if differs:
            self._text = None
        return {"written": restore.written["filter"] + restore.written["nat"], "differs": differs,
                "services": rs.services, "summary": f"{self.nat_rules} rules"}

    def text(self, now: float | None = None) -> str:
        if self.ruleset is None:
            return ""
        if self._text is None:
            self._text = self.ruleset.text()
        return self._text

    def info(self) -> dict:
        rs = self.ruleset
        return {"rules": self.text(), "services": rs.services if rs else 0, "endpoints": rs.endpoints if rs else 0,
                "natRules": self.nat_rules}

    iptables_info = info

    def metrics(self) -> dict:
        return {"sync_proxy_rules_iptables_last": dict(self.last_written)}

    def route(self, packet: dict, rng, now: float) -> dict:
        if self.ruleset is None:
            return {"verdict": "ACCEPT", "endpoint": None, "rule": None, "path": [], "masquerade": False}
        return match(self.ruleset, packet, rng, self.recent, now)
