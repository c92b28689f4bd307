"""The resource metrics API, metrics.k8s.io/v1beta1 (k8s.io/metrics/pkg/apis/metrics/v1beta1):
NodeMetrics (cluster-scoped) and PodMetrics (namespaced), get and list only.

Upstream these are not kube-apiserver's kinds: metrics-server serves them and kube-apiserver's
aggregator proxies /apis/metrics.k8s.io/v1beta1 to it (the APIService v1beta1.metrics.k8s.io).
Pilothouse does the same in its engine: kube-apiserver forwards such requests to the
metrics-server component (sim/metricsserver.py), answering 503 "the server is currently unable to
handle the request" when it cannot reach it.  Nothing is stored in etcd, so they are not modules
of sim/registry (whose generic store is etcd's); like the review kinds (sim/api/reviews.py) they
are described here once, for discovery and the HTTP front end's path parsing.
"""
from __future__ import annotations

from sim.api.quantity import format_memory
from sim.registry.resource import Resource

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"


def _metrics(name: str, kind: str, namespaced: bool) -> Resource:
    return Resource(name, GROUP, VERSION, kind, namespaced, "", (), "", (), verbs=("get", "list"), stored=False)


METRICS: dict[tuple[str, str], Resource] = {
    (r.group, r.name): r for r in (
        _metrics("nodes", "NodeMetrics", False),
        _metrics("pods", "PodMetrics", True),
    )
}


def lookup(group: str, resource: str) -> Resource | None:
    return METRICS.get((group, resource))


def cpu_quantity(cores: float) -> str:
    """resource.NewScaledQuantity(nanocores, -9).String(): "2000000n"; zero is "0"."""
    nanos = max(0, int(round(cores * 1e9)))
    return f"{nanos}n" if nanos else "0"


def memory_quantity(n: int) -> str:
    """resource.NewQuantity(bytes, BinarySI).String(): "3092Ki"."""
    return format_memory(max(0, int(n)))
