"""The dashboard's Network view: what `Cluster.snapshot()["networkview"]` holds.

The pod network as a class draws it on the board: each node with its InternalIP, its podCIDR
(the node IPAM controller's, as the CNI plugin's agent wrote it on the node) and the interface
the cluster's CNI plugin gives it (flannel's VXLAN VTEP flannel.1, calico's BGP-learned routes,
the bridge's cni0); the pods on it with their IPs; every Service as a box of its type, ClusterIP,
ports, NodePorts and load-balancer address, fronting its EndpointSlices' endpoints with their
conditions (ready / serving / terminating, discovery.k8s.io/v1 EndpointConditions); and every
NetworkPolicy with the pods its podSelector selects (networking.k8s.io/v1; a cluster that does
not serve the kind shows none).

Built from the API server's watch cache (Services, EndpointSlices filed under their Service by
the OwnerCensus, NetworkPolicies, pods) and the nodes' NodeNetwork (sim/cni/node.py).  The cost
is bounded whatever the cluster holds: at most SERVICES_SHOWN Services and POLICIES_SHOWN
policies (the first by namespace and name, with totals), ENDPOINTS_SHOWN endpoints a Service
and ENDPOINTS_LISTED in all (with counts per state), PODS_PER_NODE pods drawn per node (beyond that, counts, as the
Architecture view draws a node of many pods), and a policy's selected pods matched only in a
namespace of at most POLICY_SCAN pods.

    {"cni": {"plugin", "overlay", "enforcesNetworkPolicy", "podSubnet", "serviceSubnet",
             "clusterDNS"},
     "nodes": [{"name", "internalIP", "podCIDR", "networkReady", "alive",
                "device": {"name", "address"} | None (the plugin's interface: flannel.1, cni0),
                "routes": n (routes the plugin's agent wrote to other nodes' pod CIDRs),
                "pods": [<pod>] | None (too many: see podCounts), "podCounts": {"ready",
                "notReady", "terminating"}, "podTotal"}],
     "services": [{"namespace", "name", "type", "clusterIP", "externalName", "externalIPs",
                   "loadBalancer": [ip or hostname], "ports": [{"name", "protocol", "port",
                   "targetPort", "nodePort"}], "selector": "app=web", "sessionAffinity",
                   "externalTrafficPolicy", "internalTrafficPolicy", "headless",
                   "endpoints": [<endpoint>], "endpointCounts": {state: n}, "endpointTotal"}],
     "policies": [{"namespace", "name", "policyTypes", "podSelector": "app=web" | "(all pods)",
                   "ingressRules", "egressRules", "selects": [pod names] | None (not matched:
                   too many pods), "selectedTotal"}],
     "totals": {"services", "policies"}}

  <pod>      {"namespace", "name", "ip", "ready", "phase", "terminating", "hostNetwork"}
  <endpoint> {"ip", "port"s: [int], "pod", "node", "ready", "serving", "terminating",
              "state": "ready" | "serving-terminating" | "terminating" | "not-ready"}
"""
from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from sim.framememo import FrameMemo
from sim.api.selectors import SelectorError, format_label_selector, label_selector_as_selector, selector_matches

if TYPE_CHECKING:
    from sim.cluster import Cluster

SERVICES_SHOWN = 40
ENDPOINTS_SHOWN = 16     # endpoints listed per Service (the rest counted per state) ...
ENDPOINTS_LISTED = 240   # ... and in the whole frame, so that it stays a few tens of KiB
POLICIES_SHOWN = 40
POLICY_PODS_LISTED = 20
POLICY_SCAN = 500        # pods of a namespace matched against its policies' selectors, at most
PODS_PER_NODE = 36       # a node's pods drawn one by one up to this many

SERVICES = "services"
ENDPOINT_SLICES = "endpointslices.discovery.k8s.io"
NETWORK_POLICIES = "networkpolicies.networking.k8s.io"
ENDPOINT_STATES = ("ready", "serving-terminating", "terminating", "not-ready")


def endpoint_state(conditions: dict | None) -> str:
    """An endpoint's state from its EndpointConditions, as kube-proxy reads them
    (pkg/proxy/endpointslicecache.go: a nil `ready` is true; a terminating endpoint that is
    still `serving` is used only when a Service has no ready one, ProxyTerminatingEndpoints)."""
    c = conditions if isinstance(conditions, dict) else {}
    terminating = c.get("terminating") is True
    ready = c.get("ready") is not False and not terminating
    if ready:
        return "ready"
    if terminating:
        return "serving-terminating" if c.get("serving") is True else "terminating"
    return "not-ready"


