"""The OpenAPI definitions of metrics.k8s.io/v1beta1 (k8s.io/metrics/pkg/apis/metrics/v1beta1
types.go), which kube-apiserver's aggregator merges into its /openapi/v2 and /openapi/v3 from
metrics-server's own spec.  They are not in kube-apiserver's swagger.json (sim/api/metricsapi.py,
sim/metricsserver.py), so they are written here, under the names metrics-server publishes."""
from __future__ import annotations

PREFIX = "io.k8s.metrics.pkg.apis.metrics.v1beta1."
_META = "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1."
_QUANTITY = {"additionalProperties": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
             "type": "object"}
_TYPE_META = {
    "apiVersion": {"description": "APIVersion defines the versioned schema of this representation of an object.",
                   "type": "string"},
    "kind": {"description": "Kind is a string value representing the REST resource this object represents.",
             "type": "string"},
}


def _gvk(kind: str) -> list[dict]:
    return [{"group": "metrics.k8s.io", "version": "v1beta1", "kind": kind}]


def _list(kind: str) -> dict:
    return {"description": f"{kind}List is a list of {kind}.", "required": ["items"], "type": "object",
            "properties": {**_TYPE_META,
                           "items": {"description": f"List of {kind.lower()} metrics.", "type": "array",
                                     "items": {"$ref": f"#/definitions/{PREFIX}{kind}"}},
                           "metadata": {"$ref": f"{_META}ListMeta", "description": "Standard list metadata."}},
            "x-kubernetes-group-version-kind": _gvk(f"{kind}List")}


_WINDOW = {"timestamp": {"$ref": f"{_META}Time", "description": "The following fields define time interval from "
                         "which metrics were collected from the interval [Timestamp-Window, Timestamp]."},
           "window": {"type": "string", "description": "metav1.Duration: the interval the usage was computed over."}}

DEFINITIONS: dict[str, dict] = {
    PREFIX + "NodeMetrics": {
        "description": "NodeMetrics sets resource usage metrics of a node.", "required": ["timestamp", "window", "usage"],
        "type": "object",
        "properties": {**_TYPE_META, "metadata": {"$ref": f"{_META}ObjectMeta"}, **_WINDOW,
                       "usage": {**_QUANTITY, "description": "The memory usage is the memory working set."}},
        "x-kubernetes-group-version-kind": _gvk("NodeMetrics")},
    PREFIX + "PodMetrics": {
        "description": "PodMetrics sets resource usage metrics of a pod.",
        "required": ["timestamp", "window", "containers"], "type": "object",
        "properties": {**_TYPE_META, "metadata": {"$ref": f"{_META}ObjectMeta"}, **_WINDOW,
                       "containers": {"description": "Metrics for all containers are collected within the same "
                                                     "time window.", "type": "array",
                                      "items": {"$ref": f"#/definitions/{PREFIX}ContainerMetrics"}}},
        "x-kubernetes-group-version-kind": _gvk("PodMetrics")},
    PREFIX + "ContainerMetrics": {
        "description": "ContainerMetrics sets resource usage metrics of a container.", "required": ["name", "usage"],
        "type": "object",
        "properties": {"name": {"description": "Container name corresponding to the one from pod.spec.containers.",
                                "type": "string"},
                       "usage": {**_QUANTITY, "description": "The memory usage is the memory working set."}}},
    PREFIX + "NodeMetricsList": _list("NodeMetrics"),
    PREFIX + "PodMetricsList": _list("PodMetrics"),
}
