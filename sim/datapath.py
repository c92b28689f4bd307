"""The packet path: where one connection's first packet goes, hop by hop, and what answers it.

    trace(cluster, {"src": ip, "src_node": node | None, "dst": ip, "dport": int, "proto": "tcp"})
        -> Trace(hops, verdict, endpoint, pod)

What a Linux node does with a packet, in order (the netfilter hooks kube-proxy writes into, the
routes the CNI plugin writes, the sockets the pods listen on):

1. From a pod: the packet leaves the pod's network namespace (the pause container holds it; every
   container of the pod shares it).  127.0.0.0/8 never leaves it: containers of one pod reach
   each other on localhost through the namespace's `lo`.
   From a node (host network): the node's own stack.  From outside (src_node None): the packet
   reaches a node's IP (a NodePort), or a cloud load balancer's IP first, which sends it to a
   node's NodePort (`cluster.cloud.load_balancer`, when the cluster has a cloud).
2. The node the packet enters runs it through kube-proxy's rules (nat PREROUTING, or OUTPUT for
   the node's own packets): `cluster.kube_proxy(node).route(packet)`, which DNATs a Service's
   address to the endpoint its probabilities pick, REJECTs a Service without endpoints, and
   marks for MASQUERADE what upstream masquerades (traffic from outside the cluster CIDR,
   hairpin, external traffic).
3. NetworkPolicy, when the CNI plugin enforces it: egress on the source node, after DNAT
   (sim/networkpolicy.py filter_packet).
4. Routing, as the cluster's CNI plugin wrote the node's routes (sim/cni/): the same node's pod
   over the bridge / its veth; another node's pod over the overlay (flannel: VXLAN, the inner
   packet encapsulated node IP -> node IP on UDP 8472), a BGP route (calico) or a static route
   (bridge).  A node that is down or on the other side of a partition loses it
   (`cluster.kernel.network.reachable`).
5. On the destination node: ingress NetworkPolicy, then the pod's socket: the container
   listening on the port (delivered), nothing listening (TCP: refused, the RST; UDP: no answer).
6. The reply goes back through conntrack, which reverses the DNAT (the client sees the Service's
   address answer) and the SNAT.

Verdicts: "delivered", "refused" (a RST or kube-proxy's REJECT), "timeout" (nothing answers: no
route, a UDP port with nobody, an address nobody has), "dropped" (a partition, a dead node, a
NetworkPolicy, a DROP rule).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.cloud.provider import CLOUD_HOST
from sim.external import CLIENT_HOST
from sim.ipfamily import host_port, parse_address, parse_network

if TYPE_CHECKING:
    from sim.cluster import Cluster

OUTSIDE = "outside"
VERDICTS = ("delivered", "refused", "timeout", "dropped")


@dataclass
class Trace:
    """One connection's path.  `hops`: [{"at": node / "ns/pod" / "outside" / "cloud", "what",
    "rule"}]; `endpoint`: the "ip:port" that answered (after DNAT); `pod`: the pod that answered
    ({"namespace", "name", "node", "ip"}) or None."""
    packet: dict
    hops: list[dict] = field(default_factory=list)
    verdict: str = "timeout"
    endpoint: str | None = None
    pod: dict | None = None
    # The answering container (sim/kubelet/runtime.py Container), for the caller to ask it.
    listener: Any = field(default=None, repr=False, compare=False)
    snat: str | None = None        # the source address the destination saw, when masqueraded

    def hop(self, at: str, what: str, rule: str | None = None, path: list[str] | None = None) -> None:
        """`path`: every kube-proxy rule the packet matched on the way to `rule` (the chain
        jumps, KUBE-SVC's probability rule, the DNAT), "<table> <rule>" each."""
        self.hops.append({"at": at, "what": what, "rule": rule, **({"path": list(path)} if path else {})})

    def end(self, verdict: str, at: str, what: str, rule: str | None = None,
            path: list[str] | None = None) -> "Trace":
        self.hop(at, what, rule, path)
        self.verdict = verdict
        return self

    def to_json(self) -> dict:
        return {"packet": dict(self.packet), "hops": [dict(h) for h in self.hops], "verdict": self.verdict,
                "endpoint": self.endpoint, "pod": dict(self.pod) if self.pod else None, "snat": self.snat}


# -- where addresses are ---------------------------------------------------------------------
@dataclass(frozen=True)
class Socket:
    """A pod's network namespace holding an address: its node, runtime and pod uid."""
    node: str
    runtime: Any
    uid: str
    host_network: bool


def node_of_ip(cluster: "Cluster", ip: str) -> str | None:
    """The node one of whose InternalIPs (a dual-stack node has one of each family) is `ip`."""
    for node in sorted(cluster.node_components):
        if ip in cluster.node_components[node][1].internal_ips:
            return node
    return None


def node_of_pod_ip(cluster: "Cluster", ip: str) -> str | None:
    """The node whose pod CIDR (node IPAM's range for it, one per family) holds `ip`."""
    try:
        addr = parse_address(ip)
    except ValueError:
        return None
    for node in sorted(cluster.node_components):
        for cidr in cluster.node_components[node][0].network.pod_cidrs:
            net = parse_network(cidr)
            if addr.version == net.version and addr in net:
                return node
    return None


def _load_balancer_at(cluster: "Cluster", ip: str):
    """The cloud load balancer whose address `ip` is (sim/cloud/), or None."""
    cloud = getattr(cluster, "cloud", None)
    if cloud is None or node_of_ip(cluster, ip) is not None:
        return None
    return cloud.load_balancer_at(ip)


def sandbox_ips(sb: dict) -> list[str]:
    """A sandbox's addresses: one per family on a dual-stack node, the primary first."""
    return list(sb.get("ips") or ([sb["ip"]] if sb.get("ip") else []))


def sockets_at(cluster: "Cluster", ip: str) -> list[Socket]:
    """The running sandboxes holding `ip`: one pod, or every host-network pod of a node."""
    node = node_of_ip(cluster, ip)
    nodes = [node] if node is not None else sorted(cluster.node_components)
    out = []
    for n in nodes:
        runtime, kubelet = cluster.node_components[n][0], cluster.node_components[n][1]

        def holds(sb: dict) -> bool:
            return ip in sandbox_ips(sb) or (sb.get("ip") == kubelet.internal_ip and ip in kubelet.internal_ips)
        # Most nodes hold no sandbox of `ip`: look before sorting (one packet looks at every node).
        if not any(holds(sb) for sb in runtime.sandboxes.values()):
            continue
        for uid, sb in sorted(runtime.sandboxes.items()):
            if holds(sb):
                out.append(Socket(n, runtime, uid, ip in kubelet.internal_ips))
        if out:
            break
    return out


def pod_ref(cluster: "Cluster", sock: Socket) -> dict:
    """{"namespace", "name", "node", "ip"} of the pod a sandbox belongs to."""
    w = cluster.node_components[sock.node][1].workers.get(sock.uid) if hasattr(
        cluster.node_components[sock.node][1], "workers") else None
    md = (w or {}).get("pod", {}).get("metadata", {}) if w else {}
    ip = (sock.runtime.sandboxes.get(sock.uid) or {}).get("ip")
    return {"namespace": md.get("namespace", ""), "name": md.get("name", sock.uid), "node": sock.node, "ip": ip}


def _label(ref: dict) -> str:
    return f"{ref['namespace']}/{ref['name']}" if ref.get("namespace") else ref["name"]


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def _listening(socks: list[Socket], port: int):
    """(socket, container) of the first sandbox with a container listening on `port`."""
    for s in socks:
        if not s.runtime.running:
            continue
        c = s.runtime.listener(s.uid, port)
        if c is not None:
            return s, c
    return None


def _plugin(cluster: "Cluster"):
    from sim.cni import plugin_for
    return plugin_for(cluster)


def plugin_name(cluster: "Cluster") -> str:
    return _plugin(cluster).name


def _policy(cluster: "Cluster", t: Trace, src: str, dst: str, dport: int, proto: str, node: str,
            direction: str) -> bool:
    """The NetworkPolicy hook (sim/networkpolicy.py, when present), only under a plugin that
    enforces policy.  False when the packet is dropped (the hop is recorded)."""
    plugin = _plugin(cluster)
    if not getattr(plugin, "enforces_network_policy", False):
        return True
    try:
        from sim import networkpolicy
    except ImportError:
        return True
    v = networkpolicy.filter_packet(cluster, src, dst, dport, proto, node)
    if getattr(v, "direction", direction) != direction and getattr(v, "allowed", True):
        return True
    if not v.allowed:
        t.end("dropped", node, f"{plugin.name} NetworkPolicy drops it ({v.direction}): {v.reason}", v.policy)
        return False
    return True


def _kube_proxy(cluster: "Cluster", node: str, pkt: dict) -> dict:
    """The node's kube-proxy rules for the packet; a node without kube-proxy: as addressed."""
    try:
        return cluster.kube_proxy(node).route(pkt)
    except Exception:  # noqa: BLE001 - no kube-proxy (ClusterError): nothing rewrites the packet
        return {"verdict": "ACCEPT", "endpoint": None, "rule": None, "path": [], "masquerade": False}


# -- the trace ---------------------------------------------------------------------------------
def trace(cluster: "Cluster", packet: dict) -> Trace:
    """Follow one connection's first packet (module docstring).  Never raises for an address or
    node nobody has: that is a timeout or a drop, as on a real network."""
    src, src_node = str(packet["src"]), packet.get("src_node")
    dst, dport, proto = str(packet["dst"]), int(packet["dport"]), (packet.get("proto") or "tcp").lower()
    t = Trace({"src": src, "src_node": src_node, "dst": dst, "dport": dport, "proto": proto})
    network = cluster.kernel.network
    where = OUTSIDE
    src_ref = None
    lb_front = None      # (load balancer ip, port) the client connected to
    if src_node is None:
        t.hop(OUTSIDE, f"client {src} opens {proto.upper()} to {dst}:{dport}")
        sender = CLIENT_HOST
        lb = _load_balancer_at(cluster, dst)
        if lb is not None:
            # The cloud's forwarding rule for the address: its firewall, then a backend node's
            # nodePort (sim/cloud/loadbalancer.py pick; the health checks choose the nodes).
            why = lb.refusal(dport, proto, src)
            if why is not None:
                verdict = "dropped" if why.startswith("the firewall") else "timeout"
                return t.end(verdict, "cloud", f"load balancer {dst}: {why}: nothing forwards the packet")
            node_ip_, node_port = cluster.cloud.load_balancer(dst, dport, src, proto)
            t.hop("cloud", f"load balancer {dst}:{dport} sends it to node {node_ip_}:{node_port}")
            lb_front, sender = (dst, dport), CLOUD_HOST
            dst, dport = node_ip_, int(node_port)
        node = node_of_ip(cluster, dst)
        if node is None:
            return t.end("timeout", OUTSIDE, f"no host answers at {dst}: no route from outside the cluster")
        if not network.reachable(sender, node) or not cluster.specs[node].alive:
            return t.end("dropped", "cloud" if lb_front else OUTSIDE, f"node {node} ({dst}) is unreachable")
        t.hop(node, f"arrives on {node}'s eth0 ({dst}:{dport})")
        where = node
    else:
        if src_node not in cluster.node_components:
            return t.end("dropped", str(src_node), f'node "{src_node}" not found')
        if not cluster.specs[src_node].alive:
            return t.end("dropped", src_node, f"node {src_node} is down")
        socks = [s for s in sockets_at(cluster, src) if s.node == src_node]
        host = src in cluster.node_components[src_node][1].internal_ips
        if socks and not host:
            src_ref = pod_ref(cluster, socks[0])
            where = _label(src_ref)
            t.hop(where, f"pod {where} ({src}) opens {proto.upper()} to {dst}:{dport} from its network namespace "
                         "(held by the pause container)")
        else:
            where = src_node
            t.hop(where, f"node {src_node} ({src}, host network) opens {proto.upper()} to {dst}:{dport}")
        if _is_loopback(dst):
            return _loopback(cluster, t, socks if not host else _host_sockets(cluster, src_node), where, dport, proto)
        node = src_node
    # kube-proxy on the node the packet entered
    pkt = {"src": src, "dst": dst, "dport": dport, "proto": proto}
    v = _kube_proxy(cluster, node, pkt)
    rule = v.get("rule")
    path = v.get("path")
    if v.get("verdict") == "REJECT":
        return t.end("refused", node, "kube-proxy REJECTs it: the Service has no endpoints", rule, path)
    if v.get("verdict") == "DROP":
        return t.end("dropped", node, "kube-proxy DROPs it", rule, path)
    if v.get("endpoint"):
        ep_ip, _, ep_port = v["endpoint"].rpartition(":")
        ep_ip = ep_ip.strip("[]")   # [IPv6]:port
        t.hop(node, f"kube-proxy DNATs {dst}:{dport} to endpoint {v['endpoint']}", rule, path)
        dst, dport = ep_ip, int(ep_port)
    if not _policy(cluster, t, src, dst, dport, proto, node, "egress"):
        return t
    # where the (translated) destination is: the node holding it, or else the node whose pod
    # CIDR holds it (the routes lead there whether or not a pod has the address now)
    socks = sockets_at(cluster, dst)
    dst_node = socks[0].node if socks else node_of_pod_ip(cluster, dst)
    if dst_node is None:
        return t.end("timeout", node, f"no pod or node has {dst}: the packet goes out the default route, "
                                      "and nothing answers")
    plugin = _plugin(cluster)
    snat_from = None
    if v.get("masquerade"):
        snat_from = plugin.egress_address(cluster, node, dst)
        t.snat = snat_from
        t.hop(node, f"MASQUERADE (nat POSTROUTING): source {src} becomes {snat_from}",
              "-A KUBE-POSTROUTING -j MASQUERADE --random-fully")
    hops, routed = plugin.forward(cluster, node, dst_node, snat_from or src, dst)
    if dst_node != node and routed and (not network.reachable(node, dst_node) or not cluster.specs[dst_node].alive):
        t.hop(**hops[0])
        why = "is down" if not cluster.specs[dst_node].alive else "is cut off from it (network partition)"
        return t.end("dropped", node, f"node {dst_node} {why}: the packet is lost")
    for hop in hops:
        t.hop(**hop)
    if not routed:
        t.verdict = "timeout"
        return t
    if not socks:
        # The pod that had the address is gone: the bridge's ARP for it goes unanswered.
        return t.end("timeout", dst_node, f"no pod on {dst_node} has {dst} any more: nothing answers")
    if not _policy(cluster, t, snat_from or src, dst, dport, proto, dst_node, "ingress"):
        return t
    found = _listening(socks, dport)
    if found is None:
        ref = pod_ref(cluster, socks[0]) if not socks[0].host_network else {"name": dst_node}
        if proto == "tcp":
            return t.end("refused", _label(ref), f"nothing listens on {dst}:{dport}: connection refused (RST)")
        return t.end("timeout", _label(ref), f"nothing listens on {dst}:{dport}/UDP: no answer")
    sock, c = found
    ref = pod_ref(cluster, sock)
    t.listener, t.endpoint, t.pod, t.verdict = c, host_port(dst, dport), ref, "delivered"
    t.hop(_label(ref), f"container {c.name} of pod {_label(ref)} accepts {dst}:{dport}")
    entered = pkt if lb_front else packet     # what the node saw: after the load balancer
    back = host_port(entered['dst'], entered['dport'])
    t.hop(where, f"reply from {dst}:{dport} reaches {src}" + (
        f" as {back} (conntrack reverses the DNAT)" if back != host_port(dst, dport) else "") + (
        f", un-SNATed from {snat_from}" if snat_from else ""))
    if lb_front:
        t.hop("cloud", f"the load balancer answers {src} from {host_port(*lb_front)}")
    return t


def _host_sockets(cluster: "Cluster", node: str) -> list[Socket]:
    ip = cluster.node_components[node][1].internal_ip
    return [s for s in sockets_at(cluster, ip) if s.node == node]


def _loopback(cluster: "Cluster", t: Trace, socks: list[Socket], where: str, dport: int, proto: str) -> Trace:
    """127.0.0.0/8: the namespace's own `lo`: the pod's containers (or, from the host network,
    the node's host-network processes)."""
    t.hop(where, f"{t.packet['dst']} is loopback: it stays on lo in the same network namespace")
    found = _listening(socks, dport)
    if found is None:
        if proto == "tcp":
            return t.end("refused", where, f"nothing listens on localhost:{dport}: connection refused")
        return t.end("timeout", where, f"nothing listens on localhost:{dport}/UDP")
    sock, c = found
    ref = pod_ref(cluster, sock)
    t.listener, t.endpoint, t.pod, t.verdict = c, host_port(t.packet['dst'], dport), ref, "delivered"
    t.hop(where, f"container {c.name} accepts it on localhost:{dport}")
    return t
