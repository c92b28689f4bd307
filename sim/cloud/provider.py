"""The simulated cloud (`cloud-api@cloud`, a host outside the cluster): k8s.io/cloud-provider's
LoadBalancer interface answered over the network, and the load balancers it runs.

The cloud-controller-manager calls it as a provider's code calls its cloud's API:
{"type": "cloud.call", "id", "method", "cluster", "service", "nodes": [{"name", "ip"}]} with
method GetLoadBalancer / EnsureLoadBalancer / UpdateLoadBalancer / EnsureLoadBalancerDeleted;
the answer {"type": "cloud.reply", "id", "result" | "error"} comes when the operation is done:
a new load balancer takes PROVISION_SECONDS (real clouds take from half a minute to minutes),
a change of its targets UPDATE_SECONDS, a deletion DELETE_SECONDS.

External addresses come from EXTERNAL_POOL (203.0.113.0/24, TEST-NET-3): `spec.loadBalancerIP`
when it is in the pool and free (the deprecated field a cloud honours for a reserved address),
else the address the Service's status already shows if it is free (a load balancer rebuilt
after a restart of Pilothouse keeps its address), else the lowest free one.  Deleting a load
balancer frees its address.

Every load balancer health checks its backends (sim/cloud/loadbalancer.py) with messages to
each node's kube-proxy, whose health servers answer (sim/kubeproxy_healthcheck.py): a dead node,
a cut link or a stopped kube-proxy is a timeout.  `load_balancer(ip, port, src_ip)` is the
packet path's question to the cloud (sim/datapath.py): which node and nodePort a connection to
the load balancer's address goes to.

The cloud's state is not in etcd: after a restart of Pilothouse the load balancers are gone
until the service controller ensures them again (every LoadBalancer Service is synced when it
starts), as if the cloud had lost them.
"""
from __future__ import annotations

import ipaddress

from sim.cloud.loadbalancer import (CHECK_INTERVAL, CHECK_TIMEOUT, HEALTH_CHECK_PATH, CloudError, LoadBalancer,
                                    health_check_port, listeners_of, load_balancer_name, source_ranges_of)
from sim.component import Component

CLOUD_HOST = "cloud"
EXTERNAL_POOL = "203.0.113.0/24"
PROVISION_SECONDS = 3.0
UPDATE_SECONDS = 1.0
DELETE_SECONDS = 2.0
API_SECONDS = 0.05      # a read
MAX_LOAD_BALANCERS = 250  # a project's forwarding-rule quota; the pool holds 254 addresses
METHODS = ("GetLoadBalancer", "EnsureLoadBalancer", "UpdateLoadBalancer", "EnsureLoadBalancerDeleted")


