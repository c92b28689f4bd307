"""kube-proxy benchmark (no Django): 500 nodes, 1,000 Services of 10 endpoints each, then every
Deployment scaled at once; how long until every node's kube-proxy has converged.

Everything runs through the full engine: the Deployments' pods are scheduled, started by the
kubelets and made ready; the EndpointSlice controller writes the slices; each of the 500
kube-proxies watches Services and EndpointSlices and syncs its rules (rate-limited by its
BoundedFrequencyRunner, partial syncs after the first) - nothing is preloaded.

The engine runs as the simulation worker runs it (cluster/worker/gcpolicy.py, bench/kubelet.py's
Freezer): CPython's automatic full collections off, and at most once a wall second a collection of
what is not frozen yet followed by gc.freeze(), between slices of at most 5,000 events.  With
CPython's defaults, full collections walking the cluster's millions of objects were most of the
time at this size.

kube-proxy runs in iptables mode (the only mode modelled so far). BENCH_NODES / BENCH_SERVICES
shrink the run (e.g. BENCH_NODES=50 BENCH_SERVICES=100 for a quick look, under a minute of CPU).
The full size took 31 minutes wall and 20 of CPU on a shared 2-core machine, 4.1 GB peak
(docs/networking/kube-proxy.md#benchmark).

Prints, as name=value lines at the end:
  boot_wall_seconds              wall time to build the cluster, create everything and have every
                                 kube-proxy program all 1,000 Services with 10 endpoints each
  boot_virtual_seconds           virtual time from creating the Deployments and Services until then
  converge_virtual_seconds       virtual time from the scale-up until every kube-proxy has every
                                 new endpoint in its rules
  converge_wall_seconds          wall time the engine took for that (the whole control plane,
                                 kubelets and kube-proxies run meanwhile, not kube-proxy alone)
  boot_cpu_seconds, converge_cpu_seconds
                                 the same in CPU seconds of this process: on a shared machine the
                                 wall figures depend on the other load, these do not
  rules_written                  rules (iptables-restore lines; IPVS / nftables operations) all
                                 kube-proxies wrote during the convergence
  rules_written_per_wall_second  that over converge_wall_seconds
  syncs, partial_syncs           kube-proxy syncs during the convergence (all nodes)
  peak_rss_mb                    peak resident memory of the process
"""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.kubelet import Freezer  # noqa: E402
from sim.cluster import Cluster, ClusterConfig, NodeSpec  # noqa: E402
from sim.kubeproxy import KubeProxy  # noqa: E402

NODES = int(os.environ.get("BENCH_NODES", 500))
SERVICES = int(os.environ.get("BENCH_SERVICES", 1000))
REPLICAS, SCALED = 10, 12
MODE = "iptables"


def deployment(i: int) -> dict:
    labels = {"app": f"app-{i}"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"app-{i}", "namespace": "default"},
            "spec": {"replicas": REPLICAS, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "nginx", "image": "nginx:1.27",
                         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


def service(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"app-{i}", "namespace": "default"},
            "spec": {"selector": {"app": f"app-{i}"}, "ports": [{"port": 80, "targetPort": 80}]}}


def proxies(c: Cluster) -> list[KubeProxy]:
    return [comp for comps in c.node_components.values() for comp in comps if isinstance(comp, KubeProxy)]


def converged(c: Cluster, per_service: int) -> bool:
    """Every kube-proxy has synced every app Service with `per_service` ready endpoints."""
    want = SERVICES * per_service
    for p in proxies(c):
        eps = getattr(p, "endpoints", None)
        if eps is None or eps.pending or p.services.items:
            return False
        got = sum(len(v) for k, v in eps.endpoints.items() if k.startswith("default/app-"))
        if got != want or any(not e.ready for k, v in eps.endpoints.items() if k.startswith("default/app-") for e in v):
            return False
    return True


FREEZER: Freezer | None = None


