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

    def sync(self, ports, endpoints: dict, node: str) -> None:
        """SyncServices + SyncEndpoints from the synced svcPortMap (ServicePorts) and endpointsMap,
        on kube-proxy's node `node`."""
        self.services = {sp.health_check_node_port: (sp.namespace, sp.name) for sp in ports
                         if sp.health_check_node_port}
        counts: dict[tuple[str, str], int] = {}
        for key, eps in endpoints.items():
            ns, _, rest = key.partition("/")
            name = rest.split(":")[0].split("/")[0]
            n = sum(1 for e in eps if e.ready and e.local_to(node))
            if n:
                counts[(ns, name)] = counts.get((ns, name), 0) + n
        self.local_endpoints = counts

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


def proxier_healthz(healthy: bool, last_updated: str | None, current_time: str) -> dict:
    """proxier_health.go's /healthz answer."""
    body = {"lastUpdated": last_updated or "", "currentTime": current_time, "nodeEligible": True}
    return {"code": 200 if healthy else 503,
            "headers": {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"},
            "body": json.dumps(body)}
