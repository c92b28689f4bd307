"""IP families as Kubernetes names them (core/v1 IPFamily: "IPv4", "IPv6") and the few address
helpers every dual-stack piece shares (k8s.io/utils/net: IPFamilyOf, IPFamilyOfCIDRString,
IsDualStackCIDRs; the comma-separated flag values of --service-cluster-ip-range and
--cluster-cidr).  See docs/networking/dual-stack.md.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

IPV4, IPV6 = "IPv4", "IPv6"
FAMILIES = (IPV4, IPV6)


@lru_cache(maxsize=65536)
def parse_address(text: str):
    """ipaddress.ip_address, remembered: the packet path (routes, kube-proxy's rules) asks for the
    same few addresses for every packet, and the parsed objects are immutable."""
    return ipaddress.ip_address(text)


@lru_cache(maxsize=65536)
def parse_network(text: str, strict: bool = True):
    """ipaddress.ip_network, remembered (as parse_address)."""
    return ipaddress.ip_network(text, strict=strict)


def family_of(ip: Any) -> str | None:
    """netutils.IPFamilyOfString: "IPv4", "IPv6", or None for what is not an address."""
    try:
        return IPV6 if ipaddress.ip_address(str(ip)).version == 6 else IPV4
    except ValueError:
        return None


def cidr_family(cidr: str) -> str:
    return IPV6 if ipaddress.ip_network(cidr, strict=False).version == 6 else IPV4


def other_family(family: str) -> str:
    return IPV6 if family == IPV4 else IPV4


def split_cidrs(text: str | None) -> list[str]:
    """A flag's comma-separated CIDRs ("10.244.0.0/16,fd00:10:244::/56"), primary first."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def of_family(addresses, family: str) -> list[str]:
    """The addresses (or CIDRs) of one family, in their order."""
    out = []
    for a in addresses or []:
        if a and family_of(str(a).partition("/")[0]) == family:
            out.append(a)
    return out


def node_ipv6(ipv4: str) -> str:
    """The simulator's IPv6 address for a node whose IPv4 address is 192.168.<a>.<b>: the ULA
    fd00:192:168:<a>::<b> (the node's /64 mirrors its IPv4 /24; the digits are kept readable)."""
    a, b = ipv4.split(".")[2:4]
    return str(ipaddress.IPv6Address(f"fd00:192:168:{a}::{b}"))


def host_port(ip: str, port) -> str:
    """net.JoinHostPort: "ip:port", "[ip]:port" for IPv6."""
    return f"[{ip}]:{port}" if ":" in str(ip) else f"{ip}:{port}"
