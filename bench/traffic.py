"""Traffic benchmark (no Django): requests per wall second through Service routing, every hop
traced, as the control API's POST .../sim/v1/traffic sends them (Cluster.send_traffic,
sim/traffic.py over sim/datapath.py).

A cluster is built through the engine (bench/engine.py build: kubeadm's control plane, flannel,
CoreDNS, kube-proxy in iptables mode on every node); a Deployment `web` of 3 nginx pods behind
a ClusterIP Service and a NodePort Service; then, once every kube-proxy has the endpoints, the
requests.  Each request is walked from its source through kube-proxy's rules (nat OUTPUT or
PREROUTING, KUBE-SERVICES, KUBE-SVC's probability rules, KUBE-SEP's DNAT), the CNI's routes and
the pod's socket, and every hop is kept in the answer.  Three flows:
  pod      a client pod to web.default by name: each request first resolves the name through
           CoreDNS (its resolv.conf's search path, each query a UDP packet DNATed to a CoreDNS
           pod), then connects to the ClusterIP
  node     a node (host network) to web.default's ClusterIP
  outside  a client outside the cluster to a node's NodePort
The same is then measured on a larger cluster (BENCH_LARGE_NODES nodes with BENCH_LARGE_SERVICES
more Services of 2 endpoints each, default 50 and 100): the rate should not fall much with the
cluster's size.

Prints, as name=value lines at the end, per cluster size (small_: 3 workers; large_: the larger):
  <size>_<flow>_requests_per_wall_second   requests traced per wall second (send_traffic calls of
                                           1,000 requests, the API's maximum)
  <size>_<flow>_requests_per_cpu_second    the same per CPU second of this process (on a shared
                                           machine the wall figure depends on the other load)
  <size>_<flow>_hops_per_request           hops recorded per request (DNS queries' hops not counted)
  <size>_<flow>_endpoint_<ip:port>         requests each endpoint answered (kube-proxy's spread)
  peak_rss_mb                              peak resident memory of the process
BENCH_REQUESTS (default 3000) sets the requests per flow.
"""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import build  # noqa: E402
from bench.proxy import deployment, proxies, service  # noqa: E402
from sim.cluster import Cluster  # noqa: E402
from sim.traffic import MAX_COUNT  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 3000))
LARGE_NODES = int(os.environ.get("BENCH_LARGE_NODES", 50))
LARGE_SERVICES = int(os.environ.get("BENCH_LARGE_SERVICES", 100))
WEB_REPLICAS, OTHER_REPLICAS = 3, 2


def create(c: Cluster, resource_: str, body: dict, group: str = "") -> None:
    resp = c.request({"verb": "create", "group": group, "resource": resource_, "namespace": "default", "body": body})
    assert resp["code"] == 201, resp


def web_node_port(c: Cluster) -> int:
    svc = c.serving_apiserver().cache.objects("services")[("default", "web-np")]
    return svc["spec"]["ports"][0]["nodePort"]


def ready(c: Cluster, services: int) -> bool:
    """Every kube-proxy has synced every Service with all its endpoints ready, and the client runs."""
    pod = c.serving_apiserver().cache.objects("pods").get(("default", "client"))
    if pod is None or pod["status"].get("phase") != "Running":
        return False
    want = {"default/web/TCP": WEB_REPLICAS, "default/web-np/TCP": WEB_REPLICAS,
            **{f"default/app-{i}/TCP": OTHER_REPLICAS for i in range(services)}}
    for p in proxies(c):
        eps = getattr(p, "endpoints", None)
        if eps is None or eps.pending or p.services.items:
            return False
        if any(len(eps.endpoints.get(k, ())) != n or not all(e.ready for e in eps.endpoints[k])
               for k, n in want.items()):
            return False
    return True


def setup(workers: int, services: int) -> Cluster:
    t0 = time.perf_counter()
    c = build(workers)
    web = deployment(0) | {"metadata": {"name": "web", "namespace": "default"}}
    web["spec"] = {**web["spec"], "replicas": WEB_REPLICAS, "selector": {"matchLabels": {"app": "web"}},
                   "template": {**web["spec"]["template"], "metadata": {"labels": {"app": "web"}}}}
    create(c, "deployments", web, "apps")
    for name, extra in (("web", {}), ("web-np", {"type": "NodePort"})):
        svc = service(0)
        svc["metadata"]["name"] = name
        svc["spec"] = {**svc["spec"], "selector": {"app": "web"}, **extra}
        create(c, "services", svc)
    for i in range(services):
        dep = deployment(i)
        dep["spec"]["replicas"] = OTHER_REPLICAS
        create(c, "deployments", dep, "apps")
        create(c, "services", service(i))
    create(c, "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "default"},
                       "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "86400"],
                                                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}})
    start = c.now
    while not ready(c, services):
        c.advance(1.0)
        if c.now - start > 1800:
            raise SystemExit("the Services' endpoints did not reach every kube-proxy within 30 virtual minutes")
    print(f"{workers} workers, {services + 2} Services ready after {time.perf_counter() - t0:.1f}s wall "
          f"({c.now - start:.0f}s virtual)", flush=True)
    return c


def measure(c: Cluster, size: str, figures: dict) -> None:
    """REQUESTS requests per flow, traced hop by hop (the kernel's event trace is on too)."""
    c.kernel.trace_enabled = True
    node = sorted(c.node_components)[1]   # the first worker (cp-1 sorts first)
    flows = {"pod": {"from": "pod default/client", "to": "web.default"},
             "node": {"from": f"node {node}", "to": "web.default"},
             "outside": {"from": "outside",
                         "to": f"{c.node_components[node][1].internal_ip}:{web_node_port(c)}"}}
    for flow, body in flows.items():
        done = hops = 0
        tally: dict[str, int] = {}
        start, start_cpu = time.perf_counter(), time.process_time()
        while done < REQUESTS:
            n = min(MAX_COUNT, REQUESTS - done)
            got = c.send_traffic({**body, "count": n})
            assert got["summary"]["verdicts"]["delivered"] == n, got["summary"]
            hops += sum(len(r["hops"]) for r in got["requests"])
            for e in got["summary"]["endpoints"]:
                tally[e["endpoint"]] = tally.get(e["endpoint"], 0) + e["count"]
            done += n
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        figures[f"{size}_{flow}_requests_per_wall_second"] = done / wall
        figures[f"{size}_{flow}_requests_per_cpu_second"] = done / cpu
        figures[f"{size}_{flow}_hops_per_request"] = hops / done
        for ep in sorted(tally):
            figures[f"{size}_{flow}_endpoint_{ep}"] = tally[ep]
        print(f"{size} {flow}: {done} requests in {wall:.2f}s wall", flush=True)
    c.kernel.trace_enabled = False
    c.kernel.drain_trace()


def main() -> None:
    figures: dict[str, float] = {}
    measure(setup(3, 0), "small", figures)
    measure(setup(LARGE_NODES, LARGE_SERVICES), "large", figures)
    figures["large_nodes"], figures["large_services"] = LARGE_NODES, LARGE_SERVICES + 2
    figures["requests_per_flow"] = REQUESTS
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for k, v in figures.items():
        print(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}")


if __name__ == "__main__":
    main()
