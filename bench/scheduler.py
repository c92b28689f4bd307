"""kube-scheduler benchmark (no Django, no network): 10,000 pods onto 5,000 nodes.

Drives the scheduler's own cache, queue and frameworks in-process (sim.scheduler.scheduler
.Scheduler) with the default profile: every pod goes through PreFilter, Filter, Score,
NormalizeScore, assume and bind (acknowledged at once), and every attempt's explanation is
recorded.  The cluster mixes node sizes, five zones, GPU nodes tainted dedicated=gpu:NoSchedule
and some PreferNoSchedule taints, images on the nodes; pods mix requests, tolerations,
nodeSelectors, required and preferred node affinity and priorities.

Prints, as name=value lines at the end:
  pods_per_second, p99_ms_per_pod, peak_rss_mb        the vectorised scheduler (NodeTable)
  baseline_pods_per_second, baseline_p99_ms_per_pod   the plain per-node, per-plugin loop, run
                                                      on the first BASELINE_PODS pods only
  speedup                                             pods_per_second / baseline_pods_per_second
  baseline_same_decisions                             how many of those pods both put on the same node
  cpu_pods_per_second, baseline_cpu_pods_per_second   the same rates per CPU second of this process,
  load_average                                        and the 1-minute load when the run began: on
                                                      a busy machine wall figures understate the
                                                      scheduler, CPU ones do not
BENCH_QUICK=1 shrinks it (1,000 nodes, 2,000 pods, 200 baseline pods).
"""
from __future__ import annotations

import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.scheduler.scheduler import ImmediateClient, Scheduler  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
NODES = 1000 if QUICK else 5000
PODS = 2000 if QUICK else 10000
BASELINE_PODS = 200 if QUICK else 1000
ZONES = ["zone-a", "zone-b", "zone-c", "zone-d", "zone-e"]
IMAGES = [("registry.k8s.io/nginx:1.27", 180 * 2**20), ("registry.k8s.io/redis:7.2", 120 * 2**20),
          ("registry.k8s.io/python:3.12", 900 * 2**20), ("registry.k8s.io/postgres:16", 400 * 2**20)]


def make_nodes(n: int, rng: random.Random) -> list[dict]:
    nodes = []
    for i in range(n):
        cpu = rng.choice([4, 8, 16, 32])
        mem = cpu * rng.choice([2, 4, 8])
        name = f"node-{i:05d}"
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                  "topology.kubernetes.io/region": "region-1", "topology.kubernetes.io/zone": ZONES[i % len(ZONES)],
                  "node.kubernetes.io/instance-type": f"m{cpu}", "disktype": "ssd" if i % 3 else "hdd"}
        taints = []
        if i % 10 == 0:
            labels["accelerator"] = "gpu"
            taints.append({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})
        elif i % 7 == 0:
            taints.append({"key": "maintenance", "value": "soon", "effect": "PreferNoSchedule"})
        images = [{"names": [img], "sizeBytes": size} for img, size in IMAGES if rng.random() < 0.3]
        nodes.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
                      "spec": {"taints": taints} if taints else {},
                      "status": {"allocatable": {"cpu": str(cpu), "memory": f"{mem}Gi", "pods": "110",
                                                 "ephemeral-storage": "100Gi"},
                                 "images": images}})
    return nodes


def make_pods(n: int, rng: random.Random) -> list[dict]:
    pods = []
    for i in range(n):
        cpu = rng.choice(["100m", "250m", "500m", "1", "2"])
        mem = rng.choice(["128Mi", "256Mi", "512Mi", "1Gi", "4Gi"])
        image = rng.choice(IMAGES)[0]
        spec: dict = {"schedulerName": "default-scheduler", "priority": rng.choice([0, 0, 0, 100, 1000]),
                      "containers": [{"name": "app", "image": image,
                                      "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}
        kind = i % 20
        if kind == 0:    # GPU pods: tolerate the taint, pinned to GPU nodes
            spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
            spec["nodeSelector"] = {"accelerator": "gpu"}
        elif kind in (1, 2):
            spec["nodeSelector"] = {"disktype": "ssd"}
        elif kind in (3, 4):
            spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a", "zone-b"]}]}]}}}
        elif kind in (5, 6):
            spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 50, "preference": {"matchExpressions": [
                    {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m16", "m32"]}]}},
                {"weight": 10, "preference": {"matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "NotIn", "values": ["zone-e"]}]}}]}}
        elif kind == 7:
            spec["tolerations"] = [{"key": "maintenance", "operator": "Exists"}]
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"pod-{i:05d}", "namespace": "default", "uid": f"uid-{i}",
                                  "labels": {"app": f"app-{i % 50}"}},
                     "spec": spec, "status": {"phase": "Pending"}})
    return pods


def run(nodes: list[dict], pods: list[dict], vectorised: bool) -> tuple[float, float, dict, int, float]:
    clock = [0.0]
    sched = Scheduler(None, ImmediateClient(), clock=lambda: clock[0], rng=random.Random(7), vectorised=vectorised)
    for n in nodes:
        sched.add_node(n)
    for p in pods:
        sched.add_pod(p)
    latencies = []
    start = time.perf_counter()
    cpu_start = time.process_time()
    while True:
        t0 = time.perf_counter()
        if not sched.schedule_one():
            break
        latencies.append(time.perf_counter() - t0)
        clock[0] += 0.001
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    decisions = dict(sched.client.bound)
    return len(latencies) / wall, p99 * 1000, decisions, len(sched.explanations), len(latencies) / cpu


def main() -> None:
    load = os.getloadavg()[0]
    rng = random.Random(42)
    t = time.perf_counter()
    nodes = make_nodes(NODES, rng)
    pods = make_pods(PODS, rng)
    print(f"built {NODES} nodes and {PODS} pods in {time.perf_counter() - t:.1f}s", flush=True)
    pps, p99, decisions, explained, cpu_pps = run(nodes, pods, vectorised=True)
    print(f"vectorised: {len(decisions)} of {PODS} pods bound, {explained} explanations kept", flush=True)
    base_pps, base_p99, base_decisions, _, base_cpu_pps = run(nodes, pods[:BASELINE_PODS], vectorised=False)
    _, _, vec_sub_decisions, _, _ = run(nodes, pods[:BASELINE_PODS], vectorised=True)
    same = sum(1 for k, v in base_decisions.items() if vec_sub_decisions.get(k) == v)
    print(f"baseline: {len(base_decisions)} of {BASELINE_PODS} pods bound (per-node loop, first {BASELINE_PODS} pods)",
          flush=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pods_per_second={pps:.0f}")
    print(f"p99_ms_per_pod={p99:.2f}")
    print(f"peak_rss_mb={rss_mb:.0f}")
    print(f"baseline_pods={BASELINE_PODS}")
    print(f"baseline_pods_per_second={base_pps:.0f}")
    print(f"baseline_p99_ms_per_pod={base_p99:.2f}")
    print(f"speedup={pps / base_pps:.1f}")
    print(f"baseline_same_decisions={same}/{len(base_decisions)}")
    print(f"cpu_pods_per_second={cpu_pps:.0f}")
    print(f"baseline_cpu_pods_per_second={base_cpu_pps:.0f}")
    print(f"load_average={load:.1f}")


if __name__ == "__main__":
    main()
