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
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from sim.cni.hostlocal import HostLocal

NOT_INITIALIZED = "Network plugin returns error: cni plugin not initialized"
NODE_PREFIX = 24          # the nodes' own subnet (192.168.<i>.0/24)


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

    def text(self) -> str:
        if self.kind == "blackhole":
            return f"blackhole {self.dst}" + (f" proto {self.proto}" if self.proto else "")
        words = [self.dst.removesuffix("/32")]   # ip route prints a host route bare
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
        return ipaddress.ip_network("0.0.0.0/0" if self.dst == "default" else self.dst, strict=False)


def veth_name(prefix: str, sandbox_id: str) -> str:
    """A host-side veth name: calico's "cali" + 11 hex characters of sha1(workload id)
    (libcalico-go VethNameForWorkload); the bridge plugin's are "veth" + 8 random hex."""
    return prefix + hashlib.sha1(sandbox_id.encode()).hexdigest()[:15 - len(prefix)]


class NodeNetwork:
    def __init__(self, node: str, node_ip: str):
        self.node, self.node_ip = node, node_ip
        net = ipaddress.ip_network(f"{node_ip}/{NODE_PREFIX}", strict=False)
        self.node_subnet, self.gateway = str(net), str(net.network_address + 1)
        self.conf: dict | None = None              # /etc/cni/net.d/<conf_file>
        self.conf_file: str | None = None
        self.files: dict[str, str] = {}            # other files: /run/flannel/subnet.env
        self.pod_cidr: str | None = None           # CRI UpdateRuntimeConfig's PodCIDR
        self.routes: dict[str, Route] = {}         # written for other nodes (agent / admin), by dst
        self.local_routes: dict[str, Route] = {}   # written by CNI ADD (connected and /32 routes)
        self.links: dict[str, str] = {}            # interface -> its address ("" for none)
        self.ipam: dict[str, HostLocal] = {}       # host-local stores, by subnet
        self.pods: dict[str, dict] = {}            # sandbox id -> {"ip", "veth", "subnet"}

    # -- the CRI plugin's view -------------------------------------------------------------
    def status(self) -> dict:
        """The NetworkReady condition of CRI Status."""
        if self.conf is None:
            return {"type": "NetworkReady", "status": False, "reason": "NetworkPluginNotReady",
                    "message": NOT_INITIALIZED}
        return {"type": "NetworkReady", "status": True, "reason": "", "message": ""}

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
        self.pods.clear()
        self.files = {p: v for p, v in self.files.items() if not p.startswith("/run/")}

    # -- reads -----------------------------------------------------------------------------
    def table(self) -> list[Route]:
        """Every route, as `ip route` lists the main table: default first, then by prefix."""
        kernel = [Route("default", "eth0", via=self.gateway, proto="static"),
                  Route(self.node_subnet, "eth0", proto="kernel", scope="link", src=self.node_ip)]
        rest = list(self.routes.values()) + list(self.local_routes.values())
        rest.sort(key=lambda r: (int(r.network().network_address), r.network().prefixlen))
        return kernel[:1] + sorted(rest + kernel[1:], key=lambda r: (int(r.network().network_address),
                                                                      r.network().prefixlen))

    def lookup(self, ip: str) -> Route:
        """The route the kernel picks for `ip`: the longest prefix that holds it."""
        addr = ipaddress.ip_address(ip)
        best = None
        for r in self.table():
            n = r.network()
            if addr in n and (best is None or n.prefixlen > best.network().prefixlen):
                best = r
        return best

    def ip_route(self) -> str:
        return "".join(r.text() + "\n" for r in self.table())
