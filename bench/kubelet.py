"""Kubelet benchmark (no Django): pods started by one node, and a large cluster at rest with probes.

(a) 110 pods on one node (upstream's per-node maximum, the kubelet's default maxPods) from
    nothing: a ReplicaSet of 110 nginx pods through the scheduler onto the one worker; the
    virtual and wall seconds until every pod is Running and Ready.
(b) NODES nodes x 30 nginx pods, each with an httpGet liveness and an httpGet readiness probe
    every 10 s (the kubelet's own GET to the pod's IP, port 80, which nginx in the node's
    runtime answers: no CRI call, as upstream).
    The pods are created through the API with spec.nodeName set (a pod bound at creation, as
    a DaemonSet's or a static assignment's are: the scheduler has nothing to do; every create
    still goes through kube-apiserver, admission and etcd's Raft), many in flight at once.
    Once every pod is Running and Ready, the cluster runs at rest for 10 virtual minutes.

Prints, as name=value lines at the end:
  one_node_110_pods_virtual_seconds / _wall_seconds   (a)
  <n>_nodes_bringup_virtual_seconds / _wall_seconds   (b) until all 30 x n pods are Running and Ready
  <n>_nodes_virtual_per_wall                          (b) virtual seconds per wall second at rest
  <n>_nodes_probes_per_wall_second                    (b) probes run per wall second at rest (a dormant
                                                      probe, sim/kubelet/prober.py, counted as run)
  <n>_nodes_virtual_per_cpu                           (b) virtual seconds per CPU second of this process
                                                      at rest: on a shared machine wall figures
                                                      understate the engine, CPU ones do not
  <n>_nodes_probes_per_virtual_second                 (b) the same per virtual second (about 6 per pod-minute x pods)
  <n>_nodes_events_per_wall_second                    (b) kernel events per wall second at rest
  peak_rss_mb                                         peak resident memory of the process

The engine runs as the simulation worker runs it (cluster/worker/gcpolicy.py): CPython's
automatic full collections off, and every wall second a collection of what is not frozen yet
followed by gc.freeze(), between slices of at most 5,000 events.  With CPython's defaults a
full collection walks every object of the cluster (millions), which is then most of the time.

BENCH_NODES=100 runs (b) with 100 nodes (3,000 pods) instead of 1,000 (30,000 pods);
BENCH_QUICK=1 is the same as BENCH_NODES=100.  BENCH_PROFILE=path writes a cProfile of the
10 minutes at rest there.
"""
from __future__ import annotations

import gc
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.cluster import Cluster, ClusterConfig, NodeSpec  # noqa: E402
from sim.scenario import replicaset_manifest  # noqa: E402

PODS_PER_NODE = 30
AT_REST_SECONDS = 600.0
PROBE = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 10}


class Freezer:
    """The worker's GenerationFreezer (cluster/worker/gcpolicy.py), without Django: automatic
    full collections off; collect and freeze at most once a wall second."""
    INTERVAL = 1.0

    def __init__(self) -> None:
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 1_000_000_000)
        self.last = time.perf_counter()

    def maybe_freeze(self) -> None:
        if time.perf_counter() - self.last >= self.INTERVAL:
            gc.collect()
            gc.freeze()
            self.last = time.perf_counter()


FREEZER: Freezer | None = None


def advance(c: Cluster, seconds: float) -> None:
    """c.advance(seconds) in slices of at most 5,000 events, as the worker's frame loop runs a
    cluster (cluster/worker/pacing.py), freezing the survivors between slices."""
    target = c.now + seconds
    while not c.run_until(target, max_events=5000):
        FREEZER.maybe_freeze()
    FREEZER.maybe_freeze()


def build(workers: int, seed: int = 1) -> Cluster:
    nodes = [NodeSpec("cp-1", "control-plane", "8", "32Gi")] + \
            [NodeSpec(f"worker-{i}", "worker", "16", "64Gi") for i in range(1, workers + 1)]
    c = Cluster("bench", ClusterConfig(seed=seed, nodes=nodes), record_commits=False)
    c.kernel.trace_enabled = False
    advance(c, 15)  # boot: nodes register, leases start
    return c


def pods(c: Cluster) -> list[dict]:
    """The bench's pods: those in `default` (kube-system holds the control plane's static pods)."""
    return [p for p in c.apiserver.cache.resources["pods"].objects.values()
            if p["metadata"].get("namespace") == "default"]


def running_and_ready(c: Cluster) -> int:
    n = 0
    for p in pods(c):
        st = p["status"]
        if st.get("phase") == "Running" and any(
                cond.get("type") == "Ready" and cond.get("status") == "True" for cond in st.get("conditions") or []):
            n += 1
    return n


def wait_ready(c: Cluster, want: int, limit: float, step: float = 1.0) -> None:
    start = c.now
    while running_and_ready(c) < want:
        if c.now - start > limit:
            raise SystemExit(f"only {running_and_ready(c)} of {want} pods Running and Ready after {limit}s virtual")
        advance(c, step)


