"""One load balancer of the simulated cloud: what EnsureLoadBalancer builds from a Service and
its nodes, and how it picks a backend for a packet.

It is a network load balancer with instance targets, as GCE's target pools (the legacy
provider's `ensureExternalLoadBalancer`) or an AWS NLB in instance mode are: a forwarding rule
per Service port (`listeners`) sends to every node the service controller hands it, at the
port's nodePort; kube-proxy takes it from there (KUBE-NODEPORTS -> KUBE-EXT-*).  Each backend
is health checked (gce_loadbalancer_external.go): a Service of externalTrafficPolicy Local on
its `healthCheckNodePort` at /healthz (kube-proxy's service health server answers 200 only on
nodes with a ready local endpoint), one of policy Cluster on kube-proxy's own /healthz at 10256
(GCE's shared node health check, KEP-3836).  Checks run every 8 s with a 1 s timeout; a backend
is healthy after 1 success and unhealthy after 3 failures in a row (GCE's gceHcCheckIntervalSeconds,
gceHcTimeoutSeconds, gceHcHealthyThreshold, gceHcUnhealthyThreshold).  Until its first answer
a backend is not healthy.  When no backend is healthy the load balancer sends to all of them
(GCE target pools and AWS NLBs "fail open").

The firewall (GCE's k8s-fw-* rule) lets in only `spec.loadBalancerSourceRanges`
(0.0.0.0/0 when empty).  `sessionAffinity: ClientIP` is the target pool's CLIENT_IP affinity: a
client address always goes to the same healthy backend; otherwise the pick is uniform (the
5-tuple hash of a connection is what a real one uses: each connection a fresh draw).
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

CHECK_INTERVAL = 8.0      # gceHcCheckIntervalSeconds
CHECK_TIMEOUT = 1.0       # gceHcTimeoutSeconds
HEALTHY_THRESHOLD = 1     # gceHcHealthyThreshold
UNHEALTHY_THRESHOLD = 3   # gceHcUnhealthyThreshold
NODES_HEALTH_CHECK_PORT = 10256   # kube-proxy's --healthz-bind-address port (GetNodesHealthCheckPort)
HEALTH_CHECK_PATH = "/healthz"
ALL_SOURCES = "0.0.0.0/0"
SUPPORTED_PROTOCOLS = ("TCP", "UDP")


class CloudError(Exception):
    """What a cloud API call answers instead of a result (the message the controller reports)."""


def load_balancer_name(service: dict) -> str:
    """cloudprovider.DefaultLoadBalancerName: "a" + the Service's UID without dashes, at most
    32 characters (GCE wants a leading letter, AWS names of under 32 bytes)."""
    uid = (service.get("metadata") or {}).get("uid") or ""
    return ("a" + uid).replace("-", "")[:32]


@dataclass(frozen=True)
class Listener:
    """A forwarding rule: the load balancer's port and protocol, sent to the nodes' nodePort."""
    port: int
    protocol: str
    node_port: int


@dataclass
class Backend:
    """One node in the load balancer's target pool and what its health checks found."""
    name: str
    ip: str
    healthy: bool = False
    checked: bool = False     # answered (or timed out) at least once
    successes: int = 0        # in a row
    failures: int = 0         # in a row
    last: str = ""            # the last check's outcome: "200", "503", "refused", "timeout"

    def record(self, ok: bool, outcome: str) -> bool:
        """One check's result; True when the backend's health changed."""
        before = self.healthy
        self.checked, self.last = True, outcome
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if self.successes >= HEALTHY_THRESHOLD:
                self.healthy = True
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.failures >= UNHEALTHY_THRESHOLD:
                self.healthy = False
        return before != self.healthy


