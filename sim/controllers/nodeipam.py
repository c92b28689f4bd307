"""The node IPAM controller (pkg/controller/nodeipam, `--allocate-node-cidrs=true` with the
RangeAllocator, ipam/range_allocator.go and ipam/cidrset/cidr_set.go): each Node gets
spec.podCIDR / spec.podCIDRs, a /--node-cidr-mask-size (24) range of --cluster-cidr (kubeadm's
podSubnet, 10.244.0.0/16 by default).

- A node that already has a podCIDR (seen at start, or set by hand) occupies it (occupyCIDRs).
- A node without one gets the next free range: CidrSet.AllocateNext searches from
  `nextCandidate`, the slot after the last one handed out, and wraps round - so a released range
  is not handed out again at once.  The controller writes it with a patch of the Node's spec
  (updateCIDRsAllocation); the kubelet and the CNI agent read it from there.
- A deleted node's range is released (ReleaseCIDR).
- No range left: the Node gets a `CIDRNotAvailable` event ("Node <n> status is now:
  CIDRNotAvailable", nodeutil.RecordNodeStatusChange) and the node keeps no podCIDR; it is tried
  again when the node is next updated.
"""
from __future__ import annotations

import ipaddress

NODE_CIDR_MASK_SIZE = 24    # --node-cidr-mask-size (IPv4 default)
DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"


class CIDRSet:
    """cidrset.CidrSet: the cluster CIDR as 2^(mask - prefix) slots."""

    def __init__(self, cluster_cidr: str, mask_size: int = NODE_CIDR_MASK_SIZE):
        self.net = ipaddress.ip_network(cluster_cidr, strict=False)
        self.mask = mask_size
        self.max = 1 << (mask_size - self.net.prefixlen)
        self.used: set[int] = set()
        self.next_candidate = 0

    def _cidr(self, i: int) -> str:
        base = int(self.net.network_address) + (i << (32 - self.mask))
        return f"{ipaddress.ip_address(base)}/{self.mask}"

    def _index(self, cidr: str) -> int | None:
        try:
            n = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return None
        if n.prefixlen != self.mask or not n.subnet_of(self.net):
            return None
        return (int(n.network_address) - int(self.net.network_address)) >> (32 - self.mask)

    def allocate_next(self) -> str | None:
        for k in range(self.max):
            i = (self.next_candidate + k) % self.max
            if i not in self.used:
                self.used.add(i)
                self.next_candidate = (i + 1) % self.max
                return self._cidr(i)
        return None  # ErrCIDRRangeNoCIDRsRemaining

    def occupy(self, cidr: str) -> bool:
        i = self._index(cidr)
        if i is None:
            return False
        self.used.add(i)
        return True

    def release(self, cidr: str) -> None:
        i = self._index(cidr)
        if i is not None:
            self.used.discard(i)


class NodeIPAMController:
    name = "node-ipam-controller"

    def __init__(self, cm):
        self.cm = cm
        self.api = cm.api.client_for(self.name)
        self.cidrs = CIDRSet(getattr(cm, "cluster_cidr", None) or DEFAULT_CLUSTER_CIDR)
        self.pending: set[str] = set()      # nodes whose allocation is being written

    def start(self) -> None:
        self.cm.nodes.handlers(add=self.allocate_or_occupy, update=lambda _o, n: self.allocate_or_occupy(n),
                               delete=self.release)

    def allocate_or_occupy(self, node: dict) -> None:
        name = node["metadata"]["name"]
        spec = node.get("spec") or {}
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        if cidrs:
            for c in cidrs:
                self.cidrs.occupy(c)
            self.pending.discard(name)
            return
        if name in self.pending or node["metadata"].get("deletionTimestamp"):
            return
        cidr = self.cidrs.allocate_next()
        if cidr is None:
            self.api.event(dict(node, kind="Node", apiVersion="v1"), "CIDRNotAvailable", f"Node {name} status is now: CIDRNotAvailable", "cidrAllocator")
            self.cm.action(f"node-ipam-controller: no pod CIDR left in {self.cidrs.net} for node {name}")
            return
        self.pending.add(name)

        def done(resp: dict) -> None:
            self.pending.discard(name)
            if resp["code"] >= 400:
                self.cidrs.release(cidr)   # updateCIDRsAllocation failed: give it back
            else:
                self.cm.action(f"node-ipam-controller: node {name} podCIDR {cidr}")

        self.api.patch("nodes", None, name, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}, done,
                       patch_type="application/strategic-merge-patch+json")

    def release(self, node: dict) -> None:
        spec = node.get("spec") or {}
        for c in spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []):
            self.cidrs.release(c)
        self.pending.discard(node["metadata"]["name"])
