"""The reference `bridge` plugin with host-local IPAM (containernetworking/plugins
plugins/main/bridge): every pod's veth on the node's cni0 bridge, cni0 holding the subnet's
gateway (.1) with the connected route `<podCIDR> dev cni0 proto kernel scope link src <.1>`.

The configuration is containerd's `conf_template` rendered with the PodCIDR the kubelet hands
the runtime in CRI UpdateRuntimeConfig once the node IPAM controller set spec.podCIDR (so the
network is ready only then).  The bridge plugin routes nothing between nodes: the routes to the
other nodes' pod CIDRs are static routes on every node (`<their podCIDR> via <their IP> dev
eth0`), as an administrator adds them (Kubernetes the Hard Way, "Provisioning Pod Network
Routes") - here derived from the Node objects, as that setup step would.
"""
from __future__ import annotations

import ipaddress

from sim.cni.node import NodeNetwork, Route, veth_name
from sim.cni.plugin import CNIPlugin

BRIDGE = "cni0"


def bridge_conf(name: str, subnets: list[str]) -> dict:
    """containerd's conf_template rendered: one host-local range per pod CIDR (a dual-stack
    node's `{{range .PodCIDRRanges}}`), a default route of each family."""
    v6 = any(":" in s for s in subnets)
    return {"cniVersion": "1.0.0", "name": name, "plugins": [
        {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": False, "hairpinMode": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": s}] for s in subnets],
                  "routes": [{"dst": "0.0.0.0/0"}] + ([{"dst": "::/0"}] if v6 else [])}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}


def bridge_add(plugin: CNIPlugin, net: NodeNetwork, sandbox_id: str, subnets: list[str]) -> dict:
    """The bridge plugin's ADD under any plugin that delegates to it (flannel does): cni0
    with each range's gateway address and its connected route, a veth into the pod, a
    host-local IP from each range."""
    ips = plugin._host_local(net, sandbox_id, subnets, veth_name("veth", sandbox_id))
    gateways = []
    for subnet in subnets:
        n = ipaddress.ip_network(subnet)
        gateway = str(n.network_address + 1)
        gateways.append(gateway)
        if n.version == 6:
            net.links6[BRIDGE] = gateway
            net.local_routes[subnet] = Route(subnet, BRIDGE, proto="kernel")
        else:
            net.links[BRIDGE] = gateway
            net.local_routes[subnet] = Route(subnet, BRIDGE, proto="kernel", scope="link", src=gateway)
    return {"ip": ips[0], "ips": ips, "gateway": gateways[0]}


class BridgePlugin(CNIPlugin):
    name = cni_type = "bridge"
    overlay = "no overlay: static routes to each node's pod CIDR via its IP"
    device = BRIDGE
    network_name = "containerd-net"
    conf_file = "10-containerd-net.conflist"

    def runtime_config(self, net: NodeNetwork, pod_cidr: str) -> None:
        """CRI UpdateRuntimeConfig: containerd renders its conf_template with the PodCIDR."""
        net.set_pod_cidrs(pod_cidr)
        net.install_conf(self.conf_file, bridge_conf(self.network_name, net.pod_cidrs))

    def add(self, net: NodeNetwork, sandbox_id: str) -> dict:
        subnets = [r[0]["subnet"] for r in net.conf["plugins"][0]["ipam"]["ranges"]]
        return bridge_add(self, net, sandbox_id, subnets)

    def extra_routes(self, cluster, net: NodeNetwork) -> list[Route]:
        out = []
        for name in sorted(cluster.node_components):
            other = cluster.node_components[name][0].network
            if name != net.node:
                for cidr in other.pod_cidrs:
                    via = other.address_for(cidr.partition("/")[0])
                    if via:
                        out.append(Route(cidr, "eth0", via=via))
        return out

    def local_delivery(self, net: NodeNetwork, route: Route, dst: str) -> str:
        return f"same node: over the {BRIDGE} bridge to {dst}'s veth"
