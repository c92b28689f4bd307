"""NetworkPolicy semantics: which connections the policies allow, as a pure evaluator, and the
hook a policy-enforcing CNI plugin's agent (Calico's Felix, Cilium's agent) applies to packets.

The rules are the Kubernetes NetworkPolicy spec's (concepts/services-networking/network-policies,
k8s.io/api/networking/v1/types.go, and what the upstream network-policy API e2e tests expect,
test/e2e/network/netpol):

- A pod is isolated for ingress (egress) when some NetworkPolicy of its namespace selects it
  (spec.podSelector; an empty one selects every pod there) and has Ingress (Egress) in its
  policyTypes.  A pod that is not isolated in a direction allows everything in it.
- An isolated pod allows a connection when at least one rule of at least one policy that
  selects it for that direction allows it: policies are additive, there is no deny rule.  A
  connection between two pods needs both the source's egress and the destination's ingress.
- A rule allows a connection when one of its peers matches the other end and one of its ports
  matches the destination port; no peers (no `from` / `to`) matches everyone, no ports every
  port.  Peers: podSelector (pods of the policy's namespace), namespaceSelector (every pod of
  the matching namespaces), both in one peer (pods matching the one in namespaces matching the
  other), ipBlock (addresses in `cidr` and in no `except`).  Ports: a number, a range
  (port..endPort), or a name resolved on the destination pod's containerPorts, each with a
  protocol (TCP by default); a port-less entry matches every port of its protocol.
- Replies to an allowed connection are allowed (the plugins are stateful: conntrack), so a
  verdict is asked for the packet that opens a connection only.
- An isolated pod still accepts traffic from its own node (the kubelet's probes), as every
  plugin allows it and the spec says ("the only allowed connections into the pod are those from
  the pod's node and those allowed by the ingress list").

ipBlock and pod IPs: the spec leaves it to the plugin whether an ipBlock matches pod IPs.  Here,
as Calico does, an ipBlock matches any address, a pod's included (Cilium would not).
hostNetwork pods share their node's address and are never selected as pods: their traffic is
the node's.
"""
from __future__ import annotations

import ipaddress
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim.api.selectors import SelectorError, label_selector_as_selector, selector_matches
from sim.registry.networking.networkpolicies import EGRESS, INGRESS, PEERS, parse_cidr_sloppy

if TYPE_CHECKING:
    from sim.cluster import Cluster

# The plugins whose agents enforce NetworkPolicy (flannel and the bridge plugin do not).
ENFORCING_PLUGINS = ("calico", "cilium")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    policy: str | None = None          # "ns/name": the policy whose rule allowed it, or that isolated the pod
    direction: str = ""                # "ingress" | "egress" | "" (nothing evaluated)


@dataclass
class PolicyView:
    """What an enforcing agent knows: the policies, the pods by IP, the namespaces' labels and
    the nodes' addresses (from its watches of the API)."""
    policies: list[dict] = field(default_factory=list)
    pods_by_ip: dict[str, dict] = field(default_factory=dict)
    namespace_labels: dict[str, dict] = field(default_factory=dict)
    node_ips: dict[str, str] = field(default_factory=dict)     # address -> node name

    def pod(self, ip: str) -> dict | None:
        return self.pods_by_ip.get(ip)


def _selector(sel) -> tuple | None:
    """metav1.LabelSelectorAsSelector; a selector that does not parse selects nothing."""
    try:
        return label_selector_as_selector(sel)
    except SelectorError:
        return None


