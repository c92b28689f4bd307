"""The kubelet's resource metrics endpoint (/metrics/resource on port 10250,
pkg/kubelet/metrics/collectors/resource_metrics.go), which metrics-server scrapes: per container
the cumulative CPU seconds (container_cpu_usage_seconds_total) and the memory working set
(container_memory_working_set_bytes), read from the runtime's cgroups, and the node's working set.

Answered as a message rather than Prometheus text: the pods' namespace, name and labels travel
with their figures (upstream metrics-server reads labels from its own pod informer).
"""
from __future__ import annotations

MI = 1024 * 1024
# What the node runs besides its pods, in the root cgroup's figures (system.slice): systemd and
# the OS, the kubelet, and the container runtime (containerd; CRI-O; dockerd with cri-dockerd
# and its own containerd): (cores, working set bytes), roughly an idle kubeadm node's.
SYSTEM_USAGE = {"containerd": (0.020, 260 * MI), "cri-o": (0.020, 250 * MI), "docker": (0.030, 330 * MI)}


def system_usage(kubelet) -> tuple[float, int]:
    """(CPU seconds since the kubelet started, working set bytes) of the node's own daemons."""
    cores, memory = SYSTEM_USAGE.get(kubelet.runtime_kind, SYSTEM_USAGE["containerd"])
    return cores * max(0.0, kubelet.now - getattr(kubelet, "started_at", 0.0)), memory


def resource_metrics(kubelet) -> dict:
    runtime = kubelet.node_runtime
    by_pod: dict[str, list[tuple]] = {}
    cpu_total = memory_total = 0
    for c, cpu, memory in runtime.container_samples() if runtime is not None else ():
        by_pod.setdefault(c.pod_uid, []).append((c.name, c.id, cpu, memory))
        cpu_total += cpu
        memory_total += memory
    pods = []
    workers = kubelet.workers
    for uid, containers in by_pod.items():
        w = workers.get(uid)
        if w is None or w["state"] not in ("running", "creating"):
            continue
        md = w["pod"]["metadata"]
        containers.sort()
        pods.append({"namespace": md.get("namespace"), "name": md.get("name"), "uid": uid,
                     "labels": md.get("labels") or {},   # the cached pod's: never changed, only read
                     "containers": [{"name": name, "id": cid, "cpu_seconds": cpu, "memory": memory}
                                    for name, cid, cpu, memory in containers]})
    # The node's figures are its root cgroup's: the pods' and the system's (node_cpu_usage_seconds_total,
    # node_memory_working_set_bytes).
    system_cpu, system_memory = system_usage(kubelet)
    return {"code": 200, "time": kubelet.now, "node": kubelet.host,
            "cpu_seconds": system_cpu + cpu_total, "memory": system_memory + memory_total, "pods": pods}
