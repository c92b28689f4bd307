"""The Service IP and NodePort allocators of kube-apiserver (pkg/registry/core/service/
ipallocator, portallocator, storage/alloc.go) and their repair at start (the repair
controllers of pkg/registry/core/service/ipallocator/controller and portallocator/controller).

Where the state lives.  Several kube-apiservers serve one cluster, so what is allocated must
live in etcd, not in one process: upstream's 1.33 IP allocator (MultiCIDRServiceAllocator)
writes one IPAddress object per ClusterIP, /registry/ipaddresses/<ip>, created with etcd's
create-if-absent; two servers racing for one address cannot both succeed.  The same is done
here for node ports, one key per port under /registry/ranges/servicenodeports/ (upstream keeps
one bitmap there, written with compare-and-swap: the same guarantee, coarser grained).  Each
server chooses from what it knows (the Services in its watch cache and its own allocations
in flight) and lets etcd decide; a choice another server took in the meantime is drawn again.

How a choice is made (ipallocator/bitmap.go, randomScanStrategyWithOffset): the range is split
into a small static band at its start (min(max(16, size/16), 256) addresses; for ports
min(max(16, size/32), 128)), which dynamic allocation uses last, so that addresses people pick
by hand (10.96.0.10 for kube-dns) are rarely taken; within the band a random offset from the
kernel's rng, then the first free one after it.

Released after the Service is deleted or when the create that allocated fails; a dry run
allocates nothing (it fills in what would be chosen).
"""
from __future__ import annotations

import ipaddress
import json
from typing import Any, Callable

from sim.api import status as st
from sim.api import validation as v
from sim.api.meta import new_uid
from sim.ipfamily import cidr_family, family_of, split_cidrs
from sim.registry.core.services import NONE, needs_cluster_ip, needs_node_ports

IP_PREFIX = "/registry/ipaddresses/"
PORT_PREFIX = "/registry/ranges/servicenodeports/"
DEFAULT_SERVICE_CIDR = "10.96.0.0/12"          # kubeadm's serviceSubnet
DEFAULT_NODE_PORT_RANGE = (30000, 32767)        # --service-node-port-range
MAX_RETRIES = 10


def service_cidrs(ctx) -> list[str]:
    """--service-cluster-ip-range: one CIDR, or two of different families (dual-stack), the
    primary first."""
    return split_cidrs(getattr(ctx, "service_cluster_ip_range", None)) or [DEFAULT_SERVICE_CIDR]


def service_cidr(ctx) -> str:
    """The primary range (the `kubernetes` Service's, and single-stack Services' by default)."""
    return service_cidrs(ctx)[0]


def service_families(ctx) -> list[str]:
    """The families the allocators serve (serviceIPAllocatorsByFamily), the primary first."""
    return [cidr_family(c) for c in service_cidrs(ctx)]


def ip_ranges(ctx) -> dict[str, "IPRange"]:
    return {cidr_family(c): IPRange(c) for c in service_cidrs(ctx)}


def node_port_range(ctx) -> tuple[int, int]:
    return getattr(ctx, "service_node_port_range", None) or DEFAULT_NODE_PORT_RANGE


def first_ip(cidr: str) -> str:
    """The Service range's first address: the `kubernetes` Service's ClusterIP."""
    net = ipaddress.ip_network(cidr, strict=False)
    return str(net.network_address + 1)


