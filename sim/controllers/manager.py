"""kube-controller-manager: one process, shared informers, many level-triggered controllers."""
from __future__ import annotations

from sim.flowcontrol import CONTROLLER_MANAGER_BURST, CONTROLLER_MANAGER_QPS
from sim.controllers.descriptors import enabled
from sim.leaderelection import LeaderElectedComponent


class SharedInformer:
    """Fans one informer's events out to every controller that registered a handler."""

    def __init__(self, component, resource: str, group: str = "", namespace: str | None = None):
        self.adds, self.updates, self.deletes = [], [], []
        self.informer = component.informer(
            resource, group=group, namespace=namespace,
            on_add=lambda o: [h(o) for h in self.adds],
            on_update=lambda old, new: [h(old, new) for h in self.updates],
            on_delete=lambda o: [h(o) for h in self.deletes])

    def handlers(self, add=None, update=None, delete=None) -> None:
        """Register handlers; one registered after the informer synced is first told of every
        object it already holds (as AddEventHandler replays the store to a late handler)."""
        if add:
            self.adds.append(add)
            for obj in list(self.informer.store.values()):
                add(obj)
        if update:
            self.updates.append(update)
        if delete:
            self.deletes.append(delete)

    @property
    def store(self) -> dict:
        return self.informer.store

    def get(self, namespace, name):
        return self.informer.get(namespace, name)

    def list(self) -> list[dict]:
        return self.informer.list()


class InformerFactory:
    """client-go's SharedInformerFactory for a controller manager (kube-controller-manager,
    cloud-controller-manager): one informer per group/resource/namespace, made on first ask,
    started together once the controllers registered their handlers."""

    def shared_informer(self, resource: str, group: str = "", namespace: str | None = None) -> SharedInformer:
        """The factory's one informer per group/resource (and namespace), made on first ask;
        one asked for after the factory started (a kind found later by discovery) starts at once."""
        key = (group, resource, namespace)
        if key not in self.informers:
            self.informers[key] = SharedInformer(self, resource, group=group, namespace=namespace)
            if getattr(self, "informers_started", False):
                self.informers[key].informer.start()
        return self.informers[key]

    def stop_informer(self, resource: str, group: str = "", namespace: str | None = None) -> None:
        """A kind no longer served: its informer stops and is forgotten."""
        inf = self.informers.pop((group, resource, namespace), None)
        if inf is not None:
            inf.informer.stop()

    def start_informers(self, order: tuple[str, ...] = ()) -> None:
        """factory.Start: every informer made so far lists and watches (those of `order`'s
        resources first, in that order)."""
        for key, inf in sorted(self.informers.items(),
                               key=lambda kv: order.index(kv[0][1]) if kv[0][1] in order else len(order)):
            inf.informer.start()
        self.informers_started = True


class KubeControllerManager(InformerFactory, LeaderElectedComponent):
    component = "kube-controller-manager"
    lease_name = "kube-controller-manager"
    # --kube-api-qps / --kube-api-burst (every controller's client, sim/flowcontrol.py)
    kube_api_qps, kube_api_burst = CONTROLLER_MANAGER_QPS, CONTROLLER_MANAGER_BURST

    def __init__(self, host: str, apiserver: str, node_monitor_grace_period: float = 50.0,
                 node_monitor_period: float = 5.0, node_startup_grace_period: float = 60.0,
                 kube_api_qps: float | None = None, kube_api_burst: int | None = None,
                 controllers: list[str] | tuple[str, ...] = ("*",), cluster_cidr: str = "10.244.0.0/16",
                 cluster_ca=None, cluster_signing_duration: float = 365 * 24 * 3600):
        super().__init__(host, apiserver, kube_api_qps, kube_api_burst)
        self.cluster_cidr = cluster_cidr  # --cluster-cidr (the node IPAM controller's range)
        # --cluster-signing-cert-file / -key-file and --root-ca-file: the cluster CA
        # (sim/pki.CertificateAuthority), which csrsigning signs with and the root CA publisher
        # publishes; --cluster-signing-duration (8760h).
        self.cluster_ca = cluster_ca
        self.cluster_signing_duration = cluster_signing_duration
        self.controller_flags = tuple(controllers)  # --controllers
        enabled(self.controller_flags)  # an unknown name fails now, as the flag's validation does
        self.node_monitor_grace_period = node_monitor_grace_period
        self.node_monitor_period = node_monitor_period
        self.node_startup_grace_period = node_startup_grace_period

    def start_leading(self) -> None:
        self.informers: dict[tuple, SharedInformer] = {}
        self.informers_started = False
        self.pods = self.shared_informer("pods")
        self.replicasets = self.shared_informer("replicasets", group="apps")
        self.nodes = self.shared_informer("nodes")
        self.leases = self.shared_informer("leases", group="coordination.k8s.io", namespace="kube-node-lease")
        self.namespaces = self.shared_informer("namespaces")
        self.controllers = [d.build(self) for d in enabled(self.controller_flags)]
        for c in self.controllers:
            c.start()
        self.start_informers(("namespaces", "serviceaccounts", "configmaps", "nodes", "leases", "replicasets", "pods"))