def one_node(figures: dict) -> None:
    c = build(1)
    manifest = replicaset_manifest("full", 110, "nginx:1.27", "10m", "16Mi")
    start_v, start_w = c.now, time.perf_counter()
    resp = c.request({"verb": "create", "group": "apps", "resource": "replicasets", "namespace": "default",
                      "body": manifest})
    assert resp["code"] == 201, resp
    wait_ready(c, 110, 600, 0.5)
    figures["one_node_110_pods_virtual_seconds"] = c.now - start_v
    figures["one_node_110_pods_wall_seconds"] = time.perf_counter() - start_w
    print(f"one node: 110 pods Running and Ready after {c.now - start_v:.1f}s virtual, "
          f"{time.perf_counter() - start_w:.1f}s wall", flush=True)


def probed_pod(name: str, node: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                           "labels": {"app": "probed"}},
            "spec": {"nodeName": node, "containers": [{
                "name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                "livenessProbe": dict(PROBE), "readinessProbe": dict(PROBE)}]}}


def create_all(c: Cluster, bodies: list[dict], in_flight: int = 200) -> None:
    """Create every pod, `in_flight` requests outstanding at a time (as a client with many
    connections would), advancing the cluster while they are answered."""
    pending = []
    queue = list(reversed(bodies))
    reported = 0
    while queue or pending:
        done = len(bodies) - len(queue) - len(pending)
        if done - reported >= 5000:
            reported = done
            print(f"  {done} pods created ({c.now:.1f}s virtual)", flush=True)
        while queue and len(pending) < in_flight:
            pending.append(c.begin_request({"verb": "create", "resource": "pods", "namespace": "default",
                                            "body": queue.pop()}))
        advance(c, 0.05)
        still = []
        for p in pending:
            resp = c.request_reply(p)
            if resp is None:
                still.append(p)
            elif resp["code"] != 201:
                raise SystemExit(f"create failed: {resp}")
        pending = still


def probes_run(c: Cluster) -> int:
    return sum(k.probes_run for host, comps in c.node_components.items() for k in comps[1:2])


def at_rest(workers: int, figures: dict) -> None:
    name = f"n{workers}"
    t0 = time.perf_counter()
    c = build(workers)
    print(f"{name}: built {workers} workers in {time.perf_counter() - t0:.1f}s wall", flush=True)
    bodies = [probed_pod(f"p-{i}-{j}", f"worker-{i}") for i in range(1, workers + 1) for j in range(PODS_PER_NODE)]
    start_v, start_w = c.now, time.perf_counter()
    create_all(c, bodies)
    print(f"{name}: {len(bodies)} pods created after {c.now - start_v:.1f}s virtual, "
          f"{time.perf_counter() - start_w:.1f}s wall", flush=True)
    wait_ready(c, len(bodies), 1800, 5.0)
    figures[f"{name}_nodes_bringup_virtual_seconds"] = c.now - start_v
    figures[f"{name}_nodes_bringup_wall_seconds"] = time.perf_counter() - start_w
    print(f"{name}: {len(bodies)} pods Running and Ready after {c.now - start_v:.1f}s virtual, "
          f"{time.perf_counter() - start_w:.1f}s wall", flush=True)
    advance(c, 20)  # let the last status posts and their events settle
    probes0, events0 = probes_run(c), c.kernel.events_run
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    t, cpu = time.perf_counter(), time.process_time()
    advance(c, AT_REST_SECONDS)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    if profile:
        prof.disable()
        prof.dump_stats(profile)
    probes = probes_run(c) - probes0
    figures[f"{name}_nodes_virtual_per_wall"] = AT_REST_SECONDS / wall
    figures[f"{name}_nodes_probes_per_wall_second"] = probes / wall
    figures[f"{name}_nodes_virtual_per_cpu"] = AT_REST_SECONDS / cpu
    figures[f"{name}_nodes_probes_per_virtual_second"] = probes / AT_REST_SECONDS
    figures[f"{name}_nodes_events_per_wall_second"] = (c.kernel.events_run - events0) / wall
    ready = running_and_ready(c)
    print(f"{name}: {AT_REST_SECONDS:.0f}s virtual at rest in {wall:.1f}s wall, {probes} probes, "
          f"{ready} of {len(bodies)} pods still Running and Ready", flush=True)
    if ready != len(bodies):
        raise SystemExit(f"{name}: pods stopped being Ready at rest")


def main() -> None:
    global FREEZER
    FREEZER = Freezer()
    figures: dict[str, float] = {}
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    one_node(figures)
    workers = int(os.environ.get("BENCH_NODES") or (100 if os.environ.get("BENCH_QUICK") else 1000))
    at_rest(workers, figures)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for k, v in figures.items():
        print(f"{k}={v:.1f}")


if __name__ == "__main__":
    main()
