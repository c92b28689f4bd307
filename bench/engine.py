"""Engine benchmark (no Django): build clusters, schedule pods, measure.

Prints, as name=value lines at the end:
  <size>_pods_scheduled_per_second   pods bound per wall second while the burst is scheduled
  <size>_virtual_per_wall_busy       virtual seconds per wall second while pods start
  <size>_virtual_per_wall_idle       virtual seconds per wall second with the cluster at rest
  small_virtual_per_wall_idle/busy   the same for a 3-worker cluster
  peak_rss_mb                        peak resident memory of the process

Sizes: 100 nodes with 1,000 pods, 1,000 nodes with 10,000 pods (BENCH_QUICK=1 runs only the
small and 100-node ones).
"""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.cluster import Cluster, ClusterConfig, NodeSpec  # noqa: E402
from sim.scenario import replicaset_manifest  # noqa: E402


def build(workers: int, seed: int = 1) -> Cluster:
    nodes = [NodeSpec("cp-1", "control-plane", "8", "32Gi")] + \
            [NodeSpec(f"worker-{i}", "worker", "16", "64Gi") for i in range(1, workers + 1)]
    c = Cluster("bench", ClusterConfig(seed=seed, nodes=nodes), record_commits=False)
    c.kernel.trace_enabled = False
    c.advance(15)  # boot: nodes register, leases start
    return c


def _workload(c: Cluster):
    """The benchmark's pods (not kube-system's static pods)."""
    return (p for p in c.apiserver.cache.resources["pods"].objects.values()
            if p["metadata"].get("namespace") == "default")


def count_bound(c: Cluster) -> int:
    return sum(1 for p in _workload(c) if p["spec"].get("nodeName"))


def count_running(c: Cluster) -> int:
    return sum(1 for p in _workload(c) if p["status"].get("phase") == "Running")


# Tags the simulated registry has (sim/runtime/images.py): five images, as five apps would use.
NGINX_TAGS = ("1.27.3", "1.26.2", "1.25.5", "1.16.1", "1.14.2")


def idle_rate(c: Cluster, virtual: float) -> float:
    t = time.perf_counter()
    c.advance(virtual)
    return virtual / (time.perf_counter() - t)


def run(name: str, workers: int, pods: int, figures: dict) -> None:
    t0 = time.perf_counter()
    c = build(workers)
    print(f"{name}: built {workers} workers in {time.perf_counter() - t0:.1f}s wall", flush=True)
    figures[f"{name}_virtual_per_wall_idle"] = idle_rate(c, 60)
    per_rs = 100
    for i in range(pods // per_rs):
        resp = c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                          "body": replicaset_manifest(f"app-{i}", per_rs, f"nginx:{NGINX_TAGS[i % 5]}", "100m", "128Mi")})
        assert resp["code"] == 201, resp
    start_v, start_w = c.now, time.perf_counter()
    bound_at = None
    while True:
        c.advance(1.0)
        if bound_at is None and count_bound(c) >= pods:
            bound_at = time.perf_counter()
        if count_running(c) >= pods:
            break
        if c.now - start_v > 3600:
            raise SystemExit(f"{name}: pods did not all start within an hour of virtual time")
    wall_busy = time.perf_counter() - start_w
    figures[f"{name}_pods_scheduled_per_second"] = pods / (bound_at - start_w)
    figures[f"{name}_virtual_per_wall_busy"] = (c.now - start_v) / wall_busy
    figures[f"{name}_virtual_seconds_to_all_running"] = c.now - start_v
    print(f"{name}: {pods} pods running after {c.now - start_v:.1f}s virtual, {wall_busy:.1f}s wall", flush=True)


def main() -> None:
    figures: dict[str, float] = {}
    small = build(3)
    figures["small_virtual_per_wall_idle"] = idle_rate(small, 600)
    for i in range(10):
        small.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                       "body": replicaset_manifest(f"s-{i}", 3, "nginx:1.27", "50m", "32Mi")})
    t = time.perf_counter()
    small.advance(60)
    figures["small_virtual_per_wall_busy"] = 60 / (time.perf_counter() - t)
    run("n100_p1000", 100, 1000, figures)
    if not os.environ.get("BENCH_QUICK"):
        run("n1000_p10000", 1000, 10000, figures)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for k, v in figures.items():
        print(f"{k}={v:.1f}")


if __name__ == "__main__":
    main()
