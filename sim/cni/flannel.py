"""Flannel (flannel-io/flannel) in its VXLAN backend, as kube-flannel.yml installs it: the
kube-flannel-ds DaemonSet in the kube-flannel namespace, whose flanneld (--ip-masq
--kube-subnet-mgr) takes the node's subnet from spec.podCIDR (pkg/subnet/kube), writes
/run/flannel/subnet.env, creates the VTEP flannel.1 (address: the subnet's network address,
e.g. 10.244.1.0/32), annotates its Node (flannel.alpha.coreos.com/backend-type: vxlan,
backend-data {"VNI":1,"VtepMAC":...}, public-ip), and for every other node's lease writes
`<podCIDR> via <its network address> dev flannel.1 onlink` (pkg/backend/vxlan handleSubnetEvents).

The `flannel` CNI plugin (flannel-io/cni-plugin) reads subnet.env and delegates to `bridge`
with host-local over FLANNEL_SUBNET: cni0 and the veths as with plain bridge.  A packet to
another node's pod takes the flannel.1 route and is VXLAN-encapsulated: the inner IP packet in
UDP to port 8472 (the Linux default, not IANA's 4789), outer addresses node IP -> node IP.

Dual-stack (flannel's "EnableIPv6": true with "IPv6Network"): subnet.env gains
FLANNEL_IPV6_NETWORK / FLANNEL_IPV6_SUBNET from the node's IPv6 podCIDR, a second VTEP
flannel-v6.1 carries IPv6 (outer addresses the nodes' IPv6 ones), the Node gets the
backend-v6-data and public-ipv6 annotations, and the routes to other nodes' IPv6 subnets go
`<podCIDR> via <its network address> dev flannel-v6.1 onlink`.
"""
from __future__ import annotations

import ipaddress
import json

from sim.cni.bridge import bridge_add
from sim.ipfamily import IPV4, IPV6, of_family, split_cidrs
from sim.cni.node import NodeNetwork, Route
from sim.cni.plugin import CNIPlugin

NAMESPACE = "kube-flannel"
IMAGE = "ghcr.io/flannel-io/flannel:v0.26.7"
CNI_PLUGIN_IMAGE = "ghcr.io/flannel-io/flannel-cni-plugin:v1.6.2-flannel1"
SUBNET_ENV = "/run/flannel/subnet.env"
VNI, VXLAN_PORT, MTU = 1, 8472, 1450
VTEP, VTEP6 = "flannel.1", "flannel-v6.1"
CNI_CONF = {"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
    {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
    {"type": "portmap", "capabilities": {"portMappings": True}}]}


def net_conf(cluster_cidr: str) -> dict:
    cidrs = split_cidrs(cluster_cidr)
    v6 = of_family(cidrs, IPV6)
    conf = {"Network": of_family(cidrs, IPV4)[0], "EnableNFTables": False}
    if v6:
        conf.update({"EnableIPv6": True, "IPv6Network": v6[0]})
    return {**conf, "Backend": {"Type": "vxlan"}}


def vtep_mac(node: str) -> str:
    import hashlib
    h = hashlib.sha256(node.encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02 | (h[0] & 0xfc), *h[1:6]))