class IPRange:
    """ipallocator.Range over a CIDR: the network and broadcast addresses are never handed out."""

    def __init__(self, cidr: str):
        self.cidr = cidr
        net = ipaddress.ip_network(cidr, strict=False)
        self.base = int(net.network_address) + 1
        self.size = max(0, net.num_addresses - 2) if net.version == 4 else max(0, net.num_addresses - 1)
        self.offset = min(max(16, self.size // 16), 256) if self.size > 16 else 0

    def contains(self, ip: str) -> bool:
        try:
            i = int(ipaddress.ip_address(ip)) - self.base
        except ValueError:
            return False
        return 0 <= i < self.size

    def item(self, i: int) -> str:
        return str(ipaddress.ip_address(self.base + i))

    def index(self, ip: str) -> int:
        return int(ipaddress.ip_address(ip)) - self.base


class PortRange:
    def __init__(self, lo: int, hi: int):
        self.base, self.size = lo, hi - lo + 1
        self.offset = min(max(16, self.size // 32), 128) if self.size > 16 else 0
        self.text = f"{lo}-{hi}"

    def contains(self, port: int) -> bool:
        return 0 <= port - self.base < self.size

    def item(self, i: int) -> int:
        return self.base + i


def random_free(rng, rng_range, taken: Callable[[Any], bool]):
    """randomScanStrategyWithOffset.AllocateBit: the dynamic band first, from a random offset,
    then the static band; None when the range is full."""
    bands = [(rng_range.offset, rng_range.size), (0, rng_range.offset)]
    for lo, hi in bands:
        n = hi - lo
        if n <= 0:
            continue
        start = rng.randrange(n)
        for i in range(n):
            item = rng_range.item(lo + (start + i) % n)
            if not taken(item):
                return item
    return None


# -- what one API server knows ----------------------------------------------------------
class AllocatorState:
    """A server's view: the addresses and ports of the Services in its watch cache (kept by the
    strategy's observe hook) and its own allocations not yet seen in a stored Service."""

    def __init__(self):
        self.ips: dict[str, str] = {}        # ip -> "ns/name"
        self.ports: dict[int, str] = {}      # node port -> "ns/name"
        self.held: dict[str, tuple[list[str], list[int]]] = {}
        self.pending_ips: set[str] = set()
        self.pending_ports: set[int] = set()

    def observe(self, key: str, svc: dict | None) -> None:
        for ip in self.held.get(key, ([], []))[0]:
            if self.ips.get(ip) == key:
                del self.ips[ip]
        for port in self.held.get(key, ([], []))[1]:
            if self.ports.get(port) == key:
                del self.ports[port]
        self.held.pop(key, None)
        if svc is None:
            return
        ips, ports = held_ips(svc), held_ports(svc)
        self.held[key] = (ips, ports)
        for ip in ips:
            self.ips[ip] = key
            self.pending_ips.discard(ip)
        for port in ports:
            self.ports[port] = key
            self.pending_ports.discard(port)


def state_of(ctx) -> AllocatorState:
    kinds = ctx.kind_state
    if "services" not in kinds:
        kinds["services"] = AllocatorState()
    return kinds["services"]


def held_ips(svc: dict) -> list[str]:
    spec = svc.get("spec") or {}
    if not needs_cluster_ip(svc):
        return []
    return [ip for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
            if ip and ip != NONE]


def held_ports(svc: dict) -> list[int]:
    spec = svc.get("spec") or {}
    out = [p.get("nodePort") for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("nodePort")]
    if spec.get("healthCheckNodePort"):
        out.append(spec["healthCheckNodePort"])
    return sorted(set(out))


def _ip_value(ctx, ip: str, svc: dict) -> str:
    """The networking.k8s.io/v1 IPAddress the allocator writes (its parentRef the Service)."""
    md = svc.get("metadata") or {}
    return json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "IPAddress",
                       "metadata": {"name": ip, "uid": new_uid(ctx.rng), "creationTimestamp": ctx.timestamp(),
                                    "labels": {"ipaddress.kubernetes.io/ip-family": family_of(ip),
                                               "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io"}},
                       "spec": {"parentRef": {"group": "", "resource": "services",
                                              "namespace": md.get("namespace", ""), "name": md.get("name", "")}}},
                      separators=(",", ":"))


def _port_value(port: int, svc: dict) -> str:
    md = svc.get("metadata") or {}
    return json.dumps({"port": port, "namespace": md.get("namespace", ""), "name": md.get("name", "")},
                      separators=(",", ":"))


def _go_strings(values: list) -> v.GoSyntax:
    return v.GoSyntax("[]string{" + ", ".join(f'"{x}"' for x in values) + "}")


# -- allocation --------------------------------------------------------------------------
def allocate_service(ctx, svc: dict, old: dict | None, dry_run: bool, done: Callable[[Any], None]) -> None:
    """Fills in (in place) and reserves the ClusterIP and node ports `svc` needs that `old` (the
    stored object on an update, None on a create) did not hold; then done(None), or done(errors)
    with a list of field errors (422) or a Status."""
    state = state_of(ctx)
    key = f"{(svc.get('metadata') or {}).get('namespace', '')}/{(svc.get('metadata') or {}).get('name', '')}"
    spec = svc.get("spec") or {}
    old_ips = set(held_ips(old)) if old else set()
    old_ports = set(held_ports(old)) if old else set()
    ranges = ip_ranges(ctx)
    port_range = PortRange(*node_port_range(ctx))
    # (etcd key, value, requested?, field path, what) for each reservation to make.
    wanted: list[list] = []

    # On an update, what the stored object holds is its own; a create's name may still be
    # another Service's (its create then fails with AlreadyExists), whose addresses are taken.
    own = key if old is not None else None

    def ip_taken(ip: str) -> bool:
        return (ip in state.ips and state.ips[ip] != own) or ip in state.pending_ips or ip in chosen_ips

    def port_taken(port: int) -> bool:
        return ((port in state.ports and state.ports[port] != own) or port in state.pending_ports
                or port in chosen_ports)

    chosen_ips: set = set()
    chosen_ports: set = set()
    # The ClusterIPs, one per family of spec.ipFamilies (alloc.go allocClusterIPs on a create or
    # a change from ExternalName; updateClusterIPs' upgrade on an update: the secondary only):
    # what the stored object already holds is kept.
    if needs_cluster_ip(svc) and spec.get("clusterIP") != NONE:
        ips = spec["clusterIPs"] = list(spec.get("clusterIPs") or [])
        for i, family in enumerate(spec.get("ipFamilies") or service_families(ctx)[:1]):
            requested = ips[i] if i < len(ips) else ""
            if requested and requested in old_ips:
                continue
            ip_range = ranges.get(family)
            if ip_range is None:   # initIPFamilyFields refused it already; safe > sorry
                return done([v.invalid(f"spec.ipFamilies[{i}]", family, "not configured on this cluster")])
            if requested:
                if not ip_range.contains(requested):
                    return done([v.invalid("spec.clusterIPs", _go_strings(ips),
                                           f"failed to allocate IP {requested}: the provided IP ({requested}) is not in "
                                           f"the valid range. The range of valid IPs is {ip_range.cidr}")])
                if ip_taken(requested):
                    return done([v.invalid("spec.clusterIPs", _go_strings(ips),
                                           f"failed to allocate IP {requested}: provided IP is already allocated")])
                ip = requested
            else:
                ip = random_free(ctx.rng, ip_range, ip_taken)
                if ip is None:
                    return done(st.internal("failed to allocate a serviceIP: range is full"))
                if i < len(ips):
                    ips[i] = ip
                else:
                    ips.append(ip)
            spec["clusterIP"] = ips[0]
            chosen_ips.add(ip)
            wanted.append(["ip", ip, bool(requested), i, ip_range])
    # The node ports.
    if needs_node_ports(svc):
        for i, p in enumerate(spec.get("ports") or []):
            if not isinstance(p, dict):
                continue
            port = p.get("nodePort") or 0
            requested_port = bool(port)
            if port and port in old_ports:
                continue
            if port:
                if not port_range.contains(port):
                    return done([v.invalid(f"spec.ports[{i}].nodePort", port,
                                           "provided port is not in the valid range. The range of valid ports is "
                                           + port_range.text)])
                if port_taken(port):
                    return done([v.invalid(f"spec.ports[{i}].nodePort", port, "provided port is already allocated")])
            else:
                port = random_free(ctx.rng, port_range, port_taken)
                if port is None:
                    return done(st.internal("failed to allocate a nodePort: range is full"))
                p["nodePort"] = port
            chosen_ports.add(port)
            wanted.append(["port", port, requested_port, i])
    if dry_run or not wanted:
        return done(None)
    # Requested or drawn: a requested value another server holds is refused, a drawn one is
    # drawn again.
    state.pending_ips |= chosen_ips
    state.pending_ports |= chosen_ports
    made: list[tuple[str, Any]] = []

    def fail(errors: Any) -> None:
        for kind, item in made:
            _release_one(ctx, state, kind, item)
        for ip in chosen_ips:
            state.pending_ips.discard(ip)
        for port in chosen_ports:
            state.pending_ports.discard(port)
        done(errors)

    def reserve(n: int, tries: int) -> None:
        if n == len(wanted):
            return done(None)
        w = wanted[n]
        kind, item = w[0], w[1]
        etcd_key = IP_PREFIX + item if kind == "ip" else PORT_PREFIX + str(item)
        value = _ip_value(ctx, item, svc) if kind == "ip" else _port_value(item, svc)

        def answered(r: dict) -> None:
            if r.get("type") == "timeout":
                return fail(st.timeout())
            if r.get("succeeded"):
                made.append((kind, item))
                return reserve(n + 1, 0)
            # Another server holds it.
            if kind == "ip":
                chosen_ips.discard(item)
                state.pending_ips.discard(item)
                if w[2] or tries >= MAX_RETRIES:
                    ips = list(spec.get("clusterIPs") or [item])
                    return fail([v.invalid("spec.clusterIPs", _go_strings(ips),
                                           f"failed to allocate IP {item}: provided IP is already allocated")])
                state.ips.setdefault(item, "?")  # known taken from now on (until observed otherwise)
                nxt = random_free(ctx.rng, w[4], ip_taken)
                if nxt is None:
                    return fail(st.internal("failed to allocate a serviceIP: range is full"))
                spec["clusterIPs"][w[3]] = nxt
                spec["clusterIP"] = spec["clusterIPs"][0]
                chosen_ips.add(nxt)
                state.pending_ips.add(nxt)
                w[1] = nxt
            else:
                chosen_ports.discard(item)
                state.pending_ports.discard(item)
                if w[2] or tries >= MAX_RETRIES:
                    return fail([v.invalid(f"spec.ports[{w[3]}].nodePort", item, "provided port is already allocated")])
                state.ports.setdefault(item, "?")
                nxt = random_free(ctx.rng, port_range, port_taken)
                if nxt is None:
                    return fail(st.internal("failed to allocate a nodePort: range is full"))
                spec["ports"][w[3]]["nodePort"] = nxt
                chosen_ports.add(nxt)
                state.pending_ports.add(nxt)
                w[1] = nxt
            reserve(n, tries + 1)

        ctx.etcd_call({"type": "etcd.txn", "key": etcd_key, "compare": "create", "target": 0, "value": value},
                      answered)

    reserve(0, 0)


def _release_one(ctx, state: AllocatorState, kind: str, item: Any) -> None:
    if kind == "ip":
        state.pending_ips.discard(item)
        if state.ips.get(item) == "?":
            del state.ips[item]
        key = IP_PREFIX + item
    else:
        state.pending_ports.discard(item)
        if state.ports.get(item) == "?":
            del state.ports[item]
        key = PORT_PREFIX + str(item)
    ctx.etcd_call({"type": "etcd.txn", "key": key, "compare": "none", "value": None}, lambda r: None)


def release_service(ctx, svc: dict, keep: dict | None) -> None:
    """Frees what `svc` holds and `keep` does not (keep: the object that stays stored)."""
    state = state_of(ctx)
    keep_ips = set(held_ips(keep)) if keep else set()
    keep_ports = set(held_ports(keep)) if keep else set()
    for ip in held_ips(svc):
        if ip not in keep_ips:
            _release_one(ctx, state, "ip", ip)
    for port in held_ports(svc):
        if port not in keep_ports:
            _release_one(ctx, state, "port", port)


def repair(ctx, services: list[dict]) -> None:
    """The repair controllers' first pass at start (RunOnce): every stored Service's ClusterIP and
    node ports are reserved in etcd (a reservation already there stays), so that a cluster
    whose reservations were lost is rebuilt from its Services.  (Leaked reservations - an
    allocation whose Service write never happened - are left: upstream frees one after it has
    been seen leaked by several passes.)"""
    for svc in services:
        for ip in held_ips(svc):
            ctx.etcd_call({"type": "etcd.txn", "key": IP_PREFIX + ip, "compare": "create", "target": 0,
                           "value": _ip_value(ctx, ip, svc)}, lambda r: None)
        for port in held_ports(svc):
            ctx.etcd_call({"type": "etcd.txn", "key": PORT_PREFIX + str(port), "compare": "create", "target": 0,
                           "value": _port_value(port, svc)}, lambda r: None)