def _labels(obj: dict | None) -> dict:
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def _ns(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def policy_name(np: dict) -> str:
    return f"{_ns(np)}/{(np.get('metadata') or {}).get('name', '')}"


def selects(np: dict, pod: dict) -> bool:
    """The policy applies to the pod: same namespace, podSelector matches its labels."""
    return _ns(np) == _ns(pod) and selector_matches(_selector((np.get("spec") or {}).get("podSelector") or {}),
                                                    _labels(pod))


def isolating(view: PolicyView, pod: dict, direction: str) -> list[dict]:
    """The policies that select the pod and isolate it for `direction` ("ingress" | "egress"),
    sorted by namespace/name."""
    ptype = INGRESS if direction == "ingress" else EGRESS
    return sorted((np for np in view.policies
                   if ptype in ((np.get("spec") or {}).get("policyTypes") or []) and selects(np, pod)),
                  key=policy_name)


def ip_block_matches(block: dict, ip: str) -> bool:
    parsed = parse_cidr_sloppy(block.get("cidr"))
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if parsed is None or addr.version != parsed[1].version or addr not in parsed[1]:
        return False
    for text in block.get("except") or []:
        ex = parse_cidr_sloppy(text)
        if ex is not None and ex[1].version == addr.version and addr in ex[1]:
            return False
    return True


def peer_matches(view: PolicyView, peer: dict, policy_ns: str, ip: str) -> bool:
    """One NetworkPolicyPeer against the other end of the connection (its address, and the pod
    holding it, if any)."""
    if peer.get("ipBlock") is not None:
        return ip_block_matches(peer["ipBlock"], ip)
    pod = view.pod(ip)
    if pod is None:
        return False                    # pod and namespace selectors select pods only
    pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
    if ns_sel is None:
        if _ns(pod) != policy_ns:
            return False
    elif not selector_matches(_selector(ns_sel), view.namespace_labels.get(_ns(pod))):
        return False
    return pod_sel is None or selector_matches(_selector(pod_sel), _labels(pod))


def named_port(pod: dict | None, name: str, proto: str) -> int | None:
    """A named port resolved on the destination pod: the containerPort of that name and protocol."""
    for c in ((pod or {}).get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == name and (p.get("protocol") or "TCP") == proto:
                return p.get("containerPort")
    return None


def port_matches(port: dict, dport: int, proto: str, dst_pod: dict | None) -> bool:
    if (port.get("protocol") or "TCP") != proto:
        return False
    number = port.get("port")
    if number is None:
        return True
    if isinstance(number, str):
        return named_port(dst_pod, number, proto) == dport
    end = port.get("endPort")
    return number <= dport <= end if end is not None else number == dport


def rule_allows(view: PolicyView, np: dict, rule: dict, direction: str, peer_ip: str, dst_ip: str,
                dport: int, proto: str) -> bool:
    peers = rule.get(PEERS[direction]) or []
    if peers and not any(peer_matches(view, p, _ns(np), peer_ip) for p in peers if isinstance(p, dict)):
        return False
    ports = rule.get("ports") or []
    return not ports or any(port_matches(p, dport, proto, view.pod(dst_ip)) for p in ports if isinstance(p, dict))


def check_direction(view: PolicyView, direction: str, src_ip: str, dst_ip: str, dport: int, proto: str) -> Verdict:
    """The verdict of one side: the source pod's egress or the destination pod's ingress."""
    pod_ip, peer_ip = (src_ip, dst_ip) if direction == "egress" else (dst_ip, src_ip)
    pod = view.pod(pod_ip)
    what = f"{proto}/{dport} {src_ip} -> {dst_ip}"
    if pod is None:
        return Verdict(True, f"{pod_ip} is no pod: no {direction} policy applies", None, direction)
    name = f"{_ns(pod)}/{(pod.get('metadata') or {}).get('name', '')}"
    policies = isolating(view, pod, direction)
    if not policies:
        return Verdict(True, f"{name} is not isolated for {direction}", None, direction)
    if direction == "ingress" and view.node_ips.get(src_ip) == (pod.get("spec") or {}).get("nodeName"):
        return Verdict(True, f"from {name}'s own node {view.node_ips[src_ip]}", None, direction)
    for np in policies:
        for rule in (np.get("spec") or {}).get(direction) or []:
            if isinstance(rule, dict) and rule_allows(view, np, rule, direction, peer_ip, dst_ip, dport, proto):
                return Verdict(True, f"{what} allowed by {policy_name(np)} ({direction})", policy_name(np), direction)
    return Verdict(False, f"{what} dropped: {name} is isolated for {direction} by "
                          f"{', '.join(policy_name(np) for np in policies)} and no rule allows it",
                   policy_name(policies[0]), direction)


def evaluate(view: PolicyView, src_ip: str, dst_ip: str, dport: int, proto: str,
             directions: tuple[str, ...] = ("egress", "ingress")) -> Verdict:
    """A connection's verdict: each direction in turn (the source's egress, then the
    destination's ingress); the first that drops it decides; when all allow it, the last one
    a policy's rule allowed (else the last one)."""
    proto = proto.upper()
    verdicts = [Verdict(True, "no direction evaluated")]
    for direction in directions:
        verdicts.append(check_direction(view, direction, src_ip, dst_ip, dport, proto))
        if not verdicts[-1].allowed:
            return verdicts[-1]
    return next((v for v in reversed(verdicts) if v.policy), verdicts[-1])


# -- the enforcing agent ----------------------------------------------------------------------
def enforces_network_policy(cluster: "Cluster") -> bool:
    """Whether the cluster's CNI plugin enforces NetworkPolicy (Calico, Cilium: yes; Flannel,
    bridge: the policies are stored and ignored)."""
    return getattr(cluster.config, "cni", "flannel") in ENFORCING_PLUGINS


# Each watch cache's view, with the cache revision it was built at.
_VIEWS: "weakref.WeakKeyDictionary[object, tuple[int, PolicyView]]" = weakref.WeakKeyDictionary()


def agent_view(cluster: "Cluster") -> PolicyView:
    """The policies, pods, namespaces and nodes as the enforcing agent sees them: here the
    serving apiserver's watch cache (the agent's own watch would lag it by its propagation
    delay, which is not modelled).  Rebuilt only when the cache has moved."""
    api = cluster.serving_apiserver()
    if api is None:
        return PolicyView()
    cached = _VIEWS.get(api.cache)
    if cached is not None and cached[0] == api.cache.rv:
        return cached[1]
    from sim.registry import BUILTIN
    view = PolicyView()
    view.policies = [np for _, np in sorted(api.cache.objects(BUILTIN.lookup("networking.k8s.io",
                                                                             "networkpolicies").gr).items())]
    for (_, name), ns in sorted(api.cache.objects("namespaces").items()):
        view.namespace_labels[name] = _labels(ns)
    for (_, name), node in sorted(api.cache.objects("nodes").items()):
        for a in ((node.get("status") or {}).get("addresses") or []):
            if a.get("type") == "InternalIP" and a.get("address"):
                view.node_ips[a["address"]] = name
    for _, pod in sorted(api.cache.objects("pods").items()):
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        if spec.get("hostNetwork") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        for entry in status.get("podIPs") or ([{"ip": status["podIP"]}] if status.get("podIP") else []):
            if entry.get("ip"):
                view.pods_by_ip[entry["ip"]] = pod
    _VIEWS[api.cache] = (api.cache.rv, view)
    return view


def filter_packet(cluster: "Cluster", src_ip: str, dst_ip: str, dport: int, proto: str, node: str) -> Verdict:
    """The agent on `node` filtering a connection's first packet after kube-proxy's DNAT: the
    egress policies of a source pod on `node`, the ingress policies of a destination pod on
    `node` (a connection between two pods of one node is checked both ways there)."""
    view = agent_view(cluster)
    directions = tuple(d for d, ip in (("egress", src_ip), ("ingress", dst_ip))
                       if ((view.pod(ip) or {}).get("spec") or {}).get("nodeName") == node)
    if not directions:
        return Verdict(True, f"no pod of {node} at either end")
    return evaluate(view, src_ip, dst_ip, dport, proto, directions)


def filter_connection(cluster: "Cluster", src_ip: str, src_node: str | None, dst_ip: str, dst_node: str | None,
                      dport: int, proto: str) -> Verdict:
    """Both ends' agents, when the cluster's plugin enforces policy: the source node's, then the
    destination node's; the first drop decides."""
    if not enforces_network_policy(cluster):
        return Verdict(True, f"{getattr(cluster.config, 'cni', 'flannel')} does not enforce NetworkPolicy")
    verdict = Verdict(True, "no agent on the path")
    for node in dict.fromkeys(n for n in (src_node, dst_node) if n):
        verdict = filter_packet(cluster, src_ip, dst_ip, dport, proto, node)
        if not verdict.allowed:
            return verdict
    return verdict
