"""Calico (projectcalico/calico) as its calico.yaml manifest installs it, with BGP routing: the
calico-node DaemonSet in kube-system runs Felix and BIRD on every node; BIRD peers with every
other node (the default node-to-node mesh) and learns each node's block as a route
`<block> via <node IP> dev eth0 proto bird` (unencapsulated; across a different node subnet the
IPIP CrossSubnet mode would use tunl0 instead), and blackholes its own block
(`blackhole <block> proto bird`) so an address nobody holds goes nowhere.

The calico CNI plugin makes no bridge: each pod's host-side veth is `cali` + 11 hex characters
and gets a /32 route `<pod IP> dev caliXXXXXXXXXXX scope link` (Felix's route table); the pod's
default route points at 169.254.1.1, which the veth answers by proxy ARP.

IPAM: the plugin's host-local mode over the node's podCIDR (`"ipam": {"type": "host-local",
"subnet": "usePodCidr"}`, a configuration Calico supports), so a node's block is its podCIDR
(/24), not calico-ipam's /26 blocks with block affinities (not modelled).  Calico enforces
NetworkPolicy (Felix's iptables), so the packet path asks sim/networkpolicy.py.
"""
from __future__ import annotations

from sim.cni.node import NodeNetwork, Route, veth_name
from sim.cni.plugin import CNIPlugin

NAMESPACE = "kube-system"
IMAGE = "docker.io/calico/node:v3.29.3"
CNI_CONF = {"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [
    {"type": "calico", "log_level": "info", "datastore_type": "kubernetes", "mtu": 1500,
     "ipam": {"type": "host-local", "subnet": "usePodCidr"}, "policy": {"type": "k8s"},
     "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
    {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}},
    {"type": "bandwidth", "capabilities": {"bandwidth": True}}]}
IPV4_ADDRESS = "projectcalico.org/IPv4Address"


class CalicoPlugin(CNIPlugin):
    name = cni_type = "calico"
    network_name = "k8s-pod-network"
    conf_file = "10-calico.conflist"
    enforces_network_policy = True
    overlay = "BGP: BIRD's node-to-node mesh learns each node's pod CIDR as a route via its IP (no encapsulation)"
    agent_binary = "calico-node"
    peer_annotation = IPV4_ADDRESS       # what a peer's route depends on, besides its podCIDR
    agent_component = "calico-node"

    def add(self, net: NodeNetwork, sandbox_id: str) -> dict:
        if not net.pod_cidr:
            raise self.failed("add", "failed to get podCidr for node " + net.node)
        veth = veth_name("cali", sandbox_id)
        ip = self._host_local(net, sandbox_id, net.pod_cidr, veth)
        net.links[veth] = ""
        net.local_routes[ip + "/32"] = Route(ip + "/32", veth, scope="link")
        return {"ip": ip, "gateway": "169.254.1.1"}

    def delete(self, net: NodeNetwork, sandbox_id: str) -> None:
        pod = net.pods.get(sandbox_id)
        if pod is not None:
            net.links.pop(pod["veth"], None)
        super().delete(net, sandbox_id)

    # -- calico-node --------------------------------------------------------------------------
    def agent_local(self, net: NodeNetwork, pod_cidr: str, cluster_cidr: str) -> dict:
        net.pod_cidr = pod_cidr
        net.routes[pod_cidr] = Route(pod_cidr, "", proto="bird", kind="blackhole")
        net.install_conf(self.conf_file, CNI_CONF)
        return {IPV4_ADDRESS: f"{net.node_ip}/24"}

    def agent_peer(self, net: NodeNetwork, node: dict) -> Route | None:
        """A BGP route from the mesh: the peer's block via its address."""
        ann = node["metadata"].get("annotations") or {}
        cidr = (node.get("spec") or {}).get("podCIDR")
        peer = (ann.get(IPV4_ADDRESS) or "").partition("/")[0]
        if not cidr or not peer:
            return None
        same_subnet = ann.get(IPV4_ADDRESS, "").rpartition(".")[0] == f"{net.node_ip}/24".rpartition(".")[0]
        if same_subnet:
            return Route(cidr, "eth0", via=peer, proto="bird")
        return Route(cidr, "tunl0", via=peer, proto="bird", onlink=True)

    # -- the packet path ---------------------------------------------------------------------
    def local_delivery(self, net: NodeNetwork, route: Route, dst: str) -> str:
        return f"same node: the /32 route sends it straight down {route.dev} (no bridge)"

    def cross_node(self, cluster, net: NodeNetwork, route: Route, src: str, dst: str, dst_node: str) -> str:
        if route.dev == "tunl0":
            return f"BGP route (BIRD): IPIP-encapsulated to {route.via}, inner {src} -> {dst}"
        return f"BGP route (BIRD): straight over eth0 to {dst_node} ({route.via}), unencapsulated: {src} -> {dst}"

    def arrival(self, dnet: NodeNetwork, route: Route, droute: Route, dst: str) -> str:
        return f"arrives on {dnet.node}'s eth0; the /32 route sends it down {droute.dev}"

    def objects(self, cluster_cidr: str) -> list[tuple[str, str, str, dict]]:
        labels = {"k8s-app": "calico-node"}
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "calico-node", "namespace": NAMESPACE}}
        container = {"name": "calico-node", "image": IMAGE,
                     "env": [{"name": "DATASTORE_TYPE", "value": "kubernetes"},
                             {"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
                             {"name": "IP", "value": "autodetect"},
                             {"name": "CALICO_IPV4POOL_IPIP", "value": "CrossSubnet"},
                             {"name": "CALICO_IPV4POOL_CIDR", "value": cluster_cidr},
                             {"name": "CALICO_NETWORKING_BACKEND", "value": "bird"},
                             {"name": "FELIX_DEFAULTENDPOINTTOHOSTACTION", "value": "ACCEPT"},
                             {"name": "NODENAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                     "resources": {"requests": {"cpu": "250m"}},
                     "securityContext": {"privileged": True},
                     "volumeMounts": [{"name": "cni-net-dir", "mountPath": "/host/etc/cni/net.d"},
                                      {"name": "var-run-calico", "mountPath": "/var/run/calico"}]}
        ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
              "metadata": {"name": "calico-node", "namespace": NAMESPACE, "labels": dict(labels)},
              "spec": {"selector": {"matchLabels": dict(labels)},
                       "template": {"metadata": {"labels": dict(labels)}, "spec": {
                           "nodeSelector": {"kubernetes.io/os": "linux"}, "hostNetwork": True,
                           "tolerations": [{"effect": "NoSchedule", "operator": "Exists"},
                                           {"key": "CriticalAddonsOnly", "operator": "Exists"},
                                           {"effect": "NoExecute", "operator": "Exists"}],
                           "serviceAccountName": "calico-node", "priorityClassName": "system-node-critical",
                           "containers": [container],
                           "volumes": [{"name": "cni-net-dir", "hostPath": {"path": "/etc/cni/net.d"}},
                                       {"name": "var-run-calico", "hostPath": {"path": "/var/run/calico",
                                                                              "type": "DirectoryOrCreate"}}]}}}}
        return [("", "serviceaccounts", NAMESPACE, sa), ("apps", "daemonsets", NAMESPACE, ds)]
