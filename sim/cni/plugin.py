"""What every CNI plugin here is: ADD and DEL as the container runtime calls them for a pod
sandbox (the CNI spec's ADD/DEL; containerd's CRI plugin runs them in RunPodSandbox /
StopPodSandbox on the network namespace the pause container holds), and the routing it leaves
on the node, which the packet path (sim/datapath.py) follows.

A plugin keeps no state of its own: what it writes lives in the node's NodeNetwork (its disk and
kernel, sim/cni/node.py), as a real plugin's binary keeps nothing between calls.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sim.cni.hostlocal import IPAMError
from sim.cni.node import NodeNetwork, Route, longest_match
from sim.ipfamily import parse_address, parse_network

if TYPE_CHECKING:
    from sim.cluster import Cluster


class CNIError(Exception):
    """A failed ADD, worded as containerd reports it to the kubelet."""


class CNIPlugin:
    name = ""                       # ClusterConfig `cni`
    cni_type = ""                   # the conflist's plugin "type"
    enforces_network_policy = False
    # What carries a packet to another node's pods, as the dashboard's Network view says it, and
    # the node interface that shows it (its address in NodeNetwork.links), if any.
    overlay = ""
    device: str | None = None
    agent_binary: str | None = None  # the DaemonSet container's binary the node runtime binds to the agent

    # -- the CNI calls ---------------------------------------------------------------------
    def add(self, net: NodeNetwork, sandbox_id: str) -> dict:
        """ADD: the pod's interface and addresses; {"ip", "ips", "gateway"} (ips: one per IPAM
        range, the primary first, as the CNI result's `ips` list them).  CNIError when it fails."""
        raise NotImplementedError

    def delete(self, net: NodeNetwork, sandbox_id: str) -> None:
        """DEL: the veth and its routes go, IPAM releases the address."""
        pod = net.pods.pop(sandbox_id, None)
        if pod is None:
            return
        for subnet in pod.get("subnets") or [pod["subnet"]]:
            store = net.ipam.get(subnet)
            if store is not None:
                store.release(sandbox_id)
        for ip in pod.get("ips") or [pod["ip"]]:
            net.local_routes.pop(host_route(ip), None)

    def failed(self, action: str, why: str) -> CNIError:
        return CNIError(f'plugin type="{self.cni_type}" failed ({action}): {why}')

    def _host_local(self, net: NodeNetwork, sandbox_id: str, subnets: list[str], veth: str) -> list[str]:
        """host-local under this plugin: one address from each range (`ranges`: a dual-stack
        node's IPv4 and IPv6 pod CIDRs), remembered for DEL; an exhausted range fails the ADD
        and gives back what the others handed out (host-local's allocator loop)."""
        ips: list[str] = []
        for i, subnet in enumerate(subnets):
            try:
                ips.append(net.host_local(subnet, self.network_name).get(sandbox_id))
            except IPAMError as e:
                for done in subnets[:i]:
                    net.ipam[done].release(sandbox_id)
                raise self.failed("add", f"failed to allocate for range {i}: {e}") from None
        net.pods[sandbox_id] = {"ip": ips[0], "ips": ips, "veth": veth, "subnet": subnets[0], "subnets": list(subnets)}
        return ips

    network_name = "cbr0"

    # -- routes the plugin's agent (or an administrator) writes -------------------------------
    def extra_routes(self, cluster: "Cluster", net: NodeNetwork) -> list[Route]:
        return []

    def table(self, cluster: "Cluster", net: NodeNetwork, v6: bool = False) -> list[Route]:
        """`ip route` (or, v6, `ip -6 route`) with the routes the plugin's setup adds."""
        extra = {r.dst: r for r in self.extra_routes(cluster, net)}
        saved = dict(net.routes)
        try:
            net.routes = {**extra, **saved}
            return net.table6() if v6 else net.table()
        finally:
            net.routes = saved

    def lookup(self, cluster: "Cluster", net: NodeNetwork, ip: str) -> Route:
        return longest_match(self.table(cluster, net, v6=parse_address(ip).version == 6), ip)

    def ip_route(self, cluster: "Cluster", net: NodeNetwork, v6: bool = False) -> str:
        return "".join(r.text() + "\n" for r in self.table(cluster, net, v6))

    # -- the packet path --------------------------------------------------------------------
    def egress_address(self, cluster: "Cluster", node: str, dst_ip: str) -> str:
        """MASQUERADE's source: the primary address of the interface the route leaves by
        (an interface without one, such as a calico veth, leaves the node's)."""
        net = network_of(cluster, node)
        route = self.lookup(cluster, net, dst_ip)
        if parse_address(dst_ip).version == 6:
            return net.links6.get(route.dev) or net.node_ip6
        return net.links.get(route.dev) or net.node_ip

    def forward(self, cluster: "Cluster", node: str, dst_node: str, src: str, dst: str) -> tuple[list[dict], bool]:
        """The hops from `node` to the pod at `dst` on `dst_node`, as the routes say; False when
        the routes do not lead there (an agent that has not written the route yet: the packet
        leaves by the default route and is lost)."""
        net = network_of(cluster, node)
        route = self.lookup(cluster, net, dst)
        line = route.text()
        if route.kind == "blackhole":
            return [{"at": node, "what": f"blackhole route for {dst}: discarded", "rule": line}], False
        if node == dst_node:
            return [{"at": node, "what": self.local_delivery(net, route, dst), "rule": line}], \
                route.dev != "eth0"
        target = node_by_next_hop(cluster, self, net, route, dst)
        if target != dst_node:
            why = "the default route: out of the cluster network" if route.dst == "default" else \
                f"route leads to {target or 'no node'}"
            return [{"at": node, "what": f"no route to {dst}'s node ({why}); the packet is lost", "rule": line}], False
        hops = [{"at": node, "what": self.cross_node(cluster, net, route, src, dst, dst_node), "rule": line}]
        dnet = network_of(cluster, dst_node)
        droute = self.lookup(cluster, dnet, dst)
        hops.append({"at": dst_node, "what": self.arrival(dnet, route, droute, dst), "rule": droute.text()})
        return hops, True

    def local_delivery(self, net: NodeNetwork, route: Route, dst: str) -> str:
        return f"same node: {route.dev} delivers it to {dst}'s veth"

    def cross_node(self, cluster, net: NodeNetwork, route: Route, src: str, dst: str, dst_node: str) -> str:
        return f"routed to {dst_node} ({route.via}) over eth0, unencapsulated: {src} -> {dst}"

    def arrival(self, dnet: NodeNetwork, route: Route, droute: Route, dst: str) -> str:
        return f"arrives on {dnet.node}'s eth0; {droute.dev} delivers it to {dst}'s veth"


def host_route(ip: str) -> str:
    """A pod's host route: <ip>/32, or <ip>/128 for an IPv6 address."""
    return ip + ("/128" if ":" in ip else "/32")


def network_of(cluster: "Cluster", node: str) -> NodeNetwork:
    return cluster.node_components[node][0].network


def node_by_next_hop(cluster: "Cluster", plugin: CNIPlugin, net: NodeNetwork, route: Route, dst: str) -> str | None:
    """The node a route hands the packet to: the node whose IP is the gateway (`via`), or, for
    an overlay route (`via` inside the cluster CIDR), the node owning that subnet."""
    if route.dst == "default":
        return None
    for name in sorted(cluster.node_components):
        other = network_of(cluster, name)
        if route.via and route.via in (other.node_ip, other.node_ip6):
            return name
        if route.via and any(parse_address(route.via) in parse_network(c) for c in other.pod_cidrs):
            return name
    return None
