"""host-local IPAM (containernetworking/plugins plugins/ipam/host-local): addresses from one
range, one file per address under /var/lib/cni/networks/<network>/ naming the container, and
`last_reserved_ip.0` remembering the last address handed out.

backend/allocator/allocator.go Get / GetIter: the search starts right after the last reserved
address (or at rangeStart), walks to rangeEnd and wraps around, skipping the gateway and every
address already reserved.  So a freed address is not handed out again until the range has been
walked round: no immediate reuse (what keeps a late packet for a deleted pod from reaching the
next one).  Exhausted: "no IP addresses available in range set: <start>-<end>".
"""
from __future__ import annotations

import ipaddress


class IPAMError(Exception):
    pass


class HostLocal:
    def __init__(self, network: str, subnet: str, gateway: str | None = None):
        net = ipaddress.ip_network(subnet, strict=False)
        if net.num_addresses < 4:
            raise IPAMError(f"invalid range set: subnet {subnet} is too small")
        self.network, self.subnet = network, str(net)
        # config.go canonicalizeIP / range.go Canonicalize: rangeStart = network + 1,
        # rangeEnd = broadcast - 1, gateway = network + 1 by default.
        self.start, self.end = net.network_address + 1, net.broadcast_address - 1
        self.gateway = ipaddress.ip_address(gateway) if gateway else net.network_address + 1
        self.reserved: dict[str, str] = {}           # ip -> container id (the files on disk)
        self.last_reserved: str | None = None         # last_reserved_ip.0

    def range_text(self) -> str:
        return f"{self.start}-{self.end}"

    def get(self, container_id: str) -> str:
        """Allocator.Get: an address for `container_id` (its own again if it has one)."""
        for ip, owner in self.reserved.items():
            if owner == container_id:
                return ip
        size = int(self.end) - int(self.start) + 1
        first = self.start
        if self.last_reserved is not None:
            last = ipaddress.ip_address(self.last_reserved)
            if self.start <= last <= self.end:
                first = last + 1 if last < self.end else self.start
        for i in range(size):
            ip = ipaddress.ip_address(self.start + (int(first) - int(self.start) + i) % size)
            if ip == self.gateway or str(ip) in self.reserved:
                continue
            self.reserved[str(ip)] = container_id
            self.last_reserved = str(ip)
            return str(ip)
        raise IPAMError(f"no IP addresses available in range set: {self.range_text()}")

    def release(self, container_id: str) -> None:
        """Allocator.Release (ReleaseByID): the container's file goes; last_reserved_ip stays."""
        for ip in [ip for ip, owner in self.reserved.items() if owner == container_id]:
            del self.reserved[ip]