class SimulatedCloud(Component):
    component = "cloud-api"

    def __init__(self, pool: str = EXTERNAL_POOL):
        super().__init__(CLOUD_HOST)
        self.pool = ipaddress.ip_network(pool)
        self.load_balancers: dict[str, LoadBalancer] = {}   # by name
        self.by_ip: dict[str, str] = {}                     # address -> load balancer name
        self.checks: dict[int, tuple[str, str, int, int]] = {}  # check id -> (lb, node, generation, timer)
        self.next_check = 0

    # -- the API ---------------------------------------------------------------------------
    def on_message(self, src: str, msg: dict) -> None:
        kind = msg.get("type")
        if kind == "cloud.call":
            self._call(src, msg)
        elif kind == "healthcheck.reply":
            self._checked(msg.get("id"), msg.get("answer"))

    def _call(self, src: str, msg: dict) -> None:
        method, service, nodes = msg.get("method"), msg.get("service"), msg.get("nodes") or []
        delay = {"EnsureLoadBalancer": PROVISION_SECONDS, "UpdateLoadBalancer": UPDATE_SECONDS,
                 "EnsureLoadBalancerDeleted": DELETE_SECONDS}.get(method, API_SECONDS)
        if method == "EnsureLoadBalancer" and isinstance(service, dict) and load_balancer_name(service) in self.load_balancers:
            delay = UPDATE_SECONDS   # it exists: a change, not a new one

        def answer() -> None:
            try:
                if method not in METHODS or not isinstance(service, dict):
                    raise CloudError(f"unknown cloud API call {method!r}")
                result = getattr(self, method)(service, nodes)
                reply = {"type": "cloud.reply", "id": msg.get("id"), "result": result}
            except CloudError as e:
                reply = {"type": "cloud.reply", "id": msg.get("id"), "error": str(e)}
            self.send(src, reply, f"{method} answered")

        self.call_later(delay, answer)

    def GetLoadBalancer(self, service: dict, nodes: list) -> dict:  # noqa: N802 - the interface's name
        lb = self.load_balancers.get(load_balancer_name(service))
        return {"exists": lb is not None, "status": lb.status() if lb else {}}

    def EnsureLoadBalancer(self, service: dict, nodes: list) -> dict:  # noqa: N802
        name = load_balancer_name(service)
        md, spec = service.get("metadata") or {}, service.get("spec") or {}
        listeners, hc_port, ranges = listeners_of(service), health_check_port(service), source_ranges_of(service)
        lb = self.load_balancers.get(name)
        ip = self._address_for(service, lb)
        if lb is None:
            if len(self.load_balancers) >= MAX_LOAD_BALANCERS:
                raise CloudError(f"quota exceeded: at most {MAX_LOAD_BALANCERS} load balancers")
            lb = LoadBalancer(name, md.get("namespace", ""), md.get("name", ""), ip, listeners, hc_port)
            self.load_balancers[name] = lb
            self.action(f"cloud: created load balancer {name} at {ip} for Service {lb.namespace}/{lb.service}")
        elif lb.ip != ip:
            self.by_ip.pop(lb.ip, None)
            lb.ip = ip
        self.by_ip[ip] = name
        if lb.health_check_port != hc_port:
            for b in lb.backends.values():   # a new health check: every backend is checked afresh
                b.healthy, b.checked, b.successes, b.failures, b.last = False, False, 0, 0, ""
        lb.listeners, lb.health_check_port, lb.source_ranges = listeners, hc_port, ranges
        lb.client_ip_affinity = spec.get("sessionAffinity") == "ClientIP"
        self._set_backends(lb, nodes)
        return lb.status()

    def UpdateLoadBalancer(self, service: dict, nodes: list) -> dict:  # noqa: N802
        lb = self.load_balancers.get(load_balancer_name(service))
        if lb is None:
            raise CloudError(f"load balancer {load_balancer_name(service)} not found")
        self._set_backends(lb, nodes)
        return {}

    def EnsureLoadBalancerDeleted(self, service: dict, nodes: list) -> dict:  # noqa: N802
        lb = self.load_balancers.pop(load_balancer_name(service), None)
        if lb is not None:
            self.by_ip.pop(lb.ip, None)
            lb.generation += 1   # its health checks stop
            self.action(f"cloud: deleted load balancer {lb.name} ({lb.ip}) of Service {lb.namespace}/{lb.service}")
        return {}

    def _address_for(self, service: dict, lb: LoadBalancer | None) -> str:
        spec = service.get("spec") or {}
        requested = spec.get("loadBalancerIP") or ""
        mine = lb.name if lb else None
        if requested:
            if not self._in_pool(requested):
                raise CloudError(f"requested loadBalancerIP {requested} is not in the cloud's external address "
                                 f"pool {self.pool}")
            if self.by_ip.get(requested, mine) != mine:
                raise CloudError(f"requested loadBalancerIP {requested} is in use by another load balancer")
            return requested
        if lb is not None:
            return lb.ip
        for ing in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            ip = ing.get("ip") if isinstance(ing, dict) else None
            if ip and self._in_pool(ip) and ip not in self.by_ip:
                return ip
        for addr in self.pool.hosts():
            if str(addr) not in self.by_ip:
                return str(addr)
        raise CloudError(f"no free address in the external address pool {self.pool}")

    def _in_pool(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return addr in self.pool and addr not in (self.pool.network_address, self.pool.broadcast_address)

    # -- health checks ------------------------------------------------------------------------
    def _set_backends(self, lb: LoadBalancer, nodes: list) -> None:
        usable = [{"name": str(n["name"]), "ip": str(n["ip"])} for n in nodes
                  if isinstance(n, dict) and n.get("name") and n.get("ip")]
        lb.set_backends(usable)
        lb.generation += 1
        self._probe(lb.name, lb.generation)   # check the (new) backends now, then every interval

    def _probe(self, name: str, generation: int) -> None:
        lb = self.load_balancers.get(name)
        if lb is None or lb.generation != generation:
            return
        for b in lb.backends.values():
            self.next_check += 1
            cid = self.next_check
            timer = self.call_later(CHECK_TIMEOUT, lambda cid=cid: self._checked(cid, None, timeout=True))
            self.checks[cid] = (name, b.name, generation, timer)
            self.send(f"kube-proxy@{b.name}", {"type": "healthcheck", "id": cid, "port": lb.health_check_port,
                                                "path": HEALTH_CHECK_PATH},
                      f"health check {b.ip}:{lb.health_check_port}{HEALTH_CHECK_PATH}")
        self.call_later(CHECK_INTERVAL, lambda: self._probe(name, generation))

    def _checked(self, cid, answer, timeout: bool = False) -> None:
        entry = self.checks.pop(cid, None) if isinstance(cid, int) else None
        if entry is None:
            return
        name, node, generation, timer = entry
        if not timeout:
            self.cancel_timer(timer)
        lb = self.load_balancers.get(name)
        b = lb.backends.get(node) if lb is not None and lb.generation == generation else None
        if b is None:
            return
        if timeout:
            ok, outcome = False, "timeout"
        elif answer is None:
            ok, outcome = False, "refused"
        else:
            ok, outcome = answer.get("code") == 200, str(answer.get("code"))
        if b.record(ok, outcome):
            self.action(f"cloud: load balancer {lb.ip} marks {node} {'healthy' if b.healthy else 'unhealthy'} "
                        f"(health check :{lb.health_check_port}{HEALTH_CHECK_PATH}: {outcome})")

    # -- the packet path's question ----------------------------------------------------------
    def load_balancer(self, ip: str, port: int, src_ip: str | None = None, proto: str = "tcp") -> tuple[str, int] | None:
        """Where the load balancer at `ip` sends a new connection to `port` from `src_ip` (an
        outside client's address, used by the firewall and ClientIP affinity): (node IP,
        nodePort), or None when no load balancer has that address and port, the firewall drops
        the source, or it has no backend."""
        lb = self.load_balancer_at(ip)
        if lb is None or not isinstance(port, int):
            return None
        return lb.pick(port, proto, src_ip, self.rng)

    def load_balancer_at(self, ip: str) -> LoadBalancer | None:
        """The load balancer whose address `ip` is (its forwarding rules' address), or None."""
        return self.load_balancers.get(self.by_ip.get(ip, ""))

    def frame(self, shown: int = 20) -> dict:
        """The dashboard's view, bounded: the first `shown` load balancers by name, each with its
        backends counted (healthy of all), and how many there are."""
        names = sorted(self.load_balancers)
        lbs = []
        for n in names[:shown]:
            lb = self.load_balancers[n]
            lbs.append({"service": f"{lb.namespace}/{lb.service}", "ip": lb.ip, "backends": len(lb.backends),
                        "healthy": sum(1 for b in lb.backends.values() if b.healthy)})
        return {"address": self.address, "loadBalancers": lbs, "total": len(names)}

    def describe(self) -> list[dict]:
        """Every load balancer with its listeners, health check and backends' health."""
        return [self.load_balancers[n].describe() for n in sorted(self.load_balancers)]
