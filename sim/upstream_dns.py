"""The nodes' upstream resolver: the recursive resolver every node's /etc/resolv.conf names
(HOST_NAMESERVERS in sim/kubelet/dns.py, the simulated network's gateway) and a small simulated
Internet behind it.

CoreDNS reaches it through `forward . /etc/resolv.conf` (its pods use dnsPolicy Default, so their
resolv.conf is the node's); a dnsPolicy Default pod, or a hostNetwork pod, asks it directly. It
answers as a recursive resolver does: not authoritatively (busybox prints "Non-authoritative
answer:"), following CNAMEs within its zone, NXDOMAIN for a name it does not know (every name under
the cluster domain among them: the Internet has never heard of cluster.local), NOERROR with no
answer (NODATA) for a name it knows without records of the asked type.

The zone uses the documentation ranges (RFC 5737 TEST-NET-1/2/3, RFC 3849 2001:db8::/32), so the
addresses are stable and clearly not real.
"""
from __future__ import annotations

import ipaddress

TTL = 300

# name -> [(type, data)]: A / AAAA addresses, a CNAME's target.
ZONE: dict[str, list[tuple[str, str]]] = {
    "example.com": [("A", "192.0.2.10"), ("AAAA", "2001:db8::10")],
    "www.example.com": [("CNAME", "example.com")],
    "example.org": [("A", "192.0.2.11"), ("AAAA", "2001:db8::11")],
    "kubernetes.io": [("A", "198.51.100.10"), ("AAAA", "2001:db8:100::10")],
    "www.kubernetes.io": [("CNAME", "kubernetes.io")],
    "registry.k8s.io": [("A", "198.51.100.20"), ("AAAA", "2001:db8:100::20")],
    "k8s.gcr.io": [("CNAME", "registry.k8s.io")],
    "registry-1.docker.io": [("A", "203.0.113.20")],
    "github.com": [("A", "203.0.113.30")],          # IPv4 only: AAAA is NODATA, as the real one
}

MAX_CNAME_CHAIN = 8


def record(name: str, rtype: str, data, ttl: int = TTL) -> dict:
    """One resource record as the simulator passes it around (the answer section's shape)."""
    return {"name": name, "type": rtype, "ttl": ttl, "data": data}


def reverse_name(ip: str) -> str:
    """The in-addr.arpa / ip6.arpa name of an address (ipaddress's reverse_pointer)."""
    return ipaddress.ip_address(ip).reverse_pointer


def address_of_reverse(name: str) -> str | None:
    """The address a reverse name stands for (dnsutil.ExtractAddressFromReverse), or None."""
    name = name.lower().rstrip(".")
    try:
        if name.endswith(".in-addr.arpa"):
            parts = name[: -len(".in-addr.arpa")].split(".")
            if len(parts) == 4:
                return str(ipaddress.IPv4Address(".".join(reversed(parts))))
        elif name.endswith(".ip6.arpa"):
            nibbles = name[: -len(".ip6.arpa")].split(".")
            if len(nibbles) == 32:
                h = "".join(reversed(nibbles))
                return str(ipaddress.IPv6Address(":".join(h[i:i + 4] for i in range(0, 32, 4))))
    except ValueError:
        return None
    return None


def resolve(qname: str, qtype: str) -> dict:
    """The recursive resolver's reply: {"rcode", "aa": False, "answer": [records]}."""
    name = qname.lower().rstrip(".")
    if qtype == "PTR":
        ip = address_of_reverse(name)
        owners = sorted(n for n, rrs in ZONE.items() for t, d in rrs if t in ("A", "AAAA") and ip and d == ip)
        if owners:
            return {"rcode": "NOERROR", "aa": False, "answer": [record(name, "PTR", owners[0])]}
        return {"rcode": "NXDOMAIN", "aa": False, "answer": []}
    answer: list[dict] = []
    for _ in range(MAX_CNAME_CHAIN):
        rrs = ZONE.get(name)
        if rrs is None:
            # A chain into a name nobody knows: the CNAME alone, under NXDOMAIN (RFC 6604).
            return {"rcode": "NXDOMAIN", "aa": False, "answer": answer}
        cname = next((d for t, d in rrs if t == "CNAME"), None)
        if cname is not None and qtype != "CNAME":
            answer.append(record(name, "CNAME", cname))
            name = cname
            continue
        answer += [record(name, t, d) for t, d in rrs if t == qtype]
        break
    return {"rcode": "NOERROR", "aa": False, "answer": answer}
