"""kube-proxy's IPVS mode as data: what pkg/proxy/ipvs/proxier.go (syncProxyRules, syncService,
syncEndpoint, writeIptablesRules) and graceful_termination.go program in the node's kernel - the
kube-ipvs0 dummy interface holding every Service address, one IPVS virtual server per Service
address and port with the ready endpoints as real servers, the ipsets, and the few iptables rules
that match them - shown as `ipvsadm -Ln`, `ipset list` and `iptables-save` print them; and
`route`, which takes one packet through netfilter and IPVS as the kernel would.

What is upstream's, and where:
- Virtual servers (syncService): ClusterIP:port, each external IP and load-balancer IP, and
  NodeIP:nodePort for every node address (all local addresses but kube-ipvs0's: nodePortAddresses
  matches all by default), scheduler `rr` (--ipvs-scheduler's default), ClientIP affinity as
  `persistent <timeoutSeconds>`.  ClusterIPs, external and load-balancer IPs are bound to
  kube-ipvs0 (not an address another interface already has), which makes them local.
- Real servers (syncEndpoint): CategorizeEndpoints' cluster endpoints (the local ones under a
  Local policy, all of them if there is none, kubernetes#97081), weight 1, Masq forwarding.  A real
  server that leaves goes through GracefulTerminationManager: deleted at once for UDP / SCTP or
  when it has no connections, else set to weight 0 and deleted by the check that runs every
  minute (rsCheckDeleteInterval) once ActiveConn + InActConn is 0.  A first sync after a restart
  resets weights to 1 (initialSync).  An endpoint coming back while in that list is deleted and
  added again.
- The rr scheduler (the kernel's ip_vs_rr.c): walks the destination list from the one after the
  last chosen, skipping weight-0 destinations; a deleted destination moves the cursor back.
  Persistence (ip_vs_sched_persist): a template per client address sends its connections to the
  same destination until `timeout` seconds after the last one; kube-proxy sets
  expire_quiescent_template=1, so a template of a weight-0 destination is dropped.  A virtual
  server without an available destination answers ICMP port unreachable (ip_vs_leave): refused.
- ipsets (ipsetInfo) and the iptables rules (writeIptablesRules, acceptIPVSTraffic,
  createAndLinkKubeChain's jumps, which are prepended with `iptables -I`).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from sim.kubeproxy_iptables import (KUBE_FORWARD, KUBE_MARK_MASQ, KUBE_POSTROUTING, KUBE_PROXY_FIREWALL,
                                    KUBE_SERVICES, MASQUERADE_MARK, Ruleset, ServicePort, _walk, _Walk,
                                    categorize, endpoint_key)

KUBE_NODE_PORT = "KUBE-NODE-PORT"
KUBE_LOAD_BALANCER = "KUBE-LOAD-BALANCER"
KUBE_SOURCE_RANGES_FIREWALL = "KUBE-SOURCE-RANGES-FIREWALL"
KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER = "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER"
DUMMY_DEVICE = "kube-ipvs0"
SCHEDULER = "rr"
RS_CHECK_DELETE_INTERVAL = 60.0   # graceful_termination.go rsCheckDeleteInterval
TCP_TIME_WAIT = 120.0             # IPVS's TIME_WAIT / FIN_WAIT timeouts: InActConn until then
UDP_TIMEOUT = 300.0               # IPVS's udp timeout
MAX_CONNECTIONS = 10_000          # connections remembered per real server (bounded)
IPVS_HEADER = ("IP Virtual Server version 1.2.1 (size=4096)\n"
               "Prot LocalAddress:Port Scheduler Flags\n"
               "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")

# ipsetInfo: (name, type, comment), in upstream's order.
IPSETS = (
    ("KUBE-LOOP-BACK", "hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose"),
    ("KUBE-CLUSTER-IP", "hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose"),
    ("KUBE-EXTERNAL-IP", "hash:ip,port", "Kubernetes service external ip + port for masquerade and filter purpose"),
    ("KUBE-EXTERNAL-IP-LOCAL", "hash:ip,port", "Kubernetes service external ip + port with externalTrafficPolicy=local"),
    ("KUBE-LOAD-BALANCER", "hash:ip,port", "Kubernetes service lb portal"),
    ("KUBE-LOAD-BALANCER-FW", "hash:ip,port",
     "Kubernetes service load balancer ip + port for load balancer with sourceRange"),
    ("KUBE-LOAD-BALANCER-LOCAL", "hash:ip,port",
     "Kubernetes service load balancer ip + port with externalTrafficPolicy=local"),
    ("KUBE-LOAD-BALANCER-SOURCE-IP", "hash:ip,port,ip",
     "Kubernetes service load balancer ip + port + source IP for packet filter purpose"),
    ("KUBE-LOAD-BALANCER-SOURCE-CIDR", "hash:ip,port,net",
     "Kubernetes service load balancer ip + port + source cidr for packet filter purpose"),
    ("KUBE-NODE-PORT-TCP", "bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"),
    ("KUBE-NODE-PORT-LOCAL-TCP", "bitmap:port", "Kubernetes nodeport TCP port with externalTrafficPolicy=local"),
    ("KUBE-NODE-PORT-UDP", "bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"),
    ("KUBE-NODE-PORT-LOCAL-UDP", "bitmap:port", "Kubernetes nodeport UDP port with externalTrafficPolicy=local"),
    ("KUBE-NODE-PORT-SCTP-HASH", "hash:ip,port",
     "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"),
    ("KUBE-NODE-PORT-LOCAL-SCTP-HASH", "hash:ip,port",
     "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"),
    ("KUBE-HEALTH-CHECK-NODE-PORT", "bitmap:port", "Kubernetes health check node port"),
    ("KUBE-IPVS-IPS", "hash:ip", "Addresses on the ipvs interface"),
)
COMMENTS = {name: comment for name, _t, comment in IPSETS}
# ipsetWithIptablesChain: (set, table, from chain, to, match flags, protocol match), in order.
IPSET_CHAINS = (
    ("KUBE-LOOP-BACK", "nat", KUBE_POSTROUTING, "MASQUERADE", "dst,dst,src", ""),
    ("KUBE-LOAD-BALANCER", "nat", KUBE_SERVICES, KUBE_LOAD_BALANCER, "dst,dst", ""),
    ("KUBE-LOAD-BALANCER-LOCAL", "nat", KUBE_LOAD_BALANCER, "RETURN", "dst,dst", ""),
    ("KUBE-NODE-PORT-LOCAL-TCP", "nat", KUBE_NODE_PORT, "RETURN", "dst", "tcp"),
    ("KUBE-NODE-PORT-TCP", "nat", KUBE_NODE_PORT, KUBE_MARK_MASQ, "dst", "tcp"),
    ("KUBE-NODE-PORT-LOCAL-UDP", "nat", KUBE_NODE_PORT, "RETURN", "dst", "udp"),
    ("KUBE-NODE-PORT-UDP", "nat", KUBE_NODE_PORT, KUBE_MARK_MASQ, "dst", "udp"),
    ("KUBE-NODE-PORT-LOCAL-SCTP-HASH", "nat", KUBE_NODE_PORT, "RETURN", "dst,dst", "sctp"),
    ("KUBE-NODE-PORT-SCTP-HASH", "nat", KUBE_NODE_PORT, KUBE_MARK_MASQ, "dst,dst", "sctp"),
    ("KUBE-LOAD-BALANCER-FW", "filter", KUBE_PROXY_FIREWALL, KUBE_SOURCE_RANGES_FIREWALL, "dst,dst", ""),
    ("KUBE-LOAD-BALANCER-SOURCE-CIDR", "filter", KUBE_SOURCE_RANGES_FIREWALL, "RETURN", "dst,dst,src", ""),
    ("KUBE-LOAD-BALANCER-SOURCE-IP", "filter", KUBE_SOURCE_RANGES_FIREWALL, "RETURN", "dst,dst,src", ""),
)
# iptablesJumpChain: (table, from, to, comment); each is prepended (`iptables -I`).
JUMP_CHAINS = (
    ("nat", "OUTPUT", KUBE_SERVICES, "kubernetes service portals"),
    ("nat", "PREROUTING", KUBE_SERVICES, "kubernetes service portals"),
    ("nat", "POSTROUTING", KUBE_POSTROUTING, "kubernetes postrouting rules"),
    ("filter", "FORWARD", KUBE_FORWARD, "kubernetes forwarding rules"),
    ("filter", "INPUT", KUBE_NODE_PORT, "kubernetes health check rules"),
    ("filter", "INPUT", KUBE_PROXY_FIREWALL, "kube-proxy firewall rules"),
    ("filter", "FORWARD", KUBE_PROXY_FIREWALL, "kube-proxy firewall rules"),
    ("filter", "INPUT", KUBE_IPVS_FILTER, "kubernetes ipvs access filter"),
    ("filter", "OUTPUT", KUBE_IPVS_OUT_FILTER, "kubernetes ipvs access filter"),
)
CHAINS = {"nat": (KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_MARK_MASQ),
          "filter": (KUBE_FORWARD, KUBE_NODE_PORT, KUBE_PROXY_FIREWALL, KUBE_SOURCE_RANGES_FIREWALL,
                     KUBE_IPVS_FILTER, KUBE_IPVS_OUT_FILTER)}


@dataclass
class IPSet:
    """One ipset: its type and members in `ipset list`'s spelling (e.g. 10.96.0.1,tcp:443)."""
    name: str
    type: str
    members: set = field(default_factory=set)

    def probe(self, flags: str, src: str, dst: str, proto: str, dport: int) -> str:
        """The member a packet is, for `-m set --match-set <name> <flags>`."""
        kinds = self.type.split(":")[1].split(",")
        parts = []
        for kind, d in zip(kinds, flags.split(",")):
            if kind in ("ip", "net"):
                parts.append(src if d == "src" else dst)
            elif kind == "port":
                parts.append(str(dport) if self.type.startswith("bitmap") else f"{proto}:{dport}")
        return ",".join(parts)

    def listing(self, references: int) -> str:
        header = "range 0-65535" if self.type.startswith("bitmap") else "family inet hashsize 1024 maxelem 65536"
        lines = [f"Name: {self.name}", f"Type: {self.type}", f"Header: {header}", f"References: {references}",
                 f"Number of entries: {len(self.members)}", "Members:"]
        return "\n".join(lines + sorted(self.members, key=_member_key)) + "\n"


