"""The kubelet's resource metrics endpoint (/metrics/resource on port 10250,
pkg/kubelet/metrics/collectors/resource_metrics.go), which metrics-server scrapes: per container
the cumulative CPU seconds (container_cpu_usage_seconds_total) and the memory working set
(container_memory_working_set_bytes), read from the runtime's cgroups, and the node's working set.

Answered as a message rather than Prometheus text: the pods' namespace, name and labels travel
with their figures (upstream metrics-server reads labels from its own pod informer).
"""
from __future__ import annotations


def resource_metrics(kubelet) -> dict:
    runtime = kubelet.node_runtime
    stats = runtime.container_stats() if runtime is not None else []
    by_pod: dict[str, list[dict]] = {}
    for s in stats:
        by_pod.setdefault(s["pod_uid"], []).append(s)
    pods = []
    for uid, containers in by_pod.items():
        w = kubelet.workers.get(uid)
        if w is None or w["state"] not in ("running", "creating"):
            continue
        md = w["pod"]["metadata"]
        pods.append({"namespace": md.get("namespace"), "name": md.get("name"), "uid": uid,
                     "labels": dict(md.get("labels") or {}),
                     "containers": [{"name": s["name"], "id": s["id"], "cpu_seconds": s["usage_seconds"],
                                     "memory": s["memory"]} for s in sorted(containers, key=lambda s: s["name"])]})
    return {"code": 200, "time": kubelet.now, "node": kubelet.host,
            "memory": sum(s["memory"] for s in stats), "pods": pods}
