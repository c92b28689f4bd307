"""kube-proxy's health servers (pkg/proxy/healthcheck), what a cloud load balancer probes.

- The proxier health server, `--healthz-bind-address` 0.0.0.0:10256, `/healthz`
  (proxier_health.go): 200 while the proxier is healthy, else 503, with
  {"lastUpdated", "currentTime", "nodeEligible"}.  Cloud load balancers of
  externalTrafficPolicy Cluster Services probe it (KEP-3836; GCE's shared health check is
  port 10256, path /healthz).  Healthy here: kube-proxy has written its rules once since it
  started (upstream: its last sync is not older than 2 x --iptables-sync-period; a sync here
  never fails, so the first one is what counts).  A stopped kube-proxy answers nothing.
- The service health server (service_health.go): one listener per
  `spec.healthCheckNodePort` of every LoadBalancer Service with externalTrafficPolicy Local
  (SyncServices(svcPortMap.HealthCheckNodePorts())); any path answers
  {"service": {"namespace", "name"}, "localEndpoints": n, "serviceProxyHealthy": bool} with the
  header X-Load-Balancing-Endpoint-Weight: n, and hcHandler.ServeHTTP's status: 200 when
  `count != 0 && kubeProxyHealthy`, else 503.  The count is LocalReadyEndpoints
  (endpointsmap.go): the node's own ready endpoints, counted over the Service's ports.  A port
  no Service holds has no listener: the connection is refused.

Both are computed from what kube-proxy synced last (syncProxyRules calls SyncServices and
SyncEndpoints after writing the rules), not from the informers' newer view.
"""
from __future__ import annotations

import json

PROXIER_HEALTHZ_PORT = 10256   # --healthz-bind-address default
HEALTHZ_PATH = "/healthz"


class ServiceHealthServer:
    """The listeners and their answers: healthCheckNodePort -> Service, Service -> local ready
    endpoints, as of kube-proxy's last sync."""

    def __init__(self):
        self.services: dict[int, tuple[str, str]] = {}
        self.local_endpoints: dict[tuple[str, str], int] = {}
        self._ports = None   # the ports list of the last sync
        self._keys: dict | None = None     # Service -> its endpointsMap keys, as of the last sync
        self._per_key: dict[str, int] = {}  # endpointsMap key -> its local ready endpoints (non-zero)

    def sync(self, ports, endpoints: dict, node: str, changed: set | None = None, keys: dict | None = None) -> None:
        """SyncServices + SyncEndpoints from the synced svcPortMap (ServicePorts) and endpointsMap,
        on kube-proxy's node `node`.  `keys` (the EndpointsChangeTracker's endpointsMap keys by
        Service) and `changed` (the Services changed since the last sync) let a sync recount only
        those Services' endpoints; without them, everything is counted again."""
        if ports is not self._ports:
            self.services = {sp.health_check_node_port: (sp.namespace, sp.name) for sp in ports
                             if sp.health_check_node_port}
            self._ports = ports
        if keys is None or changed is None or self._keys is None:
            self._per_key = {}
            for key, eps in endpoints.items():
                n = _local_ready(eps, node)
                if n:
                    self._per_key[key] = n
            self._keys = None if keys is None else {svc: list(ks) for svc, ks in keys.items()}
            counts: dict[tuple[str, str], int] = {}
            for key, n in self._per_key.items():
                svc = _service_of(key)
                counts[svc] = counts.get(svc, 0) + n
            self.local_endpoints = counts
            return
        counts = self.local_endpoints
        for svc in changed:
            for key in self._keys.pop(svc, ()):
                n = self._per_key.pop(key, 0)
                if n:
                    owner = _service_of(key)
                    left = counts[owner] - n
                    if left:
                        counts[owner] = left
                    else:
                        del counts[owner]
            now = keys.get(svc)
            if now:
                self._keys[svc] = list(now)
                for key in now:
                    n = _local_ready(endpoints[key], node)
                    if n:
                        self._per_key[key] = n
                        owner = _service_of(key)
                        counts[owner] = counts.get(owner, 0) + n

    def answer(self, port: int, proxy_healthy: bool) -> dict | None:
        """The HTTP answer on `port` ({"code", "headers", "body"}), or None: nothing listens."""
        svc = self.services.get(port)
        if svc is None:
            return None
        count = self.local_endpoints.get(svc, 0)
        body = {"service": {"namespace": svc[0], "name": svc[1]}, "localEndpoints": count,
                "serviceProxyHealthy": proxy_healthy}
        return {"code": 200 if count and proxy_healthy else 503,
                "headers": {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
                            "X-Load-Balancing-Endpoint-Weight": str(count)},
                "body": json.dumps(body)}


def _local_ready(eps, node: str) -> int:
    """LocalReadyEndpoints for one endpointsMap entry: the node's own ready endpoints."""
    return sum(1 for e in eps if e.ready and e.local_to(node))


def _service_of(key: str) -> tuple[str, str]:
    """The Service (namespace, name) of an endpointsMap key "ns/name[:port]/PROTO"."""
    ns, _, rest = key.partition("/")
    return ns, rest.split(":")[0].split("/")[0]


def proxier_healthz(healthy: bool, last_updated: str | None, current_time: str) -> dict:
    """proxier_health.go's /healthz answer."""
    body = {"lastUpdated": last_updated or "", "currentTime": current_time, "nodeEligible": True}
    return {"code": 200 if healthy else 503,
            "headers": {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"},
            "body": json.dumps(body)}
