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

Dual-stack: host-local takes a second range, `usePodCidrIPv6` (the node's IPv6 podCIDR), each
pod gets a /128 route too, calico-node annotates the node's IPv6 address
(projectcalico.org/IPv6Address) and BIRD6 learns the peers' IPv6 blocks via their IPv6
addresses (no IPIP for IPv6: straight over eth0).
"""
from __future__ import annotations

import json

from sim.cni.node import NodeNetwork, Route, veth_name
from sim.cni.plugin import CNIPlugin, host_route
from sim.ipfamily import split_cidrs

NAMESPACE = "kube-system"
IMAGE = "docker.io/calico/node:v3.29.3"
CNI_CONF = {"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [
    {"type": "calico", "log_level": "info", "datastore_type": "kubernetes", "mtu": 1500,
     "ipam": {"type": "host-local", "subnet": "usePodCidr"}, "policy": {"type": "k8s"},
     "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
    {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}},
    {"type": "bandwidth", "capabilities": {"bandwidth": True}}]}
IPV4_ADDRESS = "projectcalico.org/IPv4Address"
IPV6_ADDRESS = "projectcalico.org/IPv6Address"


def _host_prefix(ip: str) -> str:
    return "/128" if ":" in ip else "/32"


def cni_conf(dual_stack: bool) -> dict:
    """The calico conflist; a dual-stack node's IPAM has a range per family."""
    if not dual_stack:
        return CNI_CONF
    conf = json.loads(json.dumps(CNI_CONF))
    conf["plugins"][0]["ipam"] = {"type": "host-local", "ranges": [[{"subnet": "usePodCidr"}],
                                                                   [{"subnet": "usePodCidrIPv6"}]]}
    return conf


class CalicoPlugin(CNIPlugin):
    name = cni_type = "calico"
    network_name = "k8s-pod-network"
    conf_file = "10-calico.conflist"
    enforces_network_policy = True
    overlay = "BGP: BIRD's node-to-node mesh learns each node's pod CIDR as a route via its IP (no encapsulation)"
    agent_binary = "calico-node"
    agent_component = "calico-node"

    def add(self, net: NodeNetwork, sandbox_id: str) -> dict:
        if not net.pod_cidr:
            raise self.failed("add", "failed to get podCidr for node " + net.node)
        veth = veth_name("cali", sandbox_id)
        ips = self._host_local(net, sandbox_id, net.pod_cidrs, veth)
        net.links[veth] = ""
        for ip in ips:
            net.local_routes[host_route(ip)] = Route(host_route(ip), veth, scope="link")
        return {"ip": ips[0], "ips": ips, "gateway": "169.254.1.1"}

    def delete(self, net: NodeNetwork, sandbox_id: str) -> None:
        pod = net.pods.get(sandbox_id)
        if pod is not None:
            net.links.pop(pod["veth"], None)
        super().delete(net, sandbox_id)

    # -- calico-node --------------------------------------------------------------------------
    def agent_local(self, net: NodeNetwork, pod_cidrs: list[str], cluster_cidr: str) -> dict:
        net.set_pod_cidrs(pod_cidrs)
        for cidr in net.pod_cidrs:
            net.routes[cidr] = Route(cidr, "", proto="bird", kind="blackhole")
        dual = len(net.pod_cidrs) > 1 and bool(net.node_ip6)
        net.install_conf(self.conf_file, cni_conf(dual))
        return {IPV4_ADDRESS: f"{net.node_ip}/24", **({IPV6_ADDRESS: f"{net.node_ip6}/64"} if dual else {})}

    def agent_peer(self, net: NodeNetwork, node: dict) -> list[Route]:
        """BGP routes from the mesh: the peer's blocks via its address of each family."""
        ann = node["metadata"].get("annotations") or {}
        spec = node.get("spec") or {}
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        peer = (ann.get(IPV4_ADDRESS) or "").partition("/")[0]
        peer6 = (ann.get(IPV6_ADDRESS) or "").partition("/")[0]
        out = []
        for cidr in cidrs:
            if ":" in cidr:
                if peer6 and net.node_ip6:
                    out.append(Route(cidr, "eth0", via=peer6, proto="bird"))
                continue
            if not peer:
                continue
            same_subnet = ann.get(IPV4_ADDRESS, "").rpartition(".")[0] == f"{net.node_ip}/24".rpartition(".")[0]
            if same_subnet:
                out.append(Route(cidr, "eth0", via=peer, proto="bird"))
            else:
                out.append(Route(cidr, "tunl0", via=peer, proto="bird", onlink=True))
        return out

    # -- the packet path ---------------------------------------------------------------------
    def local_delivery(self, net: NodeNetwork, route: Route, dst: str) -> str:
        return f"same node: the {_host_prefix(dst)} route sends it straight down {route.dev} (no bridge)"

    def cross_node(self, cluster, net: NodeNetwork, route: Route, src: str, dst: str, dst_node: str) -> str:
        if route.dev == "tunl0":
            return f"BGP route (BIRD): IPIP-encapsulated to {route.via}, inner {src} -> {dst}"
        return f"BGP route (BIRD): straight over eth0 to {dst_node} ({route.via}), unencapsulated: {src} -> {dst}"

    def arrival(self, dnet: NodeNetwork, route: Route, droute: Route, dst: str) -> str:
        return f"arrives on {dnet.node}'s eth0; the {_host_prefix(dst)} route sends it down {droute.dev}"

    def objects(self, cluster_cidr: str) -> list[tuple[str, str, str, dict]]:
        labels = {"k8s-app": "calico-node"}
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "calico-node", "namespace": NAMESPACE}}
        container = {"name": "calico-node", "image": IMAGE,
                     "env": [{"name": "DATASTORE_TYPE", "value": "kubernetes"},
                             {"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
                             {"name": "IP", "value": "autodetect"},
                             {"name": "CALICO_IPV4POOL_IPIP", "value": "CrossSubnet"},
                             {"name": "CALICO_IPV4POOL_CIDR", "value": split_cidrs(cluster_cidr)[0]},
                             *([{"name": "IP6", "value": "autodetect"},
                                {"name": "CALICO_IPV6POOL_CIDR", "value": split_cidrs(cluster_cidr)[1]},
                                {"name": "FELIX_IPV6SUPPORT", "value": "true"}]
                               if len(split_cidrs(cluster_cidr)) > 1 else []),
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
