"""The node IPAM controller (pkg/controller/nodeipam, `--allocate-node-cidrs=true` with the
RangeAllocator, ipam/range_allocator.go and ipam/cidrset/cidr_set.go): each Node gets
spec.podCIDR / spec.podCIDRs, a /--node-cidr-mask-size (24) range of --cluster-cidr (kubeadm's
podSubnet, 10.244.0.0/16 by default).  A dual-stack cluster CIDR ("10.244.0.0/16,fd00:10:244::/56")
gives every node one range of each: a /24 and a /64 (--node-cidr-mask-size-ipv6), podCIDR the
first, podCIDRs both.

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

from sim.ipfamily import split_cidrs

NODE_CIDR_MASK_SIZE = 24    # --node-cidr-mask-size (IPv4 default)
NODE_CIDR_MASK_SIZE_IPV6 = 64   # --node-cidr-mask-size-ipv6 default
DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"


class CIDRSet:
    """cidrset.CidrSet: the cluster CIDR as 2^(mask - prefix) slots."""

    def __init__(self, cluster_cidr: str, mask_size: int | None = None):
        self.net = ipaddress.ip_network(cluster_cidr, strict=False)
        self.mask = mask_size or (NODE_CIDR_MASK_SIZE if self.net.version == 4 else NODE_CIDR_MASK_SIZE_IPV6)
        self.bits = self.net.max_prefixlen
        self.max = 1 << (self.mask - self.net.prefixlen)
        self.used: set[int] = set()
        self.next_candidate = 0

    def _cidr(self, i: int) -> str:
        base = int(self.net.network_address) + (i << (self.bits - self.mask))
        return f"{ipaddress.ip_address(base)}/{self.mask}"

    def _index(self, cidr: str) -> int | None:
        try:
            n = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return None
        if n.version != self.net.version or n.prefixlen != self.mask or not n.subnet_of(self.net):
            return None
        return (int(n.network_address) - int(self.net.network_address)) >> (self.bits - self.mask)

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
        # One CidrSet per --cluster-cidr range (dual-stack: "v4,v6"; range_allocator.go's
        # cidrSets, each with its family's --node-cidr-mask-size-ipv4 / -ipv6).
        self.sets = [CIDRSet(c) for c in split_cidrs(getattr(cm, "cluster_cidr", None) or DEFAULT_CLUSTER_CIDR)]
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
                self._occupy(c)
            self.pending.discard(name)
            return
        if name in self.pending or node["metadata"].get("deletionTimestamp"):
            return
        # AllocateOrOccupyCIDR: one range from each cluster CIDR, in order.
        allocated: list[str] = []
        for idx, cidr_set in enumerate(self.sets):
            cidr = cidr_set.allocate_next()
            if cidr is None:
                for got in allocated:
                    self._release(got)
                self.api.event(dict(node, kind="Node", apiVersion="v1"), "CIDRNotAvailable",
                               f"Node {name} status is now: CIDRNotAvailable", "cidrAllocator")
                self.cm.action(f"node-ipam-controller: failed to allocate cidr from cluster cidr at idx:{idx}: "
                               f"no pod CIDR left in {cidr_set.net} for node {name}")
                return
            allocated.append(cidr)
        self.pending.add(name)

        def done(resp: dict) -> None:
            self.pending.discard(name)
            if resp["code"] >= 400:
                for got in allocated:      # updateCIDRsAllocation failed: give them back
                    self._release(got)
            else:
                self.cm.action(f"node-ipam-controller: node {name} podCIDRs {','.join(allocated)}")

        self.api.patch("nodes", None, name, {"spec": {"podCIDR": allocated[0], "podCIDRs": allocated}}, done,
                       patch_type="application/strategic-merge-patch+json")

    def _occupy(self, cidr: str) -> None:
        for cidr_set in self.sets:
            if cidr_set.occupy(cidr):
                return

    def _release(self, cidr: str) -> None:
        for cidr_set in self.sets:
            cidr_set.release(cidr)

    def release(self, node: dict) -> None:
        spec = node.get("spec") or {}
        for c in spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []):
            self._release(c)
        self.pending.discard(node["metadata"]["name"])
