"""A node's network as its kernel and disk hold it: what the CNI plugin and its agent wrote.

- `/etc/cni/net.d/<file>`: the CNI network configuration.  containerd's CRI plugin loads the
  first file there (pkg/cri/server/cni_conf_syncer.go); until there is one it answers the
  kubelet's Status with NetworkReady=false, reason NetworkPluginNotReady, "Network plugin
  returns error: cni plugin not initialized", and refuses RunPodSandbox's network setup.
- other files the plugins read (flannel's /run/flannel/subnet.env);
- the routing table (`ip route`): the kernel's own routes for eth0, what the CNI ADD made (the
  bridge's connected route, calico's per-pod /32s), and what the agent wrote for other nodes
  (flanneld's VXLAN routes, BIRD's BGP routes) or an administrator added (bridge's static ones);
- links (`ip addr`): eth0, cni0, flannel.1, tunl0 ...;
- host-local IPAM's stores, one per range (sim/cni/hostlocal.py);
- the pod runtime config the kubelet sends (CRI UpdateRuntimeConfig: the node's podCIDR).

A dual-stack node (sim/ipfamily.py) has an IPv6 address on eth0 too, its pod CIDRs are one of
each family, and its IPv6 routes are a table of their own (`ip -6 route`); the kernel looks an
address up among the routes of its family.
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from sim.cni.hostlocal import HostLocal
from sim.ipfamily import parse_address, parse_network

NOT_INITIALIZED = "Network plugin returns error: cni plugin not initialized"
NODE_PREFIX = 24          # the nodes' own subnet (192.168.<i>.0/24)
NODE_PREFIX6 = 64         # and its IPv6 one (fd00:192:168:<i>::/64)


@dataclass(frozen=True)
class Route:
    """One line of `ip route`: `dst` ("default" or a CIDR), then how."""
    dst: str
    dev: str
    via: str | None = None
    proto: str | None = None
    scope: str | None = None
    src: str | None = None
    onlink: bool = False
    kind: str = ""            # "blackhole" routes have no device
    v6: bool = False          # an IPv6 route (`ip -6 route`); only "default" needs saying

    def text(self) -> str:
        if self.kind == "blackhole":
            return f"blackhole {self.dst}" + (f" proto {self.proto}" if self.proto else "")
        words = [self.dst.removesuffix("/32").removesuffix("/128")]   # ip route prints a host route bare
        if self.via:
            words += ["via", self.via]
        words += ["dev", self.dev]
        if self.proto:
            words += ["proto", self.proto]
        if self.scope:
            words += ["scope", self.scope]
        if self.src:
            words += ["src", self.src]
        if self.onlink:
            words.append("onlink")
        return " ".join(words)

    def network(self):
        # Kept on the route (frozen: its dst never changes): the packet path sorts and matches
        # every route of a node's table for every packet.
        try:
            return self.__dict__["_network"]
        except KeyError:
            net = parse_network("::/0" if self.v6 else "0.0.0.0/0") if self.dst == "default" else \
                parse_network(self.dst, strict=False)
            object.__setattr__(self, "_network", net)
            return net

    def is_v6(self) -> bool:
        return self.network().version == 6


def veth_name(prefix: str, sandbox_id: str) -> str:
    """A host-side veth name: calico's "cali" + 11 hex characters of sha1(workload id)
    (libcalico-go VethNameForWorkload); the bridge plugin's are "veth" + 8 random hex."""
    return prefix + hashlib.sha1(sandbox_id.encode()).hexdigest()[:15 - len(prefix)]


