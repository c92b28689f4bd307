"""The kubelet's resource metrics endpoint (/metrics/resource on port 10250,
pkg/kubelet/metrics/collectors/resource_metrics.go), which metrics-server scrapes: per container
the cumulative CPU seconds (container_cpu_usage_seconds_total) and the memory working set
(container_memory_working_set_bytes), read from the runtime's cgroups, and the node's working set.

Answered as a message rather than Prometheus text: the pods' namespace, name and labels travel
with their figures (upstream metrics-server reads labels from its own pod informer).  The reply
is split in two, because metrics-server scrapes every kubelet every 15 s and at rest nothing but
the figures changes between two scrapes:

- `pods`: which pods and containers there are, as a tuple of
  (namespace, name, uid, labels, ((container name, container ID, index), ...)) with each pod's
  containers sorted by name.  It is kept between scrapes and only built again when the runtime's
  running containers or one of their pods changed, so two scrapes of a node at rest send the very
  same tuple (metrics-server then pairs the two scrapes' figures by index, not by container ID);
- `container_cpu_seconds` and `container_memory`: every running container's figures, read from
  its cgroup at this scrape, in the runtime's order (a pod's container refers to them by index).

Every figure is computed as before, at the time of the scrape: only the structures around them
are not rebuilt.
"""
from __future__ import annotations

from operator import is_

MI = 1024 * 1024
# What the node runs besides its pods, in the root cgroup's figures (system.slice): systemd and
# the OS, the kubelet, and the container runtime (containerd; CRI-O; dockerd with cri-dockerd
# and its own containerd): (cores, working set bytes), roughly an idle kubeadm node's.
SYSTEM_USAGE = {"containerd": (0.020, 260 * MI), "cri-o": (0.020, 250 * MI), "docker": (0.030, 330 * MI)}
# The pod worker states whose pods the endpoint lists (the pod manager's pods still running).
LISTED_STATES = ("running", "creating")


def system_usage(kubelet) -> tuple[float, int]:
    """(CPU seconds since the kubelet started, working set bytes) of the node's own daemons."""
    cores, memory = SYSTEM_USAGE.get(kubelet.runtime_kind, SYSTEM_USAGE["containerd"])
    return cores * max(0.0, kubelet.now - getattr(kubelet, "started_at", 0.0)), memory


class Layout:
    """Which pods and containers one scrape lists, and what it was built from: the runtime, its
    running containers (in its order) and, for each pod uid among them, its worker, the worker's
    pod object and whether the pod is listed.  Pod objects are replaced, never changed, when
    the informer sees an update, so an unchanged object means unchanged names and labels.

    `snapshot` holds, while the runtime's cgroup_changes stays at `changes`, each container's
    (CPU seconds, CPU rate, mark, working set): its cumulative CPU seconds at any later time is
    then cpu_seconds + rate * (now - mark), the very arithmetic of Cgroup.cpu_usage, without
    reading every cgroup again.  None while a container drains a request backlog (which must be
    advanced first) or leaks (its working set grows with time alone)."""
    __slots__ = ("runtime", "containers", "checks", "pods", "changes", "snapshot")

    def __init__(self, kubelet, runtime, containers: list):
        self.runtime, self.containers = runtime, containers
        self.changes = self.snapshot = None
        by_pod: dict[str, list[tuple]] = {}
        for i, c in enumerate(containers):
            by_pod.setdefault(c.pod_uid, []).append((c.name, c.id, i))
        workers = kubelet.workers
        checks, pods = [], []
        for uid, entries in by_pod.items():
            w = workers.get(uid)
            listed = w is not None and w["state"] in LISTED_STATES
            checks.append((uid, w, w["pod"] if w is not None else None, listed))
            if not listed:
                continue
            md = w["pod"]["metadata"]
            entries.sort()   # by name (then ID: two running containers never share one)
            pods.append((md.get("namespace"), md.get("name"), uid,
                         md.get("labels") or {},   # the cached pod's: never changed, only read
                         tuple(entries)))
        self.checks = checks
        self.pods = tuple(pods)

    def same_containers(self, runtime, containers: list) -> bool:
        mine = self.containers
        return runtime is self.runtime and len(mine) == len(containers) and all(map(is_, mine, containers))

    def same_workers(self, kubelet) -> bool:
        workers = kubelet.workers
        for uid, w, pod, listed in self.checks:
            if workers.get(uid) is not w:
                return False
            if w is not None and (w["pod"] is not pod or (w["state"] in LISTED_STATES) != listed):
                return False
        return True

    def take_snapshot(self, changes) -> None:
        snapshot = []
        for c in self.containers:
            g = c.cgroup
            if g.backlog or g.leak_rate:
                snapshot = None
                break
            snapshot.append((g.cpu_seconds, g.cpu_rate(), g.mark, g.memory(g.mark)))
        self.changes, self.snapshot = changes, snapshot


def resource_metrics(kubelet) -> dict:
    runtime = kubelet.node_runtime
    changes = runtime.cgroup_changes if runtime is not None else None
    layout = getattr(kubelet, "metrics_layout", None)
    if layout is not None and layout.runtime is runtime and layout.changes == changes and changes is not None:
        # No container started, stopped or had its cgroup changed: only the pods may have.
        if not layout.same_workers(kubelet):
            layout = kubelet.metrics_layout = Layout(kubelet, runtime, layout.containers)
            layout.take_snapshot(changes)
    else:
        containers = runtime.running_containers() if runtime is not None else []
        if layout is None or not layout.same_containers(runtime, containers) or not layout.same_workers(kubelet):
            layout = kubelet.metrics_layout = Layout(kubelet, runtime, containers)
        layout.take_snapshot(changes)
    now = kubelet.now
    cpu, memory = [], []
    cpu_total = memory_total = 0
    if layout.snapshot is not None:
        for cpu_seconds, rate, mark, working_set in layout.snapshot:
            used = cpu_seconds + rate * max(0.0, now - mark)
            cpu.append(used)
            memory.append(working_set)
            cpu_total += used
            memory_total += working_set
    else:
        for c in layout.containers:
            g = c.cgroup
            # The model's rates only change when the cgroup is changed (which accounts up to
            # then), except while a request backlog drains: only then is it advanced first.
            if g.backlog:
                g.advance(now)
            used, working_set = g.cpu_usage(now), g.memory(now)
            cpu.append(used)
            memory.append(working_set)
            cpu_total += used
            memory_total += working_set
    # The node's figures are its root cgroup's: the pods' and the system's (node_cpu_usage_seconds_total,
    # node_memory_working_set_bytes).
    system_cpu, system_memory = system_usage(kubelet)
    return {"code": 200, "time": now, "node": kubelet.host,
            "cpu_seconds": system_cpu + cpu_total, "memory": system_memory + memory_total,
            "pods": layout.pods, "container_cpu_seconds": cpu, "container_memory": memory}