def _member_key(member: str) -> tuple:
    out = []
    for part in member.replace(":", ",").split(","):
        try:
            out.append((0, int(ipaddress.ip_address(part))))
        except ValueError:
            out.append((1, int(part)) if part.isdigit() else (2, part))
    return tuple(out)


@dataclass
class RealServer:
    ip: str
    port: int
    weight: int = 1
    connections: list = field(default_factory=list)  # when each connection was made

    def key(self) -> str:
        return f"{self.ip}:{self.port}"

    def inactive(self, now: float, proto: str) -> int:
        """InActConn: connections the simulation completes at once sit in TIME_WAIT (TCP) or
        until the udp timeout, as IPVS counts them."""
        keep = UDP_TIMEOUT if proto != "TCP" else TCP_TIME_WAIT
        return sum(1 for t in self.connections if now - t < keep)


@dataclass
class VirtualServer:
    proto: str   # "TCP" | "UDP" | "SCTP"
    ip: str
    port: int
    timeout: int = 0   # persistent <timeout> (ClientIP affinity), 0: none
    dests: list = field(default_factory=list)
    last: int = -1      # the rr cursor: index of the last chosen destination (-1: the list head)
    templates: dict = field(default_factory=dict)  # client ip -> (destination key, expiry)

    def line(self) -> str:
        """ipvsadm's print_service_entry: "%s  %s %s" [+ " persistent %u"]."""
        return f"{self.proto}  {self.ip}:{self.port} {SCHEDULER}" + (f" persistent {self.timeout}" if self.timeout else "")

    def find(self, key: str) -> int:
        return next((i for i, d in enumerate(self.dests) if d.key() == key), -1)

    def delete(self, key: str) -> None:
        """ip_vs_del_dest (+ ip_vs_rr_del_dest: a cursor on the deleted one moves back)."""
        i = self.find(key)
        if i < 0:
            return
        del self.dests[i]
        if self.last >= i:
            self.last -= 1

    def schedule(self) -> RealServer | None:
        """ip_vs_rr_schedule: the next destination after the cursor with a weight above 0."""
        n = len(self.dests)
        for k in range(n):
            i = (self.last + 1 + k) % n
            if self.dests[i].weight > 0:
                self.last = i
                return self.dests[i]
        return None