def advance(c: Cluster, seconds: float) -> None:
    """c.advance(seconds) in slices of at most 5,000 events, freezing the survivors between
    slices, as the worker's frame loop runs a cluster (cluster/worker/pacing.py)."""
    target = c.now + seconds
    while not c.run_until(target, max_events=5000):
        FREEZER.maybe_freeze()
    FREEZER.maybe_freeze()


def run_until(c: Cluster, cond, limit: float, what: str) -> None:
    start, wall, shown = c.now, time.perf_counter(), time.perf_counter()
    while not cond():
        advance(c, 1.0)
        if c.now - start > limit:
            raise SystemExit(f"{what} did not happen within {limit:.0f}s of virtual time")
        if time.perf_counter() - shown > 60:   # a long run says how far it got
            shown = time.perf_counter()
            print(f"  ... {what}: {c.now - start:.0f}s virtual, {shown - wall:.0f}s wall, "
                  f"{time.process_time():.0f}s CPU in all", flush=True)


def main() -> None:
    global FREEZER
    FREEZER = Freezer()
    t0, cpu0 = time.perf_counter(), time.process_time()
    nodes = [NodeSpec("cp-1", "control-plane", "8", "32Gi")] + \
        [NodeSpec(f"worker-{i}", "worker", "16", "64Gi") for i in range(1, NODES + 1)]
    c = Cluster("bench", ClusterConfig(seed=1, nodes=nodes, kube_proxy_mode=MODE), record_commits=False)
    c.kernel.trace_enabled = False
    advance(c, 15)
    print(f"built {NODES} workers ({MODE} mode) in {time.perf_counter() - t0:.1f}s wall", flush=True)
    for i in range(SERVICES):
        for resource_, group, body in (("services", "", service(i)), ("deployments", "apps", deployment(i))):
            resp = c.request({"verb": "create", "group": group, "resource": resource_, "namespace": "default",
                              "body": body})
            assert resp["code"] == 201, resp
    created_at = c.now
    run_until(c, lambda: converged(c, REPLICAS), 3600, "every kube-proxy programming every Service")
    boot_virtual = c.now - created_at
    boot_wall, boot_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"{SERVICES} Services x {REPLICAS} endpoints on every kube-proxy after {boot_wall:.1f}s wall "
          f"({c.now:.0f}s virtual)", flush=True)

    written0 = sum(p.rules_written for p in proxies(c))
    syncs0 = sum(p.syncs for p in proxies(c))
    partial0 = sum(p.partial_syncs for p in proxies(c))
    for i in range(SERVICES):
        resp = c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default",
                          "name": f"app-{i}", "patch_type": "application/merge-patch+json",
                          "body": {"spec": {"replicas": SCALED}}})
        assert resp["code"] == 200, resp
    start_v, start_w, start_cpu = c.now, time.perf_counter(), time.process_time()
    run_until(c, lambda: converged(c, SCALED), 3600, "every kube-proxy converging after the scale-up")
    virtual, wall, cpu = c.now - start_v, time.perf_counter() - start_w, time.process_time() - start_cpu
    written = sum(p.rules_written for p in proxies(c)) - written0
    figures = {"nodes": NODES, "services": SERVICES, "boot_wall_seconds": boot_wall, "boot_cpu_seconds": boot_cpu,
               "boot_virtual_seconds": boot_virtual,
               "converge_virtual_seconds": virtual, "converge_wall_seconds": wall, "converge_cpu_seconds": cpu,
               "rules_written": written, "rules_written_per_wall_second": written / wall,
               "rules_written_per_cpu_second": written / cpu,
               "syncs": sum(p.syncs for p in proxies(c)) - syncs0,
               "partial_syncs": sum(p.partial_syncs for p in proxies(c)) - partial0,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(f"mode={MODE}")
    for k, v in figures.items():
        print(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}")


if __name__ == "__main__":
    main()