class NodeNetwork:
    def __init__(self, node: str, node_ip: str, node_ip6: str | None = None):
        self.node, self.node_ip, self.node_ip6 = node, node_ip, node_ip6
        net = ipaddress.ip_network(f"{node_ip}/{NODE_PREFIX}", strict=False)
        self.node_subnet, self.gateway = str(net), str(net.network_address + 1)
        net6 = ipaddress.ip_network(f"{node_ip6}/{NODE_PREFIX6}", strict=False) if node_ip6 else None
        self.node_subnet6, self.gateway6 = (str(net6), str(net6.network_address + 1)) if net6 else (None, None)
        self.conf: dict | None = None              # /etc/cni/net.d/<conf_file>
        self.conf_file: str | None = None
        self.files: dict[str, str] = {}            # other files: /run/flannel/subnet.env
        self.pod_cidr: str | None = None           # CRI UpdateRuntimeConfig's PodCIDR (the primary)
        self.pod_cidrs: list[str] = []             # all of them (dual-stack: one of each family)
        self.routes: dict[str, Route] = {}         # written for other nodes (agent / admin), by dst
        self.local_routes: dict[str, Route] = {}   # written by CNI ADD (connected and /32 routes)
        self.links: dict[str, str] = {}            # interface -> its address ("" for none)
        self.links6: dict[str, str] = {}           # interface -> its IPv6 address (dual-stack)
        self.ipam: dict[str, HostLocal] = {}       # host-local stores, by subnet
        self.pods: dict[str, dict] = {}            # sandbox id -> {"ip", "ips", "veth", "subnet", "subnets"}

    # -- the CRI plugin's view -------------------------------------------------------------
    def status(self) -> dict:
        """The NetworkReady condition of CRI Status."""
        if self.conf is None:
            return {"type": "NetworkReady", "status": False, "reason": "NetworkPluginNotReady",
                    "message": NOT_INITIALIZED}
        return {"type": "NetworkReady", "status": True, "reason": "", "message": ""}

    def set_pod_cidrs(self, cidrs) -> None:
        """The node's pod CIDRs (a list, or the kubelet's comma-joined string), primary first."""
        from sim.ipfamily import split_cidrs
        self.pod_cidrs = split_cidrs(cidrs) if isinstance(cidrs, str) or cidrs is None else list(cidrs)
        self.pod_cidr = self.pod_cidrs[0] if self.pod_cidrs else None

    def address_for(self, ip: str) -> str | None:
        """The node's own address of `ip`'s family (eth0's)."""
        return self.node_ip6 if ipaddress.ip_address(ip).version == 6 else self.node_ip

    def install_conf(self, file: str, conf: dict) -> None:
        self.conf_file, self.conf = file, conf

    def host_local(self, subnet: str, network: str) -> HostLocal:
        store = self.ipam.get(subnet)
        if store is None:
            store = self.ipam[subnet] = HostLocal(network, subnet)
            for sid, pod in self.pods.items():
                if pod["subnet"] is None and ipaddress.ip_address(pod["ip"]) in ipaddress.ip_network(subnet):
                    store.reserved[pod["ip"]] = sid
                    pod["subnet"] = subnet
        return store

    def adopt(self, sandbox_id: str, ip: str) -> None:
        """A sandbox that kept running while Pilothouse restarted: its address stays reserved."""
        self.pods[sandbox_id] = {"ip": ip, "veth": "", "subnet": None}
        for subnet, store in self.ipam.items():
            if ipaddress.ip_address(ip) in ipaddress.ip_network(subnet):
                store.reserved[ip] = sandbox_id
                self.pods[sandbox_id]["subnet"] = subnet

    def reboot(self) -> None:
        """The node lost power: the kernel's links and routes and /run (tmpfs) are gone; the
        disk keeps /etc/cni/net.d and host-local's reservations (leaked, as upstream's are)."""
        self.routes.clear()
        self.local_routes.clear()
        self.links.clear()
        self.links6.clear()
        self.pods.clear()
        self.files = {p: v for p, v in self.files.items() if not p.startswith("/run/")}

    # -- reads -----------------------------------------------------------------------------
    def table(self) -> list[Route]:
        """Every route, as `ip route` lists the main table: default first, then by prefix."""
        kernel = [Route("default", "eth0", via=self.gateway, proto="static"),
                  Route(self.node_subnet, "eth0", proto="kernel", scope="link", src=self.node_ip)]
        rest = [r for r in list(self.routes.values()) + list(self.local_routes.values()) if not r.is_v6()]
        return kernel[:1] + sorted(rest + kernel[1:], key=_route_order)

    def table6(self) -> list[Route]:
        """The IPv6 routes, as `ip -6 route` lists them (a dual-stack node's; else none)."""
        if not self.node_ip6:
            return []
        kernel = [Route(self.node_subnet6, "eth0", proto="kernel"),
                  Route("default", "eth0", via=self.gateway6, proto="static", v6=True)]
        rest = [r for r in list(self.routes.values()) + list(self.local_routes.values()) if r.is_v6()]
        return sorted(rest + kernel[:1], key=_route_order) + kernel[1:]

    def lookup(self, ip: str) -> Route:
        """The route the kernel picks for `ip`: the longest prefix of its family that holds it."""
        return longest_match(self.table() + self.table6(), ip)

    def ip_route(self) -> str:
        return "".join(r.text() + "\n" for r in self.table())


def _route_order(r: Route) -> tuple:
    try:
        return r.__dict__["_order"]
    except KeyError:
        n = r.network()
        key = (int(n.network_address), n.prefixlen)
        object.__setattr__(r, "_order", key)
        return key


def longest_match(routes: list[Route], ip: str) -> Route | None:
    addr = parse_address(ip)
    best = None
    for r in routes:
        n = r.network()
        if addr in n and (best is None or n.prefixlen > best.network().prefixlen):
            best = r
    return best