def _ports(spec: dict) -> list[dict]:
    out = []
    for p in spec.get("ports") or ():
        if isinstance(p, dict):
            out.append({"name": p.get("name"), "protocol": p.get("protocol") or "TCP", "port": p.get("port"),
                        "targetPort": p.get("targetPort", p.get("port")), "nodePort": p.get("nodePort")})
    return out


def _service_fields(svc: dict) -> dict:
    """A Service's box, but for its endpoints."""
    md, spec, status = svc.get("metadata") or {}, svc.get("spec") or {}, svc.get("status") or {}
    ingress = ((status.get("loadBalancer") or {}).get("ingress")) or ()
    selector = spec.get("selector")
    cluster_ip = spec.get("clusterIP")
    stype = spec.get("type") or "ClusterIP"
    return {"namespace": md.get("namespace"), "name": md.get("name"), "type": stype,
            "clusterIP": cluster_ip, "headless": cluster_ip == "None",
            "externalName": spec.get("externalName") if stype == "ExternalName" else None,
            "externalIPs": [str(ip) for ip in spec.get("externalIPs") or ()],
            "loadBalancer": [str(i.get("ip") or i.get("hostname")) for i in ingress
                             if isinstance(i, dict) and (i.get("ip") or i.get("hostname"))],
            "ports": _ports(spec),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            if isinstance(selector, dict) and selector else None,
            "sessionAffinity": spec.get("sessionAffinity") or "None",
            "externalTrafficPolicy": spec.get("externalTrafficPolicy"),
            "internalTrafficPolicy": spec.get("internalTrafficPolicy")}


def _slice_endpoints(sl: dict) -> list[dict]:
    ports = sorted(p.get("port") for p in sl.get("ports") or () if isinstance(p, dict)
                   and isinstance(p.get("port"), int))
    out = []
    for ep in sl.get("endpoints") or ():
        if not isinstance(ep, dict):
            continue
        conds = ep.get("conditions") or {}
        ref = ep.get("targetRef") or {}
        for ip in ep.get("addresses") or ():
            out.append({"ip": str(ip), "ports": ports, "pod": ref.get("name") if ref.get("kind", "Pod") == "Pod" else None,
                        "node": ep.get("nodeName"), "ready": conds.get("ready") is not False,
                        "serving": conds.get("serving", conds.get("ready")) is not False,
                        "terminating": conds.get("terminating") is True, "state": endpoint_state(conds)})
    return out


def _policy_fields(np: dict) -> dict:
    md, spec = np.get("metadata") or {}, np.get("spec") or {}
    sel = spec.get("podSelector")
    text = format_label_selector(sel) if isinstance(sel, dict) else ""
    types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
    return {"namespace": md.get("namespace"), "name": md.get("name"), "policyTypes": list(types),
            "podSelector": text or "(all pods)",
            "ingressRules": len(spec.get("ingress") or ()), "egressRules": len(spec.get("egress") or ())}


def _pod_entry(p: dict, node_ip: str | None) -> dict:
    return {"namespace": p.get("namespace"), "name": p.get("name"), "ip": p.get("ip"), "ready": bool(p.get("ready")),
            "phase": p.get("phase"), "terminating": bool(p.get("terminating")),
            "hostNetwork": bool(node_ip) and p.get("ip") == node_ip}


def _counts(pods: list[dict]) -> dict:
    out = {"ready": 0, "notReady": 0, "terminating": 0}
    for p in pods:
        out["terminating" if p.get("terminating") else "ready" if p.get("ready") else "notReady"] += 1
    return out