@dataclass
class LoadBalancer:
    name: str
    namespace: str
    service: str
    ip: str
    listeners: tuple[Listener, ...]
    health_check_port: int
    source_ranges: tuple[str, ...] = (ALL_SOURCES,)
    client_ip_affinity: bool = False
    backends: dict[str, Backend] = field(default_factory=dict)
    generation: int = 0   # bumped on every change of its health-check target (the checker's timers)

    def set_backends(self, nodes: list[dict]) -> None:
        """UpdateLoadBalancer's target pool: the nodes given ({"name", "ip"}); a node already in
        it keeps its health, a new one starts unchecked."""
        old = self.backends
        self.backends = {}
        for n in sorted(nodes, key=lambda n: n["name"]):
            b = old.get(n["name"])
            self.backends[n["name"]] = b if b is not None and b.ip == n["ip"] else Backend(n["name"], n["ip"])

    def status(self) -> dict:
        """The LoadBalancerStatus EnsureLoadBalancer answers: a VIP (packets keep its address
        until they reach the forwarding rule), as GCE's and most network load balancers' are."""
        return {"ingress": [{"ip": self.ip, "ipMode": "VIP"}]}

    def admits(self, src_ip: str | None) -> bool:
        if src_ip is None:
            return True
        try:
            addr = ipaddress.ip_address(src_ip)
        except ValueError:
            return False
        return any(addr in ipaddress.ip_network(r, strict=False) for r in self.source_ranges)

    def listener(self, port: int, protocol: str) -> Listener | None:
        return next((lis for lis in self.listeners if lis.port == port and lis.protocol == protocol.upper()), None)

    def refusal(self, port: int, protocol: str, src_ip: str | None) -> str | None:
        """Why a new connection to `port` from `src_ip` gets no backend (None: it gets one): no
        forwarding rule for the port, the firewall (loadBalancerSourceRanges), no backend."""
        if self.listener(port, protocol) is None:
            return f"no forwarding rule for {port}/{protocol.upper()}"
        if not self.admits(src_ip):
            return f"the firewall admits only {', '.join(self.source_ranges)} (loadBalancerSourceRanges)"
        if not self.backends:
            return "no backend nodes"
        return None

    def pick(self, port: int, protocol: str, src_ip: str | None, rng) -> tuple[str, int] | None:
        """The backend (node IP, nodePort) for a new connection to `port`, or None: no such
        listener, a source the firewall refuses, or no backend at all (`refusal` says which)."""
        if self.refusal(port, protocol, src_ip) is not None:
            return None
        listener = self.listener(port, protocol)
        names = sorted(self.backends)
        healthy = [n for n in names if self.backends[n].healthy] or names   # fail open
        if self.client_ip_affinity and src_ip is not None:
            h = int.from_bytes(hashlib.sha256(src_ip.encode()).digest()[:8], "big")
            chosen = healthy[h % len(healthy)]
        else:
            chosen = healthy[rng.randrange(len(healthy))]
        return self.backends[chosen].ip, listener.node_port

    def describe(self) -> dict:
        return {"name": self.name, "service": f"{self.namespace}/{self.service}", "ip": self.ip,
                "listeners": [{"port": lis.port, "protocol": lis.protocol, "nodePort": lis.node_port}
                              for lis in self.listeners],
                "healthCheck": {"port": self.health_check_port, "path": HEALTH_CHECK_PATH,
                                "intervalSeconds": CHECK_INTERVAL, "timeoutSeconds": CHECK_TIMEOUT,
                                "healthyThreshold": HEALTHY_THRESHOLD, "unhealthyThreshold": UNHEALTHY_THRESHOLD},
                "sourceRanges": list(self.source_ranges), "sessionAffinity": "CLIENT_IP" if self.client_ip_affinity else "NONE",
                "backends": [{"node": b.name, "ip": b.ip, "healthy": b.healthy, "checked": b.checked, "last": b.last}
                             for b in self.backends.values()]}


def listeners_of(service: dict) -> tuple[Listener, ...]:
    """The forwarding rules a Service asks for; CloudError for what this cloud cannot do (as a
    provider refuses a protocol it lacks, or a port without a node port to send to)."""
    out = []
    for p in (service.get("spec") or {}).get("ports") or []:
        protocol = p.get("protocol") or "TCP"
        if protocol not in SUPPORTED_PROTOCOLS:
            raise CloudError(f"protocol {protocol} is not supported by the simulated cloud's load balancers "
                             f"(supported: {', '.join(SUPPORTED_PROTOCOLS)})")
        if not p.get("nodePort"):
            raise CloudError(f"port {p.get('port')}/{protocol} has no nodePort (allocateLoadBalancerNodePorts is "
                             "false): the simulated cloud's load balancers send to the nodes' node ports")
        out.append(Listener(int(p["port"]), protocol, int(p["nodePort"])))
    if not out:
        raise CloudError("the Service has no ports to balance")
    return tuple(out)


def health_check_port(service: dict) -> int:
    """externalTrafficPolicy Local: the Service's healthCheckNodePort; Cluster: kube-proxy's
    10256 (the shared node health check)."""
    spec = service.get("spec") or {}
    if spec.get("externalTrafficPolicy") == "Local":
        port = spec.get("healthCheckNodePort")
        if not port:
            raise CloudError("externalTrafficPolicy is Local but the Service has no healthCheckNodePort")
        return int(port)
    return NODES_HEALTH_CHECK_PORT


def source_ranges_of(service: dict) -> tuple[str, ...]:
    ranges = []
    for r in (service.get("spec") or {}).get("loadBalancerSourceRanges") or []:
        try:
            ranges.append(str(ipaddress.ip_network(str(r).strip(), strict=False)))
        except ValueError:
            raise CloudError(f"loadBalancerSourceRanges: {r!r} is not a CIDR") from None
    return tuple(ranges) or (ALL_SOURCES,)
