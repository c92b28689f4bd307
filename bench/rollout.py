"""Rollout benchmark (no Django): a rolling update of a 1,000-replica Deployment on 100 nodes.

The Deployment (nginx:1.26, default strategy: maxSurge / maxUnavailable 25%) is created and
left to become complete; then its image is set to nginx:1.27 and the engine runs until the
rollout is complete again (every replica updated and available, the old ReplicaSet at 0).

Prints, as name=value lines at the end:
  virtual_seconds              virtual time the rollout took
  wall_seconds                 wall time the engine took to run it
  cpu_seconds                  the process's CPU time meanwhile (wall time on a shared machine
                               includes waiting for a CPU)
  virtual_per_wall             virtual over wall seconds (above 1: faster than real time)
  controller_syncs_per_second  Deployment + ReplicaSet controller syncs per wall second
  deployment_syncs, replicaset_syncs   the syncs themselves
  peak_rss_mb                  peak resident memory of the process
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import build  # noqa: E402

REPLICAS, WORKERS = 1000, 100


def manifest(image: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": REPLICAS, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "nginx", "image": image,
                                                           "resources": {"requests": {"cpu": "50m",
                                                                                      "memory": "64Mi"}}}]}}}}


def complete(c) -> bool:
    d = c.request({"verb": "get", "group": "apps", "resource": "deployments", "namespace": "default",
                   "name": "web", "query": {"resourceVersion": "0"}})["body"]   # from the watch cache
    st = d.get("status") or {}
    return (st.get("observedGeneration") == d["metadata"].get("generation") and
            st.get("updatedReplicas") == REPLICAS and st.get("replicas") == REPLICAS and
            st.get("availableReplicas") == REPLICAS)


def counting(queue) -> list[int]:
    """Count the reconciles a controller's work queue runs."""
    count = [0]
    inner = queue.reconcile

    def reconcile(key):
        count[0] += 1
        return inner(key)

    queue.reconcile = reconcile
    return count


def run_until_complete(c, limit: float) -> None:
    start = c.now
    while not complete(c):
        c.advance(1.0)
        if c.now - start > limit:
            raise SystemExit(f"the rollout did not complete within {limit:.0f}s of virtual time")


def main() -> None:
    t0 = time.perf_counter()
    c = build(WORKERS)
    print(f"built {WORKERS} workers in {time.perf_counter() - t0:.1f}s wall", flush=True)
    resp = c.request({"verb": "create", "group": "apps", "resource": "deployments", "namespace": "default",
                      "body": manifest("nginx:1.26")})
    assert resp["code"] == 201, resp
    t = time.perf_counter()
    run_until_complete(c, 3600)
    print(f"{REPLICAS} replicas available after {time.perf_counter() - t:.1f}s wall", flush=True)

    cm = c.controller_manager
    by_name = {ctl.name: ctl for ctl in cm.controllers}
    deployment_syncs = counting(by_name["deployment-controller"].queue)
    replicaset_syncs = counting(by_name["replicaset-controller"].queue)
    resp = c.request({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "default",
                      "name": "web", "patch_type": "application/strategic-merge-patch+json",
                      "body": {"spec": {"template": {"spec": {"containers": [{"name": "nginx",
                                                                              "image": "nginx:1.27"}]}}}}})
    assert resp["code"] == 200, resp
    start_v, start_w, start_cpu = c.now, time.perf_counter(), time.process_time()
    run_until_complete(c, 3600)
    virtual, wall, cpu = c.now - start_v, time.perf_counter() - start_w, time.process_time() - start_cpu
    syncs = deployment_syncs[0] + replicaset_syncs[0]
    rss = c.request({"verb": "list", "group": "apps", "resource": "replicasets", "namespace": "default"})["body"]["items"]
    assert sorted(rs["spec"]["replicas"] for rs in rss) == [0, REPLICAS], [rs["spec"]["replicas"] for rs in rss]
    figures = {"virtual_seconds": virtual, "wall_seconds": wall, "cpu_seconds": cpu, "virtual_per_wall": virtual / wall,
               "controller_syncs_per_second": syncs / wall, "deployment_syncs": deployment_syncs[0],
               "replicaset_syncs": replicaset_syncs[0],
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    for k, v in figures.items():
        print(f"{k}={v:.1f}")


if __name__ == "__main__":
    main()