class NetworkView:
    """Builds the "networkview" part of a snapshot; remembers what it made of each Service,
    EndpointSlice and NetworkPolicy at its resourceVersion (a frame remakes only what changed)."""

    def __init__(self) -> None:
        self.memo = FrameMemo()
        self._memo = self.memo.made

    # -- parts --------------------------------------------------------------------------
    @staticmethod
    def _cni(cluster: "Cluster") -> dict:
        from sim import kubeadm_dns
        from sim.cni import plugin_for
        plugin = plugin_for(cluster)
        return {"plugin": plugin.name, "overlay": plugin.overlay,
                "enforcesNetworkPolicy": bool(plugin.enforces_network_policy),
                "podSubnet": getattr(cluster.config, "pod_subnet", None),
                "serviceSubnet": cluster.config.service_subnet,
                "clusterDNS": kubeadm_dns.dns_ip(cluster.config.service_subnet)}

    @staticmethod
    def _nodes(cluster: "Cluster", snap_nodes: list[dict]) -> list[dict]:
        from sim.cni import plugin_for
        device = plugin_for(cluster).device
        out = []
        for n in snap_nodes:
            comps = cluster.node_components.get(n["name"])
            net = getattr(comps[0], "network", None) if comps else None
            ip = net.node_ip if net is not None else None
            entry = {"name": n["name"], "role": n.get("role"), "alive": n.get("alive", True), "internalIP": ip,
                     "podCIDR": net.pod_cidr if net is not None else None,
                     "networkReady": bool(net.status()["status"]) if net is not None else False,
                     "device": {"name": device, "address": net.links.get(device) or None}
                     if net is not None and device and device in net.links else None,
                     "routes": len(net.routes) if net is not None else 0}
            pods = n.get("pods") or []
            if isinstance(n.get("podCounts"), dict):   # a summarised snapshot: counts per phase
                counts = dict(n["podCounts"])
                entry.update(pods=None, podTotal=int(n.get("podTotal") or sum(counts.values())),
                             podCounts={"ready": None, "notReady": None, "terminating": counts.get("Terminating", 0),
                                        "byPhase": counts})
            elif len(pods) > PODS_PER_NODE:
                entry.update(pods=None, podTotal=len(pods), podCounts=_counts(pods))
            else:
                entry.update(pods=[_pod_entry(p, ip) for p in pods], podTotal=len(pods), podCounts=_counts(pods))
            out.append(entry)
        return out

    def _service(self, cache, svc: dict, room: int = ENDPOINTS_SHOWN) -> dict:
        out = dict(self._memo("svc", svc, _service_fields))
        slices = cache.objects(ENDPOINT_SLICES)
        owned = cache.owners.owned((svc.get("metadata") or {}).get("uid"), ENDPOINT_SLICES)
        eps: list[dict] = []
        for key in sorted(owned):
            sl = slices.get(key)
            if sl is not None:
                eps.extend(self._memo("slice", sl, _slice_endpoints))
        eps.sort(key=lambda e: (ENDPOINT_STATES.index(e["state"]), e["ip"]))
        counts: dict[str, int] = {}
        for e in eps:
            counts[e["state"]] = counts.get(e["state"], 0) + 1
        out.update(endpoints=eps[:max(0, min(room, ENDPOINTS_SHOWN))], endpointTotal=len(eps), endpointCounts=counts)
        return out

    def _policy(self, cache, np: dict) -> dict:
        out = dict(self._memo("netpol", np, _policy_fields))
        ns = out["namespace"] or ""
        try:
            sel = label_selector_as_selector((np.get("spec") or {}).get("podSelector") or {})
        except SelectorError:
            return dict(out, selects=[], selectedTotal=0)
        keys = cache.sorted_keys("pods")
        lo, hi = bisect.bisect_left(keys, (ns, "")), bisect.bisect_left(keys, (ns + "\x00", ""))
        if hi - lo > POLICY_SCAN:
            return dict(out, selects=None, selectedTotal=None)
        pods = cache.objects("pods")
        chosen = [k[1] for k in keys[lo:hi] if k in pods
                  and selector_matches(sel, ((pods[k].get("metadata") or {}).get("labels")))]
        return dict(out, selects=chosen[:POLICY_PODS_LISTED], selectedTotal=len(chosen))

    # -- the whole view ----------------------------------------------------------------
    def frame(self, cluster: "Cluster", cache, snap_nodes: list[dict]) -> dict:
        """`snap_nodes`: the snapshot's nodes (their pods, or podCounts when summarised)."""
        self.memo.next_frame()
        out: dict[str, Any] = {"cni": self._cni(cluster), "nodes": self._nodes(cluster, snap_nodes), "totals": {}}
        listed = [0]

        def service(cache, svc: dict) -> dict:
            box = self._service(cache, svc, ENDPOINTS_LISTED - listed[0])
            listed[0] += len(box["endpoints"])
            return box
        for key, gr, shown, fn in (("services", SERVICES, SERVICES_SHOWN, service),
                                   ("policies", NETWORK_POLICIES, POLICIES_SHOWN, self._policy)):
            objs, keys = cache.objects(gr), cache.sorted_keys(gr)
            out["totals"][key] = len(keys)
            built = []
            for k in keys[:shown]:
                obj = objs.get(k)
                if obj is None:
                    continue
                try:
                    built.append(fn(cache, obj))
                except Exception:  # noqa: BLE001 - an object of an unforeseen shape is left out
                    continue
            out[key] = built
        return out
