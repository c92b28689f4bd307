"""kube-apiserver's lease endpoint reconciler (pkg/controlplane/reconcilers/lease.go,
--endpoint-reconciler-type=lease, the default): the endpoints of the `kubernetes` Service are
the API servers themselves, not pods, so no controller of kube-controller-manager writes them.

Every EndpointInterval (10 s) each API server renews its master lease - a key
/masterleases/<its advertise address> that lives 15 s (DefaultEndpointReconcilerTTL) - then
lists the leases and makes default/kubernetes (Endpoints, labelled
endpointslice.kubernetes.io/skip-mirror=true) and its EndpointSlice (named `kubernetes`,
kubernetes.io/service-name=kubernetes, written by the EndpointsAdapter) hold every live API
server's address on port 6443 ("https").  A killed kube-apiserver stops renewing: its address
leaves at the next reconcile of another one once its lease has expired (15-25 s).

Upstream's etcd lease carries the TTL; the simulated etcd has none, so the key holds its expiry
on the API clock and readers skip expired ones (the same view, the key itself just lingers).
"""
from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING

from sim.apiserver.kubernetesservice import INTERVAL, NAME, NAMESPACE, SECURE_PORT
from sim.registry.discovery.endpointslices import GROUP, IPV4, IPV6, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

LEASE_PREFIX = "/masterleases/"
LEASE_TTL = 15.0   # DefaultEndpointReconcilerTTL


def endpoint_ports() -> list[dict]:
    return [{"name": "https", "port": SECURE_PORT, "protocol": "TCP"}]


def kubernetes_endpoints(ips: list[str]) -> dict:
    ep = {"apiVersion": "v1", "kind": "Endpoints",
          "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {LABEL_SKIP_MIRROR: "true"}}}
    if ips:
        ep["subsets"] = [{"addresses": [{"ip": ip} for ip in ips], "ports": endpoint_ports()}]
    return ep


def kubernetes_endpoint_slice(ips: list[str]) -> dict:
    """endpointSliceFromEndpoints (pkg/controlplane/reconcilers/endpointsadapter.go)."""
    v6 = bool(ips) and all(ipaddress.ip_address(ip).version == 6 for ip in ips)
    es = {"apiVersion": f"{GROUP}/v1", "kind": "EndpointSlice",
          "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {LABEL_SERVICE_NAME: NAME}},
          "addressType": IPV6 if v6 else IPV4,
          "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips]}
    if ips:
        es["ports"] = endpoint_ports()
    return es


class LeaseEndpointReconciler:
    """A post-start hook of every kube-apiserver."""

    def __init__(self, api: "KubeAPIServer"):
        self.api = api

    @property
    def address(self) -> str | None:
        return getattr(self.api, "advertise_address", None)   # --advertise-address

    def start(self) -> None:
        if self.address:
            self.api.call_later(0.0, self.sync)

    def sync(self) -> None:
        api = self.api
        api.call_later(INTERVAL, self.sync)
        value = json.dumps({"ip": self.address, "expires": api.api_now + LEASE_TTL})
        api.etcd_call({"type": "etcd.txn", "key": LEASE_PREFIX + self.address, "compare": "none", "value": value},
                      lambda reply: self._list() if "error" not in reply and reply.get("type") != "timeout" else None)

    def _list(self) -> None:
        self.api.etcd_call({"type": "etcd.range", "prefix": LEASE_PREFIX}, self._reconcile)

    def _reconcile(self, reply: dict) -> None:
        if "error" in reply or reply.get("type") == "timeout":
            return
        now = self.api.api_now
        ips = set()
        for _key, value, _rev in reply.get("kvs", []):
            try:
                lease = json.loads(value)
            except (TypeError, ValueError):
                continue
            if isinstance(lease, dict) and (lease.get("expires") or 0) > now and lease.get("ip"):
                ips.add(lease["ip"])
        live = sorted(ips, key=lambda ip: ipaddress.ip_address(ip))
        self._write("endpoints", "", kubernetes_endpoints(live),
                    lambda cur: (cur.get("subsets") or [], (cur["metadata"].get("labels") or {}).get(LABEL_SKIP_MIRROR)))
        self._write("endpointslices", GROUP, kubernetes_endpoint_slice(live),
                    lambda cur: (cur.get("addressType"), cur.get("endpoints") or [], cur.get("ports") or [],
                                 (cur["metadata"].get("labels") or {}).get(LABEL_SERVICE_NAME)))

    def _write(self, resource: str, group: str, want: dict, view) -> None:
        """Create it, or update it when what matters differs (checked against the watch cache)."""
        api = self.api
        gr = f"{resource}.{group}" if group else resource
        cur = api.cache.objects(gr).get((NAMESPACE, NAME))
        req = {"version": "v1", "group": group, "resource": resource, "namespace": NAMESPACE, "body": want}
        if cur is None:
            api.handle(dict(req, verb="create"), lambda resp: None)
            return
        if view(cur) == view(want):
            return
        body = dict(want, metadata=dict(cur["metadata"], labels={**(cur["metadata"].get("labels") or {}),
                                                                 **want["metadata"]["labels"]}))
        api.handle(dict(req, verb="update", name=NAME, body=body), lambda resp: None)