class FlannelPlugin(CNIPlugin):
    name = cni_type = "flannel"
    network_name = "cbr0"
    overlay = "VXLAN overlay: flannel.1 (VNI 1) encapsulates packets to other nodes' pods in UDP 8472"
    device = VTEP
    conf_file = "10-flannel.conflist"
    agent_binary = "flanneld"
    agent_component = "flanneld"

    def add(self, net: NodeNetwork, sandbox_id: str) -> dict:
        env = net.files.get(SUBNET_ENV)
        if env is None:
            raise self.failed("add", f"loadFlannelSubnetEnv failed: open {SUBNET_ENV}: no such file or directory")
        values = dict(line.split("=", 1) for line in env.splitlines() if "=" in line)
        subnets = [str(ipaddress.ip_network(values[k], strict=False))
                   for k in ("FLANNEL_SUBNET", "FLANNEL_IPV6_SUBNET") if values.get(k)]
        return bridge_add(self, net, sandbox_id, subnets)

    # -- flanneld ---------------------------------------------------------------------------
    def agent_local(self, net: NodeNetwork, pod_cidrs: list[str], cluster_cidr: str) -> dict:
        """flanneld's start on its node: subnet.env, flannel.1 (and flannel-v6.1), the CNI
        config (the DaemonSet's install-cni init container copies it), and the Node
        annotations it writes."""
        net.set_pod_cidrs(pod_cidrs)
        conf = net_conf(cluster_cidr)
        sub = ipaddress.ip_network(of_family(pod_cidrs, IPV4)[0])
        env = (f"FLANNEL_NETWORK={conf['Network']}\nFLANNEL_SUBNET={sub.network_address + 1}/{sub.prefixlen}\n")
        net.links[VTEP] = str(sub.network_address)
        annotations = {"flannel.alpha.coreos.com/backend-type": "vxlan",
                       "flannel.alpha.coreos.com/backend-data": json.dumps(
                           {"VNI": VNI, "VtepMAC": vtep_mac(net.node)}, separators=(",", ":")),
                       "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                       "flannel.alpha.coreos.com/public-ip": net.node_ip}
        v6 = of_family(pod_cidrs, IPV6)
        if v6 and conf.get("EnableIPv6") and net.node_ip6:
            sub6 = ipaddress.ip_network(v6[0])
            env += (f"FLANNEL_IPV6_NETWORK={conf['IPv6Network']}\nFLANNEL_IPV6_SUBNET={sub6.network_address + 1}/"
                    f"{sub6.prefixlen}\n")
            net.links6[VTEP6] = str(sub6.network_address)
            annotations.update({"flannel.alpha.coreos.com/backend-v6-data": json.dumps(
                                    {"VNI": VNI, "VtepMAC": vtep_mac(net.node + "/v6")}, separators=(",", ":")),
                                "flannel.alpha.coreos.com/public-ipv6": net.node_ip6})
        net.files[SUBNET_ENV] = env + f"FLANNEL_MTU={MTU}\nFLANNEL_IPMASQ=true\n"
        net.install_conf(self.conf_file, CNI_CONF)
        return annotations

    def agent_peer(self, net: NodeNetwork, node: dict) -> list[Route]:
        """handleSubnetEvents: a route (and ARP/FDB entries) for a node with a VTEP, one per
        family it has a lease of."""
        ann = node["metadata"].get("annotations") or {}
        spec = node.get("spec") or {}
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        if not cidrs or ann.get("flannel.alpha.coreos.com/backend-type") != "vxlan":
            return []
        out = []
        for cidr in cidrs:
            n = ipaddress.ip_network(cidr)
            if n.version == 4:
                out.append(Route(cidr, VTEP, via=str(n.network_address), onlink=True))
            elif ann.get("flannel.alpha.coreos.com/backend-v6-data") and net.node_ip6:
                out.append(Route(cidr, VTEP6, via=str(n.network_address), onlink=True))
        return out

    # -- the packet path ---------------------------------------------------------------------
    def local_delivery(self, net: NodeNetwork, route: Route, dst: str) -> str:
        return f"same node: over the cni0 bridge to {dst}'s veth (no encapsulation)"

    def cross_node(self, cluster, net: NodeNetwork, route: Route, src: str, dst: str, dst_node: str) -> str:
        dnet = cluster.node_components[dst_node][0].network
        return (f"{route.dev} VXLAN-encapsulates it (VNI {VNI}): outer {net.address_for(dst)} -> "
                f"{dnet.address_for(dst)} UDP dport {VXLAN_PORT}, inner {src} -> {dst}")

    def arrival(self, dnet: NodeNetwork, route: Route, droute: Route, dst: str) -> str:
        return f"{dnet.node}'s {route.dev} decapsulates it; cni0 delivers it to {dst}'s veth"

    # -- the manifest ------------------------------------------------------------------------
    def objects(self, cluster_cidr: str) -> list[tuple[str, str, str, dict]]:
        """(group, resource, namespace, body), as kube-flannel.yml (minus RBAC) creates them."""
        labels = {"app": "flannel", "k8s-app": "flannel", "tier": "node"}
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "kube-flannel-cfg", "namespace": NAMESPACE, "labels": dict(labels)},
              "data": {"cni-conf.json": json.dumps(CNI_CONF, indent=2), "net-conf.json": json.dumps(net_conf(cluster_cidr), indent=2)}}
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "flannel", "namespace": NAMESPACE}}
        container = {"name": "kube-flannel", "image": IMAGE, "command": ["/opt/bin/flanneld"],
                     "args": ["--ip-masq", "--kube-subnet-mgr"],
                     "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                             {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                             {"name": "EVENT_QUEUE_DEPTH", "value": "5000"}],
                     "resources": {"requests": {"cpu": "100m", "memory": "50Mi"}},
                     "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
                     "volumeMounts": [{"name": "run", "mountPath": "/run/flannel"},
                                      {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"}]}
        ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
              "metadata": {"name": "kube-flannel-ds", "namespace": NAMESPACE, "labels": dict(labels)},
              "spec": {"selector": {"matchLabels": {"app": "flannel"}},
                       "template": {"metadata": {"labels": dict(labels)}, "spec": {
                           "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                               "nodeSelectorTerms": [{"matchExpressions": [
                                   {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}},
                           "hostNetwork": True, "priorityClassName": "system-node-critical",
                           "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                           "serviceAccountName": "flannel",
                           "containers": [container],
                           "volumes": [{"name": "run", "hostPath": {"path": "/run/flannel"}},
                                       {"name": "cni-plugin", "hostPath": {"path": "/opt/cni/bin"}},
                                       {"name": "cni", "hostPath": {"path": "/etc/cni/net.d"}},
                                       {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}}]}}}}
        ns = {"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": NAMESPACE, "labels": {"k8s-app": "flannel",
                                                         "pod-security.kubernetes.io/enforce": "privileged"}}}
        return [("", "namespaces", None, ns), ("", "serviceaccounts", NAMESPACE, sa),
                ("", "configmaps", NAMESPACE, cm), ("apps", "daemonsets", NAMESPACE, ds)]
