"""The CNI plugin's node agent: flanneld (kube-flannel-ds) or calico-node, the process its
DaemonSet's container runs on every node (host network).  As with the control plane's static
pods, the node's runtime binds the container's binary to this component
(ContainerRuntime.host_processes): the container starting starts the agent, its death stops it.

The agent watches Nodes (flannel's kube subnet manager, calico's BGP mesh peers from the
Node objects): for its own node, once the node IPAM controller set spec.podCIDR, it configures the
node (subnet.env / blackhole route, the VTEP, and the CNI configuration the DaemonSet's
install-cni init container would copy into /etc/cni/net.d - which is what makes the runtime's
network ready) and annotates its Node; for every other node, a route to its podCIDR, removed
when the Node goes.  Routes stay in the kernel when the agent stops, as they do upstream.
"""
from __future__ import annotations

from sim.client import ClientComponent
from sim.cni.node import NodeNetwork
from sim.runtime.process import Program, ProcessContext, ProgramGen, Sleep, Write
from sim.runtime.programs import FOREVER, register


class CNIAgent(ClientComponent):
    def __init__(self, host: str, apiserver, plugin, network: NodeNetwork, cluster_cidr: str):
        self.component = plugin.agent_component
        super().__init__(host, apiserver)
        self.plugin, self.network, self.cluster_cidr = plugin, network, cluster_cidr
        self.peers: dict[str, list[str]] = {}   # node -> the routes' dsts it wrote

    def on_start(self) -> None:
        self.configured = False
        self.seen: dict[str, tuple] = {}   # node -> (podCIDR, podCIDRs, addresses, annotations)
        self.nodes = self.informer("nodes", on_add=self._node, on_update=lambda _o, n: self._node(n),
                                   on_delete=self._node_gone)
        self.nodes.start()

    def _node(self, node: dict) -> None:
        name = node["metadata"]["name"]
        net = self.network
        if name == self.host:
            spec = node.get("spec") or {}
            cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
            if cidrs and (not self.configured or net.pod_cidrs != cidrs):
                annotations = self.plugin.agent_local(net, list(cidrs), self.cluster_cidr)
                self.configured = True
                self.action(f"{self.component} on {self.host}: subnet {','.join(cidrs)}, CNI config "
                            f"/etc/cni/net.d/{net.conf_file} written")
                have = node["metadata"].get("annotations") or {}
                if any(have.get(k) != v for k, v in annotations.items()):
                    self.api.patch("nodes", None, self.host, {"metadata": {"annotations": annotations}},
                                   patch_type="application/strategic-merge-patch+json")
            return
        # Most Node updates are heartbeats: nothing the routes depend on (its podCIDRs, its
        # addresses, the annotations the plugin's agents publish) changed.
        ann = node["metadata"].get("annotations") or {}
        spec = node.get("spec") or {}
        addrs = tuple((a.get("type"), a.get("address")) for a in (node.get("status") or {}).get("addresses") or ()
                      if isinstance(a, dict))
        key = (spec.get("podCIDR"), tuple(spec.get("podCIDRs") or ()), addrs, tuple(sorted(ann.items())))
        if self.seen.get(name) == key:
            return
        self.seen[name] = key
        routes = self.plugin.agent_peer(net, node)
        for old in self.peers.get(name, []):
            if old not in {r.dst for r in routes}:
                net.routes.pop(old, None)
        for route in routes:
            if net.routes.get(route.dst) != route:
                net.routes[route.dst] = route
                self.action(f"{self.component} on {self.host}: route {route.text()}")
        if routes:
            self.peers[name] = [r.dst for r in routes]
        else:
            self.peers.pop(name, None)

    def _node_gone(self, node: dict) -> None:
        self.seen.pop(node["metadata"]["name"], None)
        for dst in self.peers.pop(node["metadata"]["name"], []):
            self.network.routes.pop(dst, None)


def _run(ctx: ProcessContext) -> ProgramGen:
    yield Write(f"I0000 main.go] Starting {ctx.argv[0].rsplit('/', 1)[-1] if ctx.argv else 'agent'}\n", "stderr")
    while True:
        yield Sleep(FOREVER)


for _binary in ("flanneld", "calico-node"):
    register(Program(_binary, _run, on_sigterm=0, ports=lambda ctx: frozenset()))