def _vs_key(proto: str, ip: str, port: int) -> tuple:
    return (proto, ip, port)


class IpvsProxier:
    """pkg/proxy/ipvs/proxier.go's state on one node: the kernel's IPVS table, ipsets, kube-ipvs0
    addresses and iptables rules (all of which outlive kube-proxy), and the process's graceful
    termination list."""
    mode = "ipvs"
    partial_syncs = False           # every syncProxyRules writes everything
    full_sync_period = None
    default_min_sync_period = 0.0   # KubeProxyIPVSConfiguration.MinSyncPeriod: 0, every change syncs
    large = False

    @staticmethod
    def max_sync_interval(sync_period: float) -> float:
        return sync_period          # --ipvs-sync-period

    def __init__(self, node: str, node_ips: list[str], cluster_cidr: str, service_cidrs: tuple = ()):
        self.node, self.node_ips, self.cluster_cidr = node, list(node_ips), cluster_cidr
        self.virtual_servers: dict[tuple, VirtualServer] = {}
        self.dummy: set[str] = set()   # addresses on kube-ipvs0
        self.ipsets = {name: IPSet(name, t) for name, t, _c in IPSETS}
        self.ruleset: Ruleset | None = None
        self.graceful: set[tuple] = set()   # (virtual server key, real server key)
        self.initial_sync = True
        self.started_at: float | None = None
        self.last_check = float("-inf")
        self.written = 0
        self.services = self.endpoints = 0
        self.now = 0.0

    def process_started(self) -> None:
        """A (re)started kube-proxy: a new GracefulTerminationManager (an empty list, its check
        every minute from now) and initialSync."""
        self.graceful = set()
        self.initial_sync = True
        self.started_at = None

    # -- graceful termination ----------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        """GracefulTerminationManager.tryDeleteRs, run every rsCheckDeleteInterval: a real server
        in the list is deleted once it has no connections.  Connections only age, so the latest
        check at or before `now` decides (no new connection reaches a weight-0 server)."""
        self.now = max(self.now, now)
        if self.started_at is None:
            self.started_at = now
        ticks = int((now - self.started_at) // RS_CHECK_DELETE_INTERVAL)
        check = self.started_at + ticks * RS_CHECK_DELETE_INTERVAL
        if ticks < 1 or check <= self.last_check:
            return
        self.last_check = check
        for vs_key, rs_key in sorted(self.graceful):
            vs = self.virtual_servers.get(vs_key)
            i = vs.find(rs_key) if vs else -1
            if i < 0 or vs.dests[i].inactive(check, vs.proto) == 0:
                if i >= 0:
                    vs.delete(rs_key)
                self.graceful.discard((vs_key, rs_key))

    def _graceful_delete(self, vs: VirtualServer, key: str, now: float) -> int:
        """GracefulDeleteRS: delete now if nothing is connected (or UDP / SCTP), else weight 0."""
        i = vs.find(key)
        if i < 0:
            return 0
        if vs.proto != "TCP" or vs.dests[i].inactive(now, vs.proto) == 0:
            vs.delete(key)
        else:
            vs.dests[i].weight = 0
            self.graceful.add((_vs_key(vs.proto, vs.ip, vs.port), key))
        return 1

    def _sync_endpoints(self, vs: VirtualServer, sp: ServicePort, eps, only_local: bool, now: float) -> int:
        """syncEndpoint: add the new real servers, gracefully delete the ones gone."""
        cluster, local, _reachable, _any = categorize(eps, sp, self.node)
        chosen = (local or cluster) if only_local else cluster
        new = sorted({str(e) for e in chosen}, key=_member_key)
        ops = 0
        vs_key = _vs_key(vs.proto, vs.ip, vs.port)
        for key in new:
            i = vs.find(key)
            if i >= 0:
                if self.initial_sync and vs.dests[i].weight != 1:
                    vs.dests[i].weight = 1
                    ops += 1
                if (vs_key, key) not in self.graceful:
                    continue
                self.graceful.discard((vs_key, key))  # MoveRSOutofGracefulDeleteList
                vs.delete(key)
                ops += 1
            ip, _, port = key.rpartition(":")
            vs.dests.append(RealServer(ip, int(port)))
            ops += 1
        for d in [d for d in vs.dests if d.key() not in set(new)]:
            if (vs_key, d.key()) not in self.graceful:
                ops += self._graceful_delete(vs, d.key(), now)
        return ops

    # -- a sync ------------------------------------------------------------------------------------
    def sync(self, ports: list[ServicePort], endpoints: dict, changed: set | None, now: float,
             sync_period: float) -> dict:
        """One syncProxyRules (always everything: the IPVS proxier has no partial syncs)."""
        self._advance(now)
        before = self._snapshot()
        for s in self.ipsets.values():
            s.members = set()
        sets = self.ipsets
        active: set[tuple] = set()
        bind: set[str] = set()
        node_addrs = set(self.node_ips)
        ops = 0
        services = eps_total = 0
        for sp in sorted(ports, key=lambda s: (s.service_port_name, s.protocol)):
            eps = endpoints.get(endpoint_key(sp.namespace, sp.name, sp.port_name, sp.protocol), ())
            proto, lproto = sp.protocol.upper(), sp.protocol.lower()
            cluster, _local, reachable, has_any = categorize(eps, sp, self.node)
            if has_any:
                services += 1
                eps_total += len(reachable)
            for ep in eps:  # hairpin: this node's endpoints
                if ep.local_to(self.node):
                    sets["KUBE-LOOP-BACK"].members.add(f"{ep.ip},{lproto}:{ep.port},{ep.ip}")
            sets["KUBE-CLUSTER-IP"].members.add(f"{sp.cluster_ip},{lproto}:{sp.port}")
            addresses = [(sp.cluster_ip, sp.port, sp.internal_policy_local, True)]
            for ip in sp.external_ips:
                s = "KUBE-EXTERNAL-IP-LOCAL" if sp.external_policy_local else "KUBE-EXTERNAL-IP"
                sets[s].members.add(f"{ip},{lproto}:{sp.port}")
                addresses.append((ip, sp.port, sp.external_policy_local, ip not in node_addrs))
            for ip in sp.load_balancer_ips:
                sets["KUBE-LOAD-BALANCER"].members.add(f"{ip},{lproto}:{sp.port}")
                if sp.external_policy_local:
                    sets["KUBE-LOAD-BALANCER-LOCAL"].members.add(f"{ip},{lproto}:{sp.port}")
                addresses.append((ip, sp.port, sp.external_policy_local, ip not in node_addrs))
            if sp.node_port and lproto in ("tcp", "udp"):
                sets[f"KUBE-NODE-PORT-{proto}"].members.add(str(sp.node_port))
                if sp.external_policy_local:
                    sets[f"KUBE-NODE-PORT-LOCAL-{proto}"].members.add(str(sp.node_port))
                for ip in self.node_ips:
                    addresses.append((ip, sp.node_port, sp.external_policy_local, False))
            hc = getattr(sp, "health_check_node_port", 0)
            if hc:
                sets["KUBE-HEALTH-CHECK-NODE-PORT"].members.add(str(hc))
            for ip, port, only_local, bind_it in addresses:
                key = _vs_key(proto, ip, port)
                vs = self.virtual_servers.get(key)
                if vs is None:
                    vs = self.virtual_servers[key] = VirtualServer(proto, ip, port)
                    ops += 1
                if vs.timeout != sp.session_affinity_seconds:  # UpdateVirtualServer
                    vs.timeout = sp.session_affinity_seconds
                    vs.templates.clear()
                    ops += 1
                active.add(key)
                if bind_it:
                    bind.add(ip)
                ops += self._sync_endpoints(vs, sp, eps, only_local, now)
        sets["KUBE-IPVS-IPS"].members = set(bind)
        # cleanLegacyService: virtual servers no longer wanted go, with their real servers.
        for key in [k for k in self.virtual_servers if k not in active]:
            del self.virtual_servers[key]
            self.graceful = {g for g in self.graceful if g[0] != key}
            ops += 1
        ops += len(self.dummy ^ bind)   # EnsureAddressBind / UnbindAddress on kube-ipvs0
        self.dummy = bind
        self.ruleset = self._iptables()
        ops += sum(len(r) for t in ("filter", "nat") for r in self.ruleset.chains[t].values())
        self.initial_sync = False
        self.written = ops
        self.services, self.endpoints = services, eps_total
        return {"written": ops, "differs": self._snapshot() != before, "services": services,
                "summary": f"{len(self.virtual_servers)} virtual servers"}

    def _snapshot(self) -> tuple:
        return (tuple(sorted((k, vs.timeout, tuple((d.key(), d.weight) for d in vs.dests))
                             for k, vs in self.virtual_servers.items())),
                tuple(sorted(self.dummy)), tuple((n, tuple(sorted(s.members))) for n, s in self.ipsets.items()))

    def _iptables(self) -> Ruleset:
        """writeIptablesRules and createAndLinkKubeChain's jumps."""
        rs = Ruleset(local_addresses=frozenset(self.node_ips + ["127.0.0.1"] + sorted(self.dummy)),
                     ipsets=self.ipsets)
        for table, chains in (("nat", ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")),
                              ("filter", ("INPUT", "FORWARD", "OUTPUT"))):
            for c in chains:
                rs.chain(table, c)
        for table, frm, to, comment in JUMP_CHAINS:  # EnsureRule(Prepend, ...)
            rs.chain(table, frm)
            rs.add(table, frm, to, matches=(("comment", comment),))
            rs.chains[table][frm].insert(0, rs.chains[table][frm].pop())
        for table, chains in CHAINS.items():
            for c in chains:
                rs.chain(table, c)
        sets = self.ipsets
        mark = f"{MASQUERADE_MARK}/{MASQUERADE_MARK}"
        rs.add("nat", KUBE_SERVICES, "RETURN", src="127.0.0.0/8")
        for name, table, frm, to, flags, proto in IPSET_CHAINS:
            if sets[name].members:
                rs.add(table, frm, to, proto=proto or None,
                       matches=(("comment", COMMENTS[name]), ("set", name, flags, False)))
        if sets["KUBE-CLUSTER-IP"].members:
            rs.add("nat", KUBE_SERVICES, KUBE_MARK_MASQ, src=self.cluster_cidr, src_neg=True,
                   matches=(("comment", COMMENTS["KUBE-CLUSTER-IP"]), ("set", "KUBE-CLUSTER-IP", "dst,dst", False)))
        for name in ("KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL"):
            if not sets[name].members:
                continue
            m = (("comment", COMMENTS[name]), ("set", name, "dst,dst", False))
            if name == "KUBE-EXTERNAL-IP":
                rs.add("nat", KUBE_SERVICES, KUBE_MARK_MASQ, matches=m)
            rs.add("nat", KUBE_SERVICES, "ACCEPT", matches=m + (("physdev",), ("addrtype", "src", "LOCAL", True)))
            rs.add("nat", KUBE_SERVICES, "ACCEPT", matches=m + (("addrtype", "dst", "LOCAL"),))
        rs.add("nat", KUBE_SERVICES, KUBE_NODE_PORT, matches=(("addrtype", "dst", "LOCAL"),))
        rs.add("nat", KUBE_LOAD_BALANCER, KUBE_MARK_MASQ)
        rs.add("filter", KUBE_SOURCE_RANGES_FIREWALL, "DROP")
        for name in ("KUBE-CLUSTER-IP", "KUBE-LOAD-BALANCER"):  # acceptIPVSTraffic
            if sets[name].members:
                rs.add("nat", KUBE_SERVICES, "ACCEPT", matches=(("set", name, "dst,dst", False),))
        rs.add("filter", KUBE_FORWARD, "ACCEPT", matches=(("comment", "kubernetes forwarding rules"),
                                                          ("mark", False, mark)))
        rs.add("filter", KUBE_FORWARD, "ACCEPT", matches=(("comment", "kubernetes forwarding conntrack rule"),
                                                          ("conntrack", "RELATED,ESTABLISHED")))
        rs.add("filter", KUBE_NODE_PORT, "ACCEPT", matches=(
            ("comment", COMMENTS["KUBE-HEALTH-CHECK-NODE-PORT"]), ("set", "KUBE-HEALTH-CHECK-NODE-PORT", "dst", False)))
        for name, flags in (("KUBE-LOAD-BALANCER", "dst,dst"), ("KUBE-CLUSTER-IP", "dst,dst"),
                            ("KUBE-EXTERNAL-IP", "dst,dst"), ("KUBE-EXTERNAL-IP-LOCAL", "dst,dst"),
                            ("KUBE-HEALTH-CHECK-NODE-PORT", "dst")):
            rs.add("filter", KUBE_IPVS_FILTER, "RETURN", matches=(("set", name, flags, False),))
        rs.add("filter", KUBE_IPVS_FILTER, "REJECT", "--reject-with icmp-port-unreachable",
               matches=(("conntrack", "NEW"), ("set", "KUBE-IPVS-IPS", "dst", False)))
        rs.add("nat", KUBE_POSTROUTING, "RETURN", matches=(("mark", True, mark),))
        rs.add("nat", KUBE_POSTROUTING, "MARK", f"--set-xmark {MASQUERADE_MARK}/0x0")
        rs.add("nat", KUBE_POSTROUTING, "MASQUERADE", "--random-fully",
               matches=(("comment", "kubernetes service traffic requiring SNAT"),))
        rs.add("nat", KUBE_MARK_MASQ, "MARK", f"--set-xmark {mark}")
        return rs

    # -- reads -------------------------------------------------------------------------------------
    def ipvsadm(self, now: float | None = None) -> str:
        """`ipvsadm -Ln` (virtual servers in address order; the kernel lists them by hash)."""
        now = self.now if now is None else now
        self._advance(now)
        out = [IPVS_HEADER]
        for key in sorted(self.virtual_servers, key=lambda k: (k[0], _member_key(k[1]), k[2])):
            vs = self.virtual_servers[key]
            out.append(vs.line() + "\n")
            for d in vs.dests:
                out.append("  -> %-28s %-7s %-6d %-10u %-10u\n" % (d.key(), "Masq", d.weight, 0,
                                                                  d.inactive(now, vs.proto)))
        return "".join(out)

    def ipset_list(self) -> str:
        """`ipset list`, every set in ipsetInfo's order."""
        refs: dict[str, int] = {}
        for r in self.ruleset.rules() if self.ruleset else ():
            for m in r.matches:
                if m[0] == "set":
                    refs[m[1]] = refs.get(m[1], 0) + 1
        return "\n".join(s.listing(refs.get(n, 0)) for n, s in self.ipsets.items())

    def iptables_text(self) -> str:
        return self.ruleset.text() if self.ruleset else ""

    def dummy_interface(self) -> str:
        """`ip -4 addr show kube-ipvs0` (the addresses, /32 each)."""
        lines = [f"{DUMMY_DEVICE}: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default"]
        lines += [f"    inet {ip}/32 scope global {DUMMY_DEVICE}" for ip in sorted(self.dummy, key=_member_key)]
        return "\n".join(lines) + "\n"

    def text(self, now: float | None = None) -> str:
        if self.ruleset is None:
            return ""
        return (f"# ipvsadm -Ln\n{self.ipvsadm(now)}\n# ip addr show {DUMMY_DEVICE}\n{self.dummy_interface()}\n"
                f"# ipset list\n{self.ipset_list()}\n# iptables-save\n{self.iptables_text()}")

    def info(self) -> dict:
        return {"ipvsadm": self.ipvsadm() if self.ruleset else "", "ipset": self.ipset_list() if self.ruleset else "",
                "iptables": self.iptables_text(), "kubeIpvs0": sorted(self.dummy, key=_member_key),
                "services": self.services, "endpoints": self.endpoints,
                "virtualServers": len(self.virtual_servers)}

    def iptables_info(self) -> dict:
        return {"rules": self.iptables_text(), "services": self.services, "endpoints": self.endpoints,
                "natRules": sum(len(r) for r in self.ruleset.chains["nat"].values()) if self.ruleset else 0}

    def metrics(self) -> dict:
        return {"sync_proxy_rules_ipvs_last": self.written}

    # -- the packet path ---------------------------------------------------------------------------
    def route(self, packet: dict, rng, now: float) -> dict:
        """One connection's first packet: nat PREROUTING (OUTPUT from the node itself), filter
        INPUT (every Service address is local, on kube-ipvs0) / FORWARD / OUTPUT, then IPVS
        (LOCAL_IN / LOCAL_OUT) picks a real server and DNATs, then nat POSTROUTING."""
        self._advance(now)
        if self.ruleset is None:
            return {"verdict": "ACCEPT", "endpoint": None, "rule": None, "path": [], "masquerade": False}
        rs = self.ruleset
        src, proto = packet["src"], (packet.get("proto") or "tcp").lower()
        w = _Walk(rs, packet, rng, {}, now, dst=packet["dst"], dport=int(packet["dport"]))
        from_local = src in rs.local_addresses
        _walk(w, "nat", "OUTPUT" if from_local else "PREROUTING", src, proto)
        hook = "OUTPUT" if from_local else ("INPUT" if w.dst in rs.local_addresses else "FORWARD")
        verdict = _walk(w, "filter", hook, src, proto)
        if verdict in ("DROP", "REJECT"):
            return {"verdict": verdict, "endpoint": None, "rule": w.path[-1], "path": w.path, "masquerade": False}
        vs = self.virtual_servers.get(_vs_key(proto.upper(), w.dst, w.dport))
        rule = None
        if vs is not None:
            dest = self._pick(vs, src, now)
            if dest is None:  # ip_vs_leave: ICMP port unreachable
                w.path.append(f"ipvs {vs.line()} (no destination available)")
                return {"verdict": "REJECT", "endpoint": None, "rule": w.path[-1], "path": w.path,
                        "masquerade": False}
            rule = f"ipvs {vs.line()} -> {dest.key()} Masq {dest.weight}"
            w.path.append(rule)
            dest.connections.append(now)
            if len(dest.connections) > MAX_CONNECTIONS:
                del dest.connections[:len(dest.connections) - MAX_CONNECTIONS]
            w.endpoint = dest.key()
            w.dst, w.dport = dest.ip, dest.port
        _walk(w, "nat", "POSTROUTING", src, proto)
        return {"verdict": "ACCEPT", "endpoint": w.endpoint, "rule": rule, "path": w.path, "masquerade": w.masquerade}

    def _pick(self, vs: VirtualServer, client: str, now: float) -> RealServer | None:
        """ip_vs_schedule: the persistence template first (ip_vs_sched_persist), else rr."""
        if vs.timeout:
            t = vs.templates.get(client)
            if t is not None and t[1] > now:
                i = vs.find(t[0])
                if i >= 0 and vs.dests[i].weight > 0:  # expire_quiescent_template=1
                    vs.templates[client] = (t[0], now + vs.timeout)
                    return vs.dests[i]
            vs.templates.pop(client, None)
        dest = vs.schedule()
        if dest is not None and vs.timeout:
            if len(vs.templates) >= MAX_CONNECTIONS:  # bounded: expired templates go first
                vs.templates = {c: t for c, t in vs.templates.items() if t[1] > now}
            vs.templates[client] = (dest.key(), now + vs.timeout)
        return dest

