"""kube-apiserver's `kubernetes` Service controller (pkg/controlplane/controller/
kubernetesservice, formerly the "bootstrap controller"): every API server, once it serves, makes
sure `default/kubernetes` exists - ClusterIP the first address of the (primary) service range (10.96.0.1), SingleStack,
port 443 named https to the API server's 6443, labels component=apiserver and
provider=kubernetes - and puts its ports and type back if someone changed them.  It looks again
every 10 s (its EndpointInterval); with several API servers the first create wins and the
others find it there.  The Service's endpoints (the API servers' addresses) are the lease
endpoint reconciler's (sim/apiserver/endpointreconciler.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sim.api.meta import deep_copy
from sim.registry.core.serviceallocator import first_ip, service_cidr

if TYPE_CHECKING:
    from sim.apiserver.server import KubeAPIServer

INTERVAL = 10.0
NAME, NAMESPACE = "kubernetes", "default"
SECURE_PORT = 6443   # --secure-port


def service_ports() -> list[dict]:
    return [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": SECURE_PORT}]


def kubernetes_service(cidr: str) -> dict:
    ip = first_ip(cidr)
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": NAME, "namespace": NAMESPACE,
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "sessionAffinity": "None",
                     # single-stack of the primary family, on a dual-stack cluster too
                     "ipFamilyPolicy": "SingleStack", "ports": service_ports()}}


class KubernetesServiceController:
    def __init__(self, api: "KubeAPIServer"):
        self.api = api

    def start(self) -> None:
        self.api.call_later(0.0, self.sync)

    def sync(self) -> None:
        api = self.api
        api.call_later(INTERVAL, self.sync)
        cur = api.cache.objects("services").get((NAMESPACE, NAME))
        if cur is None:
            def created(resp: dict) -> None:
                if resp["code"] == 201:
                    api.action(f"kube-apiserver created Service default/kubernetes with ClusterIP "
                               f"{resp['body']['spec']['clusterIP']}")
            api.handle({"verb": "create", "version": "v1", "group": "", "resource": "services",
                        "namespace": NAMESPACE, "body": kubernetes_service(service_cidr(api))}, created)
            return
        # getMasterServiceUpdateIfNeeded: the ports and the type put back.
        spec = cur.get("spec") or {}
        ports = [{k: p.get(k) for k in ("name", "protocol", "port", "targetPort")} for p in spec.get("ports") or []]
        if ports == service_ports() and spec.get("type") == "ClusterIP":
            return
        new = deep_copy(cur)
        new["spec"]["ports"] = service_ports()
        new["spec"]["type"] = "ClusterIP"
        api.handle({"verb": "update", "version": "v1", "group": "", "resource": "services",
                    "namespace": NAMESPACE, "name": NAME, "body": new}, lambda resp: None)
